// Shapes shared by the simulator: the replayed load, the workload model's parameters, and what a run reports.
import type { GuardStats } from './guarded.js';

/** What a trace measures: request rate (rps) or utilization (percent of the capacity running when recorded). */
export type LoadKind = 'rps' | 'utilization';

/** A load series on the simulation grid. NaN marks a step without data. */
export interface LoadSeries {
  /** epoch ms of step 0 */
  start: number;
  stepMs: number;
  /** demand per step in rps (utilization traces are converted before they get here) */
  values: Float64Array;
}

/** The signals the workload model produces; configured metrics are mapped onto them. */
export const SIGNALS = ['rps', 'cpu', 'utilization', 'queue', 'p95', 'replicas', 'ready_replicas'] as const;
export type Signal = (typeof SIGNALS)[number];

export const SIGNAL_HELP: Record<Signal, string> = {
  rps: 'request rate from the trace (total; per replica when perPod)',
  cpu: 'cpu usage in cores (per replica when perPod; total otherwise)',
  utilization: 'percent of ready capacity in use',
  queue: 'backlog: requests that arrived beyond ready capacity and are not yet served',
  p95: 'modelled p95 latency in seconds (capacity.latency)',
  replicas: 'replicas the target is set to run',
  ready_replicas: 'ready replicas',
};

/** Everything the workload model needs, resolved from config, capacity file and flags (plain data, so it can cross to a worker). */
export interface WorkloadParams {
  /** rps one ready replica serves at 100 % */
  capacityPerReplica: number;
  /** where capacityPerReplica came from, for the output */
  capacitySource: string;
  startupDelayMs: number;
  readinessDelayMs: number;
  /** cpu request per replica in cores (usage is reported against it) */
  cpuRequestCores: number;
  /** cpu limit / request; usage cannot exceed it. Infinity when no limit is set. */
  cpuLimitRatio: number;
  /** p95 model: base / (1 - utilization), capped at full; seconds */
  latency?: { baseSeconds: number; fullSeconds: number };
}

export interface SloParams {
  /** fraction of ready capacity demand may use (slo.maxUtilization / 100; 1 when not set) */
  maxUtilization: number;
  /** p95 objective in seconds; scored only with a latency model */
  p95Seconds?: number;
}

/** A configured metric the simulator feeds, and from which signal. */
export interface MetricBinding {
  metric: string;
  signal: Signal | null;
  perPod: boolean;
  /** why this binding (name match, --metric flag) or why none */
  why: string;
}

/** One service's simulation, fully resolved: plain data only (structured-cloneable for worker threads). */
export interface SimSetup {
  workload: WorkloadParams;
  slo: SloParams;
  costPerReplicaHour?: number;
  bindings: MetricBinding[];
  /** replicas (all ready) when the replay starts */
  initialReplicas: number;
  /** keep per-step arrays (charts, tests); off for large batch runs */
  timeline: boolean;
}

/** Per-step record of a run (only when SimSetup.timeline). */
export interface Timeline {
  /** unix seconds */
  t: Float64Array;
  load: Float64Array;
  /** what decide() asked for */
  desired: Int32Array;
  /** replicas after acting (Pending, starting and ready) */
  replicas: Int32Array;
  /** ready replicas after acting */
  ready: Int32Array;
  /** percent of ready capacity; NaN without data, Infinity with load and no ready replica */
  utilization: Float64Array;
  /** modelled p95 seconds (NaN without a latency model or data) */
  p95: Float64Array;
  /** bit 1 no data, 2 over capacity, 4 p95 above objective */
  flags: Uint8Array;
}

export const FLAG_NO_DATA = 1;
export const FLAG_OVER_CAPACITY = 2;
export const FLAG_SLOW = 4;

/** Scores of one run over the steps that have data. */
export interface Score {
  steps: number;
  scoredSteps: number;
  noDataSteps: number;
  /** minutes over capacity or above the p95 objective */
  violationMinutes: number;
  overCapacityMinutes: number;
  latencyMinutes: number;
  replicaHours: number;
  cost: number | null;
  scaleUps: number;
  scaleDowns: number;
  /** a scale event in the opposite direction of the one before it */
  reversals: number;
  minutesAtMax: number;
  peakReplicas: number;
  meanReplicas: number;
  /** mean / max percent of ready capacity in use (over scored steps with ready replicas) */
  meanUtilization: number;
  maxUtilization: number;
}

export interface SimResult {
  service: string;
  /** label of the policy variant (file name or tuning candidate) */
  policy: string;
  score: Score;
  /**
   * decisions that carried errors (metric failures, HPA errors) at steps with data, with the first message;
   * atNoData counts those at no-data steps, where a failed read is the expected gap treatment
   */
  decisionErrors: { count: number; atNoData: number; first?: string };
  resizes: number;
  timeline?: Timeline;
  /** what shared budgets and verification did (guarded replay, sim/guarded.ts) */
  guard?: GuardStats;
  /** the step at which the replay stopped early (SimulateOptions.stopAfterViolationMinutes); its score is partial */
  stoppedAt?: number;
  /** the scored steps cut at each index of SimulateOptions.splitAt, each part scored apart (when asked for) */
  parts?: PartScore[];
}

/** One part of a replay's scored steps. */
export interface PartScore {
  scoredSteps: number;
  violationSteps: number;
  replicaSteps: number;
  /**
   * the least spare capacity at any scored step with demand: ready capacity at the SLO's utilization limit over the
   * demand (1: exactly enough, 1.1: 10% to spare, below 1: a violation); Infinity without demand
   */
  minSlack: number;
}

/** The fewest replicas that meet the SLO at every step, requested ahead by the start-up + readiness delay. */
export interface Bound {
  replicaHours: number;
  cost: number | null;
  /** minutes even the bound cannot meet the SLO (need above maxReplicas) */
  violationMinutes: number;
  peakReplicas: number;
  /** replicas that must exist at each step (only with timeline) */
  replicas?: Int32Array;
  /** replicas needed ready at each step (only with timeline) */
  needed?: Int32Array;
}
