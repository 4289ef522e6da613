// The closed-loop workload model: replicas that start, become ready and serve a share of the load, and what a
// controller would observe of them (pods, per-replica samples, aggregate values). Added replicas only help once
// ready; removed replicas take their capacity with them at once.
import type { PodState, Resources, TargetState } from '../providers/types.js';
import type { Sample } from '../metrics/types.js';
import type { MetricReading } from '../controller/observe.js';
import type { Observation, ObservedPod } from '../core/types.js';
import { parseQuantity } from '../core/quantity.js';
import type { MetricBinding, SloParams, WorkloadParams } from './types.js';
import { FLAG_OVER_CAPACITY, FLAG_SLOW } from './types.js';

/** Fraction of ready capacity the load needs: Infinity with load and no ready replica, 0 without load. */
export function utilizationOf(load: number, ready: number, capacityPerReplica: number): number {
  if (load <= 0) return 0;
  return ready > 0 ? load / (ready * capacityPerReplica) : Number.POSITIVE_INFINITY;
}

/** M/M/1-style p95: base / (1 - u), never above the p95 at full utilization (also used beyond it). */
export function p95Of(u: number, latency: WorkloadParams['latency']): number {
  if (!latency) return Number.NaN;
  if (u >= 1) return latency.fullSeconds;
  return Math.min(latency.fullSeconds, latency.baseSeconds / (1 - u));
}

/** Which SLO checks a step fails (FLAG_OVER_CAPACITY | FLAG_SLOW), given the ready replicas serving it. */
export function sloFlags(load: number, ready: number, capacityPerReplica: number, latency: WorkloadParams['latency'], slo: SloParams): number {
  const u = utilizationOf(load, ready, capacityPerReplica);
  let f = 0;
  if (u > slo.maxUtilization) f |= FLAG_OVER_CAPACITY;
  if (slo.p95Seconds !== undefined && latency && load > 0 && p95Of(u, latency) > slo.p95Seconds) f |= FLAG_SLOW;
  return f;
}

/**
 * The highest utilization the SLO allows: slo.maxUtilization, or lower where the latency model's p95 (base / (1 - u))
 * reaches the p95 objective first; 0 when no utilization meets it (an objective below the base latency).
 */
export function sloUtilizationLimit(w: WorkloadParams, slo: SloParams): number {
  let limit = slo.maxUtilization;
  if (slo.p95Seconds !== undefined && w.latency && w.latency.fullSeconds > slo.p95Seconds) {
    if (w.latency.baseSeconds > slo.p95Seconds) return 0;
    limit = Math.min(limit, 1 - w.latency.baseSeconds / slo.p95Seconds);
  }
  return limit;
}

/**
 * The fewest ready replicas that meet the SLO for this load, or Infinity when no count can (a p95 objective below
 * the model's base latency). Found from the utilization limit, then checked against sloFlags so the bound and the
 * scoring can never disagree about a step.
 */
export function neededReplicas(load: number, w: WorkloadParams, slo: SloParams): number {
  if (!(load > 0)) return 0;
  const limit = sloUtilizationLimit(w, slo);
  if (!(limit > 0)) return Number.POSITIVE_INFINITY;
  let r = Math.max(1, Math.ceil(load / (w.capacityPerReplica * limit)));
  // a few steps either way mend floating-point rounding (bounded: beyond 2^53, r - 1 is r)
  for (let i = 0; i < 4 && r > 1 && sloFlags(load, r - 1, w.capacityPerReplica, w.latency, slo) === 0; i++) r--;
  for (let i = 0; i < 4 && sloFlags(load, r, w.capacityPerReplica, w.latency, slo) !== 0; i++) r++;
  return r;
}

/** Signals that need the trace's value at this step (everything but replica counts). */
function needsLoad(signal: string): boolean {
  return signal !== 'replicas' && signal !== 'ready_replicas';
}

interface SimPod {
  state: PodState;
  /** the same replica as decide() sees it, updated in place every step */
  observed: ObservedPod;
  /** usage and per-replica metrics objects holding every per-replica metric (the common case) */
  usage: NonNullable<ObservedPod['usage']>;
  metrics: Record<string, number>;
  createdAt: number;
  runningAt: number;
  readyAt: number;
}

const NONE: Readonly<Record<string, number>> = Object.freeze({});

function milli(q: string | undefined): number | undefined {
  return q === undefined ? undefined : parseQuantity(q).milliValue();
}

/** Kubernetes resource metrics are matched by the metric's name, as the controller's observation does. */
function isResource(metric: string): metric is 'cpu' | 'memory' {
  return metric === 'cpu' || metric === 'memory';
}

/**
 * One service's replicas. Pods are kept in creation order, so the newest are last; scale-down removes not-ready
 * replicas first and then the newest, as a ReplicaSet does.
 */
