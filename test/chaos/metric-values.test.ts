// Values a real Prometheus returns that the replica arithmetic cannot use: 1.8e305 on an External metric (beyond
// any Kubernetes quantity; it used to throw "Infinity cannot be converted to a BigInt" on every sync), and negative
// values for a queue length and cpu. Each is a failed read of that metric with the reason recorded; the sync still
// decides (holding), other metrics are used, and a metric that may be negative stays valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { startRuntime, type Runtime } from '../../src/controller/runtime.js';
import { tempDir } from '../helpers/env.js';
import { startPrometheus, type RunningService } from '../helpers/services.js';

test('out-of-range and negative values from a real Prometheus are failed reads with the reason, not crashes or inputs', { timeout: 90_000 }, async () => {
  const dir = tempDir();
  let prom: RunningService | undefined;
  let rt: Runtime | undefined;
  try {
    prom = await startPrometheus({ scrapeTargets: [] });
    const file = join(dir.path, 'scalepilot.yaml');
    writeFileSync(file, `store: sqlite:${join(dir.path, 'sp.db')}
sources:
  prom: { type: prometheus, url: "${prom.url}" }
services:
  api:
    target: { provider: dryrun, replicas: 3 }
    minReplicas: 1
    maxReplicas: 10
    metrics:
      rps: { source: prom, query: "1.8e305" }
      jobs: { source: prom, query: "vector(-3)" }
      cpu: { source: prom, query: "vector(-50)" }
      lag: { source: prom, query: "vector(-7)" }
      ok: { source: prom, query: "vector(25)" }
    hpa:
      metrics:
        - type: External
          external: { metric: { name: rps }, target: { type: AverageValue, averageValue: "10" } }
        - type: External
          external: { metric: { name: ok }, target: { type: AverageValue, averageValue: "10" } }
    queue: { metric: jobs, targetPerReplica: 10 }
`);
    rt = await startRuntime(loadConfig(file), { dryRun: false, stateDir: dir.path });
    for (let i = 0; i < 2; i++) {
      const r = await rt.controller.syncOnce('api');
      assert.ok(r.decision, `sync ${i} decided: ${r.error}`);
      const errors = r.decision.errors.join('\n');
      assert.match(errors, /rps.*value 1\.8e\+305 is out of range \(beyond ±9\.22e\+15, the largest a Kubernetes quantity holds\)/);
      assert.match(errors, /jobs: .*value -3 is negative, which a queue length cannot be/);
      assert.match(errors, /cpu: .*value -50 is negative, which a cpu usage or utilization cannot be/);
      assert.doesNotMatch(errors, /lag|BigInt|RangeError/);
      assert.equal(r.values.lag, -7, 'a metric that may be negative is used as read');
      assert.equal(r.values.ok, 25);
      assert.equal(r.values.rps, undefined);
      // with an External metric unreadable the HPA does not scale down; the readable one (25 / 10 per replica) asks for 3
      assert.equal(r.decision.desiredReplicas, 3);
    }
    const [last] = await rt.store.history('api', 0, { kinds: ['decision'], limit: 1 });
    assert.deepEqual(Object.keys(last!.inputs!.failures!).sort(), ['cpu', 'jobs', 'rps']);
    assert.match(last!.inputs!.failures!.rps!, /out of range/);
    const text = await rt.metrics.registry.getSingleMetricAsString('scalepilot_metric_errors_total');
    assert.match(text, /metric_errors_total\{service="api",metric="rps"\} 1/);
  } finally {
    await rt?.close();
    await prom?.stop();
    dir.cleanup();
  }
});
