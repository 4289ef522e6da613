// Shared budgets in `scalepilot check`: how much of each budget the services hold at their current replicas, as
// OK / SOON (at the usable part: growth is capped) / IMMEDIATE (over the limit itself) / UNKNOWN.
import type { Config } from '../config/load.js';
import type { MetricSource } from '../metrics/types.js';
import { budgetUsage, usableLimit, type BudgetService, type BudgetUsage, type LiveLimit } from '../core/budget.js';
import { readBudgetLimit } from '../controller/budgets.js';
import type { CheckStatus } from './check.js';
import { own } from '../own.js';

export interface BudgetCheck extends BudgetUsage {
  status: CheckStatus;
  reason: string;
}

/** Reads every live budget limit once (check's live mode); a failed read is kept as its error. */
export async function readBudgetLimits(config: Config, sources: Record<string, MetricSource>, now: Date): Promise<Record<string, LiveLimit>> {
  const out: Record<string, LiveLimit> = {};
  for (const b of Object.values(config.budgets ?? {})) if (b.limitFrom) out[b.name] = await readBudgetLimit(b, sources, now);
  return out;
}

/** Budget use from each service's running replicas (undefined when not known). */
export function checkBudgets(config: Config, replicas: Record<string, number | undefined>, limits: Record<string, LiveLimit> = {}): BudgetCheck[] {
  if (!config.budgets) return [];
  const services: BudgetService[] = [];
  const unknown: string[] = [];
  for (const p of Object.values(config.services)) {
    if (!p.uses) continue;
    const r = replicas[p.name];
    if (r === undefined) unknown.push(p.name);
    services.push({ name: p.name, uses: p.uses, priority: p.priority ?? 0, current: r ?? 0 });
  }
  return budgetUsage(config.budgets, services, limits).map((u) => {
    const missing = unknown.filter((s) => u.byService.some((b) => b.service === s));
    const held = `${u.used} ${u.unit} held (${u.byService.map((s) => `${s.service} ${s.replicas} × ${s.perReplica}`).join(' + ')}${u.reserved ? ` + ${u.reserved} reserved` : ''})`;
    if (u.limit === undefined) return { ...u, status: 'UNKNOWN' as const, reason: `${u.budget}: the limit cannot be read (${u.error}); ${held}` };
    if (missing.length) return { ...u, status: 'UNKNOWN' as const, reason: `${u.budget}: replicas of ${missing.join(', ')} are not known, so what they hold is not either` };
    const of = `${u.usable} usable (the ${u.limit} limit less ${Math.round(u.headroom * 100)}% headroom)`;
    if (u.used > u.limit) return { ...u, status: 'IMMEDIATE' as const, reason: `${u.budget}: ${held}, over the ${u.limit} limit itself: new connections will be refused` };
    if (u.used >= u.usable!) return { ...u, status: 'SOON' as const, reason: `${u.budget}: ${held} of ${of}: no service using it can grow; plan a pooler such as PgBouncer, smaller pools per replica or read replicas` };
    return { ...u, status: 'OK' as const, reason: `${u.budget}: ${held} of ${of}` };
  });
}

export interface BudgetCeiling {
  budget: string;
  perReplica: number;
  /** what the other services using it hold at their minReplicas, plus reserved */
  othersAtMin: number;
  /** the most replicas of this service the budget allows with the others at their floors */
  ceiling: number;
  /** the first projected month needing more instances than that, and its date */
  month: number | null;
  date?: string;
  text: string;
}

/** For `plan`: the replica ceiling each (static) budget puts on a service, and when the projection reaches it. */
export function budgetCeilings(config: Config, service: string, months: Array<{ month: number; date?: string; instances: number }>): BudgetCeiling[] {
  const p = own(config.services, service);
  if (!p?.uses || !config.budgets) return [];
  const out: BudgetCeiling[] = [];
  for (const [name, per] of Object.entries(p.uses)) {
    const b = own(config.budgets, name);
    if (!b || b.limit === undefined) continue;
    const others = Object.values(config.services).filter((o) => o.name !== service && o.uses?.[name] !== undefined).reduce((a, o) => a + o.minReplicas * o.uses![name]!, 0) + b.reserved;
    const usable = usableLimit(b.limit, b.headroom);
    const ceiling = Math.max(0, Math.floor((usable - others) / per + 1e-9));
    const hit = months.find((m) => m.instances > ceiling);
    const when = hit ? (hit.month === 0 ? 'already needed now' : `needed from month ${hit.month}${hit.date ? ` (${hit.date})` : ''}`) : 'not needed within the plan';
    out.push({
      budget: name,
      perReplica: per,
      othersAtMin: others,
      ceiling,
      month: hit ? hit.month : null,
      ...(hit?.date ? { date: hit.date } : {}),
      text: `budget ${name}: at ${per} per replica, with the other services at their minReplicas (${others} held) ${service} fits at most ${ceiling} replicas of ${usable} usable (the ${b.limit} limit less ${Math.round(b.headroom * 100)}% headroom); more is ${when}`,
    });
  }
  return out;
}
