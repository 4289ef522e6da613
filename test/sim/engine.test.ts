// Replica timelines of decide() driven by the workload model, against hand-computed Kubernetes behaviour:
// a scale-up rate policy, a scale-down stabilization window, and start-up + readiness delays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { simulateService } from '../../src/sim/engine.js';
import { resolveSetup } from '../../src/sim/setup.js';
import { FLAG_OVER_CAPACITY } from '../../src/sim/types.js';

/** One service `web` with a Pods rps target (no cpu start-up handling in the way of hand arithmetic). */
function policy(extra: string, opts: { target?: number; min?: number; max?: number; startup?: string; readiness?: string } = {}) {
  const text = `
sources:
  prom: { type: prometheus, url: "http://127.0.0.1:9090" }
services:
  web:
    target: { provider: dryrun }
    minReplicas: ${opts.min ?? 1}
    maxReplicas: ${opts.max ?? 20}
    metrics:
      rps: { source: prom, query: "sum(rate(http_requests_total[1m]))", perPod: true }
    hpa:
      metrics:
        - type: Pods
          pods: { metric: { name: rps }, target: { type: AverageValue, averageValue: "${opts.target ?? 50}" } }
${extra}
    capacity: { rpsPerReplica: 100, startupDelay: ${opts.startup ?? '0s'}, readinessDelay: ${opts.readiness ?? '0s'} }
`;
  return parseConfig(text, 'web.yaml').services.web!;
}

function run(p: ReturnType<typeof policy>, values: number[], initialReplicas: number) {
  const { setup } = resolveSetup(p, new Set(), { initialReplicas, timeline: true });
  const load = { start: Date.UTC(2024, 0, 1), stepMs: 15_000, values: Float64Array.from(values) };
  return simulateService(p, setup, load);
}

test('scale-up rate policy: 4 pods per 15 s goes 1 → 5 → 9 → 13 → 17 → 20 (max)', () => {
  const p = policy(`      behavior:
        scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: Max, policies: [{ type: Pods, value: 4, periodSeconds: 15 }] }`);
  const r = run(p, new Array(8).fill(2000), 1);
  const tl = r.timeline!;
  assert.deepEqual(Array.from(tl.desired), [5, 9, 13, 17, 20, 20, 20, 20]);
  assert.deepEqual(Array.from(tl.replicas), [5, 9, 13, 17, 20, 20, 20, 20]);
  // no start-up delay: a replica asked for at one step serves from the next
  assert.deepEqual(Array.from(tl.ready), [1, 5, 9, 13, 17, 20, 20, 20]);
  assert.equal(r.score.scaleUps, 5);
  assert.equal(r.score.scaleDowns, 0);
  assert.equal(r.score.reversals, 0);
  assert.equal(r.score.peakReplicas, 20);
  assert.equal(r.score.minutesAtMax, 4 * 0.25);
  // 2000 rps needs 20 ready replicas of 100: every step before that is over capacity
  assert.deepEqual(Array.from(tl.flags, (f) => (f & FLAG_OVER_CAPACITY ? 1 : 0)), [1, 1, 1, 1, 1, 0, 0, 0]);
  assert.equal(r.score.overCapacityMinutes, 5 * 0.25);
  assert.equal(r.decisionErrors.count, 0);
});

test('scale-down stabilization window: the drop is acted on a window after the last higher recommendation', () => {
  const p = policy(`      behavior:
        scaleDown: { stabilizationWindowSeconds: 60 }`, { target: 100 });
  // 1000 rps on 10 replicas is exactly on target; at step 8 the load drops to 200 rps (2 replicas' worth)
  const values = [...new Array(8).fill(1000), ...new Array(8).fill(200)];
  const r = run(p, values, 10);
  const tl = r.timeline!;
  // last recommendation of 10 at step 7 (t=105 s); it leaves the 60 s window at step 11 (t=165 s): 165-60 = 105, not after it
  assert.deepEqual(Array.from(tl.desired), [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 2, 2, 2, 2, 2]);
  assert.deepEqual(Array.from(tl.ready), [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 2, 2, 2, 2, 2]);
  assert.equal(r.score.scaleDowns, 1);
  // replica-hours: 11 steps of 10 replicas and 5 of 2, 15 s each
  assert.equal(r.score.replicaHours, ((11 * 10 + 5 * 2) * 15) / 3600);

  const longer = run(policy(`      behavior:
        scaleDown: { stabilizationWindowSeconds: 120 }`, { target: 100 }), values, 10);
  const firstDown = Array.from(longer.timeline!.desired).indexOf(2);
  assert.equal(firstDown, 15, 'a 120 s window delays the same drop by four more steps');
});

test('start-up and readiness delay: added replicas only add capacity once ready', () => {
  const p = policy('', { target: 100, startup: '30s', readiness: '15s' });
  // 100 rps, then 400 rps from step 2 (t = 30 s)
  const r = run(p, [100, 100, 400, 400, 400, 400, 400, 400], 1);
  const tl = r.timeline!;
  assert.deepEqual(Array.from(tl.desired), [1, 1, 4, 4, 4, 4, 4, 4]);
  assert.deepEqual(Array.from(tl.replicas), [1, 1, 4, 4, 4, 4, 4, 4]);
  // asked for at t=30 s: Pending until 60 s, Running but not ready until 75 s (step 5)
  assert.deepEqual(Array.from(tl.ready), [1, 1, 1, 1, 1, 4, 4, 4]);
  assert.deepEqual(Array.from(tl.utilization), [100, 100, 400, 400, 400, 100, 100, 100]);
  assert.equal(r.score.overCapacityMinutes, 3 * 0.25);
  assert.equal(r.score.violationMinutes, 3 * 0.25);
  // starting replicas are paid for: 2 steps of 1 and 6 of 4
  assert.equal(r.score.replicaHours, ((2 + 24) * 15) / 3600);
});

