// Forecaster checkpoints: a restarted controller restores its seasonal history from one checkpoint plus the
// decisions after it, forecasting as one rebuilt from every decision; a torn, altered, foreign or stale checkpoint
// is refused with the reason and the history is rebuilt from the decisions instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { emptyHistory } from '../../src/core/types.js';
import { demandState, recordDemand } from '../../src/core/predict.js';
import { newSeasonalState, recordDemandSample, seasonalForecast } from '../../src/core/forecast/seasonal.js';
import { decodeForecast, encodeForecast } from '../../src/controller/forecast-checkpoint.js';
import { CHECKPOINT_INTERVAL_MS, FORECAST_CHECKPOINT, checkpointDemandHistory, seedDemandHistory } from '../../src/controller/demand-seed.js';
import { Controller } from '../../src/controller/controller.js';
import { DryRunProvider } from '../../src/providers/dryrun.js';
import { openStore } from '../../src/store/index.js';
import type { MetricQuery, MetricSource, Sample } from '../../src/metrics/types.js';
import { tempDir } from '../helpers/env.js';

const T0 = Date.parse('2024-01-01T00:00:00Z');
const MIN = 60_000;
const demand = (t: number) => {
  const m = Math.floor((t - T0) / MIN);
  return 300 + 1000 * Math.max(0, Math.sin((2 * Math.PI * m) / 1440)) + 40 * Math.sin(m * 12.9898);
};

const config = parseConfig(`
syncPeriod: 60s
sources: { s: { type: prometheus, url: "http://127.0.0.1:9" } }
services:
  api:
    target: { provider: dryrun, replicas: 3 }
    minReplicas: 1
    maxReplicas: 40
    metrics: { rps: { source: s, query: rps } }
    predictive: { metric: rps, model: seasonal, lookback: 4d }
    capacity: { rpsPerReplica: 100, startupDelay: 45s, readinessDelay: 15s }
    slo: { maxUtilization: 80 }
`, 'c.yaml');
const policy = config.services.api!;

function fed(minutes: number) {
  const h = emptyHistory();
  for (let m = 0; m < minutes; m++) recordDemand(h, policy, { rps: demand(T0 + m * MIN) }, T0 + m * MIN);
  return h;
}

test('a checkpoint round-trips: the restored forecaster forecasts exactly as the one saved', () => {
  const h = fed(3 * 1440 + 100);
  const s = h.demand!;
  const back = decodeForecast(encodeForecast(s), s.opts);
  assert.ok(!('error' in back), 'error' in back ? back.error : '');
  const now = T0 + (3 * 1440 + 99) * MIN;
  assert.deepEqual(seasonalForecast(back, now, 0.99), seasonalForecast(s, now, 0.99));
  assert.deepEqual(back.values, s.values);
  // and keeps learning as the original does
  for (let m = 3 * 1440 + 100; m < 3 * 1440 + 400; m++) { recordDemandSample(s, T0 + m * MIN, demand(T0 + m * MIN)); recordDemandSample(back, T0 + m * MIN, demand(T0 + m * MIN)); }
  const later = T0 + (3 * 1440 + 399) * MIN;
  assert.deepEqual(seasonalForecast(back, later, 0.99), seasonalForecast(s, later, 0.99));
});

test('a checkpoint keeps a drop hold that is under way, and a checkpoint without one (an older writer) reads as none', () => {
  const h = fed(3 * 1440 + 600);
  const s = h.demand!;
  // the traffic goes away: a hold starts (the policy's default dropHold)
  for (let m = 3 * 1440 + 600; m < 3 * 1440 + 630; m++) recordDemandSample(s, T0 + m * MIN, 1);
  assert.ok(s.drop && s.drop.end === -1, JSON.stringify(s.drop));
  const back = decodeForecast(encodeForecast(s), s.opts);
  assert.ok(!('error' in back), JSON.stringify(back));
  assert.deepEqual(back.drop, s.drop);
  const now = T0 + (3 * 1440 + 629) * MIN;
  const f = seasonalForecast(back, now, 0.99);
  assert.ok('peak' in f && f.hold, 'the restored forecaster still holds');
  assert.deepEqual(f, seasonalForecast(s, now, 0.99));
  const none = decodeForecast(encodeForecast({ ...fed(2 * 1440).demand!, drop: undefined as never }), s.opts);
  assert.ok(!('error' in none) && none.drop === null, JSON.stringify('error' in none ? none : none.drop));
});

