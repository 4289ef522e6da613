// Load-test settings from flags and/or a YAML file (endpoints, stages, thresholds), merged into one runnable plan.
import { MAX_CONFIG_BYTES, readFileBounded } from '../bounded-read.js';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { formatIssue, pathToString, type ConfigIssue } from '../config/errors.js';
import { DurationError, parseDuration } from '../core/duration.js';
import type { LoadModel, LoadTestOptions } from './engine.js';
import { parseGates } from './gates.js';
import { type LoadProfile, type Stage, constantProfile, makeStage } from './profile.js';
import type { EndpointInput } from './target.js';

const DurationValue = z.union([z.string(), z.number().nonnegative()]);

const EndpointSchema = z.strictObject({
  name: z.string().optional(),
  method: z.string().optional(),
  path: z.string().optional(),
  headers: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  /** A string is sent as is; an object or array is sent as JSON. */
  body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
  weight: z.number().positive().optional(),
});

const StageSchema = z.strictObject({ duration: DurationValue, target: z.number().nonnegative() });

export const LoadTestFileSchema = z.strictObject({
  url: z.string().optional(),
  model: z.enum(['closed', 'open']).optional(),
  connections: z.number().int().positive().optional(),
  rate: z.number().positive().optional(),
  duration: DurationValue.optional(),
  requests: z.number().int().positive().optional(),
  timeout: DurationValue.optional(),
  maxConnections: z.number().int().positive().optional(),
  targetRps: z.number().positive().optional(),
  stages: z.array(StageSchema).min(1).optional(),
  endpoints: z.array(EndpointSchema).min(1).optional(),
  thresholds: z.array(z.string()).optional(),
});

export type LoadTestFile = z.infer<typeof LoadTestFileSchema>;

/** What flags and files can say about a load test; flags win over the file. */
export interface LoadTestInput {
  url?: string;
  model?: LoadModel;
  connections?: number;
  rate?: number;
  duration?: string;
  requests?: number;
  stages?: Stage[];
  endpoints?: EndpointInput[];
  thresholds?: string[];
  timeout?: string;
  maxConnections?: number;
  targetRps?: number;
  allowRemote?: boolean;
}

function locate(doc: Document, lc: LineCounter, path: Array<string | number>): { line?: number; col?: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      const p = lc.linePos(node.range[0]);
      return { line: p.line, col: p.col };
    }
  }
  return {};
}

function fail(issues: ConfigIssue[]): never {
  throw new InputError(issues.map(formatIssue).join('\n'));
}

/** Parses a load-test YAML file; every problem names file:line and the field. */
export function parseLoadTestFile(text: string, file: string): LoadTestInput {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    fail(doc.errors.map((e) => {
      const p = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
      return { file, line: p.line, col: p.col, path: '', message: `YAML: ${e.message.split('\n')[0]}`, fix: 'fix the YAML syntax at that line' };
    }));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    // alias bombs and unresolved aliases surface here, not in doc.errors
    fail([{ file, path: '', message: `YAML: ${(e as Error).message.split('\n')[0]}`, fix: 'define anchors before their aliases and keep alias use small' }]);
  }
  const parsed = LoadTestFileSchema.safeParse(data);
  if (!parsed.success) {
    fail(parsed.error.issues.map((i) => {
      const path = [...i.path] as Array<string | number>;
      if (i.code === 'unrecognized_keys') path.push(i.keys[0]!);
      const message = i.code === 'unrecognized_keys'
        ? `unknown key "${i.keys.join('", "')}" (known: ${Object.keys(LoadTestFileSchema.shape).join(', ')})`
        : i.message;
      return { file, ...locate(doc, lc, path), path: pathToString(path), message };
    }));
  }
  const f = parsed.data;
  const at = (path: Array<string | number>, run: () => void) => {
    try {
      run();
    } catch (e) {
      if (e instanceof InputError || e instanceof DurationError) {
        fail([{ file, ...locate(doc, lc, path), path: pathToString(path), message: e.message }]);
      }
      throw e;
    }
  };
  let stages: Stage[] | undefined;
  if (f.stages) {
    stages = f.stages.map((s, i) => {
      let st!: Stage;
      at(['stages', i, 'duration'], () => { st = makeStage(s.duration, s.target, `stage ${i + 1}`); });
      return st;
    });
  }
  if (f.duration !== undefined) at(['duration'], () => parseDuration(f.duration!));
  if (f.timeout !== undefined) at(['timeout'], () => parseDuration(f.timeout!));
  if (f.thresholds) f.thresholds.forEach((t, i) => at(['thresholds', i], () => parseGates([t])));
  return {
    ...(f.url !== undefined ? { url: f.url } : {}),
    ...(f.model !== undefined ? { model: f.model } : {}),
    ...(f.connections !== undefined ? { connections: f.connections } : {}),
    ...(f.rate !== undefined ? { rate: f.rate } : {}),
    ...(f.duration !== undefined ? { duration: String(f.duration) } : {}),
    ...(f.requests !== undefined ? { requests: f.requests } : {}),
    ...(f.timeout !== undefined ? { timeout: String(f.timeout) } : {}),
    ...(f.maxConnections !== undefined ? { maxConnections: f.maxConnections } : {}),
    ...(f.targetRps !== undefined ? { targetRps: f.targetRps } : {}),
    ...(stages ? { stages } : {}),
    ...(f.thresholds ? { thresholds: f.thresholds } : {}),
    ...(f.endpoints ? {
      endpoints: f.endpoints.map((e) => ({
        ...e,
        headers: e.headers ? Object.fromEntries(Object.entries(e.headers).map(([k, v]) => [k, String(v)])) : undefined,
        body: e.body === undefined || typeof e.body === 'string' ? e.body : JSON.stringify(e.body),
      })),
    } : {}),
  };
}

