// The shared store for several controllers (leader election, HA dashboard): the same event table in PostgreSQL.
import type pg from 'pg';
import { pg as pgModule } from '../lazy.js';
import { redactUrl } from '../metrics/config.js';
import { COLUMNS, VERSION_TABLE, eventValues, pendingMigrations, rowToEvent, type EventRow } from './schema.js';
import { ALL_SERVICES, StoreError, checkEvent, type HistoryOptions, type Store, type StoreEvent } from './types.js';

const SELECT = `SELECT id, ${COLUMNS.join(', ')} FROM scalepilot_events`;
const JSON_COLUMNS = new Set(['resources', 'decision', 'inputs']);
const INSERT = `INSERT INTO scalepilot_events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c, i) => `$${i + 1}${JSON_COLUMNS.has(c) ? '::jsonb' : ''}`).join(', ')}) RETURNING id`;
// Optional filters are nullable array parameters, so one statement text (and one server-side plan) per query shape.
const FILTERS = `AND time >= $2
  AND ($3::text[] IS NULL OR kind = ANY($3::text[]))
  AND ($4::text[] IS NULL OR result = ANY($4::text[]))
  ORDER BY time DESC, id DESC LIMIT $5`;
// Serializes migrations when several controllers start against one database at once.
const MIGRATION_LOCK = 0x5ca1e;

const BIGINT_AS_NUMBER = {
  getTypeParser: (oid: number, format?: string) => (oid === pgModule().types.builtins.INT8 ? Number : (pgModule().types.getTypeParser as (o: number, f?: string) => unknown)(oid, format)),
} as pg.CustomTypesConfig;

export class PostgresStore implements Store {
  private constructor(private readonly pool: pg.Pool, private readonly where: string) {}

  /** Connects and migrates; throws StoreError naming the (redacted) URL when the database is unreachable. */
  static async open(url: string, opts: { max?: number } = {}): Promise<PostgresStore> {
    const where = `store ${redactUrl(url)}`;
    const pool = new (pgModule().Pool)({
      connectionString: url,
      max: opts.max ?? 4,
      connectionTimeoutMillis: 10_000,
      // ids and times are BIGINT; as numbers they stay exact up to 2^53, far beyond epoch milliseconds.
      types: BIGINT_AS_NUMBER,
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    try {
      await migrate(pool, where);
    } catch (e) {
      await pool.end().catch(() => {});
      if (e instanceof StoreError) throw e;
      throw new StoreError(`${where}: ${(e as Error).message}`, { cause: e });
    }
    return new PostgresStore(pool, where);
  }

  private async query<R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query<R>({ name, text, values })).rows;
    } catch (e) {
      throw new StoreError(`${this.where}: ${(e as Error).message}`, { cause: e });
    }
  }

  async append(e: StoreEvent): Promise<number> {
    checkEvent(e);
    const rows = await this.query<{ id: number }>('scalepilot_append', INSERT, eventValues(e));
    return Number(rows[0]!.id);
  }

  async history(service: string, since: number, opts: HistoryOptions = {}): Promise<StoreEvent[]> {
    const all = service === ALL_SERVICES;
    // Two statement texts rather than `$1 IS NULL OR service = $1`, so the per-service one keeps its index plan.
    const rows = await this.query<EventRow>(
      all ? 'scalepilot_history_all' : 'scalepilot_history',
      all ? `${SELECT} WHERE $1::text IS NULL ${FILTERS}` : `${SELECT} WHERE service = $1 ${FILTERS}`,
      [all ? null : service, since, opts.kinds ?? null, opts.results ?? null, opts.limit ?? null],
    );
    return rows.reverse().map(rowToEvent);
  }

  async get(id: number): Promise<StoreEvent | undefined> {
    if (!Number.isSafeInteger(id)) return undefined;
    const rows = await this.query<EventRow>('scalepilot_get', `${SELECT} WHERE id = $1`, [id]);
    return rows[0] ? rowToEvent(rows[0]) : undefined;
  }

  async services(): Promise<string[]> {
    const rows = await this.query<{ service: string }>('scalepilot_services', 'SELECT DISTINCT service FROM scalepilot_events ORDER BY service', []);
    return rows.map((r) => r.service);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

async function migrate(pool: pg.Pool, where: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
    const r = await client.query<{ v: number }>(`SELECT COALESCE(MAX(version), 0)::int AS v FROM ${VERSION_TABLE}`);
    for (const m of pendingMigrations(r.rows[0]!.v, where)) {
      for (const sql of m.statements.postgres) await client.query(sql);
      await client.query(`INSERT INTO ${VERSION_TABLE} (version, description, applied_at) VALUES ($1, $2, $3)`, [m.version, m.description, Date.now()]);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}