export class Workload {
  readonly pods: SimPod[] = [];
  ready = 0;
  /** requests that arrived beyond ready capacity and wait (queue signal) */
  backlog = 0;
  capacityPerReplica: number;
  cpuRequestCores: number;
  private serial = 0;
  private readonly requests: Partial<Record<'cpu' | 'memory', number>>;
  private readonly observedPods: ObservedPod[] = [];
  /** this step's read error per binding (undefined: it reads) */
  private readonly errors: Array<string | undefined>;

  /**
   * `resources` are the requests the controller reports for every replica (the service's configured ones), so
   * an HPA Utilization target sees what it would see live.
   */
  constructor(
    private readonly service: string,
    private readonly params: WorkloadParams,
    private readonly bindings: MetricBinding[],
    initialReplicas: number,
    start: number,
    resources?: Resources,
  ) {
    this.capacityPerReplica = params.capacityPerReplica;
    this.cpuRequestCores = params.cpuRequestCores;
    const cpu = milli(resources?.requests?.cpu);
    const memory = milli(resources?.requests?.memory);
    this.requests = { ...(cpu !== undefined ? { cpu } : {}), ...(memory !== undefined ? { memory } : {}) };
    this.errors = bindings.map(() => undefined);
    // Replicas present at the start have been ready long enough that no start-up handling applies to them.
    const settled = start - Math.max(3_600_000, 2 * (params.startupDelayMs + params.readinessDelayMs));
    for (let i = 0; i < initialReplicas; i++) this.add(settled);
    this.advance(start);
  }

  get replicas(): number {
    return this.pods.length;
  }

  private add(now: number): void {
    const name = `${this.service}-${++this.serial}`;
    const runningAt = now + this.params.startupDelayMs;
    const readyAt = runningAt + this.params.readinessDelayMs;
    const state: PodState = { name, phase: 'Pending', ready: false, startTime: now };
    const observed: ObservedPod = { name, phase: 'Pending', ready: false, startTime: now, requests: { ...this.requests }, usage: NONE, metrics: NONE };
    this.pods.push({ state, observed, usage: {}, metrics: {}, createdAt: now, runningAt, readyAt });
  }

  /** Moves replicas through Pending → Running (not ready) → ready as time passes. */
  advance(now: number): void {
    let ready = 0;
    for (const p of this.pods) {
      const s = p.state;
      if (now >= p.readyAt) {
        if (!s.ready) {
          s.phase = p.observed.phase = 'Running';
          s.ready = p.observed.ready = true;
          s.readyTransitionTime = p.observed.readyTransitionTime = p.readyAt;
        }
        ready++;
      } else if (now >= p.runningAt && s.phase === 'Pending') {
        s.phase = p.observed.phase = 'Running';
      }
    }
    this.ready = ready;
  }

  /** Scale to n replicas: new ones start now; removed ones stop at once (not-ready first, then the newest). */
  scaleTo(n: number, now: number): void {
    const target = Math.max(0, Math.floor(n));
    while (this.pods.length < target) this.add(now);
    let excess = this.pods.length - target;
    for (let i = this.pods.length - 1; i >= 0 && excess > 0; i--) {
      if (!this.pods[i]!.state.ready) {
        this.pods.splice(i, 1);
        excess--;
      }
    }
    if (excess > 0) this.pods.length -= excess;
    let ready = 0;
    for (const p of this.pods) if (p.state.ready) ready++;
    this.ready = ready;
  }

  /** A vertical step: capacity per replica follows the cpu request (the runbooks' rps-per-core rule). */
  resizeCpu(cores: number): void {
    if (!(cores > 0) || cores === this.cpuRequestCores) return;
    this.capacityPerReplica *= cores / this.cpuRequestCores;
    this.cpuRequestCores = cores;
  }

  /** Serves one step's load with the ready replicas: demand beyond capacity queues up, spare capacity drains it. */
  serve(load: number, stepMs: number): void {
    if (!(load >= 0)) return;
    const served = this.ready * this.capacityPerReplica;
    this.backlog = Math.max(0, this.backlog + (load - served) * (stepMs / 1000));
  }

  /** Why a metric cannot be read this step, or undefined when it can. */
  private readError(b: MetricBinding, noData: boolean, load: number): string | undefined {
    const signal = b.signal;
    if (signal === null) return b.why;
    if (noData && needsLoad(signal)) return 'the trace has no data at this step';
    if (signal === 'p95' && !this.params.latency) return 'no latency model: set capacity.latency to simulate p95';
    if (!b.perPod && this.ready === 0 && (signal === 'utilization' || signal === 'p95') && load > 0) return 'no ready replica reports it';
    return undefined;
  }

