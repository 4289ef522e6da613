// The shared store for several controllers (leader election, HA dashboard): the same event table in PostgreSQL.
import type pg from 'pg';
import { pg as pgModule } from '../lazy.js';
import { redactUrl } from '../metrics/config.js';
import { COLUMNS, VERSION_TABLE, eventValues, pendingMigrations, rowToEvent, type EventRow } from './schema.js';
import { describeHolder, pollPause, self } from './holder.js';
import {
  ALL_SERVICES, PER_SYNC_KINDS, StoreError, StoreLockedError, checkEvent,
  type AppendOptions, type HistoryOptions, type LockOptions, type PruneOptions, type Store, type StoreEvent, type StoreLock,
} from './types.js';

const SELECT = `SELECT id, ${COLUMNS.join(', ')} FROM scalepilot_events`;
const JSON_COLUMNS = new Set(['resources', 'decision', 'inputs']);
const VALUES = COLUMNS.map((c, i) => `$${i + 1}${JSON_COLUMNS.has(c) ? '::jsonb' : ''}`).join(', ');
const INSERT = `INSERT INTO scalepilot_events (${COLUMNS.join(', ')}) VALUES (${VALUES}) RETURNING id`;
const INSERT_KEYED = `INSERT INTO scalepilot_events (${COLUMNS.join(', ')}, record_key) VALUES (${VALUES}, $${COLUMNS.length + 1})
  ON CONFLICT (record_key) WHERE record_key IS NOT NULL DO NOTHING RETURNING id`;
// Optional filters are nullable array parameters, so one statement text (and one server-side plan) per query shape.
const FILTERS = `AND time >= $2
  AND ($3::text[] IS NULL OR kind = ANY($3::text[]))
  AND ($4::text[] IS NULL OR result = ANY($4::text[]))
  ORDER BY time DESC, id DESC LIMIT $5`;
// Serializes migrations when several controllers start against one database at once.
const MIGRATION_LOCK = 0x5ca1e;
// Held for the whole life of the one writer, on a connection of its own: the server drops it when that dies.
const WRITER_LOCK = 0x5ca1e1;
/** How often the writer's lock connection is checked, so a dropped connection is noticed without a query failing. */
const LOCK_CHECK_MS = 5000;

const BIGINT_AS_NUMBER = {
  getTypeParser: (oid: number, format?: string) => (oid === pgModule().types.builtins.INT8 ? Number : (pgModule().types.getTypeParser as (o: number, f?: string) => unknown)(oid, format)),
} as pg.CustomTypesConfig;

export class PostgresStore implements Store {
  private constructor(private readonly pool: pg.Pool, private readonly where: string, private readonly url: string) {}
  private held: StoreLock | undefined;

