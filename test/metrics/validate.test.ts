// Which values a decision may use: a table of samples and metric kinds → usable or the reason it is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { MAX_METRIC_VALUE, invalidSample, isRateQuery, nonNegativeKind } from '../../src/metrics/validate.js';

const s = (value: number, labels: Record<string, string> = {}) => ({ labels, t: 0, value });

test('invalidSample: finite, in range, and not negative where the quantity cannot be', () => {
  const cases: Array<[string, number[], string | undefined, RegExp | undefined]> = [
    ['ordinary values', [0, 1.5, 1e12], undefined, undefined],
    ['the largest quantity', [MAX_METRIC_VALUE, -MAX_METRIC_VALUE], undefined, undefined],
    ['just beyond it', [MAX_METRIC_VALUE * 1.001], undefined, /out of range/],
    ['1.8e305 (overflows milli-units to Infinity)', [1.8e305], undefined, /value 1\.8e\+305 is out of range/],
    ['NaN', [1, Number.NaN], undefined, /value NaN is not a finite number/],
    ['+Inf', [Number.POSITIVE_INFINITY], undefined, /value Infinity is not a finite number/],
    ['negative where allowed', [-5], undefined, undefined],
    ['negative rate', [3, -0.5], 'rate', /value -0\.5 is negative, which a rate cannot be/],
    ['zero rate', [0], 'rate', undefined],
  ];
  for (const [name, values, kind, want] of cases) {
    const got = invalidSample(values.map((v) => s(v)), kind);
    if (want) assert.match(got ?? '', want, name);
    else assert.equal(got, undefined, name);
  }
  assert.match(invalidSample([s(-1, { pod: 'api-1' })], 'queue length')!, /value -1 for \{pod="api-1"\} is negative/);
});

test('isRateQuery: a rate or increase with no subtraction outside selectors, ranges and strings', () => {
  const cases: Array<[string, boolean]> = [
    ['sum(rate(http_requests_total[5m]))', true],
    ['sum by (pod) (irate(x{job="a-b"}[1m]))', true],
    ['increase(jobs_total{queue="in-flight"}[10m])', true],
    ['rate(x[5m]) - rate(y[5m])', false],
    ['-1 * rate(x[5m])', false],
    ['deriv(queue_length[5m])', false],
    ['histogram_quantile(0.95, sum(rate(b[5m])) by (le))', true],
    ['queue_length', false],
  ];
  for (const [q, want] of cases) assert.equal(isRateQuery(q), want, q);
});

test('nonNegativeKind: cpu/memory, the queue metric, Resource HPA metrics, Prometheus rates', () => {
  const p = parseConfig(`
sources: { prom: { type: prometheus, url: "http://127.0.0.1:9090" } }
services:
  api:
    target: { provider: dryrun }
    maxReplicas: 5
    resources: { requests: { cpu: 500m } }
    metrics:
      cpu: { source: prom, query: "x", perPod: true }
      jobs: { source: prom, query: "queue" }
      rps: { source: prom, query: "sum(rate(r[1m]))" }
      lag: { source: prom, query: "kafka_lag" }
      delta: { source: prom, query: "rate(a[1m]) - rate(b[1m])" }
    hpa:
      metrics:
        - { type: Resource, resource: { name: cpu, target: { type: Utilization, averageUtilization: 70 } } }
    queue: { metric: jobs, targetPerReplica: 10 }
`, 'c.yaml').services.api!;
  assert.equal(nonNegativeKind(p, 'cpu', 'prometheus', 'x'), 'cpu usage or utilization');
  assert.equal(nonNegativeKind(p, 'jobs', 'prometheus', 'queue'), 'queue length');
  assert.equal(nonNegativeKind(p, 'rps', 'prometheus', 'sum(rate(r[1m]))'), 'rate');
  assert.equal(nonNegativeKind(p, 'rps', 'trace', 'sum(rate(r[1m]))'), undefined, 'only PromQL is read as PromQL');
  assert.equal(nonNegativeKind(p, 'lag', 'prometheus', 'kafka_lag'), undefined);
  assert.equal(nonNegativeKind(p, 'delta', 'prometheus', 'rate(a[1m]) - rate(b[1m])'), undefined);
});
