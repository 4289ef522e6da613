// The load engine against real local servers: gates passing and failing, stage ramps seen from the server's side,
// coordinated-omission correction, request/duration bounds, endpoints, and errors by kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLoadTest, type LoadTestOptions } from '../../src/loadtest/engine.js';
import { parseGates } from '../../src/loadtest/gates.js';
import { constantProfile, parseStages, targetAt } from '../../src/loadtest/profile.js';
import { freePort } from '../helpers/env.js';
import {
  delayServer, errorServer, fastServer, hangingServer, slowingServer, stallServer, startServer, withServer, type TestServer,
} from './servers.js';

const closed = (url: string, vus: number, ms: number, extra: Partial<LoadTestOptions> = {}): LoadTestOptions =>
  ({ url, model: 'closed', profile: constantProfile(vus, ms), ...extra });

test('fast server: gates pass and every counted request reached the server', () => withServer(fastServer(), async (s) => {
  const r = await runLoadTest(closed(s.url, 5, 2000, { gates: parseGates(['p95<200ms', 'errors<1%', 'rps>50']) }));
  assert.equal(r.passed, true, JSON.stringify(r.gates));
  assert.ok(r.requests > 100, `${r.requests} requests`);
  assert.equal(r.requests, s.seen.length);
  assert.deepEqual(r.statusCodes, { 200: r.requests });
  assert.equal(r.errors, 0);
  assert.equal(r.stoppedBy, 'duration');
  assert.equal(r.timeline.length, 2);
  assert.equal(r.timeline.reduce((a, p) => a + p.requests, 0), r.requests);
  assert.equal(r.peakActive, 5);
  assert.ok(r.latency.p50 <= r.latency.p95 && r.latency.p95 <= r.latency.p99 && r.latency.p99 <= r.latency.max);
  assert.ok(r.bytesRead >= r.requests * 2, 'bodies were read');
}));

test('a server failing 5% of requests fails errors<1% and passes errors<10%', () => withServer(errorServer(20), async (s) => {
  const r = await runLoadTest(closed(s.url, 4, 1500, { gates: parseGates(['errors<1%', 'errors<10%']) }));
  assert.ok(r.errorRate > 0.045 && r.errorRate < 0.055, `error rate ${r.errorRate}`);
  assert.equal(r.errors, r.statusCodes['500']);
  assert.deepEqual(r.errorsByKind, { 'HTTP 500': r.errors });
  assert.equal(r.errors, s.seen.length > 0 ? Math.floor(s.seen.length / 20) : 0);
  assert.deepEqual(r.gates.map((g) => g.passed), [false, true]);
  assert.equal(r.passed, false);
  assert.deepEqual(r.interpretation.find((x) => x.metric === 'errors')?.level, 'critical');
}));

test('a server that slows down over time fails a latency gate; the timeline shows the trend', () => withServer(slowingServer(200), async (s) => {
  const r = await runLoadTest(closed(s.url, 5, 3000, { gates: parseGates(['p95<100ms', 'p95<2s']) }));
  assert.deepEqual(r.gates.map((g) => g.passed), [false, true], JSON.stringify(r.gates));
  assert.equal(r.timeline.length, 3);
  const p50s = r.timeline.map((p) => p.p50!);
  assert.ok(p50s[0]! < p50s[1]! && p50s[1]! < p50s[2]!, `p50 per second ${p50s}`);
  assert.ok(p50s[2]! > 250, `last second p50 ${p50s[2]}`);
  const rps = r.timeline.map((p) => p.rps);
  assert.ok(rps[0]! > rps[2]!, `throughput falls as latency rises: ${rps}`);
}));

/** Connections (each VU has its own) that sent requests within [fromMs, toMs) after the first request arrived. */
function connectionsSeen(s: TestServer, fromMs: number, toMs: number): number {
  const t0 = s.seen[0]!.at;
  return new Set(s.seen.filter((x) => x.at - t0 >= fromMs && x.at - t0 < toMs).map((x) => x.remotePort)).size;
}

