// KEDA-style queue scaling for one trigger: activation and scale to/from zero (the KEDA operator's part), the
// per-replica AverageValue target (the HPA's part KEDA relies on), and fallback after repeated failed reads.
import { formatDuration } from './duration.js';

export type FallbackBehavior = 'static' | 'currentReplicas' | 'currentReplicasIfHigher' | 'currentReplicasIfLower';

export interface QueueSpec {
  /** items one replica should handle (KEDA's trigger target; HPA AverageValue) */
  targetValue: number;
  /** the scaler is active only when the value is above this (KEDA activation*, default 0) */
  activationThreshold?: number;
  /** default 0: scale to zero when inactive */
  minReplicaCount?: number;
  /** default 100, as KEDA */
  maxReplicaCount?: number;
  /** replicas while inactive, when it differs from minReplicaCount (must be below it; KEDA supports only 0) */
  idleReplicaCount?: number;
  /** time since the scaler was last active before scaling to idle (default 5m, as KEDA) */
  cooldownPeriodMs?: number;
  fallback?: { failureThreshold: number; replicas: number; behavior?: FallbackBehavior };
  /** the HPA's tolerance around the target (default 0.1) */
  tolerance?: number;
}

/** Remembered between evaluations (History.queue). */
export interface QueueState {
  lastActiveTime?: number;
  consecutiveFailures: number;
}

export type QueueReading = { value: number } | { error: string };

export type QueuePhase =
  | 'activate' // from idle to minReplicaCount (at least 1) because the scaler became active
  | 'scale' // per-replica target decides (HPA phase)
  | 'cool-down' // inactive, waiting out cooldownPeriod before scaling to idle; per-replica target decides meanwhile
  | 'deactivate' // inactive for longer than cooldownPeriod: scale to idle
  | 'idle' // inactive and already at idle
  | 'fallback' // too many failed reads in a row: fallback replicas
  | 'read-error' // read failed, fallback not (yet) due: no decision
  | 'invalid'; // spec cannot be evaluated

export interface QueueResult {
  /** replicas to run; null means the queue makes no decision this time (keep what runs, let other sources decide) */
  replicas: number | null;
  active: boolean;
  phase: QueuePhase;
  /** what the per-replica target alone asks for, when a value was read */
  desired?: number;
  reason: string;
  state: QueueState;
}

const DEFAULT_COOLDOWN_MS = 300_000;
const DEFAULT_MAX = 100;
const DEFAULT_TOLERANCE = 0.1;

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Problems with a queue spec, each naming the field and the fix. */
export function validateQueueSpec(spec: QueueSpec, at = 'queue'): string[] {
  const p: string[] = [];
  if (!spec || typeof spec !== 'object') return [`${at} must be an object`];
  if (typeof spec.targetValue !== 'number' || !(spec.targetValue > 0) || !Number.isFinite(spec.targetValue)) {
    p.push(`${at}.targetValue must be a positive number of items per replica`);
  }
  if (spec.activationThreshold !== undefined && !Number.isFinite(spec.activationThreshold)) {
    p.push(`${at}.activationThreshold must be a number`);
  }
  const min = spec.minReplicaCount ?? 0;
  const max = spec.maxReplicaCount ?? DEFAULT_MAX;
  if (!isInt(min) || min < 0) p.push(`${at}.minReplicaCount must be a whole number >= 0`);
  if (!isInt(max) || max < Math.max(1, min)) p.push(`${at}.maxReplicaCount must be a whole number >= max(1, minReplicaCount)`);
  if (spec.idleReplicaCount !== undefined && (!isInt(spec.idleReplicaCount) || spec.idleReplicaCount < 0 || spec.idleReplicaCount >= min)) {
    p.push(`${at}.idleReplicaCount must be a whole number below minReplicaCount (${min}); KEDA supports only 0`);
  }
  if (spec.cooldownPeriodMs !== undefined && !(spec.cooldownPeriodMs >= 0)) p.push(`${at}.cooldownPeriod must be a duration such as 5m`);
  if (spec.tolerance !== undefined && !(spec.tolerance >= 0 && spec.tolerance < 1)) p.push(`${at}.tolerance must be between 0 and 1`);
  if (spec.fallback) {
    if (!isInt(spec.fallback.failureThreshold) || spec.fallback.failureThreshold < 0) {
      p.push(`${at}.fallback.failureThreshold must be a whole number >= 0`);
    }
    if (!isInt(spec.fallback.replicas) || spec.fallback.replicas < 0) p.push(`${at}.fallback.replicas must be a whole number >= 0`);
    const b = spec.fallback.behavior;
    if (b !== undefined && !['static', 'currentReplicas', 'currentReplicasIfHigher', 'currentReplicasIfLower'].includes(b)) {
      p.push(`${at}.fallback.behavior "${String(b)}" must be static, currentReplicas, currentReplicasIfHigher or currentReplicasIfLower`);
    }
  }
  return p;
}

