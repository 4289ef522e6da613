// End to end on real parts: Prometheus scraping the sample service's replicas, nginx in front of them, the local
// provider, real load. Scale-up under load; holding while Prometheus is down; reload onto a new Prometheus;
// scale-down after the behavior's window with zero failed requests while replicas drain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { startRuntime, type Runtime } from '../../src/controller/runtime.js';
import type { SyncResult } from '../../src/controller/controller.js';
import { runLoadTest } from '../../src/loadtest/engine.js';
import { sampleServicePath } from '../../src/controller/demo.js';
import { freePort, freePortRange, requireBinary, sleep, tempDir } from '../helpers/env.js';
import { startPrometheus, waitForPromQuery, type RunningService } from '../helpers/services.js';

const MAX = 4;

function configYaml(o: { promUrl: string; listen: number; portBase: number; dir: string }): string {
  return `
syncPeriod: 1s
store: sqlite:${join(o.dir, 'sp.db')}
sources:
  prom: { type: prometheus, url: "${o.promUrl}" }
services:
  web:
    target:
      provider: local
      command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(sampleServicePath())}]
      listen: 127.0.0.1:${o.listen}
      portBase: ${o.portBase}
      replicas: 1
      proxy: nginx
      healthPath: /healthz
      stateDir: ${JSON.stringify(join(o.dir, 'web'))}
    minReplicas: 1
    maxReplicas: ${MAX}
    drainTimeout: 10s
    metrics:
      rps: { source: prom, query: 'sum(rate(http_requests_total[10s]))' }
    hpa:
      metrics:
        - type: External
          external: { metric: { name: rps }, target: { type: AverageValue, averageValue: "15" } }
      behavior:
        scaleUp: { stabilizationWindowSeconds: 0, policies: [ { type: Pods, value: 4, periodSeconds: 1 } ] }
        scaleDown: { stabilizationWindowSeconds: 8, policies: [ { type: Pods, value: 1, periodSeconds: 2 } ] }
`;
}

async function until(what: string, timeoutMs: number, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(200);
  }
}

test('controller on Prometheus + nginx + local replicas: scale up, hold without metrics, scale down without failures', { timeout: 180_000 }, async () => {
  requireBinary('/usr/sbin/nginx', 'nginx');
  requireBinary('/usr/bin/prometheus', 'prometheus');
  const dir = tempDir();
  const listen = await freePort();
  const portBase = await freePortRange(MAX);
  const targets = Array.from({ length: MAX }, (_, i) => `127.0.0.1:${portBase + i}`);
  let prom: RunningService | undefined = await startPrometheus({ scrapeTargets: targets, scrapeInterval: '1s' });
  const file = join(dir.path, 'scalepilot.yaml');
  writeFileSync(file, configYaml({ promUrl: prom.url, listen, portBase, dir: dir.path }));
  const syncs: SyncResult[] = [];
  let rt: Runtime | undefined;
  try {
    rt = await startRuntime(loadConfig(file), { dryRun: false, stateDir: dir.path, onSync: (r) => syncs.push(r) });
    await rt.controller.syncOnce('web');
    await waitForPromQuery(prom.url, 'up{job="targets"} == 1', (r) => r.length >= 1);
    rt.controller.start();
    const replicas = () => syncs.at(-1)?.state?.replicas ?? 0;

    // 1. load: 60 rps against a per-replica target of 15 → 4 replicas (maxReplicas)
    const load = runLoadTest({ url: `http://127.0.0.1:${listen}/work?ms=2`, model: 'open', profile: { start: 60, stages: [{ durationMs: 25_000, target: 60 }] }, maxConnections: 32 });
    await until('scale-up to 4 replicas under load', 25_000, () => replicas() >= MAX);
    const up = await load;
    assert.equal(up.errors, 0, `no failed requests during scale-up: ${JSON.stringify(up.errorsByKind)}`);
    const upDecision = syncs.find((s) => s.decision?.action === 'scale-up')!.decision!;
    assert.match(upDecision.reason, /external metric rps/);

    // 2. Prometheus dies while the load is gone: every sync must hold (no scale-down on missing data)
    await prom.stop();
    prom = undefined;
    const mark = syncs.length;
    await sleep(12_000); // longer than the scale-down window
    const during = syncs.slice(mark).filter((s) => s.decision);
    assert.ok(during.length >= 3, `syncs while Prometheus is down: ${during.length}`);
    for (const s of during) {
      assert.equal(s.decision!.desiredReplicas, MAX, `held at ${MAX}: ${s.decision!.reason}`);
      assert.ok(s.decision!.errors.some((e) => /prom/i.test(e)), `the failure is reported: ${s.decision!.errors.join('; ')}`);
    }
    const errs = await rt.store.history('web', 0, { kinds: ['decision'] });
    assert.ok(errs.some((e) => Object.keys(e.inputs?.failures ?? {}).includes('rps')), 'the failed read is recorded');
    const exported = await rt.metrics.registry.getSingleMetricAsString('scalepilot_metric_errors_total');
    assert.match(exported, /scalepilot_metric_errors_total\{service="web",metric="rps"\} [1-9]/);

    // 3. a new Prometheus; the config file changes and is reloaded; a light load keeps running while replicas drain
    prom = await startPrometheus({ scrapeTargets: targets, scrapeInterval: '1s' });
    writeFileSync(file, configYaml({ promUrl: prom.url, listen, portBase, dir: dir.path }));
    const reloaded = await rt.reload();
    assert.ok(reloaded.ok, reloaded.message);
    const light = runLoadTest({ url: `http://127.0.0.1:${listen}/work?ms=2`, model: 'open', profile: { start: 8, stages: [{ durationMs: 35_000, target: 8 }] }, maxConnections: 16 });
    await until('scale-down to 1 replica after the window', 40_000, () => replicas() === 1);
    const down = await light;
    assert.equal(down.errors, 0, `zero failed requests while replicas drained: ${JSON.stringify(down.errorsByKind)} ${JSON.stringify(down.statusCodes)}`);
    assert.ok(down.requests > 100);
    const scaleDowns = (await rt.store.history('web', 0, { kinds: ['scale'] })).filter((e) => e.toReplicas! < e.fromReplicas!);
    assert.ok(scaleDowns.length >= 1 && scaleDowns.every((e) => e.fromReplicas! - e.toReplicas! === 1), 'one replica per 2 s policy');
  } finally {
    await rt?.close({ stopReplicas: true });
    await prom?.stop();
    dir.cleanup();
  }
});

test('an invalid new config is rejected on reload and the running one stays', async () => {
  const dir = tempDir();
  const file = join(dir.path, 'scalepilot.yaml');
  writeFileSync(file, `store: sqlite:${join(dir.path, 'x.db')}\nservices:\n  api:\n    target: { provider: dryrun, replicas: 2 }\n    maxReplicas: 5\n`);
  const rt = await startRuntime(loadConfig(file), { dryRun: false, stateDir: dir.path });
  try {
    writeFileSync(file, `services:\n  api:\n    target: { provider: dryrun }\n    minReplicas: 6\n    maxReplicas: 5\n`);
    const r = await rt.reload();
    assert.equal(r.ok, false);
    assert.match(r.message, /scalepilot\.yaml:5:\d+: services\.api\.maxReplicas: maxReplicas \(5\) must be >= minReplicas \(6\)/);
    assert.equal(rt.config.services.api!.maxReplicas, 5);
    assert.equal(rt.controller.policy('api')!.minReplicas, 1);
  } finally {
    await rt.close();
    dir.cleanup();
  }
});
