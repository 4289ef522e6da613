// PostgreSQL source against a private server: connection counts follow open clients, max_connections, custom SQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { parsePostgresConfig, parsePostgresQuery, PostgresSource } from '../../src/metrics/postgres.js';
import { MetricError } from '../../src/metrics/types.js';
import { startPostgres, type RunningService } from '../helpers/services.js';

describe('parsePostgresConfig / parsePostgresQuery', () => {
  test('config', () => {
    assert.deepEqual(parsePostgresConfig({ type: 'postgres', url: 'postgres://app@db:5432/shop', timeout: '2s' }, 'sources.db'), { type: 'postgres', url: 'postgres://app@db:5432/shop', password: undefined, timeoutMs: 2000 });
    assert.throws(() => parsePostgresConfig({ type: 'postgres', url: 'mysql://x/y' }, 'sources.db'), /sources\.db\.url: "mysql:\/\/x\/y" must use postgres or postgresql/);
    assert.throws(() => parsePostgresConfig({ type: 'postgres', url: 'postgres://x/y', sslmode: 'require' }, 'sources.db'), /sources\.db\.sslmode: unknown field/);
  });
  const cases: Array<[string, Record<string, unknown> | undefined, unknown]> = [
    ['connections', undefined, { kind: 'connections', database: undefined }],
    ['connection_ratio', { database: 'shop' }, { kind: 'connection_ratio', database: 'shop' }],
    ['SELECT count(*) FROM jobs', undefined, { kind: 'sql', sql: 'SELECT count(*) FROM jobs' }],
    ['sql: with q as (select 1) select * from q', undefined, { kind: 'sql', sql: 'with q as (select 1) select * from q' }],
  ];
  for (const [q, params, want] of cases) test(`query ${q}`, () => assert.deepEqual(parsePostgresQuery({ name: 'm', query: q, params }, 'p'), want));
  test('bad queries name the path', () => {
    assert.throws(() => parsePostgresQuery({ name: 'm', query: 'DELETE FROM jobs' }, 'services.api.metrics.db'), /services\.api\.metrics\.db\.query: "DELETE FROM jobs" is not a PostgreSQL metric; use connections/);
    assert.throws(() => parsePostgresQuery({ name: 'm', query: 'SELECT 1', params: { database: 'x' } }, 'm'), /m\.params\.database: applies to the connection queries only/);
  });
});

