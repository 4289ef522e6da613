// The controller's guarded changes on the dry-run provider and a real SQLite store: a scale-down that made p95 worse
// is rolled back, counted in the rate limits and cooled off; `--dry-run` only reports what it would roll back; shared
// budgets wait for every sharing service and hold when their live limit cannot be read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type Config, type ServicePolicy } from '../../src/config/load.js';
import { Controller } from '../../src/controller/controller.js';
import { DryRunProvider } from '../../src/providers/dryrun.js';
import { openStore } from '../../src/store/index.js';
import type { MetricQuery, MetricSource, Sample } from '../../src/metrics/types.js';
import { MetricError } from '../../src/metrics/types.js';
import { createControllerMetrics } from '../../src/server/metrics.js';

/** qps per replica (labelled by pod), p95 and a database limit as aggregates; the test sets them. */
class Source implements MetricSource {
  readonly kind = 'settable';
  qps = 10;
  p95 = 0.3;
  limit: number | string = 100;
  async sample(q: MetricQuery, now: Date): Promise<Sample[]> {
    if (q.query === 'p95') return [{ labels: {}, t: now.getTime(), value: this.p95 }];
    if (q.query === 'max_connections') {
      if (typeof this.limit === 'string') throw new MetricError('settable', q.query, this.limit);
      return [{ labels: {}, t: now.getTime(), value: this.limit }];
    }
    const pods = (q.params?.pods as string[]) ?? [];
    return pods.map((pod) => ({ labels: { pod }, t: now.getTime(), value: this.qps }));
  }
}

const service = (name: string, replicas: number, extra = '') => `
  ${name}:
    target: { provider: dryrun, replicas: ${replicas} }
    minReplicas: 1
    maxReplicas: 10
    metrics: { qps: { source: s, query: qps, perPod: true }, p95: { source: s, query: p95 } }
    hpa:
      metrics:
        - type: Pods
          pods: { metric: { name: qps }, target: { type: AverageValue, averageValue: "10" } }
      behavior:
        scaleDown: { stabilizationWindowSeconds: 0 }
${extra}`;

async function setup(config: Config, dryRun = false) {
  const clock = { t: Date.parse('2024-01-01T00:00:00Z') };
  const source = new Source();
  const provider = new DryRunProvider({ now: () => clock.t });
  const store = await openStore('sqlite::memory:');
  const metrics = createControllerMetrics(false);
  const c = new Controller(config, { store, dryRun, providerFor: (_p: ServicePolicy) => provider, sources: { s: source }, metrics, now: () => clock.t });
  return { clock, source, provider, store, metrics, c };
}

const verifyYaml = `syncPeriod: 15s
sources: { s: { type: prometheus, url: "http://127.0.0.1:9" } }
verify: { window: 60s, p95: { metric: p95, margin: 20% }, coolOff: 10m }
services:${service('api', 4)}`;

