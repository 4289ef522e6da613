// Where `hpa evaluate` must match Kubernetes to the last bit or to the release: per-direction tolerances converted
// as Quantity.AsApproximateFloat64 does, the behaviours that differ between Kubernetes minors (kubernetesVersion),
// and the contract points a request can leave out (first sync, metric sample time, status replicas, partial errors).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateHpa, parseHpaRequest, toContractResponse, type HpaInput } from '../../../src/core/hpa/index.js';
import { approximateFloat64, goPow10, toleranceFloat } from '../../../src/core/hpa/tolerance.js';
import { DEFAULT_KUBERNETES_MINOR } from '../../../src/core/hpa/version.js';
import { NOW, at } from './fixtures.js';

const evaluate = (request: unknown) => toContractResponse(evaluateHpa(parseHpaRequest(request)));
const conditionReasons = (r: { conditions: Array<{ type: string; reason: string }> }) => r.conditions.map((c) => `${c.type}:${c.reason}`);

/** n pods reporting `milli` of the Pods metric qps, against an AverageValue target of 1 (1000m). */
function podsRequest(n: number, milli: number, behavior: Record<string, unknown>): Record<string, unknown> {
  return {
    hpa: { minReplicas: 1, maxReplicas: 1000, metrics: [{ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '1' } } }], behavior },
    currentReplicas: n,
    now: NOW,
    pods: Array.from({ length: n }, (_, i) => ({ name: `p${i}`, startTime: at(-3600), metrics: { qps: `${milli}m` } })),
    history: { recommendations: [] },
  };
}

/** An Object metric averaged over `statusReplicas` pods: `totalMilli` against 1 per pod. */
function perPodObjectRequest(replicas: number, totalMilli: number, behavior: Record<string, unknown>): Record<string, unknown> {
  return {
    hpa: {
      minReplicas: 1, maxReplicas: 1000, behavior,
      metrics: [{ type: 'Object', object: { describedObject: { kind: 'Service', name: 'queue' }, metric: { name: 'depth' }, target: { type: 'AverageValue', averageValue: '1' } } }],
    },
    currentReplicas: replicas,
    now: NOW,
    objectMetrics: [{ describedObject: { kind: 'Service', name: 'queue' }, metric: { name: 'depth' }, value: `${totalMilli}m` }],
    history: { recommendations: [] },
  };
}

