// Shared budgets in the running controller: what every service holds and asks for, the live limits read from
// metric sources, and the budget gauges. The arithmetic is core/budget.ts; this only gathers its inputs.
import { Gauge, type Registry } from 'prom-client';
import type { Config, ServicePolicy } from '../config/load.js';
import type { MetricSource } from '../metrics/types.js';
import { budgetUsage, budgetViews, type BudgetService, type BudgetUsage, type BudgetView, type LiveLimit } from '../core/budget.js';

interface Claim {
  /** replicas held: observed, or the last desired count if larger (a change under way) */
  current: number;
  /** the last uncapped proposal */
  demand: number;
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
      const src = this.o.sources()[spec.limitFrom.source];
      let value: LiveLimit;
      if (!src) value = { error: `source ${spec.limitFrom.source} is not available` };
      else {
        try {
          const samples = await src.sample({ name: `budget:${name}`, query: spec.limitFrom.query, params: {} }, new Date(now));
          const v = samples.reduce((a, s) => a + s.value, 0);
          value = samples.length && Number.isFinite(v) && v > 0 ? { limit: v } : { error: samples.length ? `${spec.limitFrom.query} read ${v}` : `${spec.limitFrom.query} returned no samples` };
        } catch (e) {
          value = { error: (e as Error).message };
        }
      }
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
      const err = `${m.missing} (which shares it) has not been observed yet`;
      const blind: Record<string, LiveLimit> = Object.fromEntries(Object.keys(p.uses).map((b) => [b, { error: err }]));
      const all: BudgetService[] = [{ name: p.name, uses: p.uses, priority: p.priority ?? 0, current: replicas }];
      return budgetViews(Object.fromEntries(Object.entries(config.budgets).map(([k, s]) => [k, { ...s, limit: undefined }])), all, p.name, blind);
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