test('a scale-down that made p95 worse than the 20% margin is rolled back after the window, counted and cooled off', async () => {
  const env = await setup(parseConfig(verifyYaml, 'v.yaml'));
  env.source.qps = 2; // 4 × 2 = 8 qps against 10 per replica → 1
  const first = await env.c.syncOnce('api');
  assert.equal(first.decision?.desiredReplicas, 1);
  env.source.p95 = 0.35; // within 0.3 + 20%: still pending, then would pass
  env.clock.t += 15_000;
  const during = await env.c.syncOnce('api');
  assert.equal(during.verification, undefined, 'still inside the window');
  env.source.p95 = 0.5;
  env.clock.t += 45_000;
  const failed = await env.c.syncOnce('api');
  assert.equal(failed.verification?.status, 'failed');
  assert.equal(failed.verification?.rolledBack, true);
  assert.match(failed.verification!.reason, /^p95 \(p95\) rose from 0\.3 to 0\.5, more than the 20% margin after the change 4 → 1$/);
  assert.equal((await env.provider.observe(env.c.policy('api')!.target)).replicas, 4);
  const [rb] = await env.store.history('api', 0, { kinds: ['rollback'] });
  assert.equal(rb!.fromReplicas, 1);
  assert.equal(rb!.toReplicas, 4);
  assert.match(rb!.message!, /rolled back to before event #\d+ \(scale 4→1 .*\) by verification \(p95 \(p95\) rose from 0\.3 to 0\.5/);
  assert.deepEqual(env.c.history('api')!.scaleUpEvents.map((e) => e.change), [3], 'the rollback counts in the rate limits');
  assert.match(await env.metrics.registry.getSingleMetricAsString('scalepilot_verifications_total'), /service="api",result="failed"\} 1/);
  assert.match(await env.metrics.registry.getSingleMetricAsString('scalepilot_verification_failed'), /service="api"\} 1/);

  // the load is still low, but scale-down waits out the cool-off; scale-up stays free
  env.clock.t += 15_000;
  const held = await env.c.syncOnce('api');
  assert.equal(held.decision?.desiredReplicas, 4);
  assert.equal(held.decision?.reasonCode, 'VerificationCoolOff');
  assert.match(held.decision!.reason, /^hold at 4: scale-down cooling off until 2024-01-01T00:11:00\.000Z after a failed verification .* would have scaled to 1/);
  env.source.qps = 20;
  env.clock.t += 15_000;
  assert.equal((await env.c.syncOnce('api')).decision?.desiredReplicas, 8);
  env.source.qps = 1;
  env.clock.t = Date.parse('2024-01-01T00:11:15Z');
  assert.equal((await env.c.syncOnce('api')).decision?.action, 'scale-down', 'after the cool-off the direction is free again');
  assert.match(await env.metrics.registry.getSingleMetricAsString('scalepilot_verification_failed'), /service="api"\} 0/);
});

test('when the change\'s own record was delayed, the rollback undoes exactly that change (never an older one)', async () => {
  const env = await setup(parseConfig(verifyYaml, 'v.yaml'));
  // an older applied change 2 → 4 is in the store; the next one's event is refused once (the journal retries it)
  await env.store.append({ service: 'api', time: env.clock.t - 3600_000, kind: 'scale', fromReplicas: 2, toReplicas: 4, result: 'ok' });
  const append = env.store.append.bind(env.store);
  let refused = 0;
  env.store.append = async (e) => {
    if (e.kind === 'scale' && refused++ === 0) throw new Error('disk full');
    return append(e);
  };
  env.source.qps = 2;
  await env.c.syncOnce('api');
  env.source.p95 = 0.5;
  env.clock.t += 60_000;
  const r = await env.c.syncOnce('api');
  assert.equal(r.verification?.rolledBack, true);
  assert.equal((await env.provider.observe(env.c.policy('api')!.target)).replicas, 4, 'back to 4, not to the 2 of the older change');
  const [rb] = await env.store.history('api', 0, { kinds: ['rollback'] });
  // the delayed record reached the store first, so the rollback names that very event
  assert.match(rb!.message!, /^rolled back to before event #\d+ \(scale 4→1 at 2024-01-01T00:00:00\.000Z\) by verification \(p95/);
});

test('a restart inside the cool-off does not retry the change that was rolled back', async () => {
  const env = await setup(parseConfig(verifyYaml, 'v.yaml'));
  env.source.qps = 2;
  await env.c.syncOnce('api');
  env.source.p95 = 0.5;
  env.clock.t += 60_000;
  assert.equal((await env.c.syncOnce('api')).verification?.rolledBack, true);
  // a new controller on the same store and target, as after a restart
  const metrics = createControllerMetrics(false);
  const again = new Controller(parseConfig(verifyYaml, 'v.yaml'), { store: env.store, dryRun: false, providerFor: () => env.provider, sources: { s: env.source }, metrics, now: () => env.clock.t });
  env.clock.t += 15_000;
  const r = await again.syncOnce('api');
  assert.equal(r.decision?.desiredReplicas, 4, r.decision?.reason);
  assert.equal(r.decision?.reasonCode, 'VerificationCoolOff');
  assert.match(r.decision!.reason, /scale-down cooling off until 2024-01-01T00:11:00\.000Z after a failed verification \(p95 \(p95\) rose from 0\.3 to 0\.5, more than the 20% margin after the change 4 → 1\)/);
  assert.match(await metrics.registry.getSingleMetricAsString('scalepilot_verification_failed'), /service="api"\} 1/);
});

