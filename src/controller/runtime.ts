// Assembles a running controller from a config: store, metric sources, providers, own metrics, reload on change.
import { watch, type FSWatcher } from 'node:fs';
import type { Config, ServicePolicy } from '../config/load.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import type { MetricSource } from '../metrics/types.js';
import { createMetricSource } from '../metrics/index.js';
import { createProvider } from '../providers/index.js';
import type { Provider } from '../providers/types.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { Controller, type Logger, type SyncResult } from './controller.js';
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
}

export interface Runtime {
  config: Config;
  controller: Controller;
  store: Store;
  metrics: ControllerMetrics;
  sources: Record<string, MetricSource>;
  reload(): Promise<{ ok: boolean; message: string }>;
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
  const metrics = opts.metrics ?? createControllerMetrics();
  let sources = buildSources(config);
  const providers = new Map<string, Provider>();
  const providerFor = (p: ServicePolicy): Provider => {
    const pr = createProvider(p.target, { stateDir: opts.stateDir ?? '.scalepilot', baseDir: baseDirOf(config.file), dryRun: opts.dryRun });
    providers.set(p.name, pr);
    return pr;
  };
  const controller = new Controller(config, {
    store,
    dryRun: opts.dryRun,
    providerFor,
    sources,
    metrics,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.onSync ? { onSync: opts.onSync } : {}),
  });
  let watcher: FSWatcher | undefined;
  let current = config;
  const rt: Runtime = {
    get config() { return current; },
    controller,
    store,
    metrics,
    get sources() { return sources; },
    async reload() {
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
      await controller.reload(next);
      current = next;
      for (const s of Object.values(oldSources)) await s.close?.();
      return { ok: true, message: `reloaded ${Object.keys(next.services).length} service(s)` };
    },
    watchConfig() {
      let pending: NodeJS.Timeout | undefined;
      watcher = watch(current.file, () => {
        // editors write in several steps; settle before reading
        if (pending) clearTimeout(pending);
        pending = setTimeout(() => void rt.reload(), 300);
      });
      watcher.unref?.();
    },
    async close(o = {}) {
      watcher?.close();
      await controller.stop({ closeProviders: o.stopReplicas ?? false });
      for (const s of Object.values(sources)) await s.close?.();
      await store.close();
    },
  };
  return rt;
}
