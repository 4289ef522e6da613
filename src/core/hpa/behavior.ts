// spec.behavior as Kubernetes applies it: the API server's defaults, stabilization windows over past
// recommendations, Pods/Percent rate limits over past scale events, and the controller's memory updates.
// Every function here is pure and allocation-free except the ones that return the next history.
import type {
  HpaBehavior,
  LimitReason,
  PartialBehavior,
  PartialScalingRules,
  ScaleEvent,
  ScalingRules,
  StabilizationReason,
  TimedRecommendation,
} from './types.js';

/** autoscaling/v2 defaults for scaleUp: no window, the larger of +4 pods and +100% per 15 s. */
export function defaultScaleUpRules(): ScalingRules {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
    tolerance: null,
  };
}

/** autoscaling/v2 defaults for scaleDown: the window comes from the controller flag, -100% per 15 s. */
export function defaultScaleDownRules(): ScalingRules {
  return {
    stabilizationWindowSeconds: null,
    selectPolicy: 'Max',
    policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    tolerance: null,
  };
}

function completeRules(from: PartialScalingRules | null | undefined, to: ScalingRules): ScalingRules {
  if (!from) return to;
  if (from.selectPolicy != null) to.selectPolicy = from.selectPolicy;
  if (from.stabilizationWindowSeconds != null) to.stabilizationWindowSeconds = from.stabilizationWindowSeconds;
  if (from.policies != null) to.policies = from.policies.map((p) => ({ ...p }));
  if (from.tolerance != null) to.tolerance = from.tolerance;
  return to;
}

/**
 * Completes a partly written spec.behavior with the API server's defaults (GenerateHPAScaleUpRules /
 * GenerateHPAScaleDownRules). No behavior at all stays null: that is the controller's legacy path.
 */
export function completeBehavior(partial: PartialBehavior | null | undefined): HpaBehavior | null {
  if (partial == null) return null;
  return {
    scaleUp: completeRules(partial.scaleUp, defaultScaleUpRules()),
    scaleDown: completeRules(partial.scaleDown, defaultScaleDownRules()),
  };
}

/** The band around a usage ratio of 1 within which the controller keeps the current count. */
export interface Tolerances {
  scaleDown: number;
  scaleUp: number;
  /**
   * Before v1.33 the test was math.Abs(1.0-usageRatio) <= tolerance, which rounds differently on the boundary
   * (a ratio of exactly 1.1 is outside 0.1 there, inside since).
   */
  absolute?: boolean;
}

/** Whether a usage ratio is close enough to 1 to keep the current count (Tolerances.isWithin). */
export function isWithinTolerance(usageRatio: number, t: Tolerances): boolean {
  if (t.absolute === true) return Math.abs(1.0 - usageRatio) <= t.scaleUp;
  return 1.0 - t.scaleDown <= usageRatio && usageRatio <= 1.0 + t.scaleUp;
}

/** Per-direction tolerances: behavior's own when set (1.33+), otherwise the controller flag. */
export function tolerancesFor(behavior: HpaBehavior | null | undefined, flag: number): Tolerances {
  return {
    scaleDown: behavior?.scaleDown.tolerance ?? flag,
    scaleUp: behavior?.scaleUp.tolerance ?? flag,
  };
}

/** The legacy path's scale-up cap: max(2 × current, 4). */
export function legacyScaleUpLimit(currentReplicas: number): number {
  return Math.trunc(Math.max(2.0 * currentReplicas, 4.0));
}

/**
 * Legacy downscale stabilization (stabilizeRecommendation): the highest of the proposal and every recommendation
 * not older than the window. A recommendation exactly at the cutoff still counts.
 */
export function stabilizeLegacy(recommendations: readonly TimedRecommendation[], now: number, windowSeconds: number, desired: number): number {
  const cutoff = now - windowSeconds * 1000;
  let max = desired;
  for (let i = 0; i < recommendations.length; i++) {
    const r = recommendations[i]!;
    if (!(r.time < cutoff) && r.replicas > max) max = r.replicas;
  }
  return max;
}

/**
 * stabilizeRecommendationWithBehaviors: keeps the current count within [lowest recommendation of the scale-up
 * window, highest of the scale-down window], both windows including the proposal.
 */
export function stabilizeWithBehavior(
  recommendations: readonly TimedRecommendation[],
  now: number,
  scaleUpWindowSeconds: number,
  scaleDownWindowSeconds: number,
  currentReplicas: number,
  desired: number,
): number {
  const upCutoff = now - scaleUpWindowSeconds * 1000;
  const downCutoff = now - scaleDownWindowSeconds * 1000;
  let up = desired;
  let down = desired;
  for (let i = 0; i < recommendations.length; i++) {
    const r = recommendations[i]!;
    if (r.time > upCutoff && r.replicas < up) up = r.replicas;
    if (r.time > downCutoff && r.replicas > down) down = r.replicas;
  }
  let recommendation = currentReplicas;
  if (recommendation < up) recommendation = up;
  if (recommendation > down) recommendation = down;
  return recommendation;
}

