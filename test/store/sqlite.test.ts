// SQLite store: the Store contract on a temp file, plus file handling, WAL sharing and schema versioning.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite.js';
import { openStore } from '../../src/store/index.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/schema.js';
import { StoreError } from '../../src/store/types.js';
import { InputError } from '../../src/cli/output.js';
import { tempDir } from '../helpers/env.js';
import { storeContract } from './contract.js';

describe('SqliteStore (temp file)', () => {
  storeContract(async () => {
    const dir = tempDir();
    const store = SqliteStore.open(join(dir.path, 'events.db'));
    const close = store.close.bind(store);
    store.close = async () => { await close(); dir.cleanup(); };
    return store;
  });
});

describe('SqliteStore files and schema', () => {
  test('creates the parent directory, uses WAL, and keeps events across reopen without re-migrating', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'state', 'nested', 'scalepilot.db');
      const a = SqliteStore.open(file);
      const id = await a.append({ service: 'api', time: 5, kind: 'scale', fromReplicas: 1, toReplicas: 2, result: 'ok' });
      await a.close();
      assert.ok(existsSync(file));
      const b = SqliteStore.open(file);
      assert.deepEqual(await b.get(id), { id, service: 'api', time: 5, kind: 'scale', fromReplicas: 1, toReplicas: 2, result: 'ok' });
      await b.close();
      const raw = new Database(file, { readonly: true });
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      assert.deepEqual(raw.prepare('SELECT version FROM scalepilot_schema ORDER BY version').pluck().all(), MIGRATIONS.map((m) => m.version));
      assert.equal(MIGRATIONS.at(-1)!.version, SCHEMA_VERSION);
      const indexes = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'scalepilot_events'").pluck().all();
      assert.ok(indexes.includes('scalepilot_events_service_time'), `indexes: ${indexes.join(', ')}`);
      const plan = raw.prepare("EXPLAIN QUERY PLAN SELECT * FROM scalepilot_events WHERE service = 'api' AND time >= 0 ORDER BY time DESC").all() as Array<{ detail: string }>;
      assert.match(plan.map((p) => p.detail).join(' | '), /USING INDEX scalepilot_events_service_time/);
      raw.close();
    } finally {
      dir.cleanup();
    }
  });

  test('a reader and a writer share one file (controller and `history` at once)', async () => {
    const dir = tempDir();
    const file = join(dir.path, 'shared.db');
    const writer = SqliteStore.open(file);
    const reader = SqliteStore.open(file);
    try {
      for (let i = 0; i < 50; i++) {
        await writer.append({ service: 'api', time: i, kind: 'decision', result: 'ok', message: `sync ${i}` });
        if (i % 10 === 9) assert.equal((await reader.history('api', 0)).length, i + 1);
      }
    } finally {
      await writer.close();
      await reader.close();
      dir.cleanup();
    }
  });

  test('a database written by a newer scalepilot is refused, not altered', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'future.db');
      await SqliteStore.open(file).close();
      const raw = new Database(file);
      raw.prepare("INSERT INTO scalepilot_schema (version, description, applied_at) VALUES (?, 'future', 0)").run(SCHEMA_VERSION + 1);
      raw.close();
      assert.throws(() => SqliteStore.open(file), (e: Error) => e instanceof StoreError && new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this scalepilot knows \\(${SCHEMA_VERSION}\\)`).test(e.message) && e.message.includes(file));
    } finally {
      dir.cleanup();
    }
  });

  test('a path that cannot be a database fails with the store named', async () => {
    const dir = tempDir();
    try {
      // the "file" is a directory
      assert.throws(() => SqliteStore.open(dir.path), (e: Error) => e instanceof StoreError && e.message.startsWith(`store sqlite:${dir.path}: cannot open`));
    } finally {
      dir.cleanup();
    }
  });
});

describe('openStore URLs', () => {
  test('sqlite paths resolve against baseDir; :memory: is private', async () => {
    const dir = tempDir();
    try {
      const s = await openStore('sqlite:db/events.db', { baseDir: dir.path });
      await s.append({ service: 'a', time: 1, kind: 'pause', result: 'ok' });
      await s.close();
      assert.ok(existsSync(join(dir.path, 'db', 'events.db')));
      const abs = join(dir.path, 'abs.db');
      const t = await openStore(`sqlite://${abs}`, { baseDir: '/nonexistent' });
      await t.close();
      assert.ok(existsSync(abs));
      const m1 = await openStore('sqlite::memory:');
      const m2 = await openStore('sqlite::memory:');
      await m1.append({ service: 'a', time: 1, kind: 'pause', result: 'ok' });
      assert.deepEqual(await m2.services(), []);
      assert.deepEqual(await m1.services(), ['a']);
      await m1.close();
      await m2.close();
    } finally {
      dir.cleanup();
    }
  });

  test('anything else is bad input naming the accepted forms', async () => {
    for (const url of ['mysql://root@localhost/x', 'file.db', '', 'sqlite:', 'redis://127.0.0.1:6379', 'postgres://exa mple:5432/x']) {
      await assert.rejects(openStore(url), (e: Error) => e instanceof InputError && e.message.includes(`store "${url}"`) && /sqlite:|postgres:\/\//.test(e.message), url);
    }
  });
});
