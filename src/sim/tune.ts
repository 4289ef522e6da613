// Searches HPA parameters (target, scale-down stabilization window, scale-up and scale-down policies,
// minReplicas) and the predictive mechanisms (seasonal forecast on/off, season, headroom quantile, burst sizing)
// for the cheapest policy with no SLO-violation minutes on a trace. Small spaces are searched exhaustively; larger
// ones by block coordinate search from the configured policy (and from it with forecasting on), within an
// evaluation budget. The cheapest candidates are then replayed under stresses (±10% demand, sharper rises, growth,
// flash crowds) and the cheapest that stays safe wins.
import { stringify as toYaml } from 'yaml';
import type { ServicePolicy } from '../config/load.js';
import { formatMilli, parseMilli } from '../core/quantity.js';
import { InputError } from '../errors.js';
import { formatDuration } from '../core/duration.js';
import { utilizationLimit } from '../core/predict.js';
import { DAY_MS, WEEK_MS } from '../core/forecast/seasonal.js';
import { simulateMany, type SimPool } from './pool.js';
import { sloUtilizationLimit } from './workload.js';
import type { LoadSeries, PartScore, SimResult, SimSetup } from './types.js';

type HpaSpec = NonNullable<ServicePolicy['hpa']>;
type Behavior = NonNullable<HpaSpec['behavior']>;
type Rules = NonNullable<Behavior['scaleUp']>;
type Policies = NonNullable<Rules['policies']>;

export interface TuneValue {
  label: string;
  /** changes a copy of the policy; absent for the configured value */
  apply?: (p: ServicePolicy) => void;
}

export interface TuneParam {
  name: string;
  /** parameters with the same group are searched together (all combinations) */
  group?: string;
  /** values[0] is always the configured one */
  values: TuneValue[];
}

export interface Candidate {
  /** parameter name → value label */
  params: Record<string, string>;
  policy: ServicePolicy;
  result: SimResult;
}

export interface TuneResult {
  mode: 'grid' | 'coordinate';
  /** size of the whole space and how much of it was simulated */
  space: number;
  evaluated: number;
  params: Array<{ name: string; values: string[] }>;
  configured: Candidate;
  best: Candidate;
  /** best first */
  top: Candidate[];
  /** whether the winner has zero SLO-violation minutes */
  meetsSlo: boolean;
  /**
   * scale-ups a day on the scored steps, of the winner and of the configured policy (replica-hours do not show how
   * often a policy starts replicas); with TuneOptions.maxScaleUpsPerDay also the limit and whether the winner kept to it
   */
  churn: { maxScaleUpsPerDay?: number; winnerScaleUpsPerDay: number; configuredScaleUpsPerDay: number; kept: boolean };
  /**
   * the winner's least spare capacity at any scored step (ready capacity at the SLO's limit over demand, 1: exactly
   * enough): how close zero violation minutes came; absent without demand
   */
  closestSlack?: number;
  /** YAML for the service: minReplicas and its hpa block */
  snippet: string;
  /** steps replayed before scoring starts (a forecaster's learning time), 0 when everything is scored */
  warmupSteps: number;
  /**
   * the spare capacity the winner had to keep on the tuning part: calibrated by choosing on the first half of the
   * scored steps and checking the choice on the second (see calibrateSlack)
   */
  margin?: SlackCalibration;
  /**
   * the robustness check: candidates replayed under each stress the trace can take, and how the winner fared: its
   * violation minutes under each beyond the minutes that stress makes unavoidable (allowedMinutes: a surge's first
   * steps)
   */
  robustness?: { factors: number[]; stresses: string[]; checked: number; winnerViolationMinutes: number[]; allowedMinutes: number[]; robust: boolean };
}

/** Spare capacity levels (ready capacity at the SLO's limit over demand, at the tightest step) tried in turn. */
export const SLACK_GRID = [1, 1.02, 1.05, 1.1, 1.15, 1.2, 1.3, 1.5, 2];

export interface SlackCalibration {
  /** the spare capacity a candidate must keep at every scored step (1: none beyond meeting the SLO) */
  required: number;
  /**
   * each level tried: the cheapest candidate that kept it on the blocks chosen on (the first to miss later, or the one
   * chosen on the first block), and the violation minutes of the folds' choices after the blocks they were chosen on
   */
  checks: Array<{ slack: number; candidate: string; laterViolationMinutes: number }>;
  /** how many safe candidates kept the required margin on the whole tuning part */
  kept: number;
  /**
   * the most spare capacity a checked choice lost after the blocks it was chosen on: the largest ratio of its tightest
   * spare there to its tightest spare on the later blocks, over every level and fold (1 when none lost any)
   */
  shrink: number;
  /** whether `required` covers `shrink` too (TuneOptions.strict) */
  strict: boolean;
  /** why it does (set by tunePolicy when strict): asked for, or a tuning part under two days */
  strictBecause?: string;
}

/**
 * Below this much tuning traffic the margin is strict unless told otherwise (TuneOptions.strict): a part under two
 * days has not shown a daily cycle or what comes once or twice a day (a noon batch, a twice-daily timer), so the
 * cheapest choice on it is the likeliest to meet something it never saw.
 */
export const STRICT_BELOW_MS = 2 * DAY_MS;

/** A length of tuning traffic as the notes say it: whole seconds, at least 1s. */
const spanLabel = (spanMs: number) => formatDuration(Math.max(1000, Math.round(spanMs / 1000) * 1000));

/** Whether a search over `spanMs` of tuning traffic keeps the strict margin, and why (TuneOptions.strict). */
export function strictFor(asked: boolean | undefined, spanMs: number): { strict: boolean; because?: string } {
  if (asked !== undefined) return asked ? { strict: true, because: '--tune-strict' } : { strict: false };
  return spanMs < STRICT_BELOW_MS
    ? { strict: true, because: `the tuning part, ${spanLabel(spanMs)}, is under two days: it has not shown what comes once or twice a day; --no-tune-strict turns this off` }
    : { strict: false };
}

const minSlack = (r: SimResult) => (r.parts ? Math.min(...r.parts.map((p) => p.minSlack)) : Number.NaN);

