// Month-by-month capacity projection as the VoiceAssist scaling runbook's script computes it: users, rps and
// storage grow by the same multiplier; instances = ceil(rps / 50), connections = ceil(users / 1000 × 100),
// Redis GB = ceil(users / 10,000); plus the script's printed report and setup advice.
import { CapacityError, nonNegative, positive } from './errors.js';
import { pyFixed } from './format.js';
import { growthMultiplier, toGrowthModel, validateGrowth, type GrowthModel } from './growth.js';

export interface CapacityInput {
  users: number;
  rps: number;
  storageGb: number;
  /** monthly factor (1.5 = ×1.5 a month) or a growth model */
  growth: number | GrowthModel;
  months: number;
  /** rps one instance serves (runbook: 50) */
  rpsPerInstance?: number;
  /** database connections per 1,000 users (runbook: 100) */
  dbConnectionsPer1000Users?: number;
  /** users per GB of Redis memory (runbook: 10,000) */
  usersPerRedisGb?: number;
  /** epoch ms of month 0, to date the rows */
  start?: number;
}

export interface CapacityRow {
  month: number;
  /** YYYY-MM-DD of the month, when a start was given */
  date?: string;
  multiplier: number;
  users: number;
  rps: number;
  storageGb: number;
  instances: number;
  dbConnections: number;
  redisGb: number;
}

export const CAPACITY_DEFAULTS = { rpsPerInstance: 50, dbConnectionsPer1000Users: 100, usersPerRedisGb: 10_000 } as const;

export function validateCapacityInput(input: CapacityInput, at = 'capacity'): string[] {
  const p: string[] = [];
  if (!input || typeof input !== 'object') return [`${at} must be an object`];
  if (!nonNegative(input.users)) p.push(`${at}.users must be a number >= 0`);
  if (!nonNegative(input.rps)) p.push(`${at}.rps must be a number >= 0`);
  if (!nonNegative(input.storageGb)) p.push(`${at}.storageGb must be a number >= 0`);
  if (!Number.isInteger(input.months) || input.months < 0) p.push(`${at}.months must be a whole number >= 0`);
  p.push(...validateGrowth(input.growth, `${at}.growth`));
  if (input.rpsPerInstance !== undefined && !positive(input.rpsPerInstance)) p.push(`${at}.rpsPerInstance must be above 0`);
  if (input.dbConnectionsPer1000Users !== undefined && !nonNegative(input.dbConnectionsPer1000Users)) {
    p.push(`${at}.dbConnectionsPer1000Users must be >= 0`);
  }
  if (input.usersPerRedisGb !== undefined && !positive(input.usersPerRedisGb)) p.push(`${at}.usersPerRedisGb must be above 0`);
  if (input.start !== undefined && !Number.isFinite(input.start)) p.push(`${at}.start must be a time in epoch milliseconds`);
  return p;
}

