// The workload model's arithmetic and replica life cycle, and the clairvoyant bound on hand-computed traces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Workload, neededReplicas, p95Of, sloFlags, utilizationOf } from '../../src/sim/workload.js';
import { clairvoyantBound } from '../../src/sim/bound.js';
import { FLAG_OVER_CAPACITY, FLAG_SLOW, type MetricBinding, type SimSetup, type WorkloadParams } from '../../src/sim/types.js';

const w = (o: Partial<WorkloadParams> = {}): WorkloadParams => ({
  capacityPerReplica: 100,
  capacitySource: 'test',
  startupDelayMs: 30_000,
  readinessDelayMs: 15_000,
  cpuRequestCores: 0.5,
  cpuLimitRatio: Number.POSITIVE_INFINITY,
  ...o,
});

test('utilization and the p95 model', () => {
  const cases: Array<[load: number, ready: number, util: number]> = [
    [0, 0, 0],
    [50, 0, Infinity],
    [150, 2, 0.75],
    [300, 2, 1.5],
  ];
  for (const [load, ready, u] of cases) assert.equal(utilizationOf(load, ready, 100), u, `${load} rps on ${ready}`);
  const lat = { baseSeconds: 0.05, fullSeconds: 1 };
  assert.equal(p95Of(0, lat), 0.05);
  assert.equal(p95Of(0.5, lat), 0.1);
  assert.equal(p95Of(0.99, lat), 1); // 5 s by M/M/1, capped at the p95 at full
  assert.equal(p95Of(3, lat), 1);
  assert.ok(Number.isNaN(p95Of(0.5, undefined)));
});

test('neededReplicas: the fewest ready replicas with no SLO flag (table)', () => {
  const lat = { baseSeconds: 0.05, fullSeconds: 1 };
  const cases: Array<{ load: number; slo: { maxUtilization: number; p95Seconds?: number }; latency?: typeof lat; need: number }> = [
    { load: 0, slo: { maxUtilization: 1 }, need: 0 },
    { load: 1, slo: { maxUtilization: 1 }, need: 1 },
    { load: 100, slo: { maxUtilization: 1 }, need: 1 },
    { load: 100.01, slo: { maxUtilization: 1 }, need: 2 },
    { load: 450, slo: { maxUtilization: 0.9 }, need: 5 },
    { load: 451, slo: { maxUtilization: 0.9 }, need: 6 },
    // p95 <= 100 ms with base 50 ms: utilization at most 50 %
    { load: 450, slo: { maxUtilization: 0.9, p95Seconds: 0.1 }, latency: lat, need: 9 },
    { load: 451, slo: { maxUtilization: 0.9, p95Seconds: 0.1 }, latency: lat, need: 10 },
    // objective above the p95 at full: latency never binds, capacity does
    { load: 450, slo: { maxUtilization: 1, p95Seconds: 2 }, latency: lat, need: 5 },
    // objective below the base latency: nothing can meet it
    { load: 10, slo: { maxUtilization: 1, p95Seconds: 0.01 }, latency: lat, need: Infinity },
  ];
  for (const c of cases) {
    const params = w(c.latency ? { latency: c.latency } : {});
    const need = neededReplicas(c.load, params, c.slo);
    assert.equal(need, c.need, `${c.load} rps, ${JSON.stringify(c.slo)}`);
    if (Number.isFinite(need) && need > 0) {
      assert.equal(sloFlags(c.load, need, 100, params.latency, c.slo), 0, 'the bound meets the SLO');
      assert.notEqual(sloFlags(c.load, need - 1, 100, params.latency, c.slo), 0, 'one fewer does not');
    }
  }
  assert.equal(sloFlags(300, 2, 100, undefined, { maxUtilization: 1 }), FLAG_OVER_CAPACITY);
  assert.equal(sloFlags(90, 1, 100, { baseSeconds: 0.05, fullSeconds: 1 }, { maxUtilization: 1, p95Seconds: 0.1 }), FLAG_SLOW);
});

test('neededReplicas ends on any finite load, however large (no count below 2^53 apart from its neighbour)', () => {
  const params = w({ latency: { baseSeconds: 0.04, fullSeconds: 0.8 } });
  const slo = { maxUtilization: 0.9, p95Seconds: 0.25 };
  for (const load of [1e15, 1e18, 1e20, 1e100, Number.MAX_VALUE]) {
    const need = neededReplicas(load, params, slo);
    assert.ok(need >= load / 100 / 0.9 * (1 - 1e-9), `${load} rps: ${need}`);
  }
});

