// The load generator: closed model (virtual users, each a keep-alive connection sending back to back) and open model
// (arrivals at a scheduled rate, latency measured from each request's intended send time so a stalled server cannot
// hide its stall — coordinated-omission correction). Plain HTTP goes through the lean client in http1.ts; HTTPS and
// requests it does not cover go through undici's Client.dispatch.
import type { Client, Dispatcher } from 'undici';
import { undici } from '../lazy.js';
import { InputError } from '../errors.js';
import { Http1Pool, type ResponseSink, leanEligible, serialiseRequest } from './http1.js';
import { type LoadProfile, ArrivalSchedule, profileDurationMs, profilePeak, targetAt } from './profile.js';
import { type Endpoint, type EndpointInput, WeightedPicker, parseTarget, resolveEndpoints } from './target.js';
import { type LatencySummary, type TimelinePoint, Recorder, mergeHistograms, percentileMs, summarize } from './stats.js';
import { type Gate, type GateInput, type GateResult, type Reading, evaluateGates, interpret } from './gates.js';

export type LoadModel = 'closed' | 'open';

export interface LoadTestOptions {
  url: string;
  endpoints?: EndpointInput[];
  /** closed: profile levels are virtual users; open: profile levels are arrivals per second. */
  model: LoadModel;
  profile: LoadProfile;
  /** Stop after this many requests (sent or scheduled), even before the profile ends. */
  maxRequests?: number;
  /** Open model: most connections used at once; arrivals beyond them wait (and the wait counts as latency). */
  maxConnections?: number;
  /** Per request: connect, response headers and body each within this (default 10 s). */
  timeoutMs?: number;
  /** After the end, how long in-flight requests may finish before they are cut off (default min(timeout, 5 s)). */
  gracefulStopMs?: number;
  allowRemote?: boolean;
  /** Thresholds checked against the whole run. */
  gates?: Gate[];
  /** Throughput to read the result against; the open model defaults to its scheduled rate. */
  targetRps?: number;
}

export interface Progress {
  elapsedMs: number;
  totalMs: number;
  requests: number;
  errors: number;
  /** Last full second. */
  rps: number;
  p99: number | null;
  active: number;
  target: number;
}

export interface RunHooks {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export interface GroupResult {
  requests: number;
  errors: number;
  errorRate: number;
  latency: LatencySummary;
}

export interface StageResult extends GroupResult {
  stage: number;
  durationMs: number;
  target: number;
  rps: number;
}

export interface EndpointResult extends GroupResult {
  name: string;
  method: string;
  path: string;
  weight: number;
}

export interface LoadTestResult {
  url: string;
  model: LoadModel;
  startedAt: string;
  /** The measured window: the planned duration, or until the last response when the request count ended it first. */
  durationMs: number;
  stoppedBy: 'duration' | 'requests' | 'signal';
  /** Finished requests: responses plus transport errors. */
  requests: number;
  responses: number;
  /** Transport errors plus HTTP status >= 400. */
  errors: number;
  errorRate: number;
  rps: number;
  /** Closed model: from send to response. Open model: from the intended send time (coordinated omission corrected). */
  latency: LatencySummary;
  /** Open model only: from the actual send, as an uncorrected tool would report. */
  serviceTime?: LatencySummary;
  statusCodes: Record<string, number>;
  errorsByKind: Record<string, number>;
  /** Open model: arrivals never sent because the test ended while they waited for a connection. */
  dropped: number;
  /** Requests still in flight when the graceful stop ran out; not counted as finished. */
  interrupted: number;
  bytesRead: number;
  /** Most VUs (closed) or connections (open) used at once. */
  peakActive: number;
  /** Open model: arrivals the profile scheduled per second on average over the run. */
  scheduledRps?: number;
  /** Gate results; `passed` is false when any failed. */
  gates: GateResult[];
  passed: boolean;
  /** The good / warning / critical reading of p50, p99, error rate and throughput. */
  interpretation: Reading[];
  stages: StageResult[];
  endpoints: EndpointResult[];
  timeline: TimelinePoint[];
}

const MAX_VUS = 10_000;
/**
 * The open model's highest arrival rate: well past what one process can send, and low enough that the schedule's
 * arrival times still advance (at 1e308 rps one arrival's interval is below a millisecond's float precision).
 */
export const MAX_RATE = 1_000_000;
/** The longest test: a day (a soak longer than that is several runs, each with its own report). */
export const MAX_TEST_MS = 86_400_000;
/** Arrivals waiting for a connection are bounded so a dead server cannot grow memory without end. */
const MAX_QUEUE = 100_000;
const TICK_MS = 50;

/** Names a transport error the way an operator would search for it. */
export function errorKind(e: unknown): string {
  const code = (e as { code?: string })?.code;
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns';
    default:
      return code ?? (e as Error)?.name ?? 'error';
  }
}

