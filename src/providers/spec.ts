// Field readers shared by the providers' parse<Provider>Spec steps: each failure names the config path and the fix.
import { InputError } from '../errors.js';
import { DurationError, formatDuration, parseDuration } from '../core/duration.js';
import { ProviderError } from './types.js';

/** A target spec that cannot be used; `path` is the dotted config path of the offending field. */
export class ProviderSpecError extends InputError {
  override name = 'ProviderSpecError';
  constructor(readonly path: string, readonly problem: string, readonly fix: string) {
    super(`${path}: ${problem} (fix: ${fix})`);
  }
}

export type RawSpec = Record<string, unknown>;

export function specObject(raw: unknown, path: string): RawSpec {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ProviderSpecError(path, `must be a mapping, got ${describe(raw)}`, 'write the target as key: value fields under the service');
  }
  return raw as RawSpec;
}

/** Rejects fields the provider does not know, so a typo never silently falls back to a default. */
export function rejectUnknown(o: RawSpec, path: string, known: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (k === 'provider' || known.includes(k)) continue;
    throw new ProviderSpecError(`${path}.${k}`, 'unknown field', `remove it or use one of: ${known.join(', ')}`);
  }
}

export function optString(o: RawSpec, key: string, path: string, example: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.trim() === '') {
    throw new ProviderSpecError(`${path}.${key}`, `must be a non-empty string, got ${describe(v)}`, `write it like ${key}: ${example}`);
  }
  return v;
}

export function reqString(o: RawSpec, key: string, path: string, example: string): string {
  const v = optString(o, key, path, example);
  if (v === undefined) throw new ProviderSpecError(`${path}.${key}`, 'is required', `add ${key}: ${example}`);
  return v;
}

export function optInt(o: RawSpec, key: string, path: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ProviderSpecError(`${path}.${key}`, `must be a whole number from ${min} to ${max}, got ${describe(v)}`, `write it like ${key}: ${min === 0 ? 1 : min}`);
  }
  return v;
}

export function oneOf<T extends string>(o: RawSpec, key: string, path: string, values: readonly T[], fallback: T): T {
  const v = o[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw new ProviderSpecError(`${path}.${key}`, `must be one of ${values.join(', ')}, got ${describe(v)}`, `write ${key}: ${fallback}`);
  }
  return v as T;
}

/**
 * A duration field (15s, 500ms, 2m or plain seconds) in milliseconds, from `min` to `max` (default 0 to 24h: a
 * timer past about 24.8 days fires at once, so a longer wait would turn into a busy loop).
 */
export function durationMs(o: RawSpec, key: string, path: string, fallback: string, range: { min?: number; max?: number } = {}): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'string' && typeof v !== 'number') {
    throw new ProviderSpecError(`${path}.${key}`, `must be a duration, got ${describe(v)}`, `write it like ${key}: ${fallback}`);
  }
  let ms: number;
  try {
    ms = parseDuration(v);
  } catch (e) {
    if (e instanceof DurationError) throw new ProviderSpecError(`${path}.${key}`, e.message, `write it like ${key}: ${fallback}`);
    throw e;
  }
  const min = range.min ?? 0;
  const max = range.max ?? 86_400_000;
  if (!(ms >= min && ms <= max)) {
    throw new ProviderSpecError(`${path}.${key}`, `must be from ${formatDuration(min)} to ${formatDuration(max)}, got ${describe(v)}`, `write it like ${key}: ${fallback}`);
  }
  return ms;
}

export function stringArray(o: RawSpec, key: string, path: string, example: string): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x === '')) {
    throw new ProviderSpecError(`${path}.${key}`, `must be a non-empty list of strings, got ${describe(v)}`, `write it like ${key}: ${example}`);
  }
  return v as string[];
}

export function stringMap(o: RawSpec, key: string, path: string, example: string): Record<string, string> | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new ProviderSpecError(`${path}.${key}`, `must be a mapping of names to strings, got ${describe(v)}`, `write it like ${key}: ${example}`);
  }
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as RawSpec)) {
    if (typeof x === 'number' || typeof x === 'boolean') out[k] = String(x);
    else if (typeof x === 'string') out[k] = x;
    else throw new ProviderSpecError(`${path}.${key}.${k}`, `must be a string, got ${describe(x)}`, `quote the value: ${k}: "..."`);
  }
  return out;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list (${JSON.stringify(v).slice(0, 60)})`;
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return `${typeof v} ${String(v)}`;
}

/** Refuses a replica count no workload can have, before anything runs. */
export function requireReplicaCount(provider: string, service: string, replicas: number): void {
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new ProviderError(provider, `cannot scale ${service} to ${replicas}: replicas must be a whole number >= 0`, false);
  }
}
