// The replica calculator (Kubernetes' replica_calculator.go and metrics/utilization.go): per-metric replica
// proposals from pod samples, with missing, unready, failed and deleted pods treated exactly as Kubernetes does.
// Totals are integers in milli-units; they stay doubles while exact and switch to BigInt beyond 2^53.
import { isWithinTolerance, type Tolerances } from './behavior.js';
import {
  PHASE_FAILED,
  PHASE_PENDING,
  PHASE_RUNNING,
  PHASE_SUCCEEDED,
  type MetricObservation,
  type PodTable,
} from './types.js';

const MAX_INT32 = 2147483647;
const MAX_INT64 = (1n << 63n) - 1n;
const SAFE = Number.MAX_SAFE_INTEGER;
const SAFE_FOR_PERCENT = Math.floor(SAFE / 100);

/** int32(math.Ceil(x)), saturating at MaxInt32 as the newer Kubernetes code does. */
export function ceilReplicas(x: number): number {
  const c = Math.ceil(x);
  return c > MAX_INT32 ? MAX_INT32 : c;
}

/** Go's integer division (truncates toward zero), exact for doubles up to 2^53. */
export function truncDiv(a: number, b: number): number {
  const r = a % b;
  return (a - r) / b;
}

/**
 * getUsageRatioReplicaCount: Object/External value targets. From zero replicas the ratio alone decides (scale
 * to zero or n); otherwise the ratio scales the ready pod count unless it is within tolerance.
 */
export function usageRatioReplicas(currentReplicas: number, usageRatio: number, readyPodCount: number, tolerances: Tolerances): number {
  if (currentReplicas === 0) return ceilReplicas(usageRatio);
  if (isWithinTolerance(usageRatio, tolerances)) return currentReplicas;
  const x = usageRatio * readyPodCount;
  return x > MAX_INT32 ? MAX_INT32 : Math.ceil(x);
}

/**
 * GetObjectPerPodMetricReplicas / GetExternalPerPodMetricReplicas: AverageValue targets on a total. The count is
 * ceil(total / target) unless the per-pod ratio is within tolerance of the status replica count.
 */
export function perPodTargetReplicas(statusReplicas: number, totalMilli: number, targetPerPodMilli: number, tolerances: Tolerances): number {
  const usageRatio = totalMilli / (targetPerPodMilli * statusReplicas);
  if (isWithinTolerance(usageRatio, tolerances)) return statusReplicas;
  const x = Math.ceil(totalMilli / targetPerPodMilli);
  return x > MAX_INT32 ? MAX_INT32 : x;
}

/** Pods that are Running with Ready=True (getReadyPodsCount). */
export function readyPodCount(pods: PodTable): number {
  let n = 0;
  for (let i = 0; i < pods.count; i++) if (pods.phase[i] === PHASE_RUNNING && pods.ready[i] === 1) n++;
  return n;
}

/** Timing flags groupPods needs (milliseconds). */
export interface PodTiming {
  now: number;
  cpuInitializationPeriodMs: number;
  delayOfInitialReadinessStatusMs: number;
  metricWindowMs: number;
  /** Succeeded pods are ignored like Failed ones (master); otherwise they count, usually as missing. */
  ignoreSucceeded?: boolean;
}

/**
 * groupPods' CPU rule: a sample is set aside while the pod has no Ready condition or start time, while it is
 * within the CPU initialization period and unready or ready for less than one metric window, and afterwards
 * only if it is unready and never became ready after the initial readiness delay.
 */
export function cpuSampleUnready(pods: PodTable, i: number, t: PodTiming): boolean {
  const ready = pods.ready[i]!;
  const start = pods.startTime[i]!;
  if (ready < 0 || start !== start) return true;
  const transition = pods.readyTransitionTime[i]!;
  if (start + t.cpuInitializationPeriodMs > t.now) {
    const mt = pods.metricTime[i]!;
    const sampled = mt !== mt ? t.now : mt;
    return ready === 0 || sampled < transition + t.metricWindowMs;
  }
  return ready === 0 && start + t.delayOfInitialReadinessStatusMs > transition;
}