test('a checkpoint keeps the learnt update cadence of a metric that changes every 5 minutes', () => {
  const s = newSeasonalState(fed(1).demand!.opts);
  const stepped = (m: number) => demand(T0 + (m - (m % 5)) * MIN);
  for (let m = 0; m < 2 * 1440 + 3; m++) recordDemandSample(s, T0 + m * MIN, stepped(m));
  assert.equal(s.cadence.period, 5);
  const back = decodeForecast(encodeForecast(s), s.opts);
  assert.ok(!('error' in back), 'error' in back ? back.error : '');
  assert.equal(back.cadence.period, 5);
  assert.equal(back.cadence.lastChange, s.cadence.lastChange);
  assert.deepEqual(back.quietErrors.sorted, s.quietErrors.sorted);
  for (let m = 2 * 1440 + 3; m < 2 * 1440 + 40; m++) { recordDemandSample(s, T0 + m * MIN, stepped(m)); recordDemandSample(back, T0 + m * MIN, stepped(m)); }
  for (let m = 2 * 1440 + 35; m < 2 * 1440 + 40; m++) assert.deepEqual(seasonalForecast(back, T0 + m * MIN, 0.99), seasonalForecast(s, T0 + m * MIN, 0.99));
});

test('damaged, foreign and hostile checkpoints are refused with the reason', () => {
  const s = fed(2 * 1440).demand!;
  const good = encodeForecast(s);
  const rehash = (b: Uint8Array) => { const body = b.byteLength - 32; b.set(createHash('sha256').update(b.subarray(0, body)).digest(), body); return b; };
  const withHeader = (edit: (h: Record<string, any>) => void) => {
    const dv = new DataView(good.buffer, good.byteOffset);
    const len = dv.getUint32(8);
    const h = JSON.parse(Buffer.from(good.subarray(12, 12 + len)).toString('utf8'));
    h.acf.byLag = {}; // room for the edit within the header's length
    edit(h);
    const json = Buffer.from(JSON.stringify(h));
    // keep the length (pad with spaces) so only the header's meaning changes
    assert.ok(json.length <= len);
    const b = good.slice();
    b.set(Buffer.concat([json, Buffer.alloc(len - json.length, 0x20)]), 12);
    return rehash(b);
  };
  const flipped = good.slice(); flipped[good.byteLength - 100]! ^= 0xff;
  const cases: Array<[string, Uint8Array, RegExp, typeof s.opts?]> = [
    ['one bit flipped in the arrays', flipped, /checksum mismatch/],
    ['cut short (a torn write)', good.slice(0, good.byteLength >> 1), /checksum mismatch/],
    ['nearly empty', good.slice(0, 20), /truncated/],
    ['not a checkpoint', rehash(Buffer.from('x'.repeat(200))), /bad magic/],
    ['an older format', (() => { const o = good.slice(); new DataView(o.buffer).setUint32(4, 1); return rehash(o); })(), /checkpoint format 1/],
    ['other settings', good, /other forecast settings/, { ...s.opts, horizonBuckets: 5 }],
    ['an error window position out of range', withHeader((h) => { h.windows.errors.next = 1e9; }), /out of range/],
    ['a quiet error window position out of range', withHeader((h) => { h.windows.quietNaive.count = -1; }), /out of range/],
    ['an error window missing', withHeader((h) => { delete h.windows.quietErrors; }), /array sizes/],
    ['a negative cadence gap count', withHeader((h) => { h.cadence.gaps[3] = -1; }), /cadence out of range/],
    ['a cadence longer than is learnt', withHeader((h) => { h.cadence.period = 1e6; }), /cadence out of range/],
    ['a cadence histogram of the wrong length', withHeader((h) => { h.cadence.gaps = [1]; }), /cadence out of range/],
    ['buckets out of order', withHeader((h) => { h.first = h.last + 10; }), /out of range/],
    ['a season longer than the history', withHeader((h) => { h.season.period = 1e7; }), /season out of range/],
    ['a drop hold ending before it began', withHeader((h) => { h.drop = { anchor: 5, since: 10, end: 7, expected: 1, actual: 0, expired: false }; }), /drop hold out of range/],
    ['a drop hold without figures', withHeader((h) => { h.drop = { anchor: 5, since: 10, end: -1 }; }), /drop hold out of range/],
    ['a drop hold anchored after it began', withHeader((h) => { h.drop = { anchor: 50, since: 10, end: -1, expected: 1, actual: 0, expired: false }; }), /drop hold out of range/],
  ];
  for (const [name, data, why, opts] of cases) {
    const r = decodeForecast(data, opts ?? s.opts);
    assert.ok('error' in r && why.test(r.error), `${name}: ${'error' in r ? r.error : 'accepted'}`);
  }
  // a recorded error that is not a number, with the checksum made to match
  const nan = good.slice();
  const body = nan.byteLength - 32;
  new DataView(nan.buffer).setFloat64(body - 8, Number.NaN, true);
  const r = decodeForecast(rehash(nan), s.opts);
  assert.ok('error' in r && /not a finite number/.test(r.error), JSON.stringify(r));
});