/** Adds whole calendar months in UTC, clamping the day (Jan 31 + 1 month = Feb 28/29). */
export function addMonths(t: number, months: number): number {
  const d = new Date(t);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Date.UTC(y, m, Math.min(d.getUTCDate(), lastDay), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

/** A fractional month: whole calendar months, then the fraction of the following month's length. */
export function addFractionalMonths(t: number, months: number): number {
  const whole = Math.floor(months);
  const a = addMonths(t, whole);
  if (months === whole) return a;
  const b = addMonths(t, whole + 1);
  return a + Math.round((b - a) * (months - whole));
}

export function isoDate(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** Rows for months 0..months; growth multiplies today's users, rps and storage alike (value × factor^month). */
export function projectCapacity(input: CapacityInput): CapacityRow[] {
  const problems = validateCapacityInput(input);
  if (problems.length > 0) throw new CapacityError(problems);
  const model = toGrowthModel(input.growth);
  const rpsPerInstance = input.rpsPerInstance ?? CAPACITY_DEFAULTS.rpsPerInstance;
  const per1000 = input.dbConnectionsPer1000Users ?? CAPACITY_DEFAULTS.dbConnectionsPer1000Users;
  const usersPerGb = input.usersPerRedisGb ?? CAPACITY_DEFAULTS.usersPerRedisGb;
  const rows: CapacityRow[] = [];
  for (let month = 0; month <= input.months; month++) {
    const multiplier = growthMultiplier(model, month);
    if (!Number.isFinite(multiplier)) {
      throw new CapacityError([`growth does not reach month ${month}; project at most ${month - 1} months or forecast further`]);
    }
    // Same operation order as the runbook's Python, so results agree to the last bit.
    const users = input.users * multiplier;
    const rps = input.rps * multiplier;
    const storageGb = input.storageGb * multiplier;
    const row: CapacityRow = {
      month,
      multiplier,
      users,
      rps,
      storageGb,
      instances: Math.ceil(rps / rpsPerInstance),
      dbConnections: Math.ceil((users / 1000) * per1000),
      redisGb: Math.ceil(users / usersPerGb),
    };
    // inputs each in range can still overflow together (1e300 users × growth, rps / a tiny rpsPerInstance)
    const over = (['users', 'rps', 'storageGb', 'instances', 'dbConnections', 'redisGb'] as const).find((k) => !Number.isFinite(row[k]));
    if (over !== undefined) {
      throw new CapacityError([
        month === 0
          ? `${over} is out of range today (not a finite number); check users, rps, storage and the per-instance rates`
          : `${over} grows out of range (not a finite number) by month ${month}; project at most ${month - 1} months or lower the inputs`,
      ]);
    }
    if (input.start !== undefined) row.date = isoDate(addMonths(input.start, month));
    rows.push(row);
  }
  return rows;
}

/** The runbook's "Recommended Setup" cut-offs. */
export interface SetupThresholds {
  /** up to this many instances a load balancer is enough; above, autoscale (5) */
  loadBalancerUpToInstances: number;
  /** above this many connections add read replicas (150) */
  readReplicasAboveConnections: number;
  /** above this many GB run a Redis cluster (4) */
  redisClusterAboveGb: number;
}

export const DEFAULT_SETUP_THRESHOLDS: SetupThresholds = {
  loadBalancerUpToInstances: 5,
  readReplicasAboveConnections: 150,
  redisClusterAboveGb: 4,
};

export interface SetupAdvice {
  application: string;
  database: string;
  redis: string;
}

export function recommendSetup(row: Pick<CapacityRow, 'instances' | 'dbConnections' | 'redisGb'>, thresholds: Partial<SetupThresholds> = {}): SetupAdvice {
  const t = { ...DEFAULT_SETUP_THRESHOLDS, ...thresholds };
  return {
    application:
      row.instances <= t.loadBalancerUpToInstances
        ? `${row.instances} instances with load balancer`
        : `${row.instances} instances with auto-scaling`,
    database: row.dbConnections > t.readReplicasAboveConnections ? 'Primary + 2 read replicas + PgBouncer' : 'Primary + PgBouncer',
    redis: row.redisGb > t.redisClusterAboveGb ? '3-node cluster' : `Single instance (${row.redisGb}GB)`,
  };
}

/**
 * The runbook script's printed report for the last month, line for line (lines joined with "\n", no trailing
 * newline: console.log of it equals the script's stdout).
 */
export function formatCapacityProjection(input: CapacityInput, thresholds: Partial<SetupThresholds> = {}): string {
  const rows = projectCapacity(input);
  const last = rows[rows.length - 1]!;
  const advice = recommendSetup(last, thresholds);
  const usersRatio = last.users / input.users;
  const rpsRatio = last.rps / input.rps;
  return [
    `Capacity Projection for ${input.months} months:`,
    '='.repeat(50),
    `Current Users: ${pyFixed(input.users, 0, true)}`,
    `Projected Users: ${pyFixed(last.users, 0, true)} (${pyFixed(usersRatio, 1)}x)`,
    '',
    `Current RPS: ${String(input.rps)}`,
    `Projected RPS: ${pyFixed(last.rps, 0)} (${pyFixed(rpsRatio, 1)}x)`,
    '',
    'Resource Requirements:',
    `  Application Instances: ${last.instances}`,
    `  Database Connections: ${last.dbConnections}`,
    `  Database Storage: ${pyFixed(last.storageGb, 0)} GB`,
    `  Redis Memory: ${last.redisGb} GB`,
    '',
    'Recommended Setup:',
    `  Application: ${advice.application}`,
    `  Database: ${advice.database}`,
    `  Redis: ${advice.redis}`,
  ].join('\n');
}
