import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  CapacityError,
  headroom,
  limitWithHeadroom,
  requiredDbConnections,
  requiredInstances,
  requiredRedisGb,
  sizingTier,
  tokenQuota,
} from '../../../src/core/capacity/index.js';

describe('requiredInstances / connections / Redis', () => {
  const inst: Array<[number, number, number]> = [[0, 50, 0], [50, 50, 1], [50.5, 50, 2], [569.53125, 50, 12], [1000, 50, 20]];
  for (const [rps, per, want] of inst) it(`ceil(${rps} / ${per}) = ${want}`, () => assert.equal(requiredInstances(rps, per), want));
  it('connections: 100 per 1,000 users', () => {
    assert.equal(requiredDbConnections(1000, 100), 100);
    assert.equal(requiredDbConnections(3375, 100), 338);
  });
  it('Redis: 1 GB per 10,000 users', () => {
    assert.equal(requiredRedisGb(10_000, 10_000), 1);
    assert.equal(requiredRedisGb(10_001, 10_000), 2);
  });
  it('refuses rpsPerInstance 0', () => assert.throws(() => requiredInstances(10, 0), CapacityError));
});

describe('sizingTier', () => {
  const cases: Array<[{ users?: number; rps?: number }, string, 'users' | 'rps']> = [
    [{ users: 999 }, 'small', 'users'],
    [{ users: 1000 }, 'medium', 'users'],
    [{ users: 9_999 }, 'medium', 'users'],
    [{ users: 10_000 }, 'large', 'users'],
    [{ users: 100_000 }, 'enterprise', 'users'],
    [{ rps: 49 }, 'small', 'rps'],
    [{ rps: 500 }, 'large', 'rps'],
    [{ users: 2_000, rps: 600 }, 'large', 'rps'], // the busier measure decides
    [{ users: 20_000, rps: 60 }, 'large', 'users'],
  ];
  for (const [load, tier, by] of cases) {
    it(`${JSON.stringify(load)} → ${tier} by ${by}`, () => {
      const r = sizingTier(load);
      assert.equal(r.tier, tier);
      assert.equal(r.by, by);
    });
  }
  it('explains with the band', () => assert.equal(sizingTier({ users: 2500 }).reason, '2,500 users is medium (1,000–9,999 users)'));
  it('thresholds are config', () => assert.equal(sizingTier({ rps: 60 }, { rps: { medium: 100, large: 1000, enterprise: 10_000 } }).tier, 'small'));
  it('refuses unordered tiers', () => assert.throws(() => sizingTier({ rps: 1 }, { rps: { large: 10 } }), /medium 50 < large 10/));
});

describe('headroom', () => {
  it('70 of 100 connections with 30% kept free is exactly at the line', () => {
    const h = headroom(70, 100);
    assert.equal(h.ok, true);
    assert.equal(h.usable, 70);
    assert.equal(h.remaining, 0);
  });
  it('85 of 100 is over by 15', () => {
    const h = headroom(85, 100);
    assert.equal(h.ok, false);
    assert.equal(h.reason, '85 of 100 connections (85%); keeping 30% free leaves 70 usable: over by 15');
  });
  const limits: Array<[number, number, number]> = [[70, 0.3, 100], [100, 0.3, 143], [2016, 0.3, 2880], [0, 0.3, 0], [90, 0.1, 100]];
  for (const [need, keep, want] of limits) it(`limitWithHeadroom(${need}, ${keep}) = ${want}`, () => assert.equal(limitWithHeadroom(need, keep), want));
});

describe('tokenQuota (85% ceiling)', () => {
  it('50 rps × 500 tokens = 1.5M tokens/min needs a 1,764,706 quota', () => {
    // 1,500,000 / 0.85 = 1,764,705.88 → 1,764,706
    const q = tokenQuota({ rps: 50, tokensPerRequest: 500 });
    assert.equal(q.tokensPerMinute, 1_500_000);
    assert.equal(q.requiredQuota, 1_764_706);
  });
  const cases: Array<[number, boolean]> = [[2_000_000, true], [1_764_706, true], [1_764_705, false], [1_500_000, false]];
  for (const [quota, ok] of cases) {
    it(`quota ${quota} → ${ok ? 'ok' : 'over the ceiling'}`, () => {
      assert.equal(tokenQuota({ rps: 50, tokensPerRequest: 500, quotaTokensPerMinute: quota }).ok, ok);
    });
  }
  it('exactly 85% used is ok (1.7M of 2M)', () => {
    const q = tokenQuota({ rps: 1, tokensPerRequest: 1_700_000 / 60, quotaTokensPerMinute: 2_000_000 });
    assert.equal(q.ok, true);
    assert.match(q.reason, /85% used \(ok\)/);
  });
});
