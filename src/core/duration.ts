// Durations as operators write them in config and flags: 15s, 5m, 1h, 1h30m, 500ms, 2d; plain numbers are seconds.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

export class DurationError extends Error {
  override name = 'DurationError';
}

/** Parses a duration into milliseconds. Throws DurationError naming the accepted forms. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new DurationError(`duration ${input} must be a non-negative number of seconds`);
    return input * 1000;
  }
  const s = input.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  PART.lastIndex = 0;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = PART.exec(s)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = PART.lastIndex;
  }
  if (s === '' || matched !== s.length) {
    throw new DurationError(`"${input}" is not a duration; write it like 15s, 5m, 1h, 1h30m or 500ms`);
  }
  return total;
}

/** Formats milliseconds compactly (90000 -> "1m30s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  let rest = Math.round(ms / 1000);
  let out = '';
  for (const [u, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= n) { out += `${Math.floor(rest / n)}${u}`; rest %= n; }
  }
  return out;
}

/**
 * A point in time written back from `now`: a duration (30m, 7d; one reaching back past 1970 means everything) or an
 * ISO time (2024-05-01T12:00:00Z), in epoch ms; undefined when `s` is neither.
 */
export function timeBack(s: string, now: number): number | undefined {
  try {
    return Math.max(0, now - parseDuration(s));
  } catch (e) {
    if (!(e instanceof DurationError)) throw e;
  }
  const t = Date.parse(s);
  return /^\d{4}-\d\d-\d\d/.test(s) && Number.isFinite(t) ? t : undefined;
}

/** The furthest a Date reaches either side of 1970, in ms (about the year 275760). */
export const MAX_DATE_MS = 8.64e15;

/** Whether `t` (epoch ms) is a time a Date can hold; a larger number, Infinity or NaN is no time at all. */
export function isDateMs(t: number): boolean {
  return Math.abs(t) <= MAX_DATE_MS;
}