describe('per-direction tolerance is Quantity.AsApproximateFloat64 of the stored quantity', () => {
  const rows: Array<{ name: string; request: Record<string, unknown>; expected: number }> = [
    // 500u used to be rounded up to 1m: 1.001 > 1 + 0.0005, so Kubernetes scales
    { name: 'sub-milli "500u" keeps its value: one pod at 1001m scales to 2', request: podsRequest(1, 1001, { scaleUp: { tolerance: '500u' } }), expected: 2 },
    // 118 × Pow10(-3) = 0.11800000000000001, and 1 + that is exactly 1.118, so the ratio 1.118 is within
    { name: '"118m": a ratio of exactly 1.118 holds at 1', request: podsRequest(1, 1118, { scaleUp: { tolerance: '118m' } }), expected: 1 },
    { name: '"0.118" is stored as 118m and holds the same way', request: podsRequest(1, 1118, { scaleUp: { tolerance: '0.118' } }), expected: 1 },
    { name: 'a JSON number 0.118 is read as the quantity "0.118"', request: podsRequest(1, 1118, { scaleUp: { tolerance: 0.118 } }), expected: 1 },
    { name: 'just above 1 + 118m scales up', request: podsRequest(1, 1119, { scaleUp: { tolerance: '118m' } }), expected: 2 },
    // 1 − 59 × Pow10(-3) is 0.941 exactly, so a ratio of 0.941 is within on the way down
    {
      name: 'scale-down "59m": a ratio of exactly 0.941 holds at 100',
      request: perPodObjectRequest(100, 94_100, { scaleDown: { tolerance: '59m', stabilizationWindowSeconds: 0 } }),
      expected: 100,
    },
    {
      name: 'scale-down "59m": a ratio of 0.940 scales to 94',
      request: perPodObjectRequest(100, 94_000, { scaleDown: { tolerance: '59m', stabilizationWindowSeconds: 0 } }),
      expected: 94,
    },
  ];
  for (const r of rows) it(r.name, () => assert.equal(evaluate(r.request).desiredReplicas, r.expected));

  it('converts through the printed form, as the controller re-reads what the API server stored', () => {
    const cases: Array<[input: string | number, mantissa: number, exponent: number]> = [
      ['0.3', 300, -3], ['300m', 300, -3], ['500u', 500, -6], ['0.05', 50, -3], [0.05, 50, -3], ['1.5', 1500, -3],
      ['1', 1, 0], ['2', 2, 0], ['1e-3', 1, -3], ['0.0000000001', 1, -9], ['1000m', 1, 0],
    ];
    for (const [input, mantissa, exponent] of cases) {
      const expected = exponent === 0 ? mantissa : mantissa * goPow10(exponent);
      assert.equal(toleranceFloat(input), expected, String(input));
    }
    assert.equal(toleranceFloat('1Ki'), 1024);
    // a kept original text ("1.500" is canonical enough for Kubernetes to print back) parses to 1500 × 10^-3
    assert.equal(approximateFloat64('1.500'), 1500 * goPow10(-3));
  });

  it('Go\'s Pow10 divides by an exact power of ten for small negative exponents', () => {
    assert.equal(goPow10(-3), 1 / 1000);
    assert.equal(goPow10(-9), 1 / 1e9);
    assert.equal(goPow10(0), 1);
    assert.equal(goPow10(400), Infinity);
  });

  it('a negative tolerance is rejected with its path', () => {
    assert.throws(() => parseHpaRequest(podsRequest(1, 1000, { scaleDown: { tolerance: '-1m' } })), /^HpaInputError: hpa\.behavior\.scaleDown\.tolerance: must be greater than or equal to zero|hpa\.behavior\.scaleDown\.tolerance: must be greater/);
  });
});

/** `base` evaluated at two Kubernetes versions. */
function atVersions(base: Record<string, unknown>, older: string, newer: string) {
  return { older: evaluate({ ...base, kubernetesVersion: older }), newer: evaluate({ ...base, kubernetesVersion: newer }) };
}

function cpuPods(levels: Array<number | null>, extra: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  return [
    ...levels.map((l, i) => ({ name: `p${i}`, startTime: at(-3600), readyTransitionTime: at(-3500), requests: { cpu: '1' }, ...(l === null ? {} : { usage: { cpu: `${l}m` } }) })),
    ...extra,
  ];
}