/** Parts [from, to) of a replay's scored steps as one. */
export function joinParts(parts: readonly PartScore[], from: number, to: number): PartScore {
  const out: PartScore = { scoredSteps: 0, violationSteps: 0, replicaSteps: 0, minSlack: Number.POSITIVE_INFINITY };
  for (let k = from; k < to; k++) {
    const p = parts[k]!;
    out.scoredSteps += p.scoredSteps;
    out.violationSteps += p.violationSteps;
    out.replicaSteps += p.replicaSteps;
    if (p.minSlack < out.minSlack) out.minSlack = p.minSlack;
  }
  return out;
}

/** The scored steps in two halves (SimResult.parts in an even number of blocks). */
export const halvesOf = (parts: readonly PartScore[]): [PartScore, PartScore] => {
  const h = Math.ceil(parts.length / 2);
  return [joinParts(parts, 0, h), joinParts(parts, h, parts.length)];
};

/**
 * Blocks the tuning part's scored steps are cut into for calibrateSlack's walk-forward checks: choosing on the first
 * quarter, half and three quarters, each checked on the rest.
 */
export const CALIBRATION_BLOCKS = 4;

/**
 * How much spare capacity the choice needs to stay safe on traffic it was not chosen on. The tuning part's scored
 * steps come in blocks (SimResult.parts); for each level in SLACK_GRID and each walk-forward fold (the blocks before
 * k to choose on, the rest to check on, for every k), the cheapest candidate on the fold's earlier blocks
 * that had no violation there and kept that much spare capacity at its tightest step is checked on the later ones.
 * The first level whose choices stay safe in every fold is required of the winner over the whole tuning part: a
 * search picks the candidate that only just made it through the traffic it saw, and how far "only just" falls short
 * on new traffic is measured rather than assumed, on more than one stretch of new traffic. A fold whose earlier blocks
 * no candidate got through without a violation has no choice to check and is left out; candidates without parts (or
 * no fold left) leave it at 1. A choice that only just stayed safe counts as safe; how far the checked choices' spare
 * fell on their later blocks is measured too (shrink), and `strict` requires that of the winner as well.
 */
export function calibrateSlack(cands: Array<{ params: Record<string, string>; result: SimResult }>, stepMs: number, strict = false): SlackCalibration {
  const checks: SlackCalibration['checks'] = [];
  const withParts = cands.filter((c) => c.result.parts && c.result.parts.length >= 2);
  const blocks = withParts.length ? Math.min(...withParts.map((c) => c.result.parts!.length)) : 0;
  const safeBefore = (k: number, slack: number) => withParts
    .map((c) => ({ c, before: joinParts(c.result.parts!, 0, k) }))
    .filter(({ before }) => before.violationSteps === 0 && before.minSlack >= slack)
    .sort((a, b) => a.before.replicaSteps - b.before.replicaSteps || compareCandidates(a.c.result, b.c.result));
  // a fold whose earlier blocks no candidate got through safely has no choice to check: it is left out
  const folds: number[] = [];
  for (let k = 1; k < blocks; k++) if (safeBefore(k, SLACK_GRID[0]!).length) folds.push(k);
  let required = SLACK_GRID[0]!;
  let shrink = 1;
  for (const slack of SLACK_GRID) {
    let later = 0;
    let candidate = '';
    let chosen = true;
    for (const k of folds) {
      const pick = safeBefore(k, slack)[0];
      if (!pick) { chosen = false; break; }
      const after = joinParts(pick.c.result.parts!, k, blocks);
      const v = after.violationSteps;
      if (after.minSlack > 0 && Number.isFinite(pick.before.minSlack)) shrink = Math.max(shrink, pick.before.minSlack / after.minSlack);
      if (!candidate || (v > 0 && later === 0)) candidate = Object.entries(pick.c.params).map(([key, val]) => `${key}=${val}`).join(', ');
      later += v;
    }
    if (!chosen || !folds.length) break;
    required = slack;
    checks.push({ slack, candidate, laterViolationMinutes: (later * stepMs) / 60_000 });
    if (later === 0) break;
  }
  // strict: a choice on the whole tuning part can lose as much on new traffic as the checked ones did on theirs, so the
  // winner keeps that loss as well (rounded up to the grid, past which nothing is tried)
  if (strict && checks.length) required = Math.max(required, SLACK_GRID.find((g) => g >= shrink) ?? SLACK_GRID[SLACK_GRID.length - 1]!);
  const kept = cands.filter((c) => c.result.score.violationMinutes === 0 && minSlack(c.result) >= required).length;
  return { required, checks, kept, shrink, strict };
}

/**
 * What a tuning part too short to show a daily or weekly cycle cannot tell the search (a season is found only after two
 * of its cycles): a note for the report, or undefined from two weeks on. Under two days, bursts that come once a day or
 * less often are likely missing from it too, and the winner has not been chosen with them in view.
 */
export function shortTuningNote(spanMs: number): string | undefined {
  if (!(spanMs < 2 * WEEK_MS)) return undefined;
  const span = spanLabel(spanMs);
  if (spanMs < 2 * DAY_MS) {
    return `--tune chose on ${span} of traffic, under two days: a daily cycle cannot be found in it (a season takes two cycles), and bursts that come once a day or less often are likely not in it, so the winner was not chosen with them in view; tune on 2 days or more (2 weeks for a weekly cycle)`;
  }
  return `--tune chose on ${span} of traffic, under two weeks: a weekly cycle (weekends) cannot be found in it (a season takes two cycles); if the traffic has one, tune on 2 weeks or more`;
}

/** Demand factors a winner must stay safe under (a traffic forecast is never exact). */
export const ROBUSTNESS_FACTORS = [0.9, 1.1];
/** How much sharper than in the trace every rise of demand is in the surprise stress. */
export const SURPRISE_FACTOR = 1.1;

interface Stress {
  label: string;
  /** the stressed trace (`from`: the first scored step), or undefined when this trace cannot take the stress */
  apply: (load: LoadSeries, from: number) => LoadSeries | undefined;
  /** violation minutes held against a candidate (default: all of them) */
  counted?: (r: SimResult, stepMs: number) => number;
  /** violation minutes the stress makes unavoidable, not held against a candidate */
  allowedMinutes?: (stepMs: number) => number;
}

/** How much above the trace a flash crowd takes demand, and for how long (the surge stress). */
export const SURGE_FACTOR = 1.5;
export const SURGE_MS = 30 * 60_000;
/** Demand at the end of the scored steps in the growth stress, over the trace's. */
export const GROWTH_FACTOR = 1.5;
/** A surge or growth smaller than this (maxReplicas leave no more room) is not worth replaying. */
const MIN_STRESS_FACTOR = 1.1;
/**
 * Surges in the surge stress: one in the middle of each half of the scored steps, which a tuning replay scores apart
 * (SimulateOptions.splitAt), so each surge is held to its own allowance.
 */
