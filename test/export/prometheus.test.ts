// Alert rules: checked and unit-tested by the real promtool, thresholds table-tested, PrometheusRule checked
// against the prometheus-operator CRD's structure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { METRIC_NAMES } from '../../src/core/metric-names.js';
import { alertGroups, exportPrometheusRule, exportRuleFile, type AlertRule } from '../../src/export/prometheus.js';
import { validatePrometheusRule } from '../../src/export/crd.js';
import { toYamlDocuments } from '../../src/export/types.js';
import { tempDir } from '../helpers/env.js';
import { checkRules, testRules } from '../helpers/promtool.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/export/', import.meta.url));
const config = loadConfig(join(FIXTURES, 'scalepilot.yaml'));
const all = Object.values(config.services);

test('promtool check rules accepts the exported rule file', () => {
  const dir = tempDir();
  try {
    const file = join(dir.path, 'rules.yml');
    writeFileSync(file, toYamlDocuments(exportRuleFile(config, all).objects.map((o) => o.object)));
    const r = checkRules(file);
    assert.ok(r.ok, r.output);
    const count = /SUCCESS: (\d+) rules found/.exec(r.output);
    const groups = alertGroups(config, all).groups;
    assert.equal(Number(count?.[1]), groups.reduce((n, g) => n + g.rules.length, 0), r.output);
  } finally {
    dir.cleanup();
  }
});

test('promtool check rules rejects a broken rule, so the check above means something', () => {
  const dir = tempDir();
  try {
    const file = join(dir.path, 'rules.yml');
    const { groups } = alertGroups(config, [config.services.web!]);
    groups[0]!.rules[0]!.expr = `${groups[0]!.rules[0]!.expr} >`;
    writeFileSync(file, toYamlDocuments([{ groups }]));
    const r = checkRules(file);
    assert.equal(r.ok, false);
    assert.match(r.output, /parse error|unexpected/);
  } finally {
    dir.cleanup();
  }
});

test('promtool test rules: high CPU, pinned at max, HPA unable to scale, rapid scaling, flapping, missing metric', () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir.path, 'rules.yml'), toYamlDocuments(exportRuleFile(config, all).objects.map((o) => o.object)));
    copyFileSync(join(FIXTURES, 'alerts.test.yml'), join(dir.path, 'alerts.test.yml'));
    const r = testRules(join(dir.path, 'alerts.test.yml'));
    assert.ok(r.ok, r.output);
    assert.match(r.output, /SUCCESS/);
  } finally {
    dir.cleanup();
  }
});

test('promtool test rules fails when an alert fires at another threshold than the test expects', () => {
  const dir = tempDir();
  try {
    // the same unit tests against rules whose web CPU warning sits at 86%: the 85% series no longer fires
    const { groups } = alertGroups(config, all);
    for (const g of groups) for (const r of g.rules) if (r.expr === `${METRIC_NAMES.metricValue}{service="web",metric="cpu"} > 80`) r.expr = r.expr.replace('> 80', '> 86');
    writeFileSync(join(dir.path, 'rules.yml'), toYamlDocuments([{ groups }]));
    copyFileSync(join(FIXTURES, 'alerts.test.yml'), join(dir.path, 'alerts.test.yml'));
    const r = testRules(join(dir.path, 'alerts.test.yml'));
    assert.equal(r.ok, false);
    assert.match(r.output, /alertname: ScalepilotHighCPU, time: 8m/);
  } finally {
    dir.cleanup();
  }
});

const SOURCES = `sources:
  prom: { type: prometheus, url: http://prom:9090 }
  k8s: { type: kubernetes }
  pg: { type: postgres, url: postgres://app@db:5432/app }
  proc: { type: process }
`;

function alertsOf(service: string): AlertRule[] {
  const c = parseConfig(`${SOURCES}services:\n  svc:\n${service.replace(/^/gm, '    ')}`);
  return alertGroups(c, [c.services.svc!]).groups[0]!.rules;
}

const pick = (rules: AlertRule[], alert: string) => rules.filter((r) => r.alert === alert).map((r) => ({ expr: r.expr, for: r.for, severity: r.labels.severity }));
const value = (metric: string) => `scalepilot_metric_value{service="svc",metric="${metric}"}`;

