// Many services over worker threads give exactly the single-thread results, in task order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { resolveSetup } from '../../src/sim/setup.js';
import { runInline, simulateMany, SimPool, type SimTask } from '../../src/sim/pool.js';

const cfg = parseConfig(`
sources:
  procs: { type: process }
  prom: { type: prometheus, url: "http://127.0.0.1:9090" }
services:
  web:
    target: { provider: dryrun }
    minReplicas: 1
    maxReplicas: 30
    resources: { requests: { cpu: 500m } }
    metrics:
      cpu: { source: procs, query: cpu, perPod: true }
    hpa:
      metrics:
        - type: Resource
          resource: { name: cpu, target: { type: Utilization, averageUtilization: 60 } }
      behavior:
        scaleDown: { stabilizationWindowSeconds: 120 }
    capacity: { rpsPerReplica: 100, startupDelay: 30s, readinessDelay: 15s }
    slo: { maxUtilization: 85 }
  api:
    target: { provider: dryrun }
    minReplicas: 2
    maxReplicas: 12
    metrics:
      rps: { source: prom, query: "sum(rate(http_requests_total[1m]))" }
    rules:
      - { name: busy, when: "rps > 400", for: 1m, then: +2, cooldown: 2m }
      - { name: idle, when: "rps < 150", for: 5m, then: -1, cooldown: 1m }
    capacity: { rpsPerReplica: 80 }
`, 'pool.yaml');

function task(i: number): SimTask {
  const names = ['web', 'api'];
  const policy = cfg.services[names[i % 2]!]!;
  const n = 600 + 37 * i;
  const values = new Float64Array(n);
  for (let k = 0; k < n; k++) values[k] = Math.max(0, 300 + 250 * Math.sin((k + 13 * i) / 40) + (k % 97 === 0 ? 600 : 0));
  values[50 + i] = Number.NaN; // a no-data step in each
  const { setup } = resolveSetup(policy, new Set(), { timeline: true, firstLoad: values[0]! });
  return { policy, setup, load: { start: Date.UTC(2024, 0, 1), stepMs: 15_000, values }, label: `task ${i}` };
}

test('worker-thread results equal single-thread results, in order', async () => {
  const count = 7;
  const single = runInline(count, task);
  const threaded = await simulateMany(count, task, { workers: 2 });
  assert.equal(threaded.length, count);
  assert.deepEqual(threaded.map((r) => r.policy), single.map((r) => r.policy));
  assert.deepEqual(threaded, single);
  // the runs did something worth comparing
  assert.ok(single.some((r) => r.score.scaleUps > 0 && r.score.scaleDowns > 0));
  assert.ok(single.every((r) => r.score.noDataSteps === 1));
});

test('a pool is reusable across batches and reports progress', async () => {
  const pool = new SimPool(2);
  try {
    const seen: number[] = [];
    const a = await pool.run(3, task, (done) => seen.push(done));
    const b = await pool.run(2, (i) => task(i + 3));
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual([...a, ...b].map((r) => r.policy), ['task 0', 'task 1', 'task 2', 'task 3', 'task 4']);
  } finally {
    await pool.close();
  }
});

test('a failing task fails the batch with the worker\'s message', async () => {
  const pool = new SimPool(2);
  try {
    await assert.rejects(
      pool.run(2, (i) => {
        const t = task(i);
        // a task the engine cannot run (no policy) throws inside the worker
        return i === 1 ? { ...t, policy: null as unknown as SimTask['policy'] } : t;
      }),
      /task 1 failed in a worker/,
    );
  } finally {
    await pool.close();
  }
});