export const SURGES = 2;

/**
 * What a winner must stay safe under: demand 10% lower and higher (scale), every rise of demand 10% sharper than the
 * trace's (surprise), demand growing steadily to ×1.5 by the end of the scored steps (growth), and flash crowds
 * (surge): demand ×1.5 for 30 minutes in the middle of each half of the scored steps. Growth and surges are capped so
 * that maxReplicas can still serve them. Scaling alone cannot tell a forecaster whose headroom just covers the rises
 * it saw from one with room to spare, because its errors scale with the demand; the held-out future brings rises the
 * tuning part did not. Growth can: the forecaster meets a level above the one it learnt its errors and last season
 * at, and a policy whose headroom only holds at the level it was tuned at (errors that grow more slowly than demand,
 * a floor sized to it, an HPA target whose tolerance band reaches past the SLO) fails it. A calm tuning part cannot
 * tell a policy that adds one pod a minute from one that follows a surge at once; the surge does. A surge's first
 * steps are missed by any policy without that much spare (the metric shows the surge, and a replica asked for then
 * is ready only after the start-up and readiness delays): those are allowed, every step after them counts.
 */
function stressesFor(setup: SimSetup, maxReplicas: number): Stress[] {
  const w = setup.workload;
  const capacity = maxReplicas * w.capacityPerReplica * sloUtilizationLimit(w, setup.slo);
  const allowedSteps = (stepMs: number) => Math.ceil((w.startupDelayMs + w.readinessDelayMs) / stepMs) + 1;
  return [
    ...ROBUSTNESS_FACTORS.map((f) => ({ label: `demand ×${f}`, apply: (l: LoadSeries) => scaled(l, f) })),
    { label: `rises ×${SURPRISE_FACTOR}`, apply: (l: LoadSeries) => sharperRises(l, SURPRISE_FACTOR) },
    { label: `growth ×${GROWTH_FACTOR}`, apply: (l: LoadSeries, from: number) => grown(l, from, GROWTH_FACTOR, capacity, MIN_STRESS_FACTOR) },
    {
      label: `surge ×${SURGE_FACTOR} for ${formatDuration(SURGE_MS)}`,
      apply: (l: LoadSeries, from: number) => surged(l, from, SURGE_FACTOR, Math.max(1, Math.round(SURGE_MS / l.stepMs)), SURGES, capacity, MIN_STRESS_FACTOR),
      counted: (r: SimResult, stepMs: number) => {
        const allowed = allowedSteps(stepMs);
        const over = r.parts
          ? halvesOf(r.parts).reduce((n, p) => n + Math.max(0, p.violationSteps - allowed), 0)
          : Math.max(0, (r.score.violationMinutes * 60_000) / stepMs - SURGES * allowed);
        return (over * stepMs) / 60_000;
      },
      allowedMinutes: (stepMs: number) => (SURGES * allowedSteps(stepMs) * stepMs) / 60_000,
    },
  ];
}

/**
 * Demand rising steadily over the steps from `from` on, from ×1 to ×`g` at the last step, with `g` lowered so that no
 * step goes beyond `capacity` (what maxReplicas serve at the SLO's limit); undefined when less than `minF` fits.
 */
export function grown(load: LoadSeries, from: number, g: number, capacity: number, minF: number): LoadSeries | undefined {
  const x = load.values;
  const first = Math.max(0, from);
  const n = x.length - first;
  if (n < 2) return undefined;
  const at = (i: number) => (i - first) / (n - 1);
  let k = g;
  for (let i = first + 1; i < x.length; i++) if (x[i]! > 0) k = Math.min(k, 1 + (capacity / x[i]! - 1) / at(i));
  if (!(k >= minF)) return undefined;
  const v = Float64Array.from(x);
  for (let i = first; i < x.length; i++) if (v[i]! >= 0) v[i] = v[i]! * (1 + (k - 1) * at(i));
  return { ...load, values: v };
}

/**
 * Demand ×`f` for `steps` steps at each of `count` points spread evenly over the steps from `from` on (the middle of
 * each `count`th), with `f` lowered so every surge stays within `capacity` (what maxReplicas serve at the SLO's
 * limit); undefined when less than `minF` fits or too few steps are scored to keep the surges apart.
 */
export function surged(load: LoadSeries, from: number, f: number, steps: number, count: number, capacity: number, minF: number): LoadSeries | undefined {
  const x = load.values;
  const first = Math.max(0, from);
  const n = x.length - first;
  if (n < count * steps * 2) return undefined;
  const starts = Array.from({ length: count }, (_, j) => first + Math.floor(((j + 0.5) * n) / count) - (steps >> 1));
  let top = 0;
  for (const at of starts) for (let i = at; i < at + steps; i++) if (x[i]! > top) top = x[i]!;
  if (!(top > 0)) return undefined;
  const k = Math.min(f, capacity / top);
  if (!(k >= minF)) return undefined;
  const v = Float64Array.from(x);
  for (const at of starts) for (let i = at; i < at + steps; i++) if (v[i]! >= 0) v[i] = v[i]! * k;
  return { ...load, values: v };
}

/**
 * Share of the search budget the robustness check may spend on candidates before settling for the least fragile
 * one (at least ROBUST_MIN_ROUNDS rounds of robustTop): a fragile winner is what misses on new traffic, so the check
 * goes on down the list while a robust one may still be there, at a cost bounded by the search's own.
 */
const ROBUST_SHARE = 0.25;
const ROBUST_MIN_ROUNDS = 4;

const UTILIZATION_GRID = [30, 40, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95];
const VALUE_FACTORS = [0.5, 0.6, 0.7, 0.8, 0.9, 1.1, 1.2, 1.3, 1.5];
const WINDOW_GRID = [0, 30, 60, 120, 180, 300, 600, 900];

function policies(...ps: Array<[type: 'Pods' | 'Percent', value: number, periodSeconds: number]>): Policies {
  return ps.map(([type, value, periodSeconds]) => ({ type, value, periodSeconds }));
}

