// One HPA sync end to end (reconcileAutoscaler without the I/O): the zero/min/max branches, the metric proposals,
// normalization, and the response JSON of `scalepilot hpa evaluate`.
import { formatMilli } from '../quantity.js';
import { recordScaleEvent } from './behavior.js';
import { finalizeReplicas, rescaledMessage, withInitialRecommendation } from './finalize.js';
import { computeMetricProposals } from './metrics.js';
import { DEFAULT_KUBERNETES_MINOR, scaleFromZeroNeedsCondition, scaleToZeroGate } from './version.js';
import type { HpaCondition, HpaHistory, HpaInput, HpaResult } from './types.js';

const SUCCEEDED_GET_SCALE: HpaCondition = Object.freeze({
  type: 'AbleToScale',
  status: 'True',
  reason: 'SucceededGetScale',
  message: "the HPA controller was able to get the target's current scale",
}) as HpaCondition;

const SCALING_DISABLED: HpaCondition = Object.freeze({
  type: 'ScalingActive',
  status: 'False',
  reason: 'ScalingDisabled',
  message: 'scaling is disabled since the replica count of the target is zero',
}) as HpaCondition;

/** A rescale decided before any metric is read (replicas outside [minReplicas, maxReplicas]). */
function clamp(input: HpaInput, history: HpaHistory, desired: number, reason: string): HpaResult {
  const events = recordScaleEvent(input.behavior, history.scaleUpEvents, history.scaleDownEvents, input.currentReplicas, desired, input.now);
  const conditions: HpaCondition[] = [{ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: rescaledMessage(desired) }];
  const z = scaledToZeroCondition(input, desired);
  if (z !== null) conditions.push(z);
  return {
    desiredReplicas: desired,
    metrics: [],
    recommendation: null,
    reason,
    conditions,
    error: null,
    rescale: true,
    history: { recommendations: history.recommendations, scaleUpEvents: events.scaleUpEvents, scaleDownEvents: events.scaleDownEvents },
  };
}

function hasObjectOrExternalMetric(input: HpaInput): boolean {
  return input.metrics.some((m) => m.type === 'Object' || m.type === 'External');
}

/**
 * With the HPAScaleToZero gate on, every rescale records whether the controller itself took the target to zero;
 * that condition is what lets a later sync scale back up from zero.
 */
function scaledToZeroCondition(input: HpaInput, desired: number): HpaCondition | null {
  const minor = input.kubernetesMinor ?? DEFAULT_KUBERNETES_MINOR;
  if (!scaleFromZeroNeedsCondition(minor) || !scaleToZeroGate(minor, input.minReplicas)) return null;
  if (input.currentReplicas > 0 && desired === 0 && input.minReplicas === 0 && hasObjectOrExternalMetric(input)) {
    return { type: 'ScaledToZero', status: 'True', reason: 'ScaledToZero', message: 'the HPA controller scaled the workload to zero' };
  }
  return { type: 'ScaledToZero', status: 'False', reason: 'NotScaledToZero', message: 'the HPA controller did not scale the workload to zero' };
}

/**
 * Whether a sync at zero replicas reads metrics. Before v1.36 it does whenever minReplicas is 0; since then only
 * when the HPA's ScaledToZero condition is True (the controller scaled the target to zero, not a person), with an
 * Object or External metric, or with minReplicas raised above 0 since.
 */
function computesAtZero(input: HpaInput): { compute: boolean; liftToMin: boolean } {
  const minor = input.kubernetesMinor ?? DEFAULT_KUBERNETES_MINOR;
  if (!scaleFromZeroNeedsCondition(minor)) return { compute: input.minReplicas === 0, liftToMin: false };
  const condition = scaleToZeroGate(minor, input.minReplicas) && input.scaledToZero === true;
  const canScaleFromZero = condition && hasObjectOrExternalMetric(input);
  const raised = input.minReplicas !== 0 && condition;
  return { compute: raised || canScaleFromZero, liftToMin: raised };
}

/**
 * Computes one HorizontalPodAutoscaler sync exactly as the Kubernetes controller does. Pure: `input.now` is the
 * only clock, and the returned history is what the controller would remember for the next sync.
 */
