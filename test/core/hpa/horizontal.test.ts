// Whole HPA syncs, row by row from Kubernetes' pkg/controller/podautoscaler/horizontal_test.go: the harness builds
// pods with two containers sharing each reported request and CPU level, pods metrics "qps", one object value and
// external series, then checks the written replica count and the (type, status, reason) of every condition.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateHpa, parseHpaRequest, toContractResponse } from '../../../src/core/hpa/index.js';
import {
  COOL, HOT, NOW, TESTING_OPTIONS, at, cpuUtilization, externalMetric, m, objectMetric, podState, podsMetric,
  type PodShape,
} from './fixtures.js';

const HT = 'horizontal_test.go';

type Cond = [type: string, status: string, reason: string];

interface Row extends PodShape {
  source: string;
  min: number;
  max: number;
  spec: number;
  status?: number;
  expected: number;
  cpuTarget?: number;
  levels?: number[];
  requests?: string[];
  metrics?: Record<string, unknown>[];
  /** undefined: the controller's first sync (Go's nil recommendations); otherwise its memory */
  recommendations?: Array<[replicas: number, secondsAgo: number]>;
  behavior?: Record<string, unknown>;
  conditions?: Cond[];
  /** metric sources whose values the metrics APIs fail to return */
  failing?: Array<'resource' | 'pods' | 'object' | 'external'>;
  options?: Record<string, unknown>;
}

const OK: Cond[] = [['AbleToScale', 'True', 'SucceededRescale'], ['ScalingActive', 'True', 'ValidMetricFound'], ['ScalingLimited', 'False', 'DesiredWithinRange']];

/** statusOkWithOverrides: the "ok" conditions with the given ones replaced by type. */
function ok(...overrides: Cond[]): Cond[] {
  const out = OK.map((c) => [...c] as Cond);
  for (const o of overrides) {
    const i = out.findIndex((c) => c[0] === o[0]);
    if (i >= 0) out[i] = o;
    else out.push(o);
  }
  return out;
}

const milli = (q: string) => Math.round(Number(q) * 1000);
const half = (v: number) => Math.floor(v / 2);

function request(row: Row): Record<string, unknown> {
  const status = row.status ?? row.spec;
  const podCount = row.requests !== undefined ? row.requests.length : status;
  const levels = row.levels ?? [];
  const failing = new Set(row.failing ?? []);
  const pods = [];
  for (let i = 0; i < podCount; i++) {
    const req = half(milli(row.requests?.[i] ?? '1.0'));
    const pod: Record<string, unknown> = { ...podState(row, i) };
    // the horizontal harness sets the Ready condition's transition at the pod's start time
    if (row.startTime?.[i] !== HOT) pod.readyTransitionTime = pod.startTime;
    const level = levels[i];
    pod.containers = ['container1', 'container2'].map((name) => ({
      name,
      requests: { cpu: m(req) },
      ...(level !== undefined && !failing.has('resource') ? { usage: { cpu: m(half(level)) } } : {}),
    }));
    if (level !== undefined && !failing.has('pods')) pod.metrics = { qps: m(level) };
    pods.push(pod);
  }
  const metrics = [...(row.cpuTarget ? [cpuUtilization(row.cpuTarget)] : []), ...(row.metrics ?? [])];
  return {
    hpa: { minReplicas: row.min, maxReplicas: row.max, metrics, ...(row.behavior ? { behavior: row.behavior } : {}) },
    currentReplicas: row.spec,
    statusReplicas: status,
    now: NOW,
    pods,
    objectMetrics: failing.has('object') || levels.length === 0 ? [] : [{ describedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'some-deployment' }, metric: { name: 'qps' }, value: m(levels[0]!) }],
    externalMetrics: failing.has('external') ? [] : [{ metric: { name: 'qps', selector: { matchLabels: { label: 'value' } } }, values: levels.map(m) }],
    history: row.recommendations === undefined ? { firstSync: true } : { recommendations: row.recommendations.map(([replicas, s]) => ({ replicas, time: at(-s) })) },
    options: { ...TESTING_OPTIONS, ...row.options },
    // the rows come from horizontal_test.go before v1.36, which neither reported nor needed a ScaledToZero condition
    kubernetesVersion: '1.35',
  };
}