describe('kubernetesVersion', () => {
  it(`defaults to the latest released minor, 1.${DEFAULT_KUBERNETES_MINOR}`, () => {
    const input: HpaInput = parseHpaRequest({ hpa: { maxReplicas: 3 }, currentReplicas: 1, now: NOW });
    assert.equal(input.kubernetesMinor, DEFAULT_KUBERNETES_MINOR);
    assert.equal(parseHpaRequest({ hpa: { maxReplicas: 3 }, currentReplicas: 1, now: NOW, kubernetesVersion: 'v1.34.2' }).kubernetesMinor, 34);
  });

  for (const bad of ['1.22', '1.39', '2.0', 'latest', 1.3]) {
    it(`rejects ${JSON.stringify(bad)} naming the path and the supported range`, () => {
      assert.throws(() => parseHpaRequest({ hpa: { maxReplicas: 3 }, currentReplicas: 1, now: NOW, kubernetesVersion: bad }), /kubernetesVersion: must be a Kubernetes version from "1\.23" to "1\.38"/);
    });
  }

  it('Succeeded pods count as missing in released versions and are ignored on master (1.38)', () => {
    // two running pods at 60% against 50%, and one Succeeded pod with no sample
    const base = {
      hpa: { minReplicas: 1, maxReplicas: 10, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
      currentReplicas: 2, now: NOW,
      pods: cpuPods([600, 600], [{ name: 'done', phase: 'Succeeded', ready: false, startTime: at(-3600), requests: { cpu: '1' } }]),
    };
    const { older, newer } = atVersions(base, '1.37', '1.38');
    // as a missing pod it is taken at 0% on a scale-up: 40% would reverse the direction, so the count holds
    assert.equal(older.desiredReplicas, 2);
    assert.equal(newer.desiredReplicas, 3);
    assert.equal(evaluate(base).desiredReplicas, 2, 'the default is a released version');
  });

  it('a ContainerResource pod whose metrics lack the container fails the metric before 1.32 and is missing since', () => {
    const container = (name: string, usage: string | null) => ({ name, requests: { cpu: '500m' }, ...(usage === null ? {} : { usage: { cpu: usage } }) });
    const base = {
      hpa: { minReplicas: 1, maxReplicas: 10, metrics: [{ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization', averageUtilization: 50 } } }] },
      currentReplicas: 3, now: NOW,
      pods: [
        { name: 'a', startTime: at(-3600), readyTransitionTime: at(-3500), containers: [container('app', '450m'), container('sidecar', '10m')] },
        { name: 'b', startTime: at(-3600), readyTransitionTime: at(-3500), containers: [container('app', '450m'), container('sidecar', '10m')] },
        // restarted: the metrics API lists the pod, but only its sidecar
        { name: 'c', startTime: at(-3600), readyTransitionTime: at(-3500), containers: [container('app', null), container('sidecar', '10m')] },
      ],
      history: { recommendations: [] },
    };
    const { older, newer } = atVersions(base, '1.31', '1.32');
    assert.equal(older.desiredReplicas, 3);
    assert.match(older.error!, /container app not present in metrics for pod default\/c/);
    assert.equal(older.metrics[0]!.proposedReplicas, null);
    // 90% on the two pods with samples; c is missing and counted at 0% on the way up: 60% → ceil(1.2 × 3)
    assert.equal(newer.error, null);
    assert.equal(newer.metrics[0]!.utilization, 90);
    assert.equal(newer.desiredReplicas, 4);
  });

  describe('minReplicas 0 at zero replicas', () => {
    const external = (value: string) => ({
      hpa: { minReplicas: 0, maxReplicas: 10, metrics: [{ type: 'External', external: { metric: { name: 'jobs' }, target: { type: 'Value', value: '10' } } }] },
      currentReplicas: 0, now: NOW, pods: [],
      externalMetrics: [{ metric: { name: 'jobs' }, values: [value] }],
    });

    it('before 1.36 the controller scales from zero whenever minReplicas is 0', () => {
      const out = evaluate({ ...external('35'), kubernetesVersion: '1.35' });
      assert.equal(out.desiredReplicas, 4);
      assert.ok(!conditionReasons(out).some((c) => c.startsWith('ScaledToZero')));
    });

    it('since 1.36 a target someone else scaled to zero stays disabled', () => {
      for (const v of ['1.36', '1.37']) {
        const out = evaluate({ ...external('35'), kubernetesVersion: v });
        assert.equal(out.desiredReplicas, 0, v);
        assert.equal(out.reason, 'ScalingDisabled', v);
      }
    });

    it('since 1.36 it scales from zero when its ScaledToZero condition is True, and reports it left zero', () => {
      const out = evaluate({ ...external('35'), kubernetesVersion: '1.37', scaledToZero: true });
      assert.equal(out.desiredReplicas, 4);
      assert.deepEqual(out.conditions.at(-1), { type: 'ScaledToZero', status: 'False', reason: 'NotScaledToZero', message: 'the HPA controller did not scale the workload to zero' });
    });

    it('reads the ScaledToZero condition from a whole HorizontalPodAutoscaler object', () => {
      const req = external('35');
      const out = evaluate({ ...req, hpa: { kind: 'HorizontalPodAutoscaler', spec: req.hpa, status: { conditions: [{ type: 'ScaledToZero', status: 'True' }] } } });
      assert.equal(out.desiredReplicas, 4);
    });

    it('since 1.36 a raised minReplicas lifts a target the controller had scaled to zero', () => {
      const req = external('5');
      const raised = { ...req, hpa: { ...req.hpa, minReplicas: 2 }, scaledToZero: true };
      assert.equal(evaluate({ ...raised, kubernetesVersion: '1.37' }).desiredReplicas, 2);
      // before 1.36 a target at zero with minReplicas above 0 is disabled
      assert.equal(evaluate({ ...raised, kubernetesVersion: '1.35' }).reason, 'ScalingDisabled');
    });

    it('scaling to zero sets ScaledToZero=True from 1.36 (gate on) and nothing before', () => {
      const req = { ...external('0'), currentReplicas: 3, pods: cpuPods([100, 100, 100]), history: { recommendations: [] } };
      const { older, newer } = atVersions(req, '1.35', '1.37');
      assert.equal(older.desiredReplicas, 0);
      assert.equal(newer.desiredReplicas, 0);
      assert.ok(!conditionReasons(older).includes('ScaledToZero:ScaledToZero'));
      assert.deepEqual(newer.conditions.at(-1), { type: 'ScaledToZero', status: 'True', reason: 'ScaledToZero', message: 'the HPA controller scaled the workload to zero' });
      // in 1.36 the gate is alpha, but an HPA with minReplicas 0 exists only with it on
      assert.deepEqual(evaluate({ ...req, kubernetesVersion: '1.36' }).conditions.at(-1), newer.conditions.at(-1));
    });

    it('with the gate on by default (1.37), any other rescale reports ScaledToZero=False', () => {
      const cpu = {
        hpa: { minReplicas: 1, maxReplicas: 10, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
        currentReplicas: 2, now: NOW, pods: cpuPods([900, 900]),
      };
      const { older, newer } = atVersions(cpu, '1.36', '1.37');
      assert.equal(newer.desiredReplicas, 4);
      assert.deepEqual(conditionReasons(newer), ['AbleToScale:SucceededRescale', 'ScalingActive:ValidMetricFound', 'ScalingLimited:DesiredWithinRange', 'ScaledToZero:NotScaledToZero']);
      assert.deepEqual(conditionReasons(older), ['AbleToScale:SucceededRescale', 'ScalingActive:ValidMetricFound', 'ScalingLimited:DesiredWithinRange']);
    });
  });

  it('before 1.33 the tolerance test is |1 − ratio| ≤ tolerance: a ratio of exactly 1.1 scales there and holds since', () => {
    // 55% against 50%: 1 + 0.1 rounds to the double 1.1, while |1 − 1.1| is 0.10000000000000009
    const base = {
      hpa: { minReplicas: 1, maxReplicas: 10, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
      currentReplicas: 4, now: NOW, pods: cpuPods([550, 550, 550, 550]),
    };
    const { older, newer } = atVersions(base, '1.32', '1.33');
    assert.equal(older.desiredReplicas, 5);
    assert.equal(newer.desiredReplicas, 4);
    assert.equal(atVersions(podsRequest(1, 1100, {}), '1.32', '1.33').older.desiredReplicas, 2);
    assert.equal(atVersions(podsRequest(1, 1100, {}), '1.32', '1.33').newer.desiredReplicas, 1);
  });

  it('behavior tolerances exist from 1.33; older API servers drop them and the flag applies', () => {
    const base = podsRequest(1, 1150, { scaleUp: { tolerance: '200m' } });
    const { older, newer } = atVersions(base, '1.32', '1.33');
    assert.equal(older.desiredReplicas, 2);
    assert.equal(newer.desiredReplicas, 1);
  });
});

describe('contract points a request may leave out', () => {
  const fourAtTenPercent = {
    hpa: { minReplicas: 1, maxReplicas: 10, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    currentReplicas: 4, now: NOW, pods: cpuPods([100, 100, 100, 100]),
  };

  it('no history is a real first sync: 4 pods at 10% hold for the downscale window', () => {
    const out = evaluate(fourAtTenPercent);
    assert.equal(out.desiredReplicas, 4);
    assert.equal(out.recommendation, 1);
    assert.equal(out.reason, 'ScaleDownStabilized');
  });

  it('"no history at all" stays available as firstSync: false', () => {
    assert.equal(evaluate({ ...fourAtTenPercent, history: { firstSync: false } }).desiredReplicas, 1);
    assert.throws(() => parseHpaRequest({ ...fourAtTenPercent, history: { firstSync: true, recommendations: [] } }), /history\.firstSync/);
  });

  it('metricTime and metricWindowSeconds decide whether a freshly ready pod\'s CPU sample counts', () => {
    // p3 started a minute ago (inside the 300 s initialization period) and turned ready 20 s ago
    const req = (metricTime: string | undefined, window?: number) => ({
      ...fourAtTenPercent,
      history: { firstSync: false },
      pods: [
        ...cpuPods([900, 900, 900]),
        { name: 'p3', startTime: at(-60), readyTransitionTime: at(-20), requests: { cpu: '1' }, usage: { cpu: '100m' }, ...(metricTime ? { metricTime } : {}) },
      ],
      ...(window !== undefined ? { options: { metricWindowSeconds: window } } : {}),
    });
    // default: sampled at `now`, 20 s after the transition, past the 15 s window → counted: 70% → ceil(1.4 × 4)
    assert.equal(evaluate(req(undefined)).metrics[0]!.utilization, 70);
    // sampled 10 s after the transition: less than one window → set aside as unready, 90% on the other three
    assert.equal(evaluate(req(at(-10))).metrics[0]!.utilization, 90);
    // a 30 s window sets aside even the sample taken now
    assert.equal(evaluate(req(undefined, 30)).metrics[0]!.utilization, 90);
  });

  it('per-pod Object and External targets divide by statusReplicas (scale.status.replicas), not currentReplicas', () => {
    const req = perPodObjectRequest(4, 4_200, {});
    // 4.2 over the 4 replicas of the scale's status: ratio 1.05, within tolerance → keep 4
    assert.equal(evaluate(req).metrics[0]!.proposedReplicas, 4);
    assert.equal(evaluate(req).metrics[0]!.value, '1050m');
    // only 3 replicas in status (one still starting): ratio 1.4 → ceil(4.2 / 1) = 5, average ceil(4200m / 3)
    const starting = evaluate({ ...req, statusReplicas: 3 });
    assert.equal(starting.metrics[0]!.proposedReplicas, 5);
    assert.equal(starting.metrics[0]!.value, '1400m');
  });

  it('one failing metric does not stop a scale-up, and the response carries both the new count and the error', () => {
    const out = evaluate({
      ...fourAtTenPercent,
      hpa: {
        ...fourAtTenPercent.hpa,
        metrics: [
          { type: 'External', external: { metric: { name: 'absent' }, target: { type: 'Value', value: '1' } } },
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 5 } } },
        ],
      },
    });
    assert.equal(out.desiredReplicas, 8);
    assert.match(out.error!, /^invalid metrics \(1 invalid out of 2\), first error is: failed to get absent external metric value/);
    assert.equal(out.metrics[0]!.error !== null && out.metrics[1]!.error === null, true);
    assert.deepEqual(conditionReasons(out).slice(0, 2), ['AbleToScale:SucceededRescale', 'ScalingActive:ValidMetricFound']);
  });
});
