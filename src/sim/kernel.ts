// The replay kernel: the common case of a replay (an HPA-only policy whose metrics the workload model derives from
// demand, identical simulated replicas) computed with numbers only. It gives the SimResult the general
// replay (engine.ts: Workload pods observed, decide() called) gives, step for step:
//  - replicas are a stack of creation groups (time, count): a ReplicaSet removes not-ready replicas first and then
//    the newest, and with one start-up and readiness delay for all, readiness follows creation order, so the ready,
//    running and CPU-ready replicas are prefixes of the stack, tracked by pointers as time passes;
//  - the HPA's replica calculation (core/hpa/calc.ts) on those counts: for Resource and Pods metrics every ready
//    replica reports the same sample, a replica starting up reports zero, a Pending one nothing; Object and External
//    metrics read the one aggregate value;
//  - decide()'s combination of the per-metric proposals and finalizeReplicas' stabilization windows (monotonic
//    deques over the remembered recommendations) and rate limits (scale events in ring buffers).
// kernelPlan() decides conservatively whether a policy is covered; simulateKernel() returns null at a step it leaves
// to the general replay (a first decision error with data whose words come from an HPA metric or a read failing at
// that step only, or totals beyond exact double arithmetic), and the caller then replays the service there.
import type { ServicePolicy } from '../config/load.js';
import { compileHpaMetrics, hpaBehaviorFor, hpaMinorFor, hpaOptionsFor } from '../core/decide-hpa.js';
import { metricTolerances } from '../core/hpa/metrics.js';
import { isWithinTolerance, limitLegacy, type Limited, type Tolerances } from '../core/hpa/behavior.js';
import { ceilReplicas, perPodTargetReplicas, truncDiv, usageRatioReplicas } from '../core/hpa/calc.js';
import { DEFAULT_HPA_OPTIONS, type HpaBehavior, type ScalingRules } from '../core/hpa/types.js';
import { parseQuantity } from '../core/quantity.js';
import { SplitTally, newTimeline, simResult, type Tally } from './result.js';
import type { SimulateOptions } from './engine.js';
import type { LoadSeries, SimResult, SimSetup, Timeline } from './types.js';
import { FLAG_NO_DATA, FLAG_OVER_CAPACITY, FLAG_SLOW } from './types.js';

const SAFE = Number.MAX_SAFE_INTEGER;
const SAFE_FOR_PERCENT = Math.floor(SAFE / 100);
const MAX_INT32 = 2147483647;
const MIN_INT32 = -2147483648;

// the demand-derived signals an HPA metric may be fed from
const SIG_RPS = 0;
const SIG_CPU = 1;
const SIG_UTILIZATION = 2;
const SIG_QUEUE = 3;
const SIG_P95 = 4;
const SIGNAL_CODES: Readonly<Record<string, number>> = { rps: SIG_RPS, cpu: SIG_CPU, utilization: SIG_UTILIZATION, queue: SIG_QUEUE, p95: SIG_P95 };

// how a metric is computed: a Resource Utilization target or an AverageValue target over per-replica samples
// (Resource, Pods), or an Object/External metric's one value against an AverageValue or a Value target
const KIND_UTILIZATION = 0;
const KIND_SAMPLE_AVERAGE = 1;
const KIND_TOTAL_AVERAGE = 2;
const KIND_TOTAL_VALUE = 3;

interface KernelMetric {
  kind: number;
  /** the HPA's CPU readiness rules apply (a Resource metric named cpu) */
  cpu: boolean;
  signal: number;
  /** averageUtilization (percent) or averageValue (milli-units) */
  target: number;
  /** request per replica in milli-units (utilization targets) */
  request: number;
}

/** What the kernel needs of a policy it covers, resolved once. */
export interface KernelPlan {
  metrics: KernelMetric[];
  anyCpu: boolean;
  tolerances: Tolerances;
  /** null: the HPA's legacy path (no spec.behavior) */
  behavior: HpaBehavior | null;
  cpuInitializationMs: number;
  metricWindowMs: number;
  downscaleWindowSeconds: number;
  minReplicas: number;
  /** decide()'s ceiling: maxReplicas, never below minReplicas */
  maxReplicas: number;
  acts: boolean;
  /** some configured metric fails to read every step (one the HPA does not use) */
  anyAlwaysFailing: boolean;
  /** the error decide() reports first when only those fail: "name: why" */
  firstFailure: string | null;
  // which of the other bindings fail to read when (Workload.readError)
  anyNeedsLoad: boolean;
  anyPerPod: boolean;
  anyPerPodWithoutLoad: boolean;
  anyAggregateNeedingReady: boolean;
}

function milli(q: string | undefined): number | undefined {
  return q === undefined ? undefined : parseQuantity(q).milliValue();
}

/**
 * The kernel's plan for this policy and setup, or null when the general replay must run it: anything but HPA
 * metrics on demand-derived signals (rps, cpu, utilization, queue, p95), read per replica by Resource and Pods
 * metrics and as one aggregate by Object and External ones (other configured metrics may fail to read every step:
 * decide() then reports them as errors, and so does the kernel). Rules, bands, queue scaling, schedules, predictive
 * scaling, ContainerResource metrics, HPA metrics the model cannot read and settings the kernel does not model all
 * go to the general replay.
 */
