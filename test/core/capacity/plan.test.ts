import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CapacityError, fitGrowth, growthMultiplier, limitDates, monthsUntilMultiplier, planPhases } from '../../../src/core/capacity/index.js';

function close(a: number, b: number, eps = 1e-9): void {
  assert.ok(Math.abs(a - b) <= eps, `${a} is not ${b}`);
}

describe('planPhases (pilot → 10× → 100×)', () => {
  const plans = planPhases({ users: 1000, rps: 50, rpsPerInstance: 50, tokensPerRequest: 500 });
  // per replica: 50 rps × cpu target; replicas at least 2; max = 2 × replicas; pool = ceil(connections / replicas);
  // max_connections = ceil(pool × maxReplicas / 0.7)
  const expected = [
    // name, users, rps, tier, replicas, max, connections, pool, max_connections, redis GB, quota
    ['pilot', 1000, 50, 'medium', 2, 4, 100, 50, 286, 1, 1_764_706], // 50 / 35 = 1.43 → 2; 200 / 0.7 = 285.7
    ['10x', 10_000, 500, 'large', 16, 32, 1000, 63, 2880, 1, 17_647_059], // 500 / 32.5 = 15.4; 63 × 32 = 2016 / 0.7
    ['100x', 100_000, 5000, 'enterprise', 167, 334, 10_000, 60, 28_629, 10, 176_470_589], // 5000 / 30 = 166.7
  ] as const;
  for (const [i, e] of expected.entries()) {
    it(`${e[0]}: ${e[4]} replicas, pools of ${e[7]}, max_connections ${e[8]}`, () => {
      const p = plans[i]!;
      assert.deepEqual(
        [p.name, p.users, p.rps, p.tier, p.replicas, p.maxReplicas, p.dbConnections, p.poolSizePerReplica, p.maxConnections, p.redisGb, p.tokenQuotaPerMinute],
        [...e],
      );
    });
  }
  it('cpu and memory targets come from the phase', () => {
    assert.deepEqual(plans.map((p) => [p.cpuTarget, p.memoryTarget]), [[70, 80], [65, 75], [60, 70]]);
  });
  it('custom phases and minimum replicas', () => {
    const [p] = planPhases({ users: 10, rps: 1, rpsPerInstance: 100, minReplicas: 3 }, [{ name: 'tiny', multiplier: 1, cpuTarget: 50, memoryTarget: 80 }]);
    assert.equal(p!.replicas, 3);
  });
  it('refuses a cpu target above 100%', () => {
    assert.throws(() => planPhases({ users: 1, rps: 1, rpsPerInstance: 1 }, [{ name: 'x', multiplier: 1, cpuTarget: 120, memoryTarget: 80 }]), /phases\[0\] \(x\): cpuTarget/);
  });
});

describe('growth models', () => {
  it('compound and linear multipliers', () => {
    assert.equal(growthMultiplier({ kind: 'compound', monthlyFactor: 1.5 }, 2), 2.25);
    assert.equal(growthMultiplier({ kind: 'linear', monthlyIncrease: 0.2 }, 3), 1.6);
    assert.equal(growthMultiplier({ kind: 'series', factors: [1, 1.2, 2] }, 1.5), 1.6);
  });
  const until: Array<[string, Parameters<typeof monthsUntilMultiplier>[0], number, number | null]> = [
    ['×1.5 reaches 2.25 in 2 months', { kind: 'compound', monthlyFactor: 1.5 }, 2.25, 2],
    ['+20%/month reaches 2 in 5 months', { kind: 'linear', monthlyIncrease: 0.2 }, 2, 5],
    ['series crosses 1.6 halfway through month 1', { kind: 'series', factors: [1, 1.2, 2] }, 1.6, 1.5],
    ['no growth never reaches 2', { kind: 'compound', monthlyFactor: 1 }, 2, null],
    ['shrinking never reaches 2', { kind: 'linear', monthlyIncrease: -0.1 }, 2, null],
    ['series that stays below never reaches', { kind: 'series', factors: [1, 1.1] }, 2, null],
    ['k ≤ 1 is now', { kind: 'compound', monthlyFactor: 1.5 }, 0.8, 0],
  ];
  for (const [name, model, k, want] of until) {
    it(name, () => {
      const m = monthsUntilMultiplier(model, k);
      if (want === null) assert.equal(m, null);
      else close(m!, want);
    });
  }

  it('fits exponential growth from history: 100, 150, 225, 337.5 → ×1.5, base 337.5', () => {
    const g = fitGrowth([100, 150, 225, 337.5], 'exponential');
    assert.equal(g.model.kind, 'compound');
    close((g.model as { monthlyFactor: number }).monthlyFactor, 1.5, 1e-12);
    assert.equal(g.base, 337.5);
  });
  it('fits linear growth: 100, 120, 140, 160 → +20 a month = 12.5% of 160', () => {
    const g = fitGrowth([100, 120, 140, 160], 'linear');
    assert.equal(g.model.kind, 'linear');
    close((g.model as { monthlyIncrease: number }).monthlyIncrease, 20 / 160, 1e-12);
  });
  it('fits Holt-Winters as a forecast path relative to the latest value', () => {
    const y = [1, 3, 2, 4, 4, 5];
    const g = fitGrowth(y, 'holt-winters', { seasonLength: 2, horizonMonths: 2, alpha: 0.5, beta: 0.5, gamma: 0.5 });
    assert.deepEqual(g.model, { kind: 'series', factors: [1, 4.6875 / 5, 6.3125 / 5] });
  });
  it('refuses a single month of history', () => assert.throws(() => fitGrowth([5], 'linear'), CapacityError));
  it('wraps forecast errors with the method', () => assert.throws(() => fitGrowth([5, 0, 3], 'exponential'), /cannot fit exponential growth: .*above 0/));
});

