// decide(): the only place scaling decisions are made. Pure: policy, observation, history and time in; decision out.
// Each mechanism (HPA metrics, sustained rules and bands, queue, predictive) proposes a replica count; the largest
// valid proposal wins (the HPA's rule for several metrics), schedules raise the floor, and the HPA's stabilization
// windows and rate limits (spec.behavior) turn it into what is written this sync.
import type { ServicePolicy } from './policy.js';
import type { Decision, History, Observation, Proposal, Resources } from './types.js';
import { SampleWindow } from './samples.js';
import { finalizeReplicas } from './hpa/finalize.js';
import { completeBehavior } from './hpa/behavior.js';
import { parseBehavior } from './hpa/parse.js';
import type { HpaBehavior, HpaHistory, PartialBehavior } from './hpa/types.js';
import { hpaMetricProposals, compileHpaMetrics, type CompiledHpa } from './decide-hpa.js';
import { evaluateRules, expandBand, type SustainedRule, type RuleAction as CoreRuleAction, type NumericResources } from './rules/index.js';
import { evaluateQueue, type QueueSpec } from './queue.js';
import { activeSince } from './schedule.js';
import { forecast } from './forecast/index.js';
import { parseMilli } from './quantity.js';
import { formatDuration } from './duration.js';
import { capByBudgets } from './budget.js';
import { burstWindowMs, isSeasonal, seasonalProposal } from './predict.js';

interface Compiled {
  hpa: CompiledHpa | null;
  behavior: HpaBehavior | null;
  /** rules-only services act on their own cooldowns, without the HPA's legacy 5-minute downscale window */
  rulesOnly: boolean;
  rules: SustainedRule[];
  queue: QueueSpec | null;
  windowMs: number;
  /** finalizeReplicas' options when the policy sets a tolerance */
  finalizeOptions: { tolerance: number } | undefined;
}

/** Scale events are copied per sync only when there are any; the engine never mutates the lists it is given. */
const NO_EVENTS: Array<{ time: number; change: number }> = [];

let rulesOnlyBehaviorCache: HpaBehavior | undefined;
/** Rules-only services: no stabilization, and rate limits wide enough that a rule's step is applied in one sync. */
function rulesOnlyBehavior(): HpaBehavior {
  return (rulesOnlyBehaviorCache ??= completeBehavior({ scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] }, scaleUp: { policies: [{ type: 'Percent', value: 1000, periodSeconds: 15 }] } })!);
}

const compiledCache = new WeakMap<ServicePolicy, Compiled>();

/** A quantity in its base unit (cores for cpu, bytes for memory), as the rules module counts resources. */
function quantityValue(q: string): number {
  return parseMilli(q) / 1000;
}

function compileRules(p: ServicePolicy): SustainedRule[] {
  const out: SustainedRule[] = [];
  for (const r of p.rules) {
    let action: CoreRuleAction;
    if (r.action.kind === 'scale') action = r.action;
    else {
      const a = r.action;
      const amount = typeof a.amount === 'number' ? a.amount : a.amount.startsWith('-') ? -quantityValue(a.amount.slice(1)) : quantityValue(a.amount);
      action = { kind: 'resize', resource: a.resource, field: a.field, mode: a.mode, amount, ...(a.max ? { max: quantityValue(a.max) } : {}) };
    }
    out.push({ name: r.name, metric: r.condition.metric, op: r.condition.op, threshold: r.condition.threshold, forMs: r.forMs, severity: r.severity, action, cooldownMs: r.cooldownMs ?? 0 });
  }
  p.bands.forEach((b, i) => {
    const name = `band-${b.metric}-${i}`;
    const cooldown = b.cooldown ?? 0;
    out.push(...expandBand({ name, metric: b.metric, upper: b.upper, lower: b.lower, upForMs: b.for, downForMs: b.for, up: { kind: 'scale', mode: 'add', amount: b.step }, down: { kind: 'scale', mode: 'add', amount: -b.step }, upCooldownMs: cooldown, downCooldownMs: cooldown }));
  });
  return out;
}