export function kernelPlan(p: ServicePolicy, setup: SimSetup): KernelPlan | null {
  if (p.rules.length || p.bands.length || p.queue || p.schedules.length || p.predictive) return null;
  if (!p.hpa || !p.hpa.metrics.length) return null;
  if (!Number.isInteger(setup.initialReplicas) || setup.initialReplicas < 0) return null;
  const w = setup.workload;
  if (!(w.startupDelayMs >= 0) || !(w.readinessDelayMs >= 0) || !(w.capacityPerReplica > 0)) return null;
  let anyNeedsLoad = false;
  let anyPerPod = false;
  let anyPerPodWithoutLoad = false;
  let anyAggregateNeedingReady = false;
  // metrics the model has no signal for, and p95 without a latency model, fail to read every step (Workload.readError)
  const alwaysFailing: Record<string, string> = {};
  let anyAlwaysFailing = false;
  for (const b of setup.bindings) {
    if (b.signal === null || (b.signal === 'p95' && !w.latency)) {
      alwaysFailing[b.metric] = b.signal === null ? b.why : 'no latency model: set capacity.latency to simulate p95';
      anyAlwaysFailing = true;
      continue;
    }
    const needsLoad = b.signal !== 'replicas' && b.signal !== 'ready_replicas';
    if (needsLoad) anyNeedsLoad = true;
    if (b.perPod) {
      anyPerPod = true;
      if (!needsLoad) anyPerPodWithoutLoad = true;
    } else if (b.signal === 'utilization' || b.signal === 'p95') anyAggregateNeedingReady = true;
  }
  try {
    const { specs } = compileHpaMetrics(p.hpa.metrics, `services.${p.name}.hpa.metrics`);
    const behavior = p.hpa.behavior ? hpaBehaviorFor(p) : null;
    const options = hpaOptionsFor(p);
    // the requests the workload model parses for every replica (an unreadable one is the general path's error)
    milli(p.resources?.requests?.cpu);
    milli(p.resources?.requests?.memory);
    const metrics: KernelMetric[] = [];
    for (const spec of specs) {
      const bind = setup.bindings.find((b) => b.metric === spec.name);
      if (!bind || bind.signal === null || !Object.hasOwn(SIGNAL_CODES, bind.signal) || Object.hasOwn(alwaysFailing, bind.metric)) return null;
      const signal = SIGNAL_CODES[bind.signal]!;
      const t = spec.target;
      let m: KernelMetric;
      if (spec.type === 'Resource' || spec.type === 'Pods') {
        // a Resource metric reads a replica's usage, a Pods metric its custom metrics: the workload files a
        // per-replica metric under usage exactly when it is named cpu or memory
        const resource = spec.name === 'cpu' || spec.name === 'memory';
        if (resource !== (spec.type === 'Resource') || !bind.perPod) return null;
        if (t.averageValueMilli !== null) {
          m = { kind: KIND_SAMPLE_AVERAGE, cpu: spec.type === 'Resource' && spec.name === 'cpu', signal, target: t.averageValueMilli, request: 0 };
        } else if (spec.type === 'Resource' && t.averageUtilization !== null) {
          const req = milli(p.resources?.requests?.[spec.name as 'cpu' | 'memory']);
          if (req === undefined || !(req > 0)) return null;
          m = { kind: KIND_UTILIZATION, cpu: spec.name === 'cpu', signal, target: t.averageUtilization, request: req };
        } else return null;
      } else if (spec.type === 'External' || spec.type === 'Object') {
        // one aggregate value (a per-replica binding's mean is a float sum the kernel does not redo)
        if (bind.perPod) return null;
        const value = spec.type === 'External' ? t.valueMilli : t.type === 'Value' ? t.valueMilli : null;
        const average = spec.type === 'External' ? t.averageValueMilli : t.type === 'AverageValue' ? t.averageValueMilli : null;
        if (average !== null) m = { kind: KIND_TOTAL_AVERAGE, cpu: false, signal, target: average, request: 0 };
        else if (value !== null) m = { kind: KIND_TOTAL_VALUE, cpu: false, signal, target: value, request: 0 };
        else return null;
      } else return null;
      if (!(m.target > 0)) return null;
      metrics.push(m);
    }
    // decide() lists failed reads in the order a for-in over them gives; the first is the error a replay reports
    let firstFailure: string | null = null;
    for (const name in alwaysFailing) {
      firstFailure = `${name}: ${alwaysFailing[name]}`;
      break;
    }
    return {
      metrics,
      anyCpu: metrics.some((m) => m.cpu),
      anyAlwaysFailing,
      firstFailure,
      tolerances: metricTolerances(behavior, options.tolerance, hpaMinorFor(p)),
      behavior,
      cpuInitializationMs: options.cpuInitializationPeriodSeconds * 1000,
      metricWindowMs: options.metricWindowSeconds * 1000,
      downscaleWindowSeconds: DEFAULT_HPA_OPTIONS.downscaleStabilizationSeconds,
      minReplicas: p.minReplicas,
      maxReplicas: Math.max(p.maxReplicas, p.minReplicas),
      acts: !p.paused,
      anyNeedsLoad,
      anyPerPod,
      anyPerPodWithoutLoad,
      anyAggregateNeedingReady,
    };
  } catch {
    // the general path reports the configuration error as decide() words it
    return null;
  }
}

