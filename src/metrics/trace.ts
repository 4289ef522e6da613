// Trace source: recorded time series (CSV or JSON) answered as if live, for simulation and dry runs.
//
// A trace holds one or more named series of (t_seconds, value) points. sample(q, now) answers the value of series
// q.query at `now` by step interpolation: the last point at or before now. It never invents values: before the
// first point, after the last one, or inside a gap it throws MetricError. The parsers report every bad row and
// every gap as { line, problem } and leave bad rows out; they never fill anything.
//
// CSV forms (blank lines and lines starting with # are ignored; the header row is optional):
//   t_seconds,value               one series, named "value"
//   t_seconds,web,worker          wide: one series per column (without a header: value1, value2, ...)
//   t_seconds,series,value        long: series name per row ("service" works as the column name too)
// JSON forms: a Prometheus query_range answer; {"series": {"web": [[t, v], ...]}}; {"web": [...]};
// a bare list [[t, v], ...] or [{"t": 0, "value": 1}, ...] (one series "value").
import { InputTooLargeError, MAX_TRACE_BYTES, formatBytes, readFileBounded } from '../bounded-read.js';
import { extname, isAbsolute, resolve } from 'node:path';
import { MetricConfigError, optBool, optDuration, optEnum, optString, readObject, readParams, reqString, typeName } from './config.js';
import { parsePromQueryRangeFile } from './prometheus.js';
import { MetricError, type MetricQuery, type MetricSource, type Sample } from './types.js';
import { isDateMs } from '../core/duration.js';

export interface TraceProblem {
  /** 1-based line of the file (0 when the format has no lines to point at, see `where`). */
  line: number;
  /** JSON location (series.web[3]) for JSON traces. */
  where?: string;
  kind: 'row' | 'gap';
  problem: string;
}

export interface TraceSeries {
  name: string;
  /** Point times, ms after the trace origin, strictly increasing. */
  t: Float64Array;
  values: Float64Array;
  /** Typical spacing (median), ms; 0 for a single point. */
  stepMs: number;
  /** Intervals [t[i], t[i+1]] longer than the gap threshold, as indexes i. */
  gapAfter: Set<number>;
}

export interface ParsedTrace {
  file: string;
  series: Map<string, TraceSeries>;
  problems: TraceProblem[];
}

export interface TraceParseOptions {
  /** Intervals longer than this are gaps (ms). Default: 1.5 × the series' median step. */
  maxGapMs?: number;
  /** JSON/Prometheus input: name each series by this label's value. */
  seriesLabel?: string;
}

interface Building {
  t: number[];
  values: number[];
  lines: number[];
  wheres: string[];
  /** Times of rows whose value was bad: the value there is unknown, so the step before it must not be held over it. */
  holes: number[];
}

class TraceBuilder {
  private readonly series = new Map<string, Building>();
  readonly problems: TraceProblem[] = [];
  constructor(readonly file: string) {}

  bad(line: number, problem: string, where?: string): void {
    this.problems.push({ line, ...(where ? { where } : {}), kind: 'row', problem });
  }

  declare(name: string): void {
    if (!this.series.has(name)) this.series.set(name, { t: [], values: [], lines: [], wheres: [], holes: [] });
  }

  /** A row of this series at tSeconds had no usable value. */
  hole(name: string, tSeconds: number): void {
    this.declare(name);
    this.series.get(name)!.holes.push(Math.round(tSeconds * 1000));
  }

  add(name: string, tSeconds: number, value: number, line: number, where?: string): void {
    this.declare(name);
    const s = this.series.get(name)!;
    const tMs = Math.round(tSeconds * 1000);
    if (!isDateMs(tMs)) {
      this.bad(line, `series ${name}: time ${tSeconds} is past any date (seconds since 1970 go up to 8.64e12); check the time column`, where);
      return;
    }
    const prev = s.t.length ? s.t[s.t.length - 1]! : undefined;
    if (prev !== undefined && tMs <= prev) {
      const what = tMs === prev ? 'repeats' : 'is before';
      this.bad(line, `series ${name}: time ${tSeconds} ${what} the previous point's ${prev / 1000}; points must be in increasing time`, where);
      return;
    }
    s.t.push(tMs);
    s.values.push(value);
    s.lines.push(line);
    if (where) s.wheres.push(where);
  }

