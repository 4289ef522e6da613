// `scalepilot history [SERVICE]` prints the event log; `scalepilot rollback SERVICE` undoes the last applied change.
import { dirname } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config/load.js';
import { timeBack } from '../core/duration.js';
import { createProvider } from '../providers/index.js';
import { ProviderError } from '../providers/types.js';
import { openStore } from '../store/index.js';
import { ALL_SERVICES, EVENT_KINDS, StoreDamagedError, StoreError, StoreLockedError, type EventKind, type Store, type StoreEvent, type StoreLock } from '../store/types.js';
import { NothingToRollBack, rollback } from '../controller/rollback.js';
import { EXIT_BAD_INPUT, EXIT_FAILED, InputError, parseFormat, printMachine, table } from './output.js';
import { loadConfigInput } from './config-input.js';
import { own } from '../own.js';

/** Reads the config, turning its issues into bad input (exit 2) with every file:line kept. */

/** The store named by --store, else by the config (relative sqlite paths resolve against the config's directory). */
async function storeFrom(opts: { store?: string; config: string }, config?: Config): Promise<Store> {
  if (opts.store) return openStore(opts.store);
  const c = config ?? loadConfigInput(opts.config);
  return openStore(c.store, { baseDir: dirname(c.file) });
}

/** `--since 1h` (back from now) or an ISO time; a duration reaching back past 1970 means everything. */
export function parseSince(v: string, now: number): number {
  const t = timeBack(v, now);
  if (t !== undefined) return t;
  throw new InputError(`--since ${v}: write a duration back from now (30m, 1h, 7d) or an ISO time (2024-05-01T12:00:00Z)`);
}

export function parseKinds(values: string[] | undefined): EventKind[] | undefined {
  if (!values?.length) return undefined;
  const kinds = values.flatMap((v) => v.split(',')).map((k) => k.trim()).filter(Boolean);
  for (const k of kinds) {
    if (!(EVENT_KINDS as readonly string[]).includes(k)) throw new InputError(`--kind ${k}: unknown event kind; use ${EVENT_KINDS.join(', ')}`);
  }
  return kinds as EventKind[];
}

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InputError(`${flag} ${v}: must be a whole number >= 1`);
    return n;
  };
}

const time = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

function replicas(e: StoreEvent): string {
  if (e.fromReplicas !== undefined && e.toReplicas !== undefined) return e.fromReplicas === e.toReplicas ? String(e.toReplicas) : `${e.fromReplicas}→${e.toReplicas}`;
  return e.toReplicas !== undefined ? `→${e.toReplicas}` : e.fromReplicas !== undefined ? String(e.fromReplicas) : '';
}

function detail(e: StoreEvent): string {
  const text = e.decision?.reason ?? e.message ?? '';
  return e.error ? `${text}${text ? ' — ' : ''}error: ${e.error}` : text;
}

/** The event log as an operator reads it: one line per event, oldest first. */
export function historyTable(events: StoreEvent[]): string {
  return table([
    ['ID', 'TIME', 'SERVICE', 'KIND', 'REPLICAS', 'RESULT', 'REASON'],
    ...events.map((e) => [e.id, time(e.time), e.service, e.kind, replicas(e), e.result, detail(e)]),
  ]);
}

/** A store that cannot be opened is reported, not a crash: a damaged file is bad input (exit 2), the rest exit 1. */
function storeFailed(e: unknown): undefined {
  if (!(e instanceof StoreError)) throw e;
  process.stderr.write(`scalepilot: ${e.message}\n`);
  process.exitCode = e instanceof StoreDamagedError ? EXIT_BAD_INPUT : EXIT_FAILED;
  return undefined;
}

const collect = (v: string, acc: string[] = []) => [...acc, v];

