// The record journal on a real SQLite file whose writes fail (made immutable): records wait in order, the bound
// drops the oldest per-sync records first and never a change, and all that waits is written, once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { RecordJournal } from '../../src/store/journal.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { StoreEvent } from '../../src/store/types.js';
import { setImmutable } from '../helpers/faults.js';
import { tempDir } from '../helpers/env.js';

test('bounded while the store refuses writes: oldest decisions go first, changes stay, the rest is written in order', async () => {
  const dir = tempDir();
  const file = join(dir.path, 'sp.db');
  const files = () => [file, `${file}-wal`].filter((f) => existsSync(f));
  const store = SqliteStore.open(file);
  const registry = new Registry();
  const j = new RecordJournal(store, { maxPending: 5, registry });
  try {
    assert.equal(await j.append({ service: 'api', time: 0, kind: 'decision', result: 'ok' }), true);
    setImmutable(files(), true);
    const e = (time: number, kind: StoreEvent['kind']): StoreEvent => ({ service: 'api', time, kind, result: 'ok' });
    const input = [e(1, 'decision'), e(2, 'scale'), e(3, 'decision'), e(4, 'decision'), e(5, 'pause'), e(6, 'decision'), e(7, 'decision'), e(8, 'decision')];
    for (const x of input) assert.equal(await j.append(x), false);
    assert.equal(await j.flush(), false);
    // 8 waited for 5 places: the three oldest decisions (1, 3, 4) were given up; the scale and pause stay
    assert.deepEqual(j.waiting().map((x) => `${x.time}:${x.kind}`), ['2:scale', '5:pause', '6:decision', '7:decision', '8:decision']);
    assert.match(j.blocked()!, /^5 record\(s\) could not be written to the store yet \(store sqlite:.*\)/);
    const text = await registry.metrics();
    assert.match(text, /^scalepilot_store_records_dropped_total 3$/m);
    assert.match(text, /^scalepilot_store_pending_records 5$/m);

    setImmutable(files(), false);
    assert.equal(await j.flush(), true);
    assert.equal(j.blocked(), undefined);
    assert.equal(await j.append(e(9, 'decision')), true);
    assert.deepEqual((await store.history('api', 0)).map((x) => `${x.time}:${x.kind}`), ['0:decision', '2:scale', '5:pause', '6:decision', '7:decision', '8:decision', '9:decision']);
    assert.match(await registry.metrics(), /^scalepilot_store_pending_records 0$/m);
  } finally {
    setImmutable(files(), false);
    await store.close();
    dir.cleanup();
  }
});

