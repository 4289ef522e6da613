// The adapter between an Observation and the HPA engine: builds the engine's pod table and per-metric observations
// from what scalepilot observed, and turns the engine's per-metric results into decision proposals.
import type { ServicePolicy } from './policy.js';
import type { HpaCondition, HpaInput, MetricObservation, MetricSpec, PodTable } from './hpa/types.js';
import { DEFAULT_HPA_OPTIONS, PHASE_FAILED, PHASE_PENDING, PHASE_RUNNING, PHASE_SUCCEEDED, PHASE_UNKNOWN } from './hpa/types.js';
import { computeMetricProposals } from './hpa/metrics.js';
import type { HpaBehavior, HpaOptions } from './hpa/types.js';
import { parseBehavior, parseMetricSpecs } from './hpa/parse.js';
import { DEFAULT_KUBERNETES_MINOR, kubernetesMinor } from './hpa/version.js';
import { formatMilli } from './quantity.js';
import type { Observation, Proposal } from './types.js';

export interface CompiledHpa {
  specs: MetricSpec[];
}

/** Parses the config's autoscaling/v2 MetricSpec list once per policy (throws naming the path). */
export function compileHpaMetrics(raw: unknown[], path: string): CompiledHpa {
  return { specs: parseMetricSpecs(raw, path) };
}

// a switch on the phase string: a keyed lookup per pod per step was the pod table's largest cost in a replay
function phaseCode(phase: string): number {
  switch (phase) {
    case 'Running': return PHASE_RUNNING;
    case 'Pending': return PHASE_PENDING;
    case 'Succeeded': return PHASE_SUCCEEDED;
    case 'Failed': return PHASE_FAILED;
    default: return PHASE_UNKNOWN;
  }
}

// The engine reads the table synchronously and keeps nothing of it, so one scratch table (grown as needed) serves
// every call; a simulator calls this millions of times.
let scratch: PodTable = emptyTable(0);
function emptyTable(n: number): PodTable {
  return {
    count: 0,
    names: new Array<string>(n),
    phase: new Uint8Array(n),
    ready: new Int8Array(n),
    startTime: new Float64Array(n),
    readyTransitionTime: new Float64Array(n),
    deleted: new Uint8Array(n),
    metricTime: new Float64Array(n).fill(Number.NaN),
  };
}

function podTable(o: Observation): PodTable {
  const n = o.pods.length;
  if (scratch.phase.length < n) scratch = emptyTable(Math.max(n, scratch.phase.length * 2, 16));
  const t = scratch;
  t.count = n;
  for (let i = 0; i < n; i++) {
    const p = o.pods[i]!;
    t.names[i] = p.name;
    t.phase[i] = phaseCode(p.phase);
    t.ready[i] = p.ready ? 1 : 0;
    t.startTime[i] = p.startTime ?? Number.NaN;
    t.readyTransitionTime[i] = p.readyTransitionTime ?? Number.NEGATIVE_INFINITY;
    t.deleted[i] = p.deleted ? 1 : 0;
  }
  return t;
}

// Per-metric scratch arrays, reused like the pod table (the engine reads `pods.count` entries of them).
const scratchValues: Float64Array[] = [];
const scratchRequests: Float64Array[] = [];
function scratchArray(pool: Float64Array[], i: number, n: number): Float64Array {
  let a = pool[i];
  if (!a || a.length < n) pool[i] = a = new Float64Array(Math.max(n, (a?.length ?? 0) * 2, 16));
  return a;
}

function observe(spec: MetricSpec, index: number, o: Observation): MetricObservation {
  const failure = o.failures[spec.name];
  const base: MetricObservation = { values: null, requests: null, requestError: null, fetchError: failure ?? null, objectValue: null, externalValues: null };
  if (failure !== undefined) return base;
  const pods = o.pods;
  const n = pods.length;
  switch (spec.type) {
    case 'Resource':
    case 'ContainerResource': {
      const res = spec.name as 'cpu' | 'memory';
      const values = scratchArray(scratchValues, index, n);
      const requests = scratchArray(scratchRequests, index, n);
      let missing: string | null = null;
      let any = false;
      for (let i = 0; i < n; i++) {
        const p = pods[i]!;
        let usage = p.usage?.[res];
        let req = p.requests?.[res];
        if (spec.type === 'ContainerResource') {
          const c = p.containers?.find((x) => x.name === spec.container);
          usage = c?.usage?.[res];
          req = c?.requests?.[res];
        }
        values[i] = usage ?? Number.NaN;
        requests[i] = req ?? Number.NaN;
        if (usage !== undefined) any = true;
        if (req === undefined && missing === null) missing = `missing request for ${res} in pod ${p.name}`;
      }
      if (!any && n > 0) base.fetchError = `no ${res} usage reported for any replica`;
      base.values = values;
      base.requests = requests;
      base.requestError = missing;
      return base;
    }
    case 'Pods': {
      const values = scratchArray(scratchValues, index, n);
      for (let i = 0; i < n; i++) values[i] = pods[i]!.metrics?.[spec.name] ?? Number.NaN;
      base.values = values;
      return base;
    }
    case 'Object': {
      const v = o.values[spec.name];
      if (v === undefined) base.fetchError = `no value for metric ${spec.name}`;
      else base.objectValue = Math.round(v * 1000);
      return base;
    }
    case 'External': {
      const v = o.values[spec.name];
      if (v === undefined) base.fetchError = `no value for metric ${spec.name}`;
      else base.externalValues = Float64Array.of(Math.round(v * 1000));
      return base;
    }
  }
}