describe('PostgresSource against PostgreSQL', () => {
  let server: RunningService;
  let src: PostgresSource;
  const clients: pg.Client[] = [];
  before(async () => {
    server = await startPostgres({ maxConnections: 40 });
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE shop');
    await admin.query('CREATE TABLE jobs (id serial primary key, state text not null)');
    await admin.query("INSERT INTO jobs (state) SELECT CASE WHEN i % 3 = 0 THEN 'queued' ELSE 'done' END FROM generate_series(1, 30) i");
    await admin.end();
    src = new PostgresSource('db', parsePostgresConfig({ type: 'postgres', url: server.url, timeout: '3s' }, 'sources.db'));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
    await src?.close();
    await server?.stop();
  });
  const read = (query: string, params?: Record<string, unknown>) => src.sample({ name: 'm', query, params }, new Date(7000));
  const open = async (n: number, database = 'postgres') => {
    const opened = Array.from({ length: n }, () => new pg.Client({ connectionString: server.url.replace(/\/postgres$/, `/${database}`) }));
    await Promise.all(opened.map((c) => c.connect()));
    clients.push(...opened);
    return opened;
  };

  test('max_connections is read from the server', async () => {
    assert.deepEqual(await read('max_connections'), [{ labels: {}, t: 7000, value: 40 }]);
  });

  test('connections count the clients that are open (not the source itself)', async () => {
    assert.equal((await read('connections'))[0]!.value, 0);
    const five = await open(5);
    assert.equal((await read('connections'))[0]!.value, 5);
    await open(3, 'shop');
    assert.equal((await read('connections'))[0]!.value, 8);
    assert.deepEqual(await read('connections', { database: 'shop' }), [{ labels: { database: 'shop' }, t: 7000, value: 3 }]);
    assert.equal((await read('connection_ratio'))[0]!.value, 8 / 40);
    await five[0]!.end();
    await five[1]!.end();
    clients.splice(clients.indexOf(five[0]!), 2);
    // The server notices a closed connection asynchronously; poll briefly.
    let v = -1;
    for (let i = 0; i < 20 && v !== 6; i++) {
      v = (await read('connections'))[0]!.value;
      if (v !== 6) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(v, 6);
  });

  test('by state: a client inside a transaction and one running a statement', async () => {
    const [inTx, busy] = await open(2);
    await inTx!.query('BEGIN');
    await inTx!.query('SELECT 1');
    const running = busy!.query('SELECT pg_sleep(1.5)');
    await new Promise((r) => setTimeout(r, 300));
    const byState = new Map((await read('connections_by_state')).map((s) => [s.labels.state, s.value]));
    assert.equal(byState.get('idle in transaction'), 1);
    assert.equal(byState.get('active'), 1);
    assert.equal((await read('active_connections'))[0]!.value, 1);
    const total = (await read('connections'))[0]!.value;
    assert.equal([...byState.values()].reduce((a, b) => a + b, 0), total);
    await running;
    await inTx!.query('COMMIT');
  });

  test('custom SQL returns one number; anything else is an error', async () => {
    assert.deepEqual(await read("SELECT count(*) FROM jobs WHERE state = 'queued'"), [{ labels: {}, t: 7000, value: 10 }]);
    assert.equal((await read('sql: SELECT avg(id)::numeric(10,2) FROM jobs'))[0]!.value, 15.5);
    await assert.rejects(read("SELECT id FROM jobs WHERE state = 'nope'"), (e: unknown) => e instanceof MetricError && e.retryable && /returned 0 rows/.test(e.message));
    await assert.rejects(read('SELECT id FROM jobs'), (e: unknown) => e instanceof MetricError && !e.retryable && /returned more than one row; it must return exactly one row/.test(e.message));
    // a query over a whole big table is cut at two rows, not read into memory
    const heap = process.memoryUsage().heapUsed;
    await assert.rejects(read('SELECT g, repeat(\'x\', 100) FROM generate_series(1, 5000000) g;'), /returned more than one row/);
    assert.ok(process.memoryUsage().heapUsed - heap < 100 * 1024 * 1024, 'the rows past the second were not fetched');
    assert.equal((await read('SELECT count(*) FROM jobs ;  '))[0]!.value, 30, 'a trailing semicolon is allowed');
    await assert.rejects(read('SELECT 1, 2'), /returned 2 columns/);
    await assert.rejects(read('SELECT NULL::int'), /returned NULL; there is no value/);
    await assert.rejects(read("SELECT 'abc'"), /not a finite number/);
    await assert.rejects(read('SELECT count(*) FROM nowhere'), (e: unknown) => e instanceof MetricError && !e.retryable && /relation "nowhere" does not exist \[SQLSTATE 42P01\] \(fix the SQL\)/.test(e.message));
    // A data-modifying CTE is refused by the server (the query is read inside a subquery, and sessions are read-only).
    await assert.rejects(read("WITH d AS (DELETE FROM jobs RETURNING 1) SELECT count(*) FROM d"), /data-modifying statement must be at the top level|read-only transaction/);
    // and a write a function makes is refused by the read-only session
    await assert.rejects(read("SELECT setval('jobs_id_seq', 1000)"), /read-only transaction/);
    assert.equal((await read('SELECT count(*) FROM jobs'))[0]!.value, 30);
  });

  test('a statement longer than the timeout is cancelled: retryable', async () => {
    const quick = new PostgresSource('db', parsePostgresConfig({ type: 'postgres', url: server.url, timeout: '300ms' }, 's'));
    try {
      const started = Date.now();
      await assert.rejects(quick.sample({ name: 'm', query: 'SELECT 1 FROM pg_sleep(3)' }, new Date()), (e: unknown) => e instanceof MetricError && e.retryable);
      assert.ok(Date.now() - started < 2500, `${Date.now() - started} ms`);
    } finally {
      await quick.close();
    }
  });

  test('a wrong database and a stopped server', async () => {
    const wrong = new PostgresSource('db', parsePostgresConfig({ type: 'postgres', url: server.url.replace(/\/postgres$/, '/nope') }, 's'));
    await assert.rejects(wrong.sample({ name: 'm', query: 'connections' }, new Date()), (e: unknown) => e instanceof MetricError && !e.retryable && /database "nope" does not exist.*check the database name/.test(e.message));
    await wrong.close();
    const other = await startPostgres();
    const s = new PostgresSource('db2', parsePostgresConfig({ type: 'postgres', url: other.url, timeout: '2s' }, 's'));
    try {
      assert.equal((await s.sample({ name: 'm', query: 'connections' }, new Date()))[0]!.value, 0);
      await other.stop();
      await assert.rejects(s.sample({ name: 'm', query: 'connections' }, new Date()), (e: unknown) => e instanceof MetricError && e.retryable);
      await assert.rejects(s.sample({ name: 'm', query: 'connections' }, new Date()), (e: unknown) => e instanceof MetricError && e.retryable && /connection refused/.test(e.message));
    } finally {
      await s.close();
      await other.stop();
    }
  });
});
