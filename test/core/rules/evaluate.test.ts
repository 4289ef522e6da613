import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { evaluateRules, expandBand } from '../../../src/core/rules/index.js';
import type { RulesState, SustainedRule } from '../../../src/core/rules/index.js';
import type { TimedValue } from '../../../src/core/types.js';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const S = 1000;
const M = 60_000;
const Mi = 1024 * 1024;

function flat(from: number, to: number, step: number, v: number): TimedValue[] {
  const out: TimedValue[] = [];
  for (let t = from; t <= to; t += step) out.push({ t, v });
  return out;
}

const cpuHigh: SustainedRule = {
  name: 'cpu-high',
  metric: 'cpu',
  op: '>',
  threshold: 70,
  forMs: 10 * M,
  severity: 'warning',
  action: { kind: 'scale', mode: 'add', amount: 1 },
  cooldownMs: 5 * M,
};
const cpuCritical: SustainedRule = {
  name: 'cpu-critical',
  metric: 'cpu',
  op: '>',
  threshold: 90,
  forMs: 5 * M,
  severity: 'critical',
  action: { kind: 'scale', mode: 'add', amount: 2 },
  cooldownMs: 5 * M,
};
const cpuLow: SustainedRule = {
  name: 'cpu-low',
  metric: 'cpu',
  op: '<',
  threshold: 30,
  forMs: 60 * M,
  severity: 'warning',
  action: { kind: 'scale', mode: 'add', amount: -1 },
  cooldownMs: 10 * M,
};
const now = T0 + 10 * M;
const state = (over: Partial<RulesState> = {}): RulesState => ({ currentReplicas: 3, lastFired: {}, ...over });