/** One request in flight through undici, which calls back as the response arrives. */
class RequestHandler implements Dispatcher.DispatchHandler {
  status = 0;
  constructor(private readonly run: Run, readonly slot: number) {}
  onRequestStart(): void {}
  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    if (statusCode >= 200) this.status = statusCode;
  }
  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.run.rec.bytesRead += chunk.length;
  }
  onResponseEnd(): void {
    this.run.done(this.slot, this.status, undefined);
  }
  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.run.done(this.slot, 0, err);
  }
}

class Run implements ResponseSink {
  readonly rec: Recorder;
  private readonly target: URL;
  private readonly endpoints: Endpoint[];
  private readonly requestOpts: Dispatcher.DispatchOptions[];
  private readonly picker: WeightedPicker;
  private readonly totalMs: number;
  private readonly timeoutMs: number;
  private readonly gracefulStopMs: number;
  private readonly maxConnections: number;
  private readonly clients: Client[] = [];
  /** The lean plain-HTTP client, when every endpoint suits it; undici otherwise. */
  private readonly lean?: Http1Pool;
  private readonly leanRequests: Buffer[] = [];
  private readonly leanIsHead: boolean[] = [];
  /** Connections opened so far (slots 0..opened-1). */
  private opened = 0;
  // the request in flight on each slot, kept in flat arrays so a request allocates nothing
  private readonly slotEndpoint: number[] = [];
  private readonly slotStage: number[] = [];
  /** performance.now() when the slot's request was due; equals slotSent in the closed model. */
  private readonly slotIntended: number[] = [];
  private readonly slotSent: number[] = [];
  private readonly t0: number;
  private readonly startedAt: Date;
  private phase: 'running' | 'draining' | 'done' = 'running';
  private stoppedBy: LoadTestResult['stoppedBy'] = 'duration';
  private stopAtMs = 0;
  private lastCompletionMs = 0;
  private inFlight = 0;
  private issued = 0;
  private peakActive = 0;
  private dropped = 0;
  private interrupted = 0;
  private activeAtStop = 0;
  private tickTimer?: NodeJS.Timeout;
  private drainTimer?: NodeJS.Timeout;
  private pumpTimer?: NodeJS.Timeout;
  private lastProgressSecond = 0;
  private resolve!: (r: LoadTestResult) => void;
  // closed model
  private desiredVus = 0;
  private runningVus = 0;
  private readonly vuRunning: boolean[] = [];
  // open model
  private schedule?: ArrivalSchedule;
  private nextArrival?: { atMs: number; stage: number };
  private readonly freeSlots: number[] = [];
  private queue: Array<{ intended: number; endpoint: number; stage: number }> = [];
  private queueHead = 0;

