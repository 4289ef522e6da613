// Sizing arithmetic from the runbooks: instances per rps, connections and cache memory per user, sizing tiers,
// headroom on limits, and model-API token quotas kept under a ceiling.
import { CapacityError, ceilCount, nonNegative, positive } from './errors.js';
import { groupThousands } from './format.js';

/** Instances to serve `rps` when one instance handles `rpsPerInstance` (the runbook's ceil(rps / 50)). */
export function requiredInstances(rps: number, rpsPerInstance: number): number {
  if (!nonNegative(rps) || !positive(rpsPerInstance)) {
    throw new CapacityError([`requiredInstances: rps ${rps} must be >= 0 and rpsPerInstance ${rpsPerInstance} above 0`]);
  }
  return Math.ceil(rps / rpsPerInstance);
}

/** Database connections for a user count at `per1000Users` connections per 1,000 users (runbook: 100). */
export function requiredDbConnections(users: number, per1000Users: number): number {
  if (!nonNegative(users) || !nonNegative(per1000Users)) {
    throw new CapacityError([`requiredDbConnections: users ${users} and per1000Users ${per1000Users} must be >= 0`]);
  }
  return Math.ceil((users / 1000) * per1000Users);
}

/** Whole GB of Redis memory at one GB per `usersPerGb` users (runbook: 10,000). */
export function requiredRedisGb(users: number, usersPerGb: number): number {
  if (!nonNegative(users) || !positive(usersPerGb)) {
    throw new CapacityError([`requiredRedisGb: users ${users} must be >= 0 and usersPerGb ${usersPerGb} above 0`]);
  }
  return Math.ceil(users / usersPerGb);
}

function whole(v: number): string {
  const r = Math.round(v);
  return (r < 0 ? '-' : '') + groupThousands(String(Math.abs(r)));
}

export type Tier = 'small' | 'medium' | 'large' | 'enterprise';

/** Lower bounds of medium, large and enterprise; below `medium` is small. */
export interface TierBounds {
  medium: number;
  large: number;
  enterprise: number;
}

export const DEFAULT_TIERS: { users: TierBounds; rps: TierBounds } = {
  users: { medium: 1_000, large: 10_000, enterprise: 100_000 },
  rps: { medium: 50, large: 500, enterprise: 5_000 },
};

export interface TierResult {
  tier: Tier;
  by: 'users' | 'rps';
  value: number;
  reason: string;
}

/** Sizing tier by users or rps; with both, the larger tier wins (the busier measure decides). */
export function sizingTier(
  load: { users?: number; rps?: number },
  tiers: { users?: Partial<TierBounds>; rps?: Partial<TierBounds> } = {},
): TierResult {
  const order: Tier[] = ['small', 'medium', 'large', 'enterprise'];
  const results: TierResult[] = [];
  for (const by of ['users', 'rps'] as const) {
    const value = load[by];
    if (value === undefined) continue;
    const b = { ...DEFAULT_TIERS[by], ...tiers[by] };
    if (!(b.medium < b.large && b.large < b.enterprise)) {
      throw new CapacityError([`tiers.${by}: medium ${b.medium} < large ${b.large} < enterprise ${b.enterprise} must hold`]);
    }
    if (!nonNegative(value)) throw new CapacityError([`sizingTier: ${by} ${value} must be a number >= 0`]);
    const tier: Tier = value >= b.enterprise ? 'enterprise' : value >= b.large ? 'large' : value >= b.medium ? 'medium' : 'small';
    const next = tier === 'enterprise' ? undefined : b[order[order.indexOf(tier) + 1] as keyof TierBounds];
    const lower = tier === 'small' ? 0 : b[tier as keyof TierBounds];
    const range = next === undefined ? `>= ${whole(lower)}` : `${whole(lower)}–${whole(next - 1)}`;
    results.push({ tier, by, value, reason: `${whole(value)} ${by} is ${tier} (${range} ${by})` });
  }
  if (results.length === 0) throw new CapacityError(['sizingTier needs users or rps']);
  return results.reduce((a, b) => (order.indexOf(b.tier) > order.indexOf(a.tier) ? b : a));
}

