// The replay kernel (sim/kernel.ts) against the general replay (decide() on the workload model's pods): random
// eligible policies on random traces give identical results, field for field; ineligible policies, and steps the
// kernel leaves to the general path, fall back to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { resolveSetup } from '../../src/sim/setup.js';
import { simulateService } from '../../src/sim/engine.js';
import { EventLog, WindowExtreme, kernelPlan, simulateKernel } from '../../src/sim/kernel.js';
import type { Signal, SimResult } from '../../src/sim/types.js';

/** A seeded generator so a failure names the case that reproduces it. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

function randomRules(r: () => number, up: boolean): string {
  const parts: string[] = [];
  if (r() < 0.7) parts.push(`stabilizationWindowSeconds: ${pick(r, up ? [0, 0, 15, 30, 60, 120, 1800] : [0, 15, 60, 120, 300, 600, 3600])}`);
  if (r() < 0.3) parts.push(`selectPolicy: ${pick(r, ['Max', 'Min', 'Min', 'Disabled'])}`);
  if (r() < 0.7) {
    const policies: string[] = [];
    const count = int(r, 1, 3);
    for (let i = 0; i < count; i++) {
      const type = pick(r, ['Pods', 'Percent']);
      const value = type === 'Pods' ? int(r, 1, 6) : pick(r, [10, 25, 50, 100, 200, 900]);
      policies.push(`{ type: ${type}, value: ${value}, periodSeconds: ${pick(r, [15, 30, 45, 60, 120, 300, 1800])} }`);
    }
    parts.push(`policies: [ ${policies.join(', ')} ]`);
  }
  if (r() < 0.3) parts.push(`tolerance: ${pick(r, ['"0.05"', '"50m"', '0.2', '"0"', '"300m"', '0.01'])}`);
  return `{ ${parts.join(', ')} }`;
}

/**
 * A random policy the kernel covers: HPA Resource (cpu, memory) and Pods metrics fed per replica from demand-derived
 * signals and Object/External metrics on one aggregate of them, with or without behavior, tolerances, Kubernetes
 * versions, delays, min/max, SLOs; plus metrics the HPA does not use, which still shape decide()'s errors.
 */
