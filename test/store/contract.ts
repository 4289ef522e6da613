// The behaviour every Store must show, run against SQLite and PostgreSQL alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_SERVICES, StoreError, type Store, type StoreEvent } from '../../src/store/types.js';
import { everyKind } from './events.js';

export function storeContract(open: () => Promise<Store>): void {
  test('every kind of event round-trips field for field', async () => {
    const store = await open();
    try {
      const events = everyKind('api', 1_700_000_000_000);
      const ids: number[] = [];
      for (const e of events) ids.push(await store.append(e));
      assert.deepEqual([...ids].sort((a, b) => a - b), ids, 'ids grow with insertion order');
      assert.equal(new Set(ids).size, ids.length);
      for (const [i, e] of events.entries()) assert.deepEqual(await store.get(ids[i]!), { id: ids[i], ...e });
      assert.deepEqual(await store.history('api', 0), events.map((e, i) => ({ id: ids[i], ...e })));
      assert.equal(await store.get(ids[ids.length - 1]! + 1000), undefined);
    } finally {
      await store.close();
    }
  });

  test('history filters by service, since, kinds, results and keeps the newest `limit` oldest-first', async () => {
    const store = await open();
    try {
      const t0 = 1_700_000_000_000;
      const mk = (service: string, time: number, kind: StoreEvent['kind'], result: StoreEvent['result'] = 'ok'): StoreEvent => ({ service, time, kind, result, message: `${service}@${time}` });
      // web's events are appended out of time order; ties on time keep insertion order
      const input = [
        mk('api', t0 + 10, 'decision'), mk('web', t0 + 30, 'scale'), mk('api', t0 + 20, 'scale', 'failed'),
        mk('web', t0 + 5, 'decision'), mk('api', t0 + 20, 'scale'), mk('api', t0 + 40, 'resize', 'dry-run'),
        mk('worker', t0 + 1, 'error', 'failed'),
      ];
      for (const e of input) await store.append(e);
      const msgs = (es: StoreEvent[]) => es.map((e) => `${e.message}:${e.kind}:${e.result}`);
      const cases: Array<{ name: string; service: string; since: number; opts?: Parameters<Store['history']>[2]; want: string[] }> = [
        { name: 'one service, all', service: 'api', since: 0, want: ['api@1700000000010:decision:ok', 'api@1700000000020:scale:failed', 'api@1700000000020:scale:ok', 'api@1700000000040:resize:dry-run'] },
        { name: 'since is inclusive', service: 'api', since: t0 + 20, want: ['api@1700000000020:scale:failed', 'api@1700000000020:scale:ok', 'api@1700000000040:resize:dry-run'] },
        { name: 'kinds', service: 'api', since: 0, opts: { kinds: ['scale', 'resize'] }, want: ['api@1700000000020:scale:failed', 'api@1700000000020:scale:ok', 'api@1700000000040:resize:dry-run'] },
        { name: 'kinds and results', service: 'api', since: 0, opts: { kinds: ['scale', 'resize'], results: ['ok'] }, want: ['api@1700000000020:scale:ok'] },
        { name: 'limit keeps newest', service: 'api', since: 0, opts: { limit: 2 }, want: ['api@1700000000020:scale:ok', 'api@1700000000040:resize:dry-run'] },
        { name: 'no match', service: 'api', since: 0, opts: { kinds: ['pause'] }, want: [] },
        { name: 'unknown service', service: 'nope', since: 0, want: [] },
        { name: 'web sorted by time', service: 'web', since: 0, want: ['web@1700000000005:decision:ok', 'web@1700000000030:scale:ok'] },
        { name: 'all services', service: ALL_SERVICES, since: t0 + 20, opts: { kinds: ['scale'] }, want: ['api@1700000000020:scale:failed', 'api@1700000000020:scale:ok', 'web@1700000000030:scale:ok'] },
        { name: 'all services, limit', service: ALL_SERVICES, since: 0, opts: { limit: 1 }, want: ['api@1700000000040:resize:dry-run'] },
      ];
      for (const c of cases) assert.deepEqual(msgs(await store.history(c.service, c.since, c.opts)), c.want, c.name);
      assert.deepEqual(await store.services(), ['api', 'web', 'worker']);
    } finally {
      await store.close();
    }
  });

  test('malformed events are refused with the field named, and nothing is stored', async () => {
    const store = await open();
    try {
      const good: StoreEvent = { service: 'api', time: 1, kind: 'scale', fromReplicas: 1, toReplicas: 2, result: 'ok' };
      const bad: Array<[Partial<StoreEvent>, RegExp]> = [
        [{ service: '' }, /event\.service/],
        [{ service: ALL_SERVICES }, /event\.service/],
        [{ time: Number.NaN }, /event\.time/],
        [{ kind: 'scaled' as StoreEvent['kind'] }, /event\.kind must be one of decision, scale/],
        [{ result: 'success' as StoreEvent['result'] }, /event\.result/],
        [{ toReplicas: -1 }, /event\.toReplicas/],
        [{ fromReplicas: 1.5 }, /event\.fromReplicas/],
      ];
      for (const [over, re] of bad) await assert.rejects(store.append({ ...good, ...over }), (e: Error) => e instanceof StoreError && re.test(e.message));
      assert.deepEqual(await store.history(ALL_SERVICES, 0), []);
      assert.ok((await store.append(good)) > 0);
    } finally {
      await store.close();
    }
  });

  test('prune deletes per-sync records before one cutoff and changes before another, oldest first, at most limit', async () => {
    const store = await open();
    try {
      assert.ok(store.prune, 'every store prunes');
      const kinds: StoreEvent['kind'][] = ['decision', 'error', 'scale', 'resize', 'rollback', 'pause'];
      for (let t = 1; t <= 10; t++) for (const kind of kinds) await store.append({ service: t % 2 ? 'api' : 'web', time: t * 1000, kind, result: 'ok' });
      // one batch of 5: the five oldest per-sync records only
      assert.equal(await store.prune({ decisionsBefore: 6000, eventsBefore: 3000, limit: 5 }), 5);
      let left = await store.history(ALL_SERVICES, 0);
      assert.deepEqual(left.filter((e) => e.time < 6000 && (e.kind === 'decision' || e.kind === 'error')).map((e) => `${e.time}:${e.kind}`), ['3000:error', '4000:decision', '4000:error', '5000:decision', '5000:error']);
      // the rest: per-sync records before 6 s and changes before 3 s
      assert.equal(await store.prune({ decisionsBefore: 6000, eventsBefore: 3000, limit: 100 }), 5 + 2 * 4);
      left = await store.history(ALL_SERVICES, 0);
      assert.equal(left.length, 60 - 10 - 8);
      assert.ok(left.every((e) => (e.kind === 'decision' || e.kind === 'error' ? e.time >= 6000 : e.time >= 3000)));
      assert.equal(await store.prune({ decisionsBefore: 6000, eventsBefore: 3000, limit: 100 }), 0);
      // a checkpoint last saved before the events cutoff (its service is gone from the config) goes; a fresh one stays
      await store.saveState!('gone', 'forecast', 2000, Uint8Array.of(1));
      await store.saveState!('api', 'forecast', 4000, Uint8Array.of(2));
      await store.prune({ decisionsBefore: 6000, eventsBefore: 3000, limit: 100 });
      assert.equal(await store.loadState!('gone', 'forecast'), undefined);
      assert.deepEqual(await store.loadState!('api', 'forecast'), { time: 4000, data: Uint8Array.of(2) });
    } finally {
      await store.close();
    }
  });

  test('an append retried under the same key is stored once', async () => {
    const store = await open();
    try {
      const e: StoreEvent = { service: 'api', time: 5, kind: 'scale', fromReplicas: 1, toReplicas: 2, result: 'ok' };
      const a = await store.append(e, { key: 'k-1' });
      assert.equal(await store.append(e, { key: 'k-1' }), a, 'the id of the stored one');
      const b = await store.append(e, { key: 'k-2' });
      const c = await store.append(e);
      const d = await store.append(e);
      assert.equal(new Set([a, b, c, d]).size, 4, 'other keys and unkeyed appends are separate records');
      assert.deepEqual(await store.get(a), { id: a, ...e }, 'the key is not part of the event');
      assert.equal((await store.history('api', 0)).length, 4);
    } finally {
      await store.close();
    }
  });

  test('metricSeries: the peak of one decision metric per bucket, computed by the database, and seeding from it equals seeding from every decision', async () => {
    const store = await open();
    try {
      assert.ok(store.metricSeries, 'the store computes metric series');
      const t0 = 1_700_000_040_000; // on a minute boundary
      const MIN = 60_000;
      const dec = (service: string, time: number, values: Record<string, number>, kind: StoreEvent['kind'] = 'decision'): StoreEvent =>
        ({ service, time, kind, result: 'ok', message: 'm', inputs: { values } });
      const rows: StoreEvent[] = [];
      // three days of a 15 s sync with a daily shape; a metric name with a dot; some syncs without the metric
      for (let k = 0; k < 3 * 1440 * 4; k++) {
        const t = t0 + k * 15_000;
        const m = Math.floor(k / 4);
        const rps = 200 + 1000 * Math.max(0, Math.sin((2 * Math.PI * m) / 1440)) + (k % 4) * 3;
        rows.push(dec('api', t, k % 97 === 5 ? { cpu: 1 } : { rps, 'queue.depth': k % 4 }));
      }
      rows.push(dec('api', t0 + 30_000, { rps: 1e6 }, 'scale')); // not a decision
      rows.push(dec('web', t0 + 30_000, { rps: 1e6 })); // another service
      for (const e of rows) await store.append(e);
      const since = t0 + MIN; // inclusive, mid-history
      const peaks = (metric: string) => {
        const want = new Map<number, number>();
        for (const e of rows) {
          const v = e.inputs?.values[metric];
          if (e.service !== 'api' || e.kind !== 'decision' || v === undefined || e.time < since) continue;
          const b = Math.floor(e.time / MIN) * MIN;
          want.set(b, Math.max(want.get(b) ?? -Infinity, v));
        }
        return want;
      };
      for (const metric of ['rps', 'queue.depth']) {
        // a dotted metric name is a key, not a JSON path
        const got = await store.metricSeries!('api', metric, since, MIN);
        const want = peaks(metric);
        assert.ok(want.size > 4000);
        assert.equal(got.length, want.size, metric);
        for (const { t, v } of got) assert.ok(Math.abs(v - want.get(t)!) < 1e-9, `${metric} bucket ${t}: ${v} vs ${want.get(t)}`);
        assert.deepEqual(got.map((x) => x.t), [...want.keys()].sort((a, b) => a - b));
      }
      assert.deepEqual(await store.metricSeries!('api', 'nope', 0, MIN), []);

      // the forecaster seeded from the series is the one seeded from every decision
      const { parseConfig } = await import('../../src/config/load.js');
      const { emptyHistory } = await import('../../src/core/types.js');
      const { seedDemandHistory } = await import('../../src/controller/demand-seed.js');
      const policy = parseConfig(`
sources: { s: { type: prometheus, url: "http://127.0.0.1:9" } }
services:
  api:
    target: { provider: dryrun }
    maxReplicas: 40
    metrics: { rps: { source: s, query: rps } }
    predictive: { metric: rps, model: seasonal, lookback: 2d }
    capacity: { rpsPerReplica: 100 }
`, 'seed.yaml').services.api!;
      const now = t0 + 3 * 1440 * MIN;
      const fast = emptyHistory();
      const slow = emptyHistory();
      const nFast = (await seedDemandHistory(store, policy, fast, now)).samples;
      const viaEvents: Store = { append: store.append.bind(store), history: store.history.bind(store), get: store.get.bind(store), services: store.services.bind(store), close: async () => {} };
      const nSlow = (await seedDemandHistory(viaEvents, policy, slow, now)).samples;
      assert.ok(nFast > 2000 && nSlow > 4 * 2000, `${nFast} bucket peaks, ${nSlow} decisions`);
      // the same bucket peaks; seasons are checked as buckets open, which differ only in how much of the newest
      // bucket each path had seen then, so the forecasts agree closely rather than bit for bit
      const a = fast.demand!;
      const b = slow.demand!;
      assert.deepEqual([a.first, a.last], [b.first, b.last]);
      assert.deepEqual(a.values, b.values);
      assert.equal(a.season.label, b.season.label);
      const { seasonalForecast } = await import('../../src/core/forecast/seasonal.js');
      const fa = seasonalForecast(a, now, 0.99);
      const fb = seasonalForecast(b, now, 0.99);
      assert.ok('need' in fa && 'need' in fb && fa.model === fb.model);
      assert.ok(Math.abs(fa.need - fb.need) / fb.need < 0.02, `${fa.need} vs ${fb.need}`);
    } finally {
      await store.close();
    }
  });

  test('state checkpoints: saved bytes come back byte for byte, a newer save replaces the older, per service and name', async () => {
    const store = await open();
    try {
      assert.ok(store.saveState && store.loadState);
      assert.equal(await store.loadState('api', 'forecast'), undefined);
      const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
      await store.saveState('api', 'forecast', 1000, bytes(300_000, 1));
      await store.saveState('web', 'forecast', 2000, bytes(10, 2));
      await store.saveState('api', 'forecast', 3000, bytes(5, 3));
      assert.deepEqual(await store.loadState('api', 'forecast'), { time: 3000, data: bytes(5, 3) });
      assert.deepEqual(await store.loadState('web', 'forecast'), { time: 2000, data: bytes(10, 2) });
      assert.equal(await store.loadState('api', 'other'), undefined);
      // a subarray of a larger buffer is stored as its own bytes only
      const big = bytes(100, 4);
      await store.saveState('api', 'forecast', 4000, big.subarray(10, 20));
      assert.deepEqual(await store.loadState('api', 'forecast'), { time: 4000, data: big.slice(10, 20) });
    } finally {
      await store.close();
    }
  });
}
