// One HPA sync end to end (reconcileAutoscaler without the I/O): the zero/min/max branches, the metric proposals,
// normalization, and the response JSON of `scalepilot hpa evaluate`.
import { formatMilli } from '../quantity.js';
import { recordScaleEvent } from './behavior.js';
import { finalizeReplicas, rescaledMessage, withInitialRecommendation } from './finalize.js';
import { computeMetricProposals } from './metrics.js';
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
  return {
    desiredReplicas: desired,
    metrics: [],
    recommendation: null,
    reason,
    conditions: [{ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: rescaledMessage(desired) }],
    error: null,
    rescale: true,
    history: { recommendations: history.recommendations, scaleUpEvents: events.scaleUpEvents, scaleDownEvents: events.scaleDownEvents },
  };
}

/**
 * Computes one HorizontalPodAutoscaler sync exactly as the Kubernetes controller does. Pure: `input.now` is the
 * only clock, and the returned history is what the controller would remember for the next sync.
 */
export function evaluateHpa(input: HpaInput): HpaResult {
  const current = input.currentReplicas;
  const history = withInitialRecommendation(input.history, current, input.now);
  if (current === 0 && input.minReplicas !== 0) {
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
  if (current > input.maxReplicas) return clamp(input, history, input.maxReplicas, 'TooManyReplicas');
  if (current < input.minReplicas) return clamp(input, history, input.minReplicas, 'TooFewReplicas');

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
  return {
    desiredReplicas: f.desiredReplicas,
    metrics: proposals.proposals,
    recommendation: f.recommendation,
    reason: f.reason,
    conditions: [f.conditions[0]!, proposals.condition, f.conditions[1]!],
    error: null,
    rescale: f.rescale,
    history: f.history,
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
