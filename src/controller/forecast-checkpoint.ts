// Checkpoints of a seasonal forecaster's state, so a restarted `run` restores it in one read instead of rebuilding
// it from every decision of the last two weeks. A checkpoint is binary: a magic and version, a JSON header (the
// options it was built with and the scalar state), the typed arrays, and a SHA-256 of all of it. Anything that
// does not check out (torn, truncated, altered, built with other settings) is refused with the reason, and the
// caller rebuilds from the decisions instead: a checkpoint only ever saves time.
import { createHash } from 'node:crypto';
import { CADENCE_GAPS, type ErrorWindow, type SeasonalOptions, type SeasonalState } from '../core/forecast/seasonal.js';

const MAGIC = 0x53504643; // "SPFC"
const VERSION = 2;
/** The error windows, in the order their rings follow the values. */
const WINDOWS = ['errors', 'naive', 'quietErrors', 'quietNaive'] as const;
type WindowName = typeof WINDOWS[number];
const HASH_BYTES = 32;
/** Largest checkpoint read back (a year of minutes is 2 MB): a bigger blob is not one of ours. */
export const MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024;

interface Header {
  opts: SeasonalOptions;
  last: number;
  first: number;
  season: SeasonalState['season'];
  checkedAt: number;
  acf: SeasonalState['acf'];
  windows: Record<WindowName, { count: number; next: number; cap: number }>;
  cadence: { gaps: number[]; lastChange: number; period: number };
  values: number;
  /** absent in checkpoints written before drop holds */
  drop?: SeasonalState['drop'];
}

/** The state as bytes (see the file comment for the layout). */
export function encodeForecast(s: SeasonalState): Uint8Array {
  const header: Header = {
    opts: s.opts,
    last: s.last,
    first: s.first,
    season: s.season,
    checkedAt: s.checkedAt,
    acf: s.acf,
    windows: Object.fromEntries(WINDOWS.map((w) => [w, { count: s[w].count, next: s[w].next, cap: s[w].ring.length }])) as Header['windows'],
    cadence: { gaps: Array.from(s.cadence.gaps), lastChange: s.cadence.lastChange, period: s.cadence.period },
    values: s.values.length,
    drop: s.drop,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  // the typed arrays start on an 8-byte boundary so they can be viewed in place when read back
  const head = 12 + json.length;
  const pad = (8 - (head % 8)) % 8;
  const valuesBytes = s.values.byteLength;
  const valuesPad = (8 - (valuesBytes % 8)) % 8;
  let body = head + pad + valuesBytes + valuesPad;
  for (const w of WINDOWS) body += s[w].ring.byteLength;
  const out = new Uint8Array(body + HASH_BYTES);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC);
  dv.setUint32(4, VERSION);
  dv.setUint32(8, json.length);
  out.set(json, 12);
  let at = head + pad;
  out.set(new Uint8Array(s.values.buffer, s.values.byteOffset, valuesBytes), at);
  at += valuesBytes + valuesPad;
  for (const w of WINDOWS) {
    const r = s[w].ring;
    out.set(new Uint8Array(r.buffer, r.byteOffset, r.byteLength), at);
    at += r.byteLength;
  }
  out.set(createHash('sha256').update(out.subarray(0, body)).digest(), body);
  return out;
}

function sameOptions(a: SeasonalOptions, b: SeasonalOptions): boolean {
  return a.bucketMs === b.bucketMs && a.lookbackMs === b.lookbackMs && a.horizonBuckets === b.horizonBuckets && a.season === b.season
    && a.errorWindowMs === b.errorWindowMs && (a.method ?? 'level') === (b.method ?? 'level') && (a.errorModel ?? 'ratio') === (b.errorModel ?? 'ratio');
}

function window(ring: Float64Array, count: number, next: number): ErrorWindow {
  const sorted = new Float64Array(ring.length);
  sorted.set(ring.subarray(0, count));
  sorted.subarray(0, count).sort();
  return { sorted, ring, count, next };
}

const int = (v: unknown, lo: number, hi: number): v is number => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

/**
 * The state in `data` if it is an intact checkpoint built with `expect`'s options, else why not. The arrays are
 * copied out, so the result does not hold on to `data`.
 */
