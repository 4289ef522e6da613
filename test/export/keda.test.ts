// KEDA export: table of queue sources → triggers, the whole ScaledObject checked against the CRD's structure,
// and the structural check itself shown to reject what the API server or KEDA's webhook would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { exportKeda } from '../../src/export/keda.js';
import { validateScaledObject } from '../../src/export/crd.js';

const SOURCES = `sources:
  prom: { type: prometheus, url: 'http://prometheus.monitoring:9090' }
  redis: { type: redis, url: 'redis://cache.shop:6380/3' }
  redis-tls: { type: redis, url: 'rediss://:pw@cache.shop:6379' }
  pg: { type: postgres, url: 'postgres://keda@db.shop:5433/orders?sslmode=require' }
  k8s: { type: kubernetes }
`;

function kedaOf(service: string) {
  const c = parseConfig(`${SOURCES}services:\n  svc:\n${service.replace(/^/gm, '    ')}`);
  const r = exportKeda(c, c.services.svc!);
  for (const o of r.objects) assert.deepEqual(validateScaledObject(o.object), [], JSON.stringify(o.object));
  return r;
}

const queue = (metric: string, extra = '') => `target: { provider: kubernetes, name: worker, namespace: jobs }
minReplicas: 1
maxReplicas: 30
syncPeriod: 10s
queue: { metric: q, targetPerReplica: 25, activationThreshold: 3, minReplicas: 0, cooldownPeriod: 90s${extra} }
metrics:
  q: ${metric}`;

const triggerCases: Array<{ name: string; service: string; trigger: Record<string, unknown>; warn?: RegExp }> = [
  {
    name: 'redis list',
    service: queue('{ source: redis, query: llen jobs }'),
    trigger: { type: 'redis', name: 'q', metadata: { address: 'cache.shop:6380', databaseIndex: '3', listName: 'jobs', listLength: '25', activationListLength: '3' } },
  },
  {
    name: 'redis over TLS with a password',
    service: queue('{ source: redis-tls, query: llen jobs }'),
    trigger: { type: 'redis', name: 'q', metadata: { address: 'cache.shop:6379', enableTLS: 'true', passwordFromEnv: 'REDIS_PASSWORD', listName: 'jobs', listLength: '25', activationListLength: '3' } },
    warn: /password is not exported/,
  },
  {
    name: 'redis stream pending entries',
    service: queue('{ source: redis, query: xpending events workers }'),
    trigger: { type: 'redis-streams', name: 'q', metadata: { address: 'cache.shop:6380', databaseIndex: '3', stream: 'events', consumerGroup: 'workers', pendingEntriesCount: '25' } },
    warn: /no activation threshold/,
  },
  {
    name: 'redis stream length',
    service: queue('{ source: redis, query: xlen events }'),
    trigger: { type: 'redis-streams', name: 'q', metadata: { address: 'cache.shop:6380', databaseIndex: '3', stream: 'events', streamLength: '25' } },
  },
  {
    name: 'postgresql query',
    service: queue(`{ source: pg, query: "SELECT count(*) FROM jobs WHERE state = 'queued'" }`),
    trigger: {
      type: 'postgresql',
      name: 'q',
      metadata: { host: 'db.shop', port: '5433', userName: 'keda', dbName: 'orders', sslmode: 'require', query: "SELECT count(*) FROM jobs WHERE state = 'queued'", targetQueryValue: '25', activationTargetQueryValue: '3' },
    },
  },
  {
    name: 'prometheus query',
    service: queue(`{ source: prom, query: 'sum(rabbitmq_queue_messages{queue="jobs"})' }`),
    trigger: { type: 'prometheus', name: 'q', metadata: { serverAddress: 'http://prometheus.monitoring:9090', query: 'sum(rabbitmq_queue_messages{queue="jobs"})', threshold: '25', activationThreshold: '3' } },
  },
];

for (const c of triggerCases) {
  test(`keda: queue on ${c.name}`, () => {
    const r = kedaOf(c.service);
    assert.equal(r.objects.length, 1);
    const o = r.objects[0]!.object as { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: Record<string, unknown> & { triggers: unknown[] } };
    assert.equal(o.apiVersion, 'keda.sh/v1alpha1');
    assert.equal(o.kind, 'ScaledObject');
    assert.deepEqual(o.metadata, { name: 'worker', namespace: 'jobs', labels: { 'app.kubernetes.io/managed-by': 'scalepilot', 'scalepilot.dev/service': 'svc' } });
    assert.deepEqual(o.spec, {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'worker' },
      pollingInterval: 10,
      cooldownPeriod: 90,
      minReplicaCount: 0,
      maxReplicaCount: 30,
      triggers: [c.trigger],
    });
    if (c.warn) assert.ok(r.warnings.some((w) => c.warn!.test(w)), r.warnings.join(' | '));
  });
}

