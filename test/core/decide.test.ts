// decide(): the combined decision, hand-computed case by case (HPA arithmetic itself is tested in test/core/hpa).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type ServicePolicy } from '../../src/config/load.js';
import { decide, appendSeries } from '../../src/core/decide.js';
import { emptyHistory, type History, type Observation, type ObservedPod } from '../../src/core/types.js';

const T0 = Date.parse('2024-01-01T12:00:00Z');

function policy(service: string): ServicePolicy {
  const c = parseConfig(`sources: { p: { type: prometheus, url: "http://127.0.0.1:9" } }\nservices:\n${service.replace(/^/gm, '  ')}`, 'decide.yaml');
  return Object.values(c.services)[0]!;
}

function pods(n: number, cpuMilli: number | null, reqMilli = 1000): ObservedPod[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `p${i}`,
    phase: 'Running' as const,
    ready: true,
    startTime: T0 - 3600_000,
    readyTransitionTime: T0 - 3500_000,
    requests: { cpu: reqMilli },
    usage: cpuMilli === null ? {} : { cpu: cpuMilli },
  }));
}

function obs(current: number, o: Partial<Observation> = {}): Observation {
  return { currentReplicas: current, pods: [], values: {}, failures: {}, ...o };
}

const hpaCpu60 = `
api:
  target: { provider: dryrun }
  minReplicas: 1
  maxReplicas: 10
  metrics: { cpu: { source: p, query: cpu, perPod: true }, mem: { source: p, query: memory, perPod: true } }
  hpa:
    metrics:
      - type: Resource
        resource: { name: cpu, target: { type: Utilization, averageUtilization: 60 } }
`;

test('HPA cpu: 3 pods at 90% of request with a 60% target → ceil(1.5 × 3) = 5 (legacy limit max(2×3, 4) = 6 does not bind)', () => {
  const d = decide(policy(hpaCpu60), obs(3, { pods: pods(3, 900) }), emptyHistory(), T0);
  assert.equal(d.desiredReplicas, 5);
  assert.equal(d.action, 'scale-up');
  assert.equal(d.proposals[0]!.replicas, 5);
  assert.match(d.reason, /^scale up 3 → 5: cpu utilization 90% of request vs target 60% → 5 replicas$/);
});

test('HPA cpu with behavior: 1 pod per 15 s caps the same proposal at 4 (ScaleUpLimit)', () => {
  const p = policy(hpaCpu60 + `    behavior:\n      scaleUp: { policies: [ { type: Pods, value: 1, periodSeconds: 15 } ] }\n`);
  const d = decide(p, obs(3, { pods: pods(3, 900) }), emptyHistory(), T0);
  assert.equal(d.desiredReplicas, 4);
  assert.equal(d.reasonCode, 'ScaleUpLimit');
  assert.match(d.reason, /scale-up rate limited from 5 to 4/);
  // a scale-up event 10 s ago already used the policy's budget
  const h: History = { ...emptyHistory(), recommendations: [{ time: T0 - 10_000, replicas: 3 }], scaleUpEvents: [{ t: T0 - 10_000, change: 1 }] };
  const d2 = decide(p, obs(3, { pods: pods(3, 900) }), h, T0);
  assert.equal(d2.desiredReplicas, 3);
});

test('downscale stabilization: a recommendation of 5 within 300 s holds a proposal of 2', () => {
  const p = policy(hpaCpu60);
  const h: History = { ...emptyHistory(), recommendations: [{ time: T0 - 200_000, replicas: 5 }, { time: T0 - 100_000, replicas: 4 }] };
  // 5 pods at 20% of request: ratio 1/3 → ceil(5/3) = 2
  const d = decide(p, obs(5, { pods: pods(5, 200) }), h, T0);
  assert.equal(d.recommendation, 2);
  assert.equal(d.desiredReplicas, 5);
  assert.equal(d.action, 'hold');
  assert.match(d.reason, /held by the stabilization window \(highest recent recommendation 5\)/);
  // once the 5 is older than the window, the highest remaining (4) applies
  const d2 = decide(p, obs(5, { pods: pods(5, 200) }), h, T0 + 101_000);
  assert.equal(d2.desiredReplicas, 4);
});