const READY = 0;
const UNREADY = 1;
const MISSING = 2;
const IGNORED = 3;
let states = new Uint8Array(256);

/** Classifies every pod for one metric into the scratch `states`; returns the counts. */
function groupPods(pods: PodTable, values: Float64Array, cpu: boolean, t: PodTiming, counts: Counts): void {
  const n = pods.count;
  if (states.length < n) states = new Uint8Array(n * 2);
  let ready = 0;
  let unready = 0;
  let missing = 0;
  for (let i = 0; i < n; i++) {
    let s: number;
    const phase = pods.phase[i];
    if (pods.deleted[i] === 1 || phase === PHASE_FAILED || (phase === PHASE_SUCCEEDED && t.ignoreSucceeded === true)) s = IGNORED;
    else if (phase === PHASE_PENDING) s = UNREADY;
    else if (values[i] !== values[i]) s = MISSING;
    else if (cpu && cpuSampleUnready(pods, i, t)) s = UNREADY;
    else s = READY;
    states[i] = s;
    if (s === READY) ready++;
    else if (s === UNREADY) unready++;
    else if (s === MISSING) missing++;
  }
  counts.ready = ready;
  counts.unready = unready;
  counts.missing = missing;
}

interface Counts {
  ready: number;
  unready: number;
  missing: number;
}

/** Sums `column` over pods in `state` (and, when `alsoState` ≥ 0, that state too): double while exact, else BigInt. */
function sumBy(column: Float64Array, n: number, state: number): number | bigint {
  let total = 0;
  for (let i = 0; i < n; i++) if (states[i] === state) total += column[i]!;
  if (total <= SAFE && total >= -SAFE) return total;
  let big = 0n;
  for (let i = 0; i < n; i++) if (states[i] === state) big += BigInt(column[i]!);
  return big;
}

/** Σ over pods in `state` of trunc(request × percent / 100): missing pods' stand-in usage on a scale-down. */
function sumScaledRequests(requests: Float64Array, n: number, state: number, percent: number): number | bigint {
  let total = 0;
  let exact = true;
  for (let i = 0; i < n; i++) {
    if (states[i] !== state) continue;
    const r = requests[i]!;
    const p = r * percent;
    if (p > SAFE || p < -SAFE) { exact = false; break; }
    total += truncDiv(p, 100);
  }
  if (exact && total <= SAFE && total >= -SAFE) return total;
  let big = 0n;
  const pct = BigInt(percent);
  for (let i = 0; i < n; i++) if (states[i] === state) big += (BigInt(requests[i]!) * pct) / 100n;
  return big;
}

function add(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b;
    if (s <= SAFE && s >= -SAFE) return s;
  }
  return BigInt(a) + BigInt(b);
}

/** int32((metricsTotal × 100) / requestsTotal), exact. */
function utilizationPercent(metricsTotal: number | bigint, requestsTotal: number | bigint): number {
  if (typeof metricsTotal === 'number' && typeof requestsTotal === 'number' && Math.abs(metricsTotal) <= SAFE_FOR_PERCENT) {
    return truncDiv(metricsTotal * 100, requestsTotal);
  }
  return Number((BigInt(metricsTotal) * 100n) / BigInt(requestsTotal));
}

function average(total: number | bigint, count: number): number {
  if (typeof total === 'number') return truncDiv(total, count);
  return Number(total / BigInt(count));
}

/** A per-metric answer: replicas, or the error message Kubernetes would produce. */
export interface CalcResult {
  replicas: number;
  utilization: number | null;
  valueMilli: number | bigint | null;
  error: string | null;
}

function fail(out: CalcResult, error: string): CalcResult {
  out.replicas = 0;
  out.utilization = null;
  out.valueMilli = null;
  out.error = error;
  return out;
}

const NO_METRICS_FOR_PODS = 'did not receive metrics for targeted pods (pods might be unready)';
const NO_PODS = 'no pods returned by selector while calculating replica count';

const counts: Counts = { ready: 0, unready: 0, missing: 0 };