/**
 * The controller's recommendation log after recording `replicas`: it overwrites the last entry older than
 * `oldBefore` (epoch ms) or appends, so the log never outgrows the windows.
 */
export function recordRecommendation(
  recommendations: readonly TimedRecommendation[],
  replicas: number,
  now: number,
  oldBefore: number,
): TimedRecommendation[] {
  let old = -1;
  for (let i = 0; i < recommendations.length; i++) if (recommendations[i]!.time < oldBefore) old = i;
  const next = recommendations.slice();
  const entry = { time: now, replicas };
  if (old >= 0) next[old] = entry;
  else next.push(entry);
  return next;
}

/** getReplicasChangePerPeriod: replicas changed by events strictly newer than now − period. */
export function replicasChangeInPeriod(events: readonly ScaleEvent[], now: number, periodSeconds: number): number {
  const cutoff = now - periodSeconds * 1000;
  let sum = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.time > cutoff) sum += e.change;
  }
  return sum;
}

const MAX_INT32 = 2147483647;
const MIN_INT32 = -2147483648;

/** calculateScaleUpLimitWithScalingRules: the most replicas the policies allow now. */
export function scaleUpLimitWithRules(
  currentReplicas: number,
  rules: ScalingRules,
  scaleUpEvents: readonly ScaleEvent[],
  scaleDownEvents: readonly ScaleEvent[],
  now: number,
): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  const useMin = rules.selectPolicy === 'Min';
  let result = useMin ? MAX_INT32 : MIN_INT32;
  const policies = rules.policies;
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i]!;
    const added = replicasChangeInPeriod(scaleUpEvents, now, p.periodSeconds);
    const removed = replicasChangeInPeriod(scaleDownEvents, now, p.periodSeconds);
    const periodStart = currentReplicas - added + removed;
    let proposed = 0;
    if (p.type === 'Pods') proposed = periodStart + p.value;
    // rounded up so a small percentage still adds a pod
    else proposed = Math.ceil(periodStart * (1 + p.value / 100));
    result = useMin ? (proposed < result ? proposed : result) : proposed > result ? proposed : result;
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors: the fewest replicas the policies allow now. */
export function scaleDownLimitWithRules(
  currentReplicas: number,
  rules: ScalingRules,
  scaleUpEvents: readonly ScaleEvent[],
  scaleDownEvents: readonly ScaleEvent[],
  now: number,
): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  const useMin = rules.selectPolicy === 'Min';
  // for scaling down the smallest change is the largest count
  let result = useMin ? MIN_INT32 : MAX_INT32;
  const policies = rules.policies;
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i]!;
    const added = replicasChangeInPeriod(scaleUpEvents, now, p.periodSeconds);
    const removed = replicasChangeInPeriod(scaleDownEvents, now, p.periodSeconds);
    const periodStart = currentReplicas - added + removed;
    let proposed = 0;
    if (p.type === 'Pods') proposed = periodStart - p.value;
    // Go converts to int32, truncating toward zero
    else proposed = Math.trunc(periodStart * (1 - p.value / 100));
    result = useMin ? (proposed > result ? proposed : result) : proposed < result ? proposed : result;
  }
  return result;
}

export const LIMIT_MESSAGES: Readonly<Record<LimitReason, string>> = Object.freeze({
  DesiredWithinRange: 'the desired count is within the acceptable range',
  TooFewReplicas: 'the desired replica count is less than the minimum replica count',
  TooManyReplicas: 'the desired replica count is more than the maximum replica count',
  ScaleUpLimit: 'the desired replica count is increasing faster than the maximum scale rate',
  ScaleDownLimit: 'the desired replica count is decreasing faster than the maximum scale rate',
});

export const STABILIZATION_MESSAGES: Readonly<Record<StabilizationReason, string>> = Object.freeze({
  ReadyForNewScale: 'recommended size matches current size',
  ScaleUpStabilized: 'recent recommendations were lower than current one, applying the lowest recent recommendation',
  ScaleDownStabilized: 'recent recommendations were higher than current one, applying the highest recent recommendation',
});

/** Result holder for the limit functions, so a simulator can reuse one object per step. */
export interface Limited {
  replicas: number;
  reason: LimitReason;
}

