// Resolves what a simulation needs from the same config `scalepilot run` reads: capacity per replica, start-up
// and readiness delays, latency model, SLO, cost, and which modelled signal feeds each configured metric.
// Every assumption the simulator makes on the operator's behalf is returned as a note, so the output states it.
import type { ServicePolicy } from '../config/load.js';
import { parseQuantity } from '../core/quantity.js';
import { InputError } from '../errors.js';
import { SIGNALS, SIGNAL_HELP, type MetricBinding, type Signal, type SimSetup, type SloParams, type WorkloadParams } from './types.js';
import { neededReplicas } from './workload.js';

/** The runbooks' sizing rule when nothing better is known: one core serves about 500 rps. */
export const RPS_PER_CORE = 500;

export interface CapacityMeasurement {
  /** rps one replica sustains */
  rpsPerReplica: number;
  /** where it came from (file, date) */
  source: string;
}

export interface SetupOptions {
  /** capacity from `scalepilot loadtest --find-capacity --save`, already read */
  capacityFile?: CapacityMeasurement;
  /** --metric NAME=SIGNAL overrides */
  metricSignals?: Record<string, Signal>;
  initialReplicas?: number;
  /** first load value (rps) with data, to start with the replicas it needs */
  firstLoad?: number;
  /** the trace measures utilization: capacity may be nominal */
  utilizationTrace?: boolean;
  timeline?: boolean;
}

function cores(q: string | undefined, path: string): number | undefined {
  if (q === undefined) return undefined;
  try {
    return parseQuantity(q).milliValue() / 1000;
  } catch (e) {
    throw new InputError(`${path}: ${(e as Error).message}`);
  }
}

