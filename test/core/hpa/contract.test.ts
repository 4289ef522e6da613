// contracts/hpa-evaluate.md: every public example through parseHpaRequest → evaluateHpa → toContractResponse, the
// response shape, the API server defaults a request gets, and validation errors that name the JSON path.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { HpaInputError, evaluateHpa, parseHpaRequest, toContractResponse } from '../../../src/core/hpa/index.js';
import { NOW, at } from './fixtures.js';

const EXAMPLES = resolve('..', 'shared', 'contracts', 'hpa-evaluate.examples.json');

interface Example {
  name: string;
  request: Record<string, unknown>;
  expect: Record<string, unknown>;
}

const evaluate = (request: unknown) => toContractResponse(evaluateHpa(parseHpaRequest(request)));

describe('public examples (contracts/hpa-evaluate.examples.json)', () => {
  const examples = JSON.parse(readFileSync(EXAMPLES, 'utf8')) as Example[];
  it('the examples file is not empty', () => assert.ok(examples.length >= 5));
  for (const ex of examples) {
    it(ex.name, () => {
      const out = evaluate(structuredClone(ex.request)) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(ex.expect)) assert.deepEqual(out[k], v, k);
    });
  }
});

function cpuRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hpa: { minReplicas: 1, maxReplicas: 10, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    currentReplicas: 2,
    now: NOW,
    pods: [0, 1].map((i) => ({ name: `p${i}`, phase: 'Running', ready: true, startTime: at(-3600), readyTransitionTime: at(-3500), requests: { cpu: '1' }, usage: { cpu: '900m' } })),
    ...overrides,
  };
}

describe('response shape', () => {
  it('has the contract keys, in order, with per-metric type, name, proposal, utilization, value and error', () => {
    const out = evaluate(cpuRequest());
    assert.deepEqual(Object.keys(out), ['desiredReplicas', 'metrics', 'utilization', 'recommendation', 'reason', 'conditions', 'error']);
    assert.deepEqual(out.metrics, [{ type: 'Resource', name: 'cpu', proposedReplicas: 4, utilization: 90, value: '900m', error: null }]);
    assert.equal(out.desiredReplicas, 4);
    assert.equal(out.recommendation, 4);
    assert.equal(out.error, null);
    for (const c of out.conditions) assert.deepEqual(Object.keys(c), ['type', 'status', 'reason', 'message']);
  });

  it('values print as Kubernetes quantities (NewMilliQuantity(...).String())', () => {
    const out = evaluate({
      hpa: { maxReplicas: 20, metrics: [{ type: 'External', external: { metric: { name: 'bytes' }, target: { type: 'Value', value: '1Gi' } } }] },
      currentReplicas: 2, now: NOW,
      pods: [{ name: 'a' }, { name: 'b' }],
      externalMetrics: [{ metric: { name: 'bytes' }, values: ['1536Mi', '512Mi'] }],
    });
    assert.equal(out.metrics[0]!.value, '2147483648');
    assert.equal(out.metrics[0]!.proposedReplicas, 4);
  });

  it('a computation Kubernetes fails keeps the current count and reports the error', () => {
    const req = cpuRequest();
    for (const p of req.pods as Array<Record<string, unknown>>) delete p.usage;
    const out = evaluate(req);
    assert.equal(out.desiredReplicas, 2);
    assert.match(out.error!, /no metrics returned from resource metrics API/);
    assert.equal(out.reason, 'FailedGetResourceMetric');
    assert.equal(out.metrics[0]!.proposedReplicas, null);
    assert.equal(out.recommendation, null);
  });

  it('missing requests for a utilization target is an error naming pod and container', () => {
    const req = cpuRequest();
    (req.pods as Array<Record<string, unknown>>)[1]!.requests = {};
    (req.pods as Array<Record<string, unknown>>)[1]!.containers = [{ name: 'app', requests: {} }];
    const out = evaluate(req);
    assert.match(out.error!, /missing request for cpu in container app of Pod p1/);
    assert.equal(out.desiredReplicas, 2);
  });

  it('currentReplicas 0 disables autoscaling (ScalingDisabled)', () => {
    const out = evaluate(cpuRequest({ currentReplicas: 0 }));
    assert.equal(out.desiredReplicas, 0);
    assert.equal(out.reason, 'ScalingDisabled');
    assert.deepEqual(out.conditions.map((c) => c.reason), ['SucceededGetScale', 'ScalingDisabled']);
  });
});

