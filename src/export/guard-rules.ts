// Alert rules for guarded changes: a shared budget at or over its usable part, and a change that failed its
// verification and was rolled back. They read the gauges `run` exports (controller/budgets.ts, controller/verify.ts).
import type { Config, ServicePolicy } from '../config/load.js';
import type { AlertRule, RuleGroup } from './prometheus.js';

const lit = (v: string) => JSON.stringify(v);

/** Per service: the verification alert, when the service verifies its changes. */
export function verificationRules(p: ServicePolicy): AlertRule[] {
  if (!p.verify) return [];
  return [{
    alert: 'ScalepilotVerificationFailed',
    expr: `max by (service) (scalepilot_verification_failed{service=${lit(p.name)}}) == 1`,
    labels: { severity: 'critical', service: p.name },
    annotations: {
      summary: `${p.name}: a scaling change failed its verification and was rolled back`,
      description: 'New replicas did not get ready within their start-up allowance, or error rate / p95 got worse than the margin. The change was rolled back and that direction is held for the cool-off; see `scalepilot history` for the reason.',
    },
  }];
}

/** One group for the budgets the given services use: binding (at the usable part) and over the limit itself. */
export function budgetGroup(config: Config, services: ServicePolicy[]): RuleGroup | undefined {
  const used = new Set(services.flatMap((p) => Object.keys(p.uses ?? {})));
  const rules: AlertRule[] = [];
  for (const b of Object.values(config.budgets ?? {})) {
    if (!used.has(b.name)) continue;
    const sel = `{budget=${lit(b.name)}}`;
    const users = services.filter((p) => p.uses?.[b.name] !== undefined).map((p) => p.name).join(', ');
    rules.push({
      alert: 'ScalepilotBudgetBinding',
      expr: `max(scalepilot_budget_used_percent${sel}) >= 100`,
      for: '10m',
      labels: { severity: 'warning', budget: b.name },
      annotations: {
        summary: `budget ${b.name} at {{ $value | humanize }}% of its usable part for 10m: ${users} cannot grow`,
        description: `The ${b.unit} the services hold have reached the limit less ${Math.round(b.headroom * 100)}% headroom. For a database: a pooler such as PgBouncer, a smaller pool per replica, or read replicas.`,
      },
    });
    rules.push({
      alert: 'ScalepilotBudgetExceeded',
      expr: `max(scalepilot_budget_used${sel}) > max(scalepilot_budget_limit${sel})`,
      for: '1m',
      labels: { severity: 'critical', budget: b.name },
      annotations: {
        summary: `budget ${b.name}: {{ $value | humanize }} held, more than the limit itself`,
        description: `More ${b.unit} are held than ${b.name} allows (the limit was lowered, or replicas were added by hand). New connections or requests will be refused.`,
      },
    });
  }
  return rules.length ? { name: 'scalepilot.budgets', rules } : undefined;
}
