// Guarded replay: services that share budgets, or verify their changes, replayed in lock-step, every step observing
// each service, capping it by what the others hold (core/budget.ts) and verifying each change against the modelled
// readiness and latency (core/verify.ts), rolling a failed one back as the controller does. Services without
// budgets or verification keep the per-service engine (engine.ts); the scoring here is the same as there.
import type { ServicePolicy } from '../config/load.js';
import type { Decision } from '../core/types.js';
import { emptyHistory, type History } from '../core/types.js';
import { appendSeries, decide, historyWindowMs, rememberDecision, rememberScale } from '../core/decide.js';
import { budgetViews, budgetUsage, type BudgetService, type BudgetSpec } from '../core/budget.js';
import { applyCoolOff, coolOffAfter, evaluateVerification, startVerification, type CoolOff, type PendingVerification } from '../core/verify.js';
import { parseQuantity } from '../core/quantity.js';
import { Workload, p95Of, sloFlags, utilizationOf } from './workload.js';
import type { LoadSeries, Score, SimResult, SimSetup, Timeline } from './types.js';
import { FLAG_NO_DATA, FLAG_OVER_CAPACITY, FLAG_SLOW } from './types.js';

export interface GuardedTask {
  policy: ServicePolicy;
  setup: SimSetup;
  load: LoadSeries;
  label?: string;
}

/** What budgets and verification did in a replay. */
export interface GuardStats {
  /** steps a budget capped the service below what it asked for */
  budgetCappedSteps: number;
  firstBudgetCap?: string;
  verifications: number;
  rollbacks: number;
  firstRollback?: string;
  /** highest use of each budget over the replay, with its usable part */
  budgetPeaks: Record<string, { used: number; usable: number }>;
}

export type GuardedResult = SimResult & { guard: GuardStats };

/** Budgets whose limit is static; live limits have no source in a replay and are left out (with a note). */
export function simulatedBudgets(budgets: Record<string, BudgetSpec> | undefined): Record<string, BudgetSpec> {
  return Object.fromEntries(Object.entries(budgets ?? {}).filter(([, b]) => b.limit !== undefined));
}

interface Lane {
  task: GuardedTask;
  w: Workload;
  hist: History;
  windowMs: number;
  claim: number;
  demand: number;
  pending?: PendingVerification;
  coolOff?: CoolOff;
  guard: GuardStats;
  resizes: number;
  tl?: Timeline;
  s: {
    scored: number; noData: number; over: number; slow: number; violations: number; replicaSteps: number; atMax: number; peak: number;
    utilSum: number; utilSteps: number; utilMax: number; ups: number; downs: number; reversals: number; lastDir: number;
    errors: number; noDataErrors: number; firstError?: string;
  };
}

function newTimeline(n: number): Timeline {
  return { t: new Float64Array(n), load: new Float64Array(n), desired: new Int32Array(n), replicas: new Int32Array(n), ready: new Int32Array(n), utilization: new Float64Array(n), p95: new Float64Array(n), flags: new Uint8Array(n) };
}

/**
 * Replays the tasks together. Every task must step at the same period; series may start and end at different
 * times (a service outside its series holds what it has).
 */