function randomEligible(r: () => number) {
  const latency = r() < 0.8;
  const min = pick(r, [0, 1, 1, 2, 3]);
  const max = Math.max(1, min + pick(r, [0, 1, 3, 8, 20, 40]));
  const metricSignals: Record<string, Signal> = {};
  const metrics: string[] = [];
  const hpa: string[] = [];
  const cpuLimit = r() < 0.3 ? `, limits: { cpu: ${pick(r, ['"1"', '750m', '2'])} }` : '';
  const resources = `    resources: { requests: { cpu: ${pick(r, ['100m', '250m', '500m', '"1"'])}, memory: ${pick(r, ['256Mi', '1Gi'])} }${cpuLimit} }`;
  const specs = int(r, 1, 3);
  const used = new Set<string>();
  for (let i = 0; i < specs; i++) {
    const kind = pick(r, ['cpu', 'cpu', 'memory', 'pods', 'external', 'object']);
    if (kind === 'external' || kind === 'object') {
      // one aggregate value from a signal, against an AverageValue (per replica) or a Value target
      const name = `total${i}`;
      const signal = pick(r, latency ? (['rps', 'rps', 'cpu', 'utilization', 'queue', 'p95'] as const) : (['rps', 'rps', 'cpu', 'utilization', 'queue'] as const));
      metricSignals[name] = signal;
      metrics.push(`      ${name}: { source: prom, query: "aggregate ${i}" }`);
      const average = r() < 0.6;
      const targets: Record<typeof signal, [string[], string[]]> = {
        rps: [['"20"', '"80"', '"150"'], ['"500"', '"3k"']],
        cpu: [['300m', '"1"'], ['"4"', '"20"']],
        utilization: [['"20"'], ['"60"', '"80"']],
        queue: [['"50"', '"500"'], ['"1k"']],
        p95: [['20m'], ['150m', '300m']],
      };
      const target = average ? `{ type: AverageValue, averageValue: ${pick(r, targets[signal][0])} }` : `{ type: Value, value: ${pick(r, targets[signal][1])} }`;
      hpa.push(kind === 'external'
        ? `        - type: External\n          external: { metric: { name: ${name} }, target: ${target} }`
        : `        - type: Object\n          object: { metric: { name: ${name} }, describedObject: { kind: Service, name: web, apiVersion: v1 }, target: ${target} }`);
      continue;
    }
    if (kind === 'cpu' && !used.has('cpu')) {
      used.add('cpu');
      metrics.push('      cpu: { source: prom, query: "rate(container_cpu_usage_seconds_total[1m])", perPod: true }');
      const signal = pick(r, ['cpu', 'cpu', 'rps', 'utilization'] as const);
      if (signal !== 'cpu') metricSignals.cpu = signal;
    } else if (kind === 'memory' && !used.has('memory')) {
      used.add('memory');
      metrics.push('      memory: { source: prom, query: "container_memory_working_set_bytes", perPod: true }');
      metricSignals.memory = pick(r, ['rps', 'utilization', 'queue', 'cpu'] as const);
    }
    if (kind === 'cpu' || kind === 'memory') {
      const name = kind;
      if (r() < 0.65) hpa.push(`        - type: Resource\n          resource: { name: ${name}, target: { type: Utilization, averageUtilization: ${pick(r, [20, 50, 60, 70, 85, 100, 150])} } }`);
      else hpa.push(`        - type: Resource\n          resource: { name: ${name}, target: { type: AverageValue, averageValue: ${pick(r, ['100m', '200m', '"1"', '"30"', '"120"'])} } }`);
    } else {
      const name = pick(r, latency ? ['rps', 'queue', 'p95', 'utilization', 'inflight'] : ['rps', 'queue', 'utilization', 'inflight']);
      if (!used.has(name)) {
        used.add(name);
        metrics.push(`      ${name}: { source: prom, query: "${name === 'inflight' ? 'sum(rate(http_requests_total[1m]))' : `${name} of the service`}", perPod: true }`);
        if (name === 'inflight') metricSignals.inflight = pick(r, ['rps', 'queue', 'cpu'] as const);
      }
      const value = name === 'p95' ? pick(r, ['100m', '200m', '300m']) : name === 'utilization' ? pick(r, ['"60"', '"80"']) : pick(r, ['"20"', '"50"', '"80"', '"150"', '500m']);
      hpa.push(`        - type: Pods\n          pods: { metric: { name: ${name} }, target: { type: AverageValue, averageValue: ${value} } }`);
    }
  }
  // metrics decide() reads but the HPA does not: aggregate and per-replica counts, and a load-derived aggregate
  if (r() < 0.3) metrics.push('      ready_replicas: { source: prom, query: "ready pods" }');
  if (r() < 0.2) metrics.push('      replicas: { source: prom, query: "pods", perPod: true }');
  if (r() < 0.3 && !used.has('utilization')) metrics.push('      utilization: { source: prom, query: "util" }');
  // metrics that fail to read every step (no signal for them; p95 without a latency model), anywhere in the list
  const failing: string[] = [];
  if (r() < 0.2) failing.push('      heap: { source: prom, query: "process_heap_bytes" }');
  if (r() < 0.1) failing.push('      "7": { source: prom, query: "unknown series" }');
  if (!latency && !used.has('p95') && r() < 0.5) failing.push('      p95: { source: prom, query: "latency p95" }');
  for (const f of failing) metrics.splice(Math.floor(r() * (metrics.length + 1)), 0, f);
  const parts = [`    minReplicas: ${min}`, `    maxReplicas: ${max}`, resources, '    metrics:', ...metrics, '    hpa:', '      metrics:', ...hpa];
  if (r() < 0.7) {
    parts.push('      behavior:');
    if (r() < 0.8) parts.push(`        scaleDown: ${randomRules(r, false)}`);
    if (r() < 0.6) parts.push(`        scaleUp: ${randomRules(r, true)}`);
    if (parts[parts.length - 1] === '      behavior:') parts.push('        scaleDown: { stabilizationWindowSeconds: 60 }');
  }
  if (r() < 0.3) parts.push(`      tolerance: ${pick(r, [0, 0.05, 0.1, 0.2])}`);
  if (r() < 0.4) parts.push(`      kubernetesVersion: "${pick(r, ['1.23', '1.30', '1.32', '1.33', '1.36', '1.37', '1.38'])}"`);
  if (r() < 0.3) parts.push(`    syncPeriod: ${pick(r, ['5s', '10s', '30s'])}`);
  parts.push(`    capacity: { rpsPerReplica: ${pick(r, [20, 50, 100, 200])}, startupDelay: ${pick(r, ['0s', '10s', '30s', '45s', '2m', '6m'])}, readinessDelay: ${pick(r, ['0s', '0s', '15s', '1m'])}${latency ? ', latency: { base: 40ms, p95AtFull: 800ms }' : ''} }`);
  parts.push(`    slo: { maxUtilization: ${pick(r, [70, 90, 100])}${r() < 0.6 ? `, p95: ${pick(r, ['100ms', '250ms'])}` : ''} }`);
  if (r() < 0.5) parts.push('    cost: { perReplicaHour: 0.05 }');
  if (r() < 0.05) parts.push('    paused: true');
  const yaml = `sources:\n  prom: { type: prometheus, url: "http://127.0.0.1:9090" }\nservices:\n  web:\n    target: { provider: dryrun }\n${parts.join('\n')}\n`;
  return { yaml, policy: parseConfig(yaml, 'random.yaml').services.web!, metricSignals };
}

