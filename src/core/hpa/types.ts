// Types of one HorizontalPodAutoscaler sync: the parsed request (spec, observed pods and metrics, controller memory
// and flags) and the result (per-metric proposals, the normalized replica count, conditions).

export type MetricSourceType = 'Resource' | 'ContainerResource' | 'Pods' | 'Object' | 'External';
export type MetricTargetType = 'Utilization' | 'Value' | 'AverageValue';

/** autoscaling/v2 MetricTarget with quantities as milli-units (MilliValue). */
export interface MetricTarget {
  type: MetricTargetType;
  averageUtilization: number | null;
  valueMilli: number | null;
  averageValueMilli: number | null;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values: string[];
}

export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: LabelSelectorRequirement[];
}

export interface ObjectReference {
  kind: string;
  name: string;
  apiVersion: string;
}

/** One entry of spec.metrics. `name` is the resource name (cpu, memory) or the metric name. */
export interface MetricSpec {
  type: MetricSourceType;
  name: string;
  /** ContainerResource only. */
  container: string | null;
  /** Pods/Object/External metric selector (metric.selector). */
  selector: LabelSelector | null;
  /** Object only. */
  describedObject: ObjectReference | null;
  target: MetricTarget;
}

export type ScalingPolicyType = 'Pods' | 'Percent';
export type SelectPolicy = 'Max' | 'Min' | 'Disabled';

export interface ScalingPolicy {
  type: ScalingPolicyType;
  value: number;
  periodSeconds: number;
}

/** HPAScalingRules completed with the API server's defaults. */
export interface ScalingRules {
  /** null only for scaleDown when the user left it out: the controller fills it from its flag. */
  stabilizationWindowSeconds: number | null;
  selectPolicy: SelectPolicy;
  policies: ScalingPolicy[];
  /** Per-direction tolerance (Kubernetes 1.33+); null means the controller's --horizontal-pod-autoscaler-tolerance. */
  tolerance: number | null;
}

export interface HpaBehavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

/** What a user may write in spec.behavior; completeBehavior fills the rest as the API server does. */
export interface PartialScalingRules {
  stabilizationWindowSeconds?: number | null;
  selectPolicy?: SelectPolicy | null;
  policies?: ScalingPolicy[] | null;
  tolerance?: number | null;
}

export interface PartialBehavior {
  scaleUp?: PartialScalingRules | null;
  scaleDown?: PartialScalingRules | null;
}

/** A past unstabilized recommendation (epoch ms). */
export interface TimedRecommendation {
  time: number;
  replicas: number;
}

/** A past scale event: `change` replicas added (scaleUpEvents) or removed (scaleDownEvents), never negative. */
export interface ScaleEvent {
  time: number;
  change: number;
}

/** What the controller remembers between syncs. */
export interface HpaHistory {
  /**
   * null means the controller has no memory of this HPA (its first sync): Kubernetes then records the current
   * replica count as the first recommendation. An empty list means it remembers nothing recent.
   */
  recommendations: TimedRecommendation[] | null;
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
}

/** kube-controller-manager flags that shape the HPA sync. */
export interface HpaOptions {
  /** --horizontal-pod-autoscaler-tolerance */
  tolerance: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period */
  cpuInitializationPeriodSeconds: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay */
  delayOfInitialReadinessStatusSeconds: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization */
  downscaleStabilizationSeconds: number;
  /** metrics-server's sample window (PodMetrics.window), used for CPU samples of freshly ready pods. */
  metricWindowSeconds: number;
}

export const DEFAULT_HPA_OPTIONS: Readonly<HpaOptions> = Object.freeze({
  tolerance: 0.1,
  cpuInitializationPeriodSeconds: 300,
  delayOfInitialReadinessStatusSeconds: 30,
  downscaleStabilizationSeconds: 300,
  metricWindowSeconds: 15,
});

export const PHASE_PENDING = 0;
export const PHASE_RUNNING = 1;
export const PHASE_SUCCEEDED = 2;
export const PHASE_FAILED = 3;
export const PHASE_UNKNOWN = 4;
export const POD_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;
export type PodPhase = (typeof POD_PHASES)[number];

/** The pods the HPA's selector matches, stored by column so a sync reads them without lookups. */
export interface PodTable {
  count: number;
  names: string[];
  /** PHASE_* codes */
  phase: Uint8Array;
  /** -1: no Ready condition, 0: Ready=False, 1: Ready=True */
  ready: Int8Array;
  /** epoch ms; NaN when the pod has no start time */
  startTime: Float64Array;
  /** epoch ms of the Ready condition's last transition; -Infinity when unset (Go's zero time) */
  readyTransitionTime: Float64Array;
  /** 1 when the pod has a deletion timestamp */
  deleted: Uint8Array;
  /** epoch ms of the pod's resource-metrics sample; NaN means "taken at now" */
  metricTime: Float64Array;
}