  finish(opts: TraceParseOptions, headerLine = 0): ParsedTrace {
    const out = new Map<string, TraceSeries>();
    for (const [name, b] of this.series) {
      if (b.t.length === 0) {
        this.bad(headerLine, `series ${name} has no usable points`);
        continue;
      }
      const diffs: number[] = [];
      for (let i = 1; i < b.t.length; i++) diffs.push(b.t[i]! - b.t[i - 1]!);
      diffs.sort((x, y) => x - y);
      const stepMs = diffs.length ? diffs[Math.floor((diffs.length - 1) / 2)]! : 0;
      const threshold = opts.maxGapMs ?? stepMs * 1.5;
      const gapAfter = new Set<number>();
      for (let i = 1; i < b.t.length; i++) {
        const d = b.t[i]! - b.t[i - 1]!;
        if (d > threshold) {
          gapAfter.add(i - 1);
          this.problems.push({
            line: b.lines[i]!,
            ...(b.wheres[i] ? { where: b.wheres[i] } : {}),
            kind: 'gap',
            problem: `series ${name}: gap of ${d / 1000} s between t=${b.t[i - 1]! / 1000} and t=${b.t[i]! / 1000} (typical step ${stepMs / 1000} s); no values are answered inside it`,
          });
        }
      }
      for (const h of b.holes) {
        // The interval holding the bad row's time has no trustworthy value (already reported as a bad row).
        let i = -1;
        for (let j = 0; j < b.t.length && b.t[j]! < h; j++) i = j;
        if (i >= 0 && i < b.t.length - 1) gapAfter.add(i);
      }
      out.set(name, { name, t: Float64Array.from(b.t), values: Float64Array.from(b.values), stepMs, gapAfter });
    }
    this.problems.sort((a, b) => a.line - b.line);
    return { file: this.file, series: out, problems: this.problems };
  }
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
function num(s: string): number {
  const x = s.trim();
  return NUMBER.test(x) ? Number(x) : Number.NaN;
}

/** Parses a CSV trace (see the file header for the forms). `file` names the trace in problems and errors. */
export function parseTraceCsv(text: string, file = 'trace.csv', opts: TraceParseOptions = {}): ParsedTrace {
  const b = new TraceBuilder(file);
  const lines = text.split('\n');
  let columns: string[] | undefined;
  let long = false;
  let headerLine = 0;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!.replace(/\r$/, '');
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const cells = line.split(',').map((c) => c.trim());
    if (columns === undefined) {
      if (Number.isNaN(num(cells[0]!))) {
        // A header row: the first column is time, whatever it is called.
        headerLine = lineNo;
        const names = cells.slice(1);
        if (names.length === 0) throw new MetricConfigError(`${file}:${lineNo}`, 'the header has only a time column; add value columns, e.g. t_seconds,value');
        const lower = names.map((n) => n.toLowerCase());
        long = names.length === 2 && (lower[0] === 'series' || lower[0] === 'service') && lower[1] === 'value';
        const dup = names.find((n, j) => n === '' || names.indexOf(n) !== j);
        if (dup !== undefined) throw new MetricConfigError(`${file}:${lineNo}`, dup === '' ? 'the header has an empty column name' : `the header names column ${dup} twice`);
        columns = names;
        if (!long) for (const n of names) b.declare(n);
        continue;
      }
      columns = cells.length === 2 ? ['value'] : cells.slice(1).map((_, j) => `value${j + 1}`);
      for (const n of columns) b.declare(n);
    }
    if (cells.length !== columns.length + 1) {
      b.bad(lineNo, `has ${cells.length} fields, expected ${columns.length + 1} (${['time', ...columns].join(',')})`);
      continue;
    }
    const t = num(cells[0]!);
    if (!Number.isFinite(t)) {
      b.bad(lineNo, `time ${JSON.stringify(cells[0])} is not a number of seconds`);
      continue;
    }
    if (long) {
      const name = cells[1]!;
      const v = num(cells[2]!);
      if (name === '') b.bad(lineNo, 'the series name is empty');
      else if (!Number.isFinite(v)) {
        b.bad(lineNo, `series ${name}: value ${JSON.stringify(cells[2])} is not a finite number`);
        b.hole(name, t);
      }
      else b.add(name, t, v, lineNo);
      continue;
    }
    for (let j = 0; j < columns.length; j++) {
      const v = num(cells[j + 1]!);
      if (!Number.isFinite(v)) {
        b.bad(lineNo, `series ${columns[j]}: value ${JSON.stringify(cells[j + 1])} is not a finite number`);
        b.hole(columns[j]!, t);
        continue;
      }
      b.add(columns[j]!, t, v, lineNo);
    }
  }
  if (columns === undefined) throw new MetricConfigError(file, 'holds no data rows; write rows like 0,12.5 (t_seconds,value)');
  return b.finish(opts, headerLine);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function formatLabels(l: Record<string, string>): string {
  const name = l.__name__ ?? '';
  const rest = Object.entries(l).filter(([k]) => k !== '__name__').sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}="${v}"`);
  return rest.length ? `${name}{${rest.join(',')}}` : name || 'value';
}

function addJsonPoints(b: TraceBuilder, name: string, points: unknown, where: string): void {
  if (!Array.isArray(points)) {
    b.bad(0, `series ${name} must be a list of [t_seconds, value] pairs or {t, value} objects, got ${typeName(points)}`, where);
    b.declare(name);
    return;
  }
  b.declare(name);
  points.forEach((p, i) => {
    const w = `${where}[${i}]`;
    let t: unknown;
    let v: unknown;
    if (Array.isArray(p) && p.length === 2) [t, v] = p;
    else if (isObj(p)) {
      t = p.t ?? p.t_seconds;
      v = p.value;
    } else {
      b.bad(0, `series ${name}: point is not [t_seconds, value] or {t, value}`, w);
      return;
    }
    const tn = typeof t === 'string' ? num(t) : typeof t === 'number' ? t : Number.NaN;
    const vn = typeof v === 'string' ? num(v) : typeof v === 'number' ? v : Number.NaN;
    if (!Number.isFinite(tn)) b.bad(0, `series ${name}: time ${JSON.stringify(t)} is not a number of seconds`, w);
    else if (!Number.isFinite(vn)) {
      b.bad(0, `series ${name}: value ${JSON.stringify(v)} is not a finite number`, w);
      b.hole(name, tn);
    }
    else b.add(name, tn, vn, 0, w);
  });
}

/** Parses a JSON trace (see the file header for the forms). */
export function parseTraceJson(text: string, file = 'trace.json', opts: TraceParseOptions = {}): ParsedTrace {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new MetricConfigError(file, `is not JSON (${(e as Error).message})`);
  }
  const b = new TraceBuilder(file);
  const isProm = isObj(doc) && (('status' in doc && 'data' in doc) || doc.resultType !== undefined);
  if (isProm) {
    const prom = parsePromQueryRangeFile(doc, file);
    for (const p of prom.problems) b.bad(0, p.problem, p.where);
    prom.series.forEach((s, i) => {
      const name = opts.seriesLabel !== undefined
        ? s.labels[opts.seriesLabel]
        : prom.series.length === 1 ? 'value' : formatLabels(s.labels);
      const where = `data.result[${i}]`;
      if (name === undefined) {
        b.bad(0, `series ${formatLabels(s.labels)} has no label ${opts.seriesLabel}`, where);
        return;
      }
      b.declare(name);
      s.points.forEach((p) => b.add(name, p.t / 1000, p.value, 0, `${where}.values[${p.index}]`));
      for (const p of prom.problems) if (p.series === i) b.hole(name, p.t / 1000);
    });
  } else if (Array.isArray(doc)) {
    addJsonPoints(b, 'value', doc, '$');
  } else if (isObj(doc)) {
    const series = isObj(doc.series) ? doc.series : doc;
    const prefix = isObj(doc.series) ? 'series.' : '';
    for (const [name, points] of Object.entries(series)) addJsonPoints(b, name, points, `${prefix}${name}`);
  } else {
    throw new MetricConfigError(file, `must be a JSON object or list, got ${typeName(doc)}`);
  }
  const out = b.finish(opts);
  if (out.series.size === 0 && out.problems.length === 0) throw new MetricConfigError(file, 'holds no series');
  return out;
}

/** Reads a trace file by extension (.json, otherwise CSV). */
export function readTraceFile(path: string, opts: TraceParseOptions & { format?: 'csv' | 'json' } = {}): ParsedTrace {
  let text: string;
  try {
    text = readFileBounded(path, MAX_TRACE_BYTES);
  } catch (e) {
    throw new MetricConfigError(path, e instanceof InputTooLargeError ? `larger than ${formatBytes(MAX_TRACE_BYTES)}; cut it to the stretch to replay or resample it (e.g. to 15 s or 1 min)` : `cannot read the trace: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const format = opts.format ?? (extname(path).toLowerCase() === '.json' ? 'json' : 'csv');
  return format === 'json' ? parseTraceJson(text, path, opts) : parseTraceCsv(text, path, opts);
}