  /** Connects and migrates; throws StoreError naming the (redacted) URL when the database is unreachable. */
  static async open(url: string, opts: { max?: number; queryTimeoutMs?: number } = {}): Promise<PostgresStore> {
    const where = `store ${redactUrl(url)}`;
    const pool = new (pgModule().Pool)({
      connectionString: url,
      max: opts.max ?? 4,
      connectionTimeoutMillis: 10_000,
      // a server that stops answering (hung, paused, cut off) fails the query instead of stalling the sync forever,
      // so the controller holds and keeps the record to retry
      query_timeout: opts.queryTimeoutMs ?? 15_000,
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
    return new PostgresStore(pool, where, url);
  }

  private async query<R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query<R>({ name, text, values })).rows;
    } catch (e) {
      throw new StoreError(`${this.where}: ${(e as Error).message}`, { cause: e });
    }
  }

  async append(e: StoreEvent, o: AppendOptions = {}): Promise<number> {
    checkEvent(e);
    if (o.key === undefined) return Number((await this.query<{ id: number }>('scalepilot_append', INSERT, eventValues(e)))[0]!.id);
    const rows = await this.query<{ id: number }>('scalepilot_append_keyed', INSERT_KEYED, [...eventValues(e), o.key]);
    if (rows[0]) return Number(rows[0].id);
    // stored by an earlier attempt that timed out on this side
    return Number((await this.query<{ id: number }>('scalepilot_by_key', 'SELECT id FROM scalepilot_events WHERE record_key = $1', [o.key]))[0]!.id);
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

  async metricSeries(service: string, metric: string, since: number, bucketMs: number): Promise<Array<{ t: number; v: number }>> {
    const rows = await this.query<{ t: string; v: number }>(
      'scalepilot_metric_series',
      `SELECT (time / $3::bigint) * $3::bigint AS t, MAX((inputs -> 'values' ->> $2)::float8) AS v FROM scalepilot_events
       WHERE service = $1 AND time >= $4 AND kind = 'decision' AND jsonb_typeof(inputs -> 'values' -> $2) = 'number'
       GROUP BY 1 ORDER BY 1`,
      [service, metric, Math.max(1, Math.floor(bucketMs)), Math.floor(since)],
    );
    return rows.map((r) => ({ t: Number(r.t), v: Number(r.v) }));
  }

  async saveState(service: string, name: string, time: number, data: Uint8Array): Promise<void> {
    await this.query('scalepilot_save_state', 'INSERT INTO scalepilot_state (service, name, time, data) VALUES ($1, $2, $3, $4) ON CONFLICT (service, name) DO UPDATE SET time = EXCLUDED.time, data = EXCLUDED.data', [service, name, Math.floor(time), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  }

  async loadState(service: string, name: string): Promise<{ time: number; data: Uint8Array } | undefined> {
    const rows = await this.query<{ time: string; data: Buffer }>('scalepilot_load_state', 'SELECT time, data FROM scalepilot_state WHERE service = $1 AND name = $2', [service, name]);
    const r = rows[0];
    return r ? { time: Number(r.time), data: new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength) } : undefined;
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

  async prune(o: PruneOptions): Promise<number> {
    const del = (name: string, not: boolean, before: number, limit: number) =>
      this.query<{ id: number }>(name, `DELETE FROM scalepilot_events WHERE id IN (SELECT id FROM scalepilot_events WHERE time < $1 AND ${not ? 'NOT ' : ''}(kind = ANY($2::text[])) ORDER BY time, id LIMIT $3) RETURNING id`, [before, PER_SYNC_KINDS, limit]);
    const a = (await del('scalepilot_prune_sync', false, o.decisionsBefore, o.limit)).length;
    const b = a >= o.limit ? 0 : (await del('scalepilot_prune_events', true, o.eventsBefore, o.limit - a)).length;
    // checkpoints no longer saved (a service removed from the config) go with the changes of their age
    await this.query('scalepilot_prune_state', 'DELETE FROM scalepilot_state WHERE time < $1', [o.eventsBefore]);
    return a + b;
  }

  async lock(o: LockOptions = {}): Promise<StoreLock> {
    const me = self();
    const connect = () => {
      const c = new (pgModule().Client)({ connectionString: this.url, application_name: `scalepilot run, ${describeHolder(me)}`.slice(0, 63), connectionTimeoutMillis: 10_000 });
      c.on('error', (e) => { if (!released && client === c) lost ??= `its lock connection failed: ${e.message}`; });
      c.on('end', () => { if (!released && client === c) lost ??= 'its lock connection closed'; });
      return c;
    };
    let lost: string | undefined;
    let released = false;
    let client = connect();
    try {
      await client.connect();
      let told = '';
      for (;;) {
        const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [WRITER_LOCK]);
        if (r.rows[0]!.ok) break;
        const holder = await lockHolder(client);
        if (!o.wait) throw new StoreLockedError(this.where, holder);
        if (holder !== told) o.onWait?.(holder);
        told = holder;
        await pollPause(o.pollMs ?? 1000, o.signal).catch(() => { throw new StoreLockedError(this.where, holder); });
      }
    } catch (e) {
      released = true;
      await client.end().catch(() => {});
      if (e instanceof StoreError) throw e;
      throw new StoreError(`${this.where}: ${(e as Error).message}`, { cause: e });
    }
    let retaking = false;
    const timer = setInterval(() => {
      if (!lost) {
        const c = client;
        c.query('SELECT 1').catch((e: Error) => { if (!released && client === c) lost ??= `its lock connection failed: ${e.message}`; });
        return;
      }
      if (retaking) return;
      // the session (and so the lock) is gone, e.g. the server restarted: take the lock again on a new connection
      // unless another writer has it by now
      retaking = true;
      const c = connect();
      const old = client;
      client = c;
      void old.end().catch(() => {});
      c.connect()
        .then(() => c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [WRITER_LOCK]))
        .then(async (r) => {
          if (r.rows[0]!.ok) lost = undefined;
          else lost = `taken over by ${await lockHolder(c)}`;
        })
        .catch((e: Error) => { lost = `its lock connection failed: ${e.message}`; })
        .finally(() => { retaking = false; });
    }, LOCK_CHECK_MS);
    timer.unref();
    const lock: StoreLock = {
      holder: describeHolder(me),
      lost: () => lost,
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        if (this.held === lock) this.held = undefined;
        // ending the session releases the advisory lock
        await client.end().catch(() => {});
      },
    };
    this.held = lock;
    return lock;
  }

  async close(): Promise<void> {
    await this.held?.release();
    await this.pool.end();
  }
}

/** Who holds the writer lock, from the server's own lock table: the application name carries host and pid. */
async function lockHolder(client: pg.Client): Promise<string> {
  const r = await client.query<{ pid: number; app: string; addr: string | null; since: Date }>(
    `SELECT a.pid, a.application_name AS app, host(a.client_addr) AS addr, a.backend_start AS since
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [WRITER_LOCK],
  );
  const h = r.rows[0];
  if (!h) return 'a session that has just let go';
  return `${h.app || 'an unnamed client'}; server backend ${h.pid}${h.addr ? ` from ${h.addr}` : ''}, connected since ${new Date(h.since).toISOString()}`;
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
