// The replica calculator, row by row from Kubernetes' pkg/controller/podautoscaler/replica_calculator_test.go:
// each pod has two containers (container1, container2), each requesting `requests[i]` and using `levels[i]`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeMetricProposals, cpuSampleUnready, parseHpaRequest, type PodTiming } from '../../../src/core/hpa/index.js';
import {
  COOL, HOT, NOW, NOW_MS, TESTING_OPTIONS, at, externalMetric, externalValues, m, objectMetric, objectValue, podState, podsMetric,
  type PodShape,
} from './fixtures.js';

const RC = 'replica_calculator_test.go';

interface ResourceInfo {
  name?: string;
  requests: string[];
  /** per pod: one level for both containers (makePodMetricLevels) or one per container */
  levels: Array<number | number[]>;
  target: number;
  expectedUtilization?: number;
  expectedValue?: number;
}

interface MetricInfo {
  kind: 'pods' | 'object' | 'objectPerPod' | 'external' | 'externalPerPod';
  levels: number[];
  target: number;
  expectedUsage: number;
}

interface Row extends PodShape {
  source: string;
  currentReplicas: number;
  expectedReplicas?: number;
  expectedError?: string;
  resource?: ResourceInfo;
  metric?: MetricInfo;
  container?: string;
}

function request(row: Row): Record<string, unknown> {
  const podCount = Math.max(row.currentReplicas, row.phase?.length ?? 0);
  const pods = [];
  for (let i = 0; i < podCount; i++) {
    const pod: Record<string, unknown> = podState(row, i);
    const res = row.resource;
    if (res) {
      const resource = res.name ?? 'cpu';
      const level = res.levels[i];
      const perContainer = level === undefined ? undefined : Array.isArray(level) ? level : [level, level];
      pod.containers = ['container1', 'container2'].map((name, c) => ({
        name,
        requests: i < res.requests.length ? { [resource]: res.requests[i] } : {},
        ...(perContainer !== undefined && perContainer[c] !== undefined ? { usage: { [resource]: m(perContainer[c]!) } } : {}),
      }));
    }
    if (row.metric?.kind === 'pods' && i < row.metric.levels.length) pod.metrics = { qps: m(row.metric.levels[i]!) };
    pods.push(pod);
  }
  let spec: Record<string, unknown>;
  const extra: Record<string, unknown> = {};
  if (row.resource) {
    const name = row.resource.name ?? 'cpu';
    const target = { type: 'Utilization', averageUtilization: row.resource.target };
    spec = row.container
      ? { type: 'ContainerResource', containerResource: { name, container: row.container, target } }
      : { type: 'Resource', resource: { name, target } };
  } else {
    const mi = row.metric!;
    switch (mi.kind) {
      case 'pods': spec = podsMetric('qps', mi.target); break;
      case 'object': spec = objectMetric('qps', { value: mi.target }); extra.objectMetrics = [objectValue('qps', mi.levels[0]!)]; break;
      case 'objectPerPod': spec = objectMetric('qps', { averageValue: mi.target }); extra.objectMetrics = [objectValue('qps', mi.levels[0]!)]; break;
      case 'external': spec = externalMetric('qps', { value: mi.target }); extra.externalMetrics = [externalValues('qps', mi.levels)]; break;
      case 'externalPerPod': spec = externalMetric('qps', { averageValue: mi.target }); extra.externalMetrics = [externalValues('qps', mi.levels)]; break;
    }
  }
  return {
    hpa: { minReplicas: 1, maxReplicas: 1000, metrics: [spec] },
    currentReplicas: row.currentReplicas,
    now: NOW,
    pods,
    ...extra,
    options: TESTING_OPTIONS,
  };
}

const ones = (n: number) => Array.from({ length: n }, () => '1.0');