test('seeding restores the checkpoint and feeds only the decisions after it; a bad one falls back to every decision', async () => {
  const dir = tempDir();
  try {
    const store = await openStore(`sqlite:${join(dir.path, 'sp.db')}`);
    const end = 3 * 1440 + 600;
    for (let m = 0; m < end; m++) {
      const t = T0 + m * MIN + 7_000;
      await store.append({ service: 'api', time: t, kind: 'decision', inputs: { values: { rps: demand(t) } }, message: 'recorded', result: 'ok' });
    }
    const now = T0 + end * MIN;
    // the checkpoint a controller running until 06:00 on day 4 would have saved
    const upTo = 3 * 1440 + 360;
    const saved = emptyHistory();
    for (const e of await store.history('api', 0, { kinds: ['decision'] })) if (e.time < T0 + upTo * MIN) recordDemand(saved, policy, e.inputs!.values, e.time);
    assert.ok(await checkpointDemandHistory(store, policy, saved, T0 + upTo * MIN));

    const fromCheckpoint = emptyHistory();
    const a = await seedDemandHistory(store, policy, fromCheckpoint, now);
    assert.equal(a.from, 'checkpoint');
    assert.equal(a.samples, end - upTo + 1); // the bucket it was saved in, fed again, and the 4 hours after
    const rebuilt = emptyHistory();
    const b = await seedDemandHistory({ ...store, append: store.append.bind(store), history: store.history.bind(store), get: store.get.bind(store), services: store.services.bind(store), close: async () => {}, loadState: undefined, metricSeries: undefined }, policy, rebuilt, now);
    assert.equal(b.from, 'decisions');
    assert.deepEqual(fromCheckpoint.demand!.values, rebuilt.demand!.values);
    const fa = seasonalForecast(fromCheckpoint.demand!, now, 0.99);
    const fb = seasonalForecast(rebuilt.demand!, now, 0.99);
    assert.ok('need' in fa && 'need' in fb);
    assert.equal(fa.season.label, fb.season.label);
    assert.ok(Math.abs(fa.need - fb.need) / fb.need < 0.02, `${fa.need} vs ${fb.need}`);

    // a torn checkpoint: refused with the reason, rebuilt from the decisions
    const torn = (await store.loadState!('api', FORECAST_CHECKPOINT))!;
    await store.saveState!('api', FORECAST_CHECKPOINT, torn.time, torn.data.slice(0, 5000));
    const c = await seedDemandHistory(store, policy, emptyHistory(), now);
    assert.equal(c.from, 'decisions');
    assert.match(c.checkpointRefused!, /checksum mismatch/);
    // a checkpoint older than the lookback (4d) is of no use
    const old = emptyHistory();
    for (let m = 0; m < 600; m++) recordDemandSample(demandState(old, policy), T0 + m * MIN, 500);
    await checkpointDemandHistory(store, policy, old, T0 + 600 * MIN);
    const d = await seedDemandHistory(store, policy, emptyHistory(), T0 + 6 * 1440 * MIN);
    assert.equal(d.from, 'decisions');
    assert.match(d.checkpointRefused!, /older than the lookback/);
    // a checkpoint from the future (a clock that jumped back) is not trusted either
    await checkpointDemandHistory(store, policy, fed(3 * 1440), T0 + 3 * 1440 * MIN);
    const e = await seedDemandHistory(store, policy, emptyHistory(), T0 + 2 * 1440 * MIN);
    assert.match(e.checkpointRefused!, /later than now/);
    await store.close();
  } finally {
    dir.cleanup();
  }
});

class DemandSource implements MetricSource {
  readonly kind = 'demand';
  constructor(private readonly clock: { t: number }) {}
  async sample(_q: MetricQuery, now: Date): Promise<Sample[]> {
    return [{ labels: {}, t: now.getTime(), value: demand(this.clock.t) }];
  }
}

