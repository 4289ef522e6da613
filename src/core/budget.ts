// Shared budgets (a database's max_connections, a model API's token quota): how much of a limit other services
// hold, how a shortfall is split between services, and the replica cap that keeps the sum within the limit.
// decide() stays per service: the caller passes each budget's state in the observation.
import { classifyBottleneck, ADVICE_TEXT } from './classify.js';

export type BudgetKind = 'connections' | 'tokens' | 'other';

/** A budget as configured: a static limit, or one read live from a metric source. */
export interface BudgetSpec {
  name: string;
  limit?: number;
  limitFrom?: { source: string; query: string };
  /** fraction of the limit kept free (0.3 = 30%) */
  headroom: number;
  /** used by clients scalepilot does not scale (admin sessions, cron jobs, other apps) */
  reserved: number;
  kind: BudgetKind;
  unit: string;
}

/** One budget as one service sees it at one sync; computed by the controller or simulator, read by decide(). */
export interface BudgetView {
  /** the limit before headroom; absent when a live limit could not be read */
  limit?: number;
  /** why the live limit is missing */
  error?: string;
  headroom: number;
  reserved: number;
  /** what the other services using the budget hold (their replicas or pending desired, the larger) */
  usedByOthers: number;
  /** what one replica of this service uses */
  perReplica: number;
  /** this service's priority under the split rule (higher is served first) */
  priority?: number;
  /** the other services using the budget, for the split rule when all together want more than fits */
  others?: BudgetMember[];
  kind?: BudgetKind;
  unit?: string;
}

export interface BudgetCap {
  budget: string;
  /** the highest replica count the budget allows this sync (never below the current count) */
  cap: number;
  /** one clause: the arithmetic behind the cap */
  text: string;
  /** the runbooks' alternatives to more replicas, when the budget binds */
  advice: string[];
  /** use at the cap as a share of the limit before headroom, percent (NaN when the limit is unreadable) */
  percentOfLimit: number;
}

/** The part of a limit services may use: the limit less headroom, rounded down to whole units. */
export function usableLimit(limit: number, headroom: number): number {
  // 500 × 0.7 is 349.99999999999994 in floating point; the epsilon keeps it 350
  return Math.floor(limit * (1 - headroom) + 1e-9);
}