/**
 * truncDiv(a, b) for whole a >= 0 and b > 0 without a floating-point remainder (a library call): the rounded
 * quotient is at most one above the true one, and the check is exact while a + b stays within 2^53.
 */
function quotient(a: number, b: number): number {
  // a zero dividend (-0 included) gives +0, as truncDiv does
  if (a === 0) return 0;
  if (!(a + b <= SAFE)) return truncDiv(a, b);
  const q = Math.floor(a / b);
  return q * b > a ? q - 1 : q;
}

/** Doubles a typed array's capacity, keeping a ring's entries in order from `head`. */
function grown<T extends Float64Array | Int32Array>(a: T, head: number, size: number, make: (n: number) => T): T {
  const b = make(a.length * 2);
  for (let i = 0; i < size; i++) b[i] = a[(head + i) & (a.length - 1)]!;
  return b;
}

/**
 * Remembered recommendations as a monotonic deque: the largest (or smallest) value among those newer than a moving
 * cutoff. Entries only ever expire from the front because cutoffs only move forward.
 */
export class WindowExtreme {
  private t = new Float64Array(64);
  private v = new Float64Array(64);
  private head = 0;
  size = 0;

  /** max: keeps the largest value (a scale-down window); otherwise the smallest (a scale-up window) */
  constructor(private readonly max: boolean, private readonly inclusive: boolean) {}

  /** Drops entries no query from now on counts: older than `cutoff` (inclusive windows) or not newer (otherwise). */
  expire(cutoff: number): void {
    const mask = this.t.length - 1;
    while (this.size > 0) {
      const t = this.t[this.head]!;
      if (this.inclusive ? t < cutoff : t <= cutoff) {
        this.head = (this.head + 1) & mask;
        this.size--;
      } else break;
    }
  }

  push(t: number, v: number, cutoff: number): void {
    this.expire(cutoff);
    let mask = this.t.length - 1;
    // entries the new one outlasts and matches or beats can never be the extreme again
    while (this.size > 0) {
      const last = this.v[(this.head + this.size - 1) & mask]!;
      if (this.max ? last <= v : last >= v) this.size--;
      else break;
    }
    if (this.size === this.t.length) {
      this.t = grown(this.t, this.head, this.size, (n) => new Float64Array(n));
      this.v = grown(this.v, this.head, this.size, (n) => new Float64Array(n));
      this.head = 0;
      mask = this.t.length - 1;
    }
    const i = (this.head + this.size) & mask;
    this.t[i] = t;
    this.v[i] = v;
    this.size++;
  }

  /** The extreme of `bound` and every entry in the window ending at `cutoff`. */
  extreme(cutoff: number, bound: number): number {
    this.expire(cutoff);
    if (this.size === 0) return bound;
    const front = this.v[this.head]!;
    return this.max ? (front > bound ? front : bound) : front < bound ? front : bound;
  }
}

/** Applied scale events of one direction, newest last, for the behavior's rate limits. */
export class EventLog {
  private t = new Float64Array(32);
  private c = new Float64Array(32);
  private head = 0;
  private size = 0;

  constructor(private readonly horizonMs: number) {}

  push(t: number, change: number): void {
    let mask = this.t.length - 1;
    // no rate-limit period reaches back further than the longest one
    const cutoff = t - this.horizonMs;
    while (this.size > 0 && this.t[this.head]! <= cutoff) {
      this.head = (this.head + 1) & mask;
      this.size--;
    }
    if (this.size === this.t.length) {
      this.t = grown(this.t, this.head, this.size, (n) => new Float64Array(n));
      this.c = grown(this.c, this.head, this.size, (n) => new Float64Array(n));
      this.head = 0;
      mask = this.t.length - 1;
    }
    const i = (this.head + this.size) & mask;
    this.t[i] = t;
    this.c[i] = change;
    this.size++;
  }

  /** replicasChangeInPeriod: the change of the events strictly newer than `cutoff`. */
  since(cutoff: number): number {
    const mask = this.t.length - 1;
    let sum = 0;
    for (let j = this.size - 1; j >= 0; j--) {
      const i = (this.head + j) & mask;
      if (!(this.t[i]! > cutoff)) break;
      sum += this.c[i]!;
    }
    return sum;
  }
}

/**
 * The replicas in creation order as groups created together (one scale-up), with how many of them are Running,
 * ready, and past the HPA's CPU initialization rules; each of those is a prefix of the groups.
 */
class Replicas {
  private created = new Float64Array(16);
  private runningAt = new Float64Array(16);
  private readyAt = new Float64Array(16);
  private count = new Float64Array(16);
  private groups = 0;
  private runningGroups = 0;
  private readyGroups = 0;
  private cpuGroups = 0;
  n = 0;
  running = 0;
  ready = 0;
  cpuReady = 0;

