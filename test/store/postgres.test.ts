// PostgreSQL store: the Store contract against a private real PostgreSQL, plus migration sharing and errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres.js';
import { openStore } from '../../src/store/index.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/schema.js';
import { StoreError } from '../../src/store/types.js';
import { freePort } from '../helpers/env.js';
import { startPostgres, type RunningService } from '../helpers/services.js';
import { storeContract } from './contract.js';

let server: RunningService;
let n = 0;

/** A fresh database per test so each starts empty and migrates from scratch. */
async function freshDatabase(): Promise<string> {
  const name = `scalepilot_test_${++n}`;
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  return server.url.replace(/\/postgres$/, `/${name}`);
}

before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

describe('PostgresStore (real PostgreSQL)', () => {
  storeContract(async () => PostgresStore.open(await freshDatabase()));

  test('two controllers starting at once migrate once; ids and JSON survive', async () => {
    const url = await freshDatabase();
    const [a, b] = await Promise.all([openStore(url), openStore(url)]);
    try {
      const id = await a.append({ service: 'api', time: 2 ** 41, kind: 'resize', resources: { before: { limits: { memory: '1Gi' } } }, result: 'ok' });
      assert.deepEqual(await b.get(id), { id, service: 'api', time: 2 ** 41, kind: 'resize', resources: { before: { limits: { memory: '1Gi' } } }, result: 'ok' });
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      const versions = await c.query('SELECT version FROM scalepilot_schema ORDER BY version');
      // JSON columns are JSONB, so operators can query decisions in SQL
      const types = await c.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'scalepilot_events' AND column_name IN ('decision', 'time')ORDER BY column_name");
      const idx = await c.query("SELECT indexname FROM pg_indexes WHERE tablename = 'scalepilot_events'");
      await c.end();
      assert.deepEqual(versions.rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
      assert.deepEqual(types.rows, [{ column_name: 'decision', data_type: 'jsonb' }, { column_name: 'time', data_type: 'bigint' }]);
      assert.ok(idx.rows.some((r) => r.indexname === 'scalepilot_events_service_time'));
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a newer schema is refused', async () => {
    const url = await freshDatabase();
    await (await openStore(url)).close();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("INSERT INTO scalepilot_schema (version, description, applied_at) VALUES ($1, 'future', 0)", [SCHEMA_VERSION + 1]);
    await c.end();
    await assert.rejects(openStore(url), (e: Error) => e instanceof StoreError && /newer than this scalepilot knows/.test(e.message));
  });

  test('an unreachable server fails with the URL named and the password masked', async () => {
    const port = await freePort();
    await assert.rejects(
      PostgresStore.open(`postgres://scalepilot:s3cret@127.0.0.1:${port}/db`),
      (e: Error) => e instanceof StoreError && e.message.includes(`127.0.0.1:${port}`) && !e.message.includes('s3cret') && e.message.includes('***'),
    );
  });
});
