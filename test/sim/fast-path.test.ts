// The simulator's fast path (decide() without explanations) against the explained path on random traces and random
// policies: every step's numbers agree, and whole runs give identical replica counts and scores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { decide } from '../../src/core/decide.js';
import type { Decision } from '../../src/core/types.js';
import { resolveSetup } from '../../src/sim/setup.js';
import { simulateService, type DecideFn } from '../../src/sim/engine.js';

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

/** A random policy mixing the mechanisms decide() combines: HPA metric types, behavior, rules, bands, schedules, queue, seasonal forecast. */
function randomPolicy(r: () => number) {
  const min = pick(r, [0, 1, 2]);
  const max = min + 2 + Math.floor(r() * 30);
  const parts: string[] = [`    minReplicas: ${min}`, `    maxReplicas: ${max}`, '    resources: { requests: { cpu: 500m } }'];
  parts.push('    metrics:', '      cpu: { source: prom, query: "rate(container_cpu_usage_seconds_total[1m])", perPod: true }',
    '      rps: { source: prom, query: "sum(rate(http_requests_total[1m]))" }', '      latency: { source: prom, query: "p95 latency" }',
    '      backlog: { source: prom, query: "queue depth" }');
  // a metric the model cannot read: decide() sees a failed read every step, and the HPA's invalid-metric paths run
  const broken = r() < 0.2;
  if (broken) parts.push('      heap: { source: prom, query: "process_heap_bytes" }');
  const useQueue = min === 0 || r() < 0.15;
  const hpa: string[] = [];
  if (!useQueue) {
    if (r() < 0.6) hpa.push(`        - type: Resource\n          resource: { name: cpu, target: { type: Utilization, averageUtilization: ${pick(r, [50, 60, 70, 85])} } }`);
    if (r() < 0.5) hpa.push(`        - type: External\n          external: { metric: { name: rps }, target: { type: AverageValue, averageValue: "${pick(r, [40, 80, 120])}" } }`);
    if (broken) hpa.push('        - type: External\n          external: { metric: { name: heap }, target: { type: Value, value: "1Gi" } }');
  }
  if (hpa.length) {
    parts.push('    hpa:', '      metrics:', ...hpa);
    if (r() < 0.7) {
      parts.push('      behavior:');
      parts.push(`        scaleDown: { stabilizationWindowSeconds: ${pick(r, [0, 60, 300])}${r() < 0.5 ? `, policies: [ { type: Percent, value: ${pick(r, [10, 50, 100])}, periodSeconds: 60 } ]` : ''} }`);
      if (r() < 0.5) parts.push(`        scaleUp: { stabilizationWindowSeconds: ${pick(r, [0, 30])}, policies: [ { type: Pods, value: ${pick(r, [1, 4])}, periodSeconds: 60 } ] }`);
    }
    if (r() < 0.3) parts.push(`      tolerance: ${pick(r, [0.05, 0.1, 0.2])}`);
  }
  if (useQueue) {
    parts.push(`    queue: { metric: backlog, targetPerReplica: ${pick(r, [100, 500, 2000])}, activationThreshold: 10, cooldownPeriod: ${pick(r, ['1m', '5m'])} }`);
  }
  const rules: string[] = [];
  if (r() < 0.5) rules.push(`      - { name: hot, when: "latency > 0.${pick(r, [2, 3, 5])}", for: ${pick(r, ['30s', '1m', '2m'])}, then: "+${pick(r, [1, 2])}"${r() < 0.5 ? ', cooldown: 2m' : ''} }`);
  if (r() < 0.3) rules.push('      - { name: cold, when: "rps < 20", for: 5m, then: "-1" }');
  if (rules.length) parts.push('    rules:', ...rules);
  if (r() < 0.3) parts.push(`    bands:\n      - { metric: latency, upper: 0.4, lower: 0.1, for: 1m, step: 1 }`);
  if (r() < 0.3) parts.push(`    schedules:\n      - { name: peak, cron: "0 */2 * * *", duration: 20m, minReplicas: ${Math.min(max, min + 3)} }`);
  if (r() < 0.4) parts.push(`    predictive: { metric: rps, model: seasonal, method: ${pick(r, ['level', 'change'])}, errorModel: ${pick(r, ['ratio', 'sqrt'])}, headroomQuantile: ${pick(r, [0.9, 0.99])}, burst: ${r() < 0.5} }`);
  parts.push(`    capacity: { rpsPerReplica: ${pick(r, [50, 100, 200])}, startupDelay: ${pick(r, ['0s', '30s', '45s'])}, readinessDelay: ${pick(r, ['0s', '15s'])}, latency: { base: 40ms, p95AtFull: 800ms } }`);
  parts.push('    slo: { maxUtilization: 90, p95: 250ms }');
  const yaml = `sources:\n  prom: { type: prometheus, url: "http://127.0.0.1:9090" }\nservices:\n  web:\n    target: { provider: dryrun }\n${parts.join('\n')}\n`;
  return { yaml, policy: parseConfig(yaml, 'random.yaml').services.web! };
}

