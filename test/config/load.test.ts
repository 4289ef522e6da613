// Config loading: valid files become typed policies; every bad input names file:line, path and fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import { parseAction, parseCondition } from '../../src/core/rules/syntax.js';
import { parseDuration, formatDuration } from '../../src/core/duration.js';
import { configJsonSchema } from '../../src/config/schema.js';

const good = `
syncPeriod: 30s
sources:
  procs: { type: process }
services:
  api:
    target: { provider: dryrun }
    minReplicas: 2
    maxReplicas: 10
    metrics:
      cpu: { source: procs, query: cpu, perPod: true }
    hpa:
      metrics:
        - type: Resource
          resource: { name: cpu, target: { type: Utilization, averageUtilization: 70 } }
    rules:
      - { name: cpu-high, when: "cpu > 70", for: 10m, then: +1 }
      - { name: cpu-low, when: "cpu < 30", for: 1h, then: -1, cooldown: 5m }
      - { name: cpu-crit, when: "cpu >= 90", for: 2m, then: "x2", severity: critical }
`;

function issuesOf(text: string): string[] {
  try {
    parseConfig(text, 'test.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    return e.message.split('\n');
  }
  assert.fail('expected the config to be rejected');
}

test('a valid config becomes typed policies with durations in ms', () => {
  const c = parseConfig(good, 'good.yaml');
  assert.equal(c.syncPeriodMs, 30_000);
  const api = c.services.api!;
  assert.equal(api.syncPeriodMs, 30_000);
  assert.equal(api.drainMs, 30_000);
  assert.equal(api.target.provider, 'dryrun');
  assert.deepEqual(api.rules.map((r) => [r.name, r.condition.op, r.condition.threshold, r.forMs, r.action]), [
    ['cpu-high', '>', 70, 600_000, { kind: 'scale', mode: 'add', amount: 1 }],
    ['cpu-low', '<', 30, 3_600_000, { kind: 'scale', mode: 'add', amount: -1 }],
    ['cpu-crit', '>=', 90, 120_000, { kind: 'scale', mode: 'multiply', amount: 2 }],
  ]);
  assert.equal(api.rules[1]!.cooldownMs, 300_000);
  assert.equal(api.rules[2]!.severity, 'critical');
});

const bad: Array<{ name: string; text: string; expect: RegExp[] }> = [
  {
    name: 'max below min names both values, the line and the fix',
    text: 'services:\n  api:\n    target: { provider: dryrun }\n    minReplicas: 3\n    maxReplicas: 2\n',
    expect: [/^test\.yaml:5:\d+: services\.api\.maxReplicas: maxReplicas \(2\) must be >= minReplicas \(3\) \(fix: raise maxReplicas or lower minReplicas\)$/],
  },
  {
    name: 'unknown key is named with its line',
    text: 'services:\n  api:\n    target: { provider: dryrun }\n    maxReplicas: 2\n    maxReplica: 3\n',
    expect: [/^test\.yaml:5:\d+: services\.api\.maxReplica: unknown key "maxReplica"/],
  },
  {
    name: 'bad duration',
    text: 'syncPeriod: 15 seconds\nservices:\n  api:\n    target: { provider: dryrun }\n    maxReplicas: 2\n',
    expect: [/^test\.yaml:1:\d+: syncPeriod: is not a duration; write it like 15s, 5m, 1h/],
  },
  {
    // a zero period synced hundreds of times a second; one past a day overflowed the timer into the same busy loop
    name: 'sync period out of range, top level and per service',
    text: 'syncPeriod: 0s\nservices:\n  api:\n    target: { provider: dryrun }\n    maxReplicas: 2\n    syncPeriod: 99999999999999h\n',
    expect: [/^test\.yaml:1:\d+: syncPeriod: must be from 1s to 24h; write it like 15s or 1m$/, /^test\.yaml:6:\d+: services\.api\.syncPeriod: must be from 1s to 24h/],
  },
  {
    // the API's manual scale stops at the same count; a config past it planned sums no replica count reaches
    name: 'replica counts past MAX_REPLICAS, service and schedule',
    text: 'services:\n  api:\n    target: { provider: dryrun }\n    maxReplicas: 1000000000\n    schedules:\n      - { cron: "0 9 * * *", duration: 1h, minReplicas: 100001 }\n',
    expect: [/^test\.yaml:4:\d+: services\.api\.maxReplicas: at most 100000 replicas$/, /^test\.yaml:6:\d+: services\.api\.schedules\[0\]\.minReplicas: at most 100000 replicas$/],
  },
  {
    // the drain waits on a timer: one past about 24.8 days fired at once, so the drain was skipped
    name: 'drainTimeout past a timer',
    text: 'services:\n  api:\n    target: { provider: dryrun }\n    maxReplicas: 2\n    drainTimeout: 30d\n',
    expect: [/^test\.yaml:5:\d+: services\.api\.drainTimeout: must be at most 24h; write it like 30s or 5m$/],
  },
  {
    // like two HPAs on one Deployment: each sync, each would set the replicas back to its own count
    name: 'two services driving one workload, and local services sharing ports',
    text: [
      'services:',
      '  a: { target: { provider: kubernetes, namespace: shop, name: api }, maxReplicas: 3 }',
      '  b: { target: { provider: kubernetes, namespace: shop, name: api }, maxReplicas: 5 }',
      '  c: { target: { provider: compose, project: shop, file: c.yaml }, maxReplicas: 3 }',
      '  d: { target: { provider: compose, project: shop, file: c.yaml, service: c }, maxReplicas: 3 }',
      '  e: { target: { provider: local, command: [node, x.mjs], listen: 127.0.0.1:9000, portBase: 9100 }, maxReplicas: 4 }',
      '  f: { target: { provider: local, command: [node, x.mjs], listen: 127.0.0.1:9001, portBase: 9103 }, maxReplicas: 2 }',
      '  g: { target: { provider: local, command: [node, x.mjs], listen: 127.0.0.1:9101, portBase: 9200 }, maxReplicas: 2 }',
      '',
    ].join('\n'),
    expect: [
      /^test\.yaml:3:\d+: services\.b\.target: drives the same workload as services\.a \(Deployment shop\/api\): the two would set its replicas against each other/,
      /^test\.yaml:5:\d+: services\.d\.target: drives the same workload as services\.c \(Compose service shop\/c\)/,
      /^test\.yaml:7:\d+: services\.f\.target: its ports \(front 9001, replicas 9103-9104 for up to maxReplicas\) overlap those of services\.e \(front 9000, replicas 9100-9103\)/,
      /^test\.yaml:8:\d+: services\.g\.target: its ports \(front 9101, .*\) overlap those of services\.e/,
    ],
  },
  {
    name: 'a drop hold that is no duration names the path and how to write one',
    text: 'sources: { p: { type: prometheus, url: "http://127.0.0.1:9090" } }\nservices:\n  api:\n    target: { provider: dryrun }\n    maxReplicas: 4\n'
      + '    metrics: { rps: { source: p, query: rps } }\n    predictive: { metric: rps, model: seasonal, dropHold: forever }\n',
    expect: [/^test\.yaml:7:\d+: services\.api\.predictive\.dropHold: is not a duration; write it like 15s, 5m, 1h or 1h30m/],
  },
  {
    name: 'missing required field',
    text: 'services:\n  api:\n    target: { provider: dryrun }\n',
    expect: [/services\.api\.maxReplicas: is required/],
  },
  {
    name: 'bad provider lists the options',
    text: 'services:\n  api:\n    target: { provider: nomad }\n    maxReplicas: 2\n',
    expect: [/^test\.yaml:3:\d+: services\.api\.target\.provider: .*"local"/],
  },
  {
    name: 'YAML syntax error gives the line',
    text: 'services:\n  api:\n    target: { provider: dryrun\n    maxReplicas: 2\n',
    expect: [/^test\.yaml:\d+:\d+: YAML: /],
  },
  {
    name: 'duplicate keys are rejected',
    text: 'services:\n  api:\n    target: { provider: dryrun }\n    maxReplicas: 2\n    maxReplicas: 3\n',
    expect: [/YAML: .*[Uu]nique|YAML: .*duplicate/i],
  },
  {
    name: 'rule on an undefined metric, bad condition, bad action, undefined source',
    text: [
      'sources: { p: { type: prometheus, url: "http://127.0.0.1:9090" } }',
      'services:',
      '  api:',
      '    target: { provider: dryrun }',
      '    maxReplicas: 4',
      '    metrics: { cpu: { source: prom, query: up } }',
      '    rules:',
      '      - { name: a, when: "mem > 70", then: +1 }',
      '      - { name: b, when: "cpu >> 70", then: +1 }',
      '      - { name: c, when: "cpu > 70", then: "double" }',
    ].join('\n'),
    expect: [
      /^test\.yaml:6:\d+: services\.api\.metrics\.cpu\.source: source "prom" is not defined under sources \(fix: add sources\.prom or use one of: p\)$/,
      /^test\.yaml:8:\d+: services\.api\.rules\[0\]\.when: metric "mem" is not defined/,
      /^test\.yaml:9:\d+: services\.api\.rules\[1\]\.when: "cpu >> 70" is not a condition/,
      /^test\.yaml:10:\d+: services\.api\.rules\[2\]\.then: "double" is not an action/,
    ],
  },
  {
    name: 'HPA metric spec errors name the YAML path; metrics must exist and be per-replica where the HPA needs it',
    text: [
      'sources: { p: { type: process } }',
      'services:',
      '  api:',
      '    target: { provider: dryrun }',
      '    maxReplicas: 4',
      '    metrics: { cpu: { source: p, query: cpu } }',
      '    hpa:',
      '      metrics:',
      '        - type: Resource',
      '          resource: { name: cpu, target: { type: Utilization, averageUtilization: 70 } }',
      '        - type: Pods',
      '          pods: { metric: { name: qps }, target: { type: AverageValue, averageValue: "10" } }',
      '  web:',
      '    target: { provider: dryrun }',
      '    maxReplicas: 4',
      '    hpa:',
      '      metrics:',
      '        - type: Resource',
      '          resource: { name: cpu, target: { type: Utilization, averageUtilization: -5 } }',
    ].join('\n'),
    expect: [
      /^test\.yaml:9:\d+: services\.api\.hpa\.metrics\[0\]: Resource metric "cpu" needs per-replica samples \(fix: set perPod: true/,
      /^test\.yaml:11:\d+: services\.api\.hpa\.metrics\[1\]: Pods metric "qps" has no entry under services\.api\.metrics/,
      /^test\.yaml:19:\d+: services\.web\.hpa\.metrics\[0\]\.resource\.target\.averageUtilization: /,
    ],
  },
  {
    name: 'a metric source block is checked by its source',
    text: 'sources:\n  prom: { type: prometheus }\nservices:\n  api:\n    target: { provider: dryrun }\n    maxReplicas: 2\n',
    expect: [/^test\.yaml:2:\d+: sources\.prom(\.url)?: .*url/],
  },
  {
    name: 'a query its source cannot answer fails at load, not at the first sample',
    text: 'sources: { procs: { type: process } }\nservices:\n  api:\n    target: { provider: dryrun }\n    maxReplicas: 2\n    metrics: { cpu: { source: procs, query: cpus } }\n',
    expect: [/^test\.yaml:6:\d+: services\.api\.metrics\.cpu(\.query)?: "cpus" is not a process metric/],
  },
  {
    name: 'a target spec is checked by its provider',
    text: 'services:\n  api:\n    target: { provider: local, command: "node server.js", listen: 127.0.0.1:8080, portBase: 18000 }\n    maxReplicas: 2\n',
    expect: [/^test\.yaml:3:\d+: services\.api\.target\.command: must be a list of arguments, not a shell string \(fix: /],
  },
  {
    name: 'band with lower above upper',
    text: 'sources: { p: { type: process } }\nservices:\n  api:\n    target: { provider: dryrun }\n    maxReplicas: 4\n    metrics: { cpu: { source: p, query: cpu } }\n    bands: [ { metric: cpu, upper: 30, lower: 70 } ]\n',
    expect: [/bands\[0\]\.lower: lower \(70\) must be < upper \(30\)/],
  },
];

for (const c of bad) {
  test(`rejects: ${c.name}`, () => {
    const lines = issuesOf(c.text);
    for (const re of c.expect) assert.ok(lines.some((l) => re.test(l)), `no issue matched ${re}\n${lines.join('\n')}`);
  });
}

test('an unreadable file is a ConfigError naming the file', () => {
  assert.throws(() => loadConfig('/nonexistent/scalepilot.yaml'), (e: unknown) => e instanceof ConfigError && /\/nonexistent\/scalepilot\.yaml: cannot read: ENOENT/.test(e.message));
});

test('condition and action syntax', () => {
  const conds: Array<[string, unknown]> = [
    ['cpu > 70', { metric: 'cpu', op: '>', threshold: 70 }],
    ['cpu>=70%', { metric: 'cpu', op: '>=', threshold: 70 }],
    ['p95 > 500ms', { metric: 'p95', op: '>', threshold: 0.5 }],
    ['queue_depth < 10', { metric: 'queue_depth', op: '<', threshold: 10 }],
  ];
  for (const [s, want] of conds) assert.deepEqual(parseCondition(s), want, s);
  assert.equal(typeof parseCondition('cpu = 70'), 'string');
  const actions: Array<[string, unknown]> = [
    ['+1', { kind: 'scale', mode: 'add', amount: 1 }],
    ['-2', { kind: 'scale', mode: 'add', amount: -2 }],
    ['+50%', { kind: 'scale', mode: 'percent', amount: 50 }],
    ['-25%', { kind: 'scale', mode: 'percent', amount: -25 }],
    ['x2', { kind: 'scale', mode: 'multiply', amount: 2 }],
    ['=5', { kind: 'scale', mode: 'set', amount: 5 }],
    ['cpu requests +25% max 4', { kind: 'resize', resource: 'cpu', field: 'requests', mode: 'percent', amount: 25, max: '4' }],
    ['memory limits +512Mi max 4Gi', { kind: 'resize', resource: 'memory', field: 'limits', mode: 'add', amount: '512Mi', max: '4Gi' }],
  ];
  for (const [s, want] of actions) assert.deepEqual(parseAction(s), want, s);
  assert.equal(typeof parseAction('+1.5'), 'string');
  assert.equal(typeof parseAction('x0'), 'string');
});

test('predictive.dropHold reads as a duration; 0s turns the hold off', () => {
  const text = (v: string) => `sources: { p: { type: prometheus, url: "http://127.0.0.1:9090" } }\nservices:\n  api:\n    target: { provider: dryrun }\n    maxReplicas: 4\n    metrics: { rps: { source: p, query: rps } }\n    predictive: { metric: rps, model: seasonal${v} }\n`;
  assert.equal(parseConfig(text(', dropHold: 90m'), 't.yaml').services.api!.predictive!.dropHold, 90 * 60_000);
  assert.equal(parseConfig(text(', dropHold: 0s'), 't.yaml').services.api!.predictive!.dropHold, 0);
  assert.equal(parseConfig(text(''), 't.yaml').services.api!.predictive!.dropHold, undefined);
});

test('durations', () => {
  const rows: Array<[string | number, number]> = [['15s', 15_000], ['5m', 300_000], ['1h', 3_600_000], ['1h30m', 5_400_000], ['500ms', 500], [90, 90_000], ['2d', 172_800_000], ['1.5m', 90_000]];
  for (const [s, ms] of rows) assert.equal(parseDuration(s), ms, String(s));
  for (const s of ['', '5 m', 'm5', '5x', '-5s']) assert.throws(() => parseDuration(s), /not a duration/, s);
  assert.equal(formatDuration(5_400_000), '1h30m');
});

test('JSON Schema accepts editor input forms', () => {
  const s = configJsonSchema() as { properties: Record<string, { type?: unknown }> };
  assert.ok(s.properties.services);
  assert.deepEqual(s.properties.syncPeriod!.type, ['string', 'number']);
});

test('services on different workloads pass the shared-target check: namespace, kind, context, project and ports apart', () => {
  const c = parseConfig([
    'services:',
    '  a: { target: { provider: kubernetes, namespace: shop, name: api }, maxReplicas: 3 }',
    '  b: { target: { provider: kubernetes, namespace: staging, name: api }, maxReplicas: 3 }',
    '  c: { target: { provider: kubernetes, namespace: shop, name: api, kind: StatefulSet }, maxReplicas: 3 }',
    '  d: { target: { provider: kubernetes, namespace: shop, name: api, context: eu }, maxReplicas: 3 }',
    '  e: { target: { provider: compose, project: shop, file: c.yaml, service: web }, maxReplicas: 3 }',
    '  f: { target: { provider: compose, project: blog, file: c.yaml, service: web }, maxReplicas: 3 }',
    '  g: { target: { provider: local, command: [node, x.mjs], listen: 127.0.0.1:9000, portBase: 9100 }, maxReplicas: 4 }',
    '  h: { target: { provider: local, command: [node, x.mjs], listen: 127.0.0.1:9001, portBase: 9104 }, maxReplicas: 4 }',
    '  i: { target: { provider: dryrun }, maxReplicas: 3 }',
    '  j: { target: { provider: dryrun }, maxReplicas: 3 }',
    '',
  ].join('\n'), 'test.yaml');
  assert.equal(Object.keys(c.services).length, 10);
});