export interface Headroom {
  used: number;
  limit: number;
  /** the share of the limit kept free */
  keep: number;
  /** limit × (1 − keep) */
  usable: number;
  utilization: number;
  ok: boolean;
  /** usable − used; negative when over */
  remaining: number;
  reason: string;
}

/** Checks `used` against `limit` keeping `keep` of it free (database connections: 30% by default). */
export function headroom(used: number, limit: number, keep = 0.3, what = 'connections'): Headroom {
  if (!nonNegative(used) || !positive(limit) || !(keep >= 0 && keep < 1)) {
    throw new CapacityError([`headroom: used ${used} must be >= 0, limit ${limit} above 0, keep ${keep} in [0, 1)`]);
  }
  const usable = limit * (1 - keep);
  const ok = used <= usable;
  const r = (v: number) => Number(v.toPrecision(4));
  return {
    used,
    limit,
    keep,
    usable,
    utilization: used / limit,
    ok,
    remaining: usable - used,
    reason: `${r(used)} of ${r(limit)} ${what} (${r((used / limit) * 100)}%); keeping ${r(keep * 100)}% free leaves ${r(usable)} usable: ${ok ? `${r(usable - used)} to spare` : `over by ${r(used - usable)}`}`,
  };
}

/** The limit to configure so that `needed` stays within it with `keep` free: ceil(needed / (1 − keep)). */
export function limitWithHeadroom(needed: number, keep = 0.3): number {
  if (!nonNegative(needed) || !(keep >= 0 && keep < 1)) throw new CapacityError([`limitWithHeadroom: needed ${needed} >= 0 and keep ${keep} in [0, 1)`]);
  return ceilCount(needed / (1 - keep));
}

export interface TokenQuota {
  tokensPerMinute: number;
  /** the smallest quota that keeps use at or under the ceiling */
  requiredQuota: number;
  ceiling: number;
  quota?: number;
  utilization?: number;
  ok?: boolean;
  reason: string;
}

/**
 * Model-API tokens per minute for `rps` requests a second of `tokensPerRequest` tokens each, against a quota used
 * to at most `ceiling` (85%: providers throttle before the nominal limit and bursts need room).
 */
export function tokenQuota(input: { rps: number; tokensPerRequest: number; quotaTokensPerMinute?: number; ceiling?: number }): TokenQuota {
  const ceiling = input.ceiling ?? 0.85;
  const problems: string[] = [];
  if (!nonNegative(input.rps)) problems.push(`rps ${input.rps} must be >= 0`);
  if (!nonNegative(input.tokensPerRequest)) problems.push(`tokensPerRequest ${input.tokensPerRequest} must be >= 0`);
  if (!(ceiling > 0 && ceiling <= 1)) problems.push(`ceiling ${ceiling} must be in (0, 1]`);
  if (input.quotaTokensPerMinute !== undefined && !positive(input.quotaTokensPerMinute)) problems.push(`quotaTokensPerMinute must be above 0`);
  if (problems.length > 0) throw new CapacityError(problems);
  const tokensPerMinute = input.rps * 60 * input.tokensPerRequest;
  const requiredQuota = ceilCount(tokensPerMinute / ceiling);
  const fmt = whole;
  const out: TokenQuota = {
    tokensPerMinute,
    requiredQuota,
    ceiling,
    reason: `${fmt(tokensPerMinute)} tokens/min needs a quota of at least ${fmt(requiredQuota)} to stay under ${Math.round(ceiling * 100)}%`,
  };
  if (input.quotaTokensPerMinute !== undefined) {
    const q = input.quotaTokensPerMinute;
    out.quota = q;
    out.utilization = tokensPerMinute / q;
    out.ok = tokensPerMinute <= q * ceiling;
    out.reason += `; the quota of ${fmt(q)} is ${Number((out.utilization * 100).toPrecision(3))}% used (${out.ok ? 'ok' : 'over the ceiling'})`;
  }
  return out;
}
