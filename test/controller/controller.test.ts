// The reconcile loop on the dry-run provider and a real SQLite store: act, hold on failures, back off, survive
// other services' failures, and continue stabilization windows across a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseConfig, type Config, type ServicePolicy } from '../../src/config/load.js';
import { Controller } from '../../src/controller/controller.js';
import { DryRunProvider } from '../../src/providers/dryrun.js';
import { openStore } from '../../src/store/index.js';
import type { MetricQuery, MetricSource, Sample } from '../../src/metrics/types.js';
import { MetricError } from '../../src/metrics/types.js';
import { ProviderError, type Provider } from '../../src/providers/types.js';
import { createControllerMetrics } from '../../src/server/metrics.js';
import { tempDir } from '../helpers/env.js';

/** A source whose per-replica value the test sets; it answers for exactly the replicas the controller passes. */
class SettableSource implements MetricSource {
  readonly kind = 'settable';
  perPod = 10;
  fail: string | null = null;
  calls = 0;
  async sample(q: MetricQuery, now: Date): Promise<Sample[]> {
    this.calls++;
    if (this.fail) throw new MetricError('settable', q.query, this.fail);
    const pods = (q.params?.pods as string[]) ?? [];
    return pods.map((pod) => ({ labels: { pod }, t: now.getTime(), value: this.perPod }));
  }
}

const yaml = (services: string[]) => `
syncPeriod: 15s
store: "sqlite::memory:"
sources: { s: { type: prometheus, url: "http://127.0.0.1:9" } }
services:
${services.map((name) => `  ${name}:
    target: { provider: dryrun, replicas: 2 }
    minReplicas: 1
    maxReplicas: 10
    metrics: { qps: { source: s, query: qps, perPod: true } }
    hpa:
      metrics:
        - type: Pods
          pods: { metric: { name: qps }, target: { type: AverageValue, averageValue: "10" } }
      behavior:
        scaleDown: { stabilizationWindowSeconds: 300 }
`).join('')}`;

function setup(config: Config, storeUrl = 'sqlite::memory:', providers: Record<string, Provider> = {}) {
  const clock = { t: Date.parse('2024-01-01T00:00:00Z') };
  const source = new SettableSource();
  const dry = new DryRunProvider({ now: () => clock.t });
  return {
    clock,
    source,
    dry,
    async make(dryRun = false) {
      const store = await openStore(storeUrl);
      const metrics = createControllerMetrics(false);
      const c = new Controller(config, { store, dryRun, providerFor: (p: ServicePolicy) => providers[p.name] ?? dry, sources: { s: source }, metrics, now: () => clock.t });
      return { c, store, metrics };
    },
  };
}

test('scales up on the HPA proposal and records decision and scale events with their inputs', async () => {
  const env = setup(parseConfig(yaml(['api']), 'c.yaml'));
  const { c, store } = await env.make();
  env.source.perPod = 30; // 3× the per-replica target on 2 replicas → 6
  const r = await c.syncOnce('api');
  assert.equal(r.decision?.desiredReplicas, 6);
  assert.equal(r.acted, true);
  assert.equal((await env.dry.observe(c.policy('api')!.target)).replicas, 6);
  const events = await store.history('api', 0);
  // the decision is written before the change is made: nothing is changed that the store did not take first
  assert.deepEqual(events.map((e) => e.kind), ['decision', 'scale']);
  assert.equal(events[1]!.fromReplicas, 2);
  assert.equal(events[1]!.toReplicas, 6);
  assert.equal(events[0]!.inputs?.values.qps, 30);
  assert.match(events[0]!.message!, /scale up 2 → 6/);
});

test('--dry-run decides and records but never acts', async () => {
  const env = setup(parseConfig(yaml(['api']), 'c.yaml'));
  const { c, store } = await env.make(true);
  env.source.perPod = 30;
  const r = await c.syncOnce('api');
  assert.equal(r.decision?.desiredReplicas, 6);
  assert.equal(r.acted, false);
  assert.equal((await env.dry.observe(c.policy('api')!.target)).replicas, 2);
  assert.deepEqual((await store.history('api', 0)).map((e) => e.result), ['dry-run', 'dry-run']);
});

