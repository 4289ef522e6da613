// PostgreSQL source (pg): connection use against max_connections, and custom SQL returning one number.
//
// Queries:
//   connections            client connections (pg_stat_activity, client backends, not counting this source's own)
//   active_connections     those of them running a statement (state = 'active')
//   connections_by_state   one sample per state (labels.state): active, idle, idle in transaction, ...
//   max_connections        SHOW max_connections
//   connection_ratio       connections / max_connections
//   SELECT ... / WITH ...  custom SQL returning exactly one row with one numeric column (also written "sql: SELECT ...")
// params.database limits the connection counts to one database. Every session is read-only.
import type pg from 'pg';
import { pg as pgModule } from '../lazy.js';
import { MetricConfigError, optDuration, optSecret, optString, readObject, readParams, redactUrl, reqUrl } from './config.js';
import { MetricError, type MetricQuery, type MetricSource, type Sample } from './types.js';

export interface PostgresConfig {
  type: 'postgres';
  /** postgres://user[:password]@host:port/db */
  url: string;
  password?: string;
  /** Connect and statement deadline (ms). */
  timeoutMs: number;
}

const CONFIG_FIELDS = ['type', 'url', 'password', 'timeout'] as const;
const QUERY_PARAMS = ['database'] as const;
const STATES = ['active', 'idle', 'idle in transaction', 'idle in transaction (aborted)'] as const;

export function parsePostgresConfig(raw: unknown, path: string): PostgresConfig {
  const o = readObject(raw, path, CONFIG_FIELDS);
  const url = reqUrl(o, 'url', path, 'postgres://scalepilot@127.0.0.1:5432/postgres', ['postgres:', 'postgresql:']);
  return {
    type: 'postgres',
    url: url.toString(),
    password: optSecret(o, 'password', path),
    timeoutMs: optDuration(o, 'timeout', path, { min: 1, max: 600_000 }) ?? 5000,
  };
}

export type PostgresQuery =
  | { kind: 'connections' | 'active_connections' | 'connections_by_state' | 'max_connections' | 'connection_ratio'; database?: string }
  | { kind: 'sql'; sql: string };

const NAMED = ['connections', 'active_connections', 'connections_by_state', 'max_connections', 'connection_ratio'] as const;

export function parsePostgresQuery(q: MetricQuery, path: string): PostgresQuery {
  const p = readParams(q.params, `${path}.params`, QUERY_PARAMS);
  const database = optString(p, 'database', `${path}.params`);
  const text = q.query.trim();
  if ((NAMED as readonly string[]).includes(text)) return { kind: text as (typeof NAMED)[number], database };
  const sql = text.replace(/^sql:\s*/i, '');
  if (/^(select|with)\b/i.test(sql)) {
    if (database) throw new MetricConfigError(`${path}.params.database`, 'applies to the connection queries only; put the condition in your SQL');
    return { kind: 'sql', sql };
  }
  throw new MetricConfigError(`${path}.query`, `"${q.query}" is not a PostgreSQL metric; use ${NAMED.join(', ')}, or SQL starting with SELECT or WITH that returns one number`);
}

/** SQLSTATE classes that later attempts can outlive: connection trouble, shutdown, cancel/timeout, too many clients. */
function retryableSqlState(code: string | undefined): boolean {
  if (!code) return true;
  return code.startsWith('08') || code.startsWith('57') || code.startsWith('53') || code === '40001' || code === '40P01';
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return Number.NaN;
}

export class PostgresSource implements MetricSource {
  readonly kind = 'postgres';
  private pool?: pg.Pool;

  constructor(readonly name: string, readonly config: PostgresConfig) {}

  checkQuery(q: MetricQuery, path: string): void {
    parsePostgresQuery(q, path);
  }

  private getPool(): pg.Pool {
    if (!this.pool) {
      this.pool = new (pgModule().Pool)({
        connectionString: this.config.url,
        password: this.config.password,
        max: 1,
        idleTimeoutMillis: 60_000,
        connectionTimeoutMillis: this.config.timeoutMs,
        query_timeout: this.config.timeoutMs,
        statement_timeout: this.config.timeoutMs,
        application_name: 'scalepilot',
        options: '-c default_transaction_read_only=on',
      });
      // An idle connection dropped by the server must not crash the process; the next query reconnects.
      this.pool.on('error', () => {});
    }
    return this.pool;
  }

