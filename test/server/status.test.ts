// The status badge and utilization read from real decide() output: a table of observations and remembered
// metric series, the decision they produce, and the status (with its reason) an operator should see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { decide } from '../../src/core/decide.js';
import { emptyHistory, type Decision, type ObservedPod } from '../../src/core/types.js';
import { SampleWindow } from '../../src/core/samples.js';
import { ruleAddsCapacity, ruleRunState, serviceStatus, utilization } from '../../src/server/status.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');

const config = parseConfig(`
store: "sqlite::memory:"
sources: { s: { type: prometheus, url: "http://127.0.0.1:9" } }
services:
  web:
    target: { provider: dryrun, replicas: 2 }
    minReplicas: 1
    maxReplicas: 4
    metrics:
      rps: { source: s, query: rps }
      cpu: { source: s, query: cpu }
      "job:lag": { source: s, query: lag }
    hpa:
      metrics:
        - type: External
          external: { metric: { name: rps }, target: { type: AverageValue, averageValue: "100" } }
    rules:
      - { name: hot, when: "cpu > 70", for: 1m, then: "+1", severity: warning }
      - { name: hotter, when: "cpu > 90", for: 1m, then: "+2", severity: critical }
      - { name: cool, when: "cpu < 20", for: 1m, then: "-1" }
      - { name: lagging, when: "job:lag > 5", for: 1m, then: "+1" }
`, 'status.yaml');
const policy = config.services.web!;

function pods(n: number): ObservedPod[] {
  return Array.from({ length: n }, (_, i) => ({ name: `web-${i}`, phase: 'Running' as const, ready: true }));
}

interface Case {
  name: string;
  current: number;
  rps?: number;
  /** [seconds ago, value] samples of cpu */
  cpu?: Array<[number, number]>;
  lag?: Array<[number, number]>;
  failures?: Record<string, string>;
  noDecision?: boolean;
  syncError?: string;
  status: 'OK' | 'SOON' | 'IMMEDIATE';
  reasons: RegExp[];
}

const cases: Case[] = [
  { name: 'within target, no rule active', current: 2, rps: 150, cpu: [[30, 50], [0, 50]], status: 'OK', reasons: [] },
  { name: 'at max while the HPA proposes more', current: 4, rps: 1000, status: 'IMMEDIATE', reasons: [/at maxReplicas 4 while hpa rps proposes 10/] },
  { name: 'at max and the HPA asks for exactly max', current: 4, rps: 400, status: 'OK', reasons: [] },
  { name: 'below max while proposing more is scaling, not urgent', current: 2, rps: 350, status: 'OK', reasons: [] },
  { name: 'warning rule pending', current: 2, rps: 150, cpu: [[30, 80], [0, 85]], status: 'SOON', reasons: [/warning rule hot is pending/] },
  { name: 'warning rule firing', current: 2, rps: 150, cpu: [[90, 80], [45, 80], [0, 85]], status: 'SOON', reasons: [/warning rule hot is firing/] },
  { name: 'critical rule firing', current: 2, rps: 150, cpu: [[90, 95], [45, 95], [0, 95]], status: 'SOON', reasons: [/warning rule hot is firing/, /critical rule hotter is firing/] },
  { name: 'scale-down rule firing is the quiet end of a day', current: 2, rps: 150, cpu: [[90, 5], [45, 5], [0, 5]], status: 'OK', reasons: [] },
  { name: 'rule on a metric whose name has a colon', current: 2, rps: 150, lag: [[30, 9], [0, 9]], status: 'SOON', reasons: [/warning rule lagging is pending/] },
  { name: 'metric read error', current: 2, failures: { rps: 'connection refused' }, status: 'SOON', reasons: [/metric errors: .*rps.*connection refused/] },
  { name: 'at max with a rule pending: IMMEDIATE first, the rule after', current: 4, rps: 1000, cpu: [[30, 80], [0, 85]], status: 'IMMEDIATE', reasons: [/at maxReplicas 4/, /warning rule hot is pending/] },
  { name: 'failed sync, no decision', current: 2, noDecision: true, syncError: 'observe: connect ECONNREFUSED', status: 'SOON', reasons: [/last sync failed: observe: connect ECONNREFUSED/] },
  { name: 'before the first decision', current: 2, noDecision: true, status: 'OK', reasons: [] },
];

function decisionFor(c: Case): Decision {
  const h = emptyHistory();
  if (c.cpu) h.series.cpu = SampleWindow.from(c.cpu.map(([ago, v]) => ({ t: NOW - ago * 1000, v })));
  if (c.lag) h.series['job:lag'] = SampleWindow.from(c.lag.map(([ago, v]) => ({ t: NOW - ago * 1000, v })));
  const values: Record<string, number> = {};
  if (c.rps !== undefined) values.rps = c.rps;
  if (c.cpu) values.cpu = c.cpu[c.cpu.length - 1]![1];
  return decide(policy, { currentReplicas: c.current, readyReplicas: c.current, pods: pods(c.current), values, failures: c.failures ?? {} }, h, NOW);
}

