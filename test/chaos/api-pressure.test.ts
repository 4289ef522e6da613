// The API shares the event loop with the sync loop: under a flood of requests, handlers start in small batches
// (a due timer runs between batches), /metrics goes first, and beyond the queue the answer is a fast 503. These
// tests check order and counts, not time; bench/api-pressure.ts measures the sync delay under 1,000 connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admission } from '../../src/server/admission.js';
import { apiFixture } from '../server/helpers.js';

const turn = () => new Promise<void>((r) => setImmediate(r));

test('admission: at most perTurn start per loop turn and maxInFlight at once; urgent requests first, outside the cap', async () => {
  const a = new Admission({ maxInFlight: 3, perTurn: 2, maxQueued: 100, maxWaitMs: 60_000, turnBudgetMs: 20 });
  const order: string[] = [];
  const releases: Array<() => void> = [];
  const enter = (name: string, urgent = false) =>
    a.enter(urgent).then((r) => {
      assert.ok(r.ok);
      order.push(name);
      if (!urgent) releases.push(r.release);
    });
  const all = ['n1', 'n2', 'n3', 'n4', 'n5'].map((n) => enter(n));
  const urgent = enter('m1', true);
  await turn();
  assert.deepEqual(order, ['m1', 'n1', 'n2'], 'one turn: the urgent request, then perTurn others');
  await turn();
  assert.deepEqual(order, ['m1', 'n1', 'n2', 'n3'], 'second turn: up to maxInFlight');
  assert.equal(a.running, 3);
  await enter('m2', true);
  assert.deepEqual(order.slice(-1), ['m2'], 'an urgent request starts even with every slot taken');
  await turn();
  assert.equal(order.length, 5, 'no normal request starts while maxInFlight are running');
  releases.shift()!();
  const again = releases[0]!;
  again();
  again(); // releasing the same slot twice frees it once
  releases.shift();
  await turn();
  await turn();
  assert.deepEqual(order.slice(5), ['n4', 'n5']);
  for (const r of releases.splice(0)) r();
  await Promise.all([...all, urgent]);
  assert.equal(a.running, 0);
});

test('admission: slow handlers shrink the batch to what fits the turn budget', () => {
  const a = new Admission({ maxInFlight: 32, perTurn: 4, maxQueued: 100, maxWaitMs: 60_000, turnBudgetMs: 20 });
  assert.equal(a.batch, 4);
  a.noteServiceTime(1);
  assert.equal(a.batch, 4);
  for (let i = 0; i < 30; i++) a.noteServiceTime(100);
  assert.equal(a.batch, 1);
  for (let i = 0; i < 30; i++) a.noteServiceTime(8);
  assert.equal(a.batch, 2);
});

test('admission: a full queue and a request that waited too long are refused, not queued forever', async () => {
  let now = 0;
  const a = new Admission({ maxInFlight: 1, perTurn: 1, maxQueued: 2, maxWaitMs: 1000, turnBudgetMs: 20 }, () => now);
  const first = await a.enter(false);
  assert.ok(first.ok);
  const waiting = [a.enter(false), a.enter(false)];
  const refused = await a.enter(false);
  assert.equal(refused.ok, false);
  assert.match((refused as { reason: string }).reason, /2 requests are already waiting/);
  now = 5000;
  first.release();
  const [w1, w2] = await Promise.all(waiting);
  assert.equal(w1!.ok, false);
  assert.match((w1 as { reason: string }).reason, /waited 5 s/);
  assert.equal(w2!.ok, false);
  assert.equal(a.refused, 3);
});

test('API flood: a timer due meanwhile runs before most handlers have started, and every request is answered', async () => {
  const f = await apiFixture();
  try {
    const n = 200;
    let done = 0;
    const replies = Array.from({ length: n }, () => f.app.inject({ url: '/api/v1/services' }).then((r) => { done++; return r; }));
    // stands for a sync that falls due while the requests arrive
    const atTimer = await new Promise<number>((resolve) => setTimeout(() => resolve(done), 0));
    const all = await Promise.all(replies);
    assert.ok(all.every((r) => r.statusCode === 200), `statuses: ${[...new Set(all.map((r) => r.statusCode))].join(', ')}`);
    assert.ok(atTimer < n / 4, `${atTimer} of ${n} handlers had finished before a due timer ran`);
  } finally {
    await f.close();
  }
});

test('API flood beyond the queue: fast 503 with Retry-After; /metrics is still served ahead of the queue', async () => {
  const f = await apiFixture({ server: { admission: { maxInFlight: 1, perTurn: 1, maxQueued: 10 } } });
  try {
    const flood = Array.from({ length: 40 }, () => f.app.inject({ url: '/api/v1/alerts' }));
    const metrics = f.app.inject({ url: '/metrics' });
    const rs = await Promise.all(flood);
    const busy = rs.filter((r) => r.statusCode === 503);
    assert.ok(busy.length >= 20, `${busy.length} refused`);
    assert.equal(busy[0]!.headers['retry-after'], '1');
    assert.match(busy[0]!.json().error, /server busy/);
    assert.ok(rs.filter((r) => r.statusCode === 200).length >= 10);
    const m = await metrics;
    assert.equal(m.statusCode, 200, 'the scrape was queued ahead of the flood, not refused');
    assert.match(m.body, /scalepilot_/);
  } finally {
    await f.close();
  }
});
