// Small readers for metric-source config blocks: each names the config path and the fix when the input is wrong.
import { InputError } from '../errors.js';
import { DurationError, formatDuration, parseDuration } from '../core/duration.js';

/** Bad source config or query (exit code 2). `path` is the dotted config path, e.g. sources.prom.url. */
export class MetricConfigError extends InputError {
  override name = 'MetricConfigError';
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
  }
}

export type Raw = Record<string, unknown>;

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
}

/** The config block as a mapping; unknown keys fail (a typo must not silently fall back to a default). */
export function readObject(raw: unknown, path: string, known: readonly string[]): Raw {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MetricConfigError(path, `must be a mapping of fields, got ${typeName(raw)}`);
  }
  const o = raw as Raw;
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) {
      throw new MetricConfigError(`${path}.${k}`, `unknown field; known fields here are ${known.join(', ')}`);
    }
  }
  return o;
}

export function optString(o: Raw, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.trim() === '') {
    throw new MetricConfigError(`${path}.${key}`, `must be a non-empty string, got ${typeName(v)}`);
  }
  return v;
}

export function reqString(o: Raw, key: string, path: string, example: string): string {
  const v = optString(o, key, path);
  if (v === undefined) throw new MetricConfigError(`${path}.${key}`, `is required; add e.g. ${key}: ${example}`);
  return v;
}

export function optBool(o: Raw, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new MetricConfigError(`${path}.${key}`, `must be true or false, got ${typeName(v)}`);
  return v;
}

export function optNumber(o: Raw, key: string, path: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new MetricConfigError(`${path}.${key}`, `must be a number, got ${typeName(v)}`);
  if (opts.integer && !Number.isInteger(n)) throw new MetricConfigError(`${path}.${key}`, `must be a whole number, got ${n}`);
  if (opts.min !== undefined && n < opts.min) throw new MetricConfigError(`${path}.${key}`, `must be at least ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) throw new MetricConfigError(`${path}.${key}`, `must be at most ${opts.max}, got ${n}`);
  return n;
}

/**
 * A duration field (15s, 5m, 500ms, or plain seconds) in milliseconds; at most 24h unless `max` says otherwise (a
 * timer past about 24.8 days fires at once).
 */
export function optDuration(o: Raw, key: string, path: string, opts: { min?: number; max?: number } = {}): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') {
    throw new MetricConfigError(`${path}.${key}`, `must be a duration like 5s or 1m, got ${typeName(v)}`);
  }
  let ms: number;
  try {
    ms = parseDuration(v);
  } catch (e) {
    if (e instanceof DurationError) throw new MetricConfigError(`${path}.${key}`, e.message);
    throw e;
  }
  if (opts.min !== undefined && ms < opts.min) {
    throw new MetricConfigError(`${path}.${key}`, `must be at least ${opts.min} ms, got ${ms} ms`);
  }
  const max = opts.max ?? 86_400_000;
  if (ms > max) throw new MetricConfigError(`${path}.${key}`, `must be at most ${formatDuration(max)}, got ${typeof v === 'string' ? v : `${v}s`}`);
  return ms;
}

export function optStringMap(o: Raw, key: string, path: string): Record<string, string> | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new MetricConfigError(`${path}.${key}`, `must be a mapping of names to strings, got ${typeName(v)}`);
  }
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Raw)) {
    if (typeof x !== 'string' && typeof x !== 'number') {
      throw new MetricConfigError(`${path}.${key}.${k}`, `must be a string, got ${typeName(x)}`);
    }
    out[k] = String(x);
  }
  return out;
}

export function optEnum<T extends string>(o: Raw, key: string, path: string, values: readonly T[]): T | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !values.includes(v as T)) {
    throw new MetricConfigError(`${path}.${key}`, `must be one of ${values.join(', ')}, got ${typeName(v)}`);
  }
  return v as T;
}

/** An http(s) URL; the example shows the expected form. */
export function reqUrl(o: Raw, key: string, path: string, example: string, protocols = ['http:', 'https:']): URL {
  const s = reqString(o, key, path, example);
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new MetricConfigError(`${path}.${key}`, `"${s}" is not a URL; write it like ${example}`);
  }
  if (!protocols.includes(u.protocol)) {
    throw new MetricConfigError(`${path}.${key}`, `"${s}" must use ${protocols.map((p) => p.slice(0, -1)).join(' or ')}; write it like ${example}`);
  }
  return u;
}

/**
 * A secret: a literal, `env:NAME` (read from the environment now) or `file:PATH`-style fields handled by callers.
 * Reading at parse time makes a missing variable a config error rather than a failed request later.
 */
export function optSecret(o: Raw, key: string, path: string): string | undefined {
  const v = optString(o, key, path);
  if (v === undefined || !v.startsWith('env:')) return v;
  const name = v.slice(4);
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new MetricConfigError(`${path}.${key}`, `environment variable ${name} is not set; export it or write the value inline`);
  }
  return value;
}

/**
 * Per-replica identities the controller adds to every perPod query at run time (from provider.observe): each source
 * uses the ones that mean something to it and ignores the rest.
 */
export const RUNTIME_PARAMS = ['pids', 'containers', 'pods'] as const;

/** Reads query params (MetricQuery.params) with the same checks as config fields. */
export function readParams(params: Record<string, unknown> | undefined, path: string, known: readonly string[]): Raw {
  return readObject(params ?? {}, path, [...new Set([...known, ...RUNTIME_PARAMS])]);
}

/** A list of strings param (e.g. params.containers); undefined when absent. */
export function optStringList(o: Raw, key: string, path: string): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new MetricConfigError(`${path}.${key}`, `must be a list of strings, got ${typeName(v)}`);
  return v.map((x, i) => {
    if (typeof x !== 'string' || x === '') throw new MetricConfigError(`${path}.${key}[${i}]`, `must be a non-empty string, got ${typeName(x)}`);
    return x;
  });
}

/** A URL without its password, for messages. */
export function redactUrl(s: string): string {
  try {
    const u = new URL(s);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return s;
  }
}
