// Predictive scaling for `predictive.model: seasonal`: replicas for the demand expected before a replica started
// now is ready, from the service's own seasonal history (with an error-quantile headroom) and from the current rate
// of increase (burst sizing). Without a season or enough history it says so and leaves the decision to the reactive
// HPA, still sizing bursts. The demand history lives in History.demand and is fed by recordDemand() each sync.
import type { ServicePolicy } from './policy.js';
import type { History, Proposal, TimedValue } from './types.js';
import type { SampleWindow } from './samples.js';
import { describeError, newSeasonalState, recordDemandSample, seasonalForecast, type SeasonChoice, type SeasonalOptions, type SeasonalState } from './forecast/seasonal.js';
import { formatDuration } from './duration.js';

const DEFAULT_LOOKBACK_MS = 15 * 86_400_000;
const ERROR_WINDOW_MS = 86_400_000;
/** predictive.dropHold's default: how long a drop of demand below every recent forecast error holds the forecast. */
export const DEFAULT_DROP_HOLD_MS = 2 * 3_600_000;

type Predictive = NonNullable<ServicePolicy['predictive']>;

export function isSeasonal(p: ServicePolicy): boolean {
  return p.predictive?.model === 'seasonal';
}

/** Time from asking for a replica to its serving traffic (capacity.startupDelay + readinessDelay). */
export function leadMs(p: ServicePolicy): number {
  return (p.capacity?.startupDelay ?? 30_000) + (p.capacity?.readinessDelay ?? 0);
}

/** The burst fit's window: a few lead times, and at least three syncs. */
export function burstWindowMs(p: ServicePolicy): number {
  return Math.max(3 * leadMs(p), 3 * p.syncPeriodMs);
}

export function seasonalOptions(p: ServicePolicy): SeasonalOptions {
  const pr = p.predictive!;
  const bucketMs = Math.max(60_000, p.syncPeriodMs);
  const lookback = pr.lookback ?? DEFAULT_LOOKBACK_MS;
  return {
    bucketMs,
    lookbackMs: lookback,
    horizonBuckets: Math.max(1, Math.ceil((pr.horizon ?? leadMs(p)) / bucketMs)),
    season: (pr.season ?? 'auto') as SeasonChoice,
    errorWindowMs: Math.min(pr.errorWindow ?? ERROR_WINDOW_MS, lookback),
    method: pr.method ?? 'level',
    errorModel: pr.errorModel ?? 'ratio',
    dropHoldMs: pr.dropHold ?? DEFAULT_DROP_HOLD_MS,
  };
}

function sameOptions(a: SeasonalOptions, b: SeasonalOptions): boolean {
  return a.bucketMs === b.bucketMs && a.lookbackMs === b.lookbackMs && a.horizonBuckets === b.horizonBuckets && a.season === b.season && a.errorWindowMs === b.errorWindowMs && a.method === b.method && a.errorModel === b.errorModel;
}

/** The demand history of a policy, created (or recreated when the policy's forecast settings changed) on demand. */
export function demandState(h: History, p: ServicePolicy): SeasonalState {
  const o = seasonalOptions(p);
  if (!h.demand || !sameOptions(h.demand.opts, o)) h.demand = newSeasonalState(o);
  // the hold's length does not shape the history: a new one applies from now on
  else if (h.demand.opts.dropHoldMs !== o.dropHoldMs) h.demand.opts = o;
  return h.demand;
}

/** Feeds this sync's demand into the forecaster's history (called next to appendSeries, before decide()). */
export function recordDemand(h: History, p: ServicePolicy, values: Record<string, number>, now: number): void {
  if (!isSeasonal(p)) return;
  const v = values[p.predictive!.metric];
  if (v === undefined) return;
  recordDemandSample(demandState(h, p), now, v);
}

/** Fraction of one replica's capacity the forecast may fill: predictive.targetUtilization, else what the SLO allows. */
export function utilizationLimit(p: ServicePolicy): { limit: number; why: string } {
  const pr = p.predictive!;
  if (pr.targetUtilization !== undefined) return { limit: pr.targetUtilization / 100, why: `predictive.targetUtilization ${pr.targetUtilization}%` };
  let limit = (p.slo?.maxUtilization ?? 100) / 100;
  let why = p.slo?.maxUtilization !== undefined ? `slo.maxUtilization ${p.slo.maxUtilization}%` : '100% (no slo.maxUtilization)';
  const lat = p.capacity?.latency;
  if (lat && p.slo?.p95 !== undefined) {
    const full = lat.p95AtFull ?? lat.base * 10;
    if (full > p.slo.p95 && lat.base < p.slo.p95) {
      // p95 = base / (1 - u) stays within the objective up to u = 1 - base / p95
      const u = 1 - lat.base / p.slo.p95;
      if (u < limit) { limit = u; why = `${Math.round(u * 1000) / 10}% (p95 ${formatDuration(p.slo.p95)} with base latency ${formatDuration(lat.base)})`; }
    }
  }
  return { limit, why };
}