/** Load with a cycle, noise, spikes, runs of zeros (some -0) and gaps (NaN or negative: no data at that step). */
function randomTrace(r: () => number, n: number): Float64Array {
  const v = new Float64Array(n);
  const scale = pick(r, [5, 50, 300, 2000, 20000]) * (0.5 + r());
  const period = 20 + Math.floor(r() * 600);
  const gapRate = pick(r, [0, 0.005, 0.02, 0.1]);
  let gap = 0;
  let zeros = 0;
  for (let k = 0; k < n; k++) {
    if (gap === 0 && r() < gapRate) gap = int(r, 1, 40);
    if (zeros === 0 && r() < 0.003) zeros = int(r, 1, 80);
    const base = scale * (0.5 - 0.5 * Math.cos((2 * Math.PI * k) / period));
    const spike = r() < 0.01 ? 2 + r() * 6 : 1;
    if (gap > 0) { gap--; v[k] = Number.NaN; }
    else if (zeros > 0) { zeros--; v[k] = r() < 0.2 ? -0 : 0; }
    else if (r() < 0.002) v[k] = -1; // a negative reading counts as no data
    else v[k] = Math.max(0, base * (0.7 + 0.6 * r()) * spike);
  }
  return v;
}

interface Case {
  seed: number;
  yaml: string;
  run: (kernel: boolean) => SimResult;
  direct: () => SimResult | null;
}

function randomCase(seed: number): Case {
  const r = rng(seed * 104729 + 11);
  const { yaml, policy, metricSignals } = randomEligible(r);
  const stepMs = pick(r, [5_000, 10_000, 15_000, 15_000, 30_000, 60_000]);
  const n = int(r, 200, 2400);
  const values = randomTrace(r, n);
  const initialReplicas = r() < 0.15 ? pick(r, [0, policy.maxReplicas + 2]) : int(r, Math.max(1, policy.minReplicas), policy.maxReplicas);
  const { setup } = resolveSetup(policy, new Set(), { initialReplicas, timeline: r() < 0.7, metricSignals });
  const load = { start: Date.UTC(2024, 0, 1) + int(r, 0, 1000) * 1000, stepMs, values };
  const opts = {
    ...(r() < 0.3 ? { scoreFrom: int(r, 0, n) } : {}),
    ...(r() < 0.2 ? { stopAfterViolationMinutes: pick(r, [0, 5, 60, 600]) } : {}),
    ...(r() < 0.5 ? { label: `case-${seed}` } : {}),
    ...(r() < 0.4 ? { splitAt: Array.from({ length: int(r, 1, 3) }, () => int(r, 0, n)).sort((a, b) => a - b) } : {}),
  };
  return {
    seed,
    yaml,
    run: (kernel) => simulateService(policy, setup, load, { ...opts, kernel }),
    direct: () => {
      const plan = kernelPlan(policy, setup);
      assert.ok(plan, `case ${seed} is meant to be eligible\n${yaml}`);
      return simulateKernel(plan, policy, setup, load, opts);
    },
  };
}