function n(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * The HPA's AverageValue calculation for an external metric: ceil(total / target), unless the usage ratio is within
 * the tolerance of 1. Milli-unit integers, as Kubernetes computes, so 2.1 / 0.3 is 7 and not 8.
 */
export function averageValueReplicas(value: number, target: number, currentReplicas: number, tolerance = DEFAULT_TOLERANCE): number {
  const usage = Math.round(value * 1000);
  const per = Math.round(target * 1000);
  if (currentReplicas > 0) {
    const ratio = usage / (per * currentReplicas);
    if (Math.abs(1 - ratio) <= tolerance) return currentReplicas;
  }
  return Math.max(0, Math.ceil(usage / per));
}

export function evaluateQueue(
  spec: QueueSpec,
  reading: QueueReading,
  state: QueueState,
  currentReplicas: number,
  now: number,
): QueueResult {
  const prior: QueueState = { consecutiveFailures: state?.consecutiveFailures ?? 0 };
  if (state?.lastActiveTime !== undefined) prior.lastActiveTime = state.lastActiveTime;
  const problems = validateQueueSpec(spec);
  if (problems.length > 0) {
    return { replicas: null, active: false, phase: 'invalid', reason: `queue spec invalid: ${problems.join('; ')}`, state: prior };
  }
  const activation = spec.activationThreshold ?? 0;
  const min = spec.minReplicaCount ?? 0;
  const max = spec.maxReplicaCount ?? DEFAULT_MAX;
  const cooldown = spec.cooldownPeriodMs ?? DEFAULT_COOLDOWN_MS;
  const tolerance = spec.tolerance ?? DEFAULT_TOLERANCE;
  // The HPA KEDA creates never goes below 1; scale to zero is the operator's job.
  const hpaMin = Math.max(1, min);
  const idleLevel = spec.idleReplicaCount ?? 0;
  const scalesToIdle = min === 0 || spec.idleReplicaCount !== undefined;

  const value = 'value' in reading ? reading.value : Number.NaN;
  if (!('value' in reading) || !Number.isFinite(value)) {
    const error = 'error' in reading ? reading.error : `value ${String(value)} is not a number`;
    const failures = prior.consecutiveFailures + 1;
    const next: QueueState = { ...prior, consecutiveFailures: failures };
    const fb = spec.fallback;
    // KEDA falls back once the failure count exceeds failureThreshold (pkg/fallback: NumberOfFailures > FailureThreshold).
    if (fb && failures > fb.failureThreshold) {
      const behavior = fb.behavior ?? 'static';
      const chosen =
        behavior === 'currentReplicas'
          ? currentReplicas
          : behavior === 'currentReplicasIfHigher'
            ? Math.max(currentReplicas, fb.replicas)
            : behavior === 'currentReplicasIfLower'
              ? Math.min(currentReplicas, fb.replicas)
              : fb.replicas;
      const replicas = Math.min(Math.max(chosen, min), max);
      return {
        replicas,
        active: false,
        phase: 'fallback',
        reason: `queue read failed ${plural(failures, 'time')} in a row (more than failureThreshold ${fb.failureThreshold}): fallback (${behavior}) to ${plural(replicas, 'replica')}; last error: ${error}`,
        state: next,
      };
    }
    const why = fb
      ? `fallback to ${plural(fb.replicas, 'replica')} after more than ${plural(fb.failureThreshold, 'failure')}`
      : 'no fallback configured';
    return {
      replicas: null,
      active: false,
      phase: 'read-error',
      reason: `queue read failed (${failures} in a row; ${why}): no decision, ${plural(currentReplicas, 'replica')} keep running; error: ${error}`,
      state: next,
    };
  }

  const next: QueueState = { ...prior, consecutiveFailures: 0 };
  const active = value > activation;
  if (active) next.lastActiveTime = now;
  const activity = active ? `${n(value)} > activation ${n(activation)}` : `${n(value)} <= activation ${n(activation)}`;
  const raw = averageValueReplicas(value, spec.targetValue, currentReplicas, tolerance);
  const desired = Math.min(Math.max(raw, hpaMin), max);
  const formula =
    currentReplicas > 0 && raw === currentReplicas && Math.ceil(Math.round(value * 1000) / Math.round(spec.targetValue * 1000)) !== raw
      ? `${n(value)} items is within ${n(tolerance * 100)}% of ${n(spec.targetValue)} per replica × ${currentReplicas}`
      : `ceil(${n(value)} / ${n(spec.targetValue)}) = ${raw}`;
  const clampNote = desired !== raw ? ` (held to ${desired > raw ? 'minimum' : 'maxReplicaCount'} ${desired})` : '';
  const scaleReason = `${formula} replicas${clampNote}`;

  const atIdle = currentReplicas === 0 || (spec.idleReplicaCount !== undefined && currentReplicas <= idleLevel);
  if (atIdle) {
    if (active) {
      return {
        replicas: hpaMin,
        active,
        phase: 'activate',
        desired,
        reason: `queue ${activity}: activating from ${currentReplicas} to ${plural(hpaMin, 'replica')} (minReplicaCount ${min}); the per-replica target (${scaleReason}) applies from the next evaluation`,
        state: next,
      };
    }
    if (scalesToIdle) {
      return {
        replicas: idleLevel,
        active,
        phase: 'idle',
        desired,
        reason: `queue ${activity}: inactive, staying at ${plural(idleLevel, 'replica')}`,
        state: next,
      };
    }
    return {
      replicas: min,
      active,
      phase: 'scale',
      desired,
      reason: `queue ${activity}: inactive with ${currentReplicas} running, below minReplicaCount: setting ${plural(min, 'replica')}`,
      state: next,
    };
  }

  if (!active && scalesToIdle && currentReplicas > idleLevel) {
    const last = next.lastActiveTime;
    // KEDA scales down only once lastActiveTime + cooldownPeriod is strictly before now, or when never active.
    if (last === undefined || last + cooldown < now) {
      const since = last === undefined ? 'never active since tracking began' : `last active ${formatDuration(now - last)} ago, cooldownPeriod ${formatDuration(cooldown)}`;
      return {
        replicas: idleLevel,
        active,
        phase: 'deactivate',
        desired,
        reason: `queue ${activity}: inactive (${since}): scaling ${currentReplicas} → ${idleLevel}`,
        state: next,
      };
    }
    return {
      replicas: desired,
      active,
      phase: 'cool-down',
      desired,
      reason: `queue ${activity}: inactive for ${formatDuration(now - last)} of cooldownPeriod ${formatDuration(cooldown)} before scaling to ${idleLevel}; meanwhile ${scaleReason}`,
      state: next,
    };
  }

  return {
    replicas: desired,
    active,
    phase: 'scale',
    desired,
    reason: `queue ${activity}: ${scaleReason}`,
    state: next,
  };
}