describe('request defaults', () => {
  it('no metrics means CPU at 80% of requests (autoscaling/v2 default)', () => {
    const input = parseHpaRequest({ hpa: { maxReplicas: 3 }, currentReplicas: 1, now: NOW });
    assert.equal(input.minReplicas, 1);
    assert.deepEqual(input.metrics.map((m) => [m.type, m.name, m.target.averageUtilization]), [['Resource', 'cpu', 80]]);
    assert.equal(input.behavior, null);
  });

  it('a partly given behavior is completed with the API server defaults', () => {
    const input = parseHpaRequest({ hpa: { maxReplicas: 3, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } }, currentReplicas: 1, now: NOW });
    assert.deepEqual(input.behavior, {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }], tolerance: null },
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }], tolerance: null },
    });
  });

  it('accepts a whole HorizontalPodAutoscaler object as `hpa`', () => {
    const req = cpuRequest();
    req.hpa = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec: req.hpa };
    assert.equal(evaluate(req).desiredReplicas, 4);
  });

  it('controller options default to the kube-controller-manager flags', () => {
    assert.deepEqual(parseHpaRequest(cpuRequest()).options, {
      tolerance: 0.1, cpuInitializationPeriodSeconds: 300, delayOfInitialReadinessStatusSeconds: 30, downscaleStabilizationSeconds: 300, metricWindowSeconds: 15,
    });
  });

  it('no history is a first sync (the current count enters the downscale window); firstSync: false remembers nothing', () => {
    const low = cpuRequest({ currentReplicas: 5 });
    low.pods = [0, 1, 2, 3, 4].map((i) => ({ name: `p${i}`, startTime: at(-3600), requests: { cpu: '1' }, usage: { cpu: '100m' } }));
    const first = evaluate(low);
    // recordInitialRecommendation: the current count sits in the downscale window
    assert.equal(first.desiredReplicas, 5);
    assert.equal(first.reason, 'ScaleDownStabilized');
    assert.deepEqual(evaluate({ ...low, history: { firstSync: true } }), first);
    assert.equal(evaluate({ ...low, history: { firstSync: false } }).desiredReplicas, 1);
    assert.equal(evaluate({ ...low, history: { recommendations: [] } }).desiredReplicas, 1);
  });

  it('quantities may be JSON numbers, as Kubernetes accepts', () => {
    const req = cpuRequest();
    for (const p of req.pods as Array<Record<string, unknown>>) { p.requests = { cpu: 1 }; p.usage = { cpu: 0.9 }; }
    assert.equal(evaluate(req).desiredReplicas, 4);
  });
});