const ones = (n: number) => Array.from({ length: n }, () => '1.0');
const qps = (avg: number) => podsMetric('qps', avg);

const rows: Row[] = [
  { source: 'TestScaleUp', min: 2, max: 6, spec: 3, expected: 5, cpuTarget: 30, levels: [300, 500, 700], requests: ones(3) },
  { source: 'TestScaleUpContainer', min: 2, max: 6, spec: 3, expected: 5, levels: [300, 500, 700], requests: ones(3), metrics: [{ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'container1', target: { type: 'Utilization', averageUtilization: 30 } } }] },
  { source: 'TestScaleUpUnreadyLessScale', min: 2, max: 6, spec: 3, expected: 4, cpuTarget: 30, levels: [300, 500, 700], requests: ones(3), readiness: [false, true, true] },
  { source: 'TestScaleUpHotCpuLessScale', min: 2, max: 6, spec: 3, expected: 4, cpuTarget: 30, levels: [300, 500, 700], requests: ones(3), startTime: [HOT, COOL, COOL] },
  { source: 'TestScaleUpUnreadyNoScale', min: 2, max: 6, spec: 3, expected: 3, cpuTarget: 30, levels: [400, 500, 700], requests: ones(3), readiness: [true, false, false], conditions: ok(['AbleToScale', 'True', 'ReadyForNewScale']) },
  { source: 'TestScaleUpHotCpuNoScale', min: 2, max: 6, spec: 3, expected: 3, cpuTarget: 30, levels: [400, 500, 700], requests: ones(3), readiness: [true, false, false], startTime: [COOL, HOT, HOT], conditions: ok(['AbleToScale', 'True', 'ReadyForNewScale']) },
  { source: 'TestScaleUpIgnoresFailedPods', min: 2, max: 6, spec: 2, expected: 4, cpuTarget: 30, levels: [500, 700], requests: ones(4), readiness: [true, true, false, false], phase: ['Running', 'Running', 'Failed', 'Failed'] },
  { source: 'TestScaleUpIgnoresDeletionPods', min: 2, max: 6, spec: 2, expected: 4, cpuTarget: 30, levels: [500, 700], requests: ones(4), readiness: [true, true, false, false], deleted: [false, false, true, true] },
  { source: 'TestScaleUpCM', min: 2, max: 6, spec: 3, expected: 4, metrics: [qps(15000)], levels: [20000, 10000, 30000], requests: ones(3) },
  { source: 'TestScaleUpCMUnreadyAndHotCpuNoLessScale', min: 2, max: 6, spec: 3, expected: 6, metrics: [qps(15000)], levels: [50000, 10000, 30000], readiness: [true, true, false], startTime: [COOL, COOL, HOT], requests: ones(3) },
  { source: 'TestScaleUpCMUnreadyandCpuHot', min: 2, max: 6, spec: 3, expected: 6, metrics: [qps(15000)], levels: [50000, 15000, 30000], readiness: [false, true, false], startTime: [HOT, COOL, HOT], requests: ones(3), conditions: ok(['ScalingLimited', 'True', 'TooManyReplicas']) },
  { source: 'TestScaleUpHotCpuNoScaleWouldScaleDown', min: 2, max: 6, spec: 3, expected: 6, metrics: [qps(15000)], levels: [50000, 15000, 30000], startTime: [HOT, COOL, HOT], requests: ones(3), conditions: ok(['ScalingLimited', 'True', 'TooManyReplicas']) },
  { source: 'TestScaleUpCMObject', min: 2, max: 6, spec: 3, expected: 4, metrics: [objectMetric('qps', { value: 15000 })], levels: [20000] },
  { source: 'TestScaleUpFromZeroCMObject', min: 0, max: 6, spec: 0, expected: 2, metrics: [objectMetric('qps', { value: 15000 })], levels: [20000] },
  { source: 'TestScaleUpFromZeroIgnoresToleranceCMObject', min: 0, max: 6, spec: 0, expected: 1, metrics: [objectMetric('qps', { value: 1000 })], levels: [1000] },
  { source: 'TestScaleUpPerPodCMObject', min: 2, max: 6, spec: 3, expected: 4, metrics: [objectMetric('qps', { averageValue: 10000 })], levels: [40000] },
  { source: 'TestScaleUpCMExternal', min: 2, max: 6, spec: 3, expected: 4, metrics: [externalMetric('qps', { value: 6666 })], levels: [8600] },
  { source: 'TestScaleUpPerPodCMExternal', min: 2, max: 6, spec: 3, expected: 4, metrics: [externalMetric('qps', { averageValue: 2222 })], levels: [8600] },
  { source: 'TestScaleDown', min: 2, max: 6, spec: 5, expected: 3, cpuTarget: 50, levels: [100, 300, 500, 250, 250], requests: ones(5), recommendations: [] },
  { source: 'TestScaleDownContainerResource', min: 2, max: 6, spec: 5, expected: 3, levels: [100, 300, 500, 250, 250], requests: ones(5), recommendations: [], metrics: [{ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'container2', target: { type: 'Utilization', averageUtilization: 50 } } }] },
  { source: 'TestScaleDownWithScalingRules', min: 2, max: 6, spec: 5, expected: 3, cpuTarget: 50, levels: [100, 300, 500, 250, 250], requests: ones(5), recommendations: [], behavior: { scaleUp: { stabilizationWindowSeconds: 30, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } } },
  { source: 'TestScaleDownStabilizeInitialSize', min: 2, max: 6, spec: 5, expected: 5, cpuTarget: 50, levels: [100, 300, 500, 250, 250], requests: ones(5), conditions: ok(['AbleToScale', 'True', 'ScaleDownStabilized']) },
  { source: 'TestScaleDownCM', min: 2, max: 6, spec: 5, expected: 3, metrics: [qps(20000)], levels: [12000, 12000, 12000, 12000, 12000], requests: ones(5), recommendations: [] },
  { source: 'TestScaleDownCMObject', min: 2, max: 6, spec: 5, expected: 3, metrics: [objectMetric('qps', { value: 20000 })], levels: [12000], requests: ones(5), recommendations: [] },
  { source: 'TestScaleDownToZeroCMObject', min: 0, max: 6, spec: 5, expected: 0, metrics: [objectMetric('qps', { value: 20000 })], levels: [0], requests: ones(5), recommendations: [] },
  { source: 'TestScaleDownPerPodCMObject', min: 2, max: 6, spec: 5, expected: 3, metrics: [objectMetric('qps', { averageValue: 20000 })], levels: [60000], requests: ones(5), recommendations: [] },
  { source: 'TestScaleDownCMExternal', min: 2, max: 6, spec: 5, expected: 3, metrics: [externalMetric('qps', { value: 14400 })], levels: [8600], recommendations: [] },
  { source: 'TestScaleDownToZeroCMExternal', min: 0, max: 6, spec: 5, expected: 0, metrics: [externalMetric('qps', { value: 14400 })], levels: [0], recommendations: [] },
  { source: 'TestScaleDownPerPodCMExternal', min: 2, max: 6, spec: 5, expected: 3, metrics: [externalMetric('qps', { averageValue: 3000 })], levels: [8600], recommendations: [] },
  { source: 'TestScaleDownIncludeUnreadyPods', min: 2, max: 6, spec: 5, expected: 2, cpuTarget: 50, levels: [100, 300, 500, 250, 250], requests: ones(5), readiness: [true, true, true, false, false], recommendations: [] },
  { source: 'TestScaleDownIgnoreHotCpuPods', min: 2, max: 6, spec: 5, expected: 2, cpuTarget: 50, levels: [100, 300, 500, 250, 250], requests: ones(5), startTime: [COOL, COOL, COOL, HOT, HOT], recommendations: [] },
  { source: 'TestScaleDownIgnoresFailedPods', min: 2, max: 6, spec: 5, expected: 3, cpuTarget: 50, levels: [100, 300, 500, 250, 250], requests: ones(7), readiness: [true, true, true, true, true, false, false], phase: ['Running', 'Running', 'Running', 'Running', 'Running', 'Failed', 'Failed'], recommendations: [] },
  { source: 'TestScaleDownIgnoresDeletionPods', min: 2, max: 6, spec: 5, expected: 3, cpuTarget: 50, levels: [100, 300, 500, 250, 250], requests: ones(7), readiness: [true, true, true, true, true, false, false], deleted: [false, false, false, false, false, true, true], recommendations: [] },
  { source: 'TestTolerance', min: 1, max: 5, spec: 3, expected: 3, cpuTarget: 100, levels: [1010, 1030, 1020], requests: ['0.9', '1.0', '1.1'], conditions: ok(['AbleToScale', 'True', 'ReadyForNewScale']) },
  { source: 'TestToleranceCM', min: 1, max: 5, spec: 3, expected: 3, metrics: [qps(20000)], levels: [20000, 20001, 21000], requests: ['0.9', '1.0', '1.1'], conditions: ok(['AbleToScale', 'True', 'ReadyForNewScale']) },
  { source: 'TestToleranceCMObject', min: 1, max: 5, spec: 3, expected: 3, metrics: [objectMetric('qps', { value: 20000 })], levels: [20050], requests: ['0.9', '1.0', '1.1'], conditions: ok(['AbleToScale', 'True', 'ReadyForNewScale']) },
  { source: 'TestToleranceCMExternal', min: 2, max: 6, spec: 4, expected: 4, metrics: [externalMetric('qps', { value: 8666 })], levels: [8600], conditions: ok(['AbleToScale', 'True', 'ReadyForNewScale']) },
  { source: 'TestTolerancePerPodCMObject', min: 2, max: 6, spec: 4, expected: 4, metrics: [objectMetric('qps', { averageValue: 2200 })], levels: [8600], conditions: ok(['AbleToScale', 'True', 'ReadyForNewScale']) },
  { source: 'TestTolerancePerPodCMExternal', min: 2, max: 6, spec: 4, expected: 4, metrics: [externalMetric('qps', { averageValue: 2200 })], levels: [8600], conditions: ok(['AbleToScale', 'True', 'ReadyForNewScale']) },
  { source: 'TestMinReplicas', min: 2, max: 5, spec: 3, expected: 2, cpuTarget: 90, levels: [10, 95, 10], requests: ['0.9', '1.0', '1.1'], recommendations: [], conditions: ok(['ScalingLimited', 'True', 'TooFewReplicas']) },
  { source: 'TestMinReplicasDesiredZero', min: 2, max: 5, spec: 3, expected: 2, cpuTarget: 90, levels: [0, 0, 0], requests: ['0.9', '1.0', '1.1'], recommendations: [], conditions: ok(['ScalingLimited', 'True', 'TooFewReplicas']) },
  { source: 'TestZeroReplicas', min: 3, max: 5, spec: 0, expected: 0, cpuTarget: 90, requests: [], conditions: [['AbleToScale', 'True', 'SucceededGetScale'], ['ScalingActive', 'False', 'ScalingDisabled']] },
  { source: 'TestTooFewReplicas', min: 3, max: 5, spec: 2, expected: 3, cpuTarget: 90, requests: [], conditions: [['AbleToScale', 'True', 'SucceededRescale']] },
  { source: 'TestTooManyReplicas', min: 3, max: 5, spec: 10, expected: 5, cpuTarget: 90, requests: [], conditions: [['AbleToScale', 'True', 'SucceededRescale']] },
  { source: 'TestMaxReplicas', min: 2, max: 5, spec: 3, expected: 5, cpuTarget: 90, levels: [8000, 9500, 1000], requests: ['0.9', '1.0', '1.1'], conditions: ok(['ScalingLimited', 'True', 'TooManyReplicas']) },
  // the Go row also reports metrics for two pods that do not exist; pods here carry their own samples
  { source: 'TestSuperfluousMetrics', min: 2, max: 6, spec: 4, expected: 6, cpuTarget: 100, levels: [4000, 9500, 3000, 7000], requests: ones(4), conditions: ok(['ScalingLimited', 'True', 'TooManyReplicas']) },
  { source: 'TestMissingMetrics', min: 2, max: 6, spec: 4, expected: 3, cpuTarget: 100, levels: [400, 95], requests: ones(4), recommendations: [] },
  { source: 'TestEmptyMetrics', min: 2, max: 6, spec: 4, expected: 4, cpuTarget: 100, levels: [], requests: ones(4), conditions: [['AbleToScale', 'True', 'SucceededGetScale'], ['ScalingActive', 'False', 'FailedGetResourceMetric']] },
  { source: 'TestEmptyCPURequest', min: 1, max: 5, spec: 1, expected: 1, cpuTarget: 100, levels: [200], requests: [], conditions: [['AbleToScale', 'True', 'SucceededGetScale'], ['ScalingActive', 'False', 'FailedGetResourceMetric']] },
  { source: 'TestEventCreated', min: 1, max: 5, spec: 1, expected: 2, cpuTarget: 50, levels: [200], requests: ['0.2'] },
  { source: 'TestEventNotCreated', min: 1, max: 5, spec: 2, expected: 2, cpuTarget: 50, levels: [200, 200], requests: ['0.4', '0.4'], conditions: ok(['AbleToScale', 'True', 'ReadyForNewScale']) },
  { source: 'TestMissingReports', min: 1, max: 5, spec: 4, expected: 2, cpuTarget: 50, levels: [200], requests: ['0.2'], recommendations: [] },
  { source: 'TestUpscaleCap', min: 1, max: 100, spec: 3, expected: 24, cpuTarget: 10, levels: [100, 200, 300], requests: ['0.1', '0.1', '0.1'], behavior: { scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 700, periodSeconds: 60 }] } }, conditions: ok(['ScalingLimited', 'True', 'ScaleUpLimit']) },
  { source: 'TestUpscaleCapGreaterThanMaxReplicas', min: 1, max: 20, spec: 3, expected: 20, cpuTarget: 10, levels: [100, 200, 300], requests: ['0.1', '0.1', '0.1'], behavior: { scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 700, periodSeconds: 60 }] } }, conditions: ok(['ScalingLimited', 'True', 'TooManyReplicas']) },
  { source: 'TestMoreReplicasThanSpecNoScale', min: 1, max: 8, spec: 4, status: 5, expected: 4, cpuTarget: 50, levels: [500, 500, 500, 500, 500], requests: ones(5), conditions: ok(['AbleToScale', 'True', 'ReadyForNewScale']) },
  { source: 'TestConditionFailedGetMetrics FailedGetResourceMetric', min: 1, max: 100, spec: 3, expected: 3, cpuTarget: 10, levels: [100, 200, 300], requests: ['0.1', '0.1', '0.1'], failing: ['resource'], conditions: [['AbleToScale', 'True', 'SucceededGetScale'], ['ScalingActive', 'False', 'FailedGetResourceMetric']] },
  { source: 'TestConditionFailedGetMetrics FailedGetPodsMetric', min: 1, max: 100, spec: 3, expected: 3, metrics: [qps(15000)], levels: [100, 200, 300], requests: ['0.1', '0.1', '0.1'], failing: ['pods'], conditions: [['AbleToScale', 'True', 'SucceededGetScale'], ['ScalingActive', 'False', 'FailedGetPodsMetric']] },
  { source: 'TestConditionFailedGetMetrics FailedGetObjectMetric', min: 1, max: 100, spec: 3, expected: 3, metrics: [objectMetric('qps', { value: 15000 })], levels: [100, 200, 300], requests: ['0.1', '0.1', '0.1'], failing: ['object'], conditions: [['AbleToScale', 'True', 'SucceededGetScale'], ['ScalingActive', 'False', 'FailedGetObjectMetric']] },
  { source: 'TestConditionFailedGetMetrics FailedGetExternalMetric', min: 1, max: 100, spec: 3, expected: 3, metrics: [externalMetric('qps', { value: 300 })], levels: [100, 200, 300], requests: ['0.1', '0.1', '0.1'], failing: ['external'], conditions: [['AbleToScale', 'True', 'SucceededGetScale'], ['ScalingActive', 'False', 'FailedGetExternalMetric']] },
  { source: 'TestNoBackoffUpscaleCM', min: 1, max: 5, spec: 3, expected: 4, metrics: [qps(15000)], levels: [20000, 10000, 30000], requests: ones(3) },
  { source: 'TestNoBackoffUpscaleCMNoBackoffCpu', min: 1, max: 5, spec: 3, expected: 5, cpuTarget: 10, metrics: [qps(15000)], levels: [20000, 10000, 30000], requests: ones(3), conditions: ok(['ScalingLimited', 'True', 'TooManyReplicas']) },
  { source: 'TestStabilizeDownscale', min: 1, max: 5, spec: 4, expected: 4, cpuTarget: 100, levels: [50, 50, 50], requests: ['0.1', '0.1', '0.1'], recommendations: [[10, 600], [4, 60]], conditions: ok(['AbleToScale', 'True', 'ScaleDownStabilized']) },
  { source: 'TestScaleUpRCImmediately', min: 2, max: 6, spec: 1, expected: 2, levels: [0, 0, 0, 0], requests: ones(4), conditions: [['AbleToScale', 'True', 'SucceededRescale']] },
  { source: 'TestScaleDownRCImmediately', min: 2, max: 5, spec: 6, expected: 5, cpuTarget: 50, levels: [8000, 9500, 1000], requests: ['0.9', '1.0', '1.1'], conditions: [['AbleToScale', 'True', 'SucceededRescale']] },
  { source: 'TestScaleUpOneMetricEmpty', min: 2, max: 6, spec: 3, expected: 4, cpuTarget: 30, metrics: [externalMetric('qps', { value: 100 })], levels: [300, 400, 500], requests: ones(3), failing: ['external'] },
  { source: 'TestNoScaleDownOneMetricEmpty', min: 2, max: 6, spec: 5, expected: 5, cpuTarget: 50, metrics: [externalMetric('qps', { value: 1000 })], levels: [100, 300, 500, 250, 250], requests: ones(5), failing: ['external'], conditions: [['AbleToScale', 'True', 'SucceededGetScale'], ['ScalingActive', 'False', 'FailedGetExternalMetric']] },
];