export function evaluateHpa(input: HpaInput): HpaResult {
  const current = input.currentReplicas;
  const history = withInitialRecommendation(input.history, current, input.now);
  const atZero = current === 0 ? computesAtZero(input) : null;
  if (atZero !== null && !atZero.compute) {
    return {
      desiredReplicas: 0,
      metrics: [],
      recommendation: null,
      reason: 'ScalingDisabled',
      conditions: [SUCCEEDED_GET_SCALE, SCALING_DISABLED],
      error: null,
      rescale: false,
      history,
    };
  }
  if (atZero === null && current > input.maxReplicas) return clamp(input, history, input.maxReplicas, 'TooManyReplicas');
  if (atZero === null && current < input.minReplicas) return clamp(input, history, input.minReplicas, 'TooFewReplicas');

  const proposals = computeMetricProposals(input);
  if (proposals.replicas === -1) {
    // Kubernetes returns before normalizing: nothing is recorded and the scale stays where it is
    return {
      desiredReplicas: current,
      metrics: proposals.proposals,
      recommendation: null,
      reason: proposals.condition.reason,
      conditions: [SUCCEEDED_GET_SCALE, proposals.condition],
      error: proposals.error,
      rescale: false,
      history,
    };
  }
  const f = finalizeReplicas({
    currentReplicas: current,
    minReplicas: input.minReplicas,
    maxReplicas: input.maxReplicas,
    behavior: input.behavior,
    proposed: proposals.replicas,
    history,
    now: input.now,
    options: input.options,
  });
  let desired = f.desiredReplicas;
  let ableToScale = f.conditions[0]!;
  let nextHistory = f.history;
  // leaving zero after minReplicas was raised: never below the new minimum
  if (atZero !== null && atZero.liftToMin && desired < input.minReplicas) {
    desired = input.minReplicas;
    ableToScale = { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: rescaledMessage(desired) };
    const events = recordScaleEvent(input.behavior, history.scaleUpEvents, history.scaleDownEvents, current, desired, input.now);
    nextHistory = { recommendations: f.history.recommendations, scaleUpEvents: events.scaleUpEvents, scaleDownEvents: events.scaleDownEvents };
  }
  const rescale = desired !== current;
  const conditions = [ableToScale, proposals.condition, f.conditions[1]!];
  if (rescale) {
    const z = scaledToZeroCondition(input, desired);
    if (z !== null) conditions.push(z);
  }
  return {
    desiredReplicas: desired,
    metrics: proposals.proposals,
    recommendation: f.recommendation,
    reason: f.reason,
    conditions,
    // Kubernetes scales on the metrics it could read and still reports the ones it could not
    error: proposals.error,
    rescale,
    history: nextHistory,
  };
}

export interface ContractMetric {
  type: string;
  name: string;
  proposedReplicas: number | null;
  utilization: number | null;
  value: string | null;
  error: string | null;
}

export interface ContractResponse {
  desiredReplicas: number;
  metrics: ContractMetric[];
  /** the first utilization-target metric's current utilization (percent), null when there is none */
  utilization: number | null;
  recommendation: number | null;
  reason: string;
  conditions: HpaCondition[];
  error: string | null;
}

function firstUtilization(result: HpaResult): number | null {
  for (const m of result.metrics) if (m.utilization !== null) return m.utilization;
  return null;
}

/** The response JSON of contracts/hpa-evaluate.md (values printed as Kubernetes quantities). */
export function toContractResponse(result: HpaResult): ContractResponse {
  return {
    desiredReplicas: result.desiredReplicas,
    metrics: result.metrics.map((m) => ({
      type: m.type,
      name: m.name,
      proposedReplicas: m.replicas,
      utilization: m.utilization,
      value: m.valueMilli === null ? null : formatMilli(m.valueMilli),
      error: m.error,
    })),
    utilization: firstUtilization(result),
    recommendation: result.recommendation,
    reason: result.reason,
    conditions: result.conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
    error: result.error,
  };
}