function pct(f: number): string {
  const v = f * 100;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

function adviceFor(name: string, v: BudgetView, percentOfLimit: number): string[] {
  const out: string[] = [];
  if ((v.kind ?? 'connections') === 'connections') {
    // the classifier knows the runbooks' strategy for a database at its connection limit
    const c = classifyBottleneck({ dbConnectionUtilization: percentOfLimit });
    for (const a of c.advice) out.push(ADVICE_TEXT[a]);
    if (!out.length) out.push(ADVICE_TEXT['db-pool-or-read-replica']);
    out.push(`a smaller pool per replica (uses.${name}) lets more replicas fit`);
  } else if (v.kind === 'tokens') {
    out.push(`fewer tokens per request (caching, batching, shorter prompts), or a higher ${name} quota`);
  } else {
    out.push(`lower uses.${name} per replica or raise the ${name} limit`);
  }
  return out;
}

/** The cap one budget puts on a service now at `current` replicas that asks for `demand`. */
export function budgetCap(name: string, v: BudgetView, current: number, demand = current): BudgetCap {
  if (v.limit === undefined || !Number.isFinite(v.limit)) {
    return {
      budget: name,
      cap: current,
      text: `held at ${current} by ${name}: its limit cannot be read (${v.error ?? 'no value'}), and a budget never allows growth it cannot check`,
      advice: [],
      percentOfLimit: Number.NaN,
    };
  }
  const usable = usableLimit(v.limit, v.headroom);
  const room = usable - v.reserved - v.usedByOthers;
  const byRoom = v.perReplica > 0 ? Math.floor(room / v.perReplica + 1e-9) : Number.POSITIVE_INFINITY;
  const share = v.others ? allocate(usable - v.reserved, [...v.others, { service: '', perReplica: v.perReplica, priority: v.priority ?? 0, current, demand: Math.max(current, demand) }])[''] : undefined;
  const byShare = share ?? Number.POSITIVE_INFINITY;
  const cap = Math.max(current, Math.min(byRoom, byShare));
  const total = cap * v.perReplica + v.usedByOthers + v.reserved;
  const percentOfLimit = v.limit > 0 ? (total / v.limit) * 100 : Number.POSITIVE_INFINITY;
  const others = `${num(v.usedByOthers)} used by other services${v.reserved ? ` + ${num(v.reserved)} reserved` : ''}`;
  const of = `the ${num(v.limit)} limit${v.headroom ? ` less ${pct(v.headroom)}% headroom` : ''}`;
  let text: string;
  if (byShare < byRoom && cap === byShare) {
    text = `capped at ${cap} by ${name}'s split (priority, then in proportion to demand): ${cap} × ${num(v.perReplica)} = ${num(cap * v.perReplica)} is this service's share of the ${num(usable - v.reserved)} left of ${of} = ${usable}`;
  } else if (cap > byRoom) {
    // already over: the budget stops growth, it never takes running replicas away
    text = `held at ${cap} by ${name}: ${cap} × ${num(v.perReplica)} + ${others} = ${num(total)}, over ${usable}, ${of}`;
  } else {
    text = `capped at ${cap} by ${name}: ${cap} × ${num(v.perReplica)} + ${others} = ${num(total)}, within ${usable}, ${of}`;
  }
  return { budget: name, cap, text, advice: adviceFor(name, v, percentOfLimit), percentOfLimit };
}

/** The tightest cap over every budget the service uses; undefined when it uses none. */
export function capByBudgets(budgets: Record<string, BudgetView> | undefined, current: number, demand = current): BudgetCap | undefined {
  let best: BudgetCap | undefined;
  for (const [name, v] of Object.entries(budgets ?? {})) {
    const c = budgetCap(name, v, current, demand);
    if (!best || c.cap < best.cap) best = c;
  }
  return best;
}

export interface BudgetMember {
  service: string;
  perReplica: number;
  /** higher is served first */
  priority: number;
  /** replicas the service holds now (or has been granted) */
  current: number;
  /** replicas it asks for before any budget (its uncapped proposal) */
  demand: number;
}

/**
 * The split rule when services together ask for more than fits: what each holds stays; the room left goes to
 * higher priorities first, and within a priority in proportion to the extra each asks for (whole replicas, the
 * remainder to the largest fractions, ties by name). Returns replicas per service.
 */
export function allocate(room: number, members: BudgetMember[]): Record<string, number> {
  const out: Record<string, number> = {};
  let left = room;
  for (const m of members) {
    out[m.service] = m.current;
    left -= m.current * m.perReplica;
  }
  const tiers = [...new Set(members.map((m) => m.priority))].sort((a, b) => b - a);
  for (const prio of tiers) {
    const tier = members.filter((m) => m.priority === prio && m.demand > m.current && m.perReplica > 0);
    const want = tier.reduce((a, m) => a + (m.demand - m.current) * m.perReplica, 0);
    if (want <= 0) continue;
    if (want <= left) {
      for (const m of tier) out[m.service] = m.demand;
      left -= want;
      continue;
    }
    if (left <= 0) break;
    const parts = tier.map((m) => {
      const extra = (m.demand - m.current) * m.perReplica;
      const exact = (left * extra) / want / m.perReplica;
      return { m, whole: Math.floor(exact + 1e-9), frac: exact - Math.floor(exact + 1e-9) };
    });
    let spare = left - parts.reduce((a, p) => a + p.whole * p.m.perReplica, 0);
    for (const p of parts) out[p.m.service] = p.m.current + p.whole;
    for (const p of [...parts].sort((a, b) => b.frac - a.frac || a.m.service.localeCompare(b.m.service))) {
      if (p.m.perReplica <= spare && out[p.m.service]! < p.m.demand) {
        out[p.m.service]! += 1;
        spare -= p.m.perReplica;
      }
    }
    left = 0;
    break;
  }
  return out;
}

export interface BudgetService {
  name: string;
  uses: Record<string, number>;
  priority: number;
  /** replicas held now: the larger of observed and last desired */
  current: number;
  /** last uncapped proposal (what it would scale to without budgets); defaults to current */
  demand?: number;
}

export interface LiveLimit {
  limit?: number;
  error?: string;
}

/** The view of every budget for `service`, from all services' holdings and demands. */
export function budgetViews(specs: Record<string, BudgetSpec>, services: BudgetService[], service: string, limits: Record<string, LiveLimit> = {}): Record<string, BudgetView> {
  const me = services.find((s) => s.name === service);
  const out: Record<string, BudgetView> = {};
  if (!me) return out;
  for (const [name, perReplica] of Object.entries(me.uses)) {
    const spec = specs[name];
    if (!spec) continue;
    const members = services.filter((s) => s.uses[name] !== undefined);
    const usedByOthers = members.filter((s) => s.name !== service).reduce((a, s) => a + s.current * s.uses[name]!, 0);
    const live = spec.limit !== undefined ? { limit: spec.limit } : (limits[name] ?? { error: 'not read yet' });
    const others = members.filter((s) => s.name !== service).map((s) => ({ service: s.name, perReplica: s.uses[name]!, priority: s.priority, current: s.current, demand: Math.max(s.current, s.demand ?? s.current) }));
    const view: BudgetView = { headroom: spec.headroom, reserved: spec.reserved, usedByOthers, perReplica, priority: me.priority, others, kind: spec.kind, unit: spec.unit };
    if (live.limit !== undefined && Number.isFinite(live.limit)) view.limit = live.limit;
    else view.error = live.error ?? 'no value';
    out[name] = view;
  }
  return out;
}

export interface BudgetUsage {
  budget: string;
  kind: BudgetKind;
  unit: string;
  limit?: number;
  usable?: number;
  headroom: number;
  reserved: number;
  used: number;
  /** used (reserved included) as percent of the usable part */
  percentOfUsable?: number;
  byService: Array<{ service: string; replicas: number; perReplica: number; used: number }>;
  error?: string;
}

/** How much of each budget the services use at the given replica counts (check, dashboard, alerts, reports). */
export function budgetUsage(specs: Record<string, BudgetSpec>, services: BudgetService[], limits: Record<string, LiveLimit> = {}): BudgetUsage[] {
  return Object.values(specs).map((spec) => {
    const byService = services
      .filter((s) => s.uses[spec.name] !== undefined)
      .map((s) => ({ service: s.name, replicas: s.current, perReplica: s.uses[spec.name]!, used: s.current * s.uses[spec.name]! }));
    const used = byService.reduce((a, s) => a + s.used, 0) + spec.reserved;
    const live = spec.limit !== undefined ? { limit: spec.limit } : (limits[spec.name] ?? { error: 'not read yet' });
    const u: BudgetUsage = { budget: spec.name, kind: spec.kind, unit: spec.unit, headroom: spec.headroom, reserved: spec.reserved, used, byService };
    if (live.limit !== undefined && Number.isFinite(live.limit)) {
      u.limit = live.limit;
      u.usable = usableLimit(live.limit, spec.headroom);
      u.percentOfUsable = u.usable > 0 ? (used / u.usable) * 100 : Number.POSITIVE_INFINITY;
    } else {
      u.error = live.error ?? 'no value';
    }
    return u;
  });
}