/** Load with a daily-ish cycle, noise, bursts, and gaps (NaN: no data at that step). */
function randomTrace(r: () => number, n: number): Float64Array {
  const v = new Float64Array(n);
  const scale = 20 + r() * 2000;
  const period = 40 + Math.floor(r() * 400);
  for (let k = 0; k < n; k++) {
    const base = scale * (0.5 - 0.5 * Math.cos((2 * Math.PI * k) / period));
    const burst = r() < 0.01 ? 2 + r() * 3 : 1;
    v[k] = r() < 0.02 ? Number.NaN : Math.max(0, base * (0.8 + 0.4 * r()) * burst);
  }
  return v;
}

/** The numbers of a decision: everything but the texts that explain it. */
function numbers(d: Decision) {
  return {
    currentReplicas: d.currentReplicas, desiredReplicas: d.desiredReplicas, action: d.action, reasonCode: d.reasonCode,
    proposed: d.proposed, recommendation: d.recommendation, initialRecommendation: d.initialRecommendation,
    minReplicas: d.minReplicas, maxReplicas: d.maxReplicas, errors: d.errors, resize: d.resize, lastFired: d.lastFired, queue: d.queue,
    proposals: d.proposals.map((p) => [p.source, p.name, p.replicas]),
    conditions: d.conditions.map((c) => [c.type, c.status, c.reason]),
  };
}

test('fast and explained decide() agree at every step of random replays, and whole runs are identical', () => {
  const cases = 40;
  const start = Date.UTC(2024, 0, 1);
  for (let seed = 1; seed <= cases; seed++) {
    const r = rng(seed * 7919);
    const { yaml, policy } = randomPolicy(r);
    const values = randomTrace(r, 600 + Math.floor(r() * 1400));
    const { setup } = resolveSetup(policy, new Set(), { initialReplicas: Math.max(1, policy.minReplicas), timeline: true });
    const load = { start, stepMs: 15_000, values };
    let steps = 0;
    let explainedReasons = 0;
    // explained at every step, and the fast path checked against it on the very same inputs
    const checked: DecideFn = (p, o, h, now) => {
      const full = decide(p, o, h, now);
      const fast = decide(p, o, h, now, { explain: false });
      assert.deepEqual(numbers(fast), numbers(full), `case ${seed}, step ${steps}\n${yaml}`);
      assert.equal(fast.reason, '');
      if (full.reason !== '') explainedReasons++;
      steps++;
      return full;
    };
    const explained = simulateService(policy, setup, load, { decide: checked });
    const fastRun = simulateService(policy, setup, load);
    assert.equal(steps, values.length);
    assert.equal(explainedReasons, values.length, 'the explained path explains every step');
    assert.deepEqual(Array.from(fastRun.timeline!.desired), Array.from(explained.timeline!.desired), `case ${seed}\n${yaml}`);
    assert.deepEqual(Array.from(fastRun.timeline!.replicas), Array.from(explained.timeline!.replicas), `case ${seed}\n${yaml}`);
    assert.deepEqual(fastRun.score, explained.score, `case ${seed}\n${yaml}`);
    assert.deepEqual(fastRun.decisionErrors, explained.decisionErrors, `case ${seed}\n${yaml}`);
  }
});