/** convertDesiredReplicasWithRules: the legacy path's min/max clamp and max(2 × current, 4) scale-up cap. */
export function limitLegacy(currentReplicas: number, desired: number, minReplicas: number, maxReplicas: number, out: Limited = { replicas: 0, reason: 'DesiredWithinRange' }): Limited {
  const scaleUpLimit = legacyScaleUpLimit(currentReplicas);
  let maximumAllowed: number;
  let reason: LimitReason;
  if (maxReplicas > scaleUpLimit) {
    maximumAllowed = scaleUpLimit;
    reason = 'ScaleUpLimit';
  } else {
    maximumAllowed = maxReplicas;
    reason = 'TooManyReplicas';
  }
  if (desired < minReplicas) {
    out.replicas = minReplicas;
    out.reason = 'TooFewReplicas';
  } else if (desired > maximumAllowed) {
    out.replicas = maximumAllowed;
    out.reason = reason;
  } else {
    out.replicas = desired;
    out.reason = 'DesiredWithinRange';
  }
  return out;
}

/** convertDesiredReplicasWithBehaviorRate: min/max and the behavior's rate policies over past events. */
export function limitWithBehavior(
  currentReplicas: number,
  desired: number,
  minReplicas: number,
  maxReplicas: number,
  behavior: HpaBehavior,
  scaleUpEvents: readonly ScaleEvent[],
  scaleDownEvents: readonly ScaleEvent[],
  now: number,
  out: Limited = { replicas: 0, reason: 'DesiredWithinRange' },
): Limited {
  if (desired > currentReplicas) {
    let limit = scaleUpLimitWithRules(currentReplicas, behavior.scaleUp, scaleUpEvents, scaleDownEvents, now);
    // events from a faster policy can put the limit below the current count: hold instead of scaling down
    if (limit < currentReplicas) limit = currentReplicas;
    let maximumAllowed = maxReplicas;
    let reason: LimitReason;
    if (maximumAllowed > limit) {
      maximumAllowed = limit;
      reason = 'ScaleUpLimit';
    } else reason = 'TooManyReplicas';
    if (desired > maximumAllowed) {
      out.replicas = maximumAllowed;
      out.reason = reason;
      return out;
    }
  } else if (desired < currentReplicas) {
    let limit = scaleDownLimitWithRules(currentReplicas, behavior.scaleDown, scaleUpEvents, scaleDownEvents, now);
    if (limit > currentReplicas) limit = currentReplicas;
    let minimumAllowed = minReplicas;
    let reason: LimitReason;
    if (minimumAllowed < limit) {
      minimumAllowed = limit;
      reason = 'ScaleDownLimit';
    } else reason = 'TooFewReplicas';
    if (desired < minimumAllowed) {
      out.replicas = minimumAllowed;
      out.reason = reason;
      return out;
    }
  }
  out.replicas = desired;
  out.reason = 'DesiredWithinRange';
  return out;
}

/** The longest periodSeconds among the policies (getLongestPolicyPeriod). */
export function longestPolicyPeriod(rules: ScalingRules): number {
  let longest = 0;
  for (const p of rules.policies) if (p.periodSeconds > longest) longest = p.periodSeconds;
  return longest;
}

/**
 * storeScaleEvent: after a rescale with spec.behavior, the event log of that direction gains the change,
 * overwriting the last event older than the longest policy period. Without behavior nothing is stored.
 */
export function recordScaleEvent(
  behavior: HpaBehavior | null | undefined,
  scaleUpEvents: readonly ScaleEvent[],
  scaleDownEvents: readonly ScaleEvent[],
  previousReplicas: number,
  newReplicas: number,
  now: number,
): { scaleUpEvents: ScaleEvent[]; scaleDownEvents: ScaleEvent[] } {
  // lists are never mutated, so an unchanged one is shared with the previous history
  if (!behavior || previousReplicas === newReplicas) return { scaleUpEvents: scaleUpEvents as ScaleEvent[], scaleDownEvents: scaleDownEvents as ScaleEvent[] };
  const up = newReplicas > previousReplicas;
  const events = up ? scaleUpEvents : scaleDownEvents;
  const cutoff = now - longestPolicyPeriod(up ? behavior.scaleUp : behavior.scaleDown) * 1000;
  let old = -1;
  for (let i = 0; i < events.length; i++) if (events[i]!.time < cutoff) old = i;
  const next = events.slice();
  const entry = { time: now, change: up ? newReplicas - previousReplicas : previousReplicas - newReplicas };
  if (old >= 0) next[old] = entry;
  else next.push(entry);
  return up ? { scaleUpEvents: next, scaleDownEvents: scaleDownEvents as ScaleEvent[] } : { scaleUpEvents: scaleUpEvents as ScaleEvent[], scaleDownEvents: next };
}
