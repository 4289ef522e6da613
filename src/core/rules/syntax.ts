// The compact rule syntax of scalepilot.yaml: `when: "cpu > 70"` and `then: "+1" | "x2" | "cpu requests +25% max 4"`.
// Pure parsing, owned by the core: config validates with it, decide() reads what it produces.
import { parseDuration } from '../duration.js';

export type Op = '>' | '>=' | '<' | '<=';

export interface Condition {
  metric: string;
  op: Op;
  threshold: number;
}

export type ScaleAction = { kind: 'scale'; mode: 'add' | 'percent' | 'multiply' | 'set'; amount: number };
export type ResizeAction = {
  kind: 'resize';
  resource: 'cpu' | 'memory';
  field: 'requests' | 'limits';
  mode: 'add' | 'percent' | 'set';
  /** percent, or an absolute quantity string for add/set */
  amount: number | string;
  max?: string;
};
export type RuleAction = ScaleAction | ResizeAction;

const COND = /^\s*([A-Za-z_][\w.:-]*)\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)(%|ms|s|m|h)?\s*$/;

/** Parses "cpu > 70" / "p95 > 500ms" (durations become seconds). Returns an error sentence on bad input. */
export function parseCondition(s: string): Condition | string {
  const m = COND.exec(s);
  if (!m) return `"${s}" is not a condition; write it as METRIC OP NUMBER, e.g. "cpu > 70" or "p95_latency > 500ms"`;
  const [, metric, op, num, unit] = m;
  let threshold = Number(num);
  if (unit && unit !== '%') threshold = parseDuration(`${num}${unit}`) / 1000;
  return { metric: metric!, op: op as Op, threshold };
}

const SCALE = /^\s*(?:([+-])(\d+(?:\.\d+)?)(%)?|[x*](\d+(?:\.\d+)?)|=(\d+))\s*$/;
const RESIZE = /^\s*(cpu|memory)\s+(requests|limits)\s+(?:([+-])(\d+(?:\.\d+)?)%|([+-]?)([0-9.]+[A-Za-z]*)|=([0-9.]+[A-Za-z]*))(?:\s+max\s+([0-9.]+[A-Za-z]*))?\s*$/;

/** Parses a rule's `then:`. Returns an error sentence on bad input. */
export function parseAction(s: string): RuleAction | string {
  const m = SCALE.exec(s);
  if (m) {
    if (m[4] !== undefined) {
      const f = Number(m[4]);
      if (f <= 0) return `"${s}": the multiplier must be > 0`;
      return { kind: 'scale', mode: 'multiply', amount: f };
    }
    if (m[5] !== undefined) return { kind: 'scale', mode: 'set', amount: Number(m[5]) };
    const sign = m[1] === '-' ? -1 : 1;
    const n = Number(m[2]) * sign;
    if (m[3]) return { kind: 'scale', mode: 'percent', amount: n };
    if (!Number.isInteger(n)) return `"${s}": a replica step must be a whole number (or a percent like +50%)`;
    return { kind: 'scale', mode: 'add', amount: n };
  }
  const r = RESIZE.exec(s);
  if (r) {
    const [, resource, field, pSign, pct, aSign, abs, setTo, max] = r;
    const base = { kind: 'resize' as const, resource: resource as 'cpu' | 'memory', field: field as 'requests' | 'limits', ...(max ? { max } : {}) };
    if (pct !== undefined) return { ...base, mode: 'percent', amount: Number(pct) * (pSign === '-' ? -1 : 1) };
    if (setTo !== undefined) return { ...base, mode: 'set', amount: setTo };
    return { ...base, mode: 'add', amount: (aSign === '-' ? '-' : '') + abs };
  }
  return `"${s}" is not an action; write +1, -1, +50%, x2, =5, or a vertical step like "cpu requests +25% max 4"`;
}
