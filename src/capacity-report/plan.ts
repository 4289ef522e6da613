// `scalepilot plan` as a library call: month-by-month projection, sizing tier, rollout phases, token quotas and the
// date each configured limit is reached, all computed by core/capacity from one set of merged inputs.
import { readFileBounded, MAX_REQUEST_BYTES } from '../bounded-read.js';
import { InputError } from '../errors.js';
import {
  CapacityError,
  DEFAULT_PHASES,
  describeGrowth,
  fitGrowth,
  formatCapacityProjection,
  isoDate,
  limitDates,
  planPhases,
  projectCapacity,
  recommendSetup,
  sizingTier,
  tokenQuota,
  type CapacityInput,
  type CapacityRow,
  type FittedGrowth,
  type GrowthModel,
  type LimitReach,
  type PhasePlan,
  type SetupAdvice,
  type Tier,
  type TierResult,
} from '../core/capacity/index.js';
import type { GrowthInput, PlanInputs } from './plan-file.js';

export interface GrowthHistory {
  file: string;
  columns: string[];
  /** one row per month, oldest first */
  rows: Array<{ label: string; values: Record<string, number> }>;
}

/** A monthly history CSV: a header row, a label column (month or date), then numeric columns (users, rps, ...). */
export function parseHistoryCsv(text: string, file: string): GrowthHistory {
  const lines = text.split(/\r?\n/).map((l, i) => ({ l: l.trim(), n: i + 1 })).filter((x) => x.l !== '' && !x.l.startsWith('#'));
  if (lines.length < 2) throw new InputError(`${file}: needs a header row and at least one monthly row (e.g. "month,users,rps")`);
  const header = lines[0]!.l.split(',').map((s) => s.trim());
  if (header.length < 2) throw new InputError(`${file}:${lines[0]!.n}: the header needs a label column and at least one value column`);
  const columns = header.slice(1);
  const rows = lines.slice(1).map(({ l, n }) => {
    const cells = l.split(',').map((s) => s.trim());
    if (cells.length !== header.length) throw new InputError(`${file}:${n}: ${cells.length} cells, the header has ${header.length}`);
    const values: Record<string, number> = {};
    columns.forEach((c, i) => {
      const v = Number(cells[i + 1]);
      if (cells[i + 1] === '' || !Number.isFinite(v)) throw new InputError(`${file}:${n}: ${c} "${cells[i + 1]}" is not a number`);
      values[c] = v;
    });
    return { label: cells[0]!, values };
  });
  return { file, columns, rows };
}

export interface PlanGrowth {
  model: GrowthModel;
  description: string;
  fit?: { method: string; file: string; column: string; months: number; base: number; rmse: number };
}

export interface QuotaPlan {
  name: string;
  unit: 'day' | 'minute';
  /** in `unit` */
  quota: number;
  used: number;
  ceiling: number;
  utilization: number;
  ok: boolean;
  reached: LimitReach;
  /** the quota each phase needs to stay under the ceiling, in `unit` */
  phases: Array<{ name: string; requiredQuota: number }>;
}

export interface PlanRow extends CapacityRow {
  tier: Tier;
}

export interface Plan {
  service?: string;
  inputs: {
    users: number;
    rps: number;
    storageGb: number;
    months: number;
    start: string;
    rpsPerInstance: number;
    connectionsPer1000Users: number;
    redisGbPer10000Users: number;
    connectionHeadroom: number;
    tokenCeiling: number;
    tokensPerRequest?: number;
  };
  growth: PlanGrowth;
  months: PlanRow[];
  /** the VoiceAssist runbook script's report for the last month, character for character */
  summary: string;
  setup: SetupAdvice;
  tier: TierResult & { setup?: string };
  phases: PhasePlan[];
  limits: LimitReach[];
  quotas: QuotaPlan[];
}