/**
 * GetResourceReplicas: a Utilization target on a resource (or one container's resource). The usage ratio is
 * total usage over total requests of the ready pods; missing and unready pods are rebalanced before scaling.
 */
export function resourceUtilizationReplicas(
  pods: PodTable,
  obs: MetricObservation,
  resource: string,
  currentReplicas: number,
  targetUtilization: number,
  tolerances: Tolerances,
  timing: PodTiming,
  out: CalcResult,
): CalcResult {
  if (obs.fetchError !== null) return fail(out, `unable to get metrics for resource ${resource}: ${obs.fetchError}`);
  const n = pods.count;
  if (n === 0) return fail(out, NO_PODS);
  const values = obs.values!;
  groupPods(pods, values, resource === 'cpu', timing, counts);
  const { ready, unready, missing } = counts;
  if (ready === 0) return fail(out, NO_METRICS_FOR_PODS);
  if (obs.requestError !== null) return fail(out, obs.requestError);
  const requests = obs.requests!;

  const metricsTotal = sumBy(values, n, READY);
  const requestsTotal = sumBy(requests, n, READY);
  if (requestsTotal === 0 || requestsTotal === 0n) return fail(out, 'no metrics returned matched known pods');
  const utilization = utilizationPercent(metricsTotal, requestsTotal);
  const rawAverage = average(metricsTotal, ready);
  const usageRatio = utilization / targetUtilization;
  out.utilization = utilization;
  out.valueMilli = rawAverage;
  out.error = null;

  const scaleUpWithUnready = unready > 0 && usageRatio > 1.0;
  if (!scaleUpWithUnready && missing === 0) {
    if (isWithinTolerance(usageRatio, tolerances)) out.replicas = currentReplicas;
    else out.replicas = ceilReplicas(usageRatio * ready);
    return out;
  }

  let newMetrics = metricsTotal;
  let newRequests = requestsTotal;
  let counted = ready;
  if (missing > 0) {
    if (usageRatio < 1.0) {
      // on a scale-down, missing pods count as using 100% of their request, or the target when it is above 100%
      const fallback = targetUtilization > 100 ? targetUtilization : 100;
      newMetrics = add(newMetrics, sumScaledRequests(requests, n, MISSING, fallback));
      newRequests = add(newRequests, sumBy(requests, n, MISSING));
      counted += missing;
    } else if (usageRatio > 1.0) {
      // on a scale-up, missing pods count as using nothing
      newRequests = add(newRequests, sumBy(requests, n, MISSING));
      counted += missing;
    }
  }
  if (scaleUpWithUnready) {
    newRequests = add(newRequests, sumBy(requests, n, UNREADY));
    counted += unready;
  }
  const newUsageRatio = utilizationPercent(newMetrics, newRequests) / targetUtilization;
  if (
    isWithinTolerance(newUsageRatio, tolerances) ||
    (usageRatio < 1.0 && newUsageRatio > 1.0) ||
    (usageRatio > 1.0 && newUsageRatio < 1.0)
  ) {
    out.replicas = currentReplicas;
    return out;
  }
  const newReplicas = ceilReplicas(newUsageRatio * counted);
  // the extra pods must not flip the direction of the change
  if ((newUsageRatio < 1.0 && newReplicas > currentReplicas) || (newUsageRatio > 1.0 && newReplicas < currentReplicas)) {
    out.replicas = currentReplicas;
    return out;
  }
  out.replicas = newReplicas;
  return out;
}

/**
 * calcPlainMetricReplicas: an AverageValue target over per-pod samples (Pods metrics, and Resource metrics with
 * an AverageValue target, for which CPU readiness rules apply). Missing pods count as the target on a
 * scale-down and as zero on a scale-up.
 */
