// Load profiles: k6-style stages that ramp virtual users or an arrival rate linearly, and the exact arrival schedule
// an open-model test follows (intended send times, so latency can be measured from when a request was due).
import { InputError } from '../errors.js';
import { parseDuration, DurationError } from '../core/duration.js';

export interface Stage {
  durationMs: number;
  /** VUs (closed model) or requests per second (open model) reached at the end of the stage. */
  target: number;
}

/** Where the load starts and the stages it moves through; a constant load is one flat stage. */
export interface LoadProfile {
  start: number;
  stages: Stage[];
}

export function constantProfile(level: number, durationMs: number): LoadProfile {
  return { start: level, stages: [{ durationMs, target: level }] };
}

export function profileDurationMs(p: LoadProfile): number {
  return p.stages.reduce((s, st) => s + st.durationMs, 0);
}

export function profilePeak(p: LoadProfile): number {
  return p.stages.reduce((m, s) => Math.max(m, s.target), p.start);
}

/** Checks one stage given as values from a flag or config; `where` names it in errors. */
export function makeStage(duration: string | number, target: unknown, where: string): Stage {
  let durationMs: number;
  try {
    durationMs = parseDuration(duration);
  } catch (e) {
    if (e instanceof DurationError) throw new InputError(`${where}: ${e.message}`);
    throw e;
  }
  if (durationMs <= 0) throw new InputError(`${where}: duration must be above zero`);
  const t = typeof target === 'string' && target.trim() !== '' ? Number(target) : target;
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) {
    throw new InputError(`${where}: target ${JSON.stringify(target)} must be a number >= 0 (VUs or requests per second)`);
  }
  return { durationMs, target: t };
}

/** Parses `30s:50,1m:50,30s:0` (duration:target, comma separated). */
export function parseStages(spec: string): Stage[] {
  const parts = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new InputError(`--stages "${spec}": give at least one stage, like 30s:50,1m:50,30s:0`);
  return parts.map((p, i) => {
    const m = /^([^:]+):([^:]+)$/.exec(p);
    if (!m) throw new InputError(`--stages stage ${i + 1} "${p}": write each stage as duration:target, like 30s:50`);
    return makeStage(m[1]!.trim(), m[2]!.trim(), `--stages stage ${i + 1} "${p}"`);
  });
}

/** The stage in force at `elapsedMs` and the linearly interpolated target there (the last target after the end). */
export function targetAt(p: LoadProfile, elapsedMs: number): { stage: number; target: number } {
  let from = p.start;
  let t0 = 0;
  for (let i = 0; i < p.stages.length; i++) {
    const s = p.stages[i]!;
    if (elapsedMs < t0 + s.durationMs) {
      const f = Math.max(0, elapsedMs - t0) / s.durationMs;
      return { stage: i, target: from + (s.target - from) * f };
    }
    from = s.target;
    t0 += s.durationMs;
  }
  return { stage: Math.max(0, p.stages.length - 1), target: from };
}

/** Arrivals a rate profile schedules in total (the integral of the rate). */
export function scheduledArrivals(p: LoadProfile): number {
  let from = p.start;
  let n = 0;
  for (const s of p.stages) {
    n += ((from + s.target) / 2) * (s.durationMs / 1000);
    from = s.target;
  }
  return n;
}

/**
 * Intended send times (ms from the start) for an arrival-rate profile: arrival k is due when the integral of the rate
 * reaches k. Within a stage the rate is linear, so the integral is quadratic and each time is solved exactly; this keeps
 * ramps smooth at any rate instead of stepping once per timer tick.
 */
export class ArrivalSchedule {
  private stage = 0;
  private stageStartMs = 0;
  private stageFrom: number;
  /** Arrivals consumed by the stages before the current one. */
  private before = 0;
  private k = 0;

  constructor(private readonly p: LoadProfile) {
    this.stageFrom = p.start;
  }

  /** The next intended send time, or undefined when the profile schedules no more arrivals. */
  next(): { atMs: number; stage: number } | undefined {
    for (;;) {
      const s = this.p.stages[this.stage];
      if (!s) return undefined;
      const D = s.durationMs / 1000;
      const r0 = this.stageFrom;
      const r1 = s.target;
      const total = ((r0 + r1) / 2) * D;
      const need = this.k - this.before;
      if (need < total - 1e-9) {
        // solve r0·τ + (r1-r0)/(2D)·τ² = need for τ, in the form that stays stable when r1 ≈ r0
        const a = (r1 - r0) / (2 * D);
        const disc = Math.max(0, r0 * r0 + 4 * a * need);
        const tau = need === 0 ? 0 : (2 * need) / (r0 + Math.sqrt(disc));
        this.k++;
        return { atMs: this.stageStartMs + Math.min(tau, D) * 1000, stage: this.stage };
      }
      this.before += total;
      this.stageStartMs += s.durationMs;
      this.stageFrom = r1;
      this.stage++;
    }
  }
}