const thresholdCases: Array<{ name: string; service: string; alert: string; want: Array<{ expr: string; for?: string; severity?: string }> }> = [
  {
    name: 'CPU: runbook defaults on a percent metric',
    service: `target: { provider: dryrun }\nmaxReplicas: 4\nmetrics:\n  cpu: { source: prom, query: 'avg(cpu_util)', unit: percent }`,
    alert: 'ScalepilotHighCPU',
    want: [{ expr: `${value('cpu')} > 80`, for: '5m', severity: 'warning' }, { expr: `${value('cpu')} > 90`, for: '5m', severity: 'critical' }],
  },
  {
    name: 'CPU: the service\'s rules set both levels',
    service: `target: { provider: dryrun }\nmaxReplicas: 4\nmetrics:\n  cpu: { source: prom, query: 'avg(cpu_util)' }\nrules:\n  - { name: warm, when: 'cpu > 60', for: 10m, then: +1 }\n  - { name: warmer, when: 'cpu >= 65', for: 3m, then: +1 }\n  - { name: hot, when: 'cpu > 85', for: 1m, then: +2, severity: critical }\n  - { name: idle, when: 'cpu < 20', for: 10m, then: -1 }`,
    alert: 'ScalepilotHighCPU',
    want: [{ expr: `${value('cpu')} > 60`, for: '10m', severity: 'warning' }, { expr: `${value('cpu')} > 85`, for: '1m', severity: 'critical' }],
  },
  {
    name: 'CPU: a rule above the default critical level leaves no default',
    service: `target: { provider: dryrun }\nmaxReplicas: 4\nmetrics:\n  cpu: { source: prom, query: 'avg(cpu_util)' }\nrules:\n  - { name: warm, when: 'cpu > 95', then: +1 }`,
    alert: 'ScalepilotHighCPU',
    want: [{ expr: `${value('cpu')} > 95`, for: '0s', severity: 'warning' }],
  },
  {
    name: 'CPU: per-replica cores from the process source become percent of the request',
    service: `target: { provider: dryrun }\nmaxReplicas: 4\nresources: { limits: { cpu: 1500m } }\nmetrics:\n  cpu_cores: { source: proc, query: cpu, perPod: true }`,
    alert: 'ScalepilotHighCPU',
    want: [{ expr: `${value('cpu_cores')} / 1.5 * 100 > 80`, for: '5m', severity: 'warning' }, { expr: `${value('cpu_cores')} / 1.5 * 100 > 90`, for: '5m', severity: 'critical' }],
  },
  {
    name: 'memory: default 85%, controller percent of requests',
    service: `target: { provider: dryrun }\nmaxReplicas: 4\nresources: { requests: { memory: 1Gi } }\nmetrics:\n  memory: { source: k8s, query: memory, perPod: true }`,
    alert: 'ScalepilotHighMemory',
    want: [{ expr: `${value('memory')} > 85`, for: '5m', severity: 'warning' }],
  },
  {
    name: 'p99 latency: default 2s, in the metric\'s unit',
    service: `target: { provider: dryrun }\nmaxReplicas: 4\nmetrics:\n  latency_p99: { source: prom, query: 'x', unit: ms }`,
    alert: 'ScalepilotHighLatency',
    want: [{ expr: `${value('latency_p99')} > 2000`, for: '5m', severity: 'warning' }],
  },
  {
    name: 'p95 latency: the SLO',
    service: `target: { provider: dryrun }\nmaxReplicas: 4\nslo: { p95: 250ms }\nmetrics:\n  p95: { source: prom, query: 'x' }`,
    alert: 'ScalepilotHighLatency',
    want: [{ expr: `${value('p95')} > 0.25`, for: '5m', severity: 'warning' }],
  },
  {
    name: 'queue: backlog beyond what max replicas drain at target',
    service: `target: { provider: dryrun }\nmaxReplicas: 6\nmetrics:\n  backlog: { source: prom, query: 'sum(q)' }\nqueue: { metric: backlog, targetPerReplica: 50 }`,
    alert: 'ScalepilotQueueBacklog',
    want: [{ expr: `${value('backlog')} > 300`, for: '10m', severity: 'warning' }],
  },
  {
    name: 'DB connections: count over limits.maxConnections',
    service: `target: { provider: dryrun }\nmaxReplicas: 6\nlimits: { maxConnections: 200 }\nmetrics:\n  connections: { source: pg, query: connections }`,
    alert: 'ScalepilotDBConnectionsHigh',
    want: [{ expr: `100 * ${value('connections')} / 200 > 90`, for: '5m', severity: 'warning' }],
  },
  {
    name: 'DB connections: over the max_connections metric',
    service: `target: { provider: dryrun }\nmaxReplicas: 6\nmetrics:\n  conns: { source: pg, query: connections }\n  max_conns: { source: pg, query: max_connections }`,
    alert: 'ScalepilotDBConnectionsHigh',
    want: [{ expr: `${value('conns')} / ignoring(metric) ${value('max_conns')} * 100 > 90`, for: '5m', severity: 'warning' }],
  },
  {
    name: 'DB connections: a ratio metric',
    service: `target: { provider: dryrun }\nmaxReplicas: 6\nmetrics:\n  pool: { source: pg, query: connection_ratio }`,
    alert: 'ScalepilotDBConnectionsHigh',
    want: [{ expr: `${value('pool')} * 100 > 90`, for: '5m', severity: 'warning' }],
  },
  {
    name: 'pinned at max',
    service: `target: { provider: dryrun }\nmaxReplicas: 6`,
    alert: 'ScalepilotPinnedAtMax',
    want: [{ expr: 'max by (service) (scalepilot_desired_replicas{service="svc"}) >= max by (service) (scalepilot_max_replicas{service="svc"})', for: '15m', severity: 'critical' }],
  },
  {
    name: 'HPA unable to scale only for Kubernetes targets',
    service: `target: { provider: dryrun }\nmaxReplicas: 6`,
    alert: 'KubernetesHPAUnableToScale',
    want: [],
  },
];