const rows: Row[] = [
  { source: `${RC} TestReplicaCalcScaleUp`, currentReplicas: 3, expectedReplicas: 5, resource: { requests: ones(3), levels: [300, 500, 700], target: 30, expectedUtilization: 50, expectedValue: 2 * 500 } },
  { source: `${RC} TestReplicaCalcContainerScaleUp`, currentReplicas: 3, expectedReplicas: 5, container: 'container2', resource: { requests: ones(3), levels: [[1000, 300], [1000, 500], [1000, 700]], target: 30, expectedUtilization: 50, expectedValue: 500 } },
  { source: `${RC} TestReplicaCalcScaleUpUnreadyLessScale`, currentReplicas: 3, expectedReplicas: 4, readiness: [false, true, true], resource: { requests: ones(3), levels: [300, 500, 700], target: 30, expectedUtilization: 60, expectedValue: 2 * 600 } },
  { source: `${RC} TestReplicaCalcScaleUpContainerHotCpuLessScale`, currentReplicas: 3, expectedReplicas: 4, startTime: [HOT, COOL, COOL], container: 'container2', resource: { requests: ones(3), levels: [[0, 300], [0, 500], [0, 700]], target: 30, expectedUtilization: 60, expectedValue: 600 } },
  { source: `${RC} TestReplicaCalcScaleUpHotCpuLessScale`, currentReplicas: 3, expectedReplicas: 4, startTime: [HOT, COOL, COOL], resource: { requests: ones(3), levels: [300, 500, 700], target: 30, expectedUtilization: 60, expectedValue: 2 * 600 } },
  { source: `${RC} TestReplicaCalcScaleUpUnreadyNoScale`, currentReplicas: 3, expectedReplicas: 3, readiness: [true, false, false], resource: { requests: ones(3), levels: [400, 500, 700], target: 30, expectedUtilization: 40, expectedValue: 2 * 400 } },
  { source: `${RC} TestReplicaCalcScaleHotCpuNoScale`, currentReplicas: 3, expectedReplicas: 3, readiness: [true, false, false], startTime: [COOL, HOT, HOT], resource: { requests: ones(3), levels: [400, 500, 700], target: 30, expectedUtilization: 40, expectedValue: 2 * 400 } },
  { source: `${RC} TestReplicaCalcScaleUpIgnoresFailedPods`, currentReplicas: 2, expectedReplicas: 4, readiness: [true, true, false, false], phase: ['Running', 'Running', 'Failed', 'Failed'], resource: { requests: ones(4), levels: [500, 700], target: 30, expectedUtilization: 60, expectedValue: 2 * 600 } },
  { source: `${RC} TestReplicaCalcScaleUpContainerIgnoresFailedPods`, currentReplicas: 2, expectedReplicas: 4, readiness: [true, true, false, false], phase: ['Running', 'Running', 'Failed', 'Failed'], container: 'container2', resource: { requests: ones(4), levels: [[1000, 500], [9000, 700]], target: 30, expectedUtilization: 60, expectedValue: 600 } },
  { source: `${RC} TestReplicaCalcScaleUpIgnoresDeletionPods`, currentReplicas: 2, expectedReplicas: 4, readiness: [true, true, false, false], phase: ['Running', 'Running', 'Running', 'Running'], deleted: [false, false, true, true], resource: { requests: ones(4), levels: [500, 700], target: 30, expectedUtilization: 60, expectedValue: 2 * 600 } },
  { source: `${RC} TestReplicaCalcScaleUpCM`, currentReplicas: 3, expectedReplicas: 4, metric: { kind: 'pods', levels: [20000, 10000, 30000], target: 15000, expectedUsage: 20000 } },
  { source: `${RC} TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale`, currentReplicas: 3, expectedReplicas: 6, readiness: [true, true, false], startTime: [COOL, COOL, HOT], metric: { kind: 'pods', levels: [50000, 10000, 30000], target: 15000, expectedUsage: 30000 } },
  { source: `${RC} TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown`, currentReplicas: 3, expectedReplicas: 7, readiness: [false, true, false], startTime: [HOT, COOL, HOT], metric: { kind: 'pods', levels: [50000, 15000, 30000], target: 15000, expectedUsage: 31666 } },
  { source: `${RC} TestReplicaCalcScaleUpCMObject`, currentReplicas: 3, expectedReplicas: 4, metric: { kind: 'object', levels: [20000], target: 15000, expectedUsage: 20000 } },
  { source: `${RC} TestReplicaCalcScaleUpCMPerPodObject`, currentReplicas: 3, expectedReplicas: 4, metric: { kind: 'objectPerPod', levels: [20000], target: 5000, expectedUsage: 6667 } },
  { source: `${RC} TestReplicaCalcScaleUpCMObjectIgnoresUnreadyPods`, currentReplicas: 3, expectedReplicas: 5, readiness: [false, true, false], metric: { kind: 'object', levels: [50000], target: 10000, expectedUsage: 50000 } },
  // the Go row names an external metric but runs it as a pods metric
  { source: `${RC} TestReplicaCalcScaleUpCMExternal`, currentReplicas: 1, expectedReplicas: 2, metric: { kind: 'pods', levels: [8600], target: 4400, expectedUsage: 8600 } },
  { source: `${RC} TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods`, currentReplicas: 3, expectedReplicas: 2, readiness: [false, true, false], metric: { kind: 'external', levels: [8600], target: 4400, expectedUsage: 8600 } },
  { source: `${RC} TestReplicaCalcScaleUpPerPodCMExternal`, currentReplicas: 3, expectedReplicas: 4, metric: { kind: 'externalPerPod', levels: [8600], target: 2150, expectedUsage: 2867 } },
  { source: `${RC} TestReplicaCalcScaleDown`, currentReplicas: 5, expectedReplicas: 3, resource: { requests: ones(5), levels: [100, 300, 500, 250, 250], target: 50, expectedUtilization: 28, expectedValue: 2 * 280 } },
  { source: `${RC} TestReplicaCalcContainerScaleDown`, currentReplicas: 5, expectedReplicas: 3, container: 'container2', resource: { requests: ones(5), levels: [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]], target: 50, expectedUtilization: 28, expectedValue: 280 } },
  { source: `${RC} TestReplicaCalcScaleDownCM`, currentReplicas: 5, expectedReplicas: 3, metric: { kind: 'pods', levels: [12000, 12000, 12000, 12000, 12000], target: 20000, expectedUsage: 12000 } },
  { source: `${RC} TestReplicaCalcScaleDownPerPodCMObject`, currentReplicas: 5, expectedReplicas: 3, metric: { kind: 'objectPerPod', levels: [6000], target: 2000, expectedUsage: 1200 } },
  { source: `${RC} TestReplicaCalcScaleDownCMObject`, currentReplicas: 5, expectedReplicas: 3, metric: { kind: 'object', levels: [12000], target: 20000, expectedUsage: 12000 } },
  { source: `${RC} TestReplicaCalcScaleDownCMExternal`, currentReplicas: 5, expectedReplicas: 3, metric: { kind: 'external', levels: [8600], target: 14334, expectedUsage: 8600 } },
  { source: `${RC} TestReplicaCalcScaleDownPerPodCMExternal`, currentReplicas: 5, expectedReplicas: 3, metric: { kind: 'externalPerPod', levels: [8600], target: 2867, expectedUsage: 1720 } },
  { source: `${RC} TestReplicaCalcScaleDownExcludeUnreadyPods`, currentReplicas: 5, expectedReplicas: 2, readiness: [true, true, true, false, false], resource: { requests: ones(5), levels: [100, 300, 500, 250, 250], target: 50, expectedUtilization: 30, expectedValue: 2 * 300 } },
  { source: `${RC} TestReplicaCalcScaleDownContainerExcludeUnreadyPods`, currentReplicas: 5, expectedReplicas: 2, readiness: [true, true, true, false, false], container: 'container2', resource: { requests: ones(5), levels: [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]], target: 50, expectedUtilization: 30, expectedValue: 300 } },
  { source: `${RC} TestReplicaCalcScaleDownExcludeUnscheduledPods`, currentReplicas: 5, expectedReplicas: 1, readiness: [true, false, false, false, false], phase: ['Running', 'Pending', 'Pending', 'Pending', 'Pending'], resource: { requests: ones(5), levels: [100], target: 50, expectedUtilization: 10, expectedValue: 2 * 100 } },
  { source: `${RC} TestReplicaCalcScaleDownContainerExcludeUnscheduledPods`, currentReplicas: 5, expectedReplicas: 1, readiness: [true, false, false, false, false], phase: ['Running', 'Pending', 'Pending', 'Pending', 'Pending'], container: 'container2', resource: { requests: ones(5), levels: [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]], target: 50, expectedUtilization: 10, expectedValue: 100 } },
  { source: `${RC} TestReplicaCalcScaleDownIgnoreHotCpuPods`, currentReplicas: 5, expectedReplicas: 2, startTime: [COOL, COOL, COOL, HOT, HOT], resource: { requests: ones(5), levels: [100, 300, 500, 250, 250], target: 50, expectedUtilization: 30, expectedValue: 2 * 300 } },
  { source: `${RC} TestReplicaCalcScaleDownContainerIgnoreHotCpuPods`, currentReplicas: 5, expectedReplicas: 2, startTime: [COOL, COOL, COOL, HOT, HOT], container: 'container2', resource: { requests: ones(5), levels: [[1000, 100], [1000, 300], [1000, 500], [1000, 1000], [1000, 1000]], target: 50, expectedUtilization: 30, expectedValue: 300 } },
  { source: `${RC} TestReplicaCalcScaleDownIgnoresFailedPods`, currentReplicas: 5, expectedReplicas: 3, readiness: [true, true, true, true, true, false, false], phase: ['Running', 'Running', 'Running', 'Running', 'Running', 'Failed', 'Failed'], resource: { requests: ones(7), levels: [100, 300, 500, 250, 250], target: 50, expectedUtilization: 28, expectedValue: 2 * 280 } },
  { source: `${RC} TestReplicaCalcScaleDownIgnoresDeletionPods`, currentReplicas: 5, expectedReplicas: 3, readiness: [true, true, true, true, true, false, false], phase: Array(7).fill('Running'), deleted: [false, false, false, false, false, true, true], resource: { requests: ones(7), levels: [100, 300, 500, 250, 250], target: 50, expectedUtilization: 28, expectedValue: 2 * 280 } },
  { source: `${RC} TestReplicaCalcScaleDownIgnoresDeletionPods_StillRunning`, currentReplicas: 5, expectedReplicas: 3, readiness: [true, true, true, true, true, false, false], phase: Array(7).fill('Running'), deleted: [false, false, false, false, false, true, true], container: 'container2', resource: { requests: ones(7), levels: [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]], target: 50, expectedUtilization: 28, expectedValue: 280 } },
  { source: `${RC} TestReplicaCalcTolerance`, currentReplicas: 3, expectedReplicas: 3, resource: { requests: ['0.9', '1.0', '1.1'], levels: [1010, 1030, 1020], target: 100, expectedUtilization: 102, expectedValue: 2 * 1020 } },
  { source: `${RC} TestReplicaCalcToleranceCM`, currentReplicas: 3, expectedReplicas: 3, metric: { kind: 'pods', levels: [20000, 21000, 21000], target: 20000, expectedUsage: 20666 } },
  { source: `${RC} TestReplicaCalcToleranceCMObject`, currentReplicas: 3, expectedReplicas: 3, metric: { kind: 'object', levels: [20666], target: 20000, expectedUsage: 20666 } },
  { source: `${RC} TestReplicaCalcTolerancePerPodCMObject`, currentReplicas: 4, expectedReplicas: 4, metric: { kind: 'objectPerPod', levels: [20166], target: 5000, expectedUsage: 5042 } },
  { source: `${RC} TestReplicaCalcToleranceCMExternal`, currentReplicas: 3, expectedReplicas: 3, metric: { kind: 'external', levels: [8600], target: 8888, expectedUsage: 8600 } },
  { source: `${RC} TestReplicaCalcTolerancePerPodCMExternal`, currentReplicas: 3, expectedReplicas: 3, metric: { kind: 'externalPerPod', levels: [8600], target: 2900, expectedUsage: 2867 } },
  { source: `${RC} TestReplicaCalcMissingMetrics`, currentReplicas: 4, expectedReplicas: 3, resource: { requests: ones(4), levels: [400, 95], target: 100, expectedUtilization: 24, expectedValue: 495 } },
  { source: `${RC} TestReplicaCalcEmptyMetrics`, currentReplicas: 4, expectedError: 'unable to get metrics for resource cpu: no metrics returned from resource metrics API', resource: { requests: ones(3), levels: [], target: 100 } },
  { source: `${RC} TestReplicaCalcEmptyCPURequest`, currentReplicas: 1, expectedError: 'missing request for', resource: { requests: [], levels: [200], target: 100 } },
  { source: `${RC} TestPlainMetricReplicaCalcMissingMetricsNoChangeEq`, currentReplicas: 5, expectedReplicas: 5, metric: { kind: 'pods', levels: [20000, 19000, 21000], target: 20000, expectedUsage: 20000 } },
  { source: `${RC} TestReplicaCalcMissingMetricsNoChangeEq`, currentReplicas: 2, expectedReplicas: 2, resource: { requests: ones(2), levels: [1000], target: 100, expectedUtilization: 100, expectedValue: 2 * 1000 } },
  { source: `${RC} TestReplicaCalcMissingMetricsNoChangeGt`, currentReplicas: 2, expectedReplicas: 2, resource: { requests: ones(2), levels: [1900], target: 100, expectedUtilization: 190, expectedValue: 2 * 1900 } },
  { source: `${RC} TestReplicaCalcMissingMetricsNoChangeLt`, currentReplicas: 2, expectedReplicas: 2, resource: { requests: ones(2), levels: [600], target: 100, expectedUtilization: 60, expectedValue: 2 * 600 } },
  { source: `${RC} TestReplicaCalcMissingMetricsUnreadyChange`, currentReplicas: 3, expectedReplicas: 3, readiness: [false, true, true], resource: { requests: ones(3), levels: [100, 450], target: 50, expectedUtilization: 45, expectedValue: 2 * 450 } },
  { source: `${RC} TestReplicaCalcMissingMetricsHotCpuNoChange`, currentReplicas: 3, expectedReplicas: 3, startTime: [HOT, COOL, COOL], resource: { requests: ones(3), levels: [100, 450], target: 50, expectedUtilization: 45, expectedValue: 2 * 450 } },
  { source: `${RC} TestReplicaCalcMissingMetricsUnreadyScaleUp`, currentReplicas: 3, expectedReplicas: 4, readiness: [false, true, true], resource: { requests: ones(3), levels: [100, 2000], target: 50, expectedUtilization: 200, expectedValue: 2 * 2000 } },
  { source: `${RC} TestReplicaCalcMissingMetricsHotCpuScaleUp`, currentReplicas: 3, expectedReplicas: 4, readiness: [false, true, true], startTime: [HOT, COOL, COOL], resource: { requests: ones(3), levels: [100, 2000], target: 50, expectedUtilization: 200, expectedValue: 2 * 2000 } },
  { source: `${RC} TestReplicaCalcMissingMetricsUnreadyScaleDown`, currentReplicas: 4, expectedReplicas: 3, readiness: [false, true, true, true], resource: { requests: ones(4), levels: [100, 100, 100], target: 50, expectedUtilization: 10, expectedValue: 2 * 100 } },
  { source: `${RC} TestReplicaCalcMissingMetricsScaleDownTargetOver100`, currentReplicas: 4, expectedReplicas: 2, readiness: [false, true, true, true], resource: { requests: ['1.0', '1.0', '2.0', '2.0'], levels: [200, 100, 100], target: 300, expectedUtilization: 6, expectedValue: 2 * 100 } },
  { source: `${RC} TestReplicaCalcDuringRollingUpdateWithMaxSurge`, currentReplicas: 2, expectedReplicas: 2, phase: ['Running', 'Running', 'Running'], resource: { requests: ones(3), levels: [100, 100], target: 50, expectedUtilization: 10, expectedValue: 2 * 100 } },
  { source: `${RC} TestReplicaCalcDuringRollingUpdateWithMaxSurgeCM`, currentReplicas: 2, expectedReplicas: 2, phase: ['Running', 'Running', 'Running'], metric: { kind: 'pods', levels: [10000, 10000], target: 17000, expectedUsage: 10000 } },
];