test('a restart inside the verification window verifies the change to the end, against the values before it', async () => {
  const env = await setup(parseConfig(verifyYaml, 'v.yaml'));
  env.source.qps = 2;
  assert.equal((await env.c.syncOnce('api')).decision?.desiredReplicas, 1);
  // the process dies 15 s into the 60 s window; p95 gets worse after it
  const restart = () => new Controller(parseConfig(verifyYaml, 'v.yaml'), { store: env.store, dryRun: false, providerFor: () => env.provider, sources: { s: env.source }, metrics: createControllerMetrics(false), now: () => env.clock.t });
  const again = restart();
  env.source.p95 = 0.5;
  env.clock.t += 15_000;
  assert.equal((await again.syncOnce('api')).verification, undefined, 'still inside the window');
  env.clock.t += 45_000;
  const r = await again.syncOnce('api');
  assert.equal(r.verification?.status, 'failed', JSON.stringify(r.verification));
  assert.equal(r.verification?.rolledBack, true);
  assert.match(r.verification!.reason, /rose from 0\.3 to 0\.5, more than the 20% margin after the change 4 → 1$/);
  assert.equal((await env.provider.observe(again.policy('api')!.target)).replicas, 4);
});

test('after a restart, a change whose window has passed, or a manual one, is not verified again', async () => {
  const env = await setup(parseConfig(verifyYaml, 'v.yaml'));
  env.source.qps = 2;
  await env.c.syncOnce('api');
  env.source.p95 = 0.5;
  env.clock.t += 75_000; // the window ended while the process was down
  const late = new Controller(parseConfig(verifyYaml, 'v.yaml'), { store: env.store, dryRun: false, providerFor: () => env.provider, sources: { s: env.source }, metrics: createControllerMetrics(false), now: () => env.clock.t });
  const r = await late.syncOnce('api');
  assert.equal(r.verification, undefined);
  assert.equal((await env.provider.observe(late.policy('api')!.target)).replicas, 1, 'nothing rolled back');

  const env2 = await setup(parseConfig(verifyYaml, 'v.yaml'));
  env2.source.qps = 10;
  await env2.c.scaleManually('api', 2, 'ops');
  env2.source.p95 = 0.9;
  const after = new Controller(parseConfig(verifyYaml, 'v.yaml'), { store: env2.store, dryRun: false, providerFor: () => env2.provider, sources: { s: env2.source }, metrics: createControllerMetrics(false), now: () => env2.clock.t });
  env2.clock.t += 60_000;
  assert.equal((await after.syncOnce('api')).verification, undefined, 'a manual scale is not the controller\'s to verify');
  assert.equal((await env2.store.history('api', 0, { kinds: ['rollback'] })).length, 0);
});

test('a change that verifies is kept, and nothing is rolled back', async () => {
  const env = await setup(parseConfig(verifyYaml, 'v.yaml'));
  env.source.qps = 2;
  await env.c.syncOnce('api');
  env.clock.t += 60_000;
  env.source.qps = 8;
  const r = await env.c.syncOnce('api');
  assert.equal(r.verification?.status, 'passed');
  assert.match(r.verification!.reason, /change 4 → 1 verified: p95 0\.3 → 0\.3/);
  assert.equal((await env.store.history('api', 0, { kinds: ['rollback'] })).length, 0);
});