export function plainMetricReplicas(
  pods: PodTable,
  values: Float64Array,
  cpu: boolean,
  currentReplicas: number,
  targetUsage: number,
  tolerances: Tolerances,
  timing: PodTiming,
  out: CalcResult,
): CalcResult {
  const n = pods.count;
  if (n === 0) return fail(out, NO_PODS);
  groupPods(pods, values, cpu, timing, counts);
  const { ready, unready, missing } = counts;
  if (ready === 0) return fail(out, NO_METRICS_FOR_PODS);

  const metricsTotal = sumBy(values, n, READY);
  const usage = average(metricsTotal, ready);
  const usageRatio = usage / targetUsage;
  out.utilization = null;
  out.valueMilli = usage;
  out.error = null;

  const scaleUpWithUnready = unready > 0 && usageRatio > 1.0;
  if (!scaleUpWithUnready && missing === 0) {
    if (isWithinTolerance(usageRatio, tolerances)) out.replicas = currentReplicas;
    else out.replicas = ceilReplicas(usageRatio * ready);
    return out;
  }

  let newTotal = metricsTotal;
  let counted = ready;
  if (missing > 0) {
    if (usageRatio < 1.0) {
      // on a scale-down, missing pods count as using exactly the target
      newTotal = add(newTotal, missing * targetUsage <= SAFE ? missing * targetUsage : BigInt(missing) * BigInt(targetUsage));
      counted += missing;
    } else if (usageRatio > 1.0) {
      counted += missing;
    }
  }
  if (scaleUpWithUnready) counted += unready;
  const newUsageRatio = average(newTotal, counted) / targetUsage;
  if (
    isWithinTolerance(newUsageRatio, tolerances) ||
    (usageRatio < 1.0 && newUsageRatio > 1.0) ||
    (usageRatio > 1.0 && newUsageRatio < 1.0)
  ) {
    out.replicas = currentReplicas;
    return out;
  }
  const newReplicas = ceilReplicas(newUsageRatio * counted);
  if ((newUsageRatio < 1.0 && newReplicas > currentReplicas) || (newUsageRatio > 1.0 && newReplicas < currentReplicas)) {
    out.replicas = currentReplicas;
    return out;
  }
  out.replicas = newReplicas;
  return out;
}

/** Sum of an external metric's series, saturating at MaxInt64 like Kubernetes. */
export function externalTotal(values: Float64Array): number | bigint {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i]!;
  if (total <= SAFE && total >= -SAFE) return total;
  let big = 0n;
  for (let i = 0; i < values.length; i++) {
    const v = BigInt(values[i]!);
    if (v > 0n && big > MAX_INT64 - v) return MAX_INT64;
    big += v;
  }
  return big;
}

/** GetObjectMetricReplicas / GetExternalMetricReplicas: a Value target compared with one total. */
export function valueTargetReplicas(
  pods: PodTable,
  currentReplicas: number,
  usage: number | bigint,
  targetUsage: number,
  tolerances: Tolerances,
  out: CalcResult,
): CalcResult {
  const usageRatio = Number(usage) / targetUsage;
  out.utilization = null;
  out.valueMilli = usage;
  out.error = null;
  if (currentReplicas !== 0 && !isWithinTolerance(usageRatio, tolerances) && pods.count === 0) {
    return fail(out, `unable to calculate ready pods: ${NO_PODS}`);
  }
  const ready = currentReplicas === 0 ? 0 : readyPodCount(pods);
  out.replicas = usageRatioReplicas(currentReplicas, usageRatio, ready, tolerances);
  return out;
}

/** GetObjectPerPodMetricReplicas / GetExternalPerPodMetricReplicas: an AverageValue target on a total. */
export function averageValueTargetReplicas(
  statusReplicas: number,
  usage: number | bigint,
  targetPerPod: number,
  tolerances: Tolerances,
  out: CalcResult,
): CalcResult {
  const total = Number(usage);
  out.replicas = perPodTargetReplicas(statusReplicas, total, targetPerPod, tolerances);
  out.utilization = null;
  out.error = null;
  if (statusReplicas === 0) out.valueMilli = usage;
  else if (typeof usage === 'bigint') {
    // ceil(usage / statusReplicas) on the exact total
    const s = BigInt(statusReplicas);
    out.valueMilli = usage >= MAX_INT64 ? MAX_INT64 : (usage + s - 1n) / s;
  } else out.valueMilli = Math.ceil(total / statusReplicas);
  return out;
}