test('the random policies reach the mechanisms they are meant to compare (the property is not vacuous)', () => {
  const seen = new Set<string>();
  let scaled = 0;
  let forecasts = 0;
  const start = Date.UTC(2024, 0, 1);
  for (let seed = 1; seed <= 40; seed++) {
    const r = rng(seed * 7919);
    const { policy } = randomPolicy(r);
    const values = randomTrace(r, 600 + Math.floor(r() * 1400));
    const { setup } = resolveSetup(policy, new Set(), { initialReplicas: Math.max(1, policy.minReplicas), timeline: true });
    const res = simulateService(policy, setup, { start, stepMs: 15_000, values }, {
      decide: (p, o, h, now) => {
        const d = decide(p, o, h, now, { explain: false });
        for (const pr of d.proposals) seen.add(pr.source);
        for (const pr of d.proposals) if (pr.source === 'predictive' && pr.replicas !== null) forecasts++;
        return d;
      },
    });
    scaled += res.score.scaleUps + res.score.scaleDowns;
  }
  for (const source of ['hpa', 'rule', 'band', 'schedule', 'queue', 'predictive']) assert.ok(seen.has(source), `no random case proposed through ${source}: ${[...seen].join(', ')}`);
  assert.ok(scaled > 100, `only ${scaled} scale changes across the cases`);
  assert.ok(forecasts > 1000, `the seasonal forecast proposed replicas at only ${forecasts} steps`);
});

test('decide() on a history edited in place decides as on a fresh copy of it (no stale per-history state)', () => {
  const r = rng(4242);
  // a scale-down window, so every remembered recommendation can hold the count up
  const p = parseConfig(`sources:
  prom: { type: prometheus, url: "http://127.0.0.1:9090" }
services:
  web:
    target: { provider: dryrun }
    minReplicas: 1
    maxReplicas: 40
    resources: { requests: { cpu: 500m } }
    metrics:
      cpu: { source: prom, query: "rate(container_cpu_usage_seconds_total[1m])", perPod: true }
    hpa:
      metrics:
        - type: Resource
          resource: { name: cpu, target: { type: Utilization, averageUtilization: 60 } }
      behavior:
        scaleDown: { stabilizationWindowSeconds: 300 }
    capacity: { rpsPerReplica: 100, startupDelay: 0s }
`, 'edited.yaml').services.web!;
  const values = randomTrace(r, 400);
  let changed = 0;
  const start = Date.UTC(2024, 0, 1);
  let edits = 0;
  const fresh = (h: Parameters<DecideFn>[2]) => structuredClone(h);
  const checked: DecideFn = (pol, o, h, now) => {
    const k = Math.round((now - start) / 15_000);
    // every few steps, edit the remembered recommendations the ways a store reload or a caller could
    if (k % 7 === 3 && h.recommendations.length > 2) {
      const i = Math.floor(h.recommendations.length / 2);
      if (k % 2) h.recommendations[i] = { time: h.recommendations[i]!.time, replicas: h.recommendations[i]!.replicas + 3 };
      else h.recommendations[i]!.replicas = Math.max(0, h.recommendations[i]!.replicas - 2);
      edits++;
    }
    const d = decide(pol, o, h, now, { explain: false });
    assert.deepEqual(numbers(d), numbers(decide(pol, o, fresh(h), now, { explain: false })), `step ${k}`);
    if (d.desiredReplicas !== decide(pol, o, { ...h, recommendations: h.recommendations.map((x) => ({ ...x, replicas: 0 })) }, now, { explain: false }).desiredReplicas) changed++;
    return d;
  };
  const { setup } = resolveSetup(p, new Set(), { initialReplicas: Math.max(1, p.minReplicas), timeline: true });
  simulateService(p, setup, { start, stepMs: 15_000, values }, { decide: checked });
  assert.ok(edits > 20, `${edits} edits`);
  // the remembered recommendations decided the count at some steps, so a stale copy of them would show
  assert.ok(changed > 10, `recommendations mattered at ${changed} steps`);
});
