// `scalepilot serve`: the dashboard, JSON API and /metrics for a config, with the controller loop running (like
// `run`), or with --read-only-store only showing what the store holds.
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import pino from 'pino';
import { logDestination, logLevel } from './log-destination.js';
import { parseListen } from '../server/server.js';
import { serve } from '../server/serve.js';
import { InputError } from './output.js';
import { loadConfigInput, resolveToken } from './config-input.js';
import { untilStopSignal } from './stop-signal.js';

interface ServeCliOptions {
  config: string;
  listen?: string;
  token?: string;
  reports?: string;
  dryRun?: boolean;
  readOnlyStore?: boolean;
  store?: string;
  stateDir: string;
  logLevel: string;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the dashboard, JSON API and /metrics; runs the controller too (like `run`) unless --read-only-store')
    .option('-c, --config <file>', 'config file', 'scalepilot.yaml')
    .option('--listen <addr>', 'address to serve on (default from config, 127.0.0.1:9464)')
    .option('--token <token>', 'bearer token that allows pause/resume/scale/rollback (or SCALEPILOT_TOKEN); without one the API is read-only')
    .option('--reports <dir>', 'directory of simulation and load-test reports (JSON/HTML) to list on the dashboard')
    .option('--dry-run', 'decide, explain and record, never act')
    .option('--read-only-store', 'only serve what the store holds: no controller loop, no steering')
    .option('--store <url>', 'store URL (sqlite:PATH or postgres://...), overrides the config')
    .option('--state-dir <dir>', 'where providers keep their files (proxy config, replica logs)', '.scalepilot')
    .option('--log-level <level>', 'log level: fatal, error, warn, info, debug, trace or silent', 'info')
    .addHelpText('after', `
Examples:
  SCALEPILOT_TOKEN=$(openssl rand -hex 16) scalepilot serve -c scalepilot.yaml --reports reports/
  scalepilot serve -c scalepilot.yaml --read-only-store --listen 127.0.0.1:9465`)
    .action(async (opts: ServeCliOptions) => {
      const config = loadConfigInput(opts.config, 'nothing served');
      const listen = opts.listen ?? config.server?.listen ?? '127.0.0.1:9464';
      try {
        parseListen(listen);
      } catch (e) {
        throw new InputError(`--listen: ${(e as Error).message}`);
      }
      if (opts.reports) {
        let isDir = false;
        try {
          isDir = statSync(opts.reports).isDirectory();
        } catch {
          // reported below
        }
        if (!isDir) throw new InputError(`--reports ${opts.reports}: not a directory; create it or point to where simulate/loadtest --report write`);
      }
      const token = resolveToken(opts.token, config.server?.token);
      const log = pino({ level: logLevel(opts.logLevel), base: { name: 'scalepilot' } }, logDestination());
      // a port in use or not ours comes back as an InputError naming the port, --listen and server.listen
      const serving = await serve(config, {
        listen,
        ...(token ? { token } : {}),
        ...(opts.reports ? { reportsDir: opts.reports } : {}),
        dryRun: Boolean(opts.dryRun),
        readOnlyStore: Boolean(opts.readOnlyStore),
        ...(opts.store ? { store: opts.store } : {}),
        stateDir: opts.stateDir,
        log,
      });
      const { server, runtime } = serving;
      log.info(
        { url: `http://${server.address}/`, services: runtime.controller.services, steering: opts.readOnlyStore ? 'off (read-only store)' : token ? 'on (bearer token)' : 'off (no token)', controller: opts.readOnlyStore ? 'not running' : opts.dryRun ? 'dry run' : 'acting' },
        'scalepilot serving',
      );
      process.on('SIGHUP', () => {
        if (!opts.readOnlyStore) void runtime.reload().then((r) => log.info({ ok: r.ok }, r.message));
      });
      // as in `run`: stop what removed services still run, apply held target changes (the reload log names this)
      process.on('SIGUSR2', () => {
        if (!opts.readOnlyStore) void runtime.prune().then((r) => log.info({ stopped: r.keptRunning, applied: r.heldTargets }, 'pruned'), (e: Error) => log.error({ err: e.message }, 'prune failed'));
      });
      await untilStopSignal((sig) => log.warn({ signal: sig }, 'already stopping: in-flight syncs and drains finish first (kill -9 forces it)'));
      log.info({}, 'stopping: finishing in-flight syncs');
      await serving.close();
    });
}
