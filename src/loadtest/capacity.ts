// Capacity probe: raise the arrival rate in steps until a gate breaks, then bisect between the last good and the first
// bad rate. The result (sustainable rps, per replica) is saved in the file `simulate` and `plan` read as capacity.
import { MAX_REQUEST_BYTES, readFileBounded } from '../bounded-read.js';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { pause } from '../deadline.js';
import { type LoadTestOptions, MAX_RATE, MAX_TEST_MS, type Progress, runLoadTest } from './engine.js';
import { type Gate, formatMs, formatPercent, parseGates } from './gates.js';
import { constantProfile } from './profile.js';
import type { EndpointInput } from './target.js';
import { replaceFile } from '../durable-file.js';

export const DEFAULT_CAPACITY_GATES = ['p95<500ms', 'errors<1%'];

/** A step whose achieved rate falls this far short of its target did not really sustain the target. */
const MIN_ACHIEVED_FRACTION = 0.9;

export interface CapacityProbeOptions {
  url: string;
  endpoints?: EndpointInput[];
  gates?: Gate[];
  /** The probed service runs this many replicas; capacity per replica is the sustainable rate divided by it. */
  replicas?: number;
  startRps?: number;
  maxRps?: number;
  /** Each ramp step multiplies the rate by this. */
  growth?: number;
  stepDurationMs?: number;
  /** Bisection stops when the gap between good and bad is at most this fraction of the good rate. */
  precision?: number;
  maxSteps?: number;
  /** Pause between steps so a backlog from a failed step does not spill into the next one. */
  cooldownMs?: number;
  timeoutMs?: number;
  maxConnections?: number;
  allowRemote?: boolean;
}

export interface CapacityStep {
  phase: 'ramp' | 'bisect';
  targetRps: number;
  achievedRps: number;
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  errorRate: number;
  passed: boolean;
  /** Gates that failed, plus `throughput` when the achieved rate fell short of the target. */
  failed: string[];
  startedAt: string;
  durationMs: number;
}

/** The capacity file: what `simulate` and `plan` read as one replica's capacity. */
export interface CapacityFile {
  url: string;
  sustainableRps: number;
  rpsPerReplica: number;
  replicas: number;
  gates: string[];
  measuredAt: string;
  steps: CapacityStep[];
  note?: string;
}

export interface CapacityProgress {
  step: number;
  phase: CapacityStep['phase'];
  targetRps: number;
  lastGood?: number;
  firstBad?: number;
  run?: Progress;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Runs the probe. Bounded by maxSteps × (step duration + cooldown) however the service behaves. */
export async function findCapacity(
  o: CapacityProbeOptions,
  hooks: { onProgress?: (p: CapacityProgress) => void; signal?: AbortSignal } = {},
): Promise<CapacityFile> {
  const gates = o.gates?.length ? o.gates : parseGates(DEFAULT_CAPACITY_GATES);
  const replicas = o.replicas ?? 1;
  if (!(Number.isInteger(replicas) && replicas >= 1)) throw new InputError(`--replicas ${o.replicas}: must be a whole number >= 1`);
  const startRps = o.startRps ?? 10;
  const maxRps = o.maxRps ?? 100_000;
  const growth = o.growth ?? 2;
  const precision = o.precision ?? 0.05;
  const maxSteps = o.maxSteps ?? 20;
  const stepDurationMs = o.stepDurationMs ?? 10_000;
  const cooldownMs = o.cooldownMs ?? 1_000;
  if (!(startRps > 0)) throw new InputError(`--start-rate ${startRps}: must be above 0`);
  if (!(maxRps >= startRps)) throw new InputError(`--max-rate ${maxRps}: must be at least the start rate ${startRps}`);
  if (maxRps > MAX_RATE) throw new InputError(`--max-rate ${maxRps}: must be at most ${MAX_RATE} (more than one process can send)`);
  if (!(growth > 1)) throw new InputError(`growth ${growth}: must be above 1`);
  if (!(stepDurationMs >= 500)) throw new InputError('--step-duration: must be at least 500ms to measure anything');
  if (stepDurationMs > MAX_TEST_MS) throw new InputError('--step-duration: must be at most 24h');

  const steps: CapacityStep[] = [];
  let lastGood: number | undefined;
  let firstBad: number | undefined;

  const measure = async (phase: CapacityStep['phase'], rate: number): Promise<boolean> => {
    if (steps.length) await pause(cooldownMs, hooks.signal);
    const step = steps.length + 1;
    hooks.onProgress?.({ step, phase, targetRps: rate, ...(lastGood !== undefined ? { lastGood } : {}), ...(firstBad !== undefined ? { firstBad } : {}) });
    const opts: LoadTestOptions = {
      url: o.url,
      model: 'open',
      profile: constantProfile(rate, stepDurationMs),
      gates,
      // a failed step's backlog is not worth waiting for; its verdict is already in
      gracefulStopMs: Math.min(1000, o.timeoutMs ?? 1000),
      ...(o.endpoints ? { endpoints: o.endpoints } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}),
      ...(o.allowRemote ? { allowRemote: true } : {}),
    };
    const r = await runLoadTest(opts, {
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      onProgress: (run) => hooks.onProgress?.({ step, phase, targetRps: rate, run }),
    });
    const failed = r.gates.filter((g) => !g.passed).map((g) => `${g.gate} (was ${g.actualText})`);
    if (r.rps < rate * MIN_ACHIEVED_FRACTION) failed.push(`throughput ${r.rps.toFixed(1)} rps < ${MIN_ACHIEVED_FRACTION * 100}% of target`);
    const passed = failed.length === 0 && r.stoppedBy !== 'signal';
    steps.push({
      phase, targetRps: round(rate), achievedRps: round(r.rps), requests: r.requests,
      p50: r.latency.p50, p95: r.latency.p95, p99: r.latency.p99, errorRate: r.errorRate,
      passed, failed, startedAt: r.startedAt, durationMs: r.durationMs,
    });
    return passed;
  };