const SCALE_UP_PRESETS: Array<[string, Policies]> = [
  ['4 pods or 100% per 15s (Kubernetes default)', policies(['Pods', 4, 15], ['Percent', 100, 15])],
  ['1 pod per 60s', policies(['Pods', 1, 60])],
  ['2 pods per 15s', policies(['Pods', 2, 15])],
  ['4 pods per 15s', policies(['Pods', 4, 15])],
  ['100% per 15s', policies(['Percent', 100, 15])],
  ['200% per 15s', policies(['Percent', 200, 15])],
  ['100% per 60s', policies(['Percent', 100, 60])],
];
const SCALE_DOWN_PRESETS: Array<[string, Policies]> = [
  ['100% per 15s (Kubernetes default)', policies(['Percent', 100, 15])],
  ['1 pod per 15s', policies(['Pods', 1, 15])],
  ['1 pod per 60s', policies(['Pods', 1, 60])],
  ['2 pods per 60s', policies(['Pods', 2, 60])],
  ['10% per 60s', policies(['Percent', 10, 60])],
  ['50% per 60s', policies(['Percent', 50, 60])],
];

function behaviorOf(p: ServicePolicy, dir: 'scaleUp' | 'scaleDown'): Rules {
  const hpa = p.hpa!;
  hpa.behavior ??= {};
  return (hpa.behavior[dir] ??= {});
}

function describePolicies(r: Rules | undefined): string {
  if (!r?.policies?.length) return 'unset';
  return r.policies.map((x) => `${x.value}${x.type === 'Percent' ? '%' : x.value === 1 ? ' pod' : ' pods'} per ${x.periodSeconds}s`).join(' or ') + (r.selectPolicy && r.selectPolicy !== 'Max' ? ` (${r.selectPolicy})` : '');
}

type TargetHolder = { type?: string; averageUtilization?: number; averageValue?: string | number; value?: string | number };

/** The first HPA metric's target (what `--tune` tunes), with where it lives. */
function firstTarget(p: ServicePolicy): { holder: (q: ServicePolicy) => TargetHolder; target: TargetHolder; metric: string } | undefined {
  const metrics = p.hpa?.metrics ?? [];
  for (let i = 0; i < metrics.length; i++) {
    const m = metrics[i] as Record<string, unknown>;
    for (const k of ['resource', 'containerResource', 'pods', 'object', 'external']) {
      const spec = m[k] as { name?: string; metric?: { name?: string }; target?: TargetHolder } | undefined;
      if (spec?.target) {
        return {
          target: spec.target,
          metric: spec.name ?? spec.metric?.name ?? k,
          holder: (q) => ((q.hpa!.metrics[i] as Record<string, { target: TargetHolder }>)[k]!).target,
        };
      }
    }
  }
  return undefined;
}

const QUANTILE_GRID = [0.95, 0.98, 0.99, 0.995, 0.999, 0.9999, 1];
const SEASON_GRID = ['auto', '1h', '1d', '1w', 'off'] as const;
/** predictive.targetUtilization tried, as fractions of the utilization the SLO allows */
const TARGET_FACTORS = [0.97, 0.94, 0.9, 0.85];
/** How long errors are remembered: a day forgets a one-off surprise, a week keeps it as headroom. */
const ERROR_WINDOW_GRID: Array<[string, number]> = [['1d', 86_400_000], ['7d', 7 * 86_400_000]];

function seasonalOn(q: ServicePolicy): NonNullable<ServicePolicy['predictive']> | undefined {
  return q.predictive?.model === 'seasonal' ? q.predictive : undefined;
}

/** Forecast on/off, season, headroom quantile and burst sizing, for a service with an aggregate demand metric. */
function predictiveParams(p: ServicePolicy, demandMetric: string): TuneParam[] {
  const pr = p.predictive;
  const cur = pr ? (pr.model === 'seasonal' ? 'seasonal' : pr.model) : 'off';
  const on: TuneValue = { label: 'seasonal', apply: (q) => { q.predictive = { metric: demandMetric, model: 'seasonal' }; } };
  const off: TuneValue = { label: 'off', apply: (q) => { delete q.predictive; } };
  const sp = seasonalOn(p);
  const season = sp?.season ?? 'auto';
  const quantile = sp?.headroomQuantile ?? 0.99;
  const burst = sp?.burst ?? true;
  const errorModel = sp?.errorModel ?? 'ratio';
  const method = sp?.method ?? 'level';
  const errorWindow = sp?.errorWindow !== undefined ? formatDuration(sp.errorWindow) : '1d';
  // how full a forecast may fill a replica: what the SLO allows, or a few percent less (spare capacity where the
  // forecast decides, instead of everywhere as a lower HPA target gives)
  const target = sp?.targetUtilization;
  const sloLimit = utilizationLimit({ ...p, predictive: { metric: demandMetric, model: 'seasonal' } }).limit * 100;
  const targets = [...new Set(TARGET_FACTORS.map((f) => Math.max(1, Math.floor(sloLimit * f))))];
  return [
    { name: 'predictive', group: 'forecast', values: [{ label: cur }, ...[on, off].filter((v) => v.label !== cur)] },
    { name: 'predictive season', values: [{ label: season }, ...SEASON_GRID.filter((v) => v !== season).map((v) => ({ label: v, apply: (q: ServicePolicy) => { const s = seasonalOn(q); if (s) s.season = v; } }))] },
    { name: 'predictive headroomQuantile', group: 'forecast', values: [{ label: String(quantile) }, ...QUANTILE_GRID.filter((v) => v !== quantile).map((v) => ({ label: String(v), apply: (q: ServicePolicy) => { const s = seasonalOn(q); if (s) s.headroomQuantile = v; } }))] },
    { name: 'predictive burst', group: 'forecast', values: [{ label: String(burst) }, { label: String(!burst), apply: (q) => { const s = seasonalOn(q); if (s) s.burst = !burst; } }] },
    { name: 'predictive errorModel', group: 'forecast', values: [{ label: errorModel }, ...(['ratio', 'sqrt'] as const).filter((v) => v !== errorModel).map((v) => ({ label: v, apply: (q: ServicePolicy) => { const s = seasonalOn(q); if (s) s.errorModel = v; } }))] },
    { name: 'predictive method', values: [{ label: method }, ...(['level', 'change'] as const).filter((v) => v !== method).map((v) => ({ label: v, apply: (q: ServicePolicy) => { const s = seasonalOn(q); if (s) s.method = v; } }))] },
    { name: 'predictive targetUtilization', values: [{ label: target === undefined ? 'slo' : String(target) }, ...targets.filter((v) => v !== target).map((v) => ({ label: String(v), apply: (q: ServicePolicy) => { const s = seasonalOn(q); if (s) s.targetUtilization = v; } }))] },
    { name: 'predictive errorWindow', values: [{ label: errorWindow }, ...ERROR_WINDOW_GRID.filter(([l]) => l !== errorWindow).map(([l, ms]) => ({ label: l, apply: (q: ServicePolicy) => { const s = seasonalOn(q); if (s) s.errorWindow = ms; } }))] },
  ];
}