function compile(p: ServicePolicy): Compiled {
  let c = compiledCache.get(p);
  if (c) return c;
  const hpa = p.hpa && p.hpa.metrics.length ? compileHpaMetrics(p.hpa.metrics, `services.${p.name}.hpa.metrics`) : null;
  // parseBehavior converts quantity tolerances as the controller does (a raw config value may be a string)
  const behavior = p.hpa?.behavior ? parseBehavior(p.hpa.behavior, `services.${p.name}.hpa.behavior`) : null;
  const rules = compileRules(p);
  const queue: QueueSpec | null = p.queue
    ? {
        targetValue: p.queue.targetPerReplica,
        activationThreshold: p.queue.activationThreshold,
        minReplicaCount: p.queue.minReplicas ?? p.minReplicas,
        maxReplicaCount: p.maxReplicas,
        ...(p.queue.idleReplicas !== undefined ? { idleReplicaCount: p.queue.idleReplicas } : {}),
        cooldownPeriodMs: p.queue.cooldownPeriod,
        ...(p.queue.fallback ? { fallback: p.queue.fallback } : {}),
        ...(p.hpa?.tolerance !== undefined ? { tolerance: p.hpa.tolerance } : {}),
      }
    : null;
  c = { hpa, behavior, rulesOnly: !hpa && !behavior, rules, queue, windowMs: 0, finalizeOptions: p.hpa?.tolerance !== undefined ? { tolerance: p.hpa.tolerance } : undefined };
  c.windowMs = computeWindow(p, c);
  compiledCache.set(p, c);
  return c;
}

function computeWindow(p: ServicePolicy, c: Compiled): number {
  let w = 300_000; // the legacy downscale window
  if (c.behavior) {
    w = Math.max(w, (c.behavior.scaleUp.stabilizationWindowSeconds ?? 0) * 1000, (c.behavior.scaleDown.stabilizationWindowSeconds ?? 300) * 1000);
    for (const pol of [...c.behavior.scaleUp.policies, ...c.behavior.scaleDown.policies]) w = Math.max(w, pol.periodSeconds * 1000);
  }
  for (const r of c.rules) w = Math.max(w, r.forMs + 60_000);
  if (p.predictive) w = Math.max(w, isSeasonal(p) ? burstWindowMs(p) : p.predictive.lookback ?? 86_400_000);
  return w;
}

/** How far back the controller must remember recommendations, scale events and metric values for this policy. */
export function historyWindowMs(p: ServicePolicy): number {
  return compile(p).windowMs;
}

/**
 * Remembers a decision for the next sync: its recommendation (and on a first sync the current count, as Kubernetes
 * does), trimmed to the window. Scale events are added by the caller only once a change has really been applied.
 */
export function rememberDecision(h: History, d: Decision, windowMs: number): void {
  if (d.initialRecommendation !== undefined) h.recommendations.push({ time: d.time, replicas: d.initialRecommendation });
  h.recommendations.push({ time: d.time, replicas: d.recommendation });
  h.lastFired = d.lastFired;
  if (d.queue) h.queue = d.queue;
  const horizon = d.time - windowMs;
  trimBefore(h.recommendations, horizon, (r) => r.time);
  trimBefore(h.scaleUpEvents, horizon, (e) => e.t);
  trimBefore(h.scaleDownEvents, horizon, (e) => e.t);
}

/** Records an applied scale as an event for the behavior's rate limits. */
export function rememberScale(h: History, from: number, to: number, t: number): void {
  if (to > from) h.scaleUpEvents.push({ t, change: to - from });
  else if (to < from) h.scaleDownEvents.push({ t, change: from - to });
}

function trimBefore<T>(a: T[], horizon: number, at: (x: T) => number): void {
  let i = 0;
  while (i < a.length && at(a[i]!) < horizon) i++;
  // one entry per sync is the usual case; shift() moves the array's start instead of copying its tail
  if (i === 1) a.shift();
  else if (i) a.splice(0, i);
}

/** Appends this sync's metric values to the remembered series and drops what is older than the window. */
export function appendSeries(h: History, values: Record<string, number>, now: number, windowMs: number): void {
  const horizon = now - windowMs;
  for (const k in values) {
    const s = (h.series[k] ??= new SampleWindow());
    s.push(now, values[k]!);
    s.trimBefore(horizon);
  }
}

function numericResources(r: Resources | undefined): NumericResources | undefined {
  if (!r) return undefined;
  const conv = (l?: { cpu?: string; memory?: string }) =>
    l ? { ...(l.cpu ? { cpu: quantityValue(l.cpu) } : {}), ...(l.memory ? { memory: quantityValue(l.memory) } : {}) } : undefined;
  const requests = conv(r.requests);
  const limits = conv(r.limits);
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}

