// HPA export: table of policies → the HorizontalPodAutoscaler fields, each validated by kubernetes-models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { parseConfig } from '../../src/config/load.js';
import { exportHpa } from '../../src/export/hpa.js';
import { validateExport } from '../../src/export/index.js';

const SOURCES = `sources:
  k8s: { type: kubernetes }
  prom: { type: prometheus, url: http://prom:9090 }
  proc: { type: process }
`;

function hpaOf(service: string) {
  const c = parseConfig(`${SOURCES}services:\n  svc:\n${service.replace(/^/gm, '    ')}`);
  const r = exportHpa(c, c.services.svc!);
  assert.equal(r.objects.length, 1);
  const o = r.objects[0]!.object as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  // the real schema: throws on a wrong type, a missing required field or a malformed quantity
  new HorizontalPodAutoscaler(o as unknown as ConstructorParameters<typeof HorizontalPodAutoscaler>[0]).validate();
  assert.deepEqual(validateExport(r.objects[0]!), []);
  return { o, warnings: r.warnings };
}

const cases: Array<{ name: string; service: string; want: Record<string, unknown>; metadata?: Record<string, unknown>; warn?: RegExp[] }> = [
  {
    name: 'kubernetes target, metrics and behavior copied, YAML numbers back to quantity strings',
    service: `target: { provider: kubernetes, kind: StatefulSet, name: db-proxy, namespace: data }
minReplicas: 3
maxReplicas: 12
metrics:
  rps: { source: prom, query: 'rate(x[1m])', perPod: true }
  db_qps: { source: prom, query: 'sum(rate(db_queries_total[1m]))' }
  memory: { source: k8s, query: memory, perPod: true }
hpa:
  metrics:
    - { type: Pods, pods: { metric: { name: rps }, target: { type: AverageValue, averageValue: 250 } } }
    - { type: Object, object: { describedObject: { kind: Service, name: db, apiVersion: v1 }, metric: { name: db_qps }, target: { type: Value, value: 1.5 } } }
    - { type: ContainerResource, containerResource: { name: memory, container: app, target: { type: AverageValue, averageValue: 512Mi } } }
  behavior:
    scaleDown: { stabilizationWindowSeconds: 600, selectPolicy: Min, policies: [{ type: Pods, value: 1, periodSeconds: 120 }] }`,
    metadata: { name: 'db-proxy', namespace: 'data', labels: { 'app.kubernetes.io/managed-by': 'scalepilot', 'scalepilot.dev/service': 'svc' } },
    want: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db-proxy' },
      minReplicas: 3,
      maxReplicas: 12,
      metrics: [
        { type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '250' } } },
        { type: 'Object', object: { describedObject: { kind: 'Service', name: 'db', apiVersion: 'v1' }, metric: { name: 'db_qps' }, target: { type: 'Value', value: '1.5' } } },
        { type: 'ContainerResource', containerResource: { name: 'memory', container: 'app', target: { type: 'AverageValue', averageValue: '512Mi' } } },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 600, selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }] } },
    },
    warn: [/hpa\.metrics: Pods rps, Object db_qps must be served under these names by a metrics adapter/],
  },
  {
    name: 'no hpa block: a cpu band (per-replica, percent of requests) becomes a Utilization target',
    service: `target: { provider: kubernetes, name: web }
maxReplicas: 5
resources: { requests: { cpu: 250m } }
metrics:
  cpu: { source: k8s, query: cpu, perPod: true }
  memory: { source: k8s, query: memory, perPod: true }
bands:
  - { metric: cpu, upper: 65.4, lower: 30 }
rules:
  - { name: mem, when: 'memory > 80', then: +1 }
  - { name: mem-down, when: 'memory > 95', then: -1 }`,
    metadata: { name: 'web', namespace: 'default', labels: { 'app.kubernetes.io/managed-by': 'scalepilot', 'scalepilot.dev/service': 'svc' } },
    want: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 65 } } },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } } },
      ],
    },
  },
  {
    name: 'nothing to derive: Kubernetes default of 80% CPU, said so; minReplicas 0 becomes 1',
    service: `target: { provider: local, command: [node, s.mjs], listen: '127.0.0.1:9000', portBase: 19001 }
minReplicas: 0
maxReplicas: 3
metrics:
  cpu: { source: proc, query: cpu }
rules:
  - { name: hot, when: 'cpu > 2', then: +1 }
hpa:
  tolerance: 0.05`,
    want: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'svc' },
      minReplicas: 1,
      maxReplicas: 3,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    },
    warn: [/local provider; the exported object targets Deployment svc/, /minReplicas is 0/, /hpa\.tolerance is a kube-controller-manager flag/, /metrics\.cpu: its threshold 2 is not a utilization percent/, /using Kubernetes' default of 80% CPU/],
  },
];

for (const c of cases) {
  test(`hpa: ${c.name}`, () => {
    const { o, warnings } = hpaOf(c.service);
    assert.equal((o as Record<string, unknown>).apiVersion, 'autoscaling/v2');
    assert.equal((o as Record<string, unknown>).kind, 'HorizontalPodAutoscaler');
    assert.deepEqual(o.spec, c.want);
    if (c.metadata) assert.deepEqual(o.metadata, c.metadata);
    for (const re of c.warn ?? []) assert.ok(warnings.some((w) => re.test(w)), `no warning matching ${re}: ${warnings.join(' | ')}`);
    if (!c.warn) assert.deepEqual(warnings, []);
  });
}

test('hpa: a malformed MetricSpec handed in by a library caller is caught before it is written', () => {
  const c = parseConfig(`${SOURCES}services:
  svc:
    target: { provider: kubernetes, name: web }
    maxReplicas: 3
    metrics:
      rps: { source: prom, query: 'rate(x[1m])', perPod: true }
    hpa:
      metrics:
        - { type: Pods, pods: { metric: { name: rps }, target: { type: AverageValue, averageValue: '10' } } }
`);
  const p = structuredClone(c.services.svc!);
  ((p.hpa!.metrics[0] as unknown as { pods: { target: Record<string, unknown> } }).pods.target).averageValue = 'lots';
  const problems = validateExport(exportHpa(c, p).objects[0]!);
  assert.ok(problems.some((x) => x.includes('spec.metrics.0.pods.target.averageValue')), problems.join('\n'));
  assert.deepEqual(validateExport(exportHpa(c, c.services.svc!).objects[0]!), []);
});

test('hpa: per-direction tolerances with a kubernetesVersion before 1.33 are exported with a warning that the API server drops them', () => {
  const svc = (version: string) => parseConfig(`${SOURCES}services:
  svc:
    target: { provider: kubernetes, name: web }
    maxReplicas: 3
    metrics:
      cpu: { source: k8s, query: cpu, perPod: true }
    hpa:
      kubernetesVersion: "${version}"
      metrics:
        - { type: Resource, resource: { name: cpu, target: { type: Utilization, averageUtilization: 70 } } }
      behavior:
        scaleDown: { tolerance: 0.05 }
`);
  const old = svc('1.32');
  const w = exportHpa(old, old.services.svc!).warnings;
  assert.ok(w.some((x) => /behavior: scaleDown\.tolerance need Kubernetes 1\.33\+ \(hpa\.kubernetesVersion is 1\.32\)/.test(x)), w.join(' | '));
  const cur = svc('1.33');
  assert.deepEqual(exportHpa(cur, cur.services.svc!).warnings, []);
});
