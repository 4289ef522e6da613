// spec.behavior and the legacy path, row by row from Kubernetes' horizontal_test.go (TestNormalizeDesiredReplicas*,
// TestScalingWithRules, TestStoreScaleEvents, TestConvertDesiredReplicasWithRules, TestCalculateScale*Limit*) and
// pkg/apis/autoscaling/v2/defaults_test.go (TestGenerateScaleUpRules / TestGenerateScaleDownRules).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  completeBehavior,
  finalizeReplicas,
  legacyScaleUpLimit,
  limitLegacy,
  limitWithBehavior,
  recordScaleEvent,
  replicasChangeInPeriod,
  scaleDownLimitWithRules,
  scaleUpLimitWithRules,
  stabilizeLegacy,
  stabilizeWithBehavior,
  type HpaBehavior,
  type PartialScalingRules,
  type ScaleEvent,
  type ScalingRules,
  type TimedRecommendation,
} from '../../../src/core/hpa/index.js';

const HT = 'horizontal_test.go';
const DT = 'pkg/apis/autoscaling/v2/defaults_test.go';
const NOW = Date.parse('2024-01-01T01:00:00Z');
const ago = (seconds: number) => NOW - seconds * 1000;
const rec = (replicas: number, secondsAgo: number): TimedRecommendation => ({ replicas, time: ago(secondsAgo) });

/** generateScalingRules(pods, podsPeriod, percent, percentPeriod, stabilizationWindow) with Max selection. */
function rules(pods: number, podsPeriod: number, percent: number, percentPeriod: number, window: number): PartialScalingRules {
  const policies: ScalingRules['policies'] = [];
  if (pods !== 0) policies.push({ type: 'Pods', value: pods, periodSeconds: podsPeriod });
  if (percent !== 0) policies.push({ type: 'Percent', value: percent, periodSeconds: percentPeriod });
  return { stabilizationWindowSeconds: window, selectPolicy: 'Max', ...(policies.length ? { policies } : {}) };
}

/** generateEventsUniformDistribution: events spread evenly over the last `period` seconds, centred in segments. */
function uniformEvents(changes: number[], period: number): ScaleEvent[] {
  const segment = period / changes.length;
  // Go converts the float seconds to a Duration before multiplying, truncating to whole seconds
  return changes.map((change, i) => ({ change, time: ago(Math.trunc(period - segment * (i + 1) + segment / 2)) }));
}

describe('legacy stabilization (TestNormalizeDesiredReplicas)', () => {
  const rows: Array<{ name: string; recs: TimedRecommendation[]; desired: number; expected: number; logLength: number }> = [
    { name: 'empty log', recs: [], desired: 5, expected: 5, logLength: 1 },
    { name: 'stabilize', recs: [rec(4, 120), rec(5, 60)], desired: 3, expected: 5, logLength: 3 },
    { name: 'no stabilize', recs: [rec(1, 120), rec(2, 60)], desired: 3, expected: 3, logLength: 3 },
    { name: 'no stabilize - old recommendations', recs: [rec(10, 600), rec(9, 540)], desired: 3, expected: 3, logLength: 2 },
    { name: 'stabilize - old recommendations', recs: [rec(10, 600), rec(4, 60), rec(5, 120), rec(9, 540)], desired: 3, expected: 5, logLength: 4 },
  ];
  for (const r of rows) {
    it(`${HT} TestNormalizeDesiredReplicas: ${r.name}`, () => {
      assert.equal(stabilizeLegacy(r.recs, NOW, 300, r.desired), r.expected);
      const f = finalizeReplicas({ currentReplicas: 100, minReplicas: 1, maxReplicas: 1000, proposed: r.desired, history: { recommendations: r.recs, scaleUpEvents: [], scaleDownEvents: [] }, now: NOW });
      assert.equal(f.stabilizedReplicas, r.expected);
      assert.equal(f.history.recommendations!.length, r.logLength);
      assert.equal(f.recommendation, r.desired);
    });
  }
  it('a recommendation exactly at the window edge still counts (Before, not After)', () => {
    assert.equal(stabilizeLegacy([rec(7, 300)], NOW, 300, 2), 7);
    assert.equal(stabilizeLegacy([rec(7, 301)], NOW, 300, 2), 2);
  });
});