export function decodeForecast(data: Uint8Array, expect: SeasonalOptions): SeasonalState | { error: string } {
  if (data.byteLength > MAX_CHECKPOINT_BYTES) return { error: `${data.byteLength} bytes, more than a checkpoint can be (${MAX_CHECKPOINT_BYTES})` };
  if (data.byteLength < 12 + HASH_BYTES) return { error: `${data.byteLength} bytes: truncated` };
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (dv.getUint32(0) !== MAGIC) return { error: 'not a forecaster checkpoint (bad magic)' };
  if (dv.getUint32(4) !== VERSION) return { error: `checkpoint format ${dv.getUint32(4)}, this version reads ${VERSION}` };
  const body = data.byteLength - HASH_BYTES;
  const digest = createHash('sha256').update(data.subarray(0, body)).digest();
  if (!digest.equals(Buffer.from(data.buffer, data.byteOffset + body, HASH_BYTES))) return { error: 'checksum mismatch (torn or altered)' };
  const jsonLength = dv.getUint32(8);
  if (12 + jsonLength > body) return { error: 'header longer than the checkpoint' };
  let h: Header;
  try {
    h = JSON.parse(Buffer.from(data.buffer, data.byteOffset + 12, jsonLength).toString('utf8')) as Header;
  } catch (e) {
    return { error: `header: ${(e as Error).message}` };
  }
  if (!h || typeof h !== 'object' || !h.opts || !sameOptions(h.opts, expect)) return { error: 'built with other forecast settings (bucket, lookback, horizon, season, method, error model or window changed)' };
  const cap = Math.max(4, Math.ceil(expect.lookbackMs / expect.bucketMs));
  const errCap = Math.max(8, Math.ceil(expect.errorWindowMs / expect.bucketMs));
  if (h.values !== cap || !h.windows || WINDOWS.some((w) => h.windows[w]?.cap !== errCap)) return { error: 'array sizes do not match the settings' };
  if (WINDOWS.some((w) => !int(h.windows[w].count, 0, errCap) || !int(h.windows[w].next, 0, errCap - 1))) return { error: 'error window positions out of range' };
  const c = h.cadence;
  if (!c || !Array.isArray(c.gaps) || c.gaps.length !== CADENCE_GAPS || c.gaps.some((g) => typeof g !== 'number' || !(g >= 0) || !Number.isFinite(g))
    || !int(c.lastChange, -1, Number.MAX_SAFE_INTEGER) || !int(c.period, 1, CADENCE_GAPS - 1)) return { error: 'update cadence out of range' };
  if (!Number.isSafeInteger(h.last) || !Number.isSafeInteger(h.first) || !Number.isSafeInteger(h.checkedAt) || (h.last >= 0 && (h.first > h.last || h.first < h.last - cap + 1))) return { error: 'bucket positions out of range' };
  if (!h.season || typeof h.season.period !== 'number' || !int(h.season.period, 0, cap) || typeof h.season.label !== 'string' || !h.acf || typeof h.acf.byLag !== 'object') return { error: 'season out of range' };
  for (const a of h.season.also ?? []) if (!int(a.period, 1, cap)) return { error: 'season out of range' };
  const d = h.drop ?? null;
  if (d !== null && (typeof d !== 'object' || !Number.isSafeInteger(d.anchor) || !Number.isSafeInteger(d.since) || !Number.isSafeInteger(d.end) || d.anchor > d.since
    || d.end < -1 || (d.end >= 0 && d.end < d.since) || !(Number(d.expected) >= 0) || !(Number(d.actual) >= 0) || typeof d.expired !== 'boolean')) return { error: 'drop hold out of range' };
  const head = 12 + jsonLength;
  const pad = (8 - (head % 8)) % 8;
  const valuesBytes = cap * 4;
  const valuesPad = (8 - (valuesBytes % 8)) % 8;
  if (head + pad + valuesBytes + valuesPad + WINDOWS.length * errCap * 8 !== body) return { error: 'length does not match the settings' };
  let at = data.byteOffset + head + pad;
  const copy = (bytes: number) => { const b = data.buffer.slice(at, at + bytes); at += bytes; return b; };
  const values = new Float32Array(copy(valuesBytes));
  at += valuesPad;
  const rings = WINDOWS.map(() => new Float64Array(copy(errCap * 8)));
  for (const r of rings) for (const v of r) if (!Number.isFinite(v)) return { error: 'a recorded forecast error is not a finite number' };
  const win = (k: number) => window(rings[k]!, h.windows[WINDOWS[k]!].count, h.windows[WINDOWS[k]!].next);
  return {
    opts: expect,
    values,
    last: h.last,
    first: h.first,
    errors: win(0),
    naive: win(1),
    quietErrors: win(2),
    quietNaive: win(3),
    cadence: { gaps: Float64Array.from(c.gaps), lastChange: c.lastChange, period: c.period },
    // JSON has no NaN: a measure that was NaN comes back as null
    season: { ...h.season, acf: typeof h.season.acf === 'number' ? h.season.acf : Number.NaN },
    checkedAt: h.checkedAt,
    drop: d === null ? null : { anchor: d.anchor, since: d.since, end: d.end, expected: Number(d.expected), actual: Number(d.actual), expired: d.expired },
    acf: { span: Number(h.acf.span) || 0, at: Number.isInteger(h.acf.at) ? h.acf.at : -1, byLag: Object.fromEntries(Object.entries(h.acf.byLag).filter(([, v]) => typeof v === 'number')) },
  };
}