/**
 * Adds the forecast target utilizations that keep `margin` spare capacity at the SLO's limit (the limit over the
 * margin) to the values searched, with those for the next two levels of SLACK_GRID: rounding to whole replicas and
 * the forecast's own errors take some of it back. Values the grid has are not added again; existing candidates
 * keep their value indices.
 */
export function marginTargets(params: TuneParam[], p: ServicePolicy, demandMetric: string, margin: number): void {
  const param = params.find((x) => x.name === 'predictive targetUtilization');
  if (!param) return;
  const sloLimit = utilizationLimit({ ...p, predictive: { metric: demandMetric, model: 'seasonal' } }).limit * 100;
  for (const m of SLACK_GRID.filter((x) => x >= margin).slice(0, 3)) {
    const v = Math.max(1, Math.floor(sloLimit / m));
    if (param.values.some((x) => x.label === String(v))) continue;
    param.values.push({ label: String(v), apply: (q) => { const s = seasonalOn(q); if (s) s.targetUtilization = v; } });
  }
}

/** The parameters searched for a policy, each with its configured value first. */
export function tuneParams(p: ServicePolicy, maxUseful: number, demandMetric?: string): TuneParam[] {
  if (!p.hpa) throw new InputError(`services.${p.name}: --tune searches the hpa block's parameters, and this service has no hpa block; add one (e.g. a cpu Utilization target)`);
  const out: TuneParam[] = [];
  const t = firstTarget(p);
  if (t) {
    const tgt = t.target;
    if (tgt.averageUtilization !== undefined) {
      const cur = tgt.averageUtilization;
      out.push({
        name: `target (${t.metric} averageUtilization)`,
        group: 'steady',
        values: [{ label: String(cur) }, ...UTILIZATION_GRID.filter((v) => v !== cur).map((v) => ({ label: String(v), apply: (q: ServicePolicy) => { t.holder(q).averageUtilization = v; } }))],
      });
    } else {
      const key = tgt.averageValue !== undefined ? 'averageValue' : tgt.value !== undefined ? 'value' : undefined;
      if (key) {
        const milli = parseMilli(tgt[key]!);
        out.push({
          name: `target (${t.metric} ${key})`,
          group: 'steady',
          values: [{ label: String(tgt[key]) }, ...VALUE_FACTORS.map((f) => {
            const v = formatMilli(Math.max(1, Math.round(milli * f)));
            return { label: v, apply: (q: ServicePolicy) => { t.holder(q)[key] = v; } };
          })],
        });
      }
    }
  }
  const window = p.hpa.behavior?.scaleDown?.stabilizationWindowSeconds;
  out.push({
    name: 'scaleDown stabilizationWindowSeconds',
    values: [{ label: window === undefined ? 'unset (300)' : String(window) }, ...WINDOW_GRID.filter((v) => v !== window).map((v) => ({
      label: String(v),
      apply: (q: ServicePolicy) => { behaviorOf(q, 'scaleDown').stabilizationWindowSeconds = v; },
    }))],
  });
  for (const [dir, presets] of [['scaleUp', SCALE_UP_PRESETS], ['scaleDown', SCALE_DOWN_PRESETS]] as const) {
    const cur = describePolicies(p.hpa.behavior?.[dir]);
    out.push({
      name: `${dir} policies`,
      values: [{ label: cur }, ...presets.filter(([label]) => !label.startsWith(cur)).map(([label, ps]) => ({
        label,
        apply: (q: ServicePolicy) => {
          const r = behaviorOf(q, dir);
          r.policies = structuredClone(ps);
          r.selectPolicy = 'Max';
        },
      }))],
    });
  }
  const mins = new Set<number>();
  for (let v = 1; v <= Math.min(p.maxReplicas, Math.max(1, maxUseful)); v = v < 6 ? v + 1 : Math.ceil(v * 1.25)) mins.add(v);
  mins.delete(p.minReplicas);
  out.push({
    name: 'minReplicas',
    group: 'steady',
    values: [{ label: String(p.minReplicas) }, ...[...mins].sort((a, b) => a - b).map((v) => ({ label: String(v), apply: (q: ServicePolicy) => { q.minReplicas = v; } }))],
  });
  if (demandMetric !== undefined) out.push(...predictiveParams(p, demandMetric));
  return out;
}

/** Every combination of the values of params[dims], the other parameters as in `base`. */
function combos(base: number[], params: TuneParam[], dims: number[]): number[][] {
  let out = [base.slice()];
  for (const d of dims) {
    const next: number[][] = [];
    for (const c of out) for (let v = 0; v < params[d]!.values.length; v++) { const x = c.slice(); x[d] = v; next.push(x); }
    out = next;
  }
  return out;
}

/** Lower is better: violation minutes, then cost (replica-hours), then scale events, then reversals. */
export function compareCandidates(a: SimResult, b: SimResult): number {
  const x = a.score;
  const y = b.score;
  return (
    x.violationMinutes - y.violationMinutes ||
    x.replicaHours - y.replicaHours ||
    x.scaleUps + x.scaleDowns - (y.scaleUps + y.scaleDowns) ||
    x.reversals - y.reversals
  );
}

/** The most candidates one search simulates: each one's score is held until the search ends. */
export const MAX_TUNE_BUDGET = 100_000;