describe('stabilization with behavior (TestNormalizeDesiredReplicasWithBehavior)', () => {
  const rows: Array<{ name: string; recs: TimedRecommendation[]; current: number; desired: number; expected: number; stored: number[]; up?: number; down?: number }> = [
    { name: 'empty recommendations for scaling down', recs: [], current: 100, desired: 5, expected: 5, stored: [5] },
    { name: 'simple scale down stabilization', recs: [rec(4, 120), rec(5, 60)], current: 100, desired: 3, expected: 5, stored: [4, 5, 3], down: 180 },
    { name: 'simple scale up stabilization', recs: [rec(4, 120), rec(5, 60)], current: 1, desired: 7, expected: 4, stored: [4, 5, 7], up: 300 },
    { name: 'no scale down stabilization', recs: [rec(1, 120), rec(2, 60)], current: 100, desired: 3, expected: 3, stored: [1, 2, 3], up: 300 },
    { name: 'no scale up stabilization', recs: [rec(4, 120), rec(5, 60)], current: 1, desired: 3, expected: 3, stored: [4, 5, 3], down: 300 },
    { name: 'no scale down stabilization, reuse recommendation element', recs: [rec(10, 600), rec(9, 540)], current: 100, desired: 3, expected: 3, stored: [10, 3] },
    { name: 'no scale up stabilization, reuse recommendation element', recs: [rec(10, 600), rec(9, 540)], current: 1, desired: 100, expected: 100, stored: [10, 100] },
    { name: 'scale down stabilization, reuse one of obsolete recommendation element', recs: [rec(10, 600), rec(4, 60), rec(5, 120), rec(9, 540)], current: 100, desired: 3, expected: 5, stored: [10, 4, 5, 3], down: 180 },
    { name: 'scale up stabilization, reuse one of obsolete recommendation element', recs: [rec(10, 6000), rec(6, 60), rec(5, 120), rec(9, 180)], current: 1, desired: 100, expected: 5, stored: [100, 6, 5, 9], up: 300 },
  ];
  for (const r of rows) {
    it(`${HT} TestNormalizeDesiredReplicasWithBehavior: ${r.name}`, () => {
      assert.equal(stabilizeWithBehavior(r.recs, NOW, r.up ?? 0, r.down ?? 0, r.current, r.desired), r.expected);
      const behavior = completeBehavior({ scaleUp: { stabilizationWindowSeconds: r.up ?? 0 }, scaleDown: { stabilizationWindowSeconds: r.down ?? 0 } })!;
      const f = finalizeReplicas({ currentReplicas: r.current, minReplicas: 1, maxReplicas: 1000, behavior, proposed: r.desired, history: { recommendations: r.recs, scaleUpEvents: [], scaleDownEvents: [] }, now: NOW });
      assert.equal(f.stabilizedReplicas, r.expected);
      assert.deepEqual(f.history.recommendations!.map((x) => x.replicas), r.stored);
      const reason = r.expected === r.desired ? 'ReadyForNewScale' : r.desired >= r.current ? 'ScaleUpStabilized' : 'ScaleDownStabilized';
      assert.equal(f.stabilization, reason);
    });
  }
});