  async sample(q: MetricQuery, now: Date): Promise<Sample[]> {
    if (q.range) throw new MetricError(this.name, q.query, 'PostgreSQL values are read live; range reads are not supported', false);
    let pq: PostgresQuery;
    try {
      pq = parsePostgresQuery(q, q.name);
    } catch (e) {
      throw new MetricError(this.name, q.query, (e as Error).message, false);
    }
    const t = now.getTime();
    if (pq.kind === 'sql') {
      // At most two rows are fetched: enough to tell one from many, while a query that returns a whole table (a
      // mistake, or a table that grew) is never read into memory at every sync.
      const rows = await this.run(q.query, `SELECT * FROM (${pq.sql.replace(/[\s;]+$/, '')}) AS scalepilot_metric LIMIT 2`, []);
      if (rows.rows.length !== 1) {
        throw new MetricError(this.name, q.query, `the SQL returned ${rows.rows.length ? 'more than one row' : '0 rows'}; it must return exactly one row with one number`, rows.rows.length === 0);
      }
      const cols = rows.fields;
      if (cols.length !== 1) throw new MetricError(this.name, q.query, `the SQL returned ${cols.length} columns; it must return one number`, false);
      const raw = (rows.rows[0] as unknown[])[0];
      const v = toNumber(raw);
      if (raw === null) throw new MetricError(this.name, q.query, 'the SQL returned NULL; there is no value (use coalesce() if NULL means 0 for you)', true);
      if (!Number.isFinite(v)) throw new MetricError(this.name, q.query, `the SQL returned ${JSON.stringify(raw)}, not a finite number`, false);
      return [{ labels: {}, t, value: v }];
    }
    const dbFilter = pq.database ? ' AND datname = $1' : '';
    const args = pq.database ? [pq.database] : [];
    const base = `FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()${dbFilter}`;
    const labels: Record<string, string> = pq.database ? { database: pq.database } : {};
    switch (pq.kind) {
      case 'connections':
        return [{ labels, t, value: await this.one(q.query, `SELECT count(*) ${base}`, args) }];
      case 'active_connections':
        return [{ labels, t, value: await this.one(q.query, `SELECT count(*) ${base} AND state = 'active'`, args) }];
      case 'max_connections':
        return [{ labels: {}, t, value: await this.one(q.query, 'SHOW max_connections', []) }];
      case 'connection_ratio': {
        const r = await this.run(q.query, `SELECT (SELECT count(*) ${base}), current_setting('max_connections')::int`, args);
        const [used, max] = (r.rows[0] as unknown[]).map(toNumber) as [number, number];
        if (!(max > 0)) throw new MetricError(this.name, q.query, `max_connections is ${max}`, false);
        return [{ labels, t, value: used / max }];
      }
      case 'connections_by_state': {
        const r = await this.run(q.query, `SELECT coalesce(state, 'unknown'), count(*) ${base} GROUP BY 1`, args);
        const counts = new Map<string, number>(STATES.map((s) => [s, 0]));
        for (const row of r.rows as unknown[][]) counts.set(String(row[0]), toNumber(row[1]));
        return [...counts].map(([state, value]) => ({ labels: { ...labels, state }, t, value }));
      }
    }
  }

  private async one(query: string, sql: string, args: unknown[]): Promise<number> {
    const r = await this.run(query, sql, args);
    const v = toNumber((r.rows[0] as unknown[] | undefined)?.[0]);
    if (!Number.isFinite(v)) throw new MetricError(this.name, query, `${sql} gave no number`, false);
    return v;
  }

  private async run(query: string, sql: string, args: unknown[]): Promise<pg.QueryArrayResult> {
    try {
      return await this.getPool().query({ text: sql, values: args, rowMode: 'array' });
    } catch (e) {
      const err = e as Error & { code?: string; severity?: string };
      const where = redactUrl(this.config.url);
      if (err.code === 'ECONNREFUSED') {
        throw new MetricError(this.name, query, `${where}: connection refused (is PostgreSQL running on this address and port?)`, true, { cause: e });
      }
      if (/timeout/i.test(err.message) && !err.severity) {
        throw new MetricError(this.name, query, `${where}: no answer within ${this.config.timeoutMs} ms (timeout)`, true, { cause: e });
      }
      const hint = err.code?.startsWith('28') ? ' (check the user and password)'
        : err.code === '3D000' ? ' (check the database name in the url)'
        : err.code === '42601' || err.code === '42P01' || err.code === '42703' ? ' (fix the SQL)' : '';
      const state = err.code && err.severity ? ` [SQLSTATE ${err.code}]` : '';
      throw new MetricError(this.name, query, `${where}: ${err.message}${state}${hint}`, retryableSqlState(err.severity ? err.code : undefined), { cause: e });
    }
  }

  async close(): Promise<void> {
    const p = this.pool;
    this.pool = undefined;
    await p?.end().catch(() => {});
  }
}