  constructor(private readonly startupMs: number, private readonly readinessMs: number, private readonly cpuInitializationMs: number, private readonly metricWindowMs: number, private readonly cpu: boolean) {}

  add(now: number, count: number): void {
    if (this.groups === this.created.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.created = grow(this.created);
      this.runningAt = grow(this.runningAt);
      this.readyAt = grow(this.readyAt);
      this.count = grow(this.count);
    }
    const g = this.groups++;
    // the same arithmetic as Workload.add
    const runningAt = now + this.startupMs;
    this.created[g] = now;
    this.runningAt[g] = runningAt;
    this.readyAt[g] = runningAt + this.readinessMs;
    this.count[g] = count;
    this.n += count;
  }

  /** Removes the newest `count` replicas (the not-ready ones are the newest). */
  remove(count: number): void {
    this.n -= count;
    while (count > 0) {
      const g = this.groups - 1;
      const c = this.count[g]!;
      const take = count < c ? count : c;
      count -= take;
      if (g < this.runningGroups) this.running -= take;
      if (g < this.readyGroups) this.ready -= take;
      if (g < this.cpuGroups) this.cpuReady -= take;
      if (take === c) {
        this.groups = g;
        if (this.runningGroups > g) this.runningGroups = g;
        if (this.readyGroups > g) this.readyGroups = g;
        if (this.cpuGroups > g) this.cpuGroups = g;
      } else this.count[g] = c - take;
    }
  }

  /** Workload.advance: Pending → Running → ready as time passes, and the HPA's CPU readiness (cpuSampleUnready). */
  advance(now: number): void {
    const groups = this.groups;
    while (this.runningGroups < groups && (now >= this.readyAt[this.runningGroups]! || now >= this.runningAt[this.runningGroups]!)) {
      this.running += this.count[this.runningGroups++]!;
    }
    while (this.readyGroups < groups && now >= this.readyAt[this.readyGroups]!) this.ready += this.count[this.readyGroups++]!;
    if (!this.cpu) return;
    // a ready replica's CPU sample is set aside while it is within the CPU initialization period and has been ready
    // for less than one metric window (its sample is taken now)
    while (this.cpuGroups < this.readyGroups) {
      const g = this.cpuGroups;
      if (this.created[g]! + this.cpuInitializationMs > now && now < this.readyAt[g]! + this.metricWindowMs) break;
      this.cpuReady += this.count[g]!;
      this.cpuGroups++;
    }
  }
}

/** One scaling direction's limit from its policies (calculateScaleUpLimitWithScalingRules / ...ScaleDown...). */
function rulesLimit(current: number, rules: ScalingRules, up: EventLog, down: EventLog, now: number, scaleUp: boolean): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const useMin = rules.selectPolicy === 'Min';
  let result = scaleUp === useMin ? MAX_INT32 : MIN_INT32;
  const policies = rules.policies;
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i]!;
    const cutoff = now - p.periodSeconds * 1000;
    const periodStart = current - up.since(cutoff) + down.since(cutoff);
    let proposed: number;
    if (scaleUp) {
      proposed = p.type === 'Pods' ? periodStart + p.value : Math.ceil(periodStart * (1 + p.value / 100));
      result = useMin ? (proposed < result ? proposed : result) : proposed > result ? proposed : result;
    } else {
      proposed = p.type === 'Pods' ? periodStart - p.value : Math.trunc(periodStart * (1 - p.value / 100));
      result = useMin ? (proposed > result ? proposed : result) : proposed < result ? proposed : result;
    }
  }
  return result;
}

/** convertDesiredReplicasWithBehaviorRate, on the event logs. */
function behaviorLimit(current: number, desired: number, min: number, max: number, b: HpaBehavior, up: EventLog, down: EventLog, now: number): number {
  if (desired > current) {
    let limit = rulesLimit(current, b.scaleUp, up, down, now, true);
    if (limit < current) limit = current;
    const maximumAllowed = max > limit ? limit : max;
    if (desired > maximumAllowed) return maximumAllowed;
  } else if (desired < current) {
    let limit = rulesLimit(current, b.scaleDown, up, down, now, false);
    if (limit > current) limit = current;
    const minimumAllowed = min < limit ? limit : min;
    if (desired < minimumAllowed) return minimumAllowed;
  }
  return desired;
}

/**
 * The highest utilization found (below 1) whose p95 as p95Of computes it is within the objective; p95Of is
 * monotonic in the utilization (1 - u and base / x both round monotonically), so every lower utilization meets it
 * too. -1 when there is no objective or none is found.
 */
function safeUtilization(base: number, full: number, objective: number, check: boolean): number {
  if (!check || !(base > 0) || !(objective > 0)) return -1;
  let u = 1 - base / objective;
  for (let i = 0; i < 64 && u > 0; i++) {
    if (u < 1 && Math.min(full, base / (1 - u)) <= objective) return u;
    u -= 1e-9 * (i + 1);
  }
  return -1;
}

/**
 * Everything the replay loop reads, resolved once per run into one object of one shape: the loop then never reads
 * the policy, setup or options objects, whose shapes differ between callers (and would make it recompile).
 */