describe('HPA sync (horizontal_test.go)', () => {
  for (const row of rows) {
    it(`${HT} ${row.source}`, () => {
      const result = evaluateHpa(parseHpaRequest(request(row)));
      assert.equal(result.desiredReplicas, row.expected, 'desired replicas');
      const got = result.conditions.map((c): Cond => [c.type, c.status, c.reason]);
      assert.deepEqual(got, row.conditions ?? OK, 'conditions');
    });
  }

  it(`${HT} TestComputedToleranceAlgImplementation (minReplicas 1: the API rejects 0 with only a CPU metric)`, () => {
    const startPods = 10;
    const totalUsed = startPods * 150;
    const totalRequested = 2 * totalUsed;
    const perPod = totalRequested / startPods;
    const requests = [perPod + 100, perPod - 100, perPod + 10, perPod - 10, perPod + 2, perPod - 2, perPod + 1, perPod - 1, perPod, perPod].map((r) => String(r / 1000));
    let target = Math.abs(1 / (2 * (1 - 0.1))) + 0.01;
    const finalPods = Math.ceil((totalUsed / (totalRequested * target)) * startPods);
    const base = { source: '', min: 1, max: 1000, spec: startPods, levels: Array(10).fill(totalUsed / 10), requests, recommendations: [] as Array<[number, number]> };
    assert.equal(evaluateHpa(parseHpaRequest(request({ ...base, expected: 0, cpuTarget: Math.trunc(target * 100) }))).desiredReplicas, finalPods);
    target = Math.abs(1 / (2 * (1 - 0.1))) + 0.004;
    const still = evaluateHpa(parseHpaRequest(request({ ...base, expected: 0, cpuTarget: Math.trunc(target * 100) })));
    assert.equal(still.desiredReplicas, startPods);
    assert.equal(still.conditions[0]!.reason, 'ReadyForNewScale');
  });
});