export function readLoadTestFile(path: string): LoadTestInput {
  let text: string;
  try {
    text = readFileBounded(path, MAX_CONFIG_BYTES);
  } catch (e) {
    throw new InputError(`--config ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseLoadTestFile(text, path);
}

/** Parses a duration given by flag; the error names the flag. */
export function durationFlag(v: string, flag: string): number {
  try {
    return parseDuration(v);
  } catch (e) {
    if (e instanceof DurationError) throw new InputError(`${flag}: ${e.message}`);
    throw e;
  }
}

/**
 * Turns what was asked into a runnable plan. The model is open when a rate is given (or model: open), closed otherwise;
 * stages ramp from --connections / --rate (or 0). Without --duration a test runs 10 s, or, when only a request count is
 * given, until that count with a 10 minute ceiling, so every run ends by itself.
 */
export function planLoadTest(i: LoadTestInput): LoadTestOptions {
  if (!i.url) throw new InputError('no target URL; give it as the argument (scalepilot loadtest http://127.0.0.1:8080/) or as url: in --config');
  if (i.connections !== undefined && i.rate !== undefined && i.model === undefined) {
    throw new InputError('--connections and --rate pick different models (closed: a fixed number of users; open: a fixed arrival rate); give one');
  }
  const model: LoadModel = i.model ?? (i.rate !== undefined ? 'open' : 'closed');
  const level = model === 'open' ? i.rate : i.connections;
  if (model === 'open' && level === undefined && !i.stages) throw new InputError('the open model needs --rate RPS or --stages');
  let profile: LoadProfile;
  if (i.stages) {
    if (i.duration !== undefined) throw new InputError('--duration and --stages both set the length of the test; give one');
    profile = { start: level ?? 0, stages: i.stages };
  } else {
    const durationMs = i.duration !== undefined ? durationFlag(i.duration, '--duration') : i.requests !== undefined ? 600_000 : 10_000;
    if (durationMs <= 0) throw new InputError('--duration must be above zero');
    profile = constantProfile(level ?? 10, durationMs);
  }
  const timeoutMs = i.timeout !== undefined ? durationFlag(i.timeout, '--timeout') : undefined;
  return {
    url: i.url,
    model,
    profile,
    ...(i.endpoints ? { endpoints: i.endpoints } : {}),
    ...(i.requests !== undefined ? { maxRequests: i.requests } : {}),
    ...(i.maxConnections !== undefined ? { maxConnections: i.maxConnections } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    allowRemote: i.allowRemote ?? false,
    gates: parseGates(i.thresholds ?? []),
    ...(i.targetRps !== undefined ? { targetRps: i.targetRps } : {}),
  };
}