  constructor(private readonly o: LoadTestOptions, private readonly hooks: RunHooks) {
    this.target = parseTarget(o.url, o.allowRemote ?? false);
    this.endpoints = resolveEndpoints(this.target, o.endpoints ?? []);
    this.requestOpts = this.endpoints.map((e) => ({
      path: e.path,
      method: e.method as Dispatcher.HttpMethod,
      headers: e.headers,
      ...(e.body !== undefined ? { body: e.body } : {}),
    }));
    this.picker = new WeightedPicker(this.endpoints.map((e) => e.weight));
    this.totalMs = profileDurationMs(o.profile);
    if (!(this.totalMs > 0)) throw new InputError('the load test has no duration; give --duration or stages');
    const peak = profilePeak(o.profile);
    if (o.model === 'closed' && peak > MAX_VUS) throw new InputError(`${peak} virtual users is more than one process can run well (max ${MAX_VUS})`);
    if (o.model === 'open' && peak > MAX_RATE) throw new InputError(`${peak} arrivals per second is more than one process can send (max ${MAX_RATE})`);
    if (this.totalMs > MAX_TEST_MS) throw new InputError(`a load test runs at most 24h (this one ${Math.round(this.totalMs / 1000)} s); run a longer soak as several tests`);
    if (o.maxRequests !== undefined && !(Number.isInteger(o.maxRequests) && o.maxRequests > 0)) {
      throw new InputError(`--requests ${o.maxRequests}: must be a whole number above 0`);
    }
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.gracefulStopMs = o.gracefulStopMs ?? Math.min(this.timeoutMs, 5_000);
    // enough connections for a full second of latency at the peak rate, so a slow server is measured, not throttled
    this.maxConnections = o.maxConnections ?? Math.min(1000, Math.max(10, Math.ceil(peak)));
    if (leanEligible(this.target, this.endpoints)) {
      this.lean = new Http1Pool(this.target, this.timeoutMs, this);
      for (const e of this.endpoints) {
        this.leanRequests.push(serialiseRequest(this.target, e));
        this.leanIsHead.push(e.method === 'HEAD');
      }
    }
    this.startedAt = new Date();
    this.t0 = performance.now();
    this.rec = new Recorder(o.profile.stages.length, this.endpoints.length, this.startedAt.getTime());
    this.rec.lastSecond = Math.ceil(this.totalMs / 1000) - 1;
    this.rec.sampler = (ms) => ({
      active: this.phase === 'running' ? this.active() : this.activeAtStop,
      target: targetAt(o.profile, Math.min(ms, this.totalMs) - 1e-6).target,
    });
  }