function formatCores(c: number): string {
  const m = Math.round(c * 1000);
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}
function formatBytes(b: number): string {
  const mi = b / 1048576;
  if (Number.isInteger(mi / 1024)) return `${mi / 1024}Gi`;
  if (Number.isInteger(mi)) return `${mi}Mi`;
  return String(Math.round(b));
}

function predictiveProposal(p: ServicePolicy, series: SampleWindow | undefined, syncMs: number): Proposal {
  const pr = p.predictive!;
  const name = pr.metric;
  const perReplica = pr.capacityPerReplica ?? p.capacity?.rpsPerReplica;
  if (!perReplica) return { source: 'predictive', name, replicas: null, detail: 'predictive: no capacityPerReplica (or capacity.rpsPerReplica) to turn a forecast into replicas' };
  const s = series ? Array.from(series.values()) : [];
  const stepMs = syncMs;
  const horizon = pr.horizon ?? 600_000;
  const horizonSteps = Math.max(1, Math.round(horizon / stepMs));
  try {
    let fc: number[];
    if (pr.model === 'holt-winters') {
      const season = pr.seasonLength ? Math.max(2, Math.round(pr.seasonLength / stepMs)) : 0;
      if (!season) return { source: 'predictive', name, replicas: null, detail: 'predictive: holt-winters needs seasonLength' };
      if (s.length < 2 * season) return { source: 'predictive', name, replicas: null, detail: `predictive: holt-winters needs two seasons of ${name} (${2 * season} samples), has ${s.length}` };
      fc = forecast(s, horizonSteps, { method: 'holt-winters', seasonLength: season, alpha: 0.5, beta: 0.05, gamma: 0.3 }).values;
    } else {
      if (s.length < 10) return { source: 'predictive', name, replicas: null, detail: `predictive: needs at least 10 samples of ${name}, has ${s.length}` };
      fc = forecast(s, horizonSteps, { method: 'linear' }).values;
    }
    // pre-scale for the highest load expected within the horizon
    const peak = Math.max(0, ...fc);
    const replicas = Math.ceil(peak / perReplica);
    return { source: 'predictive', name, replicas, detail: `${pr.model} forecast of ${name} peaks at ${round(peak)} within ${formatDuration(horizon)}; at ${perReplica} per replica that needs ${replicas}` };
  } catch (e) {
    return { source: 'predictive', name, replicas: null, detail: `predictive: ${(e as Error).message}` };
  }
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 10 ? 2 : 1);
}

export interface DecideOptions {
  /**
   * false: the same numbers (replicas, recommendation, errors, resize, rule and queue state) without the texts that
   * explain them (reason, proposal details), for bulk replay where nobody reads them; reason is then ''.
   */
  explain?: boolean;
}

