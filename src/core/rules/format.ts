// Wording shared by rule explanations: conditions, steps and clock times (UTC) as operators read them.
import { formatDuration, isDateMs } from '../duration.js';
import type { ComparisonOp, RuleAction, ScaleAction, SustainedRule } from './types.js';

/** HH:MM:SS in UTC; decisions are logged and compared across hosts, so never local time. */
export function clock(t: number): string {
  if (!isDateMs(t)) return String(t);
  return new Date(t).toISOString().slice(11, 19);
}

export function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

export function describeCondition(rule: Pick<SustainedRule, 'metric' | 'op' | 'threshold' | 'forMs'>): string {
  return `${rule.metric} ${rule.op} ${num(rule.threshold)} for ${formatDuration(rule.forMs)}`;
}

export function negate(op: ComparisonOp): string {
  return { '>': '<=', '>=': '<', '<': '>=', '<=': '>' }[op];
}

export function describeStep(action: RuleAction | ScaleAction): string {
  const a = action.amount;
  switch (action.mode) {
    case 'add':
      return a >= 0 ? `+${num(a)}` : `${num(a)}`;
    case 'percent':
      return a >= 0 ? `+${num(a)}%` : `${num(a)}%`;
    case 'multiply':
      return `x${num(a)}`;
    case 'set':
      return `=${num(a)}`;
  }
}

/** cpu cores and memory bytes as Kubernetes writes them: 250m, 2; 640Mi, 1Gi (bytes when not a whole Ki). */
export function describeQuantity(resource: 'cpu' | 'memory', v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (resource === 'cpu') return Number.isInteger(v) ? String(v) : `${Math.round(v * 1000)}m`;
  for (const [suffix, size] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (v >= size && v % size === 0) return `${v / size}${suffix}`;
  }
  return String(v);
}
