// `scalepilot check` as a pure function: a service's recent metric values against its rules, targets and limits →
// OK / SOON / UNKNOWN / IMMEDIATE, the reason, and the runbook strategy the bottleneck classifier recommends.
import type { Config, ServicePolicy } from '../config/load.js';
import { connectionsOf, isPercentUnit, isQueueMetric, latencyPercentile, metricsOf, resourceOf, secondsToUnit } from '../export/signals.js';
import { classifyBottleneck, type Classification, type ClassifyThresholds, type ServiceSignals, type Strategy } from '../core/classify.js';
import { formatDuration } from '../core/duration.js';
import { parseQuantity } from '../core/quantity.js';
import { ruleState } from '../core/rules/state.js';
import { num } from '../core/rules/format.js';
import type { TimedValue } from '../core/types.js';
import { linearRegression } from 'simple-statistics';

/** Severity order matters: a service takes the worst status of its findings; UNKNOWN outranks SOON (it may hide worse). */
export const CHECK_STATUSES = ['OK', 'SOON', 'UNKNOWN', 'IMMEDIATE'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export function statusRank(s: CheckStatus): number {
  return CHECK_STATUSES.indexOf(s);
}

export function worstStatus(list: readonly CheckStatus[]): CheckStatus {
  return list.reduce<CheckStatus>((w, s) => (statusRank(s) > statusRank(w) ? s : w), 'OK');
}

/**
 * Which metrics measure what, read the way the exporters read them (src/export/signals): cpu and memory by name or
 * resource query, latency by its percentile in the name (p95_latency, seconds unless `unit:` says ms), queues by the
 * queue block, a redis list read or the name, database connections by the postgres query or the name. Cache hit
 * ratio (0..1) and I/O wait (percent) have no exporter use and go by the names cache_hit_ratio and io_wait.
 */
export interface SignalMetrics {
  cpu: string[];
  memory: string[];
  /** latency metrics with the factor that turns their unit into seconds, the closest to p95 first */
  latency: Array<{ name: string; toSeconds: number; percentile: number }>;
  queue: string[];
  connections: string[];
  /** 0..1 of max_connections, or percent when the metric's unit says so */
  connectionRatio: Array<{ name: string; percent: boolean }>;
  maxConnections: string[];
  cacheHitRatio: string[];
  ioWait: string[];
}

export function signalMetrics(p: ServicePolicy, sources: Config['sources'] = {}): SignalMetrics {
  const out: SignalMetrics = { cpu: [], memory: [], latency: [], queue: [], connections: [], connectionRatio: [], maxConnections: [], cacheHitRatio: [], ioWait: [] };
  for (const m of metricsOf({ sources }, p)) {
    if (m.name === 'cache_hit_ratio') out.cacheHitRatio.push(m.name);
    else if (m.name === 'io_wait') out.ioWait.push(m.name);
    else if (latencyPercentile(m) !== undefined) out.latency.push({ name: m.name, toSeconds: 1 / secondsToUnit(m), percentile: latencyPercentile(m)! });
    else if (isQueueMetric(p, m)) out.queue.push(m.name);
    else if (connectionsOf(m) === 'count') out.connections.push(m.name);
    else if (connectionsOf(m) === 'ratio') out.connectionRatio.push({ name: m.name, percent: isPercentUnit(m) });
    else if (connectionsOf(m) === 'max') out.maxConnections.push(m.name);
    else if (resourceOf(m) === 'cpu') out.cpu.push(m.name);
    else if (resourceOf(m) === 'memory') out.memory.push(m.name);
  }
  out.latency.sort((a, b) => Math.abs(a.percentile - 95) - Math.abs(b.percentile - 95));
  if (p.queue) out.queue = [p.queue.metric, ...out.queue.filter((n) => n !== p.queue!.metric)];
  return out;
}

export interface CheckInput {
  /** replicas the target runs now, when known */
  replicas?: number;
  /** recent samples of each metric by its config name, oldest first; one sample when only the current value is known */
  series: Record<string, TimedValue[]>;
  /** metrics that could not be read: name → error. They are UNKNOWN, never treated as fine. */
  failures: Record<string, string>;
  /** why the running replica count could not be observed, when that was tried and failed */
  replicasError?: string;
}

export interface CheckOptions {
  /** how far ahead a projected limit still counts as SOON (24h) */
  horizonMs?: number;
  /** samples older than this do not describe "now" (5m, Prometheus' lookback) */
  staleAfterMs?: number;
  /** the config's sources, so metrics are recognised by their source type too (postgres connections, redis queues) */
  sources?: Config['sources'];
}

export type FindingKind = 'metric' | 'rule' | 'band' | 'max-replicas' | 'target' | 'connections' | 'projection';

export interface CheckFinding {
  status: CheckStatus;
  kind: FindingKind;
  /** the rule, metric or limit the finding is about */
  name: string;
  text: string;
}

export interface ConnectionUse {
  used: number;
  max?: number;
  usedPercent: number;
  headroomPercent: number;
  /** headroom the service keeps (limits.connectionsHeadroom), percent */
  keepHeadroomPercent: number;
  ok: boolean;
}

export interface MetricValue {
  value?: number;
  at?: number;
  error?: string;
}

export interface ServiceCheck {
  service: string;
  status: CheckStatus;
  /** one sentence: why this status */
  reason: string;
  /** what to do, from the bottleneck classifier (empty when nothing needs doing) */
  action: { strategies: Strategy[]; text: string };
  findings: CheckFinding[];
  metrics: Record<string, MetricValue>;
  replicas?: { current: number; min: number; max: number; atMax: boolean };
  connections?: ConnectionUse;
  classification: Classification;
}

const STRATEGY_TEXT: Record<Strategy, string> = {
  horizontal: 'add replicas (horizontal)',
  vertical: 'raise cpu/memory requests and limits (vertical)',
  caching: 'cache hot reads (caching)',
  'load-balancing': 'spread traffic across more nodes (load balancing)',
  offload: 'move slow work to background workers (offload)',
  'db-pool-or-read-replica': 'grow the DB connection pool (PgBouncer) or add a read replica',
};

type RuleLike = ServicePolicy['rules'][number];
type Direction = 'up' | 'down';

function ruleDirection(r: RuleLike, replicas: number | undefined): Direction {
  const a = r.action;
  if (a.kind === 'scale') {
    if (a.mode === 'add' || a.mode === 'percent') return a.amount < 0 ? 'down' : 'up';
    if (a.mode === 'multiply') return a.amount < 1 ? 'down' : 'up';
    return replicas !== undefined && a.amount < replicas ? 'down' : 'up';
  }
  if (a.mode === 'percent') return Number(a.amount) < 0 ? 'down' : 'up';
  if (a.mode === 'add') return String(a.amount).startsWith('-') ? 'down' : 'up';
  return 'up';
}

function latest(s: readonly TimedValue[] | undefined, now: number): TimedValue | undefined {
  let best: TimedValue | undefined;
  for (const x of s ?? []) if (Number.isFinite(x.v) && x.t <= now && (!best || x.t >= best.t)) best = x;
  return best;
}

function firstMetric(names: readonly string[], values: Record<string, MetricValue>): { name: string; value: number } | undefined {
  for (const n of names) {
    const v = values[n]?.value;
    if (v !== undefined) return { name: n, value: v };
  }
  return undefined;
}

function pct(v: number): string {
  // tenths only where they exist: rounding 1e308 to them overflowed to Infinity
  return `${num(Math.abs(v) < 1e15 ? Math.round(v * 10) / 10 : v)}%`;
}

/** Number from an autoscaling/v2 target value ("1000", "500m", 70). */
function targetNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  try {
    return parseQuantity(v).milliValue() / 1000;
  } catch {
    return undefined;
  }
}