/**
 * The value of a series at `tMs` (ms after the trace origin) by step interpolation, or why there is none.
 * `hint` is a starting index (the previous answer's), which makes forward replay O(1).
 */
export function traceValueAt(s: TraceSeries, tMs: number, hint = 0): { value: number; index: number } | { miss: string } {
  const t = s.t;
  const n = t.length;
  if (n === 0 || tMs < t[0]!) return { miss: `t=${tMs / 1000} s is before the trace starts (t=${n ? t[0]! / 1000 : '-'} s)` };
  if (tMs > t[n - 1]!) return { miss: `t=${tMs / 1000} s is after the trace ends (t=${t[n - 1]! / 1000} s); traces are not extrapolated` };
  let i: number;
  if (hint >= 0 && hint < n && t[hint]! <= tMs && (hint === n - 1 || t[hint + 1]! > tMs)) i = hint;
  else if (hint + 1 < n && t[hint + 1]! <= tMs && (hint + 1 === n - 1 || t[hint + 2]! > tMs)) i = hint + 1;
  else {
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (t[mid]! <= tMs) lo = mid;
      else hi = mid - 1;
    }
    i = lo;
  }
  if (tMs > t[i]! && s.gapAfter.has(i)) {
    return { miss: `t=${tMs / 1000} s falls in a gap of the trace (no data between t=${t[i]! / 1000} s and t=${t[i + 1]! / 1000} s)` };
  }
  return { value: s.values[i]!, index: i };
}