test('closed-model stages ramp the VUs the server sees', () => withServer(delayServer(20), async (s) => {
  const profile = { start: 0, stages: parseStages('1s:10,1s:10,1s:0') };
  const r = await runLoadTest({ url: s.url, model: 'closed', profile });
  // ramp 0->10 over the first second, hold, ramp 10->0. A busy machine can pause either process for a moment, so the
  // checks are: never more VUs than the ramp allows (with 150 ms of slack), all 10 on the plateau, and the two ramps
  // clearly rising and falling
  const allowed = (ms: number) => Math.round(targetAt(profile, ms).target);
  for (let from = 0; from < 3000; from += 100) {
    const got = connectionsSeen(s, from, from + 100);
    const most = Math.max(allowed(from + 250), allowed(from - 150));
    assert.ok(got <= most + 1, `server saw ${got} VUs in [${from}, ${from + 100}) ms; the ramp allows ${most}`);
  }
  assert.equal(connectionsSeen(s, 1200, 1800), 10);
  const early = connectionsSeen(s, 0, 300);
  const late = connectionsSeen(s, 600, 900);
  const down = connectionsSeen(s, 2100, 2400);
  const end = connectionsSeen(s, 2650, 2950);
  assert.ok(early < late && late <= 10, `ramp up: ${early} then ${late} VUs`);
  assert.ok(down > end, `ramp down: ${down} then ${end} VUs`);
  assert.equal(r.peakActive, 10);
  assert.deepEqual(r.timeline.map((p) => p.target), [10, 10, 0]);
  assert.deepEqual(r.stages.map((st) => st.target), [10, 10, 0]);
  assert.ok(r.stages[1]!.rps > r.stages[0]!.rps && r.stages[1]!.rps > r.stages[2]!.rps, `plateau is busiest: ${r.stages.map((x) => x.rps)}`);
}));

test('open-model stages ramp the arrival rate the server sees', () => withServer(fastServer(), async (s) => {
  const r = await runLoadTest({ url: s.url, model: 'open', profile: { start: 0, stages: parseStages('1s:200,1s:200') } });
  const t0 = s.seen[0]!.at;
  const arrivedBy = (ms: number) => s.seen.filter((x) => x.at - t0 < ms).length;
  // the rate rises linearly to 200/s over 1 s (integral 100·t², so 25 arrivals by 0.5 s, 100 by 1 s), then holds at
  // 200/s. Arrivals delayed by a pause on a busy machine are sent late, never early, so the count the server has seen
  // by time T lies between what was due by T - 250 ms and by T + 250 ms; a flat 150/s would miss these bands.
  const due = (ms: number) => (ms <= 0 ? 0 : ms <= 1000 ? 100 * (ms / 1000) ** 2 : 100 + 200 * ((ms - 1000) / 1000));
  for (const T of [400, 500, 700, 1000, 1500]) {
    const got = arrivedBy(T);
    assert.ok(got >= Math.floor(due(T - 250)) && got <= Math.ceil(due(T + 250)) + 1,
      `server saw ${got} arrivals by ${T} ms; due by then: ${due(T)} (${due(T - 250)}..${due(T + 250)} allowing for pauses)`);
  }
  assert.ok(Math.abs(r.requests - 300) <= 2, `${r.requests} requests`);
  assert.ok(Math.abs(r.stages[0]!.requests - 100) <= 3 && Math.abs(r.stages[1]!.requests - 200) <= 3, `${r.stages.map((x) => x.requests)}`);
  assert.deepEqual(r.timeline.map((p) => p.target), [200, 200]);
  assert.equal(r.dropped, 0);
}));

test('coordinated omission: a stall shows in open-model latency from intended send times, not in service time', async () => {
  // 100 arrivals/s for 3 s through 2 connections; the server holds everything arriving in [1 s, 2 s)
  const open = await withServer(stallServer(1000, 1000), (s) =>
    runLoadTest({ url: s.url, model: 'open', profile: constantProfile(100, 3000), maxConnections: 2 }));
  assert.ok(Math.abs(open.requests - 300) <= 3, `${open.requests} requests`);
  // about a third of the requests were due during the stall, evenly spread: corrected latencies run up to ~1 s
  assert.ok(open.latency.p90 > 500, `corrected p90 ${open.latency.p90}`);
  assert.ok(open.latency.max > 850, `corrected max ${open.latency.max}`);
  assert.ok(open.latency.p50 < 200, `corrected p50 ${open.latency.p50}`);
  // the queued requests were sent after the stall and answered at once: the uncorrected view hides the stall
  assert.ok(open.serviceTime!.p90 < 100, `service time p90 ${open.serviceTime!.p90}`);
  // a closed model with the same 2 connections only ever has 2 requests waiting on the stall
  const closedRun = await withServer(stallServer(1000, 1000), (s) => runLoadTest(closed(s.url, 2, 3000)));
  assert.ok(closedRun.latency.p90 < 100, `closed p90 ${closedRun.latency.p90}`);
  assert.ok(closedRun.latency.max > 850, `closed max ${closedRun.latency.max}`);
});