  /**
   * The Observation decide() gets, built in place: the same result as the controller's
   * buildObservation(policy, targetState(), readMetrics(load, now)) (a test holds them equal), without building
   * samples and pod copies every step.
   */
  observe(load: number): Observation {
    const noData = !(load >= 0);
    const u = noData ? Number.NaN : utilizationOf(load, this.ready, this.capacityPerReplica);
    const values: Record<string, number> = {};
    const failures: Record<string, string> = {};
    const pods = this.observedPods;
    pods.length = this.pods.length;
    let sampled = 0;
    for (let i = 0; i < this.pods.length; i++) {
      const p = this.pods[i]!;
      pods[i] = p.observed;
      p.observed.usage = NONE;
      p.observed.metrics = NONE;
      if (p.state.phase !== 'Pending') sampled++;
    }
    // Each replica's own usage/metrics objects can be reused when every per-replica metric of its kind reads.
    let usageComplete = true;
    let metricsComplete = true;
    for (let b = 0; b < this.bindings.length; b++) {
      const bind = this.bindings[b]!;
      const e = (this.errors[b] = this.readError(bind, noData, load));
      if (e !== undefined && bind.perPod) {
        if (isResource(bind.metric)) usageComplete = false;
        else metricsComplete = false;
      }
    }
    for (let b = 0; b < this.bindings.length; b++) {
      const bind = this.bindings[b]!;
      const name = bind.metric;
      const error = this.errors[b];
      if (error !== undefined) {
        failures[name] = error;
        continue;
      }
      if (!bind.perPod) {
        values[name] = this.total(bind.signal!, load, u);
        continue;
      }
      if (sampled === 0) {
        failures[name] = 'the query returned no samples';
        continue;
      }
      const resource = isResource(name);
      const req = resource ? this.requests[name] : undefined;
      let sum = 0;
      let usageSum = 0;
      let reqSum = 0;
      for (const p of this.pods) {
        if (p.state.phase === 'Pending') continue;
        const v = p.state.ready ? this.perReplica(bind.signal!, load, u) : 0;
        sum += v;
        const m = Math.round(v * 1000);
        const o = p.observed;
        if (resource) {
          if (o.usage === NONE) o.usage = usageComplete ? p.usage : {};
          o.usage![name] = m;
          if (req !== undefined && p.state.ready) {
            usageSum += m;
            reqSum += req;
          }
        } else {
          if (o.metrics === NONE) o.metrics = metricsComplete ? p.metrics : {};
          o.metrics![name] = m;
        }
      }
      values[name] = reqSum > 0 ? (usageSum / reqSum) * 100 : sum / sampled;
    }
    return { currentReplicas: this.pods.length, readyReplicas: this.ready, pods, values, failures };
  }

  /** The target as a provider would report it: with readMetrics, the raw view observe() must agree with. */
  targetState(): TargetState {
    return { replicas: this.pods.length, readyReplicas: this.ready, pods: this.pods.map((p) => ({ ...p.state })) };
  }

  /**
   * What each configured metric would read now: per-replica samples for perPod metrics (none for Pending
   * replicas, zero traffic for replicas not yet ready), one aggregate sample otherwise. A step without trace data
   * and a metric the model has no signal for read as failures, exactly as a failed source would.
   */
  readMetrics(load: number, now: number): MetricReading[] {
    const noData = !(load >= 0);
    const u = noData ? Number.NaN : utilizationOf(load, this.ready, this.capacityPerReplica);
    return this.bindings.map((bind): MetricReading => {
      const error = this.readError(bind, noData, load);
      if (error !== undefined) return { name: bind.metric, error };
      if (!bind.perPod) return { name: bind.metric, samples: [{ labels: {}, t: now, value: this.total(bind.signal!, load, u) }] };
      const samples: Sample[] = this.pods
        .filter((p) => p.state.phase !== 'Pending')
        .map((p) => ({ labels: { pod: p.state.name }, t: now, value: p.state.ready ? this.perReplica(bind.signal!, load, u) : 0 }));
      return { name: bind.metric, samples };
    });
  }

  private cpuCores(u: number): number {
    return Math.min(u, this.params.cpuLimitRatio) * this.cpuRequestCores;
  }

  private perReplica(signal: string, load: number, u: number): number {
    switch (signal) {
      case 'rps': return load / this.ready;
      case 'cpu': return this.cpuCores(u);
      case 'utilization': return u * 100;
      case 'queue': return this.backlog / this.ready;
      case 'p95': return p95Of(u, this.params.latency);
      case 'replicas': return this.pods.length;
      default: return this.ready;
    }
  }

  private total(signal: string, load: number, u: number): number {
    switch (signal) {
      case 'rps': return load;
      case 'cpu': return this.ready * this.cpuCores(u);
      case 'utilization': return u * 100;
      case 'queue': return this.backlog;
      case 'p95': return p95Of(u, this.params.latency);
      case 'replicas': return this.pods.length;
      default: return this.ready;
    }
  }
}
