// Puts a recorded series on the simulation grid and says exactly what it did with gaps and bad points:
// a sample stands for one trace interval (a step that holds several samples, of a trace finer than the step, takes
// their mean); across a gap the last value is held for at most one more interval,
// after which steps are no-data (decide() sees a failed read, and the step is not scored). Nothing is interpolated.
import type { TraceProblem, TraceSeries } from '../metrics/trace.js';
import type { LoadSeries } from './types.js';
import { formatDuration } from '../core/duration.js';

export interface TraceGap {
  /** unix seconds of the last sample before the gap and the first after it */
  after: number;
  before: number;
  missingSamples: number;
  /** grid steps that reused the last value */
  heldSteps: number;
  /** grid steps marked no-data */
  noDataSteps: number;
}

export interface AlignReport {
  /** where the series came from (file and series, or query) */
  source: string;
  samples: number;
  /** the trace's own interval (median spacing), ms */
  intervalMs: number;
  stepMs: number;
  /** unix seconds */
  start: number;
  end: number;
  steps: number;
  heldSteps: number;
  noDataSteps: number;
  /** with a trace finer than the step: steps whose value is the mean of the samples within them */
  averagedSteps?: number;
  /** rows and points left out, each with its line (CSV) or JSON location */
  problems: Array<{ where: string; problem: string }>;
  gaps: TraceGap[];
  /** one sentence on how gaps are treated */
  treatment: string;
}

export const GAP_TREATMENT =
  'a sample covers one trace interval (a step holding several samples takes their mean); across a gap the last value is held for at most one more interval, later steps are no-data: decide() sees a failed metric read and the step is left out of scoring';

export function describeProblem(file: string, p: TraceProblem): { where: string; problem: string } {
  return { where: p.where ? `${file} ${p.where}` : p.line ? `${file}:${p.line}` : file, problem: p.problem };
}

export interface AlignOptions {
  stepMs: number;
  /** epoch ms that the trace's t = 0 stands for (0: times are epoch seconds) */
  originMs?: number;
  /** crop to [start, end) (epoch ms) */
  start?: number;
  end?: number;
  source: string;
  /** problems the parser found, carried into the report */
  problems?: Array<{ where: string; problem: string }>;
  /** the most grid steps to lay out (default MAX_REPLAY_STEPS), and what holds them to it (for the message) */
  maxSteps?: { steps: number; why: string };
}

/** The most steps one replay lays out: about a year of 3-second steps, each step held in several arrays. */
export const MAX_REPLAY_STEPS = 10_000_000;

/**
 * Aligns a parsed series onto a grid of stepMs starting at its first sample (or opts.start). Negative values
 * (not a load) are left out and reported like bad rows; the gaps they leave are treated as gaps.
 */
export function alignTrace(s: TraceSeries, opts: AlignOptions): { series: LoadSeries; report: AlignReport } {
  const origin = opts.originMs ?? 0;
  const problems = [...(opts.problems ?? [])];
  const t: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < s.t.length; i++) {
    const at = s.t[i]! + origin;
    if (s.values[i]! < 0) {
      problems.push({ where: `${opts.source} t=${at / 1000}`, problem: `value ${s.values[i]} is negative, not a load; left out, not filled` });
      continue;
    }
    if ((opts.start !== undefined && at < opts.start) || (opts.end !== undefined && at >= opts.end)) continue;
    t.push(at);
    v.push(s.values[i]!);
  }
  if (t.length === 0) {
    throw new Error(`${opts.source}: no usable samples${opts.start !== undefined || opts.end !== undefined ? ' in the chosen time range' : ''}`);
  }
  const interval = s.stepMs > 0 ? s.stepMs : opts.stepMs;
  // The parser's gap threshold (1.5 × its median step, or maxGap) decides what is a gap; left-out points add gaps.
  const gapAt = (i: number): boolean => i + 1 < t.length && t[i + 1]! - t[i]! > 1.5 * interval;
  const start = opts.start ?? t[0]!;
  const end = opts.end ?? t[t.length - 1]! + interval;
  const n = Math.max(0, Math.ceil((end - start) / opts.stepMs));
  const most = opts.maxSteps ?? { steps: MAX_REPLAY_STEPS, why: 'a replay holds' };
  if (n > most.steps) {
    // the finest whole second (or millisecond below one) that fits
    const fit = Math.ceil((end - start) / most.steps);
    const step = fit >= 1000 ? Math.ceil(fit / 1000) * 1000 : fit;
    // one jump that makes up most of the span is a wrong time in the trace, not a range to step through
    let jump = 0;
    for (let k = 1; k < t.length; k++) if (t[k]! - t[k - 1]! > t[jump + 1]! - t[jump]!) jump = k - 1;
    const wild = t.length > 1 && t[jump + 1]! - t[jump]! > (end - start) / 2
      ? `; most of that is one jump from t=${t[jump]! / 1000} to t=${t[jump + 1]! / 1000} s, so check the trace's time column there`
      : '';
    throw new Error(
      `${opts.source}: ${formatDuration(end - start)} in steps of ${formatDuration(opts.stepMs)} is ${n.toLocaleString('en-US')} steps, ` +
        `more than the ${most.steps.toLocaleString('en-US')} ${most.why}${wild}; use --step ${formatDuration(step)} or more, or a shorter range (--start/--end)`,
    );
  }
  const values = new Float64Array(n);
  const gaps: TraceGap[] = [];
  let held = 0;
  let noData = 0;
  const fine = interval < opts.stepMs;
  let averaged = 0;
  let i = -1;
  let gap: TraceGap | undefined;
  for (let k = 0; k < n; k++) {
    const at = start + k * opts.stepMs;
    while (i + 1 < t.length && t[i + 1]! <= at) {
      i++;
      gap = undefined;
      if (gapAt(i)) {
        gap = { after: t[i]! / 1000, before: t[i + 1]! / 1000, missingSamples: Math.max(1, Math.round((t[i + 1]! - t[i]!) / interval) - 1), heldSteps: 0, noDataSteps: 0 };
        gaps.push(gap);
      }
    }
    if (i < 0) {
      values[k] = Number.NaN;
      noData++;
      continue;
    }
    if (fine) {
      // a trace finer than the step: the step's demand is the mean of the samples in it (the rate over the step,
      // as a live controller reading a rate over its sync period sees it), not the one sample at its start
      let sum = 0;
      let m = 0;
      for (let j = i; j < t.length && t[j]! < at + opts.stepMs; j++) if (t[j]! >= at) { sum += v[j]!; m++; }
      if (m > 0) { values[k] = sum / m; averaged++; continue; }
    }
    const age = at - t[i]!;
    const last = i + 1 === t.length;
    if (age < interval || (!gap && !last)) {
      values[k] = v[i]!;
    } else if (age < 2 * interval) {
      values[k] = v[i]!;
      held++;
      if (gap) gap.heldSteps++;
    } else {
      values[k] = Number.NaN;
      noData++;
      if (gap) gap.noDataSteps++;
    }
  }
  return {
    series: { start, stepMs: opts.stepMs, values },
    report: {
      source: opts.source,
      samples: t.length,
      intervalMs: interval,
      stepMs: opts.stepMs,
      start: start / 1000,
      end: (start + n * opts.stepMs) / 1000,
      steps: n,
      heldSteps: held,
      noDataSteps: noData,
      ...(fine ? { averagedSteps: averaged } : {}),
      problems,
      gaps,
      treatment: GAP_TREATMENT,
    },
  };
}