test('the request count bounds a run in both models', () => withServer(fastServer(), async (s) => {
  let t = performance.now();
  const c = await runLoadTest(closed(s.url, 8, 30_000, { maxRequests: 300 }));
  assert.equal(c.requests, 300);
  assert.equal(s.seen.length, 300);
  assert.equal(c.stoppedBy, 'requests');
  assert.ok(performance.now() - t < 5000, 'stopped long before the 30 s duration');
  t = performance.now();
  const o = await runLoadTest({ url: s.url, model: 'open', profile: constantProfile(1000, 30_000), maxRequests: 200 });
  assert.equal(o.requests, 200);
  assert.equal(s.seen.length, 500);
  assert.equal(o.stoppedBy, 'requests');
  assert.ok(performance.now() - t < 2000, 'stopped long before the 30 s duration');
}));

test('the duration bounds a run even when the server never answers', () => withServer(hangingServer(), async (s) => {
  let t = performance.now();
  const c = await runLoadTest(closed(s.url, 5, 1000, { gracefulStopMs: 300, gates: parseGates(['p95<1s']) }));
  let took = performance.now() - t;
  assert.ok(took >= 1000 && took < 2500, `closed run took ${took} ms`);
  assert.equal(c.requests, 0);
  assert.equal(c.interrupted, 5);
  assert.equal(c.passed, false, 'no measurement is not a pass');
  t = performance.now();
  const o = await runLoadTest({ url: s.url, model: 'open', profile: constantProfile(50, 1000), maxConnections: 10, gracefulStopMs: 300 });
  took = performance.now() - t;
  assert.ok(took >= 1000 && took < 2500, `open run took ${took} ms`);
  assert.equal(o.interrupted, 10);
  assert.ok(Math.abs(o.dropped - 40) <= 2, `${o.dropped} dropped`);
}));

test('request timeouts are counted as errors of kind timeout', () => withServer(hangingServer(), async (s) => {
  // undici checks response timeouts on a coarse (~1 s) clock, so only the count's lower bound is exact
  const r = await runLoadTest(closed(s.url, 2, 2500, { timeoutMs: 500, gracefulStopMs: 300 }));
  assert.ok((r.errorsByKind['timeout'] ?? 0) >= 2, JSON.stringify(r.errorsByKind));
  assert.deepEqual(Object.keys(r.errorsByKind), ['timeout']);
  assert.equal(r.errorRate, 1);
  assert.equal(r.responses, 0);
}));

test('a refused connection is an error of its own kind and the run still ends by itself', async () => {
  const port = await freePort();
  const t = performance.now();
  const r = await runLoadTest(closed(`http://127.0.0.1:${port}/`, 2, 500));
  assert.ok(performance.now() - t < 2000);
  assert.ok((r.errorsByKind['connection refused'] ?? 0) > 0, JSON.stringify(r.errorsByKind));
  assert.equal(r.responses, 0);
});

test('weighted endpoints, methods, headers and bodies reach the server as configured', () =>
  withServer(startServer((_q, res) => res.end('ok'), { recordBodies: true }), async (s) => {
    const r = await runLoadTest({
      url: s.url, model: 'closed', profile: constantProfile(1, 10_000), maxRequests: 400,
      endpoints: [
        { path: '/a', weight: 3 },
        { name: 'post', method: 'POST', path: '/b?q=1', body: '{"x":1}', headers: { 'X-Test': 'yes' }, weight: 1 },
      ],
    });
    const a = s.seen.filter((x) => x.url === '/a');
    const b = s.seen.filter((x) => x.url === '/b?q=1');
    assert.equal(a.length, 300);
    assert.equal(b.length, 100);
    assert.ok(a.every((x) => x.method === 'GET'));
    assert.ok(b.every((x) => x.method === 'POST' && x.body === '{"x":1}' && x.headers['x-test'] === 'yes' && x.headers['content-type'] === 'application/json'));
    assert.deepEqual(r.endpoints.map((e) => [e.name, e.requests]), [['GET /a', 300], ['post', 100]]);
  }));