test('the kernel and the general replay give identical results on random eligible policies and traces', () => {
  let direct = 0;
  let scaled = 0;
  let reversals = 0;
  let noDataErrors = 0;
  let dataErrors = 0;
  let stopped = 0;
  let timelines = 0;
  const cases = 300;
  for (let seed = 1; seed <= cases; seed++) {
    const c = randomCase(seed);
    const general = c.run(false);
    const kernel = c.direct();
    if (kernel) {
      direct++;
      assert.deepStrictEqual(kernel, general, `case ${seed}\n${c.yaml}`);
    }
    assert.deepStrictEqual(c.run(true), general, `case ${seed}\n${c.yaml}`);
    scaled += general.score.scaleUps + general.score.scaleDowns;
    if (general.score.reversals > 0) reversals++;
    if (general.decisionErrors.atNoData > 0) noDataErrors++;
    if (general.decisionErrors.first !== undefined && kernel) dataErrors++;
    if (general.stoppedAt !== undefined) stopped++;
    if (general.timeline) timelines++;
  }
  // the property is not vacuous: the kernel itself ran nearly every case, and the cases reach what it models
  assert.ok(direct >= cases * 0.95, `the kernel replayed only ${direct} of ${cases} cases itself`);
  assert.ok(scaled > cases * 5, `only ${scaled} scale changes across the cases`);
  assert.ok(reversals > cases / 4, `only ${reversals} cases reversed direction`);
  assert.ok(noDataErrors > cases / 5, `only ${noDataErrors} cases had failed reads at no-data steps`);
  assert.ok(dataErrors > cases / 20, `only ${dataErrors} cases the kernel ran had read errors with data`);
  assert.ok(stopped > 5, `only ${stopped} cases stopped early`);
  assert.ok(timelines > cases / 2 && timelines < cases, `${timelines} cases kept a timeline`);
});

/** A policy around one HPA cpu Utilization metric, with a part of the YAML added. */
function policyWith(extra: string, metrics = '') {
  const yaml = `sources:
  prom: { type: prometheus, url: "http://127.0.0.1:9090" }
services:
  web:
    target: { provider: dryrun }
    minReplicas: 1
    maxReplicas: 30
    resources: { requests: { cpu: 500m } }
    metrics:
      cpu: { source: prom, query: "rate(container_cpu_usage_seconds_total[1m])", perPod: true }
      rps: { source: prom, query: "sum(rate(http_requests_total[1m]))" }
${metrics}    hpa:
      metrics:
        - type: Resource
          resource: { name: cpu, target: { type: Utilization, averageUtilization: 60 } }
    capacity: { rpsPerReplica: 100, startupDelay: 30s, readinessDelay: 15s, latency: { base: 40ms, p95AtFull: 800ms } }
    slo: { maxUtilization: 90, p95: 250ms }
${extra}`;
  return parseConfig(yaml, 'fallback.yaml').services.web!;
}

/** An HPA metric on a metric the model has no signal for: it fails every step. */
function unmodelledHpaMetric() {
  const p = policyWith('', '      heap: { source: prom, query: "process_heap_bytes" }\n');
  return { ...p, hpa: { ...p.hpa!, metrics: [...p.hpa!.metrics, { type: 'External' as const, external: { metric: { name: 'heap' }, target: { type: 'Value', value: '1Gi' } } }] } };
}

test('ineligible policies are left to the general replay, with the same results as forcing it', () => {
  const r = rng(99);
  const values = randomTrace(r, 1500);
  const load = { start: Date.UTC(2024, 0, 1), stepMs: 15_000, values };
  const base = policyWith('');
  assert.ok(kernelPlan(base, resolveSetup(base, new Set(), { initialReplicas: 3 }).setup), 'the base policy is eligible');
  const variants: Record<string, ReturnType<typeof policyWith>> = {
    rules: policyWith('    rules:\n      - { name: hot, when: "rps > 500", for: 1m, then: "+1" }\n'),
    bands: policyWith('    bands:\n      - { metric: rps, upper: 400, lower: 100, for: 1m, step: 1 }\n'),
    schedules: policyWith('    schedules:\n      - { name: peak, cron: "0 */2 * * *", duration: 20m, minReplicas: 5 }\n'),
    queue: policyWith('    queue: { metric: backlog, targetPerReplica: 100, activationThreshold: 10, cooldownPeriod: 1m }\n', '      backlog: { source: prom, query: "queue depth" }\n'),
    predictive: policyWith('    predictive: { metric: rps, model: linear, capacityPerReplica: 100 }\n'),
    unmodelled: unmodelledHpaMetric(),
    countExternal: parseConfig(`sources:
  prom: { type: prometheus, url: "http://127.0.0.1:9090" }
services:
  web:
    target: { provider: dryrun }
    maxReplicas: 20
    metrics:
      ready_replicas: { source: prom, query: "ready pods" }
    hpa:
      metrics:
        - type: External
          external: { metric: { name: ready_replicas }, target: { type: Value, value: "3" } }
    capacity: { rpsPerReplica: 100 }
`, 'external.yaml').services.web!,
  };
  for (const [name, policy] of Object.entries(variants)) {
    const { setup } = resolveSetup(policy, new Set(), { initialReplicas: 3, timeline: true });
    assert.equal(kernelPlan(policy, setup), null, `${name} is not for the kernel`);
    const general = simulateService(policy, setup, load, { kernel: false });
    assert.deepStrictEqual(simulateService(policy, setup, load), general, name);
  }
});

