// The record journal on a real SQLite file whose writes fail (made immutable): records wait in order, the bound
// drops the oldest per-sync records first and never a change, and all that waits is written, once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
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
