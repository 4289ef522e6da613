// When each configured limit (maxReplicas, max_connections, token quota, storage, Redis memory) is reached as
// load grows, keeping the headroom each limit needs.
import { CapacityError, nonNegative, positive } from './errors.js';
import { describeGrowth, monthsUntilMultiplier, toGrowthModel, validateGrowth, type GrowthModel } from './growth.js';
import { addFractionalMonths, isoDate } from './projection.js';

export interface LimitInput {
  /** epoch ms of today (month 0) */
  start: number;
  growth: number | GrowthModel;
  users: number;
  rps: number;
  storageGb?: number;
  rpsPerInstance?: number;
  dbConnectionsPer1000Users?: number;
  usersPerRedisGb?: number;
  tokensPerRequest?: number;
  /** share of max_connections kept free (0.3) */
  connectionHeadroom?: number;
  /** share of the token quota that may be used (0.85) */
  tokenCeiling?: number;
  limits: {
    maxReplicas?: number;
    maxConnections?: number;
    tokenQuotaPerMinute?: number;
    storageGb?: number;
    redisGb?: number;
  };
}

export type LimitName = 'maxReplicas' | 'maxConnections' | 'tokenQuota' | 'storage' | 'redisMemory';

export interface LimitReach {
  limit: LimitName;
  /** the configured value */
  value: number;
  /** the part of it that may be used */
  usable: number;
  demandNow: number;
  /** months from start until demand reaches the usable limit; 0 when already there, null when never */
  month: number | null;
  /** YYYY-MM-DD, null when never */
  date: string | null;
  reason: string;
}

/** The furthest a limit date is given: 100 years. */
const MAX_REACH_MONTHS = 1200;

function r(v: number): string {
  if (!Number.isFinite(v)) return v > 0 ? 'more than 1e308' : String(v);
  return String(Number(v.toPrecision(4)));
}

export function limitDates(input: LimitInput): LimitReach[] {
  const problems: string[] = [];
  if (!Number.isFinite(input?.start)) problems.push('limits: start must be a time in epoch milliseconds');
  if (!nonNegative(input?.users)) problems.push('limits: users must be a number >= 0');
  if (!nonNegative(input?.rps)) problems.push('limits: rps must be a number >= 0');
  problems.push(...validateGrowth(input?.growth, 'limits.growth'));
  for (const [k, v] of Object.entries(input?.limits ?? {})) {
    if (v !== undefined && !positive(v)) problems.push(`limits.${k} must be above 0`);
  }
  if (input?.limits?.tokenQuotaPerMinute !== undefined && !nonNegative(input.tokensPerRequest)) {
    problems.push('limits.tokenQuotaPerMinute needs tokensPerRequest (tokens one request uses)');
  }
  if (input?.limits?.storageGb !== undefined && !nonNegative(input.storageGb)) problems.push('limits.storageGb needs storageGb (today\'s storage)');
  if (problems.length > 0) throw new CapacityError(problems);

  const model = toGrowthModel(input.growth);
  const keep = input.connectionHeadroom ?? 0.3;
  const ceiling = input.tokenCeiling ?? 0.85;
  const rpsPerInstance = input.rpsPerInstance ?? 50;
  const per1000 = input.dbConnectionsPer1000Users ?? 100;
  const usersPerGb = input.usersPerRedisGb ?? 10_000;
  const L = input.limits;
  const checks: Array<{ limit: LimitName; value: number; usable: number; demandNow: number; what: string }> = [];
  if (L.maxReplicas !== undefined) {
    checks.push({ limit: 'maxReplicas', value: L.maxReplicas, usable: L.maxReplicas, demandNow: input.rps / rpsPerInstance, what: `replicas' worth of load at ${r(rpsPerInstance)} rps each` });
  }
  if (L.maxConnections !== undefined) {
    checks.push({
      limit: 'maxConnections',
      value: L.maxConnections,
      usable: L.maxConnections * (1 - keep),
      demandNow: (input.users / 1000) * per1000,
      what: `connections (keeping ${r(keep * 100)}% of max_connections free)`,
    });
  }
  if (L.tokenQuotaPerMinute !== undefined) {
    checks.push({
      limit: 'tokenQuota',
      value: L.tokenQuotaPerMinute,
      usable: L.tokenQuotaPerMinute * ceiling,
      demandNow: input.rps * 60 * input.tokensPerRequest!,
      what: `tokens/min (using at most ${r(ceiling * 100)}% of the quota)`,
    });
  }
  if (L.storageGb !== undefined) {
    checks.push({ limit: 'storage', value: L.storageGb, usable: L.storageGb, demandNow: input.storageGb!, what: 'GB stored' });
  }
  if (L.redisGb !== undefined) {
    checks.push({ limit: 'redisMemory', value: L.redisGb, usable: L.redisGb, demandNow: input.users / usersPerGb, what: 'GB of Redis memory' });
  }

  return checks.map((c) => {
    const base = { limit: c.limit, value: c.value, usable: c.usable, demandNow: c.demandNow };
    const head = `${c.limit} ${r(c.value)}: now ${r(c.demandNow)} of ${r(c.usable)} usable ${c.what}`;
    if (c.demandNow <= 0) return { ...base, month: null, date: null, reason: `${head}; no demand, never reached` };
    const k = c.usable / c.demandNow;
    if (k <= 1) {
      return { ...base, month: 0, date: isoDate(input.start), reason: `${head}; already reached (${r((c.demandNow / c.usable) * 100)}% of usable)` };
    }
    const month = monthsUntilMultiplier(model, k);
    if (month === null) {
      return { ...base, month: null, date: null, reason: `${head}; not reached at ${describeGrowth(model)}` };
    }
    // past a century a date means nothing (and past about 2.9 million months no Date holds it)
    if (month > MAX_REACH_MONTHS) {
      return { ...base, month: null, date: null, reason: `${head}; not reached within ${MAX_REACH_MONTHS / 12} years at ${describeGrowth(model)}` };
    }
    const date = isoDate(addFractionalMonths(input.start, month));
    return { ...base, month, date, reason: `${head}; reached in ${r(month)} months (${date}) at ${describeGrowth(model)}` };
  });
}