describe('replica calculator (replica_calculator_test.go)', () => {
  for (const row of rows) {
    it(row.source, () => {
      const r = computeMetricProposals(parseHpaRequest(request(row)));
      const p = r.proposals[0]!;
      if (row.expectedError !== undefined) {
        assert.ok(p.error !== null && p.error.includes(row.expectedError), `error ${p.error} should contain ${row.expectedError}`);
        assert.equal(r.replicas, -1);
        return;
      }
      assert.equal(p.error, null);
      assert.equal(p.replicas, row.expectedReplicas, 'replicas');
      if (row.resource) {
        assert.equal(p.utilization, row.resource.expectedUtilization, 'utilization');
        assert.equal(p.valueMilli, row.resource.expectedValue, 'raw value');
      } else assert.equal(p.valueMilli, row.metric!.expectedUsage, 'usage');
    });
  }

  it(`${RC} TestReplicaCalcComputedToleranceAlgImplementation`, () => {
    const startPods = 10;
    const totalUsed = startPods * 150;
    const totalRequested = 2 * totalUsed;
    const requestedToUsed = Math.trunc(totalRequested / totalUsed);
    const perPod = totalRequested / startPods;
    const requests = [perPod + 100, perPod - 100, perPod + 10, perPod - 10, perPod + 2, perPod - 2, perPod + 1, perPod - 1, perPod, perPod].map((r) => `${r}m`);
    const levels = Array(10).fill(totalUsed / 10);
    // force a minimal scaling event just beyond the tolerance
    let target = Math.abs(1 / (requestedToUsed * (1 - 0.1))) + 0.01;
    const finalTarget = Math.trunc(target * 100);
    const usedRatio = totalUsed / (totalRequested * target);
    const finalPods = Math.ceil(usedRatio * startPods);
    const run = (t: number) => computeMetricProposals(parseHpaRequest(request({ source: '', currentReplicas: startPods, resource: { requests, levels, target: t } }))).proposals[0]!;
    const scaled = run(finalTarget);
    assert.equal(scaled.replicas, finalPods);
    assert.equal(scaled.utilization, Math.trunc((totalUsed * 100) / totalRequested));
    assert.equal(scaled.valueMilli, 2 * (totalUsed / 10));
    // just inside the tolerance nothing changes
    target = Math.abs(1 / (requestedToUsed * (1 - 0.1))) + 0.004;
    assert.equal(run(Math.trunc(target * 100)).replicas, startPods);
  });
});

