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
  /** Stores the event and returns its id (ids grow with insertion order). */
  append(e: StoreEvent): Promise<number>;
  /** Events of `service` (or ALL_SERVICES) with time >= since, oldest first (ties in insertion order). */
  history(service: string, since: number, opts?: HistoryOptions): Promise<StoreEvent[]>;
  get(id: number): Promise<StoreEvent | undefined>;
  /** Every service that has at least one event, sorted. */
  services(): Promise<string[]>;
  close(): Promise<void>;
}

/** The store could not be opened, migrated, read or written. */
export class StoreError extends Error {
  override name = 'StoreError';
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
