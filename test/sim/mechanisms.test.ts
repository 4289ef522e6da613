// Every mechanism decide() combines is driven by the simulator from the same config `run` reads: sustained
// rules, schedules, KEDA-style queue scaling, and predictive pre-scaling (linear and Holt-Winters).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { resolveSetup } from '../../src/sim/setup.js';
import { simulateService } from '../../src/sim/engine.js';

function policy(body: string) {
  return parseConfig(`
sources:
  prom: { type: prometheus, url: "http://127.0.0.1:9090" }
services:
  web:
    target: { provider: dryrun }
${body}
`, 'mechanisms.yaml').services.web!;
}

function run(p: ReturnType<typeof policy>, values: number[], initialReplicas: number, start = Date.UTC(2024, 0, 1)) {
  const { setup } = resolveSetup(p, new Set(), { initialReplicas, timeline: true });
  return simulateService(p, setup, { start, stepMs: 15_000, values: Float64Array.from(values) });
}

test('a sustained rule fires once its condition has held for `for:`, and again while it still holds', () => {
  const p = policy(`    minReplicas: 1
    maxReplicas: 10
    metrics:
      utilization: { source: prom, query: "avg(utilization)" }
    rules:
      - { name: hot, when: "utilization > 70", for: 1m, then: +1 }
    capacity: { rpsPerReplica: 100, startupDelay: 0s }`);
  // 150 rps from step 4 (t=60 s) on one replica of 100: 150 % utilization
  const r = run(p, [50, 50, 50, 50, ...new Array(12).fill(150)], 1);
  // breaching since t=60 s, firing at t=120 s (step 8): 2 replicas (75 %, still hot) then 3 (50 %)
  assert.deepEqual(Array.from(r.timeline!.desired), [1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 3, 3, 3]);
});

test('a schedule raises the floor for its window only', () => {
  const p = policy(`    minReplicas: 1
    maxReplicas: 10
    metrics:
      rps: { source: prom, query: "rate(http_requests_total[1m])", perPod: true }
    hpa:
      metrics:
        - type: Pods
          pods: { metric: { name: rps }, target: { type: AverageValue, averageValue: "100" } }
      behavior:
        scaleDown: { stabilizationWindowSeconds: 0 }
    schedules:
      - { name: morning, cron: "0 9 * * *", duration: 2m, minReplicas: 5 }
    capacity: { rpsPerReplica: 100, startupDelay: 0s }`);
  const r = run(p, new Array(20).fill(50), 1, Date.UTC(2024, 0, 1, 8, 58));
  // 08:58 + 8 steps = 09:00; two minutes = 8 steps
  assert.deepEqual(Array.from(r.timeline!.desired), [1, 1, 1, 1, 1, 1, 1, 1, 5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 1]);
});

test('queue scaling: a backlog wakes the service from zero, and it returns to zero after the cooldown', () => {
  const p = policy(`    minReplicas: 0
    maxReplicas: 10
    metrics:
      backlog: { source: prom, query: "sum(queue_depth)" }
    queue: { metric: backlog, targetPerReplica: 100, minReplicas: 0, cooldownPeriod: 1m }
    capacity: { rpsPerReplica: 10, startupDelay: 15s }`);
  const values = [0, 0, ...new Array(6).fill(20), ...new Array(16).fill(0)];
  const r = run(p, values, 0);
  const desired = Array.from(r.timeline!.desired);
  // 20 rps with nothing ready leaves 300 waiting after step 2; the queue is seen at step 3
  assert.deepEqual(desired.slice(0, 4), [0, 0, 0, 1]);
  assert.ok(Math.max(...desired) > 1, 'the backlog scales it beyond one replica');
  assert.equal(desired[desired.length - 1], 0);
  assert.ok(r.score.overCapacityMinutes > 0, 'work arrived while nothing was ready');
});

test('predictive pre-scaling (linear) asks for replicas before the HPA would, and misses the SLO less', () => {
  const body = (extra: string) => policy(`    minReplicas: 1
    maxReplicas: 30
    metrics:
      rps: { source: prom, query: "rate(http_requests_total[1m])", perPod: true }
      total_rps: { source: prom, query: "sum(rate(http_requests_total[1m]))" }
    hpa:
      metrics:
        - type: Pods
          pods: { metric: { name: rps }, target: { type: AverageValue, averageValue: "100" } }
${extra}
    capacity: { rpsPerReplica: 100, startupDelay: 60s }`);
  const ramp = Array.from({ length: 80 }, (_, k) => 100 + 20 * k);
  const reactive = run(body(''), ramp, 1);
  const ahead = run(body('    predictive: { metric: total_rps, model: linear, horizon: 2m, lookback: 10m, capacityPerReplica: 100 }'), ramp, 1);
  const a = Array.from(reactive.timeline!.desired);
  const b = Array.from(ahead.timeline!.desired);
  assert.ok(b.every((v, i) => v >= a[i]!), 'never fewer replicas than the HPA alone');
  assert.ok(b.some((v, i) => v > a[i]!), 'more replicas somewhere: the forecast led');
  assert.ok(ahead.score.violationMinutes < reactive.score.violationMinutes / 2, `${ahead.score.violationMinutes} vs ${reactive.score.violationMinutes}`);
});

test('predictive pre-scaling (Holt-Winters) learns a seasonal load and misses the SLO less', () => {
  const body = (extra: string) => policy(`    minReplicas: 1
    maxReplicas: 30
    metrics:
      rps: { source: prom, query: "rate(http_requests_total[1m])", perPod: true }
      total_rps: { source: prom, query: "sum(rate(http_requests_total[1m]))" }
    hpa:
      metrics:
        - type: Pods
          pods: { metric: { name: rps }, target: { type: AverageValue, averageValue: "100" } }
${extra}
    capacity: { rpsPerReplica: 100, startupDelay: 60s }`);
  // four hours of a 30-minute cycle
  const cycle = Array.from({ length: 960 }, (_, k) => 300 + 250 * Math.sin((2 * Math.PI * k) / 120));
  const reactive = run(body(''), cycle, 3);
  const seasonal = run(body('    predictive: { metric: total_rps, model: holt-winters, horizon: 5m, lookback: 2h, seasonLength: 30m, capacityPerReplica: 100 }'), cycle, 3);
  assert.ok(seasonal.score.violationMinutes < reactive.score.violationMinutes, `${seasonal.score.violationMinutes} vs ${reactive.score.violationMinutes}`);
  assert.equal(seasonal.decisionErrors.count, 0);
});
