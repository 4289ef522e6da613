import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { averageValueReplicas, evaluateQueue, validateQueueSpec } from '../../src/core/queue.js';
import type { QueuePhase, QueueReading, QueueSpec, QueueState } from '../../src/core/queue.js';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);
const M = 60_000;
const base: QueueSpec = { targetValue: 50, minReplicaCount: 0, maxReplicaCount: 10, cooldownPeriodMs: 5 * M };

describe('evaluateQueue', () => {
  const cases: Array<{
    name: string;
    spec?: Partial<QueueSpec>;
    reading: QueueReading;
    state?: QueueState;
    current: number;
    replicas: number | null;
    phase: QueuePhase;
    active?: boolean;
    reason?: RegExp;
  }> = [
    {
      name: '250 items at 50 per replica → 5',
      reading: { value: 250 },
      current: 2,
      replicas: 5,
      phase: 'scale',
      active: true,
      reason: /^queue 250 > activation 0: ceil\(250 \/ 50\) = 5 replicas$/,
    },
    {
      name: '1000 items is held to maxReplicaCount 10',
      reading: { value: 1000 },
      current: 2,
      replicas: 10,
      phase: 'scale',
      reason: /ceil\(1000 \/ 50\) = 20 replicas \(held to maxReplicaCount 10\)/,
    },
    {
      name: '105 items on 2 replicas is within the 10% tolerance → keep 2',
      reading: { value: 105 },
      current: 2,
      replicas: 2,
      phase: 'scale',
      reason: /within 10% of 50 per replica × 2/,
    },
    { name: 'same with tolerance 0 → ceil(2.1) = 3', spec: { tolerance: 0 }, reading: { value: 105 }, current: 2, replicas: 3, phase: 'scale' },
    {
      name: 'inactive 2m into a 5m cooldown: the HPA floor of 1 applies meanwhile',
      reading: { value: 0 },
      state: { lastActiveTime: NOW - 2 * M, consecutiveFailures: 0 },
      current: 3,
      replicas: 1,
      phase: 'cool-down',
      active: false,
      reason: /inactive for 2m of cooldownPeriod 5m before scaling to 0/,
    },
    {
      name: 'exactly cooldownPeriod since last active: not yet (KEDA needs strictly after)',
      reading: { value: 0 },
      state: { lastActiveTime: NOW - 5 * M, consecutiveFailures: 0 },
      current: 3,
      replicas: 1,
      phase: 'cool-down',
    },
    {
      name: 'cooldownPeriod + 1ms since last active → scale to zero',
      reading: { value: 0 },
      state: { lastActiveTime: NOW - 5 * M - 1, consecutiveFailures: 0 },
      current: 3,
      replicas: 0,
      phase: 'deactivate',
      reason: /scaling 3 → 0/,
    },
    {
      name: 'never active → scale to zero at once (KEDA ignores the cooldown without lastActiveTime)',
      reading: { value: 0 },
      current: 3,
      replicas: 0,
      phase: 'deactivate',
    },
    {
      name: 'from zero on activation to 1 (minReplicaCount 0), whatever the backlog',
      reading: { value: 400 },
      current: 0,
      replicas: 1,
      phase: 'activate',
      active: true,
      reason: /activating from 0 to 1 replica .*ceil\(400 \/ 50\) = 8 replicas/,
    },
    { name: 'idle at zero stays at zero', reading: { value: 0 }, current: 0, replicas: 0, phase: 'idle', active: false },
    {
      name: 'activation is "greater than": 10 with activationThreshold 10 stays idle',
      spec: { activationThreshold: 10 },
      reading: { value: 10 },
      current: 0,
      replicas: 0,
      phase: 'idle',
    },
    { name: '11 with activationThreshold 10 activates', spec: { activationThreshold: 10 }, reading: { value: 11 }, current: 0, replicas: 1, phase: 'activate' },
    {
      name: 'activation beats the target (KEDA docs: 40 messages, threshold 10, activation 50 → zero)',
      spec: { targetValue: 10, activationThreshold: 50 },
      reading: { value: 40 },
      state: { lastActiveTime: NOW - 10 * M, consecutiveFailures: 0 },
      current: 4,
      replicas: 0,
      phase: 'deactivate',
    },
    {
      name: 'minReplicaCount 2 without idleReplicaCount never scales to zero',
      spec: { minReplicaCount: 2 },
      reading: { value: 0 },
      current: 3,
      replicas: 2,
      phase: 'scale',
    },
    {
      name: 'minReplicaCount 2, found at 0 and inactive → set to 2',
      spec: { minReplicaCount: 2 },
      reading: { value: 0 },
      current: 0,
      replicas: 2,
      phase: 'scale',
    },
    {
      name: 'minReplicaCount 3 activates from zero straight to 3',
      spec: { minReplicaCount: 3 },
      reading: { value: 1 },
      current: 0,
      replicas: 3,
      phase: 'activate',
    },
    {
      name: 'idleReplicaCount 0 with minReplicaCount 3: inactive past cooldown → 0',
      spec: { minReplicaCount: 3, idleReplicaCount: 0 },
      reading: { value: 0 },
      state: { lastActiveTime: NOW - 6 * M, consecutiveFailures: 0 },
      current: 3,
      replicas: 0,
      phase: 'deactivate',
    },
    {
      name: 'idleReplicaCount 0 with minReplicaCount 3: cooling down holds the HPA floor of 3',
      spec: { minReplicaCount: 3, idleReplicaCount: 0 },
      reading: { value: 0 },
      state: { lastActiveTime: NOW - M, consecutiveFailures: 0 },
      current: 3,
      replicas: 3,
      phase: 'cool-down',
    },
    {
      name: 'first failed read without fallback: no decision',
      reading: { error: 'connection refused' },
      current: 3,
      replicas: null,
      phase: 'read-error',
      reason: /queue read failed \(1 in a row; no fallback configured\): no decision, 3 replicas keep running; error: connection refused/,
    },
    {
      name: 'third failed read with failureThreshold 3: not yet',
      spec: { fallback: { failureThreshold: 3, replicas: 6 } },
      reading: { error: 'timeout' },
      state: { consecutiveFailures: 2 },
      current: 3,
      replicas: null,
      phase: 'read-error',
    },
    {
      name: 'fourth failed read exceeds failureThreshold 3 → fallback 6',
      spec: { fallback: { failureThreshold: 3, replicas: 6 } },
      reading: { error: 'timeout' },
      state: { consecutiveFailures: 3 },
      current: 3,
      replicas: 6,
      phase: 'fallback',
      reason: /failed 4 times in a row \(more than failureThreshold 3\): fallback \(static\) to 6 replicas; last error: timeout/,
    },
    {
      name: 'fallback currentReplicasIfHigher keeps 8 over 6',
      spec: { fallback: { failureThreshold: 0, replicas: 6, behavior: 'currentReplicasIfHigher' } },
      reading: { error: 'x' },
      current: 8,
      replicas: 8,
      phase: 'fallback',
    },
    {
      name: 'fallback currentReplicasIfLower takes 6 under 8',
      spec: { fallback: { failureThreshold: 0, replicas: 6, behavior: 'currentReplicasIfLower' } },
      reading: { error: 'x' },
      current: 8,
      replicas: 6,
      phase: 'fallback',
    },
    {
      name: 'fallback currentReplicas keeps 8',
      spec: { fallback: { failureThreshold: 0, replicas: 6, behavior: 'currentReplicas' } },
      reading: { error: 'x' },
      current: 8,
      replicas: 8,
      phase: 'fallback',
    },
    {
      name: 'fallback above maxReplicaCount is held to it',
      spec: { fallback: { failureThreshold: 0, replicas: 12 } },
      reading: { error: 'x' },
      current: 2,
      replicas: 10,
      phase: 'fallback',
    },
    {
      name: 'a NaN value counts as a failed read',
      reading: { value: Number.NaN },
      current: 2,
      replicas: null,
      phase: 'read-error',
      reason: /value NaN is not a number/,
    },
    {
      name: 'invalid spec is reported, not thrown',
      spec: { targetValue: 0 },
      reading: { value: 10 },
      current: 2,
      replicas: null,
      phase: 'invalid',
      reason: /queue\.targetValue must be a positive number/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = evaluateQueue({ ...base, ...c.spec }, c.reading, c.state ?? { consecutiveFailures: 0 }, c.current, NOW);
      assert.equal(r.replicas, c.replicas, r.reason);
      assert.equal(r.phase, c.phase, r.reason);
      if (c.active !== undefined) assert.equal(r.active, c.active);
      if (c.reason) assert.match(r.reason, c.reason);
    });
  }

  it('state: a successful read resets failures; activity sets lastActiveTime; errors keep it', () => {
    const s0: QueueState = { lastActiveTime: NOW - 10 * M, consecutiveFailures: 2 };
    const ok = evaluateQueue(base, { value: 100 }, s0, 2, NOW);
    assert.deepEqual(ok.state, { lastActiveTime: NOW, consecutiveFailures: 0 });
    const idle = evaluateQueue(base, { value: 0 }, s0, 0, NOW);
    assert.deepEqual(idle.state, { lastActiveTime: NOW - 10 * M, consecutiveFailures: 0 });
    const err = evaluateQueue(base, { error: 'boom' }, s0, 2, NOW);
    assert.deepEqual(err.state, { lastActiveTime: NOW - 10 * M, consecutiveFailures: 3 });
    assert.deepEqual(s0, { lastActiveTime: NOW - 10 * M, consecutiveFailures: 2 });
  });

  it('a scale-to-zero cycle: active, cool down, zero, reactivate', () => {
    let state: QueueState = { consecutiveFailures: 0 };
    let replicas = 0;
    const steps: Array<[number, number, number]> = [
      // minute, queue value, expected replicas
      [0, 120, 1], // activate
      [1, 120, 3], // ceil(120/50)
      [2, 0, 1], // inactive, cooling down: HPA floor
      [6, 0, 1], // 5m after last activity (minute 1): still cooling (not strictly after)
      [7, 0, 0], // scale to zero
      [8, 0, 0],
      [9, 30, 1], // reactivate
    ];
    for (const [minute, value, expected] of steps) {
      const r = evaluateQueue(base, { value }, state, replicas, NOW + minute * M);
      assert.equal(r.replicas, expected, `minute ${minute}: ${r.reason}`);
      state = r.state;
      replicas = r.replicas ?? replicas;
    }
  });
});