export function decide(p: ServicePolicy, o: Observation, h: History, now: number, opts?: DecideOptions): Decision {
  const explain = opts?.explain !== false;
  const c = compile(p);
  const current = o.currentReplicas;
  const proposals: Proposal[] = [];
  const errors: string[] = [];
  let minReplicas = c.queue ? (p.queue!.minReplicas ?? p.minReplicas) : p.minReplicas;
  let maxReplicas = p.maxReplicas;
  let scheduleName: string | undefined;

  // schedules raise the floor (or cap) while their window is open
  for (const s of p.schedules) {
    const since = activeSince(s, now);
    if (since === undefined) continue;
    const label = s.name ?? s.cron;
    if (s.minReplicas !== undefined && s.minReplicas > minReplicas) { minReplicas = s.minReplicas; scheduleName = label; }
    if (s.maxReplicas !== undefined) maxReplicas = Math.min(maxReplicas, s.maxReplicas);
    proposals.push({ source: 'schedule', name: label, replicas: s.minReplicas ?? null, detail: !explain ? '' : `schedule "${label}" active since ${new Date(since).toISOString()} for ${formatDuration(s.duration)}: min ${s.minReplicas ?? '-'}${s.maxReplicas !== undefined ? `, max ${s.maxReplicas}` : ''}` });
  }
  maxReplicas = Math.max(maxReplicas, minReplicas);

  // currentReplicas 0 disables the HPA, unless queue scaling (which scales from zero) is configured
  if (current === 0 && !c.queue) {
    return {
      service: p.name, time: now, currentReplicas: 0, desiredReplicas: 0, action: 'hold',
      reason: 'scaling is disabled since the replica count of the target is zero', reasonCode: 'ScalingDisabled',
      proposals, proposed: 0, recommendation: 0, minReplicas, maxReplicas,
      conditions: [{ type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' }],
      errors, lastFired: h.lastFired, ...(h.queue ? { queue: h.queue } : {}),
    };
  }

  let proposed = -1;
  let winner: Proposal | undefined;
  let blockScaleDown = false;
  let hpaFailed = false;
  const consider = (pr: Proposal) => {
    proposals.push(pr);
    if (pr.replicas !== null && pr.replicas > proposed) { proposed = pr.replicas; winner = pr; }
  };

  // HPA metrics
  let hpaCondition: Decision['conditions'][number] | undefined;
  if (c.hpa) {
    const r = hpaMetricProposals(c.hpa, p, o, now, explain);
    for (const m of r.proposals) consider(m);
    hpaCondition = r.condition;
    if (r.invalidCount > 0) {
      errors.push(r.error ?? 'invalid metrics');
      blockScaleDown = true;
      if (r.invalidCount === r.proposals.length) hpaFailed = true;
    }
  }

  // queue (KEDA)
  let queueState = h.queue;
  let queuePhase: string | undefined;
  if (c.queue) {
    const metric = p.queue!.metric;
    const reading = o.failures[metric] !== undefined || o.values[metric] === undefined ? { error: o.failures[metric] ?? 'no value' } : { value: o.values[metric]! };
    const q = evaluateQueue(c.queue, reading, h.queue ?? { consecutiveFailures: 0 }, current, now);
    queueState = q.state;
    queuePhase = q.phase;
    consider({ source: q.phase === 'fallback' ? 'fallback' : 'queue', name: metric, replicas: q.replicas, detail: q.reason });
    if (q.replicas === null && 'error' in reading) blockScaleDown = true;
    if (q.phase === 'fallback' && q.replicas !== null) {
      // KEDA's fallback replaces the metric's verdict outright, up or down
      proposed = q.replicas;
      winner = proposals[proposals.length - 1];
      blockScaleDown = false;
    }
  }

  // sustained rules and bands
  let lastFired = h.lastFired;
  let resize: Resources | undefined;
  if (c.rules.length) {
    const rr = evaluateRules(c.rules, h.series, { currentReplicas: current, lastFired: h.lastFired, ...(o.resources ? { resources: numericResources(o.resources)! } : {}) }, now, { minReplicas, maxReplicas });
    for (const rp of rr.proposals) {
      const firing = rp.state === 'firing' && rp.replicas !== undefined && !rp.suppressed;
      const isBand = rp.rule.startsWith('band-');
      const pr: Proposal = { source: isBand ? 'band' : 'rule', name: rp.rule, replicas: firing ? rp.replicas! : null, detail: rp.reason };
      if (firing) consider(pr);
      else proposals.push(pr);
    }
    lastFired = rr.state.lastFired;
    if (rr.resizes.length) {
      const cur = o.resources ?? p.resources ?? {};
      const next: Resources = { requests: { ...(cur.requests ?? {}) }, limits: { ...(cur.limits ?? {}) } };
      for (const z of rr.resizes) next[z.field]![z.resource] = z.resource === 'cpu' ? formatCores(z.to) : formatBytes(z.to);
      resize = next;
    }
  }

  // predictive
  if (p.predictive) consider(isSeasonal(p) ? seasonalProposal(p, h, now, explain) : predictiveProposal(p, h.series[p.predictive.metric], p.syncPeriodMs));

  for (const m in o.failures) if (!errors.some((x) => x.includes(m))) errors.push(`${m}: ${o.failures[m]}`);

  const firstSync = !h.recommendations.length && !h.scaleUpEvents.length && !h.scaleDownEvents.length;
  const hpaHistory: HpaHistory = {
    recommendations: firstSync ? null : h.recommendations,
    scaleUpEvents: h.scaleUpEvents.length ? h.scaleUpEvents.map((e) => ({ time: e.t, change: e.change })) : NO_EVENTS,
    scaleDownEvents: h.scaleDownEvents.length ? h.scaleDownEvents.map((e) => ({ time: e.t, change: e.change })) : NO_EVENTS,
  };

  if (proposed < 0 || (hpaFailed && !winner)) {
    const inRange = current >= minReplicas && current <= maxReplicas;
    if (errors.length && inRange) {
      // nothing valid to go on: hold, exactly as the HPA does when it cannot compute metrics
      return {
        service: p.name, time: now, currentReplicas: current, desiredReplicas: current, action: resize ? 'resize' : 'hold',
        reason: !explain ? '' : `holding at ${current}: no valid metric (${errors[0]})${resize ? `; resize to ${JSON.stringify(resize)}` : ''}`,
        reasonCode: 'FailedGetMetrics', proposals, proposed: current, recommendation: current,
        minReplicas, maxReplicas, conditions: hpaCondition ? [hpaCondition] : [], errors, lastFired,
        ...(queueState ? { queue: queueState } : {}), ...(resize ? { resize } : {}),
      };
    }
    proposed = current;
  }
  if (blockScaleDown && proposed < current) {
    proposals.push({ source: 'hpa', name: 'invalid-metrics', replicas: current, detail: !explain ? '' : `scale-down to ${proposed} blocked: a metric is invalid (${errors[0]})` });
    proposed = current;
  }
  // shared budgets lower the ceiling (never below the current count) so all services together stay within them
  const budget = o.budgets ? capByBudgets(o.budgets, current, proposed) : undefined;
  if (budget && budget.cap < maxReplicas) maxReplicas = Math.max(budget.cap, minReplicas);
  const capText = budget && maxReplicas === budget.cap ? `${budget.text}${budget.cap < proposed && budget.advice.length ? `; alternatives: ${budget.advice.join('; ')}` : ''}` : undefined;

  // Outside [min, max] the HPA controller goes straight to the bound, and KEDA activates from and deactivates to
  // zero itself; neither goes through stabilization or rate limits.
  let direct: { replicas: number; reasonCode: string; text: string } | undefined;
  if (current < minReplicas) direct = { replicas: minReplicas, reasonCode: 'BelowMinReplicas', text: scheduleName ? `raised to ${minReplicas} by schedule "${scheduleName}"` : `current replicas below minReplicas ${minReplicas}` };
  else if (current > maxReplicas) direct = { replicas: maxReplicas, reasonCode: 'AboveMaxReplicas', text: `current replicas above maxReplicas ${maxReplicas}` };
  else if (queuePhase === 'activate' || queuePhase === 'deactivate') direct = { replicas: proposed, reasonCode: queuePhase === 'activate' ? 'QueueActivated' : 'QueueDeactivated', text: winner?.detail ?? '' };
  if (direct) {
    const to = direct.replicas;
    const action: Decision['action'] = to > current ? 'scale-up' : to < current ? 'scale-down' : 'hold';
    return {
      service: p.name, time: now, currentReplicas: current, desiredReplicas: to, action,
      reason: !explain ? '' : `${action === 'scale-up' ? 'scale up' : action === 'scale-down' ? 'scale down' : 'hold at'} ${current}${to !== current ? ` → ${to}` : ''}: ${direct.text}`,
      reasonCode: direct.reasonCode, proposals, proposed, recommendation: to, minReplicas, maxReplicas,
      conditions: hpaCondition ? [hpaCondition] : [], errors, lastFired: h.lastFired,
      ...(queueState ? { queue: queueState } : {}), ...(resize ? { resize } : {}), ...(budget ? { budget } : {}),
    };
  }

  const fin = c.rulesOnly
    ? finalizeReplicas({ currentReplicas: current, minReplicas, maxReplicas, behavior: rulesOnlyBehavior(), proposed, history: hpaHistory, now, recordHistory: false })
    : finalizeReplicas({ currentReplicas: current, minReplicas, maxReplicas, behavior: c.behavior, proposed, history: hpaHistory, now, recordHistory: false, ...(c.finalizeOptions ? { options: c.finalizeOptions } : {}) });
  const desired = fin.desiredReplicas;
  const action: Decision['action'] = desired > current ? 'scale-up' : desired < current ? 'scale-down' : resize ? 'resize' : 'hold';

  // a rule's cooldown starts only when its direction was acted on
  if (c.rules.length) {
    const kept: Record<string, number> = { ...h.lastFired };
    for (const [name, t] of Object.entries(lastFired)) {
      if (h.lastFired[name] === t) continue;
      const rule = c.rules.find((r) => r.name === name);
      const isResize = rule?.action.kind === 'resize';
      const pr = proposals.find((x) => x.name === name);
      const dir = pr?.replicas !== null && pr?.replicas !== undefined ? Math.sign(pr.replicas - current) : 0;
      if (isResize ? Boolean(resize) : dir !== 0 && dir === Math.sign(desired - current)) kept[name] = t;
    }
    lastFired = kept;
  }

  // finalizeReplicas builds a new conditions array each call, so it is extended in place
  const conditions: Decision['conditions'] = fin.conditions;
  if (hpaCondition) conditions.push(hpaCondition);
  const resizeRule = resize ? proposals.find((x) => x.source === 'rule' && x.replicas === null && /firing/.test(x.detail)) : undefined;
  const why = winner ? winner.detail : resizeRule ? resizeRule.detail : 'no metric or rule proposed a change';
  let reason = '';
  if (!explain) {
    // bulk replay: nobody reads the sentence
  } else if (action === 'scale-up' || action === 'scale-down') {
    reason = `${action === 'scale-up' ? 'scale up' : 'scale down'} ${current} → ${desired}: ${why}`;
    if (fin.limit !== 'DesiredWithinRange') reason += ` (${limitText(fin.limit, fin.stabilizedReplicas, desired, minReplicas, maxReplicas, scheduleName, capText)})`;
  } else if (fin.stabilizedReplicas !== fin.recommendation && fin.recommendation !== current) {
    reason = `hold at ${current}: ${why}; ${fin.stabilization === 'ScaleDownStabilized' ? 'scale-down' : 'scale-up'} held by the stabilization window (highest recent recommendation ${fin.stabilizedReplicas})`;
  } else if (fin.limit !== 'DesiredWithinRange' && proposed !== current) {
    reason = `hold at ${current}: ${why} (${limitText(fin.limit, fin.stabilizedReplicas, desired, minReplicas, maxReplicas, scheduleName, capText)})`;
  } else {
    reason = `hold at ${current}: ${why}`;
  }
  if (resize && explain) reason += `; resize to ${JSON.stringify(resize)}`;
  const reasonCode = fin.limit !== 'DesiredWithinRange' ? (capText && fin.limit === 'TooManyReplicas' ? 'BudgetLimit' : fin.limit) : fin.stabilization !== 'ReadyForNewScale' ? fin.stabilization : desired !== current ? 'SucceededRescale' : 'ReadyForNewScale';
  // the usual sync has none of the optional fields: one fixed-shape literal (conditional spreads cost a replayed
  // step more than the rest of this function), with the same keys in the same order as the general form below
  if (!firstSync && !resize && !queueState && !budget) {
    return { service: p.name, time: now, currentReplicas: current, desiredReplicas: desired, action, reason, reasonCode, proposals, proposed, recommendation: fin.recommendation, minReplicas, maxReplicas, conditions, errors, lastFired };
  }
  return {
    service: p.name,
    time: now,
    currentReplicas: current,
    desiredReplicas: desired,
    action,
    reason,
    reasonCode,
    proposals,
    proposed,
    recommendation: fin.recommendation,
    ...(firstSync ? { initialRecommendation: current } : {}),
    minReplicas,
    maxReplicas,
    conditions,
    ...(resize ? { resize } : {}),
    errors,
    lastFired,
    ...(queueState ? { queue: queueState } : {}),
    ...(budget ? { budget } : {}),
  };
}

function limitText(limit: string, stabilized: number, desired: number, min: number, max: number, schedule?: string, capText?: string): string {
  switch (limit) {
    case 'TooManyReplicas': return capText ?? `capped at maxReplicas ${max}`;
    case 'TooFewReplicas': return schedule ? `raised to ${min} by schedule "${schedule}"` : `raised to minReplicas ${min}`;
    case 'ScaleUpLimit': return `scale-up rate limited from ${stabilized} to ${desired}`;
    case 'ScaleDownLimit': return `scale-down rate limited from ${stabilized} to ${desired}`;
    default: return limit;
  }
}
