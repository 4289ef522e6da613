// `scalepilot run`: the live autoscaler. Loads the config, starts every service's loop, serves /metrics and the API.
import type { Command } from 'commander';
import pino from 'pino';
import { logDestination, logLevel } from './log-destination.js';
import { startRuntime } from '../controller/runtime.js';
import { compactAfterStartup, limitHeapGrowth } from '../controller/heap.js';
import { loadConfigInput, resolveToken } from './config-input.js';
import { untilStopSignal } from './stop-signal.js';
import { StoreDamagedError, StoreError, StoreLockedError, type StoreLock } from '../store/types.js';
import { EXIT_BAD_INPUT, EXIT_FAILED } from './output.js';

interface RunOptions {
  config: string;
  dryRun?: boolean;
  once?: boolean;
  listen?: string;
  server: boolean;
  store?: string;
  stateDir: string;
  token?: string;
  reports?: string;
  leaderElect?: boolean;
  leaseName: string;
  leaseNamespace: string;
  logLevel: string;
  waitForLock?: boolean;
  prune?: boolean;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run the autoscaler: observe → decide → act → record for every service in the config')
    .option('-c, --config <file>', 'config file', 'scalepilot.yaml')
    .option('--dry-run', 'decide, explain and record, never act')
    .option('--once', 'run one sync of every service, print the decisions and exit')
    .option('--listen <addr>', 'HTTP API, dashboard and /metrics address (default from config, 127.0.0.1:9464)')
    .option('--no-server', 'do not start the HTTP server')
    .option('--store <url>', 'store URL (sqlite:PATH or postgres://...), overrides the config')
    .option('--state-dir <dir>', 'where providers keep their files (proxy config, replica logs)', '.scalepilot')
    .option('--reports <dir>', 'directory of simulation and load-test reports the dashboard lists')
    .option('--token <token>', 'bearer token for steering through the API (or SCALEPILOT_TOKEN)')
    .option('--leader-elect', 'run only while holding a Kubernetes Lease (for several controllers in a cluster)')
    .option('--lease-name <name>', 'Lease name for leader election', 'scalepilot')
    .option('--lease-namespace <ns>', 'Lease namespace', process.env.POD_NAMESPACE ?? 'default')
    .option('--log-level <level>', 'log level: fatal, error, warn, info, debug, trace or silent', 'info')
    .option('--prune', 'a config reload stops the replicas of removed services and applies changed local targets (default: they keep running until SIGUSR2 or a clean stop)')
    .option('--wait-for-lock', 'if another `run` writes to the store, wait until it stops instead of exiting 2')
    .action(async (opts: RunOptions) => {
      limitHeapGrowth();
      const config = loadConfigInput(opts.config, 'nothing applied');
      // before anything starts: a token named by an unset variable is bad input, not an API left without steering
      const token = opts.server && !opts.once ? resolveToken(opts.token, config.server?.token) : undefined;
      const log = pino({ level: logLevel(opts.logLevel), base: { name: 'scalepilot' } }, logDestination());
      // One writer per store: a second `run` on it would act and record every change twice. The lock is taken as soon
      // as the store is open, before any workload (replicas left by a crashed run, removed services) is touched.
      let lock: StoreLock | undefined;
      const giveUp = new AbortController();
      // From here on SIGINT/SIGTERM mean a clean stop: one during start-up ends a wait for the store lock, or stops the
      // run as soon as it has started; a second one while the stop runs is said and ignored (stop-signal.ts).
      const stopSignal = untilStopSignal((sig) => log.warn({ signal: sig }, 'already stopping: in-flight syncs and drains finish first (kill -9 forces it, leaving replicas for the next run to adopt)'));
      void stopSignal.then(() => giveUp.abort());
      let rt: Awaited<ReturnType<typeof startRuntime>>;
      try {
        rt = await startRuntime(config, {
          dryRun: Boolean(opts.dryRun),
          log,
          ...(opts.store ? { store: opts.store } : {}),
          stateDir: opts.stateDir,
          prune: Boolean(opts.prune),
          acquire: async (store) => {
            lock = await store.lock?.({
              // under leader election the Lease decides who leads; the store lock only waits for the last leader to let go
              wait: Boolean(opts.waitForLock || opts.leaderElect),
              onWait: (holder) => log.warn({ holder }, 'the store has another writer; waiting for it to stop'),
              signal: giveUp.signal,
            });
          },
        });
      } catch (e) {
        // a store that cannot be opened (damaged, unreachable) or is locked is reported, not a stack trace; nothing runs
        if (!(e instanceof StoreError)) throw e;
        process.stderr.write(`scalepilot run: ${e.message}\n`);
        process.exitCode = e instanceof StoreLockedError || e instanceof StoreDamagedError ? EXIT_BAD_INPUT : EXIT_FAILED;
        return;
      }
      rt.controller.useStoreLock(lock);
      const finish = async () => {
        await rt.controller.stop();
        // a last try for records the store refused; what still cannot be written goes to the log, not nowhere
        if (!(await rt.controller.flushRecords())) {
          for (const e of rt.controller.pendingRecords()) log.error({ record: e }, 'record not written: the store still refuses writes at shutdown');
        }
        await rt.close({ stopReplicas: true });
      };
      if (opts.once) {
        const results = [];
        for (const s of rt.controller.services) results.push(await rt.controller.syncOnce(s));
        process.stdout.write(JSON.stringify(results.map((r) => ({ service: r.service, error: r.error, decision: r.decision })), null, 2) + '\n');
        await finish();
        return;
      }
      const server = opts.server
        ? await (await import('../server/server.js')).startServer({ runtime: rt, listen: opts.listen ?? config.server?.listen ?? '127.0.0.1:9464', dryRun: Boolean(opts.dryRun), ...(opts.reports ? { reportsDir: opts.reports } : {}), ...(token ? { token } : {}), log }).catch(async (e: unknown) => {
          // nothing has been started yet: close the store and providers, then report the bind failure (exit 2)
          await rt.close({ stopReplicas: true });
          throw e;
        })
        : undefined;
      let stopLeading: (() => Promise<void>) | undefined;
      if (opts.leaderElect) {
        const { runWithLeaderElection } = await import('../controller/leader-run.js');
        stopLeading = await runWithLeaderElection({ name: opts.leaseName, namespace: opts.leaseNamespace, log, onStartedLeading: () => rt.controller.start(), onStoppedLeading: () => void rt.controller.stop() });
      } else {
        rt.controller.start();
      }
      rt.watchConfig();
      compactAfterStartup(config.syncPeriodMs, rt.controller.firstRound());
      log.info({ services: rt.controller.services, dryRun: Boolean(opts.dryRun), listen: server?.address }, 'scalepilot running');
      process.on('SIGHUP', () => {
        void rt.reload().then((r) => log.info({ ok: r.ok }, r.message));
      });
      // the operator's "yes, stop what the config no longer lists" after a reload kept it running
      process.on('SIGUSR2', () => {
        void rt.prune().then(
          (r) => log.info({ stopped: r.keptRunning, applied: r.heldTargets }, 'pruned removed services and applied held target changes'),
          (e: Error) => log.error({ err: e.message }, 'prune failed'),
        );
      });
      // the loops' timers do not hold the process open (so embedding callers can exit); this does, until a signal
      const keepAlive = setInterval(() => {}, 1 << 30);
      await stopSignal;
      clearInterval(keepAlive);
      log.info({}, 'stopping: finishing in-flight syncs');
      await stopLeading?.();
      await server?.close();
      await finish();
    });
}
