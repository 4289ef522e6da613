// finalizeReplicas with recordHistory: false (decide() keeps its own history): on random histories, behaviors and
// proposals the numbers and conditions are those of the recording call, the given history comes back untouched,
// and nothing it was given is mutated.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completeBehavior, finalizeReplicas, type HpaBehavior, type HpaHistory } from '../../../src/core/hpa/index.js';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

const NOW = 1_700_000_000_000;

function randomBehavior(r: () => number): HpaBehavior | null {
  if (r() < 0.3) return null;
  const window = () => (r() < 0.3 ? undefined : Math.floor(r() * 600));
  const policies = () => (r() < 0.3 ? undefined : [{ type: r() < 0.5 ? 'Pods' as const : 'Percent' as const, value: 1 + Math.floor(r() * 100), periodSeconds: 15 + Math.floor(r() * 300) }]);
  return completeBehavior({
    scaleUp: { stabilizationWindowSeconds: window(), policies: policies() } as never,
    scaleDown: { stabilizationWindowSeconds: window(), policies: policies() } as never,
  });
}

function randomHistory(r: () => number): HpaHistory {
  if (r() < 0.1) return { recommendations: null, scaleUpEvents: [], scaleDownEvents: [] };
  const recs = Array.from({ length: Math.floor(r() * 40) }, () => ({ time: NOW - Math.floor(r() * 900_000), replicas: 1 + Math.floor(r() * 50) }));
  const events = () => Array.from({ length: Math.floor(r() * 5) }, () => ({ time: NOW - Math.floor(r() * 900_000), change: 1 + Math.floor(r() * 10) }));
  return { recommendations: recs, scaleUpEvents: events(), scaleDownEvents: events() };
}

test('recordHistory: false gives the recording call\'s numbers and returns the given history unchanged', () => {
  let differentHistories = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const r = rng(seed);
    const behavior = randomBehavior(r);
    const history = randomHistory(r);
    const current = 1 + Math.floor(r() * 50);
    const args = { currentReplicas: current, minReplicas: 1 + Math.floor(r() * 3), maxReplicas: 20 + Math.floor(r() * 40), behavior, proposed: 1 + Math.floor(r() * 80), history, now: NOW };
    const snapshot = structuredClone(history);
    const recorded = finalizeReplicas(args);
    const kept = finalizeReplicas({ ...args, recordHistory: false });
    const { history: recordedHistory, ...recordedNumbers } = recorded;
    const { history: keptHistory, ...keptNumbers } = kept;
    assert.deepEqual(keptNumbers, recordedNumbers, `seed ${seed}`);
    assert.equal(keptHistory, history, `seed ${seed}: the given history is returned as it is`);
    assert.deepEqual(history, snapshot, `seed ${seed}: the given history is not mutated`);
    if (JSON.stringify(recordedHistory) !== JSON.stringify(history)) differentHistories++;
  }
  // the recording call does build a new history: the comparison above is between two different code paths
  assert.ok(differentHistories > 2000, `only ${differentHistories} recording calls changed the history`);
});