test('a failed metric read holds the current count and says why', () => {
  const d = decide(policy(hpaCpu60), obs(4, { pods: pods(4, null), failures: { cpu: 'connection refused' } }), emptyHistory(), T0);
  assert.equal(d.desiredReplicas, 4);
  assert.equal(d.action, 'hold');
  assert.match(d.errors.join(' '), /connection refused/);
});

test('an infinite sample (one that overflowed on its way in) fails its metric: the sync holds and says why, it does not throw', () => {
  for (const v of [Infinity, -Infinity]) {
    const ps = pods(3, 500);
    ps[1]!.usage = { cpu: v };
    const d = decide(policy(hpaCpu60), obs(3, { pods: ps }), emptyHistory(), T0);
    assert.equal(d.desiredReplicas, 3);
    assert.equal(d.action, 'hold');
    assert.match(d.errors.join(' '), /a pod sample is out of range \(not a finite number\)/);
  }
  // a request that overflowed fails utilization the same way
  const ps = pods(3, 500);
  ps[0]!.requests = { cpu: Infinity };
  const d = decide(policy(hpaCpu60), obs(3, { pods: ps }), emptyHistory(), T0);
  assert.equal(d.action, 'hold');
  assert.match(d.errors.join(' '), /a pod request is out of range/);
});

test('two metrics: scale-down is blocked while one of them is invalid, scale-up is not', () => {
  const p = policy(hpaCpu60.replace('mem: { source: p, query: memory, perPod: true }', 'qps: { source: p, query: qps, perPod: true }').replace('    metrics:\n      - type: Resource', '    metrics:\n      - type: Pods\n        pods: { metric: { name: qps }, target: { type: AverageValue, averageValue: "10" } }\n      - type: Resource'));
  const low = pods(4, 100).map((x) => ({ ...x, metrics: {} }));
  const down = decide(p, obs(4, { pods: low }), emptyHistory(), T0);
  assert.equal(down.desiredReplicas, 4, 'qps is missing for every pod, so cpu alone may not scale down');
  const high = pods(4, 1200).map((x) => ({ ...x, metrics: {} }));
  const up = decide(p, obs(4, { pods: high }), emptyHistory(), T0);
  assert.equal(up.desiredReplicas, 8); // 120/60 = 2 → 8
});

const rules = `
api:
  target: { provider: dryrun }
  minReplicas: 1
  maxReplicas: 6
  metrics: { cpu: { source: p, query: cpu } }
  rules:
    - { name: cpu-high, when: "cpu > 70", for: 10m, then: +1, cooldown: 5m }
    - { name: cpu-low, when: "cpu < 30", for: 30m, then: -1 }
`;

function series(h: History, values: number[], stepMs: number, end: number): void {
  values.forEach((v, i) => appendSeries(h, { cpu: v }, end - (values.length - 1 - i) * stepMs, 3600_000 * 2));
}

test('sustained rule: cpu > 70 for 10m fires only when every sample of the window breaches', () => {
  const p = policy(rules);
  const h = emptyHistory();
  series(h, Array(41).fill(80), 15_000, T0); // 10 minutes at 15 s
  const d = decide(p, obs(3), h, T0);
  assert.equal(d.desiredReplicas, 4);
  assert.equal(d.proposals.find((x) => x.name === 'cpu-high')!.replicas, 4);
  assert.ok(d.lastFired['cpu-high'] === T0, 'cooldown starts when the rule acted');

  const h2 = emptyHistory();
  series(h2, [...Array(20).fill(80), 65, ...Array(20).fill(80)], 15_000, T0); // one dip resets the window
  const d2 = decide(p, obs(3), h2, T0);
  assert.equal(d2.desiredReplicas, 3);
  assert.equal(d2.lastFired['cpu-high'], undefined);

  // the cooldown holds the next firing
  const d3 = decide(p, obs(4), { ...h, lastFired: d.lastFired }, T0 + 60_000);
  assert.equal(d3.desiredReplicas, 4);
});

test('rules-only services scale down on the rule, without the HPA legacy 5-minute window', () => {
  const p = policy(rules);
  const h = emptyHistory();
  series(h, Array(121).fill(20), 15_000, T0);
  h.recommendations.push({ time: T0 - 60_000, replicas: 3 });
  const d = decide(p, obs(3), h, T0);
  assert.equal(d.desiredReplicas, 2);
  assert.equal(d.action, 'scale-down');
});