export function simulateGuarded(tasks: GuardedTask[], budgets: Record<string, BudgetSpec> | undefined): GuardedResult[] {
  const specs = simulatedBudgets(budgets);
  const stepMs = tasks[0]?.load.stepMs ?? 0;
  for (const t of tasks) if (t.load.stepMs !== stepMs) throw new Error(`services replayed together step at one period; ${t.policy.name} steps at ${t.load.stepMs} ms, not ${stepMs} ms`);
  const lanes: Lane[] = tasks.map((task) => ({
    task,
    w: new Workload(task.policy.name, task.setup.workload, task.setup.bindings, task.setup.initialReplicas, task.load.start, task.policy.resources),
    hist: emptyHistory(),
    windowMs: historyWindowMs(task.policy),
    claim: task.setup.initialReplicas,
    demand: task.setup.initialReplicas,
    guard: { budgetCappedSteps: 0, verifications: 0, rollbacks: 0, budgetPeaks: {} },
    resizes: 0,
    ...(task.setup.timeline ? { tl: newTimeline(task.load.values.length) } : {}),
    s: { scored: 0, noData: 0, over: 0, slow: 0, violations: 0, replicaSteps: 0, atMax: 0, peak: 0, utilSum: 0, utilSteps: 0, utilMax: 0, ups: 0, downs: 0, reversals: 0, lastDir: 0, errors: 0, noDataErrors: 0 },
  }));
  // higher priorities decide first within a step, as they are served first under a shortfall
  const order = [...lanes].sort((a, b) => (b.task.policy.priority ?? 0) - (a.task.policy.priority ?? 0) || a.task.policy.name.localeCompare(b.task.policy.name));
  const start = Math.min(...tasks.map((t) => t.load.start));
  const end = Math.max(...tasks.map((t) => t.load.start + t.load.values.length * stepMs));
  const holders = (): BudgetService[] => lanes.filter((l) => l.task.policy.uses).map((l) => ({ name: l.task.policy.name, uses: l.task.policy.uses!, priority: l.task.policy.priority ?? 0, current: l.claim, demand: l.demand }));

  for (let now = start; now < end; now += stepMs) {
    for (const l of order) {
      const k = Math.round((now - l.task.load.start) / stepMs);
      if (k < 0 || k >= l.task.load.values.length) continue;
      step(l, k, now, specs, holders);
    }
    for (const u of budgetUsage(specs, holders())) {
      for (const l of lanes) {
        if (!l.task.policy.uses?.[u.budget]) continue;
        const peak = l.guard.budgetPeaks[u.budget];
        if (!peak || u.used > peak.used) l.guard.budgetPeaks[u.budget] = { used: u.used, usable: u.usable ?? Number.NaN };
      }
    }
  }
  return lanes.map((l) => result(l, stepMs));
}