describe('groupPods CPU readiness (replica_calculator_test.go TestGroupPods)', () => {
  const timing = (window: number): PodTiming => ({ now: NOW_MS, cpuInitializationPeriodMs: 120_000, delayOfInitialReadinessStatusMs: 10_000, metricWindowMs: window * 1000 });
  const cases: Array<{ name: string; pod: Record<string, unknown>; window: number; unready: boolean }> = [
    { name: 'unready a pod without ready condition - CPU', pod: { startTime: NOW, ready: null }, window: 60, unready: true },
    { name: 'count in a ready pod with fresh metrics during initialization period - CPU', pod: { startTime: at(-60), ready: true, readyTransitionTime: at(-30) }, window: 30, unready: false },
    { name: 'unready a ready pod without fresh metrics during initialization period - CPU', pod: { startTime: at(-60), ready: true, readyTransitionTime: at(-30) }, window: 60, unready: true },
    { name: 'unready an unready pod during initialization period - CPU', pod: { startTime: at(-600), ready: false, readyTransitionTime: at(-594) }, window: 60, unready: true },
    { name: 'count in a ready pod without fresh metrics after initialization period - CPU', pod: { startTime: at(-180), ready: true, readyTransitionTime: at(-180), metricTime: at(-120) }, window: 60, unready: false },
    { name: 'count in an unready pod that was ready after initialization period - CPU', pod: { startTime: at(-600), ready: false, readyTransitionTime: at(-540) }, window: 60, unready: false },
    { name: 'unready pod that has never been ready after initialization period - CPU', pod: { startTime: at(-600), ready: false, readyTransitionTime: at(-590) }, window: 60, unready: false },
    { name: 'a pod without a start time - CPU', pod: { ready: true }, window: 60, unready: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const input = parseHpaRequest({ hpa: { maxReplicas: 5 }, currentReplicas: 1, now: NOW, pods: [{ name: 'p', usage: { cpu: '1' }, requests: { cpu: '1' }, ...c.pod }] });
      assert.equal(cpuSampleUnready(input.pods, 0, timing(c.window)), c.unready);
    });
  }

  it('count in a ready pod - memory (readiness only matters for CPU)', () => {
    const input = parseHpaRequest({
      hpa: { maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '1' } } }] },
      currentReplicas: 1, now: NOW, options: TESTING_OPTIONS,
      pods: [{ name: 'bentham', phase: 'Succeeded', ready: false, startTime: NOW, usage: { memory: '1' } }],
    });
    assert.equal(computeMetricProposals(input).proposals[0]!.replicas, 1);
  });

  it('pending pods are unreadied; deleted and failed pods are ignored', () => {
    // one ready pod at 2× target plus a pending, a deleted and a failed pod: only the pending one joins the rebalancing
    const input = parseHpaRequest({
      hpa: { maxReplicas: 10, metrics: [podsMetric('qps', 1000)] },
      currentReplicas: 4, now: NOW, options: TESTING_OPTIONS,
      pods: [
        { name: 'ready', startTime: LONG, metrics: { qps: '2' } },
        { name: 'unscheduled', phase: 'Pending', ready: false },
        { name: 'deleted', deleted: true, startTime: LONG, metrics: { qps: '100' } },
        { name: 'failed', phase: 'Failed', startTime: LONG, metrics: { qps: '100' } },
      ],
    });
    // usage 2000 of 1000 on the ready pod; rebalanced with the pending pod at 0: ratio 1.0 → keep 4
    assert.equal(computeMetricProposals(input).proposals[0]!.replicas, 4);
  });
});

const LONG = '2000-01-01T00:00:00Z';
