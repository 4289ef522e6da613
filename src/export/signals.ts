// Reads a service's metrics the way exporters need them: which metric is CPU, memory, latency, queue depth or
// DB connections, in what unit, and which rules set thresholds on it.
import type { Config, RulePolicy, ServicePolicy } from '../config/load.js';
import { parseMilli } from '../core/quantity.js';
import { own } from '../own.js';

export type MetricSpec = ServicePolicy['metrics'][string];

export interface NamedMetric {
  name: string;
  spec: MetricSpec;
  /** the source's `type:` (prometheus, redis, ...) */
  sourceType: string;
  source: Record<string, unknown>;
}

export function metricOf(config: Pick<Config, 'sources'>, p: ServicePolicy, name: string): NamedMetric | undefined {
  const spec = p.metrics[name];
  if (!spec) return undefined;
  const source = (own(config.sources, spec.source) ?? {}) as Record<string, unknown>;
  return { name, spec, sourceType: String(source.type ?? 'unknown'), source };
}

export function metricsOf(config: Pick<Config, 'sources'>, p: ServicePolicy): NamedMetric[] {
  return Object.keys(p.metrics).map((n) => metricOf(config, p, n)!);
}

const word = (re: string) => new RegExp(`(^|[_\\-.])(${re})([_\\-.]|$)`, 'i');

/** cpu / memory: named so, or a resource query (process, docker, kubernetes sources read `cpu` / `memory`). */
export function resourceOf(m: NamedMetric): 'cpu' | 'memory' | undefined {
  const q = m.spec.query.trim().toLowerCase();
  if (m.name === 'cpu' || q === 'cpu' || q === 'cpu_percent' || word('cpu').test(m.name)) return 'cpu';
  if (m.name === 'memory' || q === 'memory' || q === 'memory_percent' || word('memory|mem').test(m.name)) return 'memory';
  return undefined;
}

/** p99 / p95_latency / latency_p50 → the percentile; undefined for anything else. */
export function latencyPercentile(m: NamedMetric): number | undefined {
  const match = word('p(\\d{2,3}(?:\\.\\d+)?)').exec(m.name);
  if (!match) return undefined;
  const n = Number(match[3]);
  return n > 0 && n <= 100 ? n : undefined;
}

/** Multiplier from seconds to the metric's unit (rules and SLOs speak seconds). */
export function secondsToUnit(m: NamedMetric): number {
  const u = (m.spec.unit ?? 's').toLowerCase();
  return u === 'ms' || u === 'milliseconds' ? 1000 : u === 'us' || u === 'µs' || u === 'microseconds' ? 1e6 : 1;
}

export function isPercentUnit(m: NamedMetric): boolean {
  const u = (m.spec.unit ?? '').toLowerCase();
  return u === '%' || u === 'percent';
}

export function isQueueMetric(p: ServicePolicy, m: NamedMetric): boolean {
  if (p.queue?.metric === m.name) return true;
  if (m.sourceType === 'redis' && /^(llen|xlen|xpending)\s/i.test(m.spec.query.trim())) return true;
  return word('queue|backlog|lag').test(m.name);
}

/** 'count' of client connections, or a 0..1 'ratio' of max_connections. */
export function connectionsOf(m: NamedMetric): 'count' | 'ratio' | 'max' | undefined {
  const q = m.spec.query.trim().toLowerCase();
  if (m.sourceType === 'postgres') {
    if (q === 'connection_ratio') return 'ratio';
    if (q === 'max_connections') return 'max';
    if (q === 'connections' || q === 'active_connections') return 'count';
  }
  if (word('connection_ratio|pool_usage').test(m.name)) return 'ratio';
  if (word('connections|conns').test(m.name)) return 'count';
  return undefined;
}

/** Rules that alert when the metric rises: `metric > N` / `metric >= N`. */
export function risingRules(p: ServicePolicy, metric: string): RulePolicy[] {
  return p.rules.filter((r) => r.condition.metric === metric && (r.condition.op === '>' || r.condition.op === '>='));
}

/** A quantity string to cores (cpu) or bytes (memory); undefined when absent or malformed. */
export function quantityNumber(q: string | undefined): number | undefined {
  if (q === undefined) return undefined;
  try {
    return parseMilli(q) / 1000;
  } catch {
    return undefined;
  }
}
