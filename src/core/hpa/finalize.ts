// normalizeDesiredReplicas / normalizeDesiredReplicasWithBehaviors: turns a proposed replica count into the count
// written this sync (stabilization window, then min/max and rate limits), with the conditions Kubernetes sets and
// the controller memory it keeps. Shared by evaluateHpa and by any caller with a proposal of its own.
import {
  LIMIT_MESSAGES,
  STABILIZATION_MESSAGES,
  limitLegacy,
  limitWithBehavior,
  recordRecommendation,
  recordScaleEvent,
  stabilizeLegacy,
  stabilizeWithBehavior,
  type Limited,
} from './behavior.js';
import {
  DEFAULT_HPA_OPTIONS,
  type FinalizeArgs,
  type FinalizeResult,
  type HpaCondition,
  type HpaHistory,
  type StabilizationReason,
} from './types.js';

/**
 * recordInitialRecommendation: a controller that has no memory of this HPA starts its log with the current
 * replica count at `now`. A history that already has a (possibly empty) log is returned unchanged.
 */
export function withInitialRecommendation(history: HpaHistory, currentReplicas: number, now: number): HpaHistory {
  if (history.recommendations !== null) return history;
  return { ...history, recommendations: [{ time: now, replicas: currentReplicas }] };
}

const scratchLimit: Limited = { replicas: 0, reason: 'DesiredWithinRange' };

/** The message of AbleToScale=True SucceededRescale. */
export function rescaledMessage(replicas: number): string {
  return 'the HPA controller was able to update the target scale to ' + replicas;
}

/**
 * Normalizes a proposal exactly as the HPA controller does once its metrics are computed. `desiredReplicas` is
 * the count written to the scale subresource (the current count when nothing changes).
 */
export function finalizeReplicas(args: FinalizeArgs): FinalizeResult {
  const { currentReplicas, minReplicas, maxReplicas, proposed, now } = args;
  const behavior = args.behavior ?? null;
  // the only flag normalization reads
  const downscaleWindow = args.options?.downscaleStabilizationSeconds ?? DEFAULT_HPA_OPTIONS.downscaleStabilizationSeconds;
  const record = args.recordHistory !== false;
  const history = withInitialRecommendation(args.history, currentReplicas, now);
  const recs = history.recommendations!;

  let stabilized: number;
  let stabilization: StabilizationReason;
  let nextRecs;
  let limit: Limited;
  if (behavior === null) {
    const window = downscaleWindow;
    stabilized = stabilizeLegacy(recs, now, window, proposed);
    stabilization = stabilized !== proposed ? 'ScaleDownStabilized' : 'ReadyForNewScale';
    nextRecs = record ? recordRecommendation(recs, proposed, now, now - window * 1000) : recs;
    limit = limitLegacy(currentReplicas, stabilized, minReplicas, maxReplicas, scratchLimit);
  } else {
    const upWindow = behavior.scaleUp.stabilizationWindowSeconds ?? 0;
    // maybeInitScaleDownStabilizationWindow: an unset scale-down window takes the controller flag
    const downWindow = behavior.scaleDown.stabilizationWindowSeconds ?? downscaleWindow;
    stabilized = stabilizeWithBehavior(recs, now, upWindow, downWindow, currentReplicas, proposed);
    stabilization = stabilized === proposed ? 'ReadyForNewScale' : proposed >= currentReplicas ? 'ScaleUpStabilized' : 'ScaleDownStabilized';
    nextRecs = record ? recordRecommendation(recs, proposed, now, now - Math.max(upWindow, downWindow) * 1000) : recs;
    limit = limitWithBehavior(currentReplicas, stabilized, minReplicas, maxReplicas, behavior, history.scaleUpEvents, history.scaleDownEvents, now, scratchLimit);
  }
  const desired = limit.replicas;
  const limitReason = limit.reason;
  const limited = desired !== stabilized;
  const rescale = desired !== currentReplicas;

  const ableToScale: HpaCondition = rescale
    ? { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: rescaledMessage(desired) }
    : { type: 'AbleToScale', status: 'True', reason: stabilization, message: STABILIZATION_MESSAGES[stabilization] };
  const scalingLimited: HpaCondition = {
    type: 'ScalingLimited',
    status: limited ? 'True' : 'False',
    reason: limitReason,
    message: LIMIT_MESSAGES[limitReason],
  };
  return {
    desiredReplicas: desired,
    recommendation: proposed,
    stabilizedReplicas: stabilized,
    stabilization,
    limit: limitReason,
    reason: limited ? limitReason : stabilization !== 'ReadyForNewScale' ? stabilization : limitReason,
    conditions: [ableToScale, scalingLimited],
    rescale,
    history: record ? { recommendations: nextRecs, ...recordScaleEvent(behavior, history.scaleUpEvents, history.scaleDownEvents, currentReplicas, desired, now) } : args.history,
  };
}