class KernelRun {
  readonly start: number;
  readonly stepMs: number;
  readonly cap: number;
  readonly cpuLimitRatio: number;
  readonly cpuRequestCores: number;
  readonly hasLatency: boolean;
  readonly latencyBase: number;
  readonly latencyFull: number;
  readonly maxUtilization: number;
  readonly checkP95: boolean;
  readonly p95Objective: number;
  readonly scoreFrom: number;
  readonly stopAfter: number;
  readonly startupMs: number;
  readonly readinessMs: number;
  readonly initialReplicas: number;
  readonly metricCount: number;
  readonly mKind: Uint8Array;
  readonly mCpu: Uint8Array;
  readonly mSignal: Uint8Array;
  readonly mTarget: Float64Array;
  readonly mRequest: Float64Array;
  readonly tol: Tolerances;
  readonly behavior: HpaBehavior | null;
  readonly minR: number;
  readonly maxR: number;
  readonly scoreMax: number;
  readonly acts: boolean;
  readonly anyCpu: boolean;
  readonly cpuInitializationMs: number;
  readonly metricWindowMs: number;
  readonly legacyWindowMs: number;
  readonly upWindowMs: number;
  readonly downWindowMs: number;
  readonly longestPeriodMs: number;
  readonly anyNeedsLoad: boolean;
  readonly anyPerPod: boolean;
  readonly anyPerPodWithoutLoad: boolean;
  readonly anyAggregateNeedingReady: boolean;
  readonly anyAlwaysFailing: boolean;
  readonly firstFailure: string | null;
  readonly needsBacklog: boolean;
  /** a utilization whose modelled p95 meets the objective (so every lower one does): -1 when none is known */
  readonly p95SafeUtilization: number;

  constructor(plan: KernelPlan, policy: ServicePolicy, setup: SimSetup, load: LoadSeries, opts: SimulateOptions) {
    const wp = setup.workload;
    const latency = wp.latency;
    this.start = load.start;
    this.stepMs = load.stepMs;
    this.cap = wp.capacityPerReplica;
    this.cpuLimitRatio = wp.cpuLimitRatio;
    this.cpuRequestCores = wp.cpuRequestCores;
    this.hasLatency = latency !== undefined;
    this.latencyBase = latency?.baseSeconds ?? 0;
    this.latencyFull = latency?.fullSeconds ?? 0;
    this.maxUtilization = setup.slo.maxUtilization;
    this.checkP95 = setup.slo.p95Seconds !== undefined && latency !== undefined;
    this.p95Objective = setup.slo.p95Seconds ?? 0;
    this.scoreFrom = opts.scoreFrom ?? 0;
    this.stopAfter = opts.stopAfterViolationMinutes ?? Number.POSITIVE_INFINITY;
    this.startupMs = wp.startupDelayMs;
    this.readinessMs = wp.readinessDelayMs;
    this.initialReplicas = setup.initialReplicas;
    const metrics = plan.metrics;
    this.metricCount = metrics.length;
    this.mKind = Uint8Array.from(metrics, (m) => m.kind);
    this.mCpu = Uint8Array.from(metrics, (m) => (m.cpu ? 1 : 0));
    this.mSignal = Uint8Array.from(metrics, (m) => m.signal);
    this.mTarget = Float64Array.from(metrics, (m) => m.target);
    this.mRequest = Float64Array.from(metrics, (m) => m.request);
    const t = plan.tolerances;
    this.tol = { scaleDown: t.scaleDown, scaleUp: t.scaleUp, absolute: t.absolute === true };
    const behavior = plan.behavior;
    this.behavior = behavior;
    this.minR = plan.minReplicas;
    this.maxR = plan.maxReplicas;
    this.scoreMax = policy.maxReplicas;
    this.acts = plan.acts;
    this.anyCpu = plan.anyCpu;
    this.cpuInitializationMs = plan.cpuInitializationMs;
    this.metricWindowMs = plan.metricWindowMs;
    // stabilization: the legacy path keeps the highest recommendation of the downscale window (its cutoff included);
    // with behavior, the lowest of the scale-up window and the highest of the scale-down window (cutoffs excluded)
    this.legacyWindowMs = plan.downscaleWindowSeconds * 1000;
    this.upWindowMs = behavior ? (behavior.scaleUp.stabilizationWindowSeconds ?? 0) * 1000 : 0;
    this.downWindowMs = behavior ? (behavior.scaleDown.stabilizationWindowSeconds ?? plan.downscaleWindowSeconds) * 1000 : this.legacyWindowMs;
    let longest = 0;
    if (behavior) for (const p of [...behavior.scaleUp.policies, ...behavior.scaleDown.policies]) longest = Math.max(longest, p.periodSeconds * 1000);
    this.longestPeriodMs = longest;
    this.anyNeedsLoad = plan.anyNeedsLoad;
    this.anyPerPod = plan.anyPerPod;
    this.anyPerPodWithoutLoad = plan.anyPerPodWithoutLoad;
    this.anyAggregateNeedingReady = plan.anyAggregateNeedingReady;
    this.anyAlwaysFailing = plan.anyAlwaysFailing;
    this.firstFailure = plan.firstFailure;
    this.needsBacklog = plan.metrics.some((m) => m.signal === SIG_QUEUE);
    this.p95SafeUtilization = safeUtilization(this.latencyBase, this.latencyFull, this.p95Objective, this.checkP95);
  }
}