test('a running controller checkpoints its forecaster at most once an interval, and a restart restores it', async () => {
  const dir = tempDir();
  try {
    const url = `sqlite:${join(dir.path, 'sp.db')}`;
    const clock = { t: T0 + 1440 * MIN };
    const dry = new DryRunProvider({ now: () => clock.t });
    const store = await openStore(url);
    const c = new Controller(config, { store, dryRun: false, providerFor: () => dry, sources: { s: new DemandSource(clock) }, now: () => clock.t });
    const saves: number[] = [];
    const save = store.saveState!.bind(store);
    store.saveState = async (service, name, time, data) => { saves.push(time); await save(service, name, time, data); };
    const syncs = (2 * CHECKPOINT_INTERVAL_MS) / MIN + 1;
    for (let k = 0; k < syncs; k++) {
      await c.syncOnce('api');
      await new Promise((r) => setImmediate(r));
      clock.t += MIN;
    }
    // the first save comes within one interval of the start (spread at random), then one every interval
    assert.ok(saves.length >= 1 && saves.length <= 2, `saves at ${saves.map((t) => (t - T0) / MIN)}`);
    for (let i = 1; i < saves.length; i++) assert.ok(saves[i]! - saves[i - 1]! >= CHECKPOINT_INTERVAL_MS);
    await store.close();
    const again = await openStore(url);
    const h = emptyHistory();
    const r = await seedDemandHistory(again, policy, h, clock.t);
    assert.equal(r.from, 'checkpoint');
    assert.ok(r.samples <= CHECKPOINT_INTERVAL_MS / MIN + 1, `${r.samples} samples after the checkpoint`);
    await again.close();
  } finally {
    dir.cleanup();
  }
});

test('a controller that lost the store\'s writer lock writes no checkpoint over the new writer\'s', async () => {
  const dir = tempDir();
  try {
    const clock = { t: T0 + 1440 * MIN };
    const dry = new DryRunProvider({ now: () => clock.t });
    const store = await openStore(`sqlite:${join(dir.path, 'sp.db')}`);
    const c = new Controller(config, { store, dryRun: false, providerFor: () => dry, sources: { s: new DemandSource(clock) }, now: () => clock.t });
    let lost: string | undefined;
    c.useStoreLock({ holder: 'this process', lost: () => lost, release: async () => {} });
    const saves: number[] = [];
    const save = store.saveState!.bind(store);
    store.saveState = async (service, name, time, data) => { saves.push(time); await save(service, name, time, data); };
    const run = async (n: number) => {
      for (let k = 0; k < n; k++) {
        await c.syncOnce('api');
        await new Promise((r) => setImmediate(r));
        clock.t += MIN;
      }
    };
    await run(CHECKPOINT_INTERVAL_MS / MIN + 1);
    const held = saves.length;
    assert.ok(held >= 1, 'checkpoints are written while the lock is held');
    lost = 'the lease row was taken over by pid 42 on host b';
    await run((3 * CHECKPOINT_INTERVAL_MS) / MIN);
    assert.equal(saves.length, held, 'none after the lock was lost');
    await store.close();
  } finally {
    dir.cleanup();
  }
});

test('firstRound resolves once every service has finished one scheduled sync', async () => {
  const two = parseConfig(`
syncPeriod: 60s
sources: { s: { type: prometheus, url: "http://127.0.0.1:9" } }
services:
  a: { target: { provider: dryrun, replicas: 2 }, maxReplicas: 4, metrics: { rps: { source: s, query: rps } } }
  b: { target: { provider: dryrun, replicas: 2 }, maxReplicas: 4, metrics: { rps: { source: s, query: rps } } }
`, 'two.yaml');
  const dir = tempDir();
  try {
    const store = await openStore(`sqlite:${join(dir.path, 'sp.db')}`);
    const clock = { t: T0 };
    const c = new Controller(two, { store, dryRun: true, providerFor: () => new DryRunProvider({ now: () => clock.t }), sources: { s: new DemandSource(clock) }, now: () => clock.t });
    let done = false;
    const round = c.firstRound().then(() => { done = true; });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false, 'nothing has synced before start()');
    c.start();
    const keep = setInterval(() => {}, 50); // the controller's timers do not hold the process open
    await round;
    clearInterval(keep);
    assert.ok(c.lastSync('a') && c.lastSync('b'), 'both services synced');
    await c.firstRound(); // already over: resolves at once
    await c.stop();
    await store.close();
  } finally {
    dir.cleanup();
  }
});
