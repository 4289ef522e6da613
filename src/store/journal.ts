// The controller's write path to the store. Records that could not be written (disk full, read-only file, database
// gone) are kept in order, bounded, and written before anything newer once the store takes writes again; while any
// are pending, `blocked()` says why, and the controller holds instead of acting on changes it cannot record.
import { randomBytes } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import { PER_SYNC_KINDS, type Store, type StoreEvent, type StoreLock } from './types.js';

export interface JournalLogger {
  error(o: object, msg?: string): void;
  info(o: object, msg?: string): void;
}

export interface JournalOptions {
  /** most records kept while the store refuses writes (default 10,000); beyond it the oldest per-sync records go */
  maxPending?: number;
  registry?: Registry;
  log?: JournalLogger;
}

function counter(r: Registry | undefined, name: string, help: string): Counter | undefined {
  if (!r) return undefined;
  return (r.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, registers: [r] });
}

function gauge(r: Registry | undefined, name: string, help: string): Gauge | undefined {
  if (!r) return undefined;
  return (r.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers: [r] });
}

export class RecordJournal {
  /** each with the key it was first tried under, so a retry after a timed-out write that did happen stores it once */
  private pending: Array<{ e: StoreEvent; key: string }> = [];
  private lastError = '';
  private draining: Promise<boolean> | undefined;
  private lock: StoreLock | undefined;
  private readonly maxPending: number;
  private readonly failures?: Counter;
  private readonly dropped?: Counter;
  private readonly pendingGauge?: Gauge;
  private readonly blockedGauge?: Gauge;

  constructor(private readonly store: Store, private readonly o: JournalOptions = {}) {
    this.maxPending = o.maxPending ?? 10_000;
    this.failures = counter(o.registry, 'scalepilot_store_write_failures_total', 'Writes to the store that failed (each is kept and retried)');
    this.dropped = counter(o.registry, 'scalepilot_store_records_dropped_total', 'Per-sync records given up on because too many were waiting for the store');
    this.pendingGauge = gauge(o.registry, 'scalepilot_store_pending_records', 'Records waiting to be written to the store; the controller does not act while this is above 0');
    this.blockedGauge = gauge(o.registry, 'scalepilot_store_blocked', '1 while the controller holds every service because the store cannot record changes');
    this.failures?.inc(0);
    this.dropped?.inc(0);
    this.pendingGauge?.set(0);
    this.blockedGauge?.set(0);
  }

  /** The writer lock this process holds; losing it blocks acting like an unwritable store does. */
  useLock(lock: StoreLock | undefined): void {
    this.lock = lock;
  }

  get size(): number {
    return this.pending.length;
  }

  /** Why acting is not safe now, or undefined when every record so far is written and the lock (if any) is held. */
  blocked(): string | undefined {
    const lost = this.lock?.lost();
    const why = lost
      ? `this process no longer holds the store's writer lock (${lost})`
      : this.pending.length
        ? `${this.pending.length} record(s) could not be written to the store yet (${this.lastError}); they are kept and retried`
        : undefined;
    this.blockedGauge?.set(why ? 1 : 0);
    return why;
  }

  /**
   * Writes the event; true when it is in the store now. While older records wait, it joins the end of the queue
   * (false) and a retry of the queue starts, so a store that hangs costs one attempt at a time, not one per record.
   */
  async append(e: StoreEvent): Promise<boolean> {
    const key = randomBytes(12).toString('base64url');
    if (this.pending.length) {
      this.enqueue(e, key);
      void this.flush();
      return false;
    }
    try {
      await this.store.append(e, { key });
      return true;
    } catch (err) {
      this.failed(err, e);
      this.enqueue(e, key);
      return false;
    }
  }

  /**
   * Writes pending records in order (one attempt in flight at a time); true when none is left. With `maxWaitMs`,
   * gives up waiting after that long (false; the attempt goes on), so a store that hangs does not stall a sync.
   */
  flush(maxWaitMs?: number): Promise<boolean> {
    if (!this.pending.length) return Promise.resolve(true);
    this.draining ??= this.drain().finally(() => { this.draining = undefined; });
    if (maxWaitMs === undefined) return this.draining;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), maxWaitMs); });
    return Promise.race([this.draining, waited]).finally(() => clearTimeout(timer));
  }

  private async drain(): Promise<boolean> {
    let written = 0;
    while (this.pending.length) {
      const { e, key } = this.pending[0]!;
      try {
        await this.store.append(e, { key });
      } catch (err) {
        this.failed(err, e);
        return false;
      }
      this.pending.shift();
      written++;
      if (!this.pending.length) this.lastError = '';
      this.pendingGauge?.set(this.pending.length);
    }
    this.o.log?.info({ written }, 'store takes writes again; every pending record is written');
    this.blocked();
    return true;
  }

  private failed(err: unknown, e: StoreEvent): void {
    const first = this.pending.length === 0 || this.lastError === '';
    this.lastError = (err as Error).message;
    this.failures?.inc();
    // one line when the store starts failing, not one per record
    if (first) this.o.log?.error({ service: e.service, kind: e.kind, err: this.lastError }, 'could not record to the store; keeping records to retry and holding every service until they are written');
  }

  private enqueue(e: StoreEvent, key: string): void {
    if (this.pending.length >= this.maxPending) {
      const i = this.pending.findIndex((p) => PER_SYNC_KINDS.includes(p.e.kind));
      if (i >= 0) {
        this.pending.splice(i, 1);
        this.dropped?.inc();
      }
    }
    this.pending.push({ e, key });
    this.pendingGauge?.set(this.pending.length);
    this.blockedGauge?.set(1);
  }

  /** Records still waiting (for a last attempt or the log at shutdown). */
  waiting(): StoreEvent[] {
    return this.pending.map((p) => p.e);
  }
}