describe('rate limits with behavior (TestScalingWithRules)', () => {
  interface Row {
    name: string;
    up?: PartialScalingRules;
    down?: PartialScalingRules;
    upEvents?: ScaleEvent[];
    downEvents?: ScaleEvent[];
    min: number;
    max: number;
    current: number;
    desired: number;
    expected: number;
    reason: string;
  }
  const rows: Row[] = [
    { name: 'prenormalized desired replicas within range', current: 5, desired: 7, min: 3, max: 8, expected: 7, reason: 'DesiredWithinRange' },
    { name: 'prenormalized desired replicas < minReplicas', current: 3, desired: 1, min: 2, max: 8, expected: 2, reason: 'TooFewReplicas' },
    { name: 'prenormalized desired replicas within range when minReplicas is 0', current: 1, desired: 0, min: 0, max: 10, expected: 0, reason: 'DesiredWithinRange' },
    { name: 'maxReplicas is the limit because maxReplicas < scaleUpLimit', current: 20, desired: 1000, min: 1, max: 10, expected: 10, reason: 'TooManyReplicas' },
    { name: 'desired replica count is more than the maximum replica count', current: 100, desired: 1000, min: 100, max: 150, expected: 150, reason: 'TooManyReplicas' },
    { name: 'scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies', current: 3, desired: 1000, min: 1, max: 2000, up: rules(0, 0, 1, 60, 0), expected: 4, reason: 'ScaleUpLimit' },
    { name: 'scaleDownLimit is the limit because scaleDownLimit > minReplicas with user defined policies', current: 1000, desired: 3, min: 3, max: 2000, down: rules(20, 60, 0, 0, 0), expected: 980, reason: 'ScaleDownLimit' },
    { name: 'scaleUp with default behavior', min: 1, max: 1000, current: 10, desired: 50, expected: 20, reason: 'ScaleUpLimit' },
    { name: 'scaleUp with pods policy larger than percent policy', min: 1, max: 1000, up: rules(100, 60, 100, 60, 0), current: 10, desired: 500, expected: 110, reason: 'ScaleUpLimit' },
    { name: 'scaleUp with percent policy larger than pods policy', min: 1, max: 1000, up: rules(2, 60, 100, 60, 0), current: 10, desired: 500, expected: 20, reason: 'ScaleUpLimit' },
    { name: 'scaleUp with spec MaxReplicas limitation with large pod policy', min: 1, max: 1000, up: rules(100, 60, 0, 0, 0), current: 10, desired: 50, expected: 50, reason: 'DesiredWithinRange' },
    { name: 'scaleUp with spec MaxReplicas limitation with large percent policy', min: 1, max: 1000, up: rules(10000, 60, 0, 0, 0), current: 10, desired: 50, expected: 50, reason: 'DesiredWithinRange' },
    { name: 'scaleUp with pod policy limitation', min: 1, max: 1000, up: rules(30, 60, 0, 0, 0), current: 10, desired: 50, expected: 40, reason: 'ScaleUpLimit' },
    { name: 'scaleUp with percent policy limitation', min: 1, max: 1000, up: rules(0, 0, 200, 60, 0), current: 10, desired: 50, expected: 30, reason: 'ScaleUpLimit' },
    { name: 'scaleDown with percent policy larger than pod policy', min: 1, max: 1000, down: rules(20, 60, 1, 60, 300), current: 100, desired: 2, expected: 80, reason: 'ScaleDownLimit' },
    { name: 'scaleDown with pod policy larger than percent policy', min: 1, max: 1000, down: rules(2, 60, 1, 60, 300), current: 100, desired: 2, expected: 98, reason: 'ScaleDownLimit' },
    { name: 'scaleDown with spec MinReplicas=nil limitation with large pod policy', min: 1, max: 1000, down: rules(100, 60, 0, 0, 300), current: 10, desired: 0, expected: 1, reason: 'TooFewReplicas' },
    { name: 'scaleDown with spec MinReplicas limitation with large percent policy', min: 5, max: 1000, down: rules(0, 0, 100, 60, 300), current: 10, desired: 2, expected: 5, reason: 'TooFewReplicas' },
    { name: 'scaleDown with pod policy limitation', min: 1, max: 1000, down: rules(5, 60, 0, 0, 300), current: 10, desired: 2, expected: 5, reason: 'ScaleDownLimit' },
    { name: 'scaleDown with percent policy limitation', min: 1, max: 1000, down: rules(0, 0, 50, 60, 300), current: 10, desired: 5, expected: 5, reason: 'DesiredWithinRange' },
    { name: 'scaleUp with spec MaxReplicas limitation with large pod policy and events', upEvents: uniformEvents([1, 5, 9], 120), min: 1, max: 200, up: rules(300, 60, 0, 0, 0), current: 100, desired: 500, expected: 200, reason: 'TooManyReplicas' },
    { name: 'scaleUp with spec MaxReplicas limitation with large percent policy and events', upEvents: uniformEvents([1, 5, 9], 120), min: 1, max: 200, up: rules(0, 0, 10000, 60, 0), current: 100, desired: 500, expected: 200, reason: 'TooManyReplicas' },
    { name: 'scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events', upEvents: uniformEvents([1, 5, 9], 120), min: 1, max: 1000, up: rules(5, 120, 0, 0, 0), current: 100, desired: 500, expected: 100, reason: 'ScaleUpLimit' },
    { name: 'scaleUp with pod policy and previous scale up events', upEvents: uniformEvents([1, 5, 9], 120), min: 1, max: 1000, up: rules(150, 120, 0, 0, 0), current: 100, desired: 500, expected: 235, reason: 'ScaleUpLimit' },
    { name: 'scaleUp with percent policy and previous scale up events', upEvents: uniformEvents([1, 5, 9], 120), min: 1, max: 1000, up: rules(0, 0, 200, 120, 0), current: 100, desired: 500, expected: 255, reason: 'ScaleUpLimit' },
    { name: 'scaleDown with default policy and previous events', downEvents: uniformEvents([1, 5, 9], 120), min: 1, max: 1000, current: 10, desired: 5, expected: 5, reason: 'DesiredWithinRange' },
    { name: 'scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events', downEvents: uniformEvents([1, 5, 9], 120), min: 1, max: 1000, down: rules(115, 120, 0, 0, 300), current: 100, desired: 0, expected: 1, reason: 'TooFewReplicas' },
    { name: 'scaleDown with spec MinReplicas limitation with large pod policy and previous events', downEvents: uniformEvents([1, 5, 9], 120), min: 5, max: 1000, down: rules(130, 120, 0, 0, 300), current: 100, desired: 0, expected: 5, reason: 'TooFewReplicas' },
    { name: 'scaleDown with spec MinReplicas limitation with large percent policy and previous events', downEvents: uniformEvents([1, 5, 9], 120), min: 5, max: 1000, down: rules(0, 0, 100, 120, 300), current: 100, desired: 2, expected: 5, reason: 'TooFewReplicas' },
    { name: 'scaleDown with pod policy limitation and previous events', downEvents: uniformEvents([1, 5, 9], 120), min: 1, max: 1000, down: rules(5, 120, 0, 0, 300), current: 100, desired: 2, expected: 100, reason: 'ScaleDownLimit' },
    { name: 'scaleDown with percent policy limitation and previous events', downEvents: uniformEvents([2, 4, 6], 120), min: 1, max: 1000, down: rules(0, 0, 50, 120, 300), current: 100, desired: 0, expected: 56, reason: 'ScaleDownLimit' },
    { name: 'scaleDown with previous events preventing further scale down', downEvents: uniformEvents([10, 10, 10], 120), min: 1, max: 1000, down: rules(0, 0, 10, 120, 300), current: 100, desired: 0, expected: 100, reason: 'ScaleDownLimit' },
    { name: 'scaleDown with with previous events still allowing more scale down', downEvents: uniformEvents([10, 10, 10], 120), min: 1, max: 1000, down: rules(0, 0, 1000, 120, 300), current: 10, desired: 5, expected: 5, reason: 'DesiredWithinRange' },
    { name: "check 'outdated' flag for events for one behavior for up", upEvents: uniformEvents([8, 12, 9, 11], 120), min: 1, max: 1000, up: rules(1000, 60, 0, 0, 0), current: 100, desired: 200, expected: 200, reason: 'DesiredWithinRange' },
    { name: "check that events were not marked 'outdated' for two different policies in the behavior for up", upEvents: uniformEvents([8, 12, 9, 11], 120), min: 1, max: 1000, up: rules(1000, 120, 100, 60, 0), current: 100, desired: 200, expected: 200, reason: 'DesiredWithinRange' },
    { name: "check that events were marked 'outdated' for two different policies in the behavior for up", upEvents: uniformEvents([8, 12, 9, 11], 120), min: 1, max: 1000, up: rules(1000, 30, 100, 60, 0), current: 100, desired: 200, expected: 200, reason: 'DesiredWithinRange' },
    { name: "check 'outdated' flag for events for one behavior for down", downEvents: uniformEvents([8, 12, 9, 11], 120), min: 1, max: 1000, down: rules(1000, 60, 0, 0, 300), current: 100, desired: 5, expected: 5, reason: 'DesiredWithinRange' },
    { name: "check that events were not marked 'outdated' for two different policies in the behavior for down", downEvents: uniformEvents([8, 12, 9, 11], 120), min: 1, max: 1000, down: rules(1000, 120, 100, 60, 300), current: 100, desired: 5, expected: 5, reason: 'DesiredWithinRange' },
    { name: "check that events were marked 'outdated' for two different policies in the behavior for down", downEvents: uniformEvents([8, 12, 9, 11], 120), min: 1, max: 1000, down: rules(1000, 30, 100, 60, 300), current: 100, desired: 5, expected: 5, reason: 'DesiredWithinRange' },
  ];
  for (const r of rows) {
    it(`${HT} TestScalingWithRules: ${r.name}`, () => {
      const behavior = completeBehavior({ scaleUp: r.up ?? null, scaleDown: r.down ?? null })!;
      const out = limitWithBehavior(r.current, r.desired, r.min, r.max, behavior, r.upEvents ?? [], r.downEvents ?? [], NOW);
      assert.equal(out.replicas, r.expected);
      assert.equal(out.reason, r.reason);
    });
  }
  it('scale-up events shrink the scale-down budget too (periodStart counts both directions)', () => {
    const behavior = completeBehavior({ scaleDown: rules(0, 0, 50, 60, 0) })!;
    // 10 now, 4 added within the period: the period started at 6, so 50% allows going down to 3
    assert.equal(scaleDownLimitWithRules(10, behavior.scaleDown, [{ time: ago(10), change: 4 }], [], NOW), 3);
  });
});