describe('evaluateRules', () => {
  it('cpu > 70 for 10m fires and adds one replica, explained in one sentence', () => {
    const d = evaluateRules([cpuHigh], { cpu: flat(T0, now, 15 * S, 82) }, state(), now);
    assert.equal(d.scaleProposal, 4);
    assert.equal(d.scaleRule, 'cpu-high');
    assert.equal(
      d.reason,
      'cpu > 70 for 10m: firing since 12:10:00 (breaching since 12:00:00; every sample of 41 breached; latest 82), +1 → 4 replicas',
    );
    assert.equal(d.proposals[0]!.state, 'firing');
    assert.equal(d.proposals[0]!.activeSince, T0);
    assert.equal(d.state.lastFired['cpu-high'], now);
    assert.equal(d.state.lastScaleUp, now);
    assert.equal(d.state.currentReplicas, 4);
  });

  it('does not modify the state it was given', () => {
    const s = state({ lastFired: { other: 1 } });
    evaluateRules([cpuHigh], { cpu: flat(T0, now, 15 * S, 82) }, s, now);
    assert.deepEqual(s, { currentReplicas: 3, lastFired: { other: 1 } });
  });

  it('pending rule holds and says how far along it is', () => {
    const d = evaluateRules([cpuHigh], { cpu: flat(T0 + 6 * M, now, 15 * S, 82) }, state(), now);
    assert.equal(d.scaleProposal, undefined);
    assert.equal(d.proposals[0]!.state, 'pending');
    assert.equal(d.reason, 'holding at 3 replicas: cpu > 70 for 10m: pending since 12:06:00 (4m of 10m; latest 82)');
  });

  it('warning and critical both fire: the critical step (+2) wins, the warning is overridden', () => {
    const d = evaluateRules([cpuHigh, cpuCritical], { cpu: flat(T0, now, 15 * S, 95) }, state(), now);
    assert.equal(d.scaleProposal, 5);
    assert.equal(d.scaleRule, 'cpu-critical');
    assert.match(d.reason, /\[critical\]/);
    const warning = d.proposals.find((p) => p.rule === 'cpu-high')!;
    assert.equal(warning.suppressed, 'overridden');
    assert.equal(warning.replicas, 4);
    assert.deepEqual(Object.keys(d.state.lastFired), ['cpu-critical']);
  });

  it('only the warning fires at 80: +1', () => {
    const d = evaluateRules([cpuHigh, cpuCritical], { cpu: flat(T0, now, 15 * S, 80) }, state(), now);
    assert.equal(d.scaleProposal, 4);
    assert.equal(d.proposals.find((p) => p.rule === 'cpu-critical')!.state, 'inactive');
  });

  const cooldownCases: Array<[string, number, number | undefined]> = [
    ['acted 2m ago with a 5m cooldown → held', now - 2 * M, undefined],
    ['acted 4m59s ago → still held', now - 5 * M + S, undefined],
    ['acted exactly 5m ago → acts', now - 5 * M, 4],
    ['acted 6m ago → acts', now - 6 * M, 4],
  ];
  for (const [name, last, expected] of cooldownCases) {
    it(`rule cooldown: ${name}`, () => {
      const d = evaluateRules([cpuHigh], { cpu: flat(T0, now, 15 * S, 82) }, state({ lastFired: { 'cpu-high': last } }), now);
      assert.equal(d.scaleProposal, expected);
      if (expected === undefined) {
        assert.equal(d.proposals[0]!.suppressed, 'cooldown');
        assert.match(d.reason, /^holding at 3 replicas: .*held back by its 5m cooldown/);
        assert.equal(d.state.lastFired['cpu-high'], last);
      }
    });
  }

  it('scale-down cooldown counts from the last scale-up', () => {
    const t = T0 + 60 * M;
    const series = { cpu: flat(T0, t, M, 12) };
    const held = evaluateRules([cpuLow], series, state({ lastScaleUp: t - 3 * M }), t, { scaleDownCooldownMs: 10 * M });
    assert.equal(held.scaleProposal, undefined);
    assert.equal(held.proposals[0]!.suppressed, 'direction-cooldown');
    const acts = evaluateRules([cpuLow], series, state({ lastScaleUp: t - 11 * M }), t, { scaleDownCooldownMs: 10 * M });
    assert.equal(acts.scaleProposal, 2);
    assert.equal(acts.state.lastScaleDown, t);
  });

  it('scale-up cooldown holds a second scale-up', () => {
    const d = evaluateRules([cpuHigh], { cpu: flat(T0, now, 15 * S, 82) }, state({ lastScaleUp: now - M }), now, {
      scaleUpCooldownMs: 3 * M,
    });
    assert.equal(d.scaleProposal, undefined);
    assert.equal(d.proposals[0]!.suppressed, 'direction-cooldown');
  });

  it('a firing scale-up, even one in cooldown, vetoes a scale-down on another metric', () => {
    const queueLow: SustainedRule = { ...cpuLow, name: 'queue-low', metric: 'queue', threshold: 5, forMs: 5 * M };
    const d = evaluateRules(
      [cpuHigh, queueLow],
      { cpu: flat(T0, now, 15 * S, 82), queue: flat(T0, now, 15 * S, 0) },
      state({ lastFired: { 'cpu-high': now - M } }),
      now,
    );
    assert.equal(d.scaleProposal, undefined);
    assert.equal(d.proposals.find((p) => p.rule === 'queue-low')!.suppressed, 'overridden');
  });

  it('of two scale-downs the more cautious one wins (6 → 5 beats 6 → 3)', () => {
    const halve: SustainedRule = { ...cpuLow, name: 'cpu-very-low', threshold: 10, action: { kind: 'scale', mode: 'percent', amount: -50 } };
    const t = T0 + 60 * M;
    const d = evaluateRules([cpuLow, halve], { cpu: flat(T0, t, M, 5) }, state({ currentReplicas: 6 }), t);
    assert.equal(d.scaleProposal, 5);
    assert.equal(d.proposals.find((p) => p.rule === 'cpu-very-low')!.replicas, 3);
  });

  const clampCases: Array<[string, number, number | undefined, RegExp]> = [
    ['9 + 2 is held to maxReplicas 10', 9, 10, /\+2 → 10 replicas \(held to maxReplicas 10\)/],
    ['at maxReplicas nothing changes', 10, undefined, /\+2 leaves 10 replicas \(held to maxReplicas 10\)/],
  ];
  for (const [name, current, expected, re] of clampCases) {
    it(`clamps to maxReplicas: ${name}`, () => {
      const d = evaluateRules([cpuCritical], { cpu: flat(T0, now, 15 * S, 95) }, state({ currentReplicas: current }), now, {
        maxReplicas: 10,
      });
      assert.equal(d.scaleProposal, expected);
      assert.match(d.proposals[0]!.reason, re);
    });
  }

  it('scale-down stops at minReplicas', () => {
    const t = T0 + 60 * M;
    const d = evaluateRules([cpuLow], { cpu: flat(T0, t, M, 5) }, state({ currentReplicas: 2 }), t, { minReplicas: 2 });
    assert.equal(d.scaleProposal, undefined);
    assert.equal(d.proposals[0]!.suppressed, 'no-change');
  });

  describe('hysteresis band 30–70', () => {
    const band = expandBand({
      name: 'cpu',
      metric: 'cpu',
      upper: 70,
      lower: 30,
      upForMs: 10 * M,
      downForMs: 60 * M,
      up: { kind: 'scale', mode: 'percent', amount: 50 },
      down: { kind: 'scale', mode: 'add', amount: -1 },
      upCooldownMs: 5 * M,
      downCooldownMs: 10 * M,
    });
    const t = T0 + 60 * M;
    const cases: Array<[number, number | undefined, string | undefined]> = [
      [50, undefined, undefined], // between the bands: hold
      [70, undefined, undefined], // on the upper edge: not above it
      [30, undefined, undefined], // on the lower edge: not below it
      [71, 5, 'cpu/up'], // from 3 replicas: 3 × 1.5 = 4.5 → 5
      [29, 3, 'cpu/down'], // from 4 replicas: -1
    ];
    for (const [v, expected, rule] of cases) {
      it(`cpu steady at ${v} → ${expected ?? 'hold'}`, () => {
        const d = evaluateRules(band, { cpu: flat(T0, t, M, v) }, state({ currentReplicas: expected === 5 ? 3 : 4 }), t);
        assert.equal(d.scaleProposal, expected);
        assert.equal(d.scaleRule, rule);
        if (expected === undefined) assert.match(d.reason, /^holding at 4 replicas: no rule firing/);
      });
    }
  });

  it('resize rule raises the memory limit by 25% and records the new value', () => {
    const memHigh: SustainedRule = {
      name: 'memory-high',
      metric: 'memory',
      op: '>',
      threshold: 85,
      forMs: 5 * M,
      severity: 'critical',
      action: { kind: 'resize', resource: 'memory', field: 'limits', mode: 'percent', amount: 25, max: 1024 * Mi },
      cooldownMs: 30 * M,
    };
    const s = state({ resources: { requests: { memory: 256 * Mi }, limits: { memory: 512 * Mi } } });
    const d = evaluateRules([memHigh], { memory: flat(now - 5 * M, now, 15 * S, 91) }, s, now);
    assert.deepEqual(d.resizes, [{ rule: 'memory-high', resource: 'memory', field: 'limits', from: 512 * Mi, to: 640 * Mi }]);
    assert.equal(d.scaleProposal, undefined);
    assert.equal(d.state.resources?.limits?.memory, 640 * Mi);
    assert.equal(d.state.resources?.requests?.memory, 256 * Mi);
    assert.equal(s.resources?.limits?.memory, 512 * Mi);
    assert.equal(d.state.lastFired['memory-high'], now);
    assert.match(d.reason, /memory limits \+25% 512Mi → 640Mi$/);

    const atMax = evaluateRules([memHigh], { memory: flat(now - 5 * M, now, 15 * S, 91) }, state({ resources: { limits: { memory: 1024 * Mi } } }), now);
    assert.deepEqual(atMax.resizes, []);
    assert.equal(atMax.proposals[0]!.suppressed, 'no-change');
    assert.match(atMax.proposals[0]!.reason, /memory limits stays 1Gi \(at max 1Gi\)$/);

    const unknown = evaluateRules([memHigh], { memory: flat(now - 5 * M, now, 15 * S, 91) }, state(), now);
    assert.equal(unknown.proposals[0]!.suppressed, 'unknown-resource');
    assert.deepEqual(unknown.resizes, []);
  });

  it('an invalid rule is reported, not thrown, and the valid rules still run', () => {
    const broken = { ...cpuHigh, name: 'broken', op: '=>' } as unknown as SustainedRule;
    const d = evaluateRules([broken, cpuHigh], { cpu: flat(T0, now, 15 * S, 82) }, state(), now);
    assert.match(d.proposals[0]!.reason, /^rule ignored: rules\.broken\.op "=>" must be one of/);
    assert.equal(d.scaleProposal, 4);
  });

  it('missing series leaves the rule inactive with the reason', () => {
    const d = evaluateRules([cpuHigh], {}, state(), now);
    assert.equal(d.scaleProposal, undefined);
    assert.match(d.reason, /no samples of cpu/);
  });
});