describe('averageValueReplicas', () => {
  const cases: Array<[number, number, number, number, number]> = [
    // value, target, current, tolerance, expected
    [2.1, 0.3, 1, 0.1, 7], // milli arithmetic: 2100 / 300 = 7 (2.1 / 0.3 is 7.000000000000001 in floats)
    [7.7, 0.7, 0, 0.1, 11], // 7700 / 700 = 11, not 11.000000000000002 → 12
    [0.3, 0.1, 0, 0.1, 3],
    [99, 10, 10, 0.1, 10], // ratio 0.99
    [89, 10, 10, 0.1, 9], // ratio 0.89 leaves the tolerance
    [111, 10, 10, 0.1, 12],
    [0, 10, 3, 0.1, 0],
  ];
  for (const [value, target, current, tol, expected] of cases) {
    it(`${value} / ${target} on ${current} replicas → ${expected}`, () => {
      assert.equal(averageValueReplicas(value, target, current, tol), expected);
    });
  }
});

describe('validateQueueSpec', () => {
  it('accepts the defaults', () => assert.deepEqual(validateQueueSpec({ targetValue: 5 }), []));
  const bad: Array<[Partial<QueueSpec>, RegExp]> = [
    [{ idleReplicaCount: 1, minReplicaCount: 1 }, /idleReplicaCount must be a whole number below minReplicaCount \(1\)/],
    [{ maxReplicaCount: 0 }, /maxReplicaCount must be a whole number >= max\(1, minReplicaCount\)/],
    [{ minReplicaCount: 5, maxReplicaCount: 3 }, /maxReplicaCount/],
    [{ fallback: { failureThreshold: -1, replicas: 2 } }, /fallback\.failureThreshold/],
    [{ fallback: { failureThreshold: 3, replicas: 2, behavior: 'sometimes' as never } }, /fallback\.behavior "sometimes"/],
  ];
  for (const [patch, re] of bad) {
    it(`rejects ${JSON.stringify(patch)}`, () => assert.match(validateQueueSpec({ targetValue: 5, ...patch }).join('\n'), re));
  }
});