export interface TraceConfig {
  type: 'trace';
  file: string;
  format?: 'csv' | 'json';
  /** Epoch ms that t_seconds = 0 stands for (default 0: the times are epoch seconds). */
  startMs: number;
  maxGapMs?: number;
  seriesLabel?: string;
  /** Refuse a trace with bad rows (default true); false loads the good rows and keeps the problems on the source. */
  strict: boolean;
}

const CONFIG_FIELDS = ['type', 'file', 'format', 'start', 'maxGap', 'seriesLabel', 'strict'] as const;

export function parseTraceConfig(raw: unknown, path: string, opts: { baseDir?: string } = {}): TraceConfig {
  const o = readObject(raw, path, CONFIG_FIELDS);
  const f = reqString(o, 'file', path, 'traces/web.csv');
  let startMs = 0;
  if (o.start !== undefined) {
    const s = o.start;
    const ms = typeof s === 'number' ? s * 1000 : typeof s === 'string' ? Date.parse(s) : s instanceof Date ? s.getTime() : Number.NaN;
    if (!Number.isFinite(ms)) {
      throw new MetricConfigError(`${path}.start`, `must be a date-time like 2024-05-01T00:00:00Z or epoch seconds, got ${typeName(s)}`);
    }
    startMs = ms;
  }
  return {
    type: 'trace',
    file: isAbsolute(f) ? f : resolve(opts.baseDir ?? '.', f),
    format: optEnum(o, 'format', path, ['csv', 'json'] as const),
    startMs,
    maxGapMs: optDuration(o, 'maxGap', path, { min: 1, max: 366 * 86_400_000 }),
    seriesLabel: optString(o, 'seriesLabel', path),
    strict: optBool(o, 'strict', path) ?? true,
  };
}

