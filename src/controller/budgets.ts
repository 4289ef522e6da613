// Shared budgets in the running controller: what every service holds and asks for, the live limits read from
// metric sources, and the budget gauges. The arithmetic is core/budget.ts; this only gathers its inputs.
import { Gauge, type Registry } from 'prom-client';
import type { Config, ServicePolicy } from '../config/load.js';
import type { MetricSource } from '../metrics/types.js';
import { budgetUsage, budgetViews, type BudgetService, type BudgetSpec, type BudgetUsage, type BudgetView, type LiveLimit } from '../core/budget.js';

interface Claim {
  /** replicas held: observed, or the last desired count if larger (a change under way) */
  current: number;
  /** the last uncapped proposal */
  demand: number;
}

/** Reads a budget's live limit from its metric source; a failed, empty or non-positive read is an error, never a value. */
export async function readBudgetLimit(spec: BudgetSpec, sources: Record<string, MetricSource>, now: Date): Promise<LiveLimit> {
  if (!spec.limitFrom) return spec.limit !== undefined ? { limit: spec.limit } : { error: 'no limit configured' };
  const { source, query } = spec.limitFrom;
  const src = sources[source];
  if (!src) return { error: `source ${source} is not available` };
  try {
    const samples = await src.sample({ name: `budget:${spec.name}`, query, params: {} }, now);
    const v = samples.reduce((a, s) => a + s.value, 0);
    return samples.length && Number.isFinite(v) && v > 0 ? { limit: v } : { error: samples.length ? `${query} read ${v}` : `${query} returned no samples` };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export class BudgetTracker {
  private claims = new Map<string, Claim>();
  private limits = new Map<string, { at: number; value: LiveLimit }>();
  private gauges?: { used: Gauge<'budget'>; limit: Gauge<'budget'>; usable: Gauge<'budget'>; percent: Gauge<'budget'> };

  constructor(private o: { config: () => Config; sources: () => Record<string, MetricSource>; registry?: Registry }) {
    if (o.registry) {
      const registers = [o.registry];
      this.gauges = {
        used: new Gauge({ name: 'scalepilot_budget_used', help: 'What the services hold of a shared budget (replicas × uses, plus reserved)', labelNames: ['budget'], registers }),
        limit: new Gauge({ name: 'scalepilot_budget_limit', help: 'A shared budget\'s limit (configured or read live)', labelNames: ['budget'], registers }),
        usable: new Gauge({ name: 'scalepilot_budget_usable', help: 'A shared budget\'s limit less its headroom', labelNames: ['budget'], registers }),
        percent: new Gauge({ name: 'scalepilot_budget_used_percent', help: 'Used as percent of the usable part of a shared budget', labelNames: ['budget'], registers }),
      };
    }
  }

  /** Reads the live limits a service's budgets need; each is read at most once per sync period. */
  async readLimits(p: ServicePolicy, now: number): Promise<Record<string, LiveLimit>> {
    const config = this.o.config();
    const out: Record<string, LiveLimit> = {};
    for (const name of Object.keys(p.uses ?? {})) {
      const spec = config.budgets?.[name];
      if (!spec?.limitFrom) continue;
      const cached = this.limits.get(name);
      if (cached && now - cached.at < config.syncPeriodMs) {
        out[name] = cached.value;
        continue;
      }
      const value = await readBudgetLimit(spec, this.o.sources(), new Date(now));
      this.limits.set(name, { at: now, value });
      out[name] = value;
    }
    return out;
  }

  private members(self?: { name: string; replicas: number }): BudgetService[] | { missing: string } {
    const out: BudgetService[] = [];
    for (const p of Object.values(this.o.config().services)) {
      if (!p.uses) continue;
      const c = this.claims.get(p.name);
      if (p.name === self?.name) {
        out.push({ name: p.name, uses: p.uses, priority: p.priority ?? 0, current: self.replicas });
        continue;
      }
      if (!c) return { missing: p.name };
      out.push({ name: p.name, uses: p.uses, priority: p.priority ?? 0, current: c.current, demand: c.demand });
    }
    return out;
  }

  /** The budget views for one service's decision. Synchronous, so no other sync claims in between. */
  views(p: ServicePolicy, replicas: number, limits: Record<string, LiveLimit>): Record<string, BudgetView> | undefined {
    const config = this.o.config();
    if (!p.uses || !config.budgets) return undefined;
    const m = this.members({ name: p.name, replicas });
    if ('missing' in m) {
      // until every sharing service was observed once, what it holds is unknown: no growth on a guess
      const error = `${m.missing} (which shares it) has not been observed yet`;
      return Object.fromEntries(Object.entries(p.uses).map(([b, perReplica]) => [b, { headroom: 0, reserved: 0, usedByOthers: 0, perReplica, error }]));
    }
    return budgetViews(config.budgets, m, p.name, limits);
  }

  /** Records what a service holds and asked for after its decision. */
  claim(service: string, observed: number, granted: number, demand: number): void {
    this.claims.set(service, { current: Math.max(observed, granted), demand: Math.max(demand, granted) });
    this.export();
  }

  forget(service: string): void {
    this.claims.delete(service);
  }

  /** Budget use at the services' current holdings, with the last live limits read. */
  usage(): BudgetUsage[] {
    const config = this.o.config();
    if (!config.budgets) return [];
    const services: BudgetService[] = Object.values(config.services)
      .filter((p) => p.uses)
      .map((p) => ({ name: p.name, uses: p.uses!, priority: p.priority ?? 0, current: this.claims.get(p.name)?.current ?? 0 }));
    const limits = Object.fromEntries([...this.limits].map(([k, v]) => [k, v.value]));
    return budgetUsage(config.budgets, services, limits);
  }

  private export(): void {
    if (!this.gauges) return;
    for (const u of this.usage()) {
      this.gauges.used.set({ budget: u.budget }, u.used);
      if (u.limit !== undefined) this.gauges.limit.set({ budget: u.budget }, u.limit);
      if (u.usable !== undefined) this.gauges.usable.set({ budget: u.budget }, u.usable);
      if (u.percentOfUsable !== undefined && Number.isFinite(u.percentOfUsable)) this.gauges.percent.set({ budget: u.budget }, u.percentOfUsable);
    }
  }
}