function step(l: Lane, k: number, now: number, specs: Record<string, BudgetSpec>, holders: () => BudgetService[]): void {
  const { policy, setup, load } = l.task;
  const w = l.w;
  const stepMs = load.stepMs;
  w.advance(now);
  const demand = load.values[k]!;
  const obs = w.observe(demand);
  const before = obs.currentReplicas;
  appendSeries(l.hist, obs.values, now, l.windowMs);
  let d: Decision | undefined;
  let rolledBack = false;
  if (l.pending && policy.verify) {
    const out = evaluateVerification(policy.verify, l.pending, { replicas: w.replicas, readyReplicas: w.ready, values: obs.values, failures: obs.failures }, now);
    if (out.status !== 'pending') {
      const v = l.pending;
      l.pending = undefined;
      if (out.status !== 'superseded') l.guard.verifications++;
      if (out.status === 'failed') {
        // the controller's rollback: back to the count before the change, counted in the rate limits
        l.guard.rollbacks++;
        l.guard.firstRollback ??= `${new Date(now).toISOString()}: ${out.reason}`;
        l.coolOff = coolOffAfter(policy.verify, v, out.reason, now);
        w.scaleTo(v.from, now);
        rememberScale(l.hist, before, v.from, now);
        rolledBack = true;
        countDirection(l, before, v.from);
      }
    }
  }
  if (!rolledBack) {
    if (policy.uses && Object.keys(specs).length) {
      const views = budgetViews(specs, holders(), policy.name);
      if (Object.keys(views).length) obs.budgets = views;
    }
    d = applyCoolOff(decide(policy, obs, l.hist, now), l.coolOff, now);
    rememberDecision(l.hist, d, l.windowMs);
    if (d.reasonCode === 'BudgetLimit' && d.proposed > d.desiredReplicas) {
      l.guard.budgetCappedSteps++;
      l.guard.firstBudgetCap ??= `${new Date(now).toISOString()}: ${d.reason}`;
    }
    if (d.errors.length) {
      if (demand >= 0) {
        l.s.errors++;
        l.s.firstError ??= `${new Date(now).toISOString()}: ${d.errors[0]}`;
      } else l.s.noDataErrors++;
    }
    if (!policy.paused && d.desiredReplicas !== before) {
      w.scaleTo(d.desiredReplicas, now);
      rememberScale(l.hist, before, d.desiredReplicas, now);
      countDirection(l, before, d.desiredReplicas);
      if (policy.verify) {
        const v = startVerification(policy.verify, before, d.desiredReplicas, now, obs.values, false);
        if (l.pending) v.baseline = { ...v.baseline, ...l.pending.baseline };
        l.pending = v;
      }
    }
    if (!policy.paused && d.resize?.requests?.cpu !== undefined) {
      const cores = parseQuantity(d.resize.requests.cpu).milliValue() / 1000;
      if (cores !== w.cpuRequestCores) {
        w.resizeCpu(cores);
        l.resizes++;
      }
    }
    l.demand = Math.max(d.proposed, d.desiredReplicas);
  }
  l.claim = w.replicas;
  w.serve(demand, stepMs);

  const s = l.s;
  const replicas = w.replicas;
  const ready = w.ready;
  let flags = 0;
  let u = Number.NaN;
  if (!(demand >= 0)) {
    flags = FLAG_NO_DATA;
    s.noData++;
  } else {
    s.scored++;
    s.replicaSteps += replicas;
    if (replicas > s.peak) s.peak = replicas;
    if (replicas >= policy.maxReplicas) s.atMax++;
    u = utilizationOf(demand, ready, w.capacityPerReplica);
    if (ready > 0) {
      s.utilSum += u;
      s.utilSteps++;
      if (u > s.utilMax) s.utilMax = u;
    }
    flags = sloFlags(demand, ready, w.capacityPerReplica, setup.workload.latency, setup.slo);
    if (flags & FLAG_OVER_CAPACITY) s.over++;
    if (flags & FLAG_SLOW) s.slow++;
    if (flags) s.violations++;
  }
  if (l.tl) {
    l.tl.t[k] = now / 1000;
    l.tl.load[k] = demand;
    l.tl.desired[k] = d?.desiredReplicas ?? replicas;
    l.tl.replicas[k] = replicas;
    l.tl.ready[k] = ready;
    l.tl.utilization[k] = u * 100;
    l.tl.p95[k] = Number.isNaN(u) ? Number.NaN : p95Of(u, setup.workload.latency);
    l.tl.flags[k] = flags;
  }
}

function countDirection(l: Lane, from: number, to: number): void {
  const dir = to > from ? 1 : -1;
  if (dir > 0) l.s.ups++;
  else l.s.downs++;
  if (l.s.lastDir !== 0 && dir !== l.s.lastDir) l.s.reversals++;
  l.s.lastDir = dir;
}

function result(l: Lane, stepMs: number): GuardedResult {
  const s = l.s;
  const stepMin = stepMs / 60_000;
  const replicaHours = (s.replicaSteps * stepMs) / 3_600_000;
  const cost = l.task.setup.costPerReplicaHour;
  const score: Score = {
    steps: l.task.load.values.length,
    scoredSteps: s.scored,
    noDataSteps: s.noData,
    violationMinutes: s.violations * stepMin,
    overCapacityMinutes: s.over * stepMin,
    latencyMinutes: s.slow * stepMin,
    replicaHours,
    cost: cost !== undefined ? replicaHours * cost : null,
    scaleUps: s.ups,
    scaleDowns: s.downs,
    reversals: s.reversals,
    minutesAtMax: s.atMax * stepMin,
    peakReplicas: s.peak,
    meanReplicas: s.scored ? s.replicaSteps / s.scored : 0,
    meanUtilization: s.utilSteps ? (s.utilSum / s.utilSteps) * 100 : 0,
    maxUtilization: s.utilMax * 100,
  };
  return {
    service: l.task.policy.name,
    policy: l.task.label ?? 'config',
    score,
    decisionErrors: { count: s.errors, atNoData: s.noDataErrors, ...(s.firstError !== undefined ? { first: s.firstError } : {}) },
    resizes: l.resizes,
    ...(l.tl ? { timeline: l.tl } : {}),
    guard: l.guard,
  };
}