for (const c of cases) {
  test(`status: ${c.name} → ${c.status}`, () => {
    const d = c.noDecision ? undefined : decisionFor(c);
    const r = serviceStatus({ decision: d, rules: policy.rules, syncError: c.syncError });
    assert.equal(r.status, c.status, `reasons: ${r.reasons.join(' | ')}; decision: ${d?.reason}`);
    assert.equal(r.reasons.length, c.reasons.length, `reasons: ${r.reasons.join(' | ')}`);
    c.reasons.forEach((re, i) => assert.match(r.reasons[i]!, re));
  });
}

test('status: a stored decision from before a rule was removed still counts its pending rule', () => {
  const d = decisionFor({ name: '', current: 2, rps: 150, cpu: [[30, 80], [0, 85]], status: 'SOON', reasons: [] });
  assert.equal(serviceStatus({ decision: d, rules: [] }).status, 'SOON');
});

test('ruleRunState reads the state decide() wrote, whatever the metric is called', () => {
  const hot = policy.rules.find((r) => r.name === 'hot')!;
  const table: Array<[string, ReturnType<typeof ruleRunState>]> = [
    ['cpu > 70 for 1m: pending since 11:59:30 (30s of 1m; latest 85)', 'pending'],
    ['cpu > 70 for 1m: firing since 11:59:30 (breaching since 11:58:30; every sample of 3 breached; latest 85)', 'firing'],
    ['cpu > 70 for 1m: latest 50 <= 70', 'inactive'],
    ['cpu > 70 for 1m: no samples of cpu', 'inactive'],
    ['cpu > 70 for 1m: newest sample of cpu is 10m old (stale after 5m)', 'inactive'],
  ];
  for (const [detail, want] of table) assert.equal(ruleRunState({ detail }, hot), want, detail);
});

test('ruleAddsCapacity: the direction of each kind of step', () => {
  const rule = (then: string) => parseConfig(`
store: "sqlite::memory:"
sources: { s: { type: prometheus, url: "http://127.0.0.1:9" } }
services:
  w:
    target: { provider: dryrun, replicas: 2 }
    maxReplicas: 10
    resources: { requests: { cpu: 100m } }
    metrics: { cpu: { source: s, query: cpu } }
    rules: [ { name: r, when: "cpu > 1", then: "${then}" } ]
`, 'r.yaml').services.w!.rules[0]!;
  const table: Array<[string, number, boolean]> = [
    ['+1', 3, true], ['-1', 3, false], ['+50%', 3, true], ['-25%', 3, false], ['x2', 3, true], ['x0.5', 3, false],
    ['=5', 3, true], ['=2', 3, false], ['cpu requests +25% max 4', 3, true], ['cpu requests -100m', 3, false],
  ];
  for (const [then, current, want] of table) assert.equal(ruleAddsCapacity(rule(then), current), want, then);
});

test('utilization: each HPA target type and the queue, next to the value the controller read', () => {
  const p = parseConfig(`
store: "sqlite::memory:"
sources: { s: { type: prometheus, url: "http://127.0.0.1:9" } }
services:
  w:
    target: { provider: dryrun, replicas: 2 }
    maxReplicas: 10
    resources: { requests: { cpu: 100m, memory: 128Mi } }
    metrics:
      cpu: { source: s, query: cpu, perPod: true }
      memory: { source: s, query: mem, perPod: true }
      qps: { source: s, query: qps, perPod: true }
      backlog: { source: s, query: b }
      lag: { source: s, query: l }
      depth: { source: s, query: d }
    hpa:
      metrics:
        - { type: Resource, resource: { name: cpu, target: { type: Utilization, averageUtilization: 50 } } }
        - { type: Resource, resource: { name: memory, target: { type: AverageValue, averageValue: 100Mi } } }
        - { type: Pods, pods: { metric: { name: qps }, target: { type: AverageValue, averageValue: "20" } } }
        - { type: External, external: { metric: { name: backlog }, target: { type: AverageValue, averageValue: "30" } } }
        - { type: External, external: { metric: { name: lag }, target: { type: Value, value: 500m } } }
    queue: { metric: depth, targetPerReplica: 10 }
`, 'u.yaml').services.w!;
  const u = utilization(p, { cpu: 75, memory: 40, qps: 10, backlog: 90, lag: 1, depth: 45 }, 3);
  const by = Object.fromEntries(u.map((x) => [`${x.kind}:${x.metric}`, x]));
  const table: Array<[string, number | null, number, number | null]> = [
    ['Resource:cpu', 75, 50, 1.5],
    // memory is read as percent of its request, which a 100Mi target cannot be compared with
    ['Resource:memory', null, 100 * 1024 * 1024, null],
    ['Pods:qps', 10, 20, 0.5],
    ['External:backlog', 30, 30, 1], // 90 in total over 3 replicas
    ['External:lag', 1, 0.5, 2],
    ['queue:depth', 15, 10, 1.5],
  ];
  assert.equal(u.length, table.length);
  for (const [key, current, target, ratio] of table) {
    assert.ok(by[key], `${key} missing from ${Object.keys(by).join(', ')}`);
    assert.equal(by[key]!.current, current, key);
    assert.equal(by[key]!.target, target, key);
    assert.equal(by[key]!.ratio, ratio, key);
  }
  assert.equal(by['Resource:cpu']!.unit, '%');
  // a metric that could not be read has no ratio, never a zero
  const missing = utilization(p, {}, 3);
  assert.ok(missing.every((x) => x.current === null && x.ratio === null));
});