describe('limitDates', () => {
  const start = Date.UTC(2025, 0, 1);
  const reached = limitDates({
    start,
    growth: 1.5,
    users: 1000,
    rps: 50,
    storageGb: 10,
    tokensPerRequest: 500,
    limits: { maxReplicas: 10, maxConnections: 100, tokenQuotaPerMinute: 10_000_000, storageGb: 10_000, redisGb: 1 },
  });
  const by = Object.fromEntries(reached.map((r) => [r.limit, r]));
  it('maxReplicas 10 at 50 rps per replica: demand ×10 → ln 10 / ln 1.5 = 5.679 months → 2025-06-21', () => {
    close(by.maxReplicas!.month!, 5.6788735872675735, 1e-9);
    assert.equal(by.maxReplicas!.date, '2025-06-21');
  });
  it('max_connections 100 keeping 30% free (70 usable) is already exceeded by 100 connections', () => {
    assert.equal(by.maxConnections!.month, 0);
    assert.equal(by.maxConnections!.usable, 70);
    assert.match(by.maxConnections!.reason, /already reached \(142\.9% of usable\)/);
  });
  it('token quota 10M at 85% (8.5M usable) vs 1.5M now: ln(5.667) / ln 1.5 = 4.278 months → 2025-05-09', () => {
    close(by.tokenQuota!.month!, 4.278052588745499, 1e-9);
    assert.equal(by.tokenQuota!.date, '2025-05-09');
  });
  it('storage 10,000 GB from 10 GB: ln 1000 / ln 1.5 = 17.04 months', () => {
    close(by.storage!.month!, Math.log(1000) / Math.log(1.5), 1e-9);
    assert.equal(by.storage!.date, '2026-06-02');
  });
  it('Redis 1 GB with 0.1 GB used: ×10 like maxReplicas', () => assert.equal(by.redisMemory!.date, '2025-06-21'));
  it('without growth a limit is never reached', () => {
    const [r] = limitDates({ start, growth: 1, users: 1000, rps: 50, limits: { maxReplicas: 10 } });
    assert.equal(r!.month, null);
    assert.match(r!.reason, /not reached at ×1 per month/);
  });
  it('a limit reached only after a century is not given a date (once: a RangeError past the last Date)', () => {
    const [r] = limitDates({ start, growth: 1.0000001, users: 1000, rps: 50, limits: { maxReplicas: 1e6 } });
    assert.equal(r!.month, null);
    assert.equal(r!.date, null);
    assert.match(r!.reason, /not reached within 100 years at ×1 per month/);
  });
  it('needs tokensPerRequest for a token quota', () => {
    assert.throws(() => limitDates({ start, growth: 1.5, users: 1, rps: 1, limits: { tokenQuotaPerMinute: 5 } }), /needs tokensPerRequest/);
  });
});
