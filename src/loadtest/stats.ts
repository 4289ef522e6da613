// Recording a load test: HDR latency histograms per stage × endpoint, status codes, errors by kind, and a 1-second
// timeline (requests, errors, latency percentiles, active VUs or connections, target load).
import { build, type Histogram } from 'hdr-histogram-js';

/** Latency figures in milliseconds; NaN (null in JSON) when nothing was measured. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export interface TimelinePoint {
  /** Unix seconds at the start of the second. */
  t: number;
  requests: number;
  errors: number;
  rps: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** VUs running (closed model) or requests in flight (open model) at the end of the second. */
  active: number;
  /** Target VUs or arrival rate at the end of the second. */
  target: number;
}

/** Latencies are recorded in microseconds; the range grows on demand so a very slow response is never clipped. */
export function newHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}

export function summarize(h: Histogram): LatencySummary {
  const n = h.totalCount;
  const at = (p: number) => percentileMs(h, p);
  return {
    count: n,
    min: n ? h.minNonZeroValue / 1000 : NaN,
    mean: n ? h.mean / 1000 : NaN,
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: n ? h.maxValue / 1000 : NaN,
  };
}

/**
 * A percentile in ms. HDR reports the top of the value's bucket, which can sit just above the largest value recorded;
 * clamping to the max keeps p99.9 <= max as readers expect.
 */
export function percentileMs(h: Histogram, p: number): number {
  return h.totalCount ? Math.min(h.getValueAtPercentile(p), h.maxValue) / 1000 : NaN;
}

export function mergeHistograms(hs: readonly Histogram[]): Histogram {
  const out = newHistogram();
  for (const h of hs) if (h.totalCount) out.add(h);
  return out;
}

/** Counts of one group of requests (a stage, an endpoint, or a cell of both). */
export interface Counts {
  requests: number;
  errors: number;
}

/**
 * The live recorder. Everything on the per-request path is a counter bump or a histogram record; percentiles are
 * computed once per second for the timeline and once at the end for the summary.
 */
export class Recorder {
  /** [stage][endpoint] latency histograms (responses only; transport errors have no meaningful latency). */
  readonly cells: Histogram[][];
  readonly cellCounts: Counts[][];
  /** Open model: time from the actual send, next to the latency measured from the intended send time. */
  readonly serviceTime = newHistogram();
  readonly statusCodes = new Map<number, number>();
  readonly errorsByKind = new Map<string, number>();
  requests = 0;
  errors = 0;
  bytesRead = 0;
  readonly timeline: TimelinePoint[] = [];
  /** Set when the run stops on time, so late responses land in its last second. */
  lastSecond = Infinity;
  private second = newHistogram();
  private secondIndex = 0;
  private secondRequests = 0;
  private secondErrors = 0;

  constructor(stages: number, endpoints: number, private readonly startUnixMs: number) {
    this.cells = Array.from({ length: stages }, () => Array.from({ length: endpoints }, () => newHistogram()));
    this.cellCounts = Array.from({ length: stages }, () => Array.from({ length: endpoints }, () => ({ requests: 0, errors: 0 })));
  }

  /**
   * One finished request. `elapsedMs` is when it finished (ms since the start), latencyUs from the intended send time;
   * status 0 means a transport error of `errorKind`.
   */
  record(elapsedMs: number, stage: number, endpoint: number, status: number, latencyUs: number, errorKind?: string): void {
    const idx = Math.min(Math.floor(elapsedMs / 1000), this.lastSecond);
    if (idx !== this.secondIndex) this.rollTo(idx);
    const c = this.cellCounts[stage]![endpoint]!;
    c.requests++;
    this.requests++;
    this.secondRequests++;
    let failed: string | undefined;
    if (status > 0) {
      this.statusCodes.set(status, (this.statusCodes.get(status) ?? 0) + 1);
      const v = latencyUs < 1 ? 1 : latencyUs;
      this.cells[stage]![endpoint]!.recordValue(v);
      this.second.recordValue(v);
      if (status >= 400) failed = `HTTP ${status}`;
    } else {
      failed = errorKind ?? 'error';
    }
    if (failed) {
      c.errors++;
      this.errors++;
      this.secondErrors++;
      this.errorsByKind.set(failed, (this.errorsByKind.get(failed) ?? 0) + 1);
    }
  }

  /** Hooks that sample VUs/in-flight and the target at each second boundary. */
  sampler: (elapsedMs: number) => { active: number; target: number } = () => ({ active: 0, target: 0 });

  /** Closes every second before `idx`; called on each record and from the run's clock tick. */
  rollTo(idx: number): void {
    idx = Math.min(idx, this.lastSecond);
    while (this.secondIndex < idx) {
      this.closeSecond(1000);
      this.secondIndex++;
    }
  }

  /** Closes the current second at the end of the run; `lengthMs` is how much of it the run lasted. */
  closeLast(lengthMs: number): void {
    if (lengthMs > 0 || this.secondRequests > 0) this.closeSecond(Math.min(1000, Math.max(lengthMs, 1)));
  }

  private closeSecond(lengthMs: number): void {
    const h = this.second;
    const n = h.totalCount;
    const { active, target } = this.sampler((this.secondIndex + 1) * 1000);
    const round = (v: number) => Math.round(v * 1000) / 1000;
    this.timeline.push({
      t: Math.floor(this.startUnixMs / 1000) + this.secondIndex,
      requests: this.secondRequests,
      errors: this.secondErrors,
      rps: round((this.secondRequests * 1000) / lengthMs),
      p50: n ? percentileMs(h, 50) : null,
      p95: n ? percentileMs(h, 95) : null,
      p99: n ? percentileMs(h, 99) : null,
      active,
      target: round(target),
    });
    h.reset();
    this.secondRequests = 0;
    this.secondErrors = 0;
  }

  get currentSecond(): number {
    return this.secondIndex;
  }
}
