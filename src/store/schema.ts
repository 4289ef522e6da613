// The event table both stores share, its versioned migrations, and the mapping between rows and events.
import { StoreError, type EventKind, type EventResult, type StoreEvent } from './types.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  description: string;
  statements: Record<Dialect, string[]>;
}

/**
 * Append-only: a released migration never changes, later versions add to it. JSON columns are TEXT in SQLite and
 * JSONB in PostgreSQL (so operators can query decisions in SQL there).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'event log',
    statements: {
      sqlite: [
        `CREATE TABLE scalepilot_events (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          service TEXT NOT NULL,
          time INTEGER NOT NULL,
          kind TEXT NOT NULL,
          from_replicas INTEGER,
          to_replicas INTEGER,
          resources TEXT,
          decision TEXT,
          inputs TEXT,
          message TEXT,
          result TEXT NOT NULL,
          error TEXT
        )`,
        'CREATE INDEX scalepilot_events_service_time ON scalepilot_events (service, time, id)',
        'CREATE INDEX scalepilot_events_time ON scalepilot_events (time, id)',
      ],
      postgres: [
        `CREATE TABLE scalepilot_events (
          id BIGSERIAL PRIMARY KEY,
          service TEXT NOT NULL,
          time BIGINT NOT NULL,
          kind TEXT NOT NULL,
          from_replicas INTEGER,
          to_replicas INTEGER,
          resources JSONB,
          decision JSONB,
          inputs JSONB,
          message TEXT,
          result TEXT NOT NULL,
          error TEXT
        )`,
        'CREATE INDEX scalepilot_events_service_time ON scalepilot_events (service, time, id)',
        'CREATE INDEX scalepilot_events_time ON scalepilot_events (time, id)',
      ],
    },
  },
  {
    version: 2,
    description: 'one-writer lease (SQLite; PostgreSQL uses an advisory lock)',
    statements: {
      sqlite: [
        `CREATE TABLE scalepilot_lock (
          name TEXT PRIMARY KEY,
          host TEXT NOT NULL,
          pid INTEGER NOT NULL,
          process_start TEXT,
          acquired_at INTEGER NOT NULL
        )`,
      ],
      postgres: [],
    },
  },
  {
    version: 3,
    description: 'record keys, so a write retried after a timeout is stored once',
    statements: {
      sqlite: [
        'ALTER TABLE scalepilot_events ADD COLUMN record_key TEXT',
        'CREATE UNIQUE INDEX scalepilot_events_record_key ON scalepilot_events (record_key) WHERE record_key IS NOT NULL',
      ],
      postgres: [
        'ALTER TABLE scalepilot_events ADD COLUMN record_key TEXT',
        'CREATE UNIQUE INDEX scalepilot_events_record_key ON scalepilot_events (record_key) WHERE record_key IS NOT NULL',
      ],
    },
  },
  {
    version: 4,
    description: 'checkpoints of per-service state (a forecaster\'s history), so a restart need not rebuild it from events',
    statements: {
      sqlite: ['CREATE TABLE scalepilot_state (service TEXT NOT NULL, name TEXT NOT NULL, time INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (service, name))'],
      postgres: ['CREATE TABLE scalepilot_state (service TEXT NOT NULL, name TEXT NOT NULL, time BIGINT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (service, name))'],
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export const VERSION_TABLE = 'scalepilot_schema';

/** Column order used by INSERT in both stores. */
export const COLUMNS = ['service', 'time', 'kind', 'from_replicas', 'to_replicas', 'resources', 'decision', 'inputs', 'message', 'result', 'error'] as const;

export interface EventRow {
  id: number | string;
  service: string;
  time: number | string;
  kind: string;
  from_replicas: number | null;
  to_replicas: number | null;
  resources: unknown;
  decision: unknown;
  inputs: unknown;
  message: string | null;
  result: string;
  error: string | null;
}

/** Values in COLUMNS order; JSON columns as text (SQLite stores it, PostgreSQL casts it to JSONB). */
export function eventValues(e: StoreEvent): Array<string | number | null> {
  const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
  return [
    e.service,
    e.time,
    e.kind,
    e.fromReplicas ?? null,
    e.toReplicas ?? null,
    json(e.resources),
    json(e.decision),
    json(e.inputs),
    e.message ?? null,
    e.result,
    e.error ?? null,
  ];
}

/** A row back to an event; absent columns become absent fields so events round-trip exactly. */
export function rowToEvent(r: EventRow): StoreEvent {
  const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
  const e: StoreEvent = { id: Number(r.id), service: r.service, time: Number(r.time), kind: r.kind as EventKind, result: r.result as EventResult };
  if (r.from_replicas !== null) e.fromReplicas = Number(r.from_replicas);
  if (r.to_replicas !== null) e.toReplicas = Number(r.to_replicas);
  if (r.resources !== null) e.resources = json(r.resources);
  if (r.decision !== null) e.decision = json(r.decision);
  if (r.inputs !== null) e.inputs = json(r.inputs);
  if (r.message !== null) e.message = r.message;
  if (r.error !== null) e.error = r.error;
  return e;
}

/** Migrations still to apply to a database at `current`; refuses a database written by a newer scalepilot. */
export function pendingMigrations(current: number, where: string): Migration[] {
  if (current > SCHEMA_VERSION) {
    throw new StoreError(`${where} has schema version ${current}, newer than this scalepilot knows (${SCHEMA_VERSION}); upgrade scalepilot or point store at another database`);
  }
  return MIGRATIONS.filter((m) => m.version > current);
}
