// The event log every command writes to and reads from: decisions, applied changes, errors, rollbacks.
import type { Decision } from '../core/types.js';
import type { Resources } from '../providers/types.js';

export const EVENT_KINDS = ['decision', 'scale', 'resize', 'error', 'rollback', 'config', 'pause', 'resume'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const EVENT_RESULTS = ['ok', 'failed', 'dry-run'] as const;
export type EventResult = (typeof EVENT_RESULTS)[number];

/** What the controller saw when it decided; kept so a restart can rebuild `for:` windows and forecasts. */
export interface ObservedInputs {
  /** latest aggregate value of each configured metric by its config name */
  values: Record<string, number>;
  /** metrics that could not be read this sync: name → error */
  failures?: Record<string, string>;
  readyReplicas?: number;
}

export interface StoreEvent {
  /** assigned by the store on append */
  id?: number;
  service: string;
  /** epoch ms */
  time: number;
  kind: EventKind;
  fromReplicas?: number;
  toReplicas?: number;
  resources?: { before?: Resources; after?: Resources };
  /** the full decision (proposals, limits, reason) for kind 'decision', and for the change it led to */
  decision?: Decision;
  inputs?: ObservedInputs;
  message?: string;
  result: EventResult;
  error?: string;
}

export interface HistoryOptions {
  kinds?: readonly EventKind[];
  results?: readonly EventResult[];
  /** the newest `limit` matching events (still returned oldest first) */
  limit?: number;
}

/** `history(ALL_SERVICES, ...)` reads every service; service names can never be `*`. */
export const ALL_SERVICES = '*';

export interface Store {
  /**
   * Stores the event and returns its id (ids grow with insertion order). With `key`, an event already stored under
   * that key is not stored again (its id is returned): a retry after a write that timed out but did happen.
   */
  append(e: StoreEvent, o?: AppendOptions): Promise<number>;
  /** Events of `service` (or ALL_SERVICES) with time >= since, oldest first (ties in insertion order). */
  history(service: string, since: number, opts?: HistoryOptions): Promise<StoreEvent[]>;
  get(id: number): Promise<StoreEvent | undefined>;
  /** Every service that has at least one event, sorted. */
  services(): Promise<string[]>;
  close(): Promise<void>;
  /**
   * Makes this process the store's one writer (`run`): resolves with the lock, or throws StoreLockedError naming the
   * holder. Readers (`history`, `serve`) never take it.
   */
  lock?(o?: LockOptions): Promise<StoreLock>;
  /**
   * The highest value of one metric recorded with `service`'s decisions (inputs.values[metric]) per bucket of
   * `bucketMs` since `since`, oldest first, computed by the database: a forecaster's history without reading and
   * parsing every decision.
   */
  metricSeries?(service: string, metric: string, since: number, bucketMs: number): Promise<Array<{ t: number; v: number }>>;
  /** Stores (or replaces) a checkpoint of `service`'s state called `name`, taken at `time`. */
  saveState?(service: string, name: string, time: number, data: Uint8Array): Promise<void>;
  /** The checkpoint saveState() stored last, if any. */
  loadState?(service: string, name: string): Promise<{ time: number; data: Uint8Array } | undefined>;
  /** Deletes up to `o.limit` events older than the retention cutoffs, oldest first; returns how many it deleted. */
  /** Deletes old events (returns how many) and state checkpoints not saved since `eventsBefore`. */
  prune?(o: PruneOptions): Promise<number>;
}

export interface AppendOptions {
  /** unique per record; the same key twice stores the record once */
  key?: string;
}

export interface LockOptions {
  /** wait until the holder lets go instead of failing; `onWait` is told who holds it (once per holder) */
  wait?: boolean;
  onWait?: (holder: string) => void;
  /** how often to try again while waiting (ms, default 1000) */
  pollMs?: number;
  /** stop waiting when aborted */
  signal?: AbortSignal;
}

export interface StoreLock {
  /** who holds it: "pid 123 on host a (since 2024-...)" */
  readonly holder: string;
  /** why this process no longer holds the lock (connection lost, row taken over), or undefined while it does */
  lost(): string | undefined;
  release(): Promise<void>;
}

/** What retention deletes: per-sync records (decisions, errors) sooner than the changes an operator audits. */
export interface PruneOptions {
  /** decision and error events with time < this are deleted */
  decisionsBefore: number;
  /** every other kind (scale, resize, rollback, config, pause, resume) with time < this is deleted */
  eventsBefore: number;
  /** at most this many rows per call, so one call never holds the write lock for long */
  limit: number;
}

/** Kinds written on every sync; everything else is a change or a steering action kept longer. */
export const PER_SYNC_KINDS: readonly EventKind[] = ['decision', 'error'];

/** The store could not be opened, migrated, read or written. */
export class StoreError extends Error {
  override name = 'StoreError';
}

/** The store's file is damaged: bad input like a broken config (exit 2), never half-used. */
export class StoreDamagedError extends StoreError {
  override name = 'StoreDamagedError';
}

/** Another process is the store's writer. */
export class StoreLockedError extends StoreError {
  override name = 'StoreLockedError';
  constructor(readonly where: string, readonly holder: string) {
    super(`${where} is locked by another scalepilot run (${holder}); one writer per store: stop that process, point this one at another store, or pass --wait-for-lock to take over when it stops`);
  }
}

/** Rejects events that would be unreadable later; the message names the field. */
export function checkEvent(e: StoreEvent): void {
  const bad = (field: string, why: string) => {
    throw new StoreError(`event.${field} ${why}`);
  };
  if (typeof e.service !== 'string' || e.service === '' || e.service === ALL_SERVICES) bad('service', 'must be a service name');
  if (!Number.isSafeInteger(e.time)) bad('time', `must be whole epoch milliseconds, got ${String(e.time)}`);
  if (!(EVENT_KINDS as readonly string[]).includes(e.kind)) bad('kind', `must be one of ${EVENT_KINDS.join(', ')}, got ${String(e.kind)}`);
  if (!(EVENT_RESULTS as readonly string[]).includes(e.result)) bad('result', `must be one of ${EVENT_RESULTS.join(', ')}, got ${String(e.result)}`);
  for (const f of ['fromReplicas', 'toReplicas'] as const) {
    const v = e[f];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) bad(f, `must be a whole number >= 0, got ${String(v)}`);
  }
}