export class TraceSource implements MetricSource {
  readonly kind = 'trace';
  readonly problems: TraceProblem[];
  private readonly hints = new Map<string, number>();

  /** From config (reads the file now, so a bad trace fails when the config loads) or from an already parsed trace. */
  constructor(readonly name: string, readonly trace: ParsedTrace, readonly startMs = 0) {
    this.problems = trace.problems;
  }

  static fromConfig(name: string, config: TraceConfig, path = name): TraceSource {
    const trace = readTraceFile(config.file, { format: config.format, maxGapMs: config.maxGapMs, seriesLabel: config.seriesLabel });
    const rows = trace.problems.filter((p) => p.kind === 'row');
    if (config.strict && rows.length > 0) {
      const shown = rows.slice(0, 10).map((p) => `  ${config.file}${p.line ? `:${p.line}` : ''}${p.where ? ` (${p.where})` : ''}: ${p.problem}`).join('\n');
      throw new MetricConfigError(`${path}.file`, `${rows.length} bad row(s) in the trace; fix them, or set strict: false to load the good rows:\n${shown}${rows.length > 10 ? `\n  ... ${rows.length - 10} more` : ''}`);
    }
    return new TraceSource(name, trace, config.startMs);
  }

  checkQuery(q: MetricQuery, path: string): void {
    readParams(q.params, `${path}.params`, []);
    if (!this.trace.series.has(q.query)) {
      throw new MetricConfigError(`${path}.query`, `the trace ${this.trace.file} has no series "${q.query}"; it has ${[...this.trace.series.keys()].slice(0, 20).join(', ')}`);
    }
  }

  async sample(q: MetricQuery, now: Date): Promise<Sample[]> {
    return this.sampleSync(q, now);
  }

  /** The same answer as sample(), without a promise (for simulators and benchmarks replaying many series). */
  sampleSync(q: MetricQuery, now: Date): Sample[] {
    const s = this.trace.series.get(q.query);
    if (!s) throw new MetricError(this.name, q.query, `the trace ${this.trace.file} has no series "${q.query}"`, false);
    const labels = { series: q.query };
    if (!q.range) {
      const r = traceValueAt(s, now.getTime() - this.startMs, this.hints.get(q.query));
      if ('miss' in r) throw new MetricError(this.name, q.query, r.miss, false);
      this.hints.set(q.query, r.index);
      return [{ labels, t: now.getTime(), value: r.value }];
    }
    const { start, end, stepSeconds } = q.range;
    if (!(stepSeconds > 0)) throw new MetricError(this.name, q.query, `range step must be positive, got ${stepSeconds}`, false);
    const out: Sample[] = [];
    let hint = 0;
    for (let at = start.getTime(); at <= end.getTime(); at += stepSeconds * 1000) {
      const r = traceValueAt(s, at - this.startMs, hint);
      if ('miss' in r) throw new MetricError(this.name, q.query, r.miss, false);
      hint = r.index;
      out.push({ labels, t: at, value: r.value });
    }
    return out;
  }
}
