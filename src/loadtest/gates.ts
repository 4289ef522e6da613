// Thresholds as pass/fail gates (`p95<500ms`, `errors<1%`, `rps>100`) and the good/warning/critical reading of a result.
import { InputError } from '../errors.js';

export type GateMetric = 'latency' | 'errors' | 'rps';
export type GateOp = '<' | '<=' | '>' | '>=';

export interface Gate {
  /** As written, normalised (`p95<500ms`). */
  text: string;
  metric: GateMetric;
  /** For latency: the percentile (50, 99.9), 100 for max, -1 for mean. */
  percentile?: number;
  op: GateOp;
  /** ms for latency, a fraction for errors, requests/s for rps. */
  value: number;
}

/** The figures gates and the interpretation read; latency in ms, errorRate a fraction. */
export interface GateInput {
  latency: { mean: number; max: number; percentile(p: number): number };
  errorRate: number;
  rps: number;
}

export interface GateResult {
  gate: string;
  actual: number;
  /** Same unit as the gate's value, formatted for people. */
  actualText: string;
  passed: boolean;
}

const GATE = /^\s*(p\d+(?:\.\d+)?|max|mean|avg|errors|error_rate|rps)\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*([a-z%/]*)\s*$/i;
const LATENCY_UNIT: Record<string, number> = { '': 1, ms: 1, s: 1000, us: 0.001, µs: 0.001 };

function gateError(text: string, why: string): InputError {
  return new InputError(`threshold "${text}": ${why}; write thresholds like p95<500ms, p99<2s, max<5s, errors<1%, rps>100`);
}

/** Parses one threshold; bad ones throw InputError naming the threshold and the accepted forms. */
export function parseGate(text: string): Gate {
  const m = GATE.exec(text);
  if (!m) throw gateError(text, 'not understood');
  const name = m[1]!.toLowerCase();
  const op = m[2] as GateOp;
  const n = Number(m[3]);
  const unit = m[4]!.toLowerCase();
  if (name.startsWith('p') || name === 'max' || name === 'mean' || name === 'avg') {
    const scale = LATENCY_UNIT[unit];
    if (scale === undefined) throw gateError(text, `unit "${m[4]}" is not a latency unit (ms, s, us)`);
    let percentile: number;
    if (name === 'max') percentile = 100;
    else if (name === 'mean' || name === 'avg') percentile = -1;
    else {
      percentile = Number(name.slice(1));
      if (!(percentile > 0 && percentile <= 100)) throw gateError(text, `percentile ${name.slice(1)} must be between 0 and 100`);
    }
    const label = name === 'avg' ? 'mean' : name;
    return { text: `${label}${op}${m[3]}${unit || 'ms'}`, metric: 'latency', percentile, op, value: n * scale };
  }
  if (name === 'errors' || name === 'error_rate') {
    if (unit === '%') {
      if (n > 100) throw gateError(text, 'an error rate cannot exceed 100%');
      return { text: `errors${op}${m[3]}%`, metric: 'errors', op, value: n / 100 };
    }
    if (unit !== '') throw gateError(text, `unit "${m[4]}" is not an error-rate unit (use %)`);
    if (n > 1) throw gateError(text, `without % the rate is a fraction (0..1); did you mean errors${op}${m[3]}%?`);
    return { text: `errors${op}${+(n * 100).toPrecision(12)}%`, metric: 'errors', op, value: n };
  }
  if (unit !== '' && unit !== 'rps' && unit !== '/s') throw gateError(text, `unit "${m[4]}" is not a throughput unit (rps)`);
  return { text: `rps${op}${m[3]}`, metric: 'rps', op, value: n };
}

export function parseGates(texts: readonly string[]): Gate[] {
  return texts.flatMap((t) => t.split(/\s*[,;]\s*/).filter((s) => s.trim() !== '')).map(parseGate);
}

function compare(actual: number, op: GateOp, v: number): boolean {
  switch (op) {
    case '<': return actual < v;
    case '<=': return actual <= v;
    case '>': return actual > v;
    case '>=': return actual >= v;
  }
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms >= 1000) return `${+(ms / 1000).toFixed(2)}s`;
  if (ms >= 100) return `${Math.round(ms)}ms`;
  if (ms >= 1) return `${+ms.toFixed(1)}ms`;
  return `${+ms.toFixed(3)}ms`;
}

export function formatPercent(fraction: number): string {
  const p = fraction * 100;
  return `${p === 0 ? 0 : p < 0.01 ? p.toPrecision(2) : +p.toFixed(2)}%`;
}

export function gateActual(g: Gate, r: GateInput): number {
  if (g.metric === 'errors') return r.errorRate;
  if (g.metric === 'rps') return r.rps;
  if (g.percentile === -1) return r.latency.mean;
  if (g.percentile === 100) return r.latency.max;
  return r.latency.percentile(g.percentile!);
}

export function evaluateGates(gates: readonly Gate[], r: GateInput): GateResult[] {
  return gates.map((g) => {
    const actual = gateActual(g, r);
    const actualText = g.metric === 'errors' ? formatPercent(actual) : g.metric === 'rps' ? actual.toFixed(1) : formatMs(actual);
    return { gate: g.text, actual, actualText, passed: compare(actual, g.op, g.value) };
  });
}

export type Level = 'good' | 'warning' | 'critical';

/**
 * How the runbooks read a load-test result. Lower is better for latency and errors (good below `good`, warning below
 * `warning`); throughput is read against a target rate (good at or above good×target, warning at or above warning×target).
 */
export const INTERPRETATION = [
  { metric: 'p50', label: 'p50 latency', unit: 'ms', better: 'lower', good: 100, warning: 300 },
  { metric: 'p99', label: 'p99 latency', unit: 'ms', better: 'lower', good: 500, warning: 2000 },
  { metric: 'errors', label: 'error rate', unit: 'fraction', better: 'lower', good: 0.001, warning: 0.01 },
  { metric: 'throughput', label: 'throughput vs target', unit: 'ratio', better: 'higher', good: 0.95, warning: 0.8 },
] as const;

export interface Reading {
  metric: string;
  label: string;
  value: string;
  level: Level;
  /** The rule that gave the level, e.g. "good < 100ms, warning < 300ms". */
  rule: string;
}

/** Applies INTERPRETATION; throughput is read only when a target rate is known. */
export function interpret(r: GateInput, targetRps?: number): Reading[] {
  const out: Reading[] = [];
  for (const row of INTERPRETATION) {
    let v: number;
    let value: string;
    let rule: string;
    if (row.metric === 'throughput') {
      if (!targetRps || targetRps <= 0) continue;
      v = r.rps / targetRps;
      value = `${r.rps.toFixed(1)} of ${targetRps.toFixed(1)} rps (${Math.round(v * 100)}%)`;
      rule = `good >= ${row.good * 100}%, warning >= ${row.warning * 100}% of target`;
    } else if (row.metric === 'errors') {
      v = r.errorRate;
      value = formatPercent(v);
      rule = `good < ${formatPercent(row.good)}, warning < ${formatPercent(row.warning)}`;
    } else {
      v = r.latency.percentile(row.metric === 'p50' ? 50 : 99);
      value = formatMs(v);
      rule = `good < ${formatMs(row.good)}, warning < ${formatMs(row.warning)}`;
    }
    const level: Level = row.better === 'lower'
      ? (v < row.good ? 'good' : v < row.warning ? 'warning' : 'critical')
      : (v >= row.good ? 'good' : v >= row.warning ? 'warning' : 'critical');
    out.push({ metric: row.metric, label: row.label, value, level, rule });
  }
  return out;
}