const bindings: MetricBinding[] = [
  { metric: 'rps', signal: 'rps', perPod: true, why: 'test' },
  { metric: 'cpu', signal: 'cpu', perPod: true, why: 'test' },
  { metric: 'total', signal: 'rps', perPod: false, why: 'test' },
  { metric: 'mem', signal: null, perPod: true, why: 'not modelled' },
];

test('replicas are Pending for the start-up delay, unready for the readiness delay, then serve', () => {
  const wl = new Workload('web', w(), bindings, 1, 0);
  assert.deepEqual([wl.replicas, wl.ready], [1, 1]);
  wl.scaleTo(3, 0);
  const phases = (t: number) => {
    wl.advance(t);
    return wl.targetState().pods.map((p) => `${p.phase}${p.ready ? '+ready' : ''}`);
  };
  assert.deepEqual(phases(15_000), ['Running+ready', 'Pending', 'Pending']);
  assert.equal(wl.ready, 1);
  assert.deepEqual(phases(30_000), ['Running+ready', 'Running', 'Running']);
  assert.equal(wl.ready, 1);
  assert.deepEqual(phases(45_000), ['Running+ready', 'Running+ready', 'Running+ready']);
  assert.equal(wl.ready, 3);
  const s = wl.targetState();
  assert.equal(s.pods[1]!.startTime, 0);
  assert.equal(s.pods[1]!.readyTransitionTime, 45_000);
});

test('what a controller reads: per-replica samples for ready and starting replicas, failures for the rest', () => {
  const wl = new Workload('web', w(), bindings, 2, 0);
  wl.scaleTo(4, 0);
  wl.advance(30_000); // two new replicas Running, not ready
  const r = wl.readMetrics(300, 30_000);
  const rps = r[0]! as { samples: Array<{ labels: Record<string, string>; value: number }> };
  assert.deepEqual(rps.samples.map((s) => [s.labels.pod, s.value]), [['web-1', 150], ['web-2', 150], ['web-3', 0], ['web-4', 0]]);
  const cpu = r[1]! as { samples: Array<{ value: number }> };
  // 150 rps of 100 capacity = 1.5 x the 0.5-core request
  assert.deepEqual(cpu.samples.map((s) => s.value), [0.75, 0.75, 0, 0]);
  assert.deepEqual((r[2]! as { samples: Array<{ value: number }> }).samples.map((s) => s.value), [300]);
  assert.match((r[3]! as { error: string }).error, /not modelled/);
  const gap = wl.readMetrics(Number.NaN, 45_000);
  assert.match((gap[0]! as { error: string }).error, /no data/);
});

test('a cpu limit caps the usage a replica can report', () => {
  const wl = new Workload('web', w({ cpuLimitRatio: 2 }), bindings, 1, 0);
  const cpu = wl.readMetrics(500, 0)[1]! as { samples: Array<{ value: number }> };
  assert.equal(cpu.samples[0]!.value, 1); // 5x the request asked, 2x (the limit) reported
});

test('scale-down removes replicas that are not ready first, then the newest, and their capacity at once', () => {
  const wl = new Workload('web', w(), bindings, 3, 0);
  wl.scaleTo(5, 0);
  wl.advance(15_000);
  wl.scaleTo(3, 15_000);
  assert.deepEqual(wl.targetState().pods.map((p) => p.name), ['web-1', 'web-2', 'web-3']);
  wl.scaleTo(1, 15_000);
  assert.deepEqual(wl.targetState().pods.map((p) => p.name), ['web-1']);
  assert.equal(wl.ready, 1);
});

test('the backlog grows with demand beyond ready capacity and drains with spare capacity', () => {
  const wl = new Workload('web', w(), bindings, 2, 0);
  wl.serve(300, 15_000); // 100 rps too many for 15 s
  assert.equal(wl.backlog, 1500);
  wl.serve(100, 15_000); // 100 rps spare for 15 s
  assert.equal(wl.backlog, 0);
});

function setup(o: Partial<WorkloadParams>, slo = { maxUtilization: 1 }): SimSetup {
  return { workload: w(o), slo, bindings: [], initialReplicas: 1, timeline: false, costPerReplicaHour: 2 };
}

