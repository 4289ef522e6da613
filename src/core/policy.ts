// What one service's policy is, as the core reads it. The config layer validates scalepilot.yaml and maps it onto
// these types; decide(), the simulator and the controller consume them. Durations are milliseconds.
import type { Resources } from './types.js';
import type { Condition, RuleAction } from './rules/syntax.js';
import type { ScalingPolicy } from './hpa/types.js';
import type { ScheduleSpec } from './schedule.js';

/** Which workload to act on; provider-specific fields are validated by the provider's parse step. */
export interface TargetRef {
  service: string;
  provider: 'local' | 'compose' | 'kubernetes' | 'dryrun';
  spec: Record<string, unknown>;
}

/** A metric of the service: which source reads it and how. */
export interface MetricPolicy {
  source: string;
  query: string;
  params?: Record<string, unknown>;
  /** samples are per replica (labelled pod), as Resource/Pods metrics need */
  perPod?: boolean;
  unit?: string;
}

export interface ScalingRulesSpec {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  policies?: ScalingPolicy[];
  /** a Kubernetes quantity ("100m") or a number */
  tolerance?: number | string;
}

/** The `hpa:` block: autoscaling/v2 metric specs and behavior, exactly as in a HorizontalPodAutoscaler. */
export interface HpaPolicy {
  /** MetricSpec objects, checked by core/hpa's parse step */
  metrics: Array<{ type: 'Resource' | 'ContainerResource' | 'Pods' | 'Object' | 'External' } & Record<string, unknown>>;
  behavior?: { scaleUp?: ScalingRulesSpec; scaleDown?: ScalingRulesSpec };
  tolerance?: number;
  /** Kubernetes release whose HPA controller is imitated where releases differ ("1.37") */
  kubernetesVersion?: string;
}

/** A sustained-threshold rule (`when`, `for`, `then`) with its syntax already parsed. */
export interface RulePolicy {
  name: string;
  condition: Condition;
  forMs: number;
  action: RuleAction;
  severity: 'warning' | 'critical';
  cooldownMs?: number;
}

/** An up/down band: above `upper` for `for` adds `step`, below `lower` removes it. */
export interface BandPolicy {
  metric: string;
  upper: number;
  lower: number;
  for: number;
  step: number;
  cooldown?: number;
}

/** KEDA-style queue scaling. */
export interface QueuePolicy {
  metric: string;
  targetPerReplica: number;
  activationThreshold: number;
  minReplicas?: number;
  idleReplicas?: number;
  cooldownPeriod: number;
  fallback?: { failureThreshold: number; replicas: number };
}

/** A cron window that raises the floor (or lowers the ceiling), as the schedule module reads it. */
export type SchedulePolicy = ScheduleSpec;

export interface PredictivePolicy {
  metric: string;
  model: 'linear' | 'holt-winters' | 'seasonal';
  /** how far ahead to forecast; default 10m, or start-up + readiness delay for the seasonal model */
  horizon?: number;
  /** history kept for the forecast; default 1d, or 15d for the seasonal model */
  lookback?: number;
  seasonLength?: number;
  capacityPerReplica?: number;
  /** seasonal model: detect a season (auto), force one, or use the last value only (off) */
  season?: 'auto' | '5m' | '15m' | '30m' | '1h' | '1d' | '1w' | 'off';
  /** seasonal model: headroom is this quantile of recent actual/forecast ratios */
  headroomQuantile?: number;
  /** seasonal model: forecast last season's values at today's level (level) or last season's change added to now (change) */
  method?: 'level' | 'change';
  /** seasonal model: headroom from actual/forecast ratios (ratio) or from errors over the square root of the forecast (sqrt) */
  errorModel?: 'ratio' | 'sqrt';
  /** seasonal model: how long forecast errors are remembered for the headroom quantile (ms) */
  errorWindow?: number;
  /** seasonal model: how long a drop of demand below every recent forecast error holds the forecast at what was expected before it (ms; 0: never) */
  dropHold?: number;
  /** seasonal model: also size scale-up from the rate of increase over the start-up delay */
  burst?: boolean;
  /** seasonal model: percent of capacityPerReplica a forecast may fill */
  targetUtilization?: number;
}

export interface CapacityPolicy {
  rpsPerReplica?: number;
  /** a capacity file saved by `scalepilot loadtest --find-capacity --save` */
  file?: string;
  startupDelay: number;
  readinessDelay: number;
  /** latency model for simulation: p95 at low utilization and at 100% */
  latency?: { base: number; p95AtFull?: number };
}

export interface SloPolicy {
  p95?: number;
  /** percent of capacity */
  maxUtilization?: number;
}

export interface LimitsPolicy {
  maxConnections?: number;
  connectionsHeadroom: number;
  tokenQuotaPerMinute?: number;
}

export interface ServicePolicy {
  name: string;
  target: TargetRef;
  minReplicas: number;
  maxReplicas: number;
  syncPeriodMs: number;
  drainMs: number;
  resources?: Resources;
  metrics: Record<string, MetricPolicy>;
  hpa?: HpaPolicy;
  rules: RulePolicy[];
  bands: BandPolicy[];
  queue?: QueuePolicy;
  schedules: SchedulePolicy[];
  predictive?: PredictivePolicy;
  capacity?: CapacityPolicy;
  slo?: SloPolicy;
  cost?: { perReplicaHour: number };
  limits?: LimitsPolicy;
  paused: boolean;
  /** per replica use of shared budgets (core/budget.ts) */
  uses?: Record<string, number>;
  priority?: number;
  verify?: VerifyPolicy;
}

/** Verification after each applied change (core/verify.ts), durations in ms. */
export interface VerifyPolicy {
  windowMs: number;
  startupAllowanceMs: number;
  errorRate?: { metric: string; margin: { absolute?: number; relative?: number } };
  p95?: { metric: string; margin: { absolute?: number; relative?: number } };
  coolOffMs: number;
}