describe('policy limits alone (TestCalculateScaleUpLimitWithScalingRules, TestCalculateScaleDownLimitWithBehaviors)', () => {
  const minRules: ScalingRules = {
    stabilizationWindowSeconds: 300,
    selectPolicy: 'Min',
    tolerance: null,
    policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }, { type: 'Percent', value: 50, periodSeconds: 60 }],
  };
  it(`${HT} TestCalculateScaleUpLimitWithScalingRules`, () => assert.equal(scaleUpLimitWithRules(1, minRules, [], [], NOW), 2));
  it(`${HT} TestCalculateScaleDownLimitWithBehaviors`, () => assert.equal(scaleDownLimitWithRules(5, minRules, [], [], NOW), 3));
  it('selectPolicy Disabled keeps the current count in both directions', () => {
    const disabled = { ...minRules, selectPolicy: 'Disabled' as const };
    assert.equal(scaleUpLimitWithRules(7, disabled, [], [], NOW), 7);
    assert.equal(scaleDownLimitWithRules(7, disabled, [], [], NOW), 7);
  });
  it('Percent scale-up rounds the float product up, as Go does (100 × 1.1 is 110.00000000000001 → 111)', () => {
    const r: ScalingRules = { stabilizationWindowSeconds: 0, selectPolicy: 'Max', tolerance: null, policies: [{ type: 'Percent', value: 10, periodSeconds: 15 }] };
    assert.equal(scaleUpLimitWithRules(100, r, [], [], NOW), 111);
    assert.equal(scaleUpLimitWithRules(10, r, [], [], NOW), 11);
  });
});