describe('validation names the JSON path', () => {
  const cases: Array<{ name: string; mutate: (r: Record<string, unknown>) => unknown; path: string }> = [
    { name: 'not an object', mutate: () => [1, 2], path: '(request)' },
    { name: 'missing hpa', mutate: (r) => ({ ...r, hpa: undefined }), path: 'hpa:' },
    { name: 'maxReplicas 0', mutate: (r) => ({ ...r, hpa: { ...(r.hpa as object), maxReplicas: 0 } }), path: 'hpa.maxReplicas:' },
    { name: 'minReplicas above maxReplicas', mutate: (r) => ({ ...r, hpa: { ...(r.hpa as object), minReplicas: 11 } }), path: 'hpa.minReplicas:' },
    { name: 'minReplicas 0 with only a CPU metric', mutate: (r) => ({ ...r, hpa: { ...(r.hpa as object), minReplicas: 0 } }), path: 'hpa.minReplicas:' },
    { name: 'averageUtilization 0', mutate: (r) => ({ ...r, hpa: { maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } }] } }), path: 'hpa.metrics[0].resource.target.averageUtilization: must be an integer > 0' },
    { name: 'unknown metric type', mutate: (r) => ({ ...r, hpa: { maxReplicas: 3, metrics: [{ type: 'CheddarCheese' }] } }), path: 'hpa.metrics[0].type:' },
    { name: 'bad target quantity', mutate: (r) => ({ ...r, hpa: { maxReplicas: 3, metrics: [{ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10 rps' } } }] } }), path: 'hpa.metrics[0].pods.target.averageValue: "10 rps" is not a Kubernetes quantity' },
    { name: 'Resource target with neither field', mutate: (r) => ({ ...r, hpa: { maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }] } }), path: 'hpa.metrics[0].resource.target.averageUtilization:' },
    { name: 'policy period over 1800 s', mutate: (r) => ({ ...r, hpa: { ...(r.hpa as object), behavior: { scaleUp: { policies: [{ type: 'Pods', value: 1, periodSeconds: 3600 }] } } } }), path: 'hpa.behavior.scaleUp.policies[0].periodSeconds:' },
    { name: 'unknown selectPolicy', mutate: (r) => ({ ...r, hpa: { ...(r.hpa as object), behavior: { scaleDown: { selectPolicy: 'Fastest' } } } }), path: 'hpa.behavior.scaleDown.selectPolicy:' },
    { name: 'window over an hour', mutate: (r) => ({ ...r, hpa: { ...(r.hpa as object), behavior: { scaleDown: { stabilizationWindowSeconds: 7200 } } } }), path: 'hpa.behavior.scaleDown.stabilizationWindowSeconds:' },
    { name: 'negative tolerance', mutate: (r) => ({ ...r, hpa: { ...(r.hpa as object), behavior: { scaleUp: { tolerance: '-0.1' } } } }), path: 'hpa.behavior.scaleUp.tolerance:' },
    { name: 'currentReplicas missing', mutate: (r) => ({ ...r, currentReplicas: undefined }), path: 'currentReplicas:' },
    { name: 'now not RFC 3339', mutate: (r) => ({ ...r, now: 'yesterday' }), path: 'now: must be an RFC 3339 time' },
    { name: 'pod phase unknown', mutate: (r) => ({ ...r, pods: [{ name: 'a', phase: 'Sleeping' }] }), path: 'pods[0].phase:' },
    { name: 'pod usage not a quantity', mutate: (r) => ({ ...r, pods: [{ name: 'a', usage: { cpu: 'lots' } }] }), path: 'pods[0].usage.cpu:' },
    { name: 'duplicate pod names', mutate: (r) => ({ ...r, pods: [{ name: 'a' }, { name: 'a' }] }), path: 'pods[1].name: duplicate pod name' },
    { name: 'container without name', mutate: (r) => ({ ...r, pods: [{ name: 'a', containers: [{}] }] }), path: 'pods[0].containers[0].name:' },
    { name: 'history time', mutate: (r) => ({ ...r, history: { recommendations: [{ time: 5, replicas: 2 }, { time: 'soon', replicas: 1 }] } }), path: 'history.recommendations[1].time:' },
    { name: 'negative scale event', mutate: (r) => ({ ...r, history: { scaleDownEvents: [{ time: NOW, change: -1 }] } }), path: 'history.scaleDownEvents[0].change:' },
    { name: 'external values missing', mutate: (r) => ({ ...r, externalMetrics: [{ metric: { name: 'q' } }] }), path: 'externalMetrics[0].values: must be an array' },
    { name: 'negative option', mutate: (r) => ({ ...r, options: { tolerance: -1 } }), path: 'options.tolerance:' },
    { name: 'quantity beyond exact range', mutate: (r) => ({ ...r, pods: [{ name: 'a', usage: { cpu: '1E' } }] }), path: 'pods[0].usage.cpu: "1E" is too large' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(() => parseHpaRequest(c.mutate(cpuRequest())), (e: unknown) => {
        assert.ok(e instanceof HpaInputError, String(e));
        assert.ok(e.message.startsWith(c.path), `${e.message} should start with ${c.path}`);
        return true;
      });
    });
  }
});
