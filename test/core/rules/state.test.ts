import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ruleState } from '../../../src/core/rules/index.js';
import type { ComparisonOp } from '../../../src/core/rules/index.js';
import type { TimedValue } from '../../../src/core/types.js';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const S = 1000;
const M = 60_000;

/** Samples every `step` ms from `from` to `to` inclusive, value from fn(t). */
function series(from: number, to: number, step: number, fn: (t: number) => number): TimedValue[] {
  const out: TimedValue[] = [];
  for (let t = from; t <= to; t += step) out.push({ t, v: fn(t) });
  return out;
}

const cpuOver70: { metric: string; op: ComparisonOp; threshold: number; forMs: number } = { metric: 'cpu', op: '>', threshold: 70, forMs: 10 * M };

describe('ruleState (Prometheus for: semantics)', () => {
  const cases: Array<{
    name: string;
    rule?: Partial<typeof cpuOver70>;
    samples: TimedValue[];
    now: number;
    state: 'inactive' | 'pending' | 'firing';
    activeSince?: number;
    samplesInWindow?: number;
    detail?: RegExp;
  }> = [
    {
      name: 'every sample of a full 10m window breaches → firing',
      samples: series(T0, T0 + 10 * M, 15 * S, () => 80),
      now: T0 + 10 * M,
      state: 'firing',
      activeSince: T0,
      samplesInWindow: 41,
      detail: /^firing since 12:10:00 \(breaching since 12:00:00; every sample of 41 breached; latest 80\)$/,
    },
    {
      name: 'window not yet covered (9m45s of 10m) → pending',
      samples: series(T0, T0 + 9 * M + 45 * S, 15 * S, () => 80),
      now: T0 + 9 * M + 45 * S,
      state: 'pending',
      activeSince: T0,
      detail: /pending since 12:00:00 \(9m45s of 10m; latest 80\)/,
    },
    {
      name: 'run starting exactly at now - for → firing (window is closed)',
      samples: series(T0 + 2 * M, T0 + 12 * M, 30 * S, () => 71),
      now: T0 + 12 * M,
      state: 'firing',
      activeSince: T0 + 2 * M,
      samplesInWindow: 21,
    },
    {
      name: 'run starting 1s after now - for → pending',
      samples: series(T0 + 2 * M + S, T0 + 12 * M, 30 * S, () => 71),
      now: T0 + 12 * M,
      state: 'pending',
      activeSince: T0 + 2 * M + S,
    },
    {
      name: 'one sample at or below the threshold resets the run',
      samples: series(T0, T0 + 10 * M, 15 * S, (t) => (t === T0 + 5 * M ? 70 : 90)),
      now: T0 + 10 * M,
      state: 'pending',
      activeSince: T0 + 5 * M + 15 * S,
    },
    {
      name: 'a gap longer than 5m (stale) resets the run',
      samples: [...series(T0, T0 + 3 * M, 15 * S, () => 90), ...series(T0 + 9 * M, T0 + 10 * M, 15 * S, () => 90)],
      now: T0 + 10 * M,
      state: 'pending',
      activeSince: T0 + 9 * M,
      detail: /broken by a gap/,
    },
    {
      name: 'a 4m gap is within the lookback and does not reset',
      samples: [...series(T0, T0 + 3 * M, 15 * S, () => 90), ...series(T0 + 7 * M, T0 + 10 * M, 15 * S, () => 90)],
      now: T0 + 10 * M,
      state: 'firing',
      activeSince: T0,
      samplesInWindow: 13 + 13,
    },
    {
      name: 'newest sample older than 5m → inactive (stale)',
      samples: series(T0 - 10 * M, T0 + 4 * M, 15 * S, () => 90),
      now: T0 + 10 * M,
      state: 'inactive',
      detail: /newest sample of cpu is 6m old \(stale after 5m\)/,
    },
    {
      name: 'no samples → inactive',
      samples: [],
      now: T0,
      state: 'inactive',
      detail: /no samples of cpu/,
    },
    {
      name: 'latest sample does not breach → inactive',
      samples: series(T0, T0 + 10 * M, 15 * S, (t) => (t === T0 + 10 * M ? 69 : 90)),
      now: T0 + 10 * M,
      state: 'inactive',
      detail: /latest 69 <= 70/,
    },
    {
      name: '> does not breach on equality',
      samples: series(T0, T0 + 10 * M, M, () => 70),
      now: T0 + 10 * M,
      state: 'inactive',
    },
    {
      name: '>= breaches on equality',
      rule: { op: '>=' },
      samples: series(T0, T0 + 10 * M, M, () => 70),
      now: T0 + 10 * M,
      state: 'firing',
      activeSince: T0,
      samplesInWindow: 11,
    },
    {
      name: '< for 1h (scale-down rule)',
      rule: { op: '<', threshold: 30, forMs: 60 * M },
      samples: series(T0, T0 + 60 * M, M, () => 12),
      now: T0 + 60 * M,
      state: 'firing',
      activeSince: T0,
      samplesInWindow: 61,
    },
    {
      name: '<= does not breach above the threshold',
      rule: { op: '<=', threshold: 30, forMs: 60 * M },
      samples: series(T0, T0 + 60 * M, M, () => 30.5),
      now: T0 + 60 * M,
      state: 'inactive',
    },
    {
      name: 'for: 0 fires on the first breaching sample',
      rule: { forMs: 0 },
      samples: [{ t: T0, v: 75 }],
      now: T0 + 10 * S,
      state: 'firing',
      activeSince: T0,
      detail: /^firing \(latest 75\)$/,
    },
    {
      name: 'samples after now are ignored',
      samples: [...series(T0, T0 + 10 * M, M, () => 90), { t: T0 + 11 * M, v: 10 }],
      now: T0 + 10 * M,
      state: 'firing',
      activeSince: T0,
      samplesInWindow: 11,
    },
    {
      name: 'unsorted input and NaN samples',
      samples: [
        { t: T0 + 10 * M, v: 90 },
        { t: T0, v: 90 },
        { t: T0 + 5 * M, v: Number.NaN },
        { t: T0 + 4 * M, v: 90 },
        { t: T0 + 8 * M, v: 90 },
      ],
      now: T0 + 10 * M,
      state: 'firing',
      activeSince: T0,
      samplesInWindow: 4,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const st = ruleState({ ...cpuOver70, ...c.rule }, c.samples, c.now);
      assert.equal(st.state, c.state, st.detail);
      assert.equal(st.activeSince, c.activeSince);
      if (c.samplesInWindow !== undefined) assert.equal(st.samplesInWindow, c.samplesInWindow);
      if (c.detail) assert.match(st.detail, c.detail);
    });
  }

  it('a shorter staleAfter turns a 2m gap into a reset', () => {
    const samples = [...series(T0, T0 + 4 * M, M, () => 90), ...series(T0 + 6 * M, T0 + 10 * M, M, () => 90)];
    assert.equal(ruleState(cpuOver70, samples, T0 + 10 * M).state, 'firing');
    const st = ruleState(cpuOver70, samples, T0 + 10 * M, 90 * S);
    assert.equal(st.state, 'pending');
    assert.equal(st.activeSince, T0 + 6 * M);
  });
});