function notDeleted(o: Observation): number {
  let n = 0;
  for (let i = 0; i < o.pods.length; i++) if (!o.pods[i]!.deleted) n++;
  return n;
}

export interface HpaProposals {
  proposals: Proposal[];
  invalidCount: number;
  error: string | null;
  condition: HpaCondition;
}

/** Runs the HPA's per-metric calculation (computeReplicasForMetrics) on what scalepilot observed. */
/** `explain` false leaves proposal details empty (bulk replay); the numbers are the same. */
export function hpaMetricProposals(c: CompiledHpa, p: ServicePolicy, o: Observation, now: number, explain = true): HpaProposals {
  const input: HpaInput = {
    minReplicas: p.minReplicas,
    maxReplicas: p.maxReplicas,
    metrics: c.specs,
    behavior: null,
    currentReplicas: o.currentReplicas,
    statusReplicas: notDeleted(o) || o.currentReplicas,
    now,
    namespace: 'default',
    pods: podTable(o),
    observations: c.specs.map((s, i) => observe(s, i, o)),
    history: { recommendations: null, scaleUpEvents: [], scaleDownEvents: [] },
    options: hpaOptionsFor(p),
    kubernetesMinor: hpaMinorFor(p),
  };
  // per-direction tolerances live in behavior; the engine reads them from there
  if (p.hpa?.behavior) input.behavior = hpaBehaviorFor(p);
  const r = computeMetricProposals(input);
  const proposals: Proposal[] = r.proposals.map((m, i) => {
    const spec = c.specs[i]!;
    let detail = '';
    if (!explain) {
      // nobody reads it
    } else if (m.error !== null) detail = `${m.description}: ${m.error}`;
    else if (m.utilization !== null) {
      const target = spec.target.averageUtilization;
      detail = `${spec.name} utilization ${m.utilization}% of request vs target ${target}% → ${m.replicas} replicas`;
    } else {
      const v = m.valueMilli === null ? '?' : formatMilli(m.valueMilli);
      const t = spec.target.valueMilli ?? spec.target.averageValueMilli;
      detail = `${m.description} ${v} vs target ${t === null ? '?' : formatMilli(t)}${spec.target.type === 'AverageValue' ? ' per replica' : ''} → ${m.replicas} replicas`;
    }
    return { source: 'hpa', name: spec.name, replicas: m.error === null ? m.replicas : null, detail };
  });
  return { proposals, invalidCount: r.invalidCount, error: r.error, condition: r.condition };
}

const optionsCache = new WeakMap<ServicePolicy, HpaOptions>();
/**
 * The controller flags for this service. metrics-server reports CPU over a 15 s window; scalepilot's own samplers
 * (process, docker, trace) measure over the sync period, so a replica's first sample after it turns ready is judged
 * against that window rather than a fixed 15 s.
 */
export function hpaOptionsFor(p: ServicePolicy): HpaOptions {
  let o = optionsCache.get(p);
  if (!o) {
    const windowSeconds = p.target.provider === 'kubernetes' ? DEFAULT_HPA_OPTIONS.metricWindowSeconds : Math.min(DEFAULT_HPA_OPTIONS.metricWindowSeconds, p.syncPeriodMs / 1000);
    o = { ...DEFAULT_HPA_OPTIONS, metricWindowSeconds: windowSeconds, ...(p.hpa?.tolerance !== undefined ? { tolerance: p.hpa.tolerance } : {}) };
    optionsCache.set(p, o);
  }
  return o;
}

const minorCache = new WeakMap<ServicePolicy, number>();
/** The Kubernetes minor the config's hpa.kubernetesVersion names (validated with the config), or the default. */
export function hpaMinorFor(p: ServicePolicy): number {
  let m = minorCache.get(p);
  if (m === undefined) {
    const v = p.hpa?.kubernetesVersion;
    m = (v === undefined ? null : kubernetesMinor(v)) ?? DEFAULT_KUBERNETES_MINOR;
    minorCache.set(p, m);
  }
  return m;
}

const behaviorCache = new WeakMap<ServicePolicy, HpaBehavior | null>();
/** The policy's hpa.behavior, parsed and completed with the API server's defaults (the policy must have one). */
export function hpaBehaviorFor(p: ServicePolicy): HpaBehavior | null {
  let b = behaviorCache.get(p);
  if (b === undefined) {
    b = parseBehavior(p.hpa!.behavior, `services.${p.name}.hpa.behavior`);
    behaviorCache.set(p, b);
  }
  return b;
}
