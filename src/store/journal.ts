// The controller's write path to the store. Records that could not be written (disk full, read-only file, database
// gone) are kept in order, bounded, and written before anything newer once the store takes writes again; while any
// are pending, `blocked()` says why, and the controller holds instead of acting on changes it cannot record.
// With a spill file, every waiting record is also appended to it and flushed to the disk (fdatasync) before the
// sync goes on, so a process killed while records wait (kill -9, OOM, a power cut) leaves them for the next start,
// which writes them first; each carries the key it was first tried under, so one that did reach the store is not
// stored twice. The file is only written while the store refuses writes, so the flush costs nothing otherwise.
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import { PER_SYNC_KINDS, type Store, type StoreEvent, type StoreLock } from './types.js';
import { syncDir, writeDurably } from '../durable-file.js';
import { makeDirs } from '../make-dirs.js';

export interface JournalLogger {
  error(o: object, msg?: string): void;
  info(o: object, msg?: string): void;
}

export interface JournalOptions {
  /** most records kept while the store refuses writes (default 10,000); beyond it the oldest per-sync records go */
  maxPending?: number;
  registry?: Registry;
  log?: JournalLogger;
  /** file that holds the waiting records across a crash (the controller's state dir); restored by restore() */
  spill?: string;
}

interface Spilled { key: string; e: StoreEvent }

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
  /** the spill file refused a write; reset by the next write that works */
  private spillBroken = false;
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

  /**
   * Takes back the records a previous process left waiting (call once, holding the store's writer lock, before
   * anything is appended): they go first, in their order, and block acting until written. A torn last line (killed
   * mid-write) is skipped; a line that is not a record is reported and skipped. Returns how many were restored.
   */
  restore(): number {
    const file = this.o.spill;
    if (!file) return 0;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.o.log?.error({ file, err: (e as Error).message }, 'could not read the records a previous run left waiting; they stay in the file');
      return 0;
    }
    const lines = text.split('\n');
    const torn = !text.endsWith('\n') && lines.at(-1) !== '';
    const restored: Spilled[] = [];
    lines.forEach((line, i) => {
      if (!line || (torn && i === lines.length - 1)) return;
      try {
        const r = JSON.parse(line) as Spilled;
        if (typeof r?.key !== 'string' || typeof r.e?.service !== 'string' || typeof r.e.kind !== 'string' || !Number.isFinite(r.e.time)) throw new Error('not a record');
        restored.push(r);
      } catch (e) {
        this.o.log?.error({ file, line: i + 1, err: (e as Error).message }, 'skipped a line of the waiting-records file that is not a record');
      }
    });
    if (!restored.length) {
      this.removeSpill();
      return 0;
    }
    this.pending.unshift(...restored);
    this.lastError = 'left waiting by a previous run';
    this.pendingGauge?.set(this.pending.length);
    this.blockedGauge?.set(1);
    this.rewriteSpill();
    this.o.log?.info({ file, records: restored.length }, 'records a previous run left waiting are written before anything new');
    return restored.length;
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
      if (!this.pending.length) {
        this.lastError = '';
        this.removeSpill();
      }
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
    let dropped = false;
    if (this.pending.length >= this.maxPending) {
      const i = this.pending.findIndex((p) => PER_SYNC_KINDS.includes(p.e.kind));
      if (i >= 0) {
        this.pending.splice(i, 1);
        this.dropped?.inc();
        dropped = true;
      }
    }
    this.pending.push({ e, key });
    if (dropped) this.rewriteSpill();
    else this.spillOne({ key, e });
    this.pendingGauge?.set(this.pending.length);
    this.blockedGauge?.set(1);
  }

  private spillOne(r: Spilled): void {
    if (!this.o.spill) return;
    // after a refused write the file misses records: write it whole again (r is already in pending)
    if (this.spillBroken) return this.rewriteSpill();
    try {
      makeDirs(dirname(this.o.spill));
      const first = this.pending.length === 1;
      writeDurably(this.o.spill, `${JSON.stringify(r)}\n`, 'a', 0o600);
      // the file's own entry is new with the first record: flush the directory too
      if (first) syncDir(dirname(this.o.spill));
      this.spillBroken = false;
    } catch (err) {
      this.spillFailed(err);
    }
  }

  /** The file as the queue is now (after a drop or a restore): written aside, then renamed over the old one. */
  private rewriteSpill(): void {
    if (!this.o.spill) return;
    const tmp = `${this.o.spill}.tmp`;
    try {
      makeDirs(dirname(this.o.spill));
      writeDurably(tmp, this.pending.map((p) => `${JSON.stringify({ key: p.key, e: p.e })}\n`).join(''), 'w', 0o600);
      renameSync(tmp, this.o.spill);
      syncDir(dirname(this.o.spill));
      this.spillBroken = false;
    } catch (err) {
      try { rmSync(tmp, { force: true }); } catch { /* the directory itself is the trouble */ }
      this.spillFailed(err);
    }
  }

  private removeSpill(): void {
    if (!this.o.spill) return;
    try {
      rmSync(this.o.spill, { force: true });
    } catch (err) {
      this.spillFailed(err);
    }
  }

  private spillFailed(err: unknown): void {
    // the records stay waiting in memory either way; only a crash before they are written would lose them now.
    // One line per failing spell, not one per record.
    if (this.spillBroken) return;
    this.spillBroken = true;
    this.o.log?.error({ file: this.o.spill, err: (err as Error).message }, 'could not keep the waiting records in their file; they wait in memory only');
  }

  /** Records still waiting (for a last attempt or the log at shutdown). */
  waiting(): StoreEvent[] {
    return this.pending.map((p) => p.e);
  }
}