/** Theil-Sen slope (median of pairwise slopes) per ms of the samples: one outlier cannot tilt it. */
export function robustSlope(s: readonly TimedValue[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    for (let j = i + 1; j < s.length; j++) {
      const dt = s[j]!.t - s[i]!.t;
      if (dt > 0) slopes.push((s[j]!.v - s[i]!.v) / dt);
    }
  }
  if (!slopes.length) return 0;
  slopes.sort((a, b) => a - b);
  const m = slopes.length >> 1;
  return slopes.length % 2 ? slopes[m]! : (slopes[m - 1]! + slopes[m]!) / 2;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 10 ? 2 : 1);
}

/** Demand expected when a replica asked for now is ready: current + slope × lead, from a robust fit of the recent window. */
export function burstDemand(series: SampleWindow | undefined, now: number, windowMs: number, lead: number): { demand: number; slope: number; samples: number } | undefined {
  if (!series?.length) return undefined;
  let i = series.length;
  while (i > 0 && series.t(i - 1) > now - windowMs) i--;
  const recent = series.toArray(Math.max(0, Math.min(i, series.length - 3)));
  const last = recent[recent.length - 1]!.v;
  if (recent.length < 3) return { demand: last, slope: 0, samples: recent.length };
  const slope = robustSlope(recent);
  return { demand: last + Math.max(0, slope) * lead, slope, samples: recent.length };
}

/**
 * The seasonal model's proposal: the larger of the forecast (with headroom) and the burst sizing, in replicas.
 * explain false: the same replicas without the detail text (DecideOptions.explain).
 */
export function seasonalProposal(p: ServicePolicy, h: History, now: number, explain = true): Proposal {
  const pr: Predictive = p.predictive!;
  const name = pr.metric;
  const perReplica = pr.capacityPerReplica ?? p.capacity?.rpsPerReplica;
  if (!perReplica) return { source: 'predictive', name, replicas: null, detail: !explain ? '' : 'predictive: no capacityPerReplica (or capacity.rpsPerReplica) to turn a forecast into replicas' };
  const { limit, why: limitWhy } = utilizationLimit(p);
  const per = perReplica * limit;
  const lead = leadMs(p);
  const q = pr.headroomQuantile ?? 0.99;
  const parts: string[] = [];
  let replicas: number | null = null;

  const state = h.demand;
  const f = state ? seasonalForecast(state, now, q) : { why: 'no history yet' };
  if ('peak' in f) {
    const need = f.need;
    replicas = Math.ceil(need / per);
    // during a drop hold the forecast from now is said first, then the hold's, which is what the replicas follow
    const fromNow = f.hold ? f.hold.fromNow : need;
    const nowReplicas = Math.ceil(fromNow / per);
    if (explain) parts.push(f.model === 'seasonal'
      ? `${f.season.label} seasonal ${pr.method === 'change' ? 'change ' : ''}forecast of ${name} (autocorrelation ${f.season.acf.toFixed(2)}) peaks at ${fmt(f.peak)} within ${formatDuration(lead)}; the ${q} quantile of ${f.errors} recent forecast errors makes it ${fmt(fromNow)} (${describeError(f.errorModel, f.factor)}) → ${nowReplicas}`
      : `${f.season.period ? 'last-value forecast' : 'reactive'} (${f.season.why}): ${name} ${fmt(f.peak)} now; the ${q} quantile of its ${f.errors} recent changes over ${formatDuration(lead)} makes it ${fmt(fromNow)} (${describeError(f.errorModel, f.factor)}) → ${nowReplicas}`);
    if (f.hold && explain) {
      const hm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
      parts.push(`drop hold: ${name} fell to ${fmt(f.hold.actual)} at ${hm(f.hold.sinceMs)} UTC where ${fmt(f.hold.expected)} was forecast, below every forecast error of the last ${formatDuration(state!.opts.errorWindowMs)}; until it is back within them (at most ${formatDuration(state!.opts.dropHoldMs ?? 0)}, to ${hm(f.hold.untilMs)} UTC) the forecast starts from before the drop (${hm(f.hold.anchorMs)} UTC): ${fmt(f.hold.peak)} within ${formatDuration(lead)}, ${fmt(need)} with headroom → ${replicas}`);
    }
    if (f.cadence && explain) {
      parts.push(`${name} updates every ${formatDuration(f.cadence.periodMs)}: ${f.cadence.due ? 'an update is due' : 'no update is due'} within ${formatDuration(lead)}, so the headroom comes from the errors of forecasts made ${f.cadence.due ? 'with' : 'without'} one due`);
    }
  } else if (explain) {
    parts.push(`reactive: ${f.why}`);
  }

  if (pr.burst ?? true) {
    const b = burstDemand(h.series[name], now, burstWindowMs(p), lead);
    if (b) {
      const r = Math.ceil(b.demand / per);
      if (explain) parts.push(b.slope > 0
        ? `burst: ${name} rising ${fmt(b.slope * 1000)}/s over ${b.samples} samples, ${fmt(b.demand)} expected in ${formatDuration(lead)} → ${r}`
        : `burst: ${name} not rising (${fmt(b.demand)}) → ${r}`);
      if (replicas === null || r > replicas) replicas = r;
    }
  }
  const detail = !explain ? '' : `${parts.join('; ')} (at ${perReplica} per replica and ${limitWhy})`;
  return { source: 'predictive', name, replicas, detail };
}