  // connect and let the HTTP parser and JIT warm up first, so step 1 does not pay for the load generator's cold start
  await runLoadTest({
    url: o.url, model: 'closed', profile: constantProfile(1, 2000), maxRequests: 20, gracefulStopMs: 500,
    ...(o.endpoints ? { endpoints: o.endpoints } : {}),
    ...(o.allowRemote ? { allowRemote: true } : {}),
  }, hooks.signal ? { signal: hooks.signal } : {});

  let rate = startRps;
  while (steps.length < maxSteps && !hooks.signal?.aborted) {
    if (await measure('ramp', rate)) {
      lastGood = rate;
      if (rate >= maxRps) break;
      rate = Math.min(maxRps, rate * growth);
    } else {
      firstBad = rate;
      break;
    }
  }
  while (lastGood !== undefined && firstBad !== undefined && firstBad - lastGood > precision * lastGood
    && steps.length < maxSteps && !hooks.signal?.aborted) {
    const mid = (lastGood + firstBad) / 2;
    if (await measure('bisect', mid)) lastGood = mid;
    else firstBad = mid;
  }

  const sustainableRps = round(lastGood ?? 0);
  let note: string | undefined;
  if (lastGood === undefined) note = `the first step (${startRps} rps) already broke a gate; start lower with --start-rate`;
  else if (firstBad === undefined) note = `no gate broke up to ${round(lastGood)} rps (--max-rate or the step limit); capacity is at least this`;
  else if (firstBad - lastGood > precision * lastGood) note = `stopped after ${steps.length} steps; capacity is between ${round(lastGood)} and ${round(firstBad)} rps`;
  return {
    url: o.url,
    sustainableRps,
    rpsPerReplica: round(sustainableRps / replicas),
    replicas,
    gates: gates.map((g) => g.text),
    measuredAt: new Date().toISOString(),
    steps,
    ...(note ? { note } : {}),
  };
}

export function describeStep(s: CapacityStep): string {
  return `${s.phase} ${s.targetRps} rps: achieved ${s.achievedRps}, p95 ${formatMs(s.p95)}, errors ${formatPercent(s.errorRate)} -> ${s.passed ? 'ok' : 'broke ' + s.failed.join(', ')}`;
}

const StepSchema = z.object({
  phase: z.enum(['ramp', 'bisect']),
  targetRps: z.number(),
  achievedRps: z.number(),
  passed: z.boolean(),
}).loose();

const CapacityFileSchema = z.object({
  url: z.string(),
  sustainableRps: z.number().nonnegative(),
  rpsPerReplica: z.number().positive({ message: 'must be above 0; the probe found no sustainable rate, so this file cannot size replicas' }),
  replicas: z.number().int().positive().optional(),
  gates: z.array(z.string()),
  measuredAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be an ISO date-time' }),
  steps: z.array(StepSchema),
  note: z.string().optional(),
}).loose();

export function writeCapacityFile(path: string, c: CapacityFile): void {
  replaceFile(path, JSON.stringify(c, null, 2) + '\n');
}

/** Reads a capacity file written by `loadtest --find-capacity --save`; problems name the file and field. */
export function readCapacityFile(path: string): CapacityFile {
  let text: string;
  try {
    text = readFileBounded(path, MAX_REQUEST_BYTES);
  } catch (e) {
    throw new InputError(`capacity file ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); create it with scalepilot loadtest --find-capacity URL --save ${path}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new InputError(`capacity file ${path}: not JSON (${(e as Error).message}); it should be the file written by scalepilot loadtest --find-capacity --save`);
  }
  const parsed = CapacityFileSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`);
    throw new InputError(`capacity file ${path}: ${problems.join('; ')}`);
  }
  const c = parsed.data;
  return { ...c, replicas: c.replicas ?? 1, steps: c.steps as unknown as CapacityStep[] } as CapacityFile;
}