test('--dry-run reports what it would have rolled back, and changes nothing', async () => {
  const env = await setup(parseConfig(verifyYaml, 'v.yaml'), true);
  env.source.qps = 2;
  const first = await env.c.syncOnce('api');
  assert.equal(first.decision?.desiredReplicas, 1);
  env.source.p95 = 0.9;
  // the same change is asked for every sync (nothing moved); the window still ends 60 s after the first
  for (let i = 0; i < 3; i++) {
    env.clock.t += 15_000;
    assert.equal((await env.c.syncOnce('api')).verification, undefined);
  }
  env.clock.t += 15_000;
  const r = await env.c.syncOnce('api');
  assert.equal(r.verification?.status, 'failed');
  assert.equal(r.verification?.dryRun, true);
  const [rb] = await env.store.history('api', 0, { kinds: ['rollback'] });
  assert.equal(rb!.result, 'dry-run');
  assert.match(rb!.message!, /^would roll back 1 → 4: verification failed: p95 \(p95\) rose from 0\.3 to 0\.9/);
  assert.equal((await env.provider.observe(env.c.policy('api')!.target)).replicas, 4);
  assert.deepEqual(env.provider.scales.filter((s) => !s.dryRun), []);
});

const budgetYaml = (limit: string) => `syncPeriod: 15s
sources: { s: { type: prometheus, url: "http://127.0.0.1:9" } }
budgets: { maindb: { limit: ${limit}, headroom: 0.2 } }
services:${service('api', 2, '    uses: { maindb: 10 }\n')}${service('worker', 2, '    uses: { maindb: 5 }\n')}`;

test('budgets in the controller: no growth until every sharing service was observed, then the cap holds the sum', async () => {
  const env = await setup(parseConfig(budgetYaml('100'), 'b.yaml'));
  env.source.qps = 40; // each asks for 4 × 2 = 8
  const blind = await env.c.syncOnce('api');
  assert.equal(blind.decision?.desiredReplicas, 2);
  assert.match(blind.decision!.reason, /worker \(which shares it\) has not been observed yet/);
  const w = await env.c.syncOnce('worker');
  // 80 usable; api holds 2 × 10 = 20 and asks for 60 more; worker asks for 30 more, 50 left:
  // worker 2 + floor(50 × 30/90 / 5) = 5, and the spare 5 give it one more
  assert.equal(w.decision?.desiredReplicas, 6, w.decision?.reason);
  // api: 30 left for 60 + 10 more asked → 2 + floor(2.57) = 4 (the spare 10 go to the worker's larger fraction)
  env.clock.t += 15_000;
  const a = await env.c.syncOnce('api');
  assert.equal(a.decision?.desiredReplicas, 4, a.decision?.reason);
  assert.match(a.decision!.reason, /capped at 4 by maindb's split/);
  assert.ok(4 * 10 + 6 * 5 <= 80);
  assert.match(await env.metrics.registry.getSingleMetricAsString('scalepilot_budget_used'), /budget="maindb"\} 70/);
});

test('budgets in the controller: a live limit that cannot be read holds growth and says why', async () => {
  const env = await setup(parseConfig(budgetYaml('{ source: s, query: max_connections }'), 'b.yaml'));
  env.source.qps = 40;
  env.source.limit = 'connection refused';
  await env.c.syncOnce('worker');
  const r = await env.c.syncOnce('api');
  assert.equal(r.decision?.desiredReplicas, 2);
  assert.match(r.decision!.reason, /held at 2 by maindb: its limit cannot be read \(.*connection refused/);
  env.source.limit = 1000;
  env.clock.t += 15_000;
  const up = await env.c.syncOnce('api');
  assert.equal(up.decision?.desiredReplicas, 6, 'the scale-up rate limit (4 pods per 15 s), not the budget');
  assert.equal(up.decision?.reasonCode, 'ScaleUpLimit');
});