test('clairvoyant bound: replicas requested start-up + readiness ahead, no-data steps unscored (hand-computed)', () => {
  const load = { start: 0, stepMs: 15_000, values: Float64Array.from([100, 100, 300, 300, 100, 100, 500, Number.NaN, 100]) };
  // needed ready: 1 1 3 3 1 1 5 - 1; with a 30 s lead (2 steps) what must exist is the max over [k, k+2]
  const b = clairvoyantBound(load, setup({ startupDelayMs: 30_000, readinessDelayMs: 0 }), 10, true);
  assert.deepEqual(Array.from(b.needed!), [1, 1, 3, 3, 1, 1, 5, 0, 1]);
  assert.deepEqual(Array.from(b.replicas!), [3, 3, 3, 3, 5, 5, 5, 1, 1]);
  // scored steps: 3+3+3+3+5+5+5+1 = 28 replica-steps of 15 s
  assert.equal(b.replicaHours, (28 * 15) / 3600);
  assert.equal(b.cost, (28 * 15 * 2) / 3600);
  assert.equal(b.violationMinutes, 0);
  assert.equal(b.peakReplicas, 5);

  // maxReplicas 4: the 500 rps step cannot be met, even knowing the future
  const capped = clairvoyantBound(load, setup({ startupDelayMs: 30_000, readinessDelayMs: 0 }), 4);
  assert.equal(capped.violationMinutes, 0.25);
  assert.equal(capped.replicaHours, (25 * 15) / 3600);

  // no delay: exactly what each step needs
  const instant = clairvoyantBound(load, setup({ startupDelayMs: 0, readinessDelayMs: 0 }), 10, true);
  assert.deepEqual(Array.from(instant.replicas!), [1, 1, 3, 3, 1, 1, 5, 0, 1]);
  // a 20 s delay still has to be requested a whole step (two, rounded up) ahead
  const lead = clairvoyantBound(load, setup({ startupDelayMs: 10_000, readinessDelayMs: 10_000 }), 10, true);
  assert.deepEqual(Array.from(lead.replicas!), [3, 3, 3, 3, 5, 5, 5, 1, 1]);
});

test('the fast observation equals the controller\'s buildObservation of the same replicas and samples', async () => {
  const { buildObservation } = await import('../../src/controller/observe.js');
  const { parseConfig } = await import('../../src/config/load.js');
  const policy = parseConfig(`
sources:
  procs: { type: process }
  prom: { type: prometheus, url: "http://127.0.0.1:9090" }
services:
  web:
    target: { provider: dryrun }
    maxReplicas: 20
    resources: { requests: { cpu: 500m, memory: 256Mi } }
    metrics:
      cpu: { source: procs, query: cpu, perPod: true }
      rps: { source: prom, query: "rate(http_requests_total[1m])", perPod: true }
      total_rps: { source: prom, query: "sum(rate(http_requests_total[1m]))" }
      backlog: { source: prom, query: "sum(queue_depth)" }
      latency: { source: prom, query: "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))" }
      memory: { source: procs, query: memory, perPod: true }
`, 'obs.yaml').services.web!;
  const binds: MetricBinding[] = [
    { metric: 'cpu', signal: 'cpu', perPod: true, why: '' },
    { metric: 'rps', signal: 'rps', perPod: true, why: '' },
    { metric: 'total_rps', signal: 'rps', perPod: false, why: '' },
    { metric: 'backlog', signal: 'queue', perPod: false, why: '' },
    { metric: 'latency', signal: 'p95', perPod: false, why: '' },
    { metric: 'memory', signal: null, perPod: true, why: 'memory is not modelled' },
  ];
  const params = w({ latency: { baseSeconds: 0.05, fullSeconds: 1 }, cpuLimitRatio: 3 });
  const wl = new Workload('web', params, binds, 2, 0, policy.resources);
  const steps: Array<[t: number, load: number, scaleTo?: number]> = [
    [0, 150, 5], [15_000, 400], [30_000, 400], [45_000, Number.NaN], [60_000, 900, 1], [75_000, 50, 0], [90_000, 50, 3], [105_000, 0],
  ];
  for (const [t, load, scaleTo] of steps) {
    wl.advance(t);
    const fast = wl.observe(load);
    const reference = buildObservation(policy, wl.targetState(), wl.readMetrics(load, t));
    assert.deepStrictEqual(JSON.parse(JSON.stringify(fast)), JSON.parse(JSON.stringify(reference)), `at t=${t}`);
    assert.deepStrictEqual(Object.keys(fast.values).sort(), Object.keys(reference.values).sort());
    if (scaleTo !== undefined) wl.scaleTo(scaleTo, t);
    wl.serve(load, 15_000);
  }
});
