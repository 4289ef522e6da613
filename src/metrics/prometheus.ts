// Prometheus HTTP API source: instant (/api/v1/query) and range (/api/v1/query_range) PromQL reads.
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import { InputTooLargeError, MAX_ANSWER_BYTES, readStreamBounded } from '../bounded-read.js';
import { MetricConfigError, optBool, optDuration, optEnum, optSecret, optString, optStringMap, readObject, readParams, reqUrl } from './config.js';
import { MetricError, type MetricQuery, type MetricSource, type Sample } from './types.js';

export interface PrometheusConfig {
  type: 'prometheus';
  /** Base URL, may carry a path prefix (http://host/prometheus). */
  url: string;
  /** Per-request deadline in ms; also sent to Prometheus as its query timeout. */
  timeoutMs: number;
  bearerToken?: string;
  basicAuth?: { username: string; password: string };
  headers: Record<string, string>;
}

const CONFIG_FIELDS = ['type', 'url', 'timeout', 'bearerToken', 'basicAuth', 'headers'] as const;
const QUERY_PARAMS = ['allowEmpty', 'nonFinite'] as const;
/** Prometheus refuses range queries with more points per series than this. */
const MAX_POINTS = 11_000;

export function parsePrometheusConfig(raw: unknown, path: string): PrometheusConfig {
  const o = readObject(raw, path, CONFIG_FIELDS);
  const url = reqUrl(o, 'url', path, 'http://127.0.0.1:9090');
  const timeoutMs = optDuration(o, 'timeout', path, { min: 1, max: 600_000 }) ?? 10_000;
  const bearerToken = optSecret(o, 'bearerToken', path);
  let basicAuth: PrometheusConfig['basicAuth'];
  if (o.basicAuth !== undefined) {
    const b = readObject(o.basicAuth, `${path}.basicAuth`, ['username', 'password']);
    const username = optString(b, 'username', `${path}.basicAuth`);
    const password = optSecret(b, 'password', `${path}.basicAuth`);
    if (username === undefined || password === undefined) {
      throw new MetricConfigError(`${path}.basicAuth`, 'needs both username and password (password may be env:NAME)');
    }
    basicAuth = { username, password };
  }
  if (bearerToken && basicAuth) {
    throw new MetricConfigError(path, 'set either bearerToken or basicAuth, not both');
  }
  const headers = optStringMap(o, 'headers', path) ?? {};
  return { type: 'prometheus', url: url.toString().replace(/\/+$/, ''), timeoutMs, bearerToken, basicAuth, headers };
}

export interface PrometheusQueryOptions {
  /** Return [] for an empty result instead of failing (default false: "no series" is an error). */
  allowEmpty: boolean;
  /** NaN/±Inf values fail the read ('error', default) or are left out ('skip'). */
  nonFinite: 'error' | 'skip';
}

export function parsePrometheusQuery(q: MetricQuery, path: string): PrometheusQueryOptions {
  if (q.query.trim() === '') throw new MetricConfigError(`${path}.query`, 'is empty; write a PromQL expression like sum(rate(http_requests_total[5m]))');
  const p = readParams(q.params, `${path}.params`, QUERY_PARAMS);
  return {
    allowEmpty: optBool(p, 'allowEmpty', `${path}.params`) ?? false,
    nonFinite: optEnum(p, 'nonFinite', `${path}.params`, ['error', 'skip'] as const) ?? 'error',
  };
}