/** What the metrics APIs return for one spec.metrics entry, resolved against the pods. */
export interface MetricObservation {
  /** Per-pod sample in milli-units (NaN: the pod has no sample). Resource, ContainerResource, Pods. */
  values: Float64Array | null;
  /** Per-pod request in milli-units for utilization targets (NaN: unknown). */
  requests: Float64Array | null;
  /** calculateRequests' error (a pod or container without a request), checked when utilization is computed. */
  requestError: string | null;
  /** The metrics API's own error (nothing returned, container not present...). */
  fetchError: string | null;
  /** Object: the object's value; External: the values of the matching series. Milli-units. */
  objectValue: number | null;
  externalValues: Float64Array | null;
}

/** A parsed request: everything one HPA sync reads. Build it with parseHpaRequest. */
export interface HpaInput {
  minReplicas: number;
  maxReplicas: number;
  metrics: MetricSpec[];
  /** null: no spec.behavior (the controller's legacy path). Otherwise completed with the API server's defaults. */
  behavior: HpaBehavior | null;
  /** scale.spec.replicas */
  currentReplicas: number;
  /** scale.status.replicas (used by per-pod Object/External targets); defaults to currentReplicas */
  statusReplicas: number;
  /** epoch ms */
  now: number;
  namespace: string;
  pods: PodTable;
  /** aligned with metrics */
  observations: MetricObservation[];
  history: HpaHistory;
  options: HpaOptions;
  /** Minor version of the Kubernetes controller imitated (37 for v1.37); absent: DEFAULT_KUBERNETES_MINOR. */
  kubernetesMinor?: number;
  /** The HPA's ScaledToZero condition is True (v1.36+: the controller itself scaled the target to zero). */
  scaledToZero?: boolean;
}

export type ConditionType = 'AbleToScale' | 'ScalingActive' | 'ScalingLimited' | 'ScaledToZero';

export interface HpaCondition {
  type: ConditionType;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** One metric's proposal, as computeReplicasForMetric produces it. */
export interface MetricProposal {
  type: MetricSourceType;
  name: string;
  /** null when the metric could not be computed */
  replicas: number | null;
  /** current average utilization in percent (Utilization targets) */
  utilization: number | null;
  /** current value in milli-units: average for averages, total for Value targets */
  valueMilli: number | bigint | null;
  error: string | null;
  /** Kubernetes' description of the metric ("cpu resource utilization (percentage of request)") */
  description: string;
  /** the ScalingActive=False condition Kubernetes would set when this metric is the first invalid one */
  failureReason: string | null;
  failureMessage: string | null;
}

export interface MetricProposals {
  proposals: MetricProposal[];
  /** the largest proposal (computeReplicasForMetrics), or -1 when Kubernetes would not scale */
  replicas: number;
  /** description of the metric that produced `replicas` */
  metric: string;
  invalidCount: number;
  /** "invalid metrics (n invalid out of m), first error is: ..." when any metric failed */
  error: string | null;
  /** the condition computeReplicasForMetrics sets: ScalingActive True ValidMetricFound, or the first failure */
  condition: HpaCondition;
}

export interface FinalizeArgs {
  currentReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  /** null/undefined: legacy path (no spec.behavior) */
  behavior?: HpaBehavior | null;
  /** the combined proposal (metricDesiredReplicas) */
  proposed: number;
  history: HpaHistory;
  now: number;
  options?: Partial<HpaOptions>;
  /**
   * false: the caller keeps its own history (decide() remembers through rememberDecision), so the next one is not
   * built and result.history is the given history unchanged. The replica numbers are the same either way.
   */
  recordHistory?: boolean;
}

export type StabilizationReason = 'ReadyForNewScale' | 'ScaleUpStabilized' | 'ScaleDownStabilized';
export type LimitReason = 'DesiredWithinRange' | 'TooFewReplicas' | 'TooManyReplicas' | 'ScaleUpLimit' | 'ScaleDownLimit';

export interface FinalizeResult {
  /** the replica count the controller writes this sync (currentReplicas when nothing changes) */
  desiredReplicas: number;
  /** the unstabilized proposal recorded into history.recommendations */
  recommendation: number;
  /** after the stabilization window, before rate limits and min/max */
  stabilizedReplicas: number;
  stabilization: StabilizationReason;
  limit: LimitReason;
  /** one word for why desiredReplicas is what it is */
  reason: string;
  /** AbleToScale and ScalingLimited as Kubernetes sets them (SucceededRescale when the count changes) */
  conditions: HpaCondition[];
  rescale: boolean;
  /** the controller's memory after this sync */
  history: HpaHistory;
}

export interface HpaResult {
  desiredReplicas: number;
  metrics: MetricProposal[];
  /** the value recorded into history.recommendations, null when the sync recorded none */
  recommendation: number | null;
  reason: string;
  conditions: HpaCondition[];
  error: string | null;
  rescale: boolean;
  history: HpaHistory;
}
