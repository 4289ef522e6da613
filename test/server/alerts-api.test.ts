// A store that refuses writes under a real Runtime: the controller holds, and /api/v1/alerts and the service pages
// show it as a critical store-blocked alert on every service, with SQLite's reason, until the store writes again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture, type ApiFixture } from './helpers.js';

interface AlertBody { service: string; kind: string; severity: string; message: string }

async function alerts(f: ApiFixture): Promise<AlertBody[]> {
  const r = await f.app.inject({ method: 'GET', url: '/api/v1/alerts' });
  assert.equal(r.statusCode, 200, r.body);
  return (r.json() as { alerts: AlertBody[] }).alerts;
}

/** SQLite's own read-only switch on the runtime's store: reads work, every write fails with SQLITE_READONLY. */
function readOnly(f: ApiFixture, on: boolean): void {
  (f.rt.store as unknown as { db: { pragma(s: string): unknown } }).db.pragma(`query_only = ${on ? 'ON' : 'OFF'}`);
}

test('alerts: a store that cannot record is critical on every service, with the reason, and clears once written', async () => {
  const f = await apiFixture({ rps: 150 });
  try {
    await f.rt.controller.syncOnce('web');
    await f.rt.controller.syncOnce('worker');
    assert.deepEqual(await alerts(f), [], 'healthy');

    readOnly(f, true);
    const held = await f.rt.controller.syncOnce('web');
    assert.match(held.error ?? '', /^store: /, 'the sync reports the store');
    assert.equal(held.acted, false);
    const blocked = await alerts(f);
    assert.deepEqual(blocked.map((a) => [a.service, a.kind, a.severity]).sort(), [['web', 'store-blocked', 'critical'], ['worker', 'store-blocked', 'critical']], JSON.stringify(blocked));
    for (const a of blocked) assert.match(a.message, /is held: the store cannot record changes \(.*readonly.*\); nothing scales/i);
    const page = (await f.app.inject({ method: 'GET', url: '/api/v1/services/worker' })).json() as { alerts: AlertBody[] };
    assert.deepEqual(page.alerts.map((a) => a.kind), ['store-blocked'], 'a service that has not synced since is held too');

    readOnly(f, false);
    const resumed = await f.rt.controller.syncOnce('web');
    assert.equal(resumed.error, undefined);
    await f.rt.controller.syncOnce('worker');
    assert.deepEqual(await alerts(f), [], 'the waiting records were written');
  } finally {
    await f.close();
  }
});
