// Assembles a running controller from a config: store, metric sources, providers, own metrics, reload on change.
import { createHash } from 'node:crypto';
import { statSync, watch, type FSWatcher } from 'node:fs';
import { InputTooLargeError, MAX_CONFIG_BYTES, readFileBounded } from '../bounded-read.js';
import { basename, dirname, join } from 'node:path';
import type { Config, ServicePolicy } from '../config/load.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import type { MetricSource } from '../metrics/types.js';
import { createMetricSource } from '../metrics/index.js';
import { createProvider } from '../providers/index.js';
import { leftoverServices } from '../providers/local.js';
import type { Provider } from '../providers/types.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { Controller, type Logger, type ReloadOutcome, type SyncResult } from './controller.js';
import { createControllerMetrics, type ControllerMetrics } from '../server/metrics.js';

export interface RuntimeOptions {
  dryRun: boolean;
  log?: Logger;
  onSync?: (r: SyncResult) => void;
  /** overrides the config's store URL */
  store?: string;
  /** state directory for providers that keep files (local provider's proxy config, logs) */
  stateDir?: string;
  metrics?: ControllerMetrics;
  /** a reload stops what removed services run and applies changed local targets (run --prune) */
  prune?: boolean;
  /** a changed config file is reloaded once it has read the same for this long (default 1000 ms) */
  reloadSettleMs?: number;
  /**
   * Runs once the store is open and before anything touches a workload (`run` takes the store's writer lock here, so
   * a second copy that is refused has changed nothing). The store is closed again when it throws.
   */
  acquire?: (store: Store) => Promise<void>;
}

export interface Runtime {
  config: Config;
  controller: Controller;
  store: Store;
  metrics: ControllerMetrics;
  sources: Record<string, MetricSource>;
  reload(o?: { prune?: boolean }): Promise<{ ok: boolean; message: string }>;
  /** stops what removed services still run and applies held target changes */
  prune(): Promise<ReloadOutcome>;
  watchConfig(): void;
  close(opts?: { stopReplicas?: boolean }): Promise<void>;
}

function buildSources(config: Config): Record<string, MetricSource> {
  const sources: Record<string, MetricSource> = {};
  for (const [name, raw] of Object.entries(config.sources)) {
    sources[name] = createMetricSource(name, raw, `sources.${name}`, { baseDir: baseDirOf(config.file) });
  }
  return sources;
}

function baseDirOf(file: string): string {
  const i = file.lastIndexOf('/');
  return i >= 0 ? file.slice(0, i) || '/' : '.';
}