interface TargetUse {
  metric: string;
  value: number;
  target: number;
  /** value per replica where the target is per replica */
  text: string;
}

/** Metrics over their HPA / queue targets (usage ratio above 1 + tolerance), which is what more replicas would fix. */
function overTargets(p: ServicePolicy, values: Record<string, MetricValue>, replicas: number | undefined): TargetUse[] {
  const out: TargetUse[] = [];
  const tolerance = p.hpa?.tolerance ?? 0.1;
  const perReplica = (metric: string, v: number) => (p.metrics[metric]?.perPod || !replicas ? v : v / replicas);
  const add = (metric: string, value: number, target: number, what: string) => {
    if (target > 0 && value / target > 1 + tolerance) out.push({ metric, value, target, text: `${metric} ${num(Number(value.toPrecision(4)))} ${what} is over its target ${num(target)}` });
  };
  for (const m of p.hpa?.metrics ?? []) {
    const spec = m as Record<string, any>;
    const body = spec[String(spec.type).charAt(0).toLowerCase() + String(spec.type).slice(1)] as Record<string, any> | undefined;
    if (!body) continue;
    const name: string | undefined = body.name ?? body.metric?.name;
    const target = body.target as Record<string, unknown> | undefined;
    if (!name || !target) continue;
    const v = values[name]?.value;
    if (v === undefined) continue;
    if (target.type === 'Utilization') {
      const t = targetNumber(target.averageUtilization);
      if (t !== undefined) add(name, v, t, '(% of requests)');
    } else if (target.type === 'AverageValue') {
      const t = targetNumber(target.averageValue);
      if (t !== undefined) add(name, perReplica(name, v), t, 'per replica');
    } else if (target.type === 'Value') {
      const t = targetNumber(target.value);
      if (t !== undefined) add(name, v, t, '');
    }
  }
  if (p.queue && replicas) {
    const v = values[p.queue.metric]?.value;
    if (v !== undefined) add(p.queue.metric, v / replicas, p.queue.targetPerReplica, 'items per replica');
  }
  return out;
}