  start(): Promise<LoadTestResult> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      const sig = this.hooks.signal;
      if (sig) {
        if (sig.aborted) { this.stop('signal'); return; }
        sig.addEventListener('abort', () => this.stop('signal'), { once: true });
      }
      if (this.o.model === 'open') {
        this.schedule = new ArrivalSchedule(this.o.profile);
        this.nextArrival = this.schedule.next();
        this.pump();
      }
      this.tickTimer = setInterval(() => this.tick(), TICK_MS);
      this.tick();
    });
  }

  private elapsed(): number {
    return performance.now() - this.t0;
  }

  private budgetLeft(): boolean {
    return this.o.maxRequests === undefined || this.issued < this.o.maxRequests;
  }

  private client(slot: number): Client {
    let c = this.clients[slot];
    if (!c) {
      c = new (undici().Client)(this.target.origin, {
        pipelining: 1,
        keepAliveTimeout: 30_000,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        connect: { timeout: this.timeoutMs },
      });
      this.clients[slot] = c;
    }
    return c;
  }

  private send(slot: number, endpoint: number, stage: number, intended: number, now: number): void {
    this.inFlight++;
    if (slot >= this.opened) this.opened = slot + 1;
    this.slotEndpoint[slot] = endpoint;
    this.slotStage[slot] = stage;
    this.slotIntended[slot] = intended;
    this.slotSent[slot] = now;
    if (this.lean) this.lean.send(slot, this.leanRequests[endpoint]!, this.leanIsHead[endpoint]!, now);
    else this.client(slot).dispatch(this.requestOpts[endpoint]!, new RequestHandler(this, slot));
  }

  onResponse(slot: number, status: number): void {
    this.done(slot, status, undefined);
  }

  onError(slot: number, err: Error): void {
    this.done(slot, 0, err);
  }

  onBody(bytes: number): void {
    this.rec.bytesRead += bytes;
  }

  private tick(): void {
    if (this.phase !== 'running') return;
    const now = this.elapsed();
    if (now >= this.totalMs) { this.stop('duration'); return; }
    const second = Math.floor(now / 1000);
    this.rec.rollTo(second);
    if (second !== this.lastProgressSecond) {
      this.lastProgressSecond = second;
      this.progress(now);
    }
    if (this.o.model === 'closed') {
      this.desiredVus = Math.round(targetAt(this.o.profile, now).target);
      for (let i = 0; i < this.desiredVus; i++) {
        if (!this.vuRunning[i]) {
          this.vuRunning[i] = true;
          this.runningVus++;
          this.issueClosed(i);
        }
      }
      this.peakActive = Math.max(this.peakActive, this.runningVus);
    }
  }

  private progress(now: number): void {
    if (!this.hooks.onProgress) return;
    const last = this.rec.timeline[this.rec.timeline.length - 1];
    this.hooks.onProgress({
      elapsedMs: Math.min(now, this.totalMs),
      totalMs: this.totalMs,
      requests: this.rec.requests,
      errors: this.rec.errors,
      rps: last?.rps ?? 0,
      p99: last?.p99 ?? null,
      active: this.active(),
      target: targetAt(this.o.profile, now).target,
    });
  }

  /** A VU's loop step: send the next request, or stand down if the ramp, the end or the request budget says so. */
  private issueClosed(vu: number, now = performance.now()): void {
    if (this.phase === 'running' && now - this.t0 >= this.totalMs) this.stop('duration');
    if (this.phase !== 'running' || vu >= this.desiredVus || !this.budgetLeft()) {
      this.vuRunning[vu] = false;
      this.runningVus--;
      if (this.phase === 'running' && !this.budgetLeft()) this.stop('requests');
      return;
    }
    this.issued++;
    const stage = this.o.profile.stages.length === 1 ? 0 : targetAt(this.o.profile, now - this.t0).stage;
    this.send(vu, this.picker.next(), stage, now, now);
  }

  /** Open model: move every arrival that is due into the queue, hand queued arrivals to free connections, re-arm. */
  private pump(): void {
    this.pumpTimer = undefined;
    if (this.phase !== 'running') return;
    const now = this.elapsed();
    while (this.nextArrival && this.nextArrival.atMs <= now) {
      if (!this.budgetLeft()) { this.nextArrival = undefined; break; }
      if (this.queue.length - this.queueHead >= MAX_QUEUE) this.dropped++;
      else this.queue.push({ intended: this.t0 + this.nextArrival.atMs, endpoint: this.picker.next(), stage: this.nextArrival.stage });
      this.issued++;
      this.nextArrival = this.schedule!.next();
    }
    while (this.queueHead < this.queue.length) {
      const slot = this.acquireSlot();
      if (slot === undefined) break;
      this.sendQueued(slot);
    }
    if (this.nextArrival) {
      this.pumpTimer = setTimeout(() => this.pump(), Math.max(0, this.nextArrival.atMs - this.elapsed()));
    } else {
      this.stopWhenBudgetSpent();
    }
  }

  /** Open model: once the request budget is scheduled, the run ends when the last of those requests is back. */
  private stopWhenBudgetSpent(): void {
    if (!this.budgetLeft() && this.queueHead >= this.queue.length && this.inFlight === 0) this.stop('requests');
  }

  private acquireSlot(): number | undefined {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    if (this.opened < this.maxConnections) return this.opened++;
    return undefined;
  }

  private sendQueued(slot: number): void {
    const a = this.queue[this.queueHead++]!;
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    this.send(slot, a.endpoint, a.stage, a.intended, performance.now());
    this.peakActive = Math.max(this.peakActive, this.inFlight);
  }

  /** The request on `slot` ended: `status` of its response, or 0 with the transport error. */
  done(slot: number, status: number, err: Error | undefined): void {
    this.inFlight--;
    if (this.phase === 'done') return;
    const now = performance.now();
    const elapsed = now - this.t0;
    if (err) status = 0;
    this.rec.record(elapsed, this.slotStage[slot]!, this.slotEndpoint[slot]!, status, Math.round((now - this.slotIntended[slot]!) * 1000), err ? errorKind(err) : undefined);
    if (this.o.model === 'open' && status > 0) this.rec.serviceTime.recordValue(Math.max(1, Math.round((now - this.slotSent[slot]!) * 1000)));
    this.lastCompletionMs = elapsed;
    // after an error the client is still unwinding the failed connection, and it must not be handed a new request
    // from inside that callback; waiting a turn also keeps a refusing target from spinning the loop
    if (err) setImmediate(() => this.next(slot, performance.now()));
    else this.next(slot, now);
  }

  /** The connection `slot` is free: its VU sends again, or the open model hands it the next waiting arrival. */
  private next(slot: number, now: number): void {
    if (this.phase === 'done') return;
    if (this.o.model === 'closed') {
      this.issueClosed(slot, now);
    } else if (this.phase === 'running' && this.queueHead < this.queue.length) {
      this.sendQueued(slot);
    } else {
      this.freeSlots.push(slot);
      if (this.phase === 'running') this.stopWhenBudgetSpent();
    }
    if (this.phase === 'draining' && this.inFlight === 0) this.finish();
  }

  private active(): number {
    return this.o.model === 'closed' ? this.runningVus : this.inFlight;
  }

  private stop(reason: LoadTestResult['stoppedBy']): void {
    if (this.phase !== 'running') return;
    this.activeAtStop = this.active();
    this.phase = 'draining';
    this.stoppedBy = reason;
    this.stopAtMs = Math.min(this.elapsed(), this.totalMs);
    // responses that arrive while draining belong to the last second of the run, not to seconds after it
    if (reason !== 'requests') this.rec.lastSecond = Math.min(this.rec.lastSecond, Math.max(0, Math.ceil(this.stopAtMs / 1000) - 1));
    this.dropped += this.queue.length - this.queueHead;
    this.queue = [];
    this.queueHead = 0;
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    if (this.inFlight === 0) { this.finish(); return; }
    this.drainTimer = setTimeout(() => {
      this.interrupted = this.inFlight;
      this.finish();
    }, this.gracefulStopMs);
  }

  private finish(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    clearInterval(this.tickTimer);
    clearTimeout(this.drainTimer);
    clearTimeout(this.pumpTimer);
    // destroy, not close: anything still in flight was given its graceful stop already
    this.lean?.close();
    void Promise.allSettled(this.clients.map((c) => c.destroy())).then(() => this.resolve(this.result()));
  }

  private result(): LoadTestResult {
    const o = this.o;
    const durationMs = this.stoppedBy === 'requests' ? Math.max(this.lastCompletionMs, 1) : Math.max(this.stopAtMs, 1);
    this.rec.closeLast(durationMs - this.rec.currentSecond * 1000);
    const rec = this.rec;
    const group = (hs: Parameters<typeof mergeHistograms>[0], counts: Array<{ requests: number; errors: number }>): GroupResult => {
      const requests = counts.reduce((s, c) => s + c.requests, 0);
      const errors = counts.reduce((s, c) => s + c.errors, 0);
      return { requests, errors, errorRate: requests ? errors / requests : NaN, latency: summarize(mergeHistograms(hs)) };
    };
    let stageStart = 0;
    const stages: StageResult[] = o.profile.stages.map((s, i) => {
      const g = group(rec.cells[i]!, rec.cellCounts[i]!);
      const ran = Math.max(0, Math.min(s.durationMs, durationMs - stageStart));
      stageStart += s.durationMs;
      return { stage: i + 1, durationMs: s.durationMs, target: s.target, rps: ran > 0 ? g.requests / (ran / 1000) : 0, ...g };
    });
    const endpoints: EndpointResult[] = this.endpoints.map((e, j) => ({
      name: e.name, method: e.method, path: e.path, weight: e.weight,
      ...group(rec.cells.map((row) => row[j]!), rec.cellCounts.map((row) => row[j]!)),
    }));
    const overallHist = mergeHistograms(rec.cells.flat());
    const overall = summarize(overallHist);
    const errorRate = rec.requests ? rec.errors / rec.requests : NaN;
    const rps = rec.requests / (durationMs / 1000);
    const scheduledRps = this.issued / (durationMs / 1000);
    const figures: GateInput = {
      latency: { mean: overall.mean, max: overall.max, percentile: (p) => percentileMs(overallHist, p) },
      errorRate,
      rps,
    };
    const gates = evaluateGates(o.gates ?? [], figures);
    const targetRps = o.targetRps ?? (o.model === 'open' ? scheduledRps : undefined);
    const responses = [...rec.statusCodes.values()].reduce((a, b) => a + b, 0);
    const sortedEntries = <K>(m: Map<K, number>) => Object.fromEntries([...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [String(k), v]));
    return {
      url: o.url,
      model: o.model,
      startedAt: this.startedAt.toISOString(),
      durationMs: Math.round(durationMs),
      stoppedBy: this.stoppedBy,
      requests: rec.requests,
      responses,
      errors: rec.errors,
      errorRate,
      rps,
      latency: overall,
      ...(o.model === 'open' ? { serviceTime: summarize(rec.serviceTime), scheduledRps } : {}),
      statusCodes: Object.fromEntries([...rec.statusCodes.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v])),
      errorsByKind: sortedEntries(rec.errorsByKind),
      dropped: this.dropped,
      interrupted: this.interrupted,
      bytesRead: rec.bytesRead,
      peakActive: this.peakActive,
      gates,
      passed: gates.every((g) => g.passed),
      interpretation: interpret(figures, targetRps),
      stages,
      endpoints,
      timeline: rec.timeline,
    };
  }
}

/** Runs one load test to its end (profile duration, request count, or the signal) and returns what it measured. */
export async function runLoadTest(o: LoadTestOptions, hooks: RunHooks = {}): Promise<LoadTestResult> {
  return new Run(o, hooks).start();
}
