// The data decide() reads and returns: what was observed, what is remembered between syncs, and the decision.
import type { SampleWindow } from './samples.js';
import type { SeasonalState } from './forecast/seasonal.js';
import type { TimedRecommendation } from './hpa/types.js';

/**
 * The most replicas scalepilot sets or accepts anywhere: minReplicas and maxReplicas in a config, a manual scale
 * through the API, a provider's starting count. Far above any real deployment, low enough that sums of replicas and
 * quantities stay exact.
 */
export const MAX_REPLICAS = 100_000;

/** Kubernetes-style resources, quantities as strings ("500m", "512Mi"). */
export interface Resources {
  requests?: { cpu?: string; memory?: string };
  limits?: { cpu?: string; memory?: string };
}

/** One replica as the decision engine sees it (Kubernetes pod semantics; quantities already parsed). */
export interface ObservedPod {
  name: string;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  ready: boolean;
  /** epoch ms */
  startTime?: number;
  readyTransitionTime?: number;
  deleted?: boolean;
  /** requests per resource, in milli-units (cpu millicores, memory milli-bytes as Kubernetes' MilliValue) */
  requests?: Partial<Record<'cpu' | 'memory', number>>;
  /** usage per resource, milli-units */
  usage?: Partial<Record<'cpu' | 'memory', number>>;
  /** per-pod custom metric values by metric name (milli-units) */
  metrics?: Record<string, number>;
  containers?: Array<{ name: string; requests?: Partial<Record<'cpu' | 'memory', number>>; usage?: Partial<Record<'cpu' | 'memory', number>> }>;
}

import type { BudgetView, BudgetCap } from './budget.js';

export interface Observation {
  /** replicas the target is set to run */
  currentReplicas: number;
  readyReplicas?: number;
  pods: ObservedPod[];
  /** latest aggregate value of each configured metric (by its name in the config) */
  values: Record<string, number>;
  /** metrics whose read failed this sync: name → error message. Failed metrics never count as zero. */
  failures: Record<string, string>;
  resources?: Resources;
  /** shared budgets this service uses (core/budget.ts), as the controller or simulator sees them this sync */
  budgets?: Record<string, BudgetView>;
}

export interface TimedValue {
  t: number;
  v: number;
}

/** What the controller remembers between syncs; persisted so a restart continues windows and limits. */
export interface History {
  /** in the HPA engine's own shape, so it reads them as they are, without a copy */
  recommendations: TimedRecommendation[];
  scaleUpEvents: Array<{ t: number; change: number }>;
  scaleDownEvents: Array<{ t: number; change: number }>;
  /** recent values of each metric (for `for:` rules and forecasts), oldest first, in typed arrays */
  series: Record<string, SampleWindow>;
  /** last time each rule (or band) fired */
  lastFired: Record<string, number>;
  /** KEDA-style queue state */
  queue?: { lastActiveTime?: number; consecutiveFailures: number };
  /** demand history of a seasonal predictive policy (bucketed peaks and forecast errors, in typed arrays) */
  demand?: SeasonalState;
}

export function emptyHistory(): History {
  return { recommendations: [], scaleUpEvents: [], scaleDownEvents: [], series: {}, lastFired: {} };
}

export type ProposalSource = 'hpa' | 'rule' | 'band' | 'queue' | 'schedule' | 'predictive' | 'fallback';

export interface Proposal {
  source: ProposalSource;
  /** metric or rule name */
  name: string;
  replicas: number | null;
  /** one sentence: the numbers behind the proposal */
  detail: string;
}

export interface Decision {
  service: string;
  /** epoch ms */
  time: number;
  currentReplicas: number;
  desiredReplicas: number;
  action: 'scale-up' | 'scale-down' | 'hold' | 'resize' | 'paused';
  /** one sentence that explains the decision to an operator */
  reason: string;
  /** machine reason, Kubernetes' where the concept is Kubernetes' (ScaleUpLimit, TooManyReplicas, ...) */
  reasonCode: string;
  proposals: Proposal[];
  /** max over proposals before min/max and behavior */
  proposed: number;
  /** the unstabilized proposal, recorded into the history's recommendations */
  recommendation: number;
  /**
   * On a controller's first sync of a service (no memory), Kubernetes records the current replica count as the
   * first recommendation; it is carried here so the controller, the simulator and a store reload all keep it.
   */
  initialRecommendation?: number;
  minReplicas: number;
  maxReplicas: number;
  conditions: Array<{ type: string; status: 'True' | 'False'; reason: string; message: string }>;
  resize?: Resources;
  /** metric read errors that shaped the decision */
  errors: string[];
  /** state to remember for the next sync (rule firing times, queue state) */
  lastFired: Record<string, number>;
  queue?: History['queue'];
  /** the tightest shared-budget cap, when the service uses budgets */
  budget?: BudgetCap;
}