for (const c of thresholdCases) {
  test(`alert thresholds: ${c.name}`, () => {
    assert.deepEqual(pick(alertsOf(c.service), c.alert), c.want);
  });
}

test('alert options change rapid scaling and flapping limits', () => {
  const c = parseConfig(`${SOURCES}services:\n  svc: { target: { provider: dryrun }, maxReplicas: 3 }\n`);
  const rules = alertGroups(c, [c.services.svc!], { rapidScalingChanges: 8, flappingReversals: 3 }).groups[0]!.rules;
  assert.match(rules.find((r) => r.alert === 'ScalepilotRapidScaling')!.expr, /\[10m\]\)\) > 8$/);
  assert.match(rules.find((r) => r.alert === 'ScalepilotFlapping')!.expr, /\[30m\]\)\) >= 3 and .*\[30m\]\)\) >= 3$/);
});

test('PrometheusRule: the same groups, valid against the CRD structure', () => {
  const r = exportPrometheusRule(config, all);
  const o = r.objects[0]!.object as { metadata: Record<string, unknown>; spec: { groups: unknown[] } };
  assert.deepEqual(validatePrometheusRule(o), []);
  assert.equal(o.metadata.name, 'scalepilot');
  assert.deepEqual(o.spec.groups, alertGroups(config, all).groups);
  const one = exportPrometheusRule(config, [config.services.api!]).objects[0]!.object as { metadata: Record<string, unknown> };
  assert.deepEqual([one.metadata.name, one.metadata.namespace], ['scalepilot-api', 'shop']);
});

test('PrometheusRule CRD check rejects bad durations, duplicate groups and rules with both alert and record', () => {
  const good = () => ({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'x' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up == 0', for: '5m', labels: { severity: 'warning' } }] as Array<Record<string, unknown>> }] } });
  const cases: Array<[(o: ReturnType<typeof good>) => void, RegExp]> = [
    [(o) => { o.spec.groups[0]!.rules[0]!.for = '5 minutes'; }, /rules\[0\]\.for: "5 minutes" does not match/],
    [(o) => { o.spec.groups.push({ name: 'g', rules: [] }); }, /groups\[1\]\.name: duplicate "g"/],
    [(o) => { o.spec.groups[0]!.rules[0]!.record = 'x:y'; }, /exactly one of alert and record/],
    [(o) => { delete o.spec.groups[0]!.rules[0]!.expr; }, /rules\[0\]\.expr: is required/],
    [(o) => { o.spec.groups[0]!.rules[0]!.labels = { severity: 2 }; }, /labels\.severity: must be a string/],
    [(o) => { (o.spec.groups[0] as Record<string, unknown>).rule = []; }, /groups\[0\]\.rule: unknown field/],
  ];
  assert.deepEqual(validatePrometheusRule(good()), []);
  for (const [mutate, re] of cases) {
    const o = good();
    mutate(o);
    const errs = validatePrometheusRule(o);
    assert.ok(errs.some((e) => re.test(e)), `${re}: ${errs.join(' | ')}`);
  }
});