function resolveGrowth(g: GrowthInput, months: number): { growth: PlanGrowth; latest?: Record<string, number> } {
  if (g.kind === 'compound') return { growth: { model: { kind: 'compound', monthlyFactor: g.monthlyFactor }, description: describeGrowth({ kind: 'compound', monthlyFactor: g.monthlyFactor }) } };
  if (g.kind === 'linear') return { growth: { model: { kind: 'linear', monthlyIncrease: g.monthlyIncrease }, description: describeGrowth({ kind: 'linear', monthlyIncrease: g.monthlyIncrease }) } };
  let text: string;
  try {
    text = readFileBounded(g.history, MAX_REQUEST_BYTES);
  } catch (e) {
    throw new InputError(`growth history ${g.history}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const h = parseHistoryCsv(text, g.history);
  const column = g.column ?? (h.columns.includes('users') ? 'users' : h.columns.includes('rps') ? 'rps' : h.columns[0]!);
  if (!h.columns.includes(column)) throw new InputError(`growth.column: ${g.history} has no column "${column}"; it has ${h.columns.join(', ')}`);
  const series = h.rows.map((r) => r.values[column]!);
  let fitted: FittedGrowth;
  try {
    fitted = fitGrowth(series, g.method, { horizonMonths: months, ...(g.season !== undefined ? { seasonLength: g.season } : {}) });
  } catch (e) {
    if (e instanceof CapacityError) throw new InputError(`growth history ${g.history}, column "${column}": ${e.problems.join('; ')}`);
    throw e;
  }
  return {
    growth: {
      model: fitted.model,
      description: fitted.description,
      fit: { method: g.method, file: g.history, column, months: series.length, base: fitted.base, rmse: fitted.rmse },
    },
    latest: h.rows[h.rows.length - 1]!.values,
  };
}

function startOfDay(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

/** Builds the plan. `now` dates month 0 when the inputs give no start. Bad or missing input is an InputError. */
export function buildPlan(inputs: PlanInputs, now: number): Plan {
  const months = inputs.months;
  const missing: string[] = [];
  const fromHistory = inputs.growth?.kind === 'fit';
  if (!fromHistory && inputs.users === undefined) missing.push('users (--users 1000)');
  if (!fromHistory && inputs.rps === undefined) missing.push('rps (--rps 50)');
  if (inputs.growth === undefined) missing.push('growth (--growth 1.5, or growth: in a plan file)');
  if (months === undefined) missing.push('months (--months 6)');
  if (missing.length > 0) throw new InputError(`plan needs ${missing.join(', ')}`);
  const { growth, latest } = resolveGrowth(inputs.growth!, months!);
  const users = inputs.users ?? latest?.users;
  const rps = inputs.rps ?? latest?.rps;
  if (users === undefined || rps === undefined) {
    throw new InputError(`plan needs ${[users === undefined ? 'users (--users)' : '', rps === undefined ? 'rps (--rps)' : ''].filter(Boolean).join(' and ')}; the history has no such column`);
  }
  const storageGb = inputs.storageGb ?? latest?.storage ?? latest?.storageGb ?? 0;
  const start = startOfDay(inputs.start ?? now);
  const rpsPerInstance = inputs.rpsPerInstance ?? 50;
  const per1000 = inputs.connectionsPer1000Users ?? 100;
  const redisPer10k = inputs.redisGbPer10000Users ?? 1;
  const usersPerRedisGb = 10_000 / redisPer10k;
  const keep = inputs.connectionHeadroom ?? 0.3;
  const ceiling = inputs.tokenCeiling ?? 0.85;
  const capacity: CapacityInput = {
    users,
    rps,
    storageGb,
    growth: growth.model,
    months: months!,
    rpsPerInstance,
    dbConnectionsPer1000Users: per1000,
    usersPerRedisGb,
    start,
  };
  try {
    // Tiers defined by one measure only (the Open Forge runbook sizes by users) are judged by that measure alone.
    const byUsers = inputs.tiers?.users !== undefined || inputs.tiers?.rps === undefined;
    const byRps = inputs.tiers?.rps !== undefined || inputs.tiers?.users === undefined;
    const tierOf = (load: { users: number; rps: number }) =>
      sizingTier({ ...(byUsers ? { users: load.users } : {}), ...(byRps ? { rps: load.rps } : {}) }, inputs.tiers ?? {});
    const rows: PlanRow[] = projectCapacity(capacity).map((r) => ({ ...r, tier: tierOf(r).tier }));
    const last = rows[rows.length - 1]!;
    const lastTier = tierOf(last);
    const summary = formatCapacityProjection(capacity, inputs.setup ?? {});
    const setup = recommendSetup(last, inputs.setup ?? {});
    const phases = planPhases(
      {
        users,
        rps,
        rpsPerInstance,
        dbConnectionsPer1000Users: per1000,
        usersPerRedisGb,
        connectionHeadroom: keep,
        tokenCeiling: ceiling,
        ...(inputs.minReplicas !== undefined ? { minReplicas: inputs.minReplicas } : {}),
        ...(inputs.burstFactor !== undefined ? { burstFactor: inputs.burstFactor } : {}),
        ...(inputs.tokensPerRequest !== undefined ? { tokensPerRequest: inputs.tokensPerRequest } : {}),
      },
      inputs.phases ?? DEFAULT_PHASES,
    ).map((ph) => ({ ...ph, tier: tierOf(ph).tier }));
    const common = {
      start,
      growth: growth.model,
      users,
      rps,
      storageGb,
      rpsPerInstance,
      dbConnectionsPer1000Users: per1000,
      usersPerRedisGb,
      connectionHeadroom: keep,
      tokenCeiling: ceiling,
    };
    const limits = Object.values(inputs.limits).some((v) => v !== undefined)
      ? limitDates({ ...common, ...(inputs.tokensPerRequest !== undefined ? { tokensPerRequest: inputs.tokensPerRequest } : {}), limits: inputs.limits })
      : [];
    const quotas: QuotaPlan[] = inputs.quotas.map((q) => {
      if (!(rps > 0)) throw new InputError(`quotas.${q.name}: tokens per request are derived from today's use and rps, so rps must be above 0`);
      // Today's use over today's requests: the average tokens one request costs, which then grows with rps.
      const perRequest = q.usedPerMinute / (rps * 60);
      const scale = q.unit === 'day' ? 1440 : 1;
      const reached = limitDates({ ...common, tokensPerRequest: perRequest, limits: { tokenQuotaPerMinute: q.quotaPerMinute } })[0]!;
      const per = q.unit === 'day' ? 'day' : 'min';
      const r = (v: number) => Math.round(v).toLocaleString('en-US');
      const when = reached.month === null ? 'not reached' : reached.month === 0 ? 'already reached' : `reached in ${Number(reached.month.toPrecision(3))} months (${reached.date})`;
      return {
        name: q.name,
        unit: q.unit,
        quota: q.quotaPerMinute * scale,
        used: q.usedPerMinute * scale,
        ceiling,
        utilization: q.usedPerMinute / q.quotaPerMinute,
        ok: q.usedPerMinute <= q.quotaPerMinute * ceiling,
        reached: {
          ...reached,
          reason: `${q.name} quota ${r(q.quotaPerMinute * scale)} tokens/${per}: now ${r(q.usedPerMinute * scale)} of ${r(q.quotaPerMinute * scale * ceiling)} usable (${Math.round(ceiling * 100)}% ceiling); ${when} at ${growth.description}`,
        },
        // rps × scale makes tokenQuota's per-minute arithmetic come out per day for daily quotas
        phases: phases.map((ph) => ({ name: ph.name, requiredQuota: tokenQuota({ rps: ph.rps * scale, tokensPerRequest: perRequest, ceiling }).requiredQuota })),
      };
    });
    return {
      ...(inputs.service !== undefined ? { service: inputs.service } : {}),
      inputs: {
        users,
        rps,
        storageGb,
        months: months!,
        start: isoDate(start),
        rpsPerInstance,
        connectionsPer1000Users: per1000,
        redisGbPer10000Users: redisPer10k,
        connectionHeadroom: keep,
        tokenCeiling: ceiling,
        ...(inputs.tokensPerRequest !== undefined ? { tokensPerRequest: inputs.tokensPerRequest } : {}),
      },
      growth,
      months: rows,
      summary,
      setup,
      tier: { ...lastTier, ...(inputs.tiers?.setup?.[lastTier.tier] ? { setup: inputs.tiers.setup[lastTier.tier] } : {}) },
      phases,
      limits,
      quotas,
    };
  } catch (e) {
    if (e instanceof CapacityError) throw new InputError(`plan: ${e.message}`);
    throw e;
  }
}
