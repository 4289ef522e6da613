// Rollout phases (pilot → 10× → 100×): replicas, connection pools, Redis, cpu/memory targets and token quota for
// each multiple of today's load.
import { CapacityError, ceilCount, nonNegative, positive } from './errors.js';
import { limitWithHeadroom, requiredDbConnections, requiredRedisGb, sizingTier, tokenQuota, type Tier } from './sizing.js';

export interface PhaseSpec {
  name: string;
  /** load as a multiple of today's */
  multiplier: number;
  /** average cpu utilization (% of request) replicas should run at */
  cpuTarget: number;
  /** memory utilization (% of limit) to alert and resize at */
  memoryTarget: number;
}

/**
 * Larger fleets keep lower targets: a bigger absolute burst arrives before new replicas are ready, and one
 * replica's failure is a smaller share, so the margin goes to bursts rather than to failures.
 */
export const DEFAULT_PHASES: PhaseSpec[] = [
  { name: 'pilot', multiplier: 1, cpuTarget: 70, memoryTarget: 80 },
  { name: '10x', multiplier: 10, cpuTarget: 65, memoryTarget: 75 },
  { name: '100x', multiplier: 100, cpuTarget: 60, memoryTarget: 70 },
];

export interface PhaseInput {
  users: number;
  rps: number;
  /** rps one replica serves at 100% of its cpu request */
  rpsPerInstance: number;
  dbConnectionsPer1000Users?: number;
  usersPerRedisGb?: number;
  /** never fewer replicas than this, for availability (2) */
  minReplicas?: number;
  /** maxReplicas = replicas × burstFactor (2) */
  burstFactor?: number;
  /** share of max_connections kept free (0.3) */
  connectionHeadroom?: number;
  tokensPerRequest?: number;
  /** share of a token quota that may be used (0.85) */
  tokenCeiling?: number;
}

export interface PhasePlan {
  name: string;
  multiplier: number;
  users: number;
  rps: number;
  tier: Tier;
  replicas: number;
  minReplicas: number;
  maxReplicas: number;
  cpuTarget: number;
  memoryTarget: number;
  dbConnections: number;
  /** connections each replica's pool should hold */
  poolSizePerReplica: number;
  /** max_connections so that maxReplicas full pools stay within the headroom */
  maxConnections: number;
  redisGb: number;
  tokenQuotaPerMinute?: number;
  reason: string;
}

export function planPhases(input: PhaseInput, phases: readonly PhaseSpec[] = DEFAULT_PHASES): PhasePlan[] {
  const problems: string[] = [];
  if (!nonNegative(input?.users)) problems.push('phases: users must be a number >= 0');
  if (!nonNegative(input?.rps)) problems.push('phases: rps must be a number >= 0');
  if (!positive(input?.rpsPerInstance)) problems.push('phases: rpsPerInstance must be above 0');
  for (const [i, p] of phases.entries()) {
    if (!positive(p.multiplier)) problems.push(`phases[${i}] (${p.name}): multiplier must be above 0`);
    if (!(p.cpuTarget > 0 && p.cpuTarget <= 100)) problems.push(`phases[${i}] (${p.name}): cpuTarget must be in (0, 100]`);
    if (!(p.memoryTarget > 0 && p.memoryTarget <= 100)) problems.push(`phases[${i}] (${p.name}): memoryTarget must be in (0, 100]`);
  }
  if (problems.length > 0) throw new CapacityError(problems);
  const per1000 = input.dbConnectionsPer1000Users ?? 100;
  const usersPerGb = input.usersPerRedisGb ?? 10_000;
  const minReplicas = input.minReplicas ?? 2;
  const burst = input.burstFactor ?? 2;
  const keep = input.connectionHeadroom ?? 0.3;

  return phases.map((p) => {
    const users = input.users * p.multiplier;
    const rps = input.rps * p.multiplier;
    const perReplica = input.rpsPerInstance * (p.cpuTarget / 100);
    const replicas = Math.max(minReplicas, ceilCount(rps / perReplica));
    const maxReplicas = ceilCount(replicas * burst);
    const dbConnections = requiredDbConnections(users, per1000);
    const poolSizePerReplica = Math.ceil(dbConnections / replicas);
    const maxConnections = limitWithHeadroom(poolSizePerReplica * maxReplicas, keep);
    const plan: PhasePlan = {
      name: p.name,
      multiplier: p.multiplier,
      users,
      rps,
      tier: sizingTier({ users, rps }).tier,
      replicas,
      minReplicas,
      maxReplicas,
      cpuTarget: p.cpuTarget,
      memoryTarget: p.memoryTarget,
      dbConnections,
      poolSizePerReplica,
      maxConnections,
      redisGb: requiredRedisGb(users, usersPerGb),
      reason:
        `${p.name}: ${rps} rps at ${p.cpuTarget}% of ${input.rpsPerInstance} rps per replica → ${replicas} replicas ` +
        `(max ${maxReplicas}); pools of ${poolSizePerReplica} → max_connections ${maxConnections} keeps ${Math.round(keep * 100)}% free at max replicas`,
    };
    if (input.tokensPerRequest !== undefined) {
      const q = tokenQuota({ rps, tokensPerRequest: input.tokensPerRequest, ceiling: input.tokenCeiling ?? 0.85 });
      plan.tokenQuotaPerMinute = q.requiredQuota;
    }
    return plan;
  });
}