test('queue (KEDA): 250 items at 100 per replica → 3; empty queue past the cooldown → 0; fallback after more than 3 failures', () => {
  const p = policy(`
api:
  target: { provider: dryrun }
  minReplicas: 1
  maxReplicas: 20
  metrics: { depth: { source: p, query: jobs } }
  queue: { metric: depth, targetPerReplica: 100, minReplicas: 0, cooldownPeriod: 5m, fallback: { failureThreshold: 3, replicas: 4 } }
`);
  const up = decide(p, obs(1, { values: { depth: 250 } }), emptyHistory(), T0);
  assert.equal(up.desiredReplicas, 3);
  const idle = decide(p, obs(2, { values: { depth: 0 } }), { ...emptyHistory(), queue: { lastActiveTime: T0 - 301_000, consecutiveFailures: 0 } }, T0);
  assert.equal(idle.desiredReplicas, 0);
  const wake = decide(p, obs(0, { values: { depth: 5 } }), { ...emptyHistory(), queue: { lastActiveTime: T0 - 900_000, consecutiveFailures: 0 } }, T0);
  assert.equal(wake.desiredReplicas, 1);
  let h: History = emptyHistory();
  let d = up;
  const seen: number[] = [];
  for (let i = 0; i < 4; i++) {
    d = decide(p, obs(2, { failures: { depth: 'redis: ECONNREFUSED' } }), h, T0 + i * 15_000);
    h = { ...h, queue: d.queue! };
    seen.push(d.desiredReplicas);
  }
  // KEDA applies fallback once failures exceed failureThreshold; until then the replicas are held
  assert.deepEqual(seen, [2, 2, 2, 4]);
});

test('an active schedule raises the floor above what the metrics ask for', () => {
  const p = policy(hpaCpu60 + `  schedules:\n    - { name: business-hours, cron: "0 8 * * 1-5", duration: 10h, minReplicas: 6 }\n`);
  const monday10 = Date.parse('2024-01-01T10:00:00Z');
  const d = decide(p, obs(2, { pods: pods(2, 600) }), emptyHistory(), monday10);
  assert.equal(d.desiredReplicas, 6);
  assert.match(d.reason, /raised to 6 by schedule "business-hours"/);
  const saturday = Date.parse('2024-01-06T10:00:00Z');
  assert.equal(decide(p, obs(2, { pods: pods(2, 600) }), emptyHistory(), saturday).desiredReplicas, 2);
});

test('HPA and a rule together: the larger proposal wins', () => {
  const p = policy(hpaCpu60 + `  rules:\n    - { name: burst, when: "cpu > 50", for: 0s, then: x3 }\n`);
  const h = emptyHistory();
  appendSeries(h, { cpu: 75 }, T0, 3600_000);
  const d = decide(p, obs(2, { pods: pods(2, 750), values: { cpu: 75 } }), h, T0);
  // HPA: 75/60 = 1.25 → 3; rule: ×3 → 6; legacy limit max(4, 4) = 4
  assert.equal(d.proposed, 6);
  assert.equal(d.desiredReplicas, 4);
  assert.equal(d.reasonCode, 'ScaleUpLimit');
});

test('zero replicas without queue scaling disables scaling (Kubernetes ScalingDisabled)', () => {
  const d = decide(policy(hpaCpu60), obs(0), emptyHistory(), T0);
  assert.equal(d.desiredReplicas, 0);
  assert.equal(d.reasonCode, 'ScalingDisabled');
});

test('a vertical rule proposes new requests, capped by its max', () => {
  const p = policy(`
api:
  target: { provider: dryrun }
  maxReplicas: 4
  resources: { requests: { cpu: 500m, memory: 256Mi } }
  metrics: { mem: { source: p, query: memory } }
  rules:
    - { name: mem-high, when: "mem > 90", then: "memory requests +50% max 512Mi" }
`);
  const h = emptyHistory();
  appendSeries(h, { mem: 95 }, T0, 3600_000);
  const d = decide(p, obs(2, { values: { mem: 95 }, resources: { requests: { cpu: '500m', memory: '256Mi' } } }), h, T0);
  assert.equal(d.action, 'resize');
  assert.deepEqual(d.resize?.requests, { cpu: '500m', memory: '384Mi' });
  const d2 = decide(p, obs(2, { values: { mem: 95 }, resources: { requests: { cpu: '500m', memory: '448Mi' } } }), h, T0);
  assert.equal(d2.resize?.requests?.memory, '512Mi');
});