/** Lowest scale-up threshold the service's own rules and bands set on a metric (the runbook's "warning" line). */
function upThreshold(p: ServicePolicy, names: readonly string[], replicas: number | undefined): number | undefined {
  let t: number | undefined;
  for (const r of p.rules) {
    if (!names.includes(r.condition.metric) || (r.condition.op !== '>' && r.condition.op !== '>=')) continue;
    if (ruleDirection(r, replicas) !== 'up') continue;
    t = t === undefined ? r.condition.threshold : Math.min(t, r.condition.threshold);
  }
  for (const b of p.bands) if (names.includes(b.metric)) t = t === undefined ? b.upper : Math.min(t, b.upper);
  return t;
}

function connectionUse(p: ServicePolicy, sig: SignalMetrics, values: Record<string, MetricValue>): ConnectionUse | undefined {
  const keep = (p.limits?.connectionsHeadroom ?? 0.3) * 100;
  const count = firstMetric(sig.connections, values);
  const max = p.limits?.maxConnections ?? firstMetric(sig.maxConnections, values)?.value;
  const ratio = sig.connectionRatio.find((r) => values[r.name]?.value !== undefined);
  let usedPercent: number;
  let used: number;
  if (count && max) {
    used = count.value;
    usedPercent = (count.value / max) * 100;
  } else if (ratio) {
    const v = values[ratio.name]!.value!;
    usedPercent = ratio.percent ? v : v * 100;
    used = max ? (usedPercent / 100) * max : usedPercent;
  } else return undefined;
  const headroomPercent = 100 - usedPercent;
  return { used, ...(max ? { max } : {}), usedPercent, headroomPercent, keepHeadroomPercent: keep, ok: usedPercent >= 0 && headroomPercent >= keep };
}

/**
 * When the least-squares line through the recent samples (real times, so uneven spacing is fine) reaches
 * `threshold`, in epoch ms; undefined when it is not heading there or fewer than 3 samples say so.
 */
