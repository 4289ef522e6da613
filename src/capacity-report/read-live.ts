// Reads what `check` needs from the configured metric sources: each metric's current value and, for metrics
// under a `for:` rule, the window behind it (a range read where the source keeps history).
import { dirname } from 'node:path';
import type { Config, ServicePolicy } from '../config/load.js';
import { parseMilli } from '../core/quantity.js';
import type { TimedValue } from '../core/types.js';
import { createMetricSource } from '../metrics/index.js';
import type { MetricSource, Sample } from '../metrics/types.js';
import { createProvider, type Provider, type TargetState } from '../providers/index.js';
import type { CheckInput } from './check.js';

/** Sources that answer range reads from history rather than only "now". */
const RANGE_KINDS = new Set(['prometheus', 'trace']);

/**
 * Per-replica series are averaged, anything else summed at each timestamp, as the controller aggregates them
 * (a PromQL query without `sum` returning several series is the usual reason for more than one).
 */
export function aggregateSamples(samples: readonly Sample[], perPod: boolean): TimedValue[] {
  const byT = new Map<number, number[]>();
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    const list = byT.get(s.t) ?? [];
    list.push(s.value);
    byT.set(s.t, list);
  }
  return [...byT.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([t, vs]) => ({ t, v: perPod ? vs.reduce((a, b) => a + b, 0) / vs.length : vs.reduce((a, b) => a + b, 0) }));
}

/**
 * Per-replica cpu (cores) and memory (bytes) become percent of the request when the service states one, as the
 * controller reads them, so rules like "cpu > 70" mean utilization.
 */
function asPercentOfRequest(p: ServicePolicy, name: string, series: TimedValue[]): TimedValue[] {
  if ((name !== 'cpu' && name !== 'memory') || !p.metrics[name]?.perPod) return series;
  const req = p.resources?.requests?.[name];
  if (req === undefined) return series;
  let reqMilli: number;
  try {
    reqMilli = parseMilli(req);
  } catch {
    return series;
  }
  if (!(reqMilli > 0)) return series;
  return series.map((x) => ({ t: x.t, v: ((x.v * 1000) / reqMilli) * 100 }));
}

/** Longest `for:` among the rules and bands reading each metric. */
function windows(p: ServicePolicy): Map<string, number> {
  const w = new Map<string, number>();
  const add = (m: string, ms: number) => w.set(m, Math.max(w.get(m) ?? 0, ms));
  for (const r of p.rules) add(r.condition.metric, r.forMs);
  for (const b of p.bands) add(b.metric, b.for);
  return w;
}

export interface LiveReadOptions {
  /** range read step (default 15s, or coarser so a window stays under 1000 points) */
  stepMs?: number;
}

export interface LiveSources {
  sources: Record<string, MetricSource>;
  /** sources that could not be built: name → error (their metrics become UNKNOWN) */
  broken: Record<string, string>;
  /** reads a service's target state from its provider */
  observe?: (p: ServicePolicy) => Promise<TargetState>;
  close(): Promise<void>;
}

export function openSources(config: Config): LiveSources {
  const sources: Record<string, MetricSource> = {};
  const broken: Record<string, string> = {};
  for (const [name, raw] of Object.entries(config.sources)) {
    try {
      sources[name] = createMetricSource(name, raw, `sources.${name}`, { baseDir: dirname(config.file) });
    } catch (e) {
      broken[name] = (e as Error).message;
    }
  }
  const providers = new Map<string, Provider>();
  const baseDir = dirname(config.file);
  return {
    sources,
    broken,
    async observe(p) {
      let provider = providers.get(p.target.provider);
      if (!provider) {
        provider = createProvider(p.target, { baseDir, readOnly: true, stateDir: '.scalepilot' });
        providers.set(p.target.provider, provider);
      }
      return provider.observe(p.target);
    },
    async close() {
      await Promise.all([...Object.values(sources), ...providers.values()].map((s) => s.close?.().catch(() => undefined)));
    },
  };
}

/** Reads every metric of one service at `now`. A failed read is recorded as a failure, never as a value. */
export async function readServiceLive(p: ServicePolicy, live: LiveSources, now: Date, opts: LiveReadOptions = {}): Promise<CheckInput> {
  const series: Record<string, TimedValue[]> = {};
  const failures: Record<string, string> = {};
  const win = windows(p);
  await Promise.all(
    Object.entries(p.metrics).map(async ([name, m]) => {
      const src = live.sources[m.source];
      if (!src) {
        failures[name] = live.broken[m.source] ?? `source ${m.source} is not defined`;
        return;
      }
      const q = { name, query: m.query, ...(m.params ? { params: m.params } : {}) };
      const forMs = win.get(name) ?? 0;
      if (forMs > 0 && RANGE_KINDS.has(src.kind)) {
        const stepMs = Math.max(opts.stepMs ?? 15_000, Math.ceil(forMs / 1000 / 1000) * 1000);
        try {
          const samples = await src.sample({ ...q, range: { start: new Date(now.getTime() - forMs), end: now, stepSeconds: stepMs / 1000 } }, now);
          const agg = asPercentOfRequest(p, name, aggregateSamples(samples, Boolean(m.perPod)));
          if (agg.length > 0) {
            series[name] = agg;
            return;
          }
        } catch {
          // The instant read below says what is wrong, if anything; a source without this window still has "now".
        }
      }
      try {
        const samples = await src.sample(q, now);
        const agg = asPercentOfRequest(p, name, aggregateSamples(samples, Boolean(m.perPod)));
        if (agg.length === 0) failures[name] = 'the query returned no samples';
        else series[name] = agg;
      } catch (e) {
        failures[name] = (e as Error).message;
      }
    }),
  );
  const replicas = series.replicas?.at(-1)?.v;
  if (replicas !== undefined) return { series, failures, replicas: Math.round(replicas) };
  const observed = await observeReplicas(p, live);
  return { series, failures, ...observed };
}

/**
 * The replica count from the target's provider (Kubernetes scale, Compose containers, dry-run spec). Local targets
 * are skipped: their replicas live in the process that runs them, so another process would see none.
 */
async function observeReplicas(p: ServicePolicy, live: LiveSources): Promise<{ replicas?: number; replicasError?: string }> {
  if (p.target.provider === 'local' || !live.observe) return {};
  let timer: NodeJS.Timeout | undefined;
  try {
    const state = await Promise.race([
      live.observe(p),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from the ${p.target.provider} provider within ${OBSERVE_TIMEOUT_MS / 1000}s`)), OBSERVE_TIMEOUT_MS);
      }),
    ]);
    return { replicas: state.replicas };
  } catch (e) {
    return { replicasError: (e as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

const OBSERVE_TIMEOUT_MS = 15_000;