test('a failing source holds replicas, is recorded and counted, backs off its logging, and is re-probed every sync', async () => {
  const env = setup(parseConfig(yaml(['api']), 'c.yaml'));
  const { c, metrics } = await env.make();
  const errors = async () => Number(/scalepilot_metric_errors_total\{service="api",metric="qps"\} (\d+)/.exec(await metrics.registry.getSingleMetricAsString('scalepilot_metric_errors_total'))?.[1]);
  env.source.fail = 'connection refused';
  const r1 = await c.syncOnce('api');
  assert.equal(r1.decision?.desiredReplicas, 2);
  assert.equal(r1.decision?.action, 'hold');
  assert.match(r1.decision!.errors.join(' '), /connection refused/);
  assert.equal(env.source.calls, 1);
  assert.equal(await errors(), 1);
  // within the back-off (one sync period after the first failure) the source is probed, but the failure is not
  // counted or logged again
  env.clock.t += 10_000;
  const r2 = await c.syncOnce('api');
  assert.equal(env.source.calls, 2);
  assert.match(r2.decision!.errors.join(' '), /connection refused/);
  assert.equal(await errors(), 1);
  env.clock.t += 10_000;
  await c.syncOnce('api');
  assert.equal(env.source.calls, 3);
  assert.equal(await errors(), 2, 'counted again once the back-off ran out; the next back-off is 30 s');
  // the source comes back 1 s into a 30 s back-off: the next sync's probe sees it and decides on it
  env.clock.t += 1_000;
  env.source.fail = null;
  env.source.perPod = 20;
  const ok = await c.syncOnce('api');
  assert.equal(env.source.calls, 4);
  assert.equal(ok.decision?.desiredReplicas, 4);
  assert.deepEqual(ok.decision?.errors, []);
  assert.equal(await errors(), 2);
});

test('a backing-off source is probed with one request per sync, and all its metrics are read once it answers', async () => {
  const config = parseConfig(`
store: "sqlite::memory:"
sources: { s: { type: prometheus, url: "http://127.0.0.1:9" } }
services:
  api:
    target: { provider: dryrun, replicas: 2 }
    maxReplicas: 10
    metrics:
      a: { source: s, query: a, perPod: true }
      b: { source: s, query: b, perPod: true }
      c: { source: s, query: c, perPod: true }
    hpa:
      metrics:
        - { type: Pods, pods: { metric: { name: a }, target: { type: AverageValue, averageValue: "10" } } }
        - { type: Pods, pods: { metric: { name: b }, target: { type: AverageValue, averageValue: "10" } } }
        - { type: Pods, pods: { metric: { name: c }, target: { type: AverageValue, averageValue: "10" } } }
`, 'c.yaml');
  const env = setup(config);
  const { c } = await env.make();
  env.source.fail = 'timeout';
  await c.syncOnce('api');
  assert.equal(env.source.calls, 3, 'first failure: every metric was read');
  env.clock.t += 5_000;
  await c.syncOnce('api');
  assert.equal(env.source.calls, 4, 'in back-off: one probe for the source, not one request per metric');
  env.clock.t += 5_000;
  env.source.fail = null;
  env.source.perPod = 20;
  const r = await c.syncOnce('api');
  assert.equal(env.source.calls, 7, 'the probe answered, so the other two metrics were read in the same sync');
  assert.deepEqual(r.decision?.errors, []);
  assert.equal(r.decision?.desiredReplicas, 4);
});