function projectCrossing(s: readonly TimedValue[], threshold: number, rising: boolean, now: number, lookbackMs: number): number | undefined {
  const pts = s.filter((x) => Number.isFinite(x.v) && x.t <= now && x.t >= now - lookbackMs);
  if (pts.length < 3 || new Set(pts.map((x) => x.t)).size < 2) return undefined;
  // Hours since now keeps the numbers small; epoch ms squared loses precision in the regression.
  const { m, b } = linearRegression(pts.map((x) => [(x.t - now) / 3_600_000, x.v]));
  if (!Number.isFinite(m) || (rising ? m <= 0 : m >= 0)) return undefined;
  const hours = (threshold - b) / m;
  return hours > 0 ? now + hours * 3_600_000 : undefined;
}

function about(ms: number): string {
  return formatDuration(Math.max(60_000, Math.round(ms / 60_000) * 60_000));
}

/**
 * Checks one service. `now` is epoch ms; every input is given, so the same inputs always give the same answer.
 */
export function checkService(p: ServicePolicy, input: CheckInput, now: number, opts: CheckOptions = {}): ServiceCheck {
  const horizonMs = opts.horizonMs ?? 24 * 3_600_000;
  const staleAfterMs = opts.staleAfterMs ?? 5 * 60_000;
  const findings: CheckFinding[] = [];
  const metrics: Record<string, MetricValue> = {};
  const replicas = input.replicas;
  const sig = signalMetrics(p, opts.sources);

  for (const name of Object.keys(p.metrics)) {
    const err = input.failures[name];
    const last = latest(input.series[name], now);
    if (err !== undefined) {
      metrics[name] = { error: err };
      findings.push({ status: 'UNKNOWN', kind: 'metric', name, text: `${name} could not be read: ${err}` });
    } else if (!last) {
      const why = 'no value was read';
      metrics[name] = { error: why };
      findings.push({ status: 'UNKNOWN', kind: 'metric', name, text: `${name}: ${why}` });
    } else if (now - last.t > staleAfterMs) {
      const why = `newest value is ${formatDuration(now - last.t)} old (stale after ${formatDuration(staleAfterMs)})`;
      metrics[name] = { value: last.v, at: last.t, error: why };
      findings.push({ status: 'UNKNOWN', kind: 'metric', name, text: `${name}: ${why}` });
    } else {
      metrics[name] = { value: last.v, at: last.t };
    }
  }
  if (input.replicasError !== undefined) {
    findings.push({ status: 'UNKNOWN', kind: 'max-replicas', name: 'replicas', text: `replicas could not be observed: ${input.replicasError}` });
  }
  const fresh: Record<string, MetricValue> = {};
  for (const [k, v] of Object.entries(metrics)) if (v.error === undefined) fresh[k] = v;
  const isFresh = (m: string) => fresh[m] !== undefined;

  // Rules: critical breached → IMMEDIATE, warning breached (pending or firing) → SOON; scale-down rules never raise.
  let upBreach = false;
  for (const r of p.rules) {
    if (!isFresh(r.condition.metric)) continue;
    const dir = ruleDirection(r, replicas);
    const rule = { metric: r.condition.metric, op: r.condition.op, threshold: r.condition.threshold, forMs: r.forMs };
    const st = ruleState(rule, input.series[r.condition.metric], now, staleAfterMs);
    if (st.state === 'inactive') continue;
    const cond = `${r.condition.metric} ${r.condition.op} ${num(r.condition.threshold)}${r.forMs ? ` for ${formatDuration(r.forMs)}` : ''}`;
    const how = st.state === 'firing' ? (r.forMs ? 'sustained' : 'breached') : `breached, not yet for ${formatDuration(r.forMs)}`;
    const text = `rule ${r.name} (${cond}, ${r.severity}) ${how}: ${st.detail}`;
    if (dir === 'down') {
      findings.push({ status: 'OK', kind: 'rule', name: r.name, text: `scale-down rule ${r.name} (${cond}) ${how}: capacity could be reduced` });
      continue;
    }
    upBreach = true;
    const status: CheckStatus = r.severity === 'critical' ? 'IMMEDIATE' : 'SOON';
    findings.push({ status, kind: 'rule', name: r.name, text });
  }
  for (const b of p.bands) {
    const v = fresh[b.metric]?.value;
    if (v === undefined || v <= b.upper) continue;
    upBreach = true;
    findings.push({ status: 'SOON', kind: 'band', name: b.metric, text: `${b.metric} ${num(v)} is above its band's upper ${num(b.upper)}` });
  }

  // Targets and the replica ceiling: over target at maxReplicas means the autoscaler has nothing left to add.
  const over = overTargets(p, fresh, replicas);
  let replicaInfo: ServiceCheck['replicas'];
  if (replicas !== undefined) {
    const atMax = replicas >= p.maxReplicas;
    replicaInfo = { current: replicas, min: p.minReplicas, max: p.maxReplicas, atMax };
    if (atMax && (over.length > 0 || upBreach)) {
      const why = over.length > 0 ? over.map((o) => o.text).join('; ') : 'a scale-up rule is breached';
      findings.push({
        status: 'IMMEDIATE',
        kind: 'max-replicas',
        name: 'maxReplicas',
        text: `at maxReplicas ${p.maxReplicas} while ${why}: the autoscaler cannot add replicas`,
      });
    } else if (atMax) {
      findings.push({ status: 'OK', kind: 'max-replicas', name: 'maxReplicas', text: `at maxReplicas ${p.maxReplicas}, within targets` });
    }
  }
  for (const o of over) {
    if (replicaInfo?.atMax) continue;
    findings.push({ status: 'OK', kind: 'target', name: o.metric, text: `${o.text}: the autoscaler should be adding replicas` });
  }

  // Connections: the seeds keep 30% of max_connections free; less is SOON, an exhausted pool IMMEDIATE.
  const connections = connectionUse(p, sig, fresh);
  if (connections) {
    const of = connections.max ? ` of max_connections ${connections.max}` : '';
    const headroom = connections.usedPercent >= 100 ? 'no headroom' : `${pct(connections.headroomPercent)} headroom`;
    const base = `database connections ${num(Math.round(connections.used))}${of} (${pct(connections.usedPercent)} used, ${headroom})`;
    if (!(connections.usedPercent >= 0)) {
      // no pool reports fewer than no connections: the metric is not what it is taken for, and says nothing
      findings.push({ status: 'UNKNOWN', kind: 'connections', name: 'connections', text: `database connections read ${num(connections.used)}${of}, below 0: no pool reports that; check the metric's query and unit` });
    } else if (connections.usedPercent >= 100) {
      findings.push({ status: 'IMMEDIATE', kind: 'connections', name: 'connections', text: `${base}: the pool is exhausted` });
    } else if (!connections.ok) {
      findings.push({ status: 'SOON', kind: 'connections', name: 'connections', text: `${base}: below the ${pct(connections.keepHeadroomPercent)} headroom kept` });
    }
  }

  // Projections: a metric trending to a critical rule threshold or to max_connections within the horizon is SOON.
  const already = new Set(findings.filter((f) => f.kind === 'rule' && statusRank(f.status) >= statusRank('SOON')).map((f) => f.name));
  for (const r of p.rules) {
    if (r.severity !== 'critical' || already.has(r.name) || !isFresh(r.condition.metric)) continue;
    if (ruleDirection(r, replicas) !== 'up') continue;
    const rising = r.condition.op === '>' || r.condition.op === '>=';
    const at = projectCrossing(input.series[r.condition.metric] ?? [], r.condition.threshold, rising, now, horizonMs);
    if (at !== undefined && at - now <= horizonMs) {
      findings.push({
        status: 'SOON',
        kind: 'projection',
        name: r.name,
        text: `${r.condition.metric} is trending to ${num(r.condition.threshold)} (critical rule ${r.name}) in about ${about(at - now)}`,
      });
    }
  }
  const connName = sig.connections.find((n) => isFresh(n));
  if (connName && connections?.max && connections.usedPercent < 100) {
    const at = projectCrossing(input.series[connName] ?? [], connections.max, true, now, horizonMs);
    if (at !== undefined && at - now <= horizonMs) {
      findings.push({
        status: 'SOON',
        kind: 'projection',
        name: 'maxConnections',
        text: `${connName} is trending to max_connections ${connections.max} in about ${about(at - now)}`,
      });
    }
  }

  // Recommended action: the classifier, with the service's own scale-up lines as its thresholds.
  const value = (names: readonly string[]) => firstMetric(names, fresh)?.value;
  const lat = sig.latency.find((l) => isFresh(l.name));
  const latencyS = lat ? fresh[lat.name]!.value! * lat.toSeconds : undefined;
  const latencyRuleS = lat ? upThreshold(p, [lat.name], replicas) : undefined;
  const latencyTargetS = p.slo?.p95 !== undefined ? p.slo.p95 / 1000 : latencyRuleS !== undefined ? latencyRuleS * lat!.toSeconds : undefined;
  const cpu = value(sig.cpu);
  const memory = value(sig.memory);
  const queue = value(sig.queue);
  const cacheHit = value(sig.cacheHitRatio);
  const ioWait = value(sig.ioWait);
  const signals: ServiceSignals = {
    service: p.name,
    ...(cpu !== undefined ? { cpuUtilization: cpu } : {}),
    ...(memory !== undefined ? { memoryUtilization: memory } : {}),
    ...(latencyS !== undefined && latencyTargetS !== undefined ? { p95LatencyMs: latencyS * 1000, latencyTargetMs: latencyTargetS * 1000 } : {}),
    ...(queue !== undefined ? { queueDepth: queue } : {}),
    ...(connections ? { dbConnectionUtilization: connections.usedPercent } : {}),
    ...(cacheHit !== undefined ? { cacheHitRatio: cacheHit } : {}),
    ...(ioWait !== undefined ? { ioWaitPercent: ioWait } : {}),
    ...(replicaInfo ? { atMaxReplicas: replicaInfo.atMax } : {}),
  };
  const thresholds: Partial<ClassifyThresholds> = {};
  const cpuT = upThreshold(p, sig.cpu, replicas);
  const memT = upThreshold(p, sig.memory, replicas);
  const qT = upThreshold(p, sig.queue, replicas);
  if (cpuT !== undefined) thresholds.cpuHigh = cpuT;
  if (memT !== undefined) thresholds.memoryHigh = memT;
  if (qT !== undefined) thresholds.queueDepthHigh = qT;
  if (connections) thresholds.dbConnectionsHigh = 100 - connections.keepHeadroomPercent;
  const classification = classifyBottleneck(signals, thresholds);

  const status = worstStatus(findings.map((f) => f.status));
  const decisive = findings.filter((f) => f.status === status && status !== 'OK');
  let strategies: Strategy[] = status === 'OK' || status === 'UNKNOWN' ? [] : [...classification.advice];
  // A breach the classifier cannot attribute (no cpu/memory signal) still has the runbooks' answer: replicas, or
  // once at maxReplicas, bigger replicas.
  if (strategies.length === 0 && (status === 'SOON' || status === 'IMMEDIATE')) {
    if (decisive.some((f) => f.kind === 'connections')) strategies = ['db-pool-or-read-replica'];
    else if (replicaInfo?.atMax) strategies = ['vertical'];
    else strategies = ['horizontal'];
  }
  const reason =
    status === 'OK'
      ? `within thresholds${classification.bottleneck === 'healthy' ? ` (${classification.reason.replace(/^healthy: /, '')})` : ''}`
      : decisive.map((f) => f.text).join('; ');
  const actionText =
    strategies.length > 0
      ? strategies.map((s) => STRATEGY_TEXT[s]).join(', then ') + (classification.bottleneck !== 'healthy' && classification.bottleneck !== 'unknown' ? ` — ${classification.bottleneck}` : '')
      : status === 'UNKNOWN'
        ? 'fix the reads that failed, then check again'
        : 'none';
  return {
    service: p.name,
    status,
    reason,
    action: { strategies, text: actionText },
    findings,
    metrics,
    ...(replicaInfo ? { replicas: replicaInfo } : {}),
    ...(connections ? { connections } : {}),
    classification,
  };
}