test('a step without trace data is a failed read for decide() and is left out of the score', () => {
  const p = policy('', { target: 100 });
  const r = run(p, [200, 200, Number.NaN, 200], 2);
  assert.equal(r.score.noDataSteps, 1);
  assert.equal(r.score.scoredSteps, 3);
  assert.equal(r.score.replicaHours, (3 * 2 * 15) / 3600);
  // decide() saw a failed read at the no-data step: expected, so counted apart from errors with data
  assert.equal(r.decisionErrors.atNoData, 1);
  assert.equal(r.decisionErrors.count, 0);
  assert.deepEqual(Array.from(r.timeline!.desired), [2, 2, 2, 2]);
});

test('direction reversals count flapping', () => {
  const p = policy(`      behavior:
        scaleDown: { stabilizationWindowSeconds: 0 }`, { target: 100 });
  // up, down, up, down: three reversals
  const r = run(p, [100, 300, 100, 300, 100], 1);
  assert.deepEqual(Array.from(r.timeline!.desired), [1, 3, 1, 3, 1]);
  assert.equal(r.score.scaleUps, 2);
  assert.equal(r.score.scaleDowns, 2);
  assert.equal(r.score.reversals, 3);
});

test('stopAfterViolationMinutes: the replay stops at the step that exceeds it, and says so', () => {
  const p = policy(`      behavior:
        scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: Max, policies: [{ type: Pods, value: 4, periodSeconds: 15 }] }`);
  const { setup } = resolveSetup(p, new Set(), { initialReplicas: 1, timeline: false });
  // 2000 rps: over capacity for the first 5 steps of 15 s (see the scale-up test above), then fine
  const load = { start: Date.UTC(2024, 0, 1), stepMs: 15_000, values: Float64Array.from(new Array(8).fill(2000)) };
  const full = simulateService(p, setup, load);
  assert.equal(full.stoppedAt, undefined);
  assert.equal(full.score.violationMinutes, 5 * 0.25);
  const stopped = simulateService(p, setup, load, { stopAfterViolationMinutes: 0.5 });
  // 0.75 min (three steps) is the first count above 0.5
  assert.equal(stopped.stoppedAt, 2);
  assert.equal(stopped.score.violationMinutes, 0.75);
  // steps not yet scored do not count: with scoring from step 4, one violation step (0.25 min) stays under the limit
  const late = simulateService(p, setup, load, { stopAfterViolationMinutes: 0.5, scoreFrom: 4 });
  assert.equal(late.stoppedAt, undefined);
  assert.equal(late.score.violationMinutes, 0.25);
  // a limit that is never exceeded changes nothing
  assert.deepEqual(simulateService(p, setup, load, { stopAfterViolationMinutes: 10 }), full);
});

test('splitAt scores the parts apart, with the least spare capacity each saw, on both replay paths', async () => {
  const { parseConfig } = await import('../../src/config/load.js');
  const { resolveSetup } = await import('../../src/sim/setup.js');
  const { simulateService } = await import('../../src/sim/engine.js');
  const policy = parseConfig(`
sources: { procs: { type: process } }
services:
  web:
    target: { provider: dryrun }
    minReplicas: 3
    maxReplicas: 3
    resources: { requests: { cpu: "1" } }
    metrics: { cpu: { source: procs, query: cpu, perPod: true } }
    hpa: { metrics: [ { type: Resource, resource: { name: cpu, target: { type: Utilization, averageUtilization: 70 } } } ] }
    capacity: { rpsPerReplica: 100, startupDelay: 30s }
    slo: { maxUtilization: 90 }
`, 'split.yaml').services.web!;
  const { setup } = resolveSetup(policy, new Set(), { initialReplicas: 3 });
  // 100 rps, 150 rps at step 3 (part 1), a gap at step 5 and 300 rps at step 8 (part 2); scored from step 2, split at 6
  const values = Float64Array.from([100, 100, 100, 150, 100, Number.NaN, 100, 100, 300, 100]);
  const load = { start: Date.UTC(2024, 0, 1), stepMs: 15_000, values };
  for (const kernel of [true, false]) {
    const r = simulateService(policy, setup, load, { scoreFrom: 2, splitAt: [6], kernel });
    const [a, b] = r.parts!;
    assert.equal(r.parts!.length, 2);
    // 3 ready × 100 rps at 90%: 270 rps of room; 150 rps leaves 1.8×, 300 rps 0.9× (a violation)
    assert.deepEqual({ ...a, minSlack: Math.round(a.minSlack * 1e9) / 1e9 }, { scoredSteps: 3, violationSteps: 0, replicaSteps: 9, minSlack: 1.8 }, `kernel ${kernel}`);
    assert.deepEqual({ ...b, minSlack: Math.round(b.minSlack * 1e9) / 1e9 }, { scoredSteps: 4, violationSteps: 1, replicaSteps: 12, minSlack: 0.9 }, `kernel ${kernel}`);
    assert.equal(r.score.violationMinutes * 4, a.violationSteps + b.violationSteps);
    // cut again at 8: the second part's violation and its tightest step move to the third
    const three = simulateService(policy, setup, load, { scoreFrom: 2, splitAt: [6, 8], kernel }).parts!;
    assert.deepEqual(three.map((p) => [p.scoredSteps, p.violationSteps, p.replicaSteps, Math.round(p.minSlack * 1e9) / 1e9]), [[3, 0, 9, 1.8], [2, 0, 6, 2.7], [2, 1, 6, 0.9]], `kernel ${kernel}`);
  }
});
