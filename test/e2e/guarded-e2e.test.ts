// Guarded changes end to end on real parts: two services whose replicas each hold a real PostgreSQL connection pool
// share that server's max_connections (read live) under load, and a scale-up whose new replicas never get healthy is
// verified, rolled back automatically and cooled off, with no request lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../src/config/load.js';
import { startRuntime, type Runtime } from '../../src/controller/runtime.js';
import type { SyncResult } from '../../src/controller/controller.js';
import { runLoadTest } from '../../src/loadtest/engine.js';
import { freePort, freePortRange, requireBinary, sleep, tempDir } from '../helpers/env.js';
import { startPostgres, startPrometheus, waitForPromQuery, type RunningService } from '../helpers/services.js';

const POOL_SERVER = resolve('test', 'helpers', 'pool-server.mjs');
const MAX = 6;

async function until(what: string, timeoutMs: number, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(200);
  }
}

function serviceYaml(o: { name: string; pool: number; uses?: number; listen: number; portBase: number; dir: string; env?: Record<string, string>; extra?: string }): string {
  const env = { SERVICE: o.name, POOL: String(o.pool), ...(o.env ?? {}) };
  return `
  ${o.name}:
    target:
      provider: local
      command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(POOL_SERVER)}]
      env: ${JSON.stringify(env)}
      listen: 127.0.0.1:${o.listen}
      portBase: ${o.portBase}
      replicas: 1
      proxy: builtin
      healthPath: /healthz
      healthTimeout: 20s   # a loaded machine's slow start is waited for; a rollback removes replicas still starting
      restartBackoff: 1s
      stateDir: ${JSON.stringify(join(o.dir, o.name))}
    minReplicas: 1
    maxReplicas: ${MAX}
    drainTimeout: 5s
${o.uses !== undefined ? `    uses: { maindb: ${o.uses} }\n` : ''}    metrics:
      rps: { source: prom, query: 'sum(rate(http_requests_total{service="${o.name}"}[5s]))' }
    hpa:
      metrics:
        - type: External
          external: { metric: { name: rps }, target: { type: AverageValue, averageValue: "10" } }
      behavior:
        scaleUp: { stabilizationWindowSeconds: 0, policies: [ { type: Pods, value: 6, periodSeconds: 1 } ] }
${o.extra ?? ''}`;
}

async function clientConnections(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend'");
    return r.rows[0].n as number;
  } finally {
    await c.end();
  }
}

test('two services share a real PostgreSQL max_connections: the budget holds under load, and no replica is refused a connection', { timeout: 180_000 }, async () => {
  const dir = tempDir();
  // 60 connections, 20% headroom → 48 usable; 6 reserved for scalepilot's own reads and this test's probe → 42
  const db: RunningService = await startPostgres({ maxConnections: 60 });
  let prom: RunningService | undefined;
  let rt: Runtime | undefined;
  const probe = new pg.Client({ connectionString: db.url });
  try {
    const apiListen = await freePort();
    const workerListen = await freePort();
    const base = await freePortRange(MAX);
    const workerBase = await freePortRange(MAX);
    const targets = Array.from({ length: MAX }, (_, i) => [`127.0.0.1:${base + i}`, `127.0.0.1:${workerBase + i}`]).flat();
    prom = await startPrometheus({ scrapeTargets: targets, scrapeInterval: '1s' });
    const file = join(dir.path, 'scalepilot.yaml');
    writeFileSync(file, `
syncPeriod: 1s
store: sqlite:${join(dir.path, 'sp.db')}
sources:
  prom: { type: prometheus, url: "${prom.url}" }
  pg: { type: postgres, url: "${db.url}" }
budgets:
  maindb: { limit: { source: pg, query: max_connections }, headroom: 20%, reserved: 6 }
services:${serviceYaml({ name: 'api', pool: 8, uses: 8, listen: apiListen, portBase: base, dir: dir.path, env: { PG_URL: db.url } })}${serviceYaml({ name: 'worker', pool: 5, uses: 5, listen: workerListen, portBase: workerBase, dir: dir.path, env: { PG_URL: db.url } })}
`);
    const syncs: SyncResult[] = [];
    rt = await startRuntime(loadConfig(file), { dryRun: false, stateDir: dir.path, onSync: (r) => syncs.push(r) });
    await rt.controller.syncOnce('api');
    await rt.controller.syncOnce('worker');
    await waitForPromQuery(prom.url, 'up{job="targets"} == 1', (r) => r.length >= 2).catch(async (e: Error) => {
      const events = await rt!.store.history('*', 0, {});
      throw new Error(`${e.message}\nscalepilot's events so far:\n${events.map((x) => `${x.service} ${x.kind} ${x.message ?? ''} ${x.error ?? ''}`).join('\n')}`);
    });
    await probe.connect();
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const r = await probe.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend'");
        peak = Math.max(peak, r.rows[0].n as number);
        await sleep(250);
      }
    })();
    rt.controller.start();

    // 70 rps each against 10 per replica: both ask for 7 (capped at maxReplicas 6): 6 × 8 + 6 × 5 = 78 > 42
    const load = (port: number) => runLoadTest({ url: `http://127.0.0.1:${port}/work`, model: 'open', profile: { start: 70, stages: [{ durationMs: 30_000, target: 70 }] }, maxConnections: 16 });
    const loads = Promise.all([load(apiListen), load(workerListen)]);
    const replicas = (s: string) => syncs.filter((x) => x.service === s && x.state).at(-1)?.state?.replicas ?? 0;
    await until('both services scaled out within the budget', 40_000, () => replicas('api') > 1 && replicas('worker') > 1 && syncs.some((x) => x.decision?.reasonCode === 'BudgetLimit'));
    const [a, w] = await loads;
    // a scale-up may still be starting replicas (counted in the budget before they connect): let it finish
    const last = (svc: string) => syncs.filter((x) => x.service === svc && x.state).at(-1)!.state!;
    await until('every replica ready', 20_000, () => ['api', 'worker'].every((svc) => last(svc).readyReplicas === last(svc).replicas));
    sampling = false;
    await sampler;

    assert.equal(a.errors + w.errors, 0, `no failed request: ${JSON.stringify(a.errorsByKind)} ${JSON.stringify(w.errorsByKind)} ${JSON.stringify(a.statusCodes)} ${JSON.stringify(w.statusCodes)}`);
    const held = replicas('api') * 8 + replicas('worker') * 5;
    assert.ok(held <= 42, `api ${replicas('api')} × 8 + worker ${replicas('worker')} × 5 = ${held} within 42`);
    assert.ok(peak <= 48, `PostgreSQL never held more than the 48 usable client connections (peak ${peak})`);
    const open = await clientConnections(db.url);
    assert.ok(open >= held, `the pools are real connections (${open} open >= ${held} held)`);
    const capped = syncs.find((x) => x.decision?.reasonCode === 'BudgetLimit')!.decision!;
    assert.match(capped.reason, /by maindb(?:'s split)?: \d+ × \d+ .*the 60 limit less 20% headroom/);
    assert.match(capped.reason, /PgBouncer/);
    const failedScales = (await rt.store.history('*', 0, { kinds: ['scale'], results: ['failed'] }));
    assert.deepEqual(failedScales.map((e) => e.error), [], 'no replica was refused a connection');
    const gauges = await rt.metrics.registry.getMetricsAsJSON();
    const limit = gauges.find((g) => g.name === 'scalepilot_budget_limit');
    assert.equal((limit?.values[0] as { value: number } | undefined)?.value, 60, 'the live max_connections is exported');
  } finally {
    await probe.end().catch(() => {});
    await rt?.close({ stopReplicas: true });
    await prom?.stop();
    await db.stop();
    dir.cleanup();
  }
});