describe('legacy limits (TestConvertDesiredReplicasWithRules)', () => {
  const rows: Array<{ current: number; desired: number; min: number; max: number; expected: number; reason: string; name: string }> = [
    { current: 5, desired: 7, min: 3, max: 8, expected: 7, reason: 'DesiredWithinRange', name: 'prenormalized desired replicas within range' },
    { current: 3, desired: 1, min: 2, max: 8, expected: 2, reason: 'TooFewReplicas', name: 'prenormalized desired replicas < minReplicas' },
    { current: 1, desired: 0, min: 0, max: 10, expected: 0, reason: 'DesiredWithinRange', name: 'prenormalized desired zeroed replicas within range' },
    { current: 20, desired: 1000, min: 1, max: 10, expected: 10, reason: 'TooManyReplicas', name: 'maxReplicas is the limit because maxReplicas < scaleUpLimit' },
    { current: 3, desired: 1000, min: 1, max: 2000, expected: legacyScaleUpLimit(3), reason: 'ScaleUpLimit', name: 'scaleUpLimit is the limit because scaleUpLimit < maxReplicas' },
  ];
  for (const r of rows) {
    it(`${HT} TestConvertDesiredReplicasWithRules: ${r.name}`, () => {
      const out = limitLegacy(r.current, r.desired, r.min, r.max);
      assert.equal(out.replicas, r.expected);
      assert.equal(out.reason, r.reason);
    });
  }
  it('the legacy scale-up cap is max(2 × current, 4)', () => {
    assert.deepEqual([0, 1, 2, 3, 10].map(legacyScaleUpLimit), [4, 4, 4, 6, 20]);
  });
});

