// Admission control for the HTTP server, which shares its event loop with the sync loop. Node runs every ready
// socket's handler in one poll phase before any timer fires, so 1,000 busy connections used to hold a due sync
// (and each `await` in it) behind seconds of API work. Handlers therefore start from a queue, a few per loop turn
// and a bounded number at once: a due timer waits for at most one small batch, /metrics and /healthz go first,
// and when the queue is full (or a request has waited too long) the answer is a fast 503 with Retry-After.

export interface AdmissionOptions {
  /** handlers running at once (a handler may await the store or a provider) */
  maxInFlight: number;
  /** handlers started per event-loop turn; what a due sync waits behind at most */
  perTurn: number;
  /** requests waiting; beyond this a request is refused at once */
  maxQueued: number;
  /** a request still waiting after this long is refused (ms) */
  maxWaitMs: number;
  /** API work aimed for per loop turn (ms); with slow handlers fewer than perTurn start */
  turnBudgetMs: number;
}

export const DEFAULT_ADMISSION: AdmissionOptions = { maxInFlight: 32, perTurn: 16, maxQueued: 4096, maxWaitMs: 10_000, turnBudgetMs: 20 };

export type Admitted = { ok: true; release: () => void } | { ok: false; reason: string };

interface Waiter {
  admit: (a: Admitted) => void;
  since: number;
}

export class Admission {
  private inFlight = 0;
  private readonly urgent: Waiter[] = [];
  private readonly normal: Waiter[] = [];
  private pumping = false;
  /** requests refused since start, for /api/v1/server and tests */
  refused = 0;
  admitted = 0;
  /** moving average of normal requests' handler time (ms); 0 until measured */
  private serviceMs = 0;

  constructor(readonly o: AdmissionOptions = DEFAULT_ADMISSION, private now: () => number = Date.now) {}

  get queued(): number {
    return this.urgent.length + this.normal.length;
  }

  get running(): number {
    return this.inFlight;
  }

  /** Waits for a slot. `urgent` requests (/metrics, /healthz) are started before any other waiting request. */
  enter(urgent: boolean): Promise<Admitted> {
    // each lane has its own bound, so a flood of API calls cannot crowd out the scrape
    const lane = urgent ? this.urgent : this.normal;
    if (lane.length >= this.o.maxQueued) {
      this.refused++;
      return Promise.resolve({ ok: false, reason: `${lane.length} requests are already waiting` });
    }
    return new Promise<Admitted>((admit) => {
      lane.push({ admit, since: this.now() });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.pumping) return;
    this.pumping = true;
    // setImmediate runs after the poll phase: the timers of a due sync run before the next batch starts
    setImmediate(() => this.pump());
  }

  /**
   * Records how long a started normal request took to produce its response (ms). Batches are sized from this so a
   * turn's API work stays near turnBudgetMs, whether handlers take 1 ms (few services) or 100 ms (many).
   */
  noteServiceTime(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.serviceMs = this.serviceMs === 0 ? ms : 0.8 * this.serviceMs + 0.2 * ms;
  }

  /** Normal requests started per turn now: perTurn, fewer while handlers are slow. */
  get batch(): number {
    if (this.serviceMs <= 0) return this.o.perTurn;
    return Math.max(1, Math.min(this.o.perTurn, Math.floor(this.o.turnBudgetMs / this.serviceMs)));
  }

  private start(w: Waiter, urgent: boolean): void {
    if (!urgent) this.inFlight++;
    this.admitted++;
    let released = false;
    w.admit({
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        if (!urgent) this.inFlight--;
        if (this.queued) this.schedule();
      },
    });
  }

  private pump(): void {
    this.pumping = false;
    const t = this.now();
    // refusing an expired waiter is cheap but not free; a turn refuses a bounded number too
    let handled = 0;
    const expired = (w: Waiter) => {
      if (t - w.since <= this.o.maxWaitMs) return false;
      this.refused++;
      w.admit({ ok: false, reason: `it waited ${Math.round((t - w.since) / 1000)} s for a slot` });
      return true;
    };
    // the scrape and the liveness probe are small and must not wait behind slow API calls: they start every
    // turn, outside maxInFlight
    for (let n = 0; n < this.o.perTurn && this.urgent.length && handled++ < this.o.perTurn * 16; ) {
      const w = this.urgent.shift()!;
      if (expired(w)) continue;
      this.start(w, true);
      n++;
    }
    const batch = this.batch;
    for (let n = 0; n < batch && this.normal.length && this.inFlight < this.o.maxInFlight && handled++ < this.o.perTurn * 16; ) {
      const w = this.normal.shift()!;
      if (expired(w)) continue;
      this.start(w, false);
      n++;
    }
    if (this.urgent.length || (this.normal.length && this.inFlight < this.o.maxInFlight)) this.schedule();
  }
}