/** Which signal a configured metric most likely is, from its name and query; null when the model has none. */
export function guessSignal(name: string, m: ServicePolicy['metrics'][string], p: ServicePolicy, traceSources: ReadonlySet<string>): { signal: Signal | null; why: string } {
  const text = `${name} ${m.query}`.toLowerCase();
  if ((SIGNALS as readonly string[]).includes(name)) return { signal: name as Signal, why: `named ${name}` };
  if (p.queue?.metric === name) return { signal: 'queue', why: 'the queue metric' };
  if (/memory|mem_|heap|rss/.test(text)) return { signal: null, why: `${name} looks like memory, which the simulator does not model; decide() sees it as a failed read (map it with --metric ${name}=SIGNAL)` };
  if (/cpu/.test(text)) return { signal: 'cpu', why: 'name or query mentions cpu' };
  if (/latenc|p9[059]|duration|response_time/.test(text)) return { signal: 'p95', why: 'name or query mentions latency' };
  if (/queue|backlog|lag|depth|pending|messages/.test(text)) return { signal: 'queue', why: 'name or query mentions a queue' };
  if (/util/.test(text)) return { signal: 'utilization', why: 'name or query mentions utilization' };
  if (/ready/.test(text) && /replica|pod/.test(text)) return { signal: 'ready_replicas', why: 'name or query mentions ready replicas' };
  if (/rps|qps|request|rate\(|traffic|throughput|load|hits/.test(text)) return { signal: 'rps', why: 'name or query mentions requests' };
  if (traceSources.has(m.source)) return { signal: 'rps', why: `reads the trace source ${m.source}: the replayed load` };
  return { signal: null, why: `the simulator has no model for ${name} (${m.query}); decide() sees it as a failed read every step (map it with --metric ${name}=SIGNAL, SIGNAL one of ${SIGNALS.join(', ')})` };
}

/** Parses --metric NAME=SIGNAL flags. */
export function parseMetricSignals(flags: string[]): Record<string, Signal> {
  const out: Record<string, Signal> = {};
  for (const f of flags) {
    const m = /^([^=]+)=([a-z_0-9]+)$/.exec(f.trim());
    if (!m || !(SIGNALS as readonly string[]).includes(m[2]!)) {
      throw new InputError(`--metric ${f}: write NAME=SIGNAL with SIGNAL one of ${SIGNALS.map((s) => `${s} (${SIGNAL_HELP[s]})`).join('; ')}`);
    }
    out[m[1]!] = m[2] as Signal;
  }
  return out;
}

/** Metric names decide() reads for this policy (HPA metric names, rules, bands, queue, predictive). */
function metricsDecideReads(p: ServicePolicy): Set<string> {
  const used = new Set<string>();
  for (const m of p.hpa?.metrics ?? []) {
    const spec = m as Record<string, { name?: string; metric?: { name?: string } } | undefined>;
    for (const k of ['resource', 'containerResource']) if (spec[k]?.name) used.add(spec[k]!.name!);
    for (const k of ['pods', 'object', 'external']) if (spec[k]?.metric?.name) used.add(spec[k]!.metric!.name!);
  }
  for (const r of p.rules) used.add(r.condition.metric);
  for (const b of p.bands) used.add(b.metric);
  if (p.queue) used.add(p.queue.metric);
  if (p.predictive) used.add(p.predictive.metric);
  return used;
}

/** Replicas at the start of a replay: what the first load needs, within the policy's min and max. */
export function startReplicas(p: Pick<ServicePolicy, 'minReplicas' | 'maxReplicas'>, w: WorkloadParams, slo: SloParams, firstLoad: number | undefined): number {
  const need = firstLoad === undefined ? p.minReplicas : neededReplicas(firstLoad, w, slo);
  return Math.min(p.maxReplicas, Math.max(p.minReplicas, Number.isFinite(need) ? need : p.maxReplicas));
}

export interface ResolvedSetup {
  setup: SimSetup;
  notes: string[];
}

/** Builds the simulation setup of one service. Throws InputError when capacity cannot be known. */
export function resolveSetup(p: ServicePolicy, traceSources: ReadonlySet<string>, opts: SetupOptions = {}): ResolvedSetup {
  const notes: string[] = [];
  const base = `services.${p.name}`;
  const cap = p.capacity;
  const reqCores = cores(p.resources?.requests?.cpu, `${base}.resources.requests.cpu`);
  const limCores = cores(p.resources?.limits?.cpu, `${base}.resources.limits.cpu`);

  let capacityPerReplica: number;
  let capacitySource: string;
  if (cap?.rpsPerReplica !== undefined) {
    capacityPerReplica = cap.rpsPerReplica;
    capacitySource = `${base}.capacity.rpsPerReplica`;
  } else if (opts.capacityFile) {
    capacityPerReplica = opts.capacityFile.rpsPerReplica;
    capacitySource = opts.capacityFile.source;
  } else if (reqCores !== undefined && reqCores > 0) {
    capacityPerReplica = RPS_PER_CORE * reqCores;
    capacitySource = `runbook rule: ${RPS_PER_CORE} rps per core x cpu request ${p.resources!.requests!.cpu}`;
    notes.push(`capacity per replica is the runbooks' estimate (${RPS_PER_CORE} rps per core x ${p.resources!.requests!.cpu}); measure it with \`scalepilot loadtest --find-capacity --save\` and set capacity.file`);
  } else if (opts.utilizationTrace) {
    capacityPerReplica = 1;
    capacitySource = 'nominal (utilization trace: load is in replica-capacity units)';
  } else {
    throw new InputError(`${base}: the simulator needs the capacity of one replica: set ${base}.capacity.rpsPerReplica, ${base}.capacity.file (from \`scalepilot loadtest --find-capacity --save\`), or ${base}.resources.requests.cpu (${RPS_PER_CORE} rps per core)`);
  }

  let latency: WorkloadParams['latency'];
  if (cap?.latency) {
    const baseSeconds = cap.latency.base / 1000;
    const fullSeconds = cap.latency.p95AtFull !== undefined ? cap.latency.p95AtFull / 1000 : baseSeconds * 10;
    if (cap.latency.p95AtFull === undefined) notes.push(`capacity.latency.p95AtFull is not set: the p95 model is capped at 10 x base (${fullSeconds} s)`);
    if (!(baseSeconds > 0) || fullSeconds < baseSeconds) throw new InputError(`${base}.capacity.latency: base must be > 0 and p95AtFull >= base`);
    latency = { baseSeconds, fullSeconds };
  }
  const workload: WorkloadParams = {
    capacityPerReplica,
    capacitySource,
    startupDelayMs: cap?.startupDelay ?? 30_000,
    readinessDelayMs: cap?.readinessDelay ?? 0,
    cpuRequestCores: reqCores && reqCores > 0 ? reqCores : 1,
    cpuLimitRatio: reqCores && limCores ? limCores / reqCores : Number.POSITIVE_INFINITY,
    ...(latency ? { latency } : {}),
  };
  if (!cap) notes.push(`${base}.capacity is not set: replicas take 30s to start and are ready at once (the schema's defaults)`);

  const slo: SloParams = { maxUtilization: (p.slo?.maxUtilization ?? 100) / 100 };
  if (p.slo?.maxUtilization === undefined) notes.push('slo.maxUtilization is not set: a step violates the SLO when demand exceeds ready capacity (100 %)');
  if (p.slo?.p95 !== undefined) {
    if (latency) slo.p95Seconds = p.slo.p95 / 1000;
    else notes.push('slo.p95 is set but capacity.latency is not: p95 is not modelled, only capacity is scored');
  }

  const flags = opts.metricSignals ?? {};
  for (const name of Object.keys(flags)) {
    if (!p.metrics[name]) throw new InputError(`--metric ${name}=${flags[name]}: ${base} has no metric ${name}; it has ${Object.keys(p.metrics).join(', ') || 'none'}`);
  }
  const used = metricsDecideReads(p);
  if (reqCores === undefined && used.has('cpu')) notes.push(`${base}.resources.requests.cpu is not set: cpu usage is reported against 1 core, and an HPA cpu Utilization target cannot be computed (as in Kubernetes)`);
  const bindings: MetricBinding[] = Object.entries(p.metrics).map(([name, m]) => {
    const g = flags[name] !== undefined ? { signal: flags[name]!, why: '--metric flag' } : guessSignal(name, m, p, traceSources);
    if (g.signal === null && used.has(name)) notes.push(`metric ${name}: ${g.why}`);
    if (g.signal === 'p95' && !latency && used.has(name)) notes.push(`metric ${name} is modelled as p95 but capacity.latency is not set: it reads as failed every step`);
    return { metric: name, signal: g.signal, perPod: m.perPod ?? false, why: g.why };
  });

  const initialReplicas = opts.initialReplicas ?? startReplicas(p, workload, slo, opts.firstLoad);
  if (opts.initialReplicas !== undefined && (initialReplicas < 0 || !Number.isInteger(initialReplicas))) {
    throw new InputError(`--initial-replicas ${opts.initialReplicas}: must be a whole number >= 0`);
  }
  if (p.paused) notes.push(`${base}.paused is true: the simulation decides every step but never acts, as \`scalepilot run\` would`);

  return {
    setup: {
      workload,
      slo,
      ...(p.cost ? { costPerReplicaHour: p.cost.perReplicaHour } : {}),
      bindings,
      initialReplicas,
      timeline: opts.timeline ?? false,
    },
    notes,
  };
}