test('a run the kernel cannot finish exactly (totals beyond 2^53) is replayed by the general path', () => {
  const policy = policyWith('', '      inflight: { source: prom, query: "in flight", perPod: true }\n');
  // a Pods metric on per-replica request rates so large that the HPA's sums leave exact double arithmetic
  const huge = parseConfig(`sources:
  prom: { type: prometheus, url: "http://127.0.0.1:9090" }
services:
  web:
    target: { provider: dryrun }
    maxReplicas: 10
    metrics:
      inflight: { source: prom, query: "sum(rate(http_requests_total[1m]))", perPod: true }
    hpa:
      metrics:
        - type: Pods
          pods: { metric: { name: inflight }, target: { type: AverageValue, averageValue: "1k" } }
    capacity: { rpsPerReplica: 100, startupDelay: 0s }
`, 'huge.yaml').services.web!;
  for (const p of [policy, huge]) {
    const { setup } = resolveSetup(p, new Set(), { initialReplicas: 2, timeline: true, metricSignals: { inflight: 'rps' } });
    const values = Float64Array.from({ length: 400 }, (_, k) => (k > 200 ? 1e14 : 150));
    const load = { start: Date.UTC(2024, 0, 1), stepMs: 15_000, values };
    const plan = kernelPlan(p, setup);
    assert.ok(plan);
    assert.equal(simulateKernel(plan, p, setup, load), null, 'the kernel hands the run back');
    assert.deepStrictEqual(simulateService(p, setup, load), simulateService(p, setup, load, { kernel: false }));
  }
});

test('the kernel\'s window extremes and event sums match a scan over everything remembered, through ring growth', () => {
  const r = rng(2718);
  for (let round = 0; round < 40; round++) {
    const max = r() < 0.5;
    const inclusive = r() < 0.5;
    const windowMs = pick(r, [0, 15_000, 300_000, 3_600_000]);
    const periodMs = pick(r, [15_000, 60_000, 1_800_000]);
    const stepMs = pick(r, [1_000, 5_000, 15_000]);
    const deque = new WindowExtreme(max, inclusive);
    const events = new EventLog(periodMs);
    const all: Array<{ t: number; v: number }> = [];
    const changes: Array<{ t: number; c: number }> = [];
    let v = 10_000;
    let grewPast = 0;
    for (let k = 0; k < 3000; k++) {
      const now = 1_700_000_000_000 + k * stepMs;
      // long monotone runs keep many entries alive, so the rings grow
      v += r() < 0.9 ? (max ? -1 : 1) : int(r, -30, 30);
      const cutoff = now - windowMs;
      const counts = (t: number) => (inclusive ? t >= cutoff : t > cutoff);
      const proposal = v + int(r, -200, 200);
      let expected = proposal;
      for (const e of all) if (counts(e.t)) expected = max ? Math.max(expected, e.v) : Math.min(expected, e.v);
      assert.equal(deque.extreme(cutoff, proposal), expected, `round ${round}, step ${k}`);
      deque.push(now, v, cutoff);
      all.push({ t: now, v });
      grewPast = Math.max(grewPast, deque.size);
      if (r() < 0.5) {
        const c = int(r, 1, 5);
        events.push(now, c);
        changes.push({ t: now, c });
      }
      const since = now - int(r, 0, periodMs / 1000) * 1000;
      assert.equal(events.since(since), changes.reduce((a, e) => a + (e.t > since ? e.c : 0), 0), `round ${round}, step ${k}`);
    }
    if (windowMs / stepMs > 128) assert.ok(grewPast > 64, `round ${round}: the window kept only ${grewPast} entries`);
  }
});