export interface TuneOptions {
  /** most candidates to simulate (default 400, at most MAX_TUNE_BUDGET) */
  budget?: number;
  pool?: SimPool;
  workers?: number;
  /** replicas to start with for a candidate (minReplicas changes it) on a replay whose first demand is `firstLoad` */
  initialReplicas?: (p: ServicePolicy, firstLoad: number | undefined) => number;
  /** the most replicas worth trying as minReplicas (e.g. the bound's peak) */
  maxUsefulMinReplicas?: number;
  onProgress?: (evaluated: number, planned: number) => void;
  /** an aggregate demand metric (total rps) the seasonal forecast can read; without it forecasting is not searched */
  demandMetric?: string;
  /** steps replayed but not scored (default: the first third with a demand metric, else none) */
  warmupSteps?: number;
  /** candidates (cheapest safe first) replayed at ±10% demand; 0 skips the check (default 12) */
  robustTop?: number;
  /**
   * most scale-ups a day a winner may make on the scored steps: one that makes more ranks after every one that does
   * not, as one with violations would (default: no limit, replica-hours alone decide)
   */
  maxScaleUpsPerDay?: number;
  /**
   * the winner also keeps the most spare capacity the walk-forward checks saw a choice lose on the traffic after it
   * (SlackCalibration.shrink): more replica-hours, and fewer misses on traffic unlike the tuning part's. Unset: only
   * when the tuning traffic is under two days (STRICT_BELOW_MS)
   */
  strict?: boolean;
}

/** Scale-ups a day on a replay's scored steps. */
export function scaleUpsPerDay(r: SimResult, stepMs: number): number {
  return r.score.scoredSteps ? (r.score.scaleUps * 86_400_000) / (r.score.scoredSteps * stepMs) : 0;
}

/** Each step where demand rose over the step before is raised so that the rise is `f` times as large. */
export function sharperRises(load: LoadSeries, f: number): LoadSeries {
  const v = new Float64Array(load.values.length);
  for (let i = 0; i < v.length; i++) {
    const x = load.values[i]!;
    const prev = i > 0 ? load.values[i - 1]! : Number.NaN;
    v[i] = x > prev && prev >= 0 ? prev + (x - prev) * f : x;
  }
  return { ...load, values: v };
}

function scaled(load: LoadSeries, f: number): LoadSeries {
  const v = new Float64Array(load.values.length);
  for (let i = 0; i < v.length; i++) v[i] = load.values[i]! * f;
  return { ...load, values: v };
}

/**
 * Where the coordinate search starts, as value indices into `params`: the configured policy, forecasting switched on,
 * with the change method, and led by the forecast (`led`): the HPA's target (`ledTarget`, the parameter's index) at
 * the top of its grid and no scale-down stabilization, so the forecast's headroom sets the replica count and the HPA
 * only backs it up. Each of those two alone is no cheaper (with a stabilization window the target hardly matters,
 * and with a low target the window hardly does), so a descent from the other starts does not pass through it.
 */
export function searchStarts(params: TuneParam[], configured: number[]): { starts: number[][]; led?: number; ledTarget?: number } {
  const starts = [configured];
  const pi = params.findIndex((p) => p.name === 'predictive');
  const onAt = pi >= 0 ? params[pi]!.values.findIndex((v) => v.label === 'seasonal') : -1;
  if (onAt <= 0) return { starts };
  const alt = configured.slice();
  alt[pi] = onAt;
  starts.push(alt);
  // forecasting changes which floor and target are cheapest, and the change method changes them again
  const mi = params.findIndex((p) => p.name === 'predictive method');
  const changeAt = mi >= 0 ? params[mi]!.values.findIndex((v) => v.label === 'change') : -1;
  if (changeAt > 0) { const ch = alt.slice(); ch[mi] = changeAt; starts.push(ch); }
  const ti = params.findIndex((p) => p.group === 'steady' && p.name.startsWith('target ('));
  const wi = params.findIndex((p) => p.name === 'scaleDown stabilizationWindowSeconds');
  const w0 = wi >= 0 ? params[wi]!.values.findIndex((v) => v.label === '0') : -1;
  if (ti < 0 || w0 < 0) return { starts };
  const vals = params[ti]!.values;
  let top = 0;
  vals.forEach((v, k) => { if (Number(v.label) > Number(vals[top]!.label)) top = k; });
  const led = starts[starts.length - 1]!.slice();
  led[ti] = top;
  led[wi] = w0;
  starts.push(led);
  return { starts, led: starts.length - 1, ledTarget: ti };
}