test('keda: fallback, idle replicas, behavior, pause and HPA metrics as extra triggers', () => {
  const r = kedaOf(`target: { provider: kubernetes, name: worker }
minReplicas: 2
maxReplicas: 8
paused: true
queue: { metric: q, targetPerReplica: 10, minReplicas: 1, idleReplicas: 0, fallback: { failureThreshold: 4, replicas: 6 } }
metrics:
  q: { source: redis, query: llen jobs }
  cpu: { source: k8s, query: cpu, perPod: true }
  lag: { source: prom, query: 'kafka_lag{group="w"}' }
hpa:
  metrics:
    - { type: Resource, resource: { name: cpu, target: { type: Utilization, averageUtilization: 70 } } }
    - { type: External, external: { metric: { name: lag }, target: { type: Value, value: 1000 } } }
  behavior:
    scaleDown: { stabilizationWindowSeconds: 120, policies: [{ type: Pods, value: 2, periodSeconds: 60 }] }`);
  const o = r.objects[0]!.object as { metadata: { annotations?: Record<string, string> }; spec: Record<string, unknown> };
  assert.deepEqual(o.metadata.annotations, { 'autoscaling.keda.sh/paused': 'true' });
  assert.equal(o.spec.minReplicaCount, 1);
  assert.equal(o.spec.idleReplicaCount, 0);
  assert.equal(o.spec.cooldownPeriod, 300);
  assert.deepEqual(o.spec.fallback, { failureThreshold: 4, replicas: 6 });
  assert.deepEqual(o.spec.advanced, { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: 120, policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] } } } });
  assert.deepEqual(o.spec.triggers, [
    { type: 'redis', name: 'q', metadata: { address: 'cache.shop:6380', databaseIndex: '3', listName: 'jobs', listLength: '10' } },
    { type: 'cpu', metricType: 'Utilization', metadata: { value: '70' } },
    { type: 'prometheus', name: 'lag', metricType: 'Value', metadata: { serverAddress: 'http://prometheus.monitoring:9090', query: 'kafka_lag{group="w"}', threshold: '1000' } },
  ]);
});

test('keda: nothing that maps to a trigger writes no object and says why', () => {
  const r = kedaOf(`target: { provider: kubernetes, name: web }
maxReplicas: 3
metrics:
  q: { source: redis, query: used_memory }
queue: { metric: q, targetPerReplica: 5 }`);
  assert.deepEqual(r.objects, []);
  assert.ok(r.warnings.some((w) => /metrics\.q: "used_memory" has no KEDA redis trigger/.test(w)), r.warnings.join(' | '));
  assert.ok(r.warnings.some((w) => /no ScaledObject was written/.test(w)));
});

test('CRD check rejects what the API server would prune or KEDA would refuse', () => {
  const good = () => ({
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: 'worker' },
    spec: { scaleTargetRef: { name: 'worker' }, minReplicaCount: 1, maxReplicaCount: 5, triggers: [{ type: 'redis', metadata: { listName: 'q', listLength: '5' } }] },
  });
  assert.deepEqual(validateScaledObject(good()), []);
  const cases: Array<[string, (o: ReturnType<typeof good>) => void, RegExp]> = [
    ['metadata value not a string', (o) => { (o.spec.triggers[0]!.metadata as Record<string, unknown>).listLength = 5; }, /spec\.triggers\[0\]\.metadata\.listLength: must be a string/],
    ['unknown field', (o) => { (o.spec as Record<string, unknown>).maxReplicas = 5; }, /spec\.maxReplicas: unknown field/],
    ['scaleTargetRef without name', (o) => { o.spec.scaleTargetRef = {} as never; }, /spec\.scaleTargetRef\.name: is required/],
    ['trigger without metadata', (o) => { delete (o.spec.triggers[0] as Partial<(typeof o.spec.triggers)[0]>).metadata; }, /spec\.triggers\[0\]\.metadata: is required/],
    ['min above max', (o) => { o.spec.minReplicaCount = 9; }, /minReplicaCount: 9 must be <= maxReplicaCount 5/],
    ['not int32', (o) => { o.spec.maxReplicaCount = 2 ** 40; }, /does not fit int32/],
    ['no triggers', (o) => { o.spec.triggers = []; }, /at least one trigger/],
    ['cpu without metricType', (o) => { o.spec.triggers = [{ type: 'cpu', metadata: { value: '50' } } as never]; }, /cpu scaler needs Utilization or AverageValue/],
    ['bad name', (o) => { o.metadata.name = 'Worker_1'; }, /metadata\.name: "Worker_1" does not match/],
    ['wrong kind', (o) => { o.kind = 'ScaledJob'; }, /kind: must be one of ScaledObject/],
  ];
  for (const [name, mutate, re] of cases) {
    const o = good();
    mutate(o);
    const errs = validateScaledObject(o);
    assert.ok(errs.some((e) => re.test(e)), `${name}: ${errs.join(' | ')}`);
  }
});
