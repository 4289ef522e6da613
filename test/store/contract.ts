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
}