export function register(program: Command): void {
  program
    .command('history')
    .description('show recorded decisions, scaling, errors and rollbacks (oldest first)')
    .argument('[service]', 'one service (default: all)')
    .option('--since <when>', 'how far back: a duration (30m, 1h, 7d) or an ISO time', '1h')
    .option('--kind <kinds>', `only these kinds (repeat or comma-separate): ${EVENT_KINDS.join(', ')}`, collect)
    .option('--limit <n>', 'at most this many (the newest)', '1000')
    .option('-c, --config <file>', 'config file (names the store)', 'scalepilot.yaml')
    .option('--store <url>', 'read this store instead of the config\'s (sqlite:PATH or postgres://...)')
    .option('-o, --output <format>', 'table | json | yaml', 'table')
    .action(async (service: string | undefined, opts: { since: string; kind?: string[]; limit: string; config: string; store?: string; output: string }) => {
      const format = parseFormat(opts.output);
      const since = parseSince(opts.since, Date.now());
      const kinds = parseKinds(opts.kind);
      const limit = positiveInt('--limit')(opts.limit);
      const store = await storeFrom(opts).catch(storeFailed);
      if (!store) return;
      try {
        // one more than asked tells whether older events were left out
        const events = await store.history(service ?? ALL_SERVICES, since, { ...(kinds ? { kinds } : {}), limit: limit + 1 });
        const cut = events.length > limit;
        if (cut) events.shift();
        if (printMachine(events, format)) return;
        if (events.length === 0) {
          process.stdout.write(`no events${service ? ` for ${service}` : ''} since ${time(since)}${kinds ? ` of kind ${kinds.join(', ')}` : ''}\n`);
          return;
        }
        process.stdout.write(historyTable(events));
        if (cut) process.stderr.write(`showing the newest ${limit}; older events since ${time(since)} were left out (use --limit or --since)\n`);
      } catch (e) {
        storeFailed(e);
      } finally {
        await store.close();
      }
    });

  program
    .command('rollback')
    .description('restore the replicas/resources from before the last applied change (or before event --to ID)')
    .argument('<service>', 'service to roll back')
    .option('--to <id>', 'restore the state from before this event (ids from `scalepilot history`)')
    .option('--dry-run', 'show and record what would change, change nothing')
    .option('-c, --config <file>', 'config file', 'scalepilot.yaml')
    .option('--store <url>', 'use this store instead of the config\'s')
    .option('-o, --output <format>', 'table | json | yaml', 'table')
    .action(async (service: string, opts: { to?: string; dryRun?: boolean; config: string; store?: string; output: string }) => {
      const format = parseFormat(opts.output);
      const toEventId = opts.to === undefined ? undefined : positiveInt('--to')(opts.to);
      const config = loadConfigInput(opts.config);
      const policy = own(config.services, service);
      if (!policy) throw new InputError(`service "${service}" is not in ${config.file}; services there: ${Object.keys(config.services).join(', ') || '(none)'}`);
      if (policy.target.provider === 'local') {
        const listen = config.server?.listen ?? '127.0.0.1:9464';
        throw new InputError(`${service}'s local replicas are child processes of the running \`scalepilot run\`, so only it can roll them back: use its dashboard, or POST http://${listen}/api/v1/services/${service}/rollback with the bearer token`);
      }
      const dryRun = opts.dryRun ?? false;
      const store = await storeFrom(opts, config).catch(storeFailed);
      if (!store) return;
      // One writer per store: while a `run` holds it, the change goes through that controller, which would otherwise
      // decide again at its next sync without knowing of it.
      let lock: StoreLock | undefined;
      try {
        lock = await store.lock?.();
      } catch (e) {
        await store.close();
        if (!(e instanceof StoreLockedError)) throw e;
        const listen = config.server?.listen ?? '127.0.0.1:9464';
        process.stderr.write(`scalepilot rollback: a running scalepilot run writes to this store (${e.holder}); roll back through it, so the change and its record come from the one writer: its dashboard, or POST http://${listen}/api/v1/services/${service}/rollback with the bearer token\n`);
        process.exitCode = EXIT_FAILED;
        return;
      }
      // the rollback takes the target's lease while it acts: refused while a `run` with another store drives it
      const provider = createProvider(policy.target, { baseDir: dirname(config.file), dryRun, oneShot: 'scalepilot rollback' });
      try {
        const r = await rollback({ policy, store, provider, dryRun, by: 'cli', ...(toEventId !== undefined ? { toEventId } : {}) });
        if (printMachine(r, format)) return;
        process.stdout.write(`${dryRun ? 'would roll back' : 'rolled back'} ${service}: ${r.changes.join('; ')}\n`);
        process.stdout.write(`  undoes event #${r.undoes.id} (${r.undoes.kind} at ${time(r.undoes.time)}${r.undoes.message ? `: ${r.undoes.message}` : ''})\n`);
        process.stdout.write(`  recorded as event #${r.eventId}${dryRun ? ' (dry run: nothing changed)' : ''}\n`);
        for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
        if (!dryRun) process.stderr.write(`note: a running controller decides again on its next sync and may undo this; pause ${service} first to hold it\n`);
      } catch (e) {
        if (e instanceof NothingToRollBack || e instanceof ProviderError || e instanceof StoreError) {
          process.stderr.write(`scalepilot rollback: ${e.message}\n`);
          // a target another actor holds (a run's lease, an HPA) is looked at again later by a run; here, say where to go
          if (e instanceof ProviderError && e.retryInMs !== undefined) process.stderr.write(`scalepilot rollback: nothing was changed; roll back through what drives ${service} (a scalepilot run: its dashboard or POST /api/v1/services/${service}/rollback)\n`);
          process.exitCode = EXIT_FAILED;
          return;
        }
        throw e;
      } finally {
        await provider.close?.();
        await lock?.release();
        await store.close();
      }
    });
}
