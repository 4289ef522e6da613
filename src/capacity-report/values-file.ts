// The `check --values FILE` format: metric values given directly, so a check runs offline, in CI and in tests.
//
// {
//   "time": "2025-06-01T12:00:00Z",             optional: the moment checked (default: now)
//   "services": {
//     "gateway-api": {
//       "replicas": 20,                          optional: replicas running now
//       "metrics": {
//         "cpu": 72,                             the current value
//         "memory": [{"ago": "10m", "v": 81}, {"ago": "0s", "v": 84}],   a window, for `for:` rules and trends
//         "p95_latency": [{"t": "2025-06-01T11:59:00Z", "v": 0.4}],      or with absolute times (ISO or epoch ms)
//         "db_connections": {"error": "connection refused"}             a read that failed
//       }
//     }
//   }
// }
import { readFileBounded, MAX_REQUEST_BYTES } from '../bounded-read.js';
import { DurationError, isDateMs, parseDuration } from '../core/duration.js';
import type { TimedValue } from '../core/types.js';
import { InputError } from '../errors.js';
import type { CheckInput } from './check.js';

export interface ValuesFile {
  /** epoch ms, when the file names a time */
  time?: number;
  services: Record<string, CheckInput>;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function timeOf(v: unknown, where: string): number {
  const t = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (isDateMs(t)) return t;
  throw new InputError(`${where}: ${JSON.stringify(v)} is not a time; write an ISO time like "2025-06-01T12:00:00Z" or epoch milliseconds`);
}

function point(raw: unknown, where: string, now: number): TimedValue {
  if (!isObj(raw)) throw new InputError(`${where}: must be {"t": TIME, "v": NUMBER} or {"ago": "5m", "v": NUMBER}`);
  const v = raw.v ?? raw.value;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`${where}.v: must be a number, got ${JSON.stringify(v)}`);
  if (raw.ago !== undefined) {
    if (typeof raw.ago !== 'string' && typeof raw.ago !== 'number') throw new InputError(`${where}.ago: must be a duration like "10m"`);
    try {
      const t = now - parseDuration(raw.ago);
      if (!isDateMs(t)) throw new InputError(`${where}.ago: ${JSON.stringify(raw.ago)} reaches back past any date`);
      return { t, v };
    } catch (e) {
      if (e instanceof DurationError) throw new InputError(`${where}.ago: ${e.message}`);
      throw e;
    }
  }
  if (raw.t === undefined) throw new InputError(`${where}: give the sample's time as "t" (ISO or epoch ms) or "ago" (e.g. "5m")`);
  return { t: timeOf(raw.t, `${where}.t`), v };
}

/** Parses values-file text; `now` places "ago" samples and bare numbers when the file names no time. */
export function parseValuesFile(text: string, file: string, now: number): ValuesFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not JSON (${(e as Error).message}); see \`scalepilot check --help\` for the format`);
  }
  if (!isObj(data) || !isObj(data.services)) {
    throw new InputError(`${file}: needs {"services": {"SERVICE": {"metrics": {"METRIC": VALUE}}}}`);
  }
  const time = data.time !== undefined ? timeOf(data.time, `${file}: time`) : undefined;
  const at = time ?? now;
  // names come from the file: no inherited entries (a service or metric may be called constructor)
  const services: Record<string, CheckInput> = Object.create(null);
  for (const [svc, raw] of Object.entries(data.services)) {
    const where = `${file}: services.${svc}`;
    if (!isObj(raw)) throw new InputError(`${where}: must be {"replicas": N, "metrics": {...}}`);
    for (const k of Object.keys(raw)) {
      if (k !== 'replicas' && k !== 'metrics') throw new InputError(`${where}.${k}: unknown field; use replicas and metrics`);
    }
    const input: CheckInput = { series: Object.create(null), failures: Object.create(null) };
    if (raw.replicas !== undefined) {
      if (typeof raw.replicas !== 'number' || !Number.isInteger(raw.replicas) || raw.replicas < 0) {
        throw new InputError(`${where}.replicas: must be a whole number >= 0, got ${JSON.stringify(raw.replicas)}`);
      }
      input.replicas = raw.replicas;
    }
    const metrics = raw.metrics ?? {};
    if (!isObj(metrics)) throw new InputError(`${where}.metrics: must be a mapping of metric name to value`);
    for (const [m, v] of Object.entries(metrics)) {
      const mw = `${where}.metrics.${m}`;
      if (typeof v === 'number' && Number.isFinite(v)) input.series[m] = [{ t: at, v }];
      else if (Array.isArray(v)) {
        if (v.length === 0) throw new InputError(`${mw}: the list is empty; give at least one sample`);
        input.series[m] = v.map((p, i) => point(p, `${mw}[${i}]`, at)).sort((a, b) => a.t - b.t);
      } else if (isObj(v) && typeof v.error === 'string') input.failures[m] = v.error;
      else throw new InputError(`${mw}: must be a number, a list of {"ago"|"t", "v"} samples, or {"error": "why"}`);
    }
    services[svc] = input;
  }
  return { ...(time !== undefined ? { time } : {}), services };
}

export function readValuesFile(file: string, now: number): ValuesFile {
  let text: string;
  try {
    text = readFileBounded(file, MAX_REQUEST_BYTES);
  } catch (e) {
    throw new InputError(`--values ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseValuesFile(text, file, now);
}