/** Tunes `policy` on `load`. Deterministic: the same inputs give the same winner in any number of threads. */
export async function tunePolicy(policy: ServicePolicy, setup: SimSetup, load: LoadSeries, opts: TuneOptions = {}): Promise<TuneResult> {
  const budget = Math.min(MAX_TUNE_BUDGET, Math.max(1, opts.budget ?? 400));
  const params = tuneParams(policy, opts.maxUsefulMinReplicas ?? policy.maxReplicas, opts.demandMetric);
  const space = params.reduce((n, p) => n * p.values.length, 1);
  const quiet = { ...setup, timeline: false };
  const seen = new Map<string, Candidate>();
  // an operator's limit on churn ranks like a second SLO: a candidate over it comes after every one within it
  const churnLimit = opts.maxScaleUpsPerDay;
  const churns = (r: SimResult) => churnLimit !== undefined && scaleUpsPerDay(r, load.stepMs) > churnLimit;
  const rankOrder = (a: SimResult, b: SimResult) => Number(churns(a)) - Number(churns(b)) || compareCandidates(a, b);
  let order = 0;
  const rank = new Map<string, number>();

  const build = (idx: number[]): ServicePolicy => {
    const q = structuredClone(policy);
    idx.forEach((v, i) => params[i]!.values[v]!.apply?.(q));
    return q;
  };
  // With forecasting in the space, the first third of the trace is replayed but not scored: a forecaster is judged
  // on the steady state it will run in (a live one keeps its history), not on the days it spent learning; every
  // candidate is scored on the same steps, so the comparison stays fair.
  const warmup = opts.warmupSteps ?? (opts.demandMetric !== undefined ? Math.floor(load.values.length / 3) : 0);
  const strict = strictFor(opts.strict, load.values.length * load.stepMs);
  // the scored steps in blocks, so the spare capacity a choice needs can be calibrated (calibrateSlack)
  const scoredSteps = load.values.length - warmup;
  const split = scoredSteps >= 4 * CALIBRATION_BLOCKS
    ? Array.from({ length: CALIBRATION_BLOCKS - 1 }, (_, j) => warmup + Math.floor(((j + 1) * scoredSteps) / CALIBRATION_BLOCKS))
    : undefined;
  const runAll = async (policies: ServicePolicy[], on: LoadSeries, progress?: (n: number) => void, stopAfterViolationMinutes?: number): Promise<SimResult[]> => {
    const firstLoad = on.values.find((v) => v >= 0);
    const make = (i: number) => {
      const p = policies[i]!;
      return {
        policy: p,
        // a stressed replay starts sized for its own first demand, as the trace's does for the trace's
        setup: opts.initialReplicas ? { ...quiet, initialReplicas: opts.initialReplicas(p, firstLoad) } : quiet,
        load: on,
        label: `candidate ${seen.size + i + 1}`,
        ...(warmup ? { scoreFrom: warmup } : {}),
        ...(split !== undefined ? { splitAt: split } : {}),
        ...(stopAfterViolationMinutes !== undefined ? { stopAfterViolationMinutes } : {}),
      };
    };
    return opts.pool ? await opts.pool.run(policies.length, make, progress) : await simulateMany(policies.length, make, { ...(opts.workers !== undefined ? { workers: opts.workers } : {}), ...(progress ? { onProgress: progress } : {}) });
  };
  const evaluate = async (batch: number[][]): Promise<Candidate[]> => {
    const todo = batch.filter((idx) => !seen.has(idx.join(','))).slice(0, Math.max(0, cap - seen.size));
    const policies = todo.map(build);
    const done = seen.size;
    const progress = (n: number) => opts.onProgress?.(done + n, Math.min(budget, space));
    // Once a candidate is safe, one that violates cannot win: its replay stops at its first violation minute. The
    // rule is fixed before the batch runs, so the outcome does not depend on the order workers finish in.
    const anySafe = [...seen.values()].some((c) => c.result.score.violationMinutes === 0 && !churns(c.result));
    const results = await runAll(policies, load, progress, anySafe ? 0 : undefined);
    todo.forEach((idx, i) => {
      const key = idx.join(',');
      const paramsLabel: Record<string, string> = {};
      idx.forEach((v, j) => { paramsLabel[params[j]!.name] = params[j]!.values[v]!.label; });
      seen.set(key, { params: paramsLabel, policy: policies[i]!, result: results[i]! });
      rank.set(key, order++);
    });
    return batch.map((idx) => seen.get(idx.join(','))).filter((c): c is Candidate => c !== undefined);
  };
  const better = (a: Candidate, b: Candidate) => rankOrder(a.result, b.result) < 0;
  // the search's share of the budget; with a margin to calibrate, the rest searches again under it (below)
  let cap = budget;

  const start = params.map(() => 0);
  let mode: TuneResult['mode'];
  if (space <= budget) {
    mode = 'grid';
    await evaluate(combos(start, params, params.map((_, i) => i)));
  } else {
    // Block coordinate search: the target and minReplicas together set the steady replica count and only pay
    // off together (a higher floor lets a higher target through), so they are searched as one grid; each
    // behavior parameter is searched alone. Rounds repeat from the best so far until nothing improves.
    mode = 'coordinate';
    if (split !== undefined) cap = Math.ceil(budget * 0.7);
    // The forecast's switches and headroom are one grid too (the headroom only matters with the forecast on), and
    // go first: with forecasting on, the cheapest floor and target are different ones.
    const groups = new Map<string, number[]>();
    params.forEach((p, i) => { if (p.group) groups.set(p.group, [...(groups.get(p.group) ?? []), i]); });
    const grouped = [...groups.entries()].sort(([a], [b]) => Number(b === 'forecast') - Number(a === 'forecast')).map(([, b]) => b);
    const blocks = [...grouped, ...params.map((p, i) => (p.group ? -1 : i)).filter((i) => i >= 0).map((i) => [i])].filter((b) => b.length);
    let cur = start.slice();
    const { starts, led: ledAt, ledTarget } = searchStarts(params, cur);
    await evaluate(starts);
    // by start (a start beyond a tiny budget was not evaluated)
    const firsts = starts.map((st) => seen.get(st.join(',')));
    let best = firsts[0];
    for (let i = 1; i < firsts.length; i++) if (firsts[i] && better(firsts[i]!, best!)) { best = firsts[i]; cur = starts[i]!; }
    const descend = async (from: Candidate, key: number[], isBetter: (a: Candidate, b: Candidate) => boolean, searched = blocks): Promise<[Candidate, number[]]> => {
      let top = from;
      let at = key;
      for (let round = 0; round < 5 && seen.size < cap; round++) {
        const before = at.join(',');
        for (const block of searched) {
          if (seen.size >= cap) break;
          const batch = combos(at, params, block);
          for (const c of await evaluate(batch)) {
            if (isBetter(c, top)) {
              top = c;
              at = batch.find((b) => seen.get(b.join(',')) === c)!;
            }
          }
        }
        if (at.join(',') === before) break;
      }
      return [top, at];
    };
    await descend(best!, cur, better);
    // the forecast-led start is searched on its own as well: its neighbours are cheaper ones of its own kind, which
    // the descent from the cheapest start does not pass through
    // (with the HPA's target held at the top, as the backstop it is there: lowering it leaves the forecast's kind)
    const ledBlocks = blocks.filter((b) => ledTarget === undefined || !b.includes(ledTarget));
    const ledFirst = ledAt !== undefined && starts[ledAt] !== cur ? firsts[ledAt] : undefined;
    const led = ledFirst ? await descend(ledFirst, starts[ledAt!]!, better, ledBlocks) : undefined;
    if (split !== undefined) {
      // The margin the choice needs is known only now (calibrateSlack); the rest of the budget searches again from
      // the cheapest candidate that keeps it, counting a candidate that does not keep it as one that violates.
      cap = budget;
      const m = calibrateSlack([...seen.values()].filter((c) => !churns(c.result)), load.stepMs, strict.strict);
      if (m.required > 1 && seen.size < cap) {
        // the forecast keeps the margin where it decides when it fills a replica only to the SLO's limit over it:
        // those targets join the fixed fractions searched (they are known only now)
        if (opts.demandMetric !== undefined) marginTargets(params, policy, opts.demandMetric, m.required);
        const lacks = (c: Candidate) => (c.result.score.violationMinutes > 0 || !(minSlack(c.result) >= m.required) ? 1 : 0);
        const underMargin = (a: Candidate, b: Candidate) => (lacks(a) - lacks(b) || rankOrder(a.result, b.result)) < 0;
        let from: [string, Candidate] | undefined;
        for (const e of seen.entries()) if (!from || underMargin(e[1], from[1])) from = e;
        // with a forecast-led search, half of what is left goes to it: the margin may be kept there more cheaply
        // (the forecast's own target utilization lowered) than by the HPA's spare capacity everywhere
        if (led) cap = seen.size + Math.ceil((budget - seen.size) / 2);
        if (from) await descend(from[1], from[0].split(',').map(Number), underMargin);
        cap = budget;
        // (single parameters before the grids: the forecast's own target is the likeliest way to the margin)
        if (led && seen.size < cap) await descend(led[0], led[1], underMargin, [...ledBlocks].sort((a, b) => a.length - b.length));
      }
    }
  }
  const all = [...seen.entries()].sort(([ka, a], [kb, b]) => rankOrder(a.result, b.result) || rank.get(ka)! - rank.get(kb)!).map(([, c]) => c);
  let best = all[0]!;
  const configured = seen.get(start.join(','))!;
  // Robustness: the cheapest candidates replayed with demand 10% lower and higher; the first that stays safe wins.
  let robustness: TuneResult['robustness'];
  const topN = opts.robustTop ?? 12;
  const margin = split !== undefined ? calibrateSlack(all.filter((c) => !churns(c.result)), load.stepMs, strict.strict) : undefined;
  if (margin?.strict && strict.because !== undefined) margin.strictBecause = strict.because;
  if (margin && margin.kept > 0) {
    // the safe candidates that kept the calibrated margin go first, cheapest first, then the rest as before
    const keeps = (c: Candidate) => c.result.score.violationMinutes === 0 && !churns(c.result) && minSlack(c.result) >= margin.required;
    const ahead = all.filter(keeps);
    const rest = all.filter((c) => !keeps(c));
    all.splice(0, all.length, ...ahead, ...rest);
    best = all[0]!;
  }
  if (topN > 0) {
    const safe = all.filter((c) => c.result.score.violationMinutes === 0 && !churns(c.result) && (!margin || margin.kept === 0 || minSlack(c.result) >= margin.required));
    const ranked = safe.length ? safe : all;
    const pool: Candidate[] = [];
    // the stresses this trace can take, each with its stressed trace and the violation minutes it makes unavoidable
    const stresses = stressesFor(setup, policy.maxReplicas).flatMap((x) => {
      const on = x.apply(load, warmup);
      return on ? [{ label: x.label, on, allowed: x.allowedMinutes?.(load.stepMs) ?? 0, counted: x.counted ?? ((r: SimResult) => r.score.violationMinutes) }] : [];
    });
    const stressed: SimResult[][] = stresses.map(() => []);
    const counted = (f: number, i: number) => stresses[f]!.counted(stressed[f]![i]!, load.stepMs);
    const worst = (i: number) => stressed.reduce((n, _, f) => n + counted(f, i), 0);
    let pick = -1;
    // the cheapest candidates are the likeliest to be fitted to the tuning part's noise: when none of them stays
    // safe, the next ones are checked, up to a quarter of the budget's candidates (see ROBUST_SHARE)
    // (in rounds of robustTop; the first rounds are smaller, 1, 2, 4, ..., as the cheapest candidate is the likeliest
    // pick: the same candidates are checked in the same order, and a pick found early costs fewer replays)
    const share = Math.max(topN * ROBUST_MIN_ROUNDS, Math.ceil(budget * ROBUST_SHARE));
    // (the whole rounds of robustTop that reach the share)
    const most = Math.min(ranked.length, topN * Math.ceil(share / topN));
    let round = 1;
    while (pick < 0 && pool.length < most) {
      const more = ranked.slice(pool.length, Math.min(most, pool.length + Math.min(topN, round)));
      round *= 2;
      const from = pool.length;
      pool.push(...more);
      for (let f = 0; f < stresses.length; f++) stressed[f]!.push(...await runAll(more.map((c) => c.policy), stresses[f]!.on));
      for (let i = from; i < pool.length && pick < 0; i++) if (worst(i) === 0) pick = i;
    }
    const robust = pick >= 0;
    if (!robust) pick = pool.reduce((b, _, i) => (worst(i) < worst(b) ? i : b), 0);
    best = pool[pick]!;
    robustness = {
      factors: ROBUSTNESS_FACTORS,
      stresses: stresses.map((x) => x.label),
      checked: pool.length,
      winnerViolationMinutes: stresses.map((_, f) => counted(f, pick)),
      allowedMinutes: stresses.map((x) => x.allowed),
      robust,
    };
    all.splice(all.indexOf(best), 1);
    all.unshift(best);
  }
  const closest = minSlack(best.result);
  return {
    mode,
    space,
    evaluated: seen.size,
    params: params.map((p) => ({ name: p.name, values: p.values.map((v) => v.label) })),
    configured,
    best,
    top: all.slice(0, 10),
    meetsSlo: best.result.score.violationMinutes === 0,
    churn: {
      ...(churnLimit !== undefined ? { maxScaleUpsPerDay: churnLimit } : {}),
      winnerScaleUpsPerDay: scaleUpsPerDay(best.result, load.stepMs),
      configuredScaleUpsPerDay: scaleUpsPerDay(configured.result, load.stepMs),
      kept: !churns(best.result),
    },
    ...(Number.isFinite(closest) ? { closestSlack: closest } : {}),
    snippet: serviceSnippet(best.policy),
    warmupSteps: warmup,
    ...(margin ? { margin } : {}),
    ...(robustness ? { robustness } : {}),
  };
}

/** The tuned part of a service's config as YAML, ready to paste under `services:`. */
export function serviceSnippet(p: ServicePolicy): string {
  const hpa: Record<string, unknown> = { metrics: p.hpa?.metrics ?? [] };
  if (p.hpa?.behavior) hpa.behavior = p.hpa.behavior;
  if (p.hpa?.tolerance !== undefined) hpa.tolerance = p.hpa.tolerance;
  return toYaml({ services: { [p.name]: { minReplicas: p.minReplicas, maxReplicas: p.maxReplicas, hpa, ...(p.predictive ? { predictive: predictiveYaml(p.predictive) } : {}) } } });
}

/** The predictive block as the config file writes it: durations as 15m or 7d (a plain number would read as seconds). */
function predictiveYaml(pr: NonNullable<ServicePolicy['predictive']>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...pr };
  for (const k of ['horizon', 'lookback', 'seasonLength', 'errorWindow', 'dropHold'] as const) if (pr[k] !== undefined) out[k] = formatDuration(pr[k]);
  return out;
}