export async function startRuntime(config: Config, opts: RuntimeOptions): Promise<Runtime> {
  const store = await openStore(opts.store ?? config.store, { baseDir: baseDirOf(config.file) });
  if (opts.acquire) {
    try {
      await opts.acquire(store);
    } catch (e) {
      await store.close();
      throw e;
    }
  }
  const metrics = opts.metrics ?? createControllerMetrics();
  let sources = buildSources(config);
  const providers = new Map<string, Provider>();
  const providerFor = (p: ServicePolicy): Provider => {
    const pr = createProvider(p.target, {
      stateDir: opts.stateDir ?? '.scalepilot',
      baseDir: baseDirOf(config.file),
      dryRun: opts.dryRun,
      onEvent: (e) => {
        metrics.providerEvents.inc({ service: e.service, event: e.kind });
        opts.log?.[e.level]({ service: e.service, provider: p.target.provider, event: e.kind }, e.message);
      },
    });
    providers.set(p.name, pr);
    return pr;
  };
  const storeUrl = (opts.store ?? config.store).trim();
  const controller = new Controller(config, {
    store,
    dryRun: opts.dryRun,
    // records waiting for this store survive a crash in the state dir; a file per store, so another never takes them
    ...(/:memory:$/.test(storeUrl) ? {} : { journalFile: join(opts.stateDir ?? '.scalepilot', `journal-${createHash('sha256').update(`${baseDirOf(config.file)}\0${storeUrl}`).digest('hex').slice(0, 16)}.jsonl`) }),
    providerFor,
    sources,
    metrics,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.onSync ? { onSync: opts.onSync } : {}),
  });
  if (!opts.dryRun) {
    // a run killed while its config lost a service leaves that service's replicas with nobody to adopt them
    const left = await leftoverServices(join(opts.stateDir ?? '.scalepilot', 'local'), new Set(Object.keys(config.services)), { stop: Boolean(opts.prune) });
    for (const l of left) {
      opts.log?.warn(
        { service: l.service, pids: l.pids, dir: l.dir },
        opts.prune
          ? `stopped ${l.pids.length} process(es) a previous scalepilot left running for ${l.service}, which the config no longer has`
          : `${l.service} is not in the config, but a previous scalepilot left ${l.pids.length} of its process(es) running (pids ${l.pids.join(', ')}); start run with --prune to stop them`,
      );
    }
  }
  let watcher: FSWatcher | undefined;
  let pending: NodeJS.Timeout | undefined;
  let current = config;
  const rt: Runtime = {
    get config() { return current; },
    controller,
    store,
    metrics,
    get sources() { return sources; },
    async reload(o = {}) {
      let next: Config;
      try {
        next = loadConfig(current.file);
      } catch (e) {
        const message = e instanceof ConfigError ? e.message : (e as Error).message;
        opts.log?.error({ file: current.file, err: message }, 'new config rejected; the running config stays in force');
        return { ok: false, message };
      }
      const oldSources = sources;
      try {
        sources = buildSources(next);
      } catch (e) {
        opts.log?.error({ err: (e as Error).message }, 'new config rejected; the running config stays in force');
        return { ok: false, message: (e as Error).message };
      }
      controller.setSources(sources);
      const outcome = await controller.reload(next, { prune: Boolean(opts.prune || o.prune) });
      current = next;
      for (const s of Object.values(oldSources)) await s.close?.();
      const left = [
        ...(outcome.keptRunning.length ? [`kept running: ${outcome.keptRunning.join(', ')}`] : []),
        ...(outcome.heldTargets.length ? [`target changes held: ${outcome.heldTargets.join(', ')}`] : []),
      ];
      return { ok: true, message: `reloaded ${Object.keys(next.services).length} service(s)${left.length ? `; ${left.join('; ')}` : ''}` };
    },
    prune() {
      return controller.prune();
    },
    watchConfig() {
      // The directory is watched, not the file: an editor or deploy tool that replaces the file (write + rename)
      // would leave a watch on the old inode. A change is read only once the file has read the same twice, settleMs
      // apart with no event in between, so a half-written file is not acted on while it is being written.
      const settleMs = opts.reloadSettleMs ?? 1000;
      const file = current.file;
      const name = basename(file);
      const read = () => {
        try {
          // bounded like loadConfig: a file past the limit (or a device that never ends) is not read whole to be
          // compared; it reads as a change, and its reload is refused with the reason
          return readFileBounded(file, MAX_CONFIG_BYTES);
        } catch (e) {
          if (e instanceof InputTooLargeError) return `\0larger than the config limit: ${statSize(file)}`;
          return undefined;
        }
      };
      let applied = read();
      let seen: string | undefined;
      const schedule = () => {
        if (pending) clearTimeout(pending);
        pending = setTimeout(check, settleMs);
        pending.unref?.();
      };
      const check = () => {
        pending = undefined;
        const text = read();
        // missing (being replaced) or still changing: look again later
        if (text === undefined) return;
        if (text !== seen) {
          seen = text;
          schedule();
          return;
        }
        if (text === applied) return;
        applied = text;
        void rt.reload().then((r) => opts.log?.info({ ok: r.ok, file }, r.message));
      };
      watcher = watch(dirname(file) || '.', (_event, changed) => {
        if (changed !== null && changed !== name) return;
        seen = undefined;
        schedule();
      });
      watcher.unref?.();
    },
    async close(o = {}) {
      watcher?.close();
      if (pending) clearTimeout(pending);
      await controller.stop({ closeProviders: o.stopReplicas ?? false });
      for (const s of Object.values(sources)) await s.close?.();
      await store.close();
    },
  };
  return rt;
}

/** A file's size and change time, to tell one oversized version from the next (empty when it cannot be read). */
function statSize(file: string): string {
  try {
    const st = statSync(file);
    return `${st.size} bytes, changed ${st.mtimeMs}`;
  } catch {
    return '';
  }
}