/** Parses a Prometheus sample value ("1.5", "NaN", "+Inf", "-Inf"). */
export function parsePromValue(s: unknown): number {
  if (typeof s !== 'string') return Number.NaN;
  if (s === '+Inf' || s === 'Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  if (s === 'NaN') return Number.NaN;
  const n = Number(s);
  return s.trim() === '' ? Number.NaN : n;
}

/** A series from a matrix result; t in epoch ms. */
export interface PromSeries {
  labels: Record<string, string>;
  /** index: position in the file's values list (points left out leave holes in it). */
  points: Array<{ t: number; value: number; index: number }>;
}

type PromResultType = 'vector' | 'matrix' | 'scalar' | 'string';

/** Error with the response shape problem, thrown as a non-retryable MetricError or a config error by callers. */
class ShapeError extends Error {}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function labelsOf(metric: unknown, where: string): Record<string, string> {
  if (metric === undefined) return {};
  if (!isObj(metric)) throw new ShapeError(`${where}.metric is not an object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metric)) out[k] = String(v);
  return out;
}

function pointOf(p: unknown, where: string): { t: number; raw: unknown } {
  if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'number') {
    throw new ShapeError(`${where} is not a [timestamp, "value"] pair`);
  }
  return { t: Math.round(p[0] * 1000), raw: p[1] };
}

function describeLabels(l: Record<string, string>): string {
  const name = l.__name__ ?? '';
  const rest = Object.entries(l).filter(([k]) => k !== '__name__').map(([k, v]) => `${k}="${v}"`);
  return rest.length ? `${name}{${rest.join(',')}}` : name || '{}';
}

/** Turns a `data` object of a successful response into samples (one per point); values may be non-finite here. */
function dataToSamples(data: unknown): { type: PromResultType; samples: Sample[] } {
  if (!isObj(data)) throw new ShapeError('data is missing');
  const type = data.resultType;
  const result = data.result;
  switch (type) {
    case 'scalar':
    case 'string': {
      const p = pointOf(result, 'data.result');
      if (type === 'string') throw new ShapeError(`the expression returns a string ("${String(p.raw)}"), not a number`);
      return { type, samples: [{ labels: {}, t: p.t, value: parsePromValue(p.raw) }] };
    }
    case 'vector': {
      if (!Array.isArray(result)) throw new ShapeError('data.result is not a list');
      const samples: Sample[] = [];
      result.forEach((r, i) => {
        if (!isObj(r)) throw new ShapeError(`data.result[${i}] is not an object`);
        const labels = labelsOf(r.metric, `data.result[${i}]`);
        if (r.value === undefined && r.histogram !== undefined) {
          throw new ShapeError(`${describeLabels(labels)} is a native histogram; wrap it in histogram_quantile(), histogram_sum() or histogram_count()`);
        }
        const p = pointOf(r.value, `data.result[${i}].value`);
        samples.push({ labels, t: p.t, value: parsePromValue(p.raw) });
      });
      return { type, samples };
    }
    case 'matrix': {
      const series = matrixToSeries(result, (p) => {
        throw new ShapeError(`${p.where}: ${p.problem}`);
      }, true);
      const samples: Sample[] = [];
      for (const s of series) for (const p of s.points) samples.push({ labels: s.labels, t: p.t, value: p.value });
      return { type, samples };
    }
    default:
      throw new ShapeError(`unknown resultType ${JSON.stringify(type)}`);
  }
}

type ProblemSink = (p: { where: string; problem: string; series: number; t: number }) => void;

function matrixToSeries(result: unknown, problem: ProblemSink, keepNonFinite: boolean): PromSeries[] {
  if (!Array.isArray(result)) throw new ShapeError('data.result is not a list');
  const out: PromSeries[] = [];
  result.forEach((r, i) => {
    if (!isObj(r)) throw new ShapeError(`data.result[${i}] is not an object`);
    const labels = labelsOf(r.metric, `data.result[${i}]`);
    if (r.values === undefined && r.histograms !== undefined) {
      throw new ShapeError(`${describeLabels(labels)} holds native histograms; wrap it in histogram_quantile(), histogram_sum() or histogram_count()`);
    }
    if (!Array.isArray(r.values)) throw new ShapeError(`data.result[${i}].values is not a list`);
    const points: PromSeries['points'] = [];
    r.values.forEach((v: unknown, j: number) => {
      const where = `data.result[${i}].values[${j}]`;
      const p = pointOf(v, where);
      const value = parsePromValue(p.raw);
      if (!keepNonFinite && !Number.isFinite(value)) {
        problem({ where, problem: `${describeLabels(labels)} has value ${String(p.raw)} at ${new Date(p.t).toISOString()}; left out, not filled`, series: i, t: p.t });
        return;
      }
      points.push({ t: p.t, value, index: j });
    });
    out.push({ labels, points });
  });
  return out;
}

export interface PromRangeFile {
  series: PromSeries[];
  /**
   * Points that were not usable (NaN, ±Inf), each with its JSON location, series index and time (epoch ms);
   * they are left out, never filled.
   */
  problems: Array<{ where: string; problem: string; series: number; t: number }>;
}

/**
 * Reads a saved query_range response (`curl .../api/v1/query_range?... > trace.json`), or its `data` object.
 * Throws MetricConfigError naming `file` when it is not a matrix result.
 */
export function parsePromQueryRangeFile(json: string | unknown, file = 'query_range result'): PromRangeFile {
  let doc: unknown = json;
  if (typeof json === 'string') {
    try {
      doc = JSON.parse(json);
    } catch (e) {
      throw new MetricConfigError(file, `is not JSON (${(e as Error).message}); save the body of /api/v1/query_range as-is`);
    }
  }
  if (!isObj(doc)) throw new MetricConfigError(file, 'must be a JSON object: a /api/v1/query_range response');
  if (doc.status === 'error') {
    throw new MetricConfigError(file, `holds a Prometheus error (${String(doc.errorType)}: ${String(doc.error)}); re-run the query`);
  }
  const data = 'data' in doc ? doc.data : doc;
  if (!isObj(data) || data.resultType !== 'matrix') {
    const got = isObj(data) ? JSON.stringify(data.resultType) : 'nothing';
    throw new MetricConfigError(file, `must hold a matrix result (resultType "matrix", from /api/v1/query_range), got resultType ${got}`);
  }
  const problems: PromRangeFile['problems'] = [];
  try {
    const series = matrixToSeries(data.result, (p) => problems.push(p), false);
    return { series, problems };
  } catch (e) {
    if (e instanceof ShapeError) throw new MetricConfigError(file, e.message);
    throw e;
  }
}

/** Prometheus errorType → whether trying again later can help. */
function retryableErrorType(errorType: string, status: number): boolean {
  if (errorType === 'timeout' || errorType === 'canceled' || errorType === 'unavailable' || errorType === 'internal') return true;
  if (errorType === 'bad_data' || errorType === 'execution' || errorType === 'not_found' || errorType === 'not_acceptable') return false;
  return status >= 500 || status === 429;
}

export class PrometheusSource implements MetricSource {
  readonly kind = 'prometheus';
  private readonly authHeader?: string;

  constructor(readonly name: string, readonly config: PrometheusConfig) {
    if (config.bearerToken) this.authHeader = `Bearer ${config.bearerToken}`;
    else if (config.basicAuth) {
      this.authHeader = `Basic ${Buffer.from(`${config.basicAuth.username}:${config.basicAuth.password}`).toString('base64')}`;
    }
  }

  checkQuery(q: MetricQuery, path: string): void {
    parsePrometheusQuery(q, path);
  }

  async sample(q: MetricQuery, now: Date): Promise<Sample[]> {
    let opts: PrometheusQueryOptions;
    try {
      opts = parsePrometheusQuery(q, q.name);
    } catch (e) {
      throw new MetricError(this.name, q.query, (e as Error).message, false);
    }
    const form = new URLSearchParams({ query: q.query, timeout: `${Math.max(1, Math.floor(this.config.timeoutMs / 1000))}s` });
    let endpoint = '/api/v1/query';
    if (q.range) {
      const { start, end, stepSeconds } = q.range;
      if (!(stepSeconds > 0)) throw new MetricError(this.name, q.query, `range step must be positive, got ${stepSeconds}`, false);
      if (end.getTime() < start.getTime()) throw new MetricError(this.name, q.query, 'range end is before its start', false);
      const points = (end.getTime() - start.getTime()) / 1000 / stepSeconds;
      if (points > MAX_POINTS) {
        throw new MetricError(this.name, q.query, `range would need ${Math.ceil(points)} points per series; Prometheus allows ${MAX_POINTS}: use a larger step`, false);
      }
      endpoint = '/api/v1/query_range';
      form.set('start', String(start.getTime() / 1000));
      form.set('end', String(end.getTime() / 1000));
      form.set('step', String(stepSeconds));
    } else {
      form.set('time', String(now.getTime() / 1000));
    }
    const body = await this.post(endpoint, form, q.query);
    let parsed: { type: PromResultType; samples: Sample[] };
    try {
      parsed = dataToSamples(body.data);
    } catch (e) {
      if (e instanceof ShapeError) throw new MetricError(this.name, q.query, e.message, false);
      throw e;
    }
    let samples = parsed.samples;
    const bad = samples.filter((s) => !Number.isFinite(s.value));
    if (bad.length > 0) {
      if (opts.nonFinite === 'error') {
        const b = bad[0]!;
        const hint = Number.isNaN(b.value)
          ? 'usually 0/0, e.g. a ratio or histogram_quantile over a window with no requests'
          : 'a division by zero, e.g. a ratio whose denominator is 0';
        throw new MetricError(this.name, q.query, `${bad.length} value(s) are not finite, e.g. ${describeLabels(b.labels)} = ${b.value} (${hint}); set params.nonFinite: skip to leave such series out`, true);
      }
      samples = samples.filter((s) => Number.isFinite(s.value));
    }
    if (samples.length === 0 && !opts.allowEmpty) {
      throw new MetricError(this.name, q.query, 'the query returned no series: check the metric name and labels, and that the targets are up and scraped (set params.allowEmpty: true if empty is normal)', true);
    }
    return samples;
  }

  private async post(endpoint: string, form: URLSearchParams, query: string): Promise<Record<string, unknown>> {
    const url = this.config.url + endpoint;
    const headers: Record<string, string> = {
      ...this.config.headers,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (this.authHeader) headers.authorization = this.authHeader;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { method: 'POST', headers, body: form, signal: AbortSignal.timeout(this.config.timeoutMs) });
      text = await answerText(res, url);
    } catch (e) {
      if (e instanceof InputTooLargeError) {
        throw new MetricError(this.name, query, `${url}: the answer is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB; aggregate the query (e.g. sum by (pod) (...)) so it returns the series the metric needs`, false);
      }
      throw new MetricError(this.name, query, `${url}: ${networkProblem(e, this.config.timeoutMs)}`, true, { cause: e });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (isObj(body) && body.status === 'error') {
      const errorType = String(body.errorType ?? '');
      throw new MetricError(this.name, query, `Prometheus ${errorType || 'error'} (HTTP ${res.status}): ${String(body.error)}`, retryableErrorType(errorType, res.status));
    }
    if (!res.ok) {
      const snippet = text.trim().slice(0, 200);
      const hint = res.status === 401 || res.status === 403
        ? ' (check bearerToken/basicAuth)'
        : res.status === 404 ? ` (is ${this.config.url} the Prometheus base URL, including any path prefix?)` : '';
      throw new MetricError(this.name, query, `${url}: HTTP ${res.status}${hint}${snippet ? `: ${snippet}` : ''}`, res.status >= 500 || res.status === 429);
    }
    if (!isObj(body) || body.status !== 'success') {
      throw new MetricError(this.name, query, `${url}: response is not a Prometheus API answer (${text.trim().slice(0, 120) || 'empty body'}); check the url`, false);
    }
    return body;
  }
}

/** The answer's body as text, at most MAX_ANSWER_BYTES: refused at once when its Content-Length says more. */
async function answerText(res: Response, source: string): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > MAX_ANSWER_BYTES) {
    await res.body?.cancel().catch(() => undefined);
    throw new InputTooLargeError(source, MAX_ANSWER_BYTES);
  }
  return res.body ? readStreamBounded(Readable.fromWeb(res.body as NodeWebStream), MAX_ANSWER_BYTES, source) : '';
}

/** A short reason for a failed fetch: timeout, refused, DNS... */
export function networkProblem(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `no answer within ${timeoutMs} ms (timeout)`;
  const code = err?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (is it running, on this address and port?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name does not resolve';
  if (code) return `${code}${err.cause?.message ? ` (${err.cause.message})` : ''}`;
  return err?.cause?.message ?? err?.message ?? String(e);
}
