// Reads the traffic to replay: a CSV/JSON trace or saved query_range file (src/metrics/trace), or a live
// Prometheus range query, and picks each service's series from it.
import { readTraceFile, parseTraceJson, type ParsedTrace, type TraceSeries } from '../metrics/trace.js';
import { parsePrometheusConfig, PrometheusSource } from '../metrics/prometheus.js';
import { MetricError } from '../metrics/types.js';
import { InputError } from '../errors.js';

export type TraceInput =
  | { kind: 'file'; file: string; format?: 'csv' | 'json'; seriesLabel?: string; maxGapMs?: number }
  | { kind: 'prometheus'; url: string; query: string; start: number; end: number; stepMs: number; seriesLabel?: string };

/** Prometheus refuses range queries over 11,000 points per series; longer ranges are read in pieces. */
const MAX_POINTS_PER_QUERY = 10_000;

/** Reads a live range in pieces and returns it as a parsed trace (same gap and problem reporting as files). */
async function readPrometheus(input: Extract<TraceInput, { kind: 'prometheus' }>): Promise<ParsedTrace> {
  const cfg = parsePrometheusConfig({ type: 'prometheus', url: input.url }, '--prom-url');
  const src = new PrometheusSource('--prom-url', cfg);
  if (!(input.end > input.start)) throw new InputError(`--start/--end: the range is empty (${new Date(input.start).toISOString()} .. ${new Date(input.end).toISOString()})`);
  const span = MAX_POINTS_PER_QUERY * input.stepMs;
  const series = new Map<string, Array<[number, number]>>();
  for (let from = input.start; from < input.end; from += span + input.stepMs) {
    const to = Math.min(input.end, from + span);
    let samples;
    try {
      samples = await src.sample({ name: 'trace', query: input.query, params: { nonFinite: 'skip', allowEmpty: true }, range: { start: new Date(from), end: new Date(to), stepSeconds: input.stepMs / 1000 } }, new Date(to));
    } catch (e) {
      if (e instanceof MetricError) throw new InputError(`--prom-url ${input.url} --query ${input.query}: ${e.message}`);
      throw e;
    }
    for (const s of samples) {
      const name = input.seriesLabel !== undefined ? s.labels[input.seriesLabel] ?? '' : labelsKey(s.labels);
      let pts = series.get(name);
      if (!pts) series.set(name, (pts = []));
      pts.push([s.t / 1000, s.value]);
    }
  }
  if (series.size === 0) throw new InputError(`--query ${input.query}: Prometheus returned no series between ${new Date(input.start).toISOString()} and ${new Date(input.end).toISOString()}`);
  // One series is called "value", as a one-column trace file is.
  const doc = series.size === 1 ? { series: { value: [...series.values()][0]! } } : { series: Object.fromEntries(series) };
  return parseTraceJson(JSON.stringify(doc), `${input.url} ${input.query}`);
}

function labelsKey(l: Record<string, string>): string {
  const name = l.__name__ ?? '';
  const rest = Object.entries(l).filter(([k]) => k !== '__name__').sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}="${v}"`);
  return rest.length ? `${name}{${rest.join(',')}}` : name || 'value';
}

export async function readTrace(input: TraceInput): Promise<ParsedTrace> {
  if (input.kind === 'prometheus') return readPrometheus(input);
  return readTraceFile(input.file, {
    ...(input.format ? { format: input.format } : {}),
    ...(input.seriesLabel !== undefined ? { seriesLabel: input.seriesLabel } : {}),
    ...(input.maxGapMs !== undefined ? { maxGapMs: input.maxGapMs } : {}),
  });
}

/**
 * The series a service replays: --series when given, else the one named like the service, else the only one.
 * Throws InputError naming the series there are.
 */
export function seriesFor(trace: ParsedTrace, service: string, explicit?: string): TraceSeries {
  const names = [...trace.series.keys()];
  const list = names.slice(0, 20).join(', ') + (names.length > 20 ? ', ...' : '');
  if (explicit !== undefined) {
    const s = trace.series.get(explicit);
    if (!s) throw new InputError(`--series ${explicit}: ${trace.file} has no such series; it has ${list}`);
    return s;
  }
  const own = trace.series.get(service);
  if (own) return own;
  if (trace.series.size === 1) return [...trace.series.values()][0]!;
  throw new InputError(`${trace.file} holds ${trace.series.size} series (${list}) and none is named ${service}; choose one with --series NAME`);
}