test('one service whose target fails does not stall the others', async () => {
  const broken: Provider = {
    kind: 'broken',
    async observe() { throw new Error('API server unreachable'); },
    async scale() { throw new Error('unreachable'); },
  };
  const env = setup(parseConfig(yaml(['api', 'worker']), 'c.yaml'), 'sqlite::memory:', { api: broken });
  const { c, store } = await env.make();
  env.source.perPod = 20;
  c.start();
  const deadline = Date.now() + 3000;
  while (!c.lastSync('worker') || !c.lastSync('api')) {
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await c.stop();
  assert.match(c.lastSync('api')!.error!, /API server unreachable/);
  assert.equal(c.lastSync('worker')!.decision?.desiredReplicas, 4);
  const errs = await store.history('api', 0, { kinds: ['error'] });
  assert.equal(errs.length, 1);
});

test('a target held by another actor is looked at again within the time its provider names, not after the doubled back-off', async () => {
  let held = true;
  let observed = 0;
  const contested: Provider = {
    kind: 'contested',
    async observe() {
      observed++;
      if (held) throw new ProviderError('contested', 'driven by another scalepilot', true, { retryInMs: 30_000 });
      return { replicas: 2, readyReplicas: 2, pods: [] };
    },
    async scale() {},
  };
  const plain: Provider = { kind: 'plain', async observe() { observed++; throw new ProviderError('plain', 'API server unreachable'); }, async scale() {} };
  const env = setup(parseConfig(yaml(['api', 'worker']), 'c.yaml'), 'sqlite::memory:', { api: contested, worker: plain });
  const { c } = await env.make();
  env.source.perPod = 10;
  // a sync every 15 s for 10 minutes: the usual back-off doubles 15 s, 30 s, ... to 5 minutes
  const calls = (svc: string) => {
    let n = 0;
    const t0 = env.clock.t;
    return async () => {
      for (let t = 0; t <= 600_000; t += 15_000) {
        env.clock.t = t0 + t;
        observed = 0;
        await c.syncOnce(svc);
        n += observed;
      }
      return n;
    };
  };
  const api = await calls('api')();
  const worker = await calls('worker')();
  // 600 s at most 30 s apart: 20 or more looks; the plain failure backs off to 5 minutes: a handful
  assert.ok(api >= 20 && api <= 41, `the contested target was observed ${api} times`);
  assert.ok(worker <= 7, `an unreachable target backs off as before (${worker} observations)`);
  // once the other actor lets go, the next look takes over
  held = false;
  env.clock.t += 30_000;
  const r = await c.syncOnce('api');
  assert.equal(r.error, undefined);
  assert.equal(r.state?.replicas, 2);
});

test('a restarted controller continues the scale-down stabilization window from the store', async () => {
  const dir = tempDir();
  try {
    const url = `sqlite:${join(dir.path, 'sp.db')}`;
    const config = parseConfig(yaml(['api']), 'c.yaml');
    const env = setup(config, url);
    const a = await env.make();
    env.source.perPod = 30;
    await a.c.syncOnce('api'); // 2 → 6 at t0
    const t0 = env.clock.t;
    env.source.perPod = 5; // 6 replicas at half the target → 3
    env.clock.t += 60_000;
    const held = await a.c.syncOnce('api');
    assert.equal(held.decision?.desiredReplicas, 6, 'held by the 300 s window');
    await a.store.close();

    // a new controller (new process) on the same store, 2 minutes later
    const b = await env.make();
    env.clock.t = t0 + 180_000;
    const r = await b.c.syncOnce('api');
    assert.equal(r.decision?.desiredReplicas, 6, 'the recommendation of 6 from before the restart is still inside the window');
    // once the window has passed since the last high recommendation (t0), the restarted controller scales down,
    // exactly when the first controller would have
    env.clock.t = t0 + 301_000;
    const down = await b.c.syncOnce('api');
    assert.equal(down.decision?.desiredReplicas, 3);
    // a controller without that memory starts a new window at its first sync (Kubernetes records the current count
    // as its first recommendation), so at the same moment it still holds: the store made the difference
    const fresh = setup(config);
    const f = await fresh.make();
    await fresh.dry.scale(config.services.api!.target, 6, { dryRun: false, drainMs: 0 });
    fresh.source.perPod = 5;
    fresh.clock.t = t0 + 180_000;
    assert.equal((await f.c.syncOnce('api')).decision?.desiredReplicas, 6);
    fresh.clock.t = t0 + 301_000;
    assert.equal((await f.c.syncOnce('api')).decision?.desiredReplicas, 6);
    await b.store.close();
  } finally {
    dir.cleanup();
  }
});

test('pause keeps deciding and recording but does not act; manual scale is recorded', async () => {
  const env = setup(parseConfig(yaml(['api']), 'c.yaml'));
  const { c, store } = await env.make();
  await c.setPaused('api', true, 'test');
  env.source.perPod = 30;
  const r = await c.syncOnce('api');
  assert.equal(r.decision?.action, 'paused');
  assert.equal((await env.dry.observe(c.policy('api')!.target)).replicas, 2);
  await c.scaleManually('api', 5, 'test');
  assert.equal((await env.dry.observe(c.policy('api')!.target)).replicas, 5);
  const kinds = (await store.history('api', 0)).map((e) => `${e.kind}:${e.result}`);
  assert.deepEqual(kinds, ['pause:ok', 'decision:ok', 'scale:ok']);
});
