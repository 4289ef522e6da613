// Verify-after-act, the pure part: after a change, are the new replicas ready within their start-up allowance, and
// are error rate and p95 no worse than before by more than the stated margin? A failed check makes the controller
// roll the change back and hold that direction for a cool-off.
import type { VerifyPolicy } from './policy.js';
import type { Decision } from './types.js';
import { formatDuration } from './duration.js';

export interface PendingVerification {
  from: number;
  to: number;
  /** when the change was applied (epoch ms) */
  time: number;
  /** metric values before the change, by metric name */
  baseline: Record<string, number>;
  /** nothing was applied (dry run): only the metrics can be compared, not readiness */
  dryRun: boolean;
}

export type VerifyStatus = 'pending' | 'passed' | 'failed' | 'inconclusive' | 'superseded';

export interface VerifyOutcome {
  status: VerifyStatus;
  /** one sentence with the numbers */
  reason: string;
}

export interface VerifyObservation {
  replicas: number;
  readyReplicas: number;
  values: Record<string, number>;
  failures: Record<string, string>;
}

export interface CoolOff {
  direction: 'up' | 'down';
  until: number;
  reason: string;
}

export function startVerification(spec: VerifyPolicy, from: number, to: number, time: number, values: Record<string, number>, dryRun: boolean): PendingVerification {
  const baseline: Record<string, number> = {};
  for (const c of [spec.errorRate, spec.p95]) if (c && values[c.metric] !== undefined) baseline[c.metric] = values[c.metric]!;
  return { from, to, time, baseline, dryRun };
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
}

type Check = NonNullable<VerifyPolicy['p95']>;

/** 'worse' with the numbers, 'ok', or 'unknown' with why (no baseline, unreadable now). */
function compare(label: string, c: Check, v: PendingVerification, o: VerifyObservation): { result: 'ok' | 'worse' | 'unknown'; text: string } {
  const before = v.baseline[c.metric];
  if (before === undefined) return { result: 'unknown', text: `${label} (${c.metric}) had no value before the change` };
  const now = o.values[c.metric];
  if (now === undefined) return { result: 'unknown', text: `${label} (${c.metric}) cannot be read now (${o.failures[c.metric] ?? 'no value'})` };
  const allowed = c.margin.absolute ?? before * (c.margin.relative ?? 0);
  const margin = c.margin.absolute !== undefined ? fmt(c.margin.absolute) : `${fmt((c.margin.relative ?? 0) * 100)}%`;
  if (now > before + allowed + 1e-12) return { result: 'worse', text: `${label} (${c.metric}) rose from ${fmt(before)} to ${fmt(now)}, more than the ${margin} margin` };
  return { result: 'ok', text: `${label} ${fmt(before)} → ${fmt(now)}` };
}

/**
 * Evaluates a pending verification at `now`. Readiness fails as soon as the start-up allowance has passed without
 * every replica ready; error rate and p95 are compared at the end of the window (or as soon as replicas are ready
 * when neither is configured).
 */
export function evaluateVerification(spec: VerifyPolicy, v: PendingVerification, o: VerifyObservation, now: number): VerifyOutcome {
  const change = `${v.from} → ${v.to}`;
  if (!v.dryRun && o.replicas !== v.to) {
    return { status: 'superseded', reason: `the target now runs ${o.replicas}, not the ${v.to} of the change ${change}; nothing to verify` };
  }
  const elapsed = now - v.time;
  if (!v.dryRun && o.readyReplicas < v.to) {
    if (elapsed >= spec.startupAllowanceMs) {
      return { status: 'failed', reason: `${o.readyReplicas} of ${v.to} replicas ready ${formatDuration(elapsed)} after the change ${change} (start-up allowance ${formatDuration(spec.startupAllowanceMs)})` };
    }
    return { status: 'pending', reason: `waiting for ${v.to - o.readyReplicas} replica(s) to get ready` };
  }
  const checks = [spec.errorRate ? compare('error rate', spec.errorRate, v, o) : undefined, spec.p95 ? compare('p95', spec.p95, v, o) : undefined].filter((c) => c !== undefined);
  if (!checks.length) return v.dryRun ? { status: 'passed', reason: `change ${change}: nothing to check in a dry run` } : { status: 'passed', reason: `all ${v.to} replicas ready after the change ${change}` };
  if (elapsed < spec.windowMs) return { status: 'pending', reason: `comparing after the ${formatDuration(spec.windowMs)} window` };
  const worse = checks.filter((c) => c.result === 'worse');
  if (worse.length) return { status: 'failed', reason: `${worse.map((c) => c.text).join('; ')} after the change ${change}` };
  const unknown = checks.filter((c) => c.result === 'unknown');
  if (unknown.length) return { status: 'inconclusive', reason: `cannot verify the change ${change}: ${unknown.map((c) => c.text).join('; ')}` };
  return { status: 'passed', reason: `change ${change} verified: ${checks.map((c) => c.text).join(', ')}` };
}

/** The cool-off after a failed verification: the failed change's direction waits. */
export function coolOffAfter(spec: VerifyPolicy, v: PendingVerification, reason: string, now: number): CoolOff {
  return { direction: v.to > v.from ? 'up' : 'down', until: now + spec.coolOffMs, reason };
}

/** Turns a decision in a cooling-off direction into a hold that says why and what it would have done. */
export function applyCoolOff(d: Decision, c: CoolOff | undefined, now: number): Decision {
  if (!c || now >= c.until) return d;
  const dir = d.desiredReplicas > d.currentReplicas ? 'up' : d.desiredReplicas < d.currentReplicas ? 'down' : undefined;
  if (dir !== c.direction) return d;
  return {
    ...d,
    desiredReplicas: d.currentReplicas,
    action: 'hold',
    reasonCode: 'VerificationCoolOff',
    reason: `hold at ${d.currentReplicas}: scale-${dir} cooling off until ${new Date(c.until).toISOString()} after a failed verification (${c.reason}); would have scaled to ${d.desiredReplicas} (${d.reason})`,
  };
}
