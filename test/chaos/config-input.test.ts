// Hostile and broken config values are refused at load, by the one validation every command shares: alias
// bombs, unresolved aliases, `__proto__` keys, quantities Kubernetes would refuse (or the HPA could not use), unknown
// keys inside HPA metric specs, and names that would reach nginx syntax, docker argv or label values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import { exportNginx, renderUpstream, type NginxUpstream } from '../../src/export/nginx.js';
import { exportHpa } from '../../src/export/hpa.js';

function issuesOf(text: string): string[] {
  try {
    parseConfig(text, 'test.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${(e as Error).stack}`);
    return e.message.split('\n');
  }
  assert.fail('expected the config to be rejected');
}

const service = (extra: string, name = 'api', target = '{ provider: dryrun }') => `
services:
  ${name}:
    target: ${target}
    maxReplicas: 3
${extra}`;

test('a YAML alias bomb is a config error, not an exception or gigabytes of memory', () => {
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const issues = issuesOf(levels.join('\n') + '\nservices: {}\n');
  assert.match(issues[0]!, /^test\.yaml: YAML aliases expand to too many nodes.*\(fix: /);
});

test('an unresolved alias is a config error naming the alias', () => {
  const issues = issuesOf('services:\n  api: *nope\n');
  assert.match(issues[0]!, /^test\.yaml: YAML: Unresolved alias.*nope.*\(fix: define the anchor/);
});

test('deep nesting is a config error, not a stack overflow', () => {
  const depth = 20_000;
  const issues = issuesOf(`services: ${'['.repeat(depth)}${']'.repeat(depth)}\n`);
  assert.ok(issues.length >= 1);
});

test('a config larger than 16 MB is refused before parsing', () => {
  const issues = issuesOf(`# ${'x'.repeat(16 * 1024 * 1024)}\nservices: {}\n`);
  assert.match(issues[0]!, /test\.yaml: larger than 16 MB/);
});

test('__proto__ as a service, source or metric name is reported, not silently dropped', () => {
  const proto = `
sources:
  __proto__: { type: process }
services:
  api:
    target: { provider: dryrun }
    maxReplicas: 3
  __proto__:
    target: { provider: dryrun }
    maxReplicas: 3
`;
  const issues = issuesOf(proto);
  assert.ok(issues.some((l) => /^test\.yaml:3:\d+: sources\.__proto__: "__proto__" cannot be used/.test(l)), issues.join('\n'));
  assert.ok(issues.some((l) => /^test\.yaml:9:\d+: services\.__proto__: "__proto__" cannot be used/.test(l)), issues.join('\n'));
});

test('names of Object.prototype members do not pass as defined sources or metrics', () => {
  const issues = issuesOf(service(`    metrics:
      cpu: { source: constructor, query: cpu }
    rules:
      - { name: r, when: "toString > 1", then: +1 }
`));
  assert.ok(issues.some((l) => /services\.api\.metrics\.cpu\.source: source "constructor" is not defined/.test(l)), issues.join('\n'));
  assert.ok(issues.some((l) => /services\.api\.rules\[0\]\.when: metric "toString" is not defined/.test(l)), issues.join('\n'));
});

for (const [value, why] of [
  ['m', /"m" must be greater than zero/],
  ['"-1"', /"-1" must be greater than zero/],
  ['-1', /"-1" must be greater than zero/],
  ['0', /"0" must be greater than zero/],
  ['"0m"', /"0m" must be greater than zero/],
  ['NaNm', /"NaNm" is not a Kubernetes quantity/],
  ['-.inf', /-Infinity is not a finite quantity/],
  ['.nan', /NaN is not a finite quantity/],
  ['1e400', /Infinity is not a finite quantity/],
  ['"1e400"', /too large/],
  ['"Infinity"', /Infinity is not a finite quantity/],
] as const) {
  test(`resources quantity ${value} is refused at load with the path`, () => {
    const issues = issuesOf(service(`    resources: { requests: { cpu: ${value} }, limits: { memory: ${value} } }\n`));
    assert.ok(issues.some((l) => /^test\.yaml:\d+:\d+: services\.api\.resources\.requests\.cpu: /.test(l) && why.test(l)), issues.join('\n'));
    assert.ok(issues.some((l) => /services\.api\.resources\.limits\.memory: /.test(l)), issues.join('\n'));
  });
}

test('valid quantities still load, as strings', () => {
  const c = parseConfig(service('    resources: { requests: { cpu: 250m, memory: 512Mi }, limits: { cpu: 2, memory: 1.5Gi } }\n'), 'test.yaml');
  assert.deepEqual(c.services.api!.resources, { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '2', memory: '1.5Gi' } });
});

test('unknown keys inside hpa.metrics[] are refused, at every level, and never exported', () => {
  const issues = issuesOf(service(`    metrics: { cpu: { source: p, query: cpu, perPod: true } }
    hpa:
      metrics:
        - type: Resource
          resource: { name: cpu, target: { type: Utilization, averageUtilization: 70, avgUtilisation: 50 } }
          evil: { a: 1 }
        - type: External
          external: { metric: { name: cpu, selectr: {} }, target: { type: Value, value: "1" } }
`).replace('services:', 'sources: { p: { type: process } }\nservices:'));
  const text = issues.join('\n');
  assert.match(text, /services\.api\.hpa\.metrics\[0\]\.resource\.target\.avgUtilisation: unknown key/);
  assert.match(text, /services\.api\.hpa\.metrics\[0\]\.evil: unknown key/);
  assert.match(text, /services\.api\.hpa\.metrics\[1\]\.external\.metric\.selectr: unknown key/);
});

test('a complete autoscaling/v2 metric spec (every field) still loads and exports', () => {
  const c = parseConfig(`
sources: { p: { type: process } }
services:
  api:
    target: { provider: dryrun }
    maxReplicas: 3
    resources: { requests: { cpu: 500m } }
    metrics:
      cpu: { source: p, query: cpu, perPod: true }
      rps: { source: p, query: cpu }
    hpa:
      metrics:
        - type: Resource
          resource: { name: cpu, target: { type: Utilization, averageUtilization: 70 } }
        - type: External
          external:
            metric: { name: rps, selector: { matchLabels: { app: api }, matchExpressions: [ { key: tier, operator: In, values: [web] } ] } }
            target: { type: AverageValue, averageValue: "100" }
`, 'test.yaml');
  const out = exportHpa(c, c.services.api!);
  const spec = (out.objects[0]!.object as { spec: { metrics: unknown[] } }).spec;
  assert.equal(spec.metrics.length, 2);
  assert.doesNotMatch(JSON.stringify(spec), /evil/);
});

test('service keys must be names Kubernetes and Compose accept', () => {
  for (const [name, why] of [
    ['Api', /service name "Api" is not allowed/],
    ['-api', /service name "-api" is not allowed/],
    ['api_', /service name "api_" is not allowed/],
    ['"a b"', /service name "a b" is not allowed/],
    ['"a\\nb"', /service name "a\\nb" is not allowed/],
    ['a'.repeat(64), /64 characters; at most 63/],
  ] as const) {
    const issues = issuesOf(service('', name));
    assert.ok(issues.some((l) => /^test\.yaml:4:\d+: services[.[]/.test(l) && why.test(l)), `${name}: ${issues.join('\n')}`);
  }
  assert.ok(parseConfig(service('', 'a'.repeat(63)), 'test.yaml'));
  assert.ok(parseConfig(service('', 'web_1-a'), 'test.yaml'));
});

test('a compose target.service with a newline and braces, or a leading dash, is refused at load', () => {
  const target = (s: string) => `{ provider: compose, project: shop, file: compose.yaml, service: ${JSON.stringify(s)} }`;
  for (const s of ['web\n}\nserver { listen 80; }\n#', '--rm', '-H tcp://evil:2375', 'a b', 'web;id']) {
    const issues = issuesOf(service('', 'web', target(s)));
    assert.ok(issues.some((l) => /services\.web\.target\.service: .* is not a Compose service name/.test(l)), `${JSON.stringify(s)}: ${issues.join('\n')}`);
  }
  assert.ok(parseConfig(service('', 'web', target('Web.front_1-a')), 'test.yaml'));
});

test('a kubernetes target.container must be a container name', () => {
  const issues = issuesOf(service('', 'web', '{ provider: kubernetes, name: web, container: "app --privileged" }'));
  assert.ok(issues.some((l) => /services\.web\.target\.container: .* is not a Kubernetes container name/.test(l)), issues.join('\n'));
});

test('export nginx never writes a hostile compose service name into nginx syntax (library callers included)', () => {
  const c = parseConfig(service('', 'web', '{ provider: compose, project: shop, file: compose.yaml, service: web }'), 'test.yaml');
  const p = c.services.web!;
  const hostile = { ...p, target: { ...p.target, spec: { ...p.target.spec, service: 'x:80;\n}\nserver { listen 80; root /; }\n#' } } };
  const r = exportNginx([hostile], { port: 80 });
  assert.equal(r.objects.length, 0);
  assert.match(r.warnings.join('\n'), /is not a Compose service name; no upstream written/);
  const ok = exportNginx([p], { port: 80 });
  const text = renderUpstream(ok.objects[0]!.object as unknown as NginxUpstream);
  assert.equal((text.match(/\{/g) ?? []).length, 1, text);
});

test('HPA target quantities that are infinite, zero or negative are refused with their path', () => {
  for (const v of ['1e400', '-.inf', '"NaNm"', '-1', '"0"']) {
    const issues = issuesOf(`
sources: { p: { type: process } }
services:
  api:
    target: { provider: dryrun }
    maxReplicas: 3
    metrics: { rps: { source: p, query: cpu } }
    hpa:
      metrics:
        - type: External
          external: { metric: { name: rps }, target: { type: AverageValue, averageValue: ${v} } }
`);
    assert.ok(issues.some((l) => /services\.api\.hpa\.metrics\[0\]\.external\.target\.averageValue: (".*" is not a Kubernetes quantity|must be a positive quantity)/.test(l)), `${v}: ${issues.join('\n')}`);
  }
});

test('a duration past ten years (1e308 seconds is Infinity milliseconds) and a zero p95 SLO are refused with their path', () => {
  for (const [extra, re] of [
    ['rules: [{ name: r, when: "cpu > 1", for: 1e308, then: "+1" }]', /services\.api\.rules\[0\]\.for: must be at most 3650d/],
    ['rules: [{ name: r, when: "cpu > 1", for: 3651d, then: "+1" }]', /services\.api\.rules\[0\]\.for: must be at most 3650d/],
    ["capacity: { rpsPerReplica: 5, startupDelay: .inf }", /services\.api\.capacity\.startupDelay: is not a duration/],
    ['slo: { p95: 0s }', /services\.api\.slo\.p95: must be above 0/],
  ] as const) {
    const issues = issuesOf(service(`    metrics: { cpu: { source: p, query: cpu } }\n    ${extra}\nsources: { p: { type: process } }`));
    assert.ok(issues.some((l) => re.test(l)), `${extra}: ${issues.join('\n')}`);
  }
  // the longest accepted duration still loads, as does an ordinary SLO
  assert.doesNotThrow(() => parseConfig(service(`    metrics: { cpu: { source: p, query: cpu } }\n    slo: { p95: 250ms }\n    rules: [{ name: r, when: "cpu > 1", for: 3650d, then: "+1" }]\nsources: { p: { type: process } }`), 't.yaml'));
});

test('names an object inherits (constructor, __proto__) are not taken for defined sources or metrics', () => {
  const base = (svc: string, top = '') => `sources: { p: { type: process } }\n${top}services:\n  web:\n    target: { provider: dryrun }\n    maxReplicas: 3\n    metrics: { cpu: { source: p, query: cpu } }\n${svc}`;
  const budget = issuesOf(base('', 'budgets:\n  db: { kind: connections, limit: { source: constructor, query: x } }\n'));
  assert.ok(budget.some((l) => /budgets\.db\.limit\.source: source "constructor" is not defined under sources/.test(l)), budget.join('\n'));
  const hpa = issuesOf(base('    hpa: { metrics: [ { type: Pods, pods: { metric: { name: constructor }, target: { type: AverageValue, averageValue: 1 } } } ] }\n'));
  assert.ok(hpa.some((l) => /services\.web\.hpa\.metrics\[0\]: Pods metric "constructor" has no entry under services\.web\.metrics/.test(l)), hpa.join('\n'));
  // and a service may be called constructor
  const c = parseConfig('services:\n  constructor:\n    target: { provider: dryrun }\n    maxReplicas: 3\n', 't.yaml');
  assert.deepEqual(Object.values(c.services).map((p) => [p.name, p.maxReplicas]), [['constructor', 3]]);
});