/**
 * Replays `load` through a policy kernelPlan() covers; the same SimResult as the general replay, or null when a step
 * needs the general path (the caller then replays the whole service there).
 */
export function simulateKernel(plan: KernelPlan, policy: ServicePolicy, setup: SimSetup, load: LoadSeries, opts: SimulateOptions = {}): SimResult | null {
  // the windows and event logs rely on time moving forward
  if (!(load.stepMs > 0) || !Number.isFinite(load.start)) return null;
  const n = load.values.length;
  const tl = setup.timeline ? newTimeline(n) : undefined;
  const scoreFrom = opts.scoreFrom ?? 0;
  const run = new KernelRun(plan, policy, setup, load, opts);
  const split = opts.splitAt !== undefined ? new SplitTally(opts.splitAt, setup, run.cap) : undefined;
  const t = replay(run, load.values, tl, split);
  if (t === null) return null;
  return simResult({ service: policy.name, label: opts.label, setup, n, stepMs: load.stepMs, scoreFrom }, t, tl, t.stoppedAt >= 0 ? t.stoppedAt : undefined, split);
}

interface KernelTally extends Tally {
  /** -1: ran to the end */
  stoppedAt: number;
}

/** The replay loop; null when a step needs the general path. */
function replay(c: KernelRun, values: Float64Array, tl: Timeline | undefined, split: SplitTally | undefined): KernelTally | null {
  const n = values.length;
  const start = c.start;
  const stepMs = c.stepMs;
  const cap = c.cap;
  const cpuLimitRatio = c.cpuLimitRatio;
  const cpuRequestCores = c.cpuRequestCores;
  const hasLatency = c.hasLatency;
  const latencyBase = c.latencyBase;
  const latencyFull = c.latencyFull;
  const maxUtilization = c.maxUtilization;
  const checkP95 = c.checkP95;
  const p95Objective = c.p95Objective;
  const scoreFrom = c.scoreFrom;
  const stopAfter = c.stopAfter;
  const stepMin = stepMs / 60_000;
  const stepSeconds = stepMs / 1000;
  const metricCount = c.metricCount;
  const mKind = c.mKind;
  const mCpu = c.mCpu;
  const mSignal = c.mSignal;
  const mTarget = c.mTarget;
  const mRequest = c.mRequest;
  const tol = c.tol;
  const behavior = c.behavior;
  const minR = c.minR;
  const maxR = c.maxR;
  const acts = c.acts;
  const scoreMax = c.scoreMax;
  const anyNeedsLoad = c.anyNeedsLoad;
  const anyPerPod = c.anyPerPod;
  const anyPerPodWithoutLoad = c.anyPerPodWithoutLoad;
  const anyAggregateNeedingReady = c.anyAggregateNeedingReady;
  const anyAlwaysFailing = c.anyAlwaysFailing;
  const firstFailure = c.firstFailure;
  const legacyWindowMs = c.legacyWindowMs;
  const needsBacklog = c.needsBacklog;
  const p95SafeUtilization = c.p95SafeUtilization;
  const upWindowMs = c.upWindowMs;
  const downWindowMs = c.downWindowMs;

  const pods = new Replicas(c.startupMs, c.readinessMs, c.cpuInitializationMs, c.metricWindowMs, c.anyCpu);
  // replicas present at the start have been ready long enough that no start-up handling applies (Workload)
  const settled = start - Math.max(3_600_000, 2 * (c.startupMs + c.readinessMs));
  if (c.initialReplicas > 0) pods.add(settled, c.initialReplicas);
  const highest = new WindowExtreme(true, behavior === null);
  const lowest = new WindowExtreme(false, false);
  // a zero-length window holds no recommendation (none is newer than now): its bound is the proposal itself
  const keepHighest = behavior === null || downWindowMs > 0;
  const keepLowest = behavior !== null && upWindowMs > 0;
  const upEvents = new EventLog(c.longestPeriodMs);
  const downEvents = new EventLog(c.longestPeriodMs);
  const limited: Limited = { replicas: 0, reason: 'DesiredWithinRange' };

  let backlog = 0;
  let scored = 0;
  let noData = 0;
  let overSteps = 0;
  let slowSteps = 0;
  let violationSteps = 0;
  let replicaSteps = 0;
  let atMaxSteps = 0;
  let peak = 0;
  let utilSum = 0;
  let utilSteps = 0;
  let utilMax = 0;
  let scaleUps = 0;
  let scaleDowns = 0;
  let reversals = 0;
  let lastDirection = 0;
  let noDataErrors = 0;
  let errorCount = 0;
  let firstError: string | undefined;
  let stoppedAt = -1;

  for (let k = 0; k < n; k++) {
    const now = start + k * stepMs;
    pods.advance(now);
    const demand = values[k]!;
    const before = pods.n;
    const hasData = demand >= 0;
    // the utilization the HPA's samples were derived from this step, and the ready count then (-1: none)
    let observedReady = -1;
    let observedU = 0;
    let desired: number;
    let recommendation: number;
    let hasErrors = false;
    let transientFailure = false;
    let invalidMetrics = 0;

    if (before === 0) {
      // currentReplicas 0 disables the HPA
      desired = 0;
      recommendation = 0;
    } else {
      const ready = pods.ready;
      const sampled = pods.running;
      // reads that fail at this step only
      transientFailure = hasData
        ? (sampled === 0 && anyPerPod) || (ready === 0 && demand > 0 && anyAggregateNeedingReady)
        : anyNeedsLoad || (sampled === 0 && anyPerPodWithoutLoad);
      let proposed = -1;
      let invalid = 0;
      // every HPA metric reads a demand-derived signal: none reads at a step without data
      if (!hasData) invalid = metricCount;
      else {
        // utilizationOf, inline
        const u = demand <= 0 ? 0 : ready > 0 ? demand / (ready * cap) : Number.POSITIVE_INFINITY;
        observedReady = ready;
        observedU = u;
        for (let i = 0; i < metricCount; i++) {
          const kind = mKind[i];
          const signal = mSignal[i];
          const target = mTarget[i]!;
          let replicas: number;
          if (kind === KIND_TOTAL_AVERAGE || kind === KIND_TOTAL_VALUE) {
            // an Object/External metric: one aggregate value (Workload.total), unreadable without a ready replica
            // for utilization and p95
            if (ready === 0 && demand > 0 && (signal === SIG_UTILIZATION || signal === SIG_P95)) {
              invalid++;
              continue;
            }
            let v: number;
            switch (signal) {
              case SIG_RPS: v = demand; break;
              case SIG_CPU: v = ready * (Math.min(u, cpuLimitRatio) * cpuRequestCores); break;
              case SIG_UTILIZATION: v = u * 100; break;
              case SIG_QUEUE: v = backlog; break;
              default: v = u >= 1 ? latencyFull : Math.min(latencyFull, latencyBase / (1 - u)); // p95Of
            }
            const value = Math.round(v * 1000);
            if (!(value <= SAFE && value >= -SAFE)) return null;
            // statusReplicas is the count of (undeleted) replicas, the ready ones scale a Value target's ratio
            replicas = kind === KIND_TOTAL_AVERAGE ? perPodTargetReplicas(before, value, target, tol) : usageRatioReplicas(before, value / target, ready, tol);
            if (replicas > proposed) proposed = replicas;
            continue;
          }
          // a Resource/Pods metric: samples of the replicas that are not Pending
          if (sampled === 0) {
            invalid++;
            continue;
          }
          // every ready replica reports the same sample; one that is starting up reports zero
          let sample = 0;
          if (ready > 0) {
            let v: number;
            switch (signal) {
              case SIG_RPS: v = demand / ready; break;
              case SIG_CPU: v = Math.min(u, cpuLimitRatio) * cpuRequestCores; break;
              case SIG_UTILIZATION: v = u * 100; break;
              case SIG_QUEUE: v = backlog / ready; break;
              default: v = u >= 1 ? latencyFull : Math.min(latencyFull, latencyBase / (1 - u)); // p95Of
            }
            sample = Math.round(v * 1000);
          }
          // the replicas the HPA counts as ready for this metric and the total of their samples
          let counted: number;
          let total: number;
          if (mCpu[i] === 1) {
            counted = pods.cpuReady;
            if (counted === 0) {
              invalid++;
              continue;
            }
            total = counted * sample;
          } else {
            counted = sampled;
            total = ready > 0 ? ready * sample : 0;
          }
          if (!(total <= SAFE_FOR_PERCENT)) return null;
          const unready = before - counted;
          if (kind === KIND_UTILIZATION) {
            const request = mRequest[i]!;
            if (!(before * request <= SAFE)) return null;
            const requests = counted * request;
            const usageRatio = quotient(total * 100, requests) / target;
            if (!(unready > 0 && usageRatio > 1.0)) {
              replicas = isWithinTolerance(usageRatio, tol) ? before : ceilReplicas(usageRatio * counted);
            } else {
              // a scale-up with unready replicas counts them as using nothing of their requests
              const newRatio = quotient(total * 100, requests + unready * request) / target;
              if (isWithinTolerance(newRatio, tol) || newRatio < 1.0) replicas = before;
              else {
                const r = ceilReplicas(newRatio * before);
                replicas = newRatio > 1.0 && r < before ? before : r;
              }
            }
          } else {
            const usageRatio = quotient(total, counted) / target;
            if (!(unready > 0 && usageRatio > 1.0)) {
              replicas = isWithinTolerance(usageRatio, tol) ? before : ceilReplicas(usageRatio * counted);
            } else {
              const newRatio = quotient(total, before) / target;
              if (isWithinTolerance(newRatio, tol) || newRatio < 1.0) replicas = before;
              else {
                const r = ceilReplicas(newRatio * before);
                replicas = newRatio > 1.0 && r < before ? before : r;
              }
            }
          }
          if (replicas > proposed) proposed = replicas;
        }
      }
      hasErrors = anyAlwaysFailing || transientFailure || invalid > 0;
      invalidMetrics = invalid;

      let held = false;
      if (proposed < 0) {
        // no valid metric: hold where the count is within range, as the HPA does when it cannot compute metrics
        if (hasErrors && before >= minR && before <= maxR) held = true;
        else proposed = before;
      }
      if (held) {
        desired = before;
        recommendation = before;
      } else {
        // an invalid metric blocks scaling down
        if (invalid > 0 && proposed < before) proposed = before;
        if (before < minR) desired = recommendation = minR;
        else if (before > maxR) desired = recommendation = maxR;
        else {
          if (k === 0) {
            // a first sync records the current count as the first recommendation (recordInitialRecommendation)
            if (keepHighest) highest.push(now, before, now - downWindowMs);
            if (keepLowest) lowest.push(now, before, now - upWindowMs);
          }
          let stabilized: number;
          if (behavior === null) {
            stabilized = highest.extreme(now - legacyWindowMs, proposed);
            desired = limitLegacy(before, stabilized, minR, maxR, limited).replicas;
          } else if (proposed === before) {
            // the windows' lowest is at most, their highest at least the proposal: the count stays, unlimited
            desired = before;
          } else {
            const upBound = keepLowest ? lowest.extreme(now - upWindowMs, proposed) : proposed;
            const downBound = keepHighest ? highest.extreme(now - downWindowMs, proposed) : proposed;
            stabilized = before;
            if (stabilized < upBound) stabilized = upBound;
            if (stabilized > downBound) stabilized = downBound;
            desired = behaviorLimit(before, stabilized, minR, maxR, behavior, upEvents, downEvents, now);
          }
          recommendation = proposed;
        }
      }
    }
    if (keepHighest) highest.push(now, recommendation, now - downWindowMs);
    if (keepLowest) lowest.push(now, recommendation, now - upWindowMs);

    const scoring = k >= scoreFrom;
    if (hasErrors && scoring) {
      if (!hasData) noDataErrors++;
      else {
        if (firstError === undefined) {
          // the first error with data is reported in words: those of an HPA metric error or a read that fails at
          // this step only are the general path's to give
          if (invalidMetrics > 0 || transientFailure || firstFailure === null) return null;
          firstError = `${new Date(now).toISOString()}: ${firstFailure}`;
        }
        errorCount++;
      }
    }
    if (acts && desired !== before) {
      if (desired > before) {
        pods.add(now, desired - before);
        if (behavior) upEvents.push(now, desired - before);
      } else {
        pods.remove(before - desired);
        if (behavior) downEvents.push(now, before - desired);
      }
      if (scoring) {
        const dir = desired > before ? 1 : -1;
        if (dir > 0) scaleUps++;
        else scaleDowns++;
        if (lastDirection !== 0 && dir !== lastDirection) reversals++;
        lastDirection = dir;
      }
    }
    const replicas = pods.n;
    const ready = pods.ready;
    // the backlog is only read through a queue signal
    if (needsBacklog && hasData) backlog = Math.max(0, backlog + (demand - ready * cap) * stepSeconds);

    let flags = 0;
    let u = Number.NaN;
    if (!scoring) {
      // replayed for its history only
    } else if (!hasData) {
      flags = FLAG_NO_DATA;
      noData++;
    } else {
      scored++;
      replicaSteps += replicas;
      if (replicas > peak) peak = replicas;
      if (replicas >= scoreMax) atMaxSteps++;
      // utilizationOf and sloFlags, inline
      u = ready === observedReady ? observedU : demand <= 0 ? 0 : ready > 0 ? demand / (ready * cap) : Number.POSITIVE_INFINITY;
      if (ready > 0) {
        utilSum += u;
        utilSteps++;
        if (u > utilMax) utilMax = u;
      }
      if (u > maxUtilization) {
        flags = FLAG_OVER_CAPACITY;
        overSteps++;
      }
      // p95Of(u) > objective: p95Of is monotonic in u, so at or below a utilization known to meet the objective it does
      if (checkP95 && demand > 0 && u > p95SafeUtilization && (u >= 1 ? latencyFull : Math.min(latencyFull, latencyBase / (1 - u))) > p95Objective) {
        flags |= FLAG_SLOW;
        slowSteps++;
      }
      if (flags) violationSteps++;
      if (split) split.add(k, demand, ready, replicas, flags !== 0);
    }
    if (tl) {
      tl.t[k] = now / 1000;
      tl.load[k] = demand;
      tl.desired[k] = desired;
      tl.replicas[k] = replicas;
      tl.ready[k] = ready;
      tl.utilization[k] = u * 100;
      tl.p95[k] = Number.isNaN(u) || !hasLatency ? Number.NaN : u >= 1 ? latencyFull : Math.min(latencyFull, latencyBase / (1 - u)); // p95Of
      tl.flags[k] = flags;
    }
    if (violationSteps * stepMin > stopAfter) { stoppedAt = k; break; }
  }

  return { scored, noData, overSteps, slowSteps, violationSteps, replicaSteps, atMaxSteps, peak, utilSum, utilSteps, utilMax, scaleUps, scaleDowns, reversals, errorCount, noDataErrors, firstError, resizes: 0, stoppedAt };
}