test('a scale-up whose new replicas never get healthy is verified, rolled back and cooled off, with no request lost', { timeout: 120_000 }, async () => {
  requireBinary('/usr/bin/prometheus', 'prometheus');
  const dir = tempDir();
  const flag = join(dir.path, 'bad-release');
  let prom: RunningService | undefined;
  let rt: Runtime | undefined;
  try {
    const listen = await freePort();
    const base = await freePortRange(MAX);
    prom = await startPrometheus({ scrapeTargets: Array.from({ length: MAX }, (_, i) => `127.0.0.1:${base + i}`), scrapeInterval: '1s' });
    const file = join(dir.path, 'scalepilot.yaml');
    writeFileSync(file, `
syncPeriod: 1s
store: sqlite:${join(dir.path, 'sp.db')}
sources:
  prom: { type: prometheus, url: "${prom.url}" }
verify: { window: 8s, startupAllowance: 4s, coolOff: 60s }
services:${serviceYaml({ name: 'web', pool: 0, listen, portBase: base, dir: dir.path, env: { BROKEN_FLAG: flag } })}
`);
    const syncs: SyncResult[] = [];
    rt = await startRuntime(loadConfig(file), { dryRun: false, stateDir: dir.path, onSync: (r) => syncs.push(r) });
    await rt.controller.syncOnce('web');
    await waitForPromQuery(prom.url, 'up{job="targets"} == 1', (r) => r.length >= 1);
    // every replica started from now on is broken; the running one stays healthy
    writeFileSync(flag, 'x');
    rt.controller.start();
    const load = runLoadTest({ url: `http://127.0.0.1:${listen}/work`, model: 'open', profile: { start: 30, stages: [{ durationMs: 25_000, target: 30 }] }, maxConnections: 8 });
    await until('the failed change rolled back', 40_000, () => syncs.some((s) => s.verification?.rolledBack));
    const rolled = syncs.find((s) => s.verification?.rolledBack)!.verification!;
    assert.equal(rolled.status, 'failed');
    assert.equal(rolled.from, 1);
    assert.ok(rolled.to > 1);
    assert.match(rolled.reason, new RegExp(`^1 of ${rolled.to} replicas ready .* after the change 1 → ${rolled.to} \\(start-up allowance 4s\\)$`));
    await until('a decision held by the cool-off', 15_000, () => syncs.some((s) => s.decision?.reasonCode === 'VerificationCoolOff'));
    const r = await load;
    assert.equal(r.errors, 0, `zero requests lost: ${JSON.stringify(r.errorsByKind)} ${JSON.stringify(r.statusCodes)}`);
    assert.ok(r.requests > 300);

    const events = await rt.store.history('web', 0, { kinds: ['rollback'] });
    assert.equal(events.length, 1, 'rolled back once, then held');
    assert.equal(events[0]!.toReplicas, 1);
    assert.match(events[0]!.message!, /by verification \(1 of \d replicas ready/);
    const state = await rt.controller.provider('web')!.observe(rt.controller.policy('web')!.target);
    assert.equal(state.replicas, 1);
    const cool = syncs.find((s) => s.decision?.reasonCode === 'VerificationCoolOff')!.decision!;
    assert.match(cool.reason, /^hold at 1: scale-up cooling off until .* after a failed verification \(1 of \d replicas ready/);
    const exported = await rt.metrics.registry.getSingleMetricAsString('scalepilot_verification_failed');
    assert.match(exported, /scalepilot_verification_failed\{service="web"\} 1/);
    // the rollback counts in the rate limits like any applied scale
    assert.ok(rt.controller.history('web')!.scaleDownEvents.some((e) => e.change === rolled.to - 1));
  } finally {
    await rt?.close({ stopReplicas: true });
    await prom?.stop();
    dir.cleanup();
  }
});