describe('per-direction tolerance (behavior.scaleUp/scaleDown.tolerance, KEP-4951, Kubernetes 1.33+)', () => {
  // 50 replicas of 1 CPU against a 75% target, as in the Kubernetes v1.33 configurable-tolerance post
  const base = (usageMilli: number, behavior?: Record<string, unknown>): Row => ({
    source: '', min: 1, max: 100, spec: 50, expected: 0, cpuTarget: 75, requests: ones(50), levels: Array(50).fill(usageMilli), recommendations: [],
    ...(behavior ? { behavior } : {}),
  });
  const rows: Array<{ name: string; row: Row; expected: number }> = [
    { name: '90% vs 75% is 20% over: scales to 60 under the default 10%', row: base(900), expected: 60 },
    { name: '80% vs 75% (+6.7%) stays inside the default 10%', row: base(800), expected: 50 },
    { name: 'a 5% scale-up tolerance acts on +6.7%', row: base(800, { scaleUp: { tolerance: '0.05' } }), expected: 54 },
    { name: '70% vs 75% (−6.7%) stays inside the default 10%', row: base(700), expected: 50 },
    { name: 'a 5% scale-down tolerance acts on −6.7%', row: base(700, { scaleDown: { tolerance: 0.05 } }), expected: 47 },
    { name: 'a scale-up tolerance leaves scale-down at the controller flag', row: base(700, { scaleUp: { tolerance: '0' } }), expected: 50 },
    { name: 'a wide scale-up tolerance holds a 20% excess', row: base(900, { scaleUp: { tolerance: '250m' } }), expected: 50 },
    { name: 'the controller flag applies when behavior sets no tolerance', row: { ...base(800), options: { tolerance: 0.05 } }, expected: 54 },
  ];
  for (const r of rows) {
    it(r.name, () => assert.equal(evaluateHpa(parseHpaRequest(request(r.row))).desiredReplicas, r.expected));
  }
});