describe('scale event memory (TestStoreScaleEvents)', () => {
  const e = (change: number, secondsAgo: number): ScaleEvent => ({ change, time: ago(secondsAgo) });
  const rows: Array<{ name: string; prev: ScaleEvent[]; rules?: PartialScalingRules; stored: number[]; changeIn60: number }> = [
    { name: 'empty entries with default behavior', prev: [], stored: [], changeIn60: 0 },
    { name: 'empty entries with two-policy-behavior', prev: [], rules: rules(10, 60, 100, 60, 0), stored: [5], changeIn60: 0 },
    { name: 'one outdated entry to be kept untouched without behavior', prev: [e(7, 61)], stored: [7], changeIn60: 0 },
    { name: 'one outdated entry to be replaced with behavior', prev: [e(7, 61)], rules: rules(10, 60, 100, 60, 0), stored: [5], changeIn60: 0 },
    { name: 'one actual entry to be not touched with behavior', prev: [e(7, 58)], rules: rules(10, 60, 100, 60, 0), stored: [7, 5], changeIn60: 7 },
    { name: 'two entries, one of them to be replaced', prev: [e(7, 61), e(6, 59)], rules: rules(10, 60, 0, 0, 0), stored: [5, 6], changeIn60: 6 },
    { name: 'replace one entry, use policies with different periods', prev: [e(8, 29), e(6, 59), e(7, 61), e(9, 61)], rules: rules(10, 60, 100, 30, 0), stored: [8, 6, 7, 5], changeIn60: 14 },
    { name: 'two entries, both actual', prev: [e(7, 58), e(6, 59)], rules: rules(10, 120, 100, 30, 0), stored: [7, 6, 5], changeIn60: 13 },
  ];
  for (const r of rows) {
    it(`${HT} TestStoreScaleEvents: ${r.name}`, () => {
      assert.equal(replicasChangeInPeriod(r.prev, NOW, 60), r.changeIn60);
      const up: HpaBehavior | null = r.rules ? completeBehavior({ scaleUp: r.rules }) : null;
      const afterUp = recordScaleEvent(up, r.prev, [], 10, 15, NOW);
      assert.deepEqual(afterUp.scaleUpEvents.map((x) => x.change), r.stored, 'up');
      const down: HpaBehavior | null = r.rules ? completeBehavior({ scaleDown: r.rules }) : null;
      const afterDown = recordScaleEvent(down, [], r.prev, 10, 5, NOW);
      assert.deepEqual(afterDown.scaleDownEvents.map((x) => x.change), r.stored, 'down');
    });
  }
});

