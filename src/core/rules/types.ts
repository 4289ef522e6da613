// The parsed shape of sustained-threshold rules and bands: the runbooks' "cpu > 70 for 10m → +1 replica" as data.
import type { TimedValue } from '../types.js';
import type { SampleWindow } from '../samples.js';

export type ComparisonOp = '>' | '>=' | '<' | '<=';
export type Severity = 'warning' | 'critical';
export type StepMode = 'add' | 'percent' | 'multiply' | 'set';

/**
 * Change the replica count. `add` takes a signed count (+1, -2), `percent` a signed percentage (+50, -25),
 * `multiply` a factor (2, 0.5), `set` an absolute count.
 */
export interface ScaleAction {
  kind: 'scale';
  mode: StepMode;
  amount: number;
}

/**
 * Change a container's cpu (cores) or memory (bytes) request or limit. `add` takes signed cores/bytes.
 * `max` caps a raise and `min` floors a cut, so a repeating rule cannot run away.
 */
export interface ResizeAction {
  kind: 'resize';
  resource: 'cpu' | 'memory';
  field: 'requests' | 'limits';
  mode: StepMode;
  amount: number;
  max?: number;
  min?: number;
}

export type RuleAction = ScaleAction | ResizeAction;

export interface SustainedRule {
  name: string;
  /** key into the series record */
  metric: string;
  op: ComparisonOp;
  threshold: number;
  /** how long every sample must breach before the rule fires (Prometheus `for:`); 0 fires on the first breach */
  forMs: number;
  severity: Severity;
  action: RuleAction;
  /** after this rule acts, it does not act again for this long */
  cooldownMs: number;
}

/**
 * Hysteresis band: scale up when the metric stays above `upper`, down when it stays below `lower`, hold between.
 * A band is two sustained rules sharing a metric (see expandBand).
 */
export interface ScalingBand {
  name: string;
  metric: string;
  upper: number;
  lower: number;
  upForMs: number;
  downForMs: number;
  up: ScaleAction;
  down: ScaleAction;
  upCooldownMs: number;
  downCooldownMs: number;
  severity?: Severity;
}

/** Current resources as numbers: cpu in cores, memory in bytes. */
export interface NumericResources {
  requests?: { cpu?: number; memory?: number };
  limits?: { cpu?: number; memory?: number };
}

export interface RulesState {
  currentReplicas: number;
  /** when each rule last acted, epoch ms */
  lastFired: Record<string, number>;
  /** when any rule last scaled up / down, for per-direction cooldowns */
  lastScaleUp?: number;
  lastScaleDown?: number;
  resources?: NumericResources;
}

export interface RulesOptions {
  minReplicas?: number;
  maxReplicas?: number;
  /** no rule scales up within this long after any rule scaled up */
  scaleUpCooldownMs?: number;
  /** no rule scales down within this long after any scaling (up or down) */
  scaleDownCooldownMs?: number;
  /**
   * Samples further apart than this break a breach run, and a series whose newest sample is older than this is
   * stale (Prometheus' default lookback, 5m).
   */
  staleAfterMs?: number;
}

/** each metric's samples: a { t, v } list, or the controller's window of them */
export type Series = Record<string, readonly TimedValue[] | SampleWindow>;

export type RuleStatus = 'inactive' | 'pending' | 'firing';

export interface RuleState {
  state: RuleStatus;
  /** first sample of the current unbroken breach run */
  activeSince?: number;
  /** samples in [now - for, now] */
  samplesInWindow: number;
  /** newest sample at or before now */
  lastValue?: number;
  lastSampleAt?: number;
  /** why the rule is in this state, in one clause */
  detail: string;
}

export type Suppression = 'cooldown' | 'direction-cooldown' | 'overridden' | 'no-change' | 'unknown-resource';

export interface ResizeProposal {
  resource: 'cpu' | 'memory';
  field: 'requests' | 'limits';
  from: number;
  to: number;
}

export interface RuleProposal {
  rule: string;
  metric: string;
  severity: Severity;
  state: RuleStatus;
  activeSince?: number;
  direction: 'up' | 'down' | 'none';
  /** replica count this rule asks for (scale rules that fire) */
  replicas?: number;
  resize?: ResizeProposal;
  /** set when the rule fires but does not act this time */
  suppressed?: Suppression;
  /** one sentence with the numbers behind the outcome */
  reason: string;
}

export interface RulesDecision {
  proposals: RuleProposal[];
  /** replicas chosen from firing scale rules, clamped to min/max; absent when no scale rule acts */
  scaleProposal?: number;
  /** rule whose proposal was chosen */
  scaleRule?: string;
  resizes: Array<ResizeProposal & { rule: string }>;
  /** state to keep if the proposals are carried out */
  state: RulesState;
  reason: string;
}