describe('conditions carry Kubernetes messages', () => {
  it('ScalingActive names the metric that produced the count; AbleToScale names the new size', () => {
    const res = toContractResponse(evaluateHpa(parseHpaRequest(request({ source: '', min: 1, max: 10, spec: 3, expected: 0, cpuTarget: 30, levels: [300, 500, 700], requests: ones(3) }))));
    assert.deepEqual(res.conditions.map((c) => c.message), [
      'the HPA controller was able to update the target scale to 5',
      'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
      'the desired count is within the acceptable range',
    ]);
    assert.equal(res.reason, 'DesiredWithinRange');
  });
  it('a failed metric explains itself the way the controller does', () => {
    const res = evaluateHpa(parseHpaRequest(request({ source: '', min: 1, max: 10, spec: 4, expected: 0, cpuTarget: 100, levels: [], requests: ones(4) })));
    assert.equal(res.error, 'invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API');
    assert.equal(res.conditions[1]!.message, 'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API');
    assert.equal(res.recommendation, null);
  });
  it('an External metric without series names namespace, metric and selector', () => {
    const res = evaluateHpa(parseHpaRequest(request({ source: '', min: 1, max: 10, spec: 4, expected: 0, metrics: [externalMetric('qps', { averageValue: 1000 })], levels: [1], failing: ['external'] })));
    assert.equal(res.metrics[0]!.error, 'failed to get qps external metric value: failed to get qps external metric: unable to get external metric default/qps/&LabelSelector{MatchLabels:map[string]string{label: value,},MatchExpressions:[]LabelSelectorRequirement{},}: no metrics returned from external metrics API');
  });
});