test('records waiting when the process dies are in the spill file; the next start writes them first, each once, in order', async () => {
  const dir = tempDir();
  const file = join(dir.path, 'sp.db');
  const spill = join(dir.path, 'state', 'journal.jsonl');
  const files = () => [file, `${file}-wal`].filter((f) => existsSync(f));
  const store = SqliteStore.open(file);
  const e = (time: number, kind: StoreEvent['kind']): StoreEvent => ({ service: 'api', time, kind, result: 'ok', message: `at ${time}` });
  try {
    const first = new RecordJournal(store, { spill });
    assert.equal(first.restore(), 0, 'nothing to restore on a first start');
    assert.equal(await first.append(e(0, 'decision')), true);
    assert.equal(existsSync(spill), false, 'no file while nothing waits');
    setImmutable(files(), true);
    for (const x of [e(1, 'decision'), e(2, 'scale'), e(3, 'decision')]) assert.equal(await first.append(x), false);
    const lines = readFileSync(spill, 'utf8').trim().split('\n');
    assert.equal(lines.length, 3, 'every waiting record is in the file');
    // the records carry what the controller read and decided: the file is the controller's alone
    assert.equal(statSync(spill).mode & 0o777, 0o600);
    // the process is killed here (no flush, no close); the last write it started was torn halfway
    appendFileSync(spill, lines[2]!.slice(0, 20));
    setImmutable(files(), false);
    // the scale did reach the store before the crash (a write that timed out but happened): it must not be stored twice
    const scale = JSON.parse(lines[1]!) as { key: string; e: StoreEvent };
    await store.append(scale.e, { key: scale.key });

    const registry = new Registry();
    const next = new RecordJournal(store, { spill, registry });
    assert.equal(next.restore(), 3);
    assert.match(next.blocked()!, /^3 record\(s\) could not be written to the store yet \(left waiting by a previous run\)/);
    assert.match(await registry.metrics(), /^scalepilot_store_blocked 1$/m);
    // anything new waits behind them
    assert.equal(await next.append(e(4, 'decision')), false);
    assert.equal(await next.flush(), true);
    assert.equal(next.blocked(), undefined);
    assert.equal(existsSync(spill), false, 'the file goes once everything is written');
    // each once (the scale that had reached the store too), none lost, none from the torn line
    assert.deepEqual((await store.history('api', 0)).map((x) => `${x.time}:${x.kind}`), ['0:decision', '1:decision', '2:scale', '3:decision', '4:decision']);
    const again = new RecordJournal(store, { spill });
    assert.equal(again.restore(), 0, 'nothing is written twice by a later start');
  } finally {
    setImmutable(files(), false);
    await store.close();
    dir.cleanup();
  }
});

test('a spill file that is not records is reported and skipped, not trusted', async () => {
  const dir = tempDir();
  const spill = join(dir.path, 'journal.jsonl');
  const store = SqliteStore.open(join(dir.path, 'sp.db'));
  const errors: string[] = [];
  try {
    writeFileSync(spill, `not json\n{"key":"k1","e":{"service":"api","time":5,"kind":"scale","result":"ok"}}\n{"key":3,"e":{}}\n`);
    const j = new RecordJournal(store, { spill, log: { error: (o, m) => errors.push(`${m} ${JSON.stringify(o)}`), info: () => {} } });
    assert.equal(j.restore(), 1);
    assert.equal(errors.length, 2);
    assert.match(errors[0]!, /line":1/);
    assert.match(errors[1]!, /line":3/);
    assert.equal(await j.flush(), true);
    assert.deepEqual((await store.history('api', 0)).map((x) => `${x.time}:${x.kind}`), ['5:scale']);
  } finally {
    await store.close();
    dir.cleanup();
  }
});

test('a spill file that cannot be written is reported once, and written whole once it can be', async () => {
  const dir = tempDir();
  const file = join(dir.path, 'sp.db');
  const state = join(dir.path, 'state');
  const spill = join(state, 'journal.jsonl');
  const files = () => [file, `${file}-wal`].filter((f) => existsSync(f));
  const store = SqliteStore.open(file);
  const errors: string[] = [];
  const e = (time: number): StoreEvent => ({ service: 'api', time, kind: 'decision', result: 'ok' });
  try {
    const j = new RecordJournal(store, { spill, log: { error: (_o, m) => errors.push(m ?? ''), info: () => {} } });
    assert.equal(await j.append(e(0)), true);
    setImmutable(files(), true);
    writeFileSync(state, 'a file where the state dir should be');
    for (const t of [1, 2, 3]) assert.equal(await j.append(e(t)), false);
    assert.equal(errors.filter((m) => /could not keep the waiting records in their file/.test(m)).length, 1, errors.join('\n'));
    rmSync(state);
    assert.equal(await j.append(e(4)), false);
    assert.deepEqual(readFileSync(spill, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { e: StoreEvent }).e.time), [1, 2, 3, 4], 'every waiting record, in order');
    assert.equal(await j.flush(), false, 'the store still refuses');
    setImmutable(files(), false);
    assert.equal(await j.flush(), true);
    assert.equal(existsSync(spill), false);
  } finally {
    setImmutable(files(), false);
    await store.close();
    dir.cleanup();
  }
});