describe('API server defaults for behavior (defaults_test.go)', () => {
  it(`${DT} TestGenerateScaleUpRules: Default values`, () => {
    const b = completeBehavior({})!;
    assert.deepEqual(b.scaleUp.policies, [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }]);
    assert.equal(b.scaleUp.stabilizationWindowSeconds, 0);
    assert.equal(b.scaleUp.selectPolicy, 'Max');
  });
  const upRows: Array<{ name: string; given: PartialScalingRules; policies: ScalingRules['policies']; window: number; select: string }> = [
    { name: 'All parameters are specified', given: { ...rules(1, 2, 3, 4, 25), selectPolicy: 'Max' }, policies: [{ type: 'Pods', value: 1, periodSeconds: 2 }, { type: 'Percent', value: 3, periodSeconds: 4 }], window: 25, select: 'Max' },
    { name: 'Pod policy is specified', given: { policies: [{ type: 'Pods', value: 1, periodSeconds: 2 }], selectPolicy: 'Min' }, policies: [{ type: 'Pods', value: 1, periodSeconds: 2 }], window: 0, select: 'Min' },
    { name: 'Percent policy is specified', given: { policies: [{ type: 'Percent', value: 7, periodSeconds: 10 }] }, policies: [{ type: 'Percent', value: 7, periodSeconds: 10 }], window: 0, select: 'Max' },
    { name: 'Pod policy and stabilization window are specified', given: { policies: [{ type: 'Pods', value: 4, periodSeconds: 2 }], stabilizationWindowSeconds: 25 }, policies: [{ type: 'Pods', value: 4, periodSeconds: 2 }], window: 25, select: 'Max' },
    { name: 'Percent policy and stabilization window are specified', given: { policies: [{ type: 'Percent', value: 7, periodSeconds: 60 }], stabilizationWindowSeconds: 25 }, policies: [{ type: 'Percent', value: 7, periodSeconds: 60 }], window: 25, select: 'Max' },
  ];
  for (const r of upRows) {
    it(`${DT} TestGenerateScaleUpRules: ${r.name}`, () => {
      const b = completeBehavior({ scaleUp: r.given })!;
      assert.deepEqual(b.scaleUp.policies, r.policies);
      assert.equal(b.scaleUp.stabilizationWindowSeconds, r.window);
      assert.equal(b.scaleUp.selectPolicy, r.select);
    });
  }
  const downRows: Array<{ name: string; given: PartialScalingRules; policies: ScalingRules['policies']; window: number | null; select: string }> = [
    { name: 'Default values', given: {}, policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }], window: null, select: 'Max' },
    { name: 'All parameters are specified', given: { ...rules(1, 2, 3, 4, 25), selectPolicy: 'Max' }, policies: [{ type: 'Pods', value: 1, periodSeconds: 2 }, { type: 'Percent', value: 3, periodSeconds: 4 }], window: 25, select: 'Max' },
    { name: 'Percent policy is specified', given: { policies: [{ type: 'Percent', value: 1, periodSeconds: 2 }], selectPolicy: 'Min' }, policies: [{ type: 'Percent', value: 1, periodSeconds: 2 }], window: null, select: 'Min' },
    { name: 'Pods policy is specified', given: { policies: [{ type: 'Pods', value: 3, periodSeconds: 4 }] }, policies: [{ type: 'Pods', value: 3, periodSeconds: 4 }], window: null, select: 'Max' },
  ];
  for (const r of downRows) {
    it(`${DT} TestGenerateScaleDownRules: ${r.name}`, () => {
      const b = completeBehavior({ scaleDown: r.given })!;
      assert.deepEqual(b.scaleDown.policies, r.policies);
      assert.equal(b.scaleDown.stabilizationWindowSeconds, r.window);
      assert.equal(b.scaleDown.selectPolicy, r.select);
    });
  }
  it('no behavior stays the legacy path', () => {
    assert.equal(completeBehavior(null), null);
    assert.equal(completeBehavior(undefined), null);
  });
  it("an unset scale-down window takes the controller's --horizontal-pod-autoscaler-downscale-stabilization", () => {
    const behavior = completeBehavior({ scaleUp: {} })!;
    const history = { recommendations: [rec(9, 100)], scaleUpEvents: [], scaleDownEvents: [] };
    const held = finalizeReplicas({ currentReplicas: 10, minReplicas: 1, maxReplicas: 20, behavior, proposed: 2, history, now: NOW });
    assert.equal(held.desiredReplicas, 9);
    const shortWindow = finalizeReplicas({ currentReplicas: 10, minReplicas: 1, maxReplicas: 20, behavior, proposed: 2, history, now: NOW, options: { downscaleStabilizationSeconds: 60 } });
    assert.equal(shortWindow.desiredReplicas, 2);
  });
});
