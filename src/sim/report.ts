// Presents a simulation: the terminal summary, the machine-readable object (-o json|yaml) and the HTML report.
import { renderHtmlReport, type ReportChart, type ReportSeries, type ReportTable } from '../report/html.js';
import { formatDuration } from '../core/duration.js';
import type { ServiceRun, SimulationReport } from './run.js';
import type { SlackCalibration, TuneResult } from './tune.js';
import type { SimResult } from './types.js';
import { table as textTable } from '../text-table.js';

function num(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  // toFixed writes every digit of a huge value (a hostile trace's): three significant ones say as much
  if (Math.abs(v) >= 1e21) return v.toPrecision(3);
  return v.toFixed(digits).replace(/\.0+$/, '');
}

function table(rows: Array<Array<string | number>>): string {
  return textTable(rows).trimEnd();
}

function pct(v: number | null): string {
  return v === null ? '-' : `${v >= 0 ? '+' : ''}${num(v)}%`;
}

const HEADER = ['POLICY', 'REPLICA-HOURS', 'COST', 'VIOLATION MIN', 'OVER-CAPACITY MIN', 'P95 MIN', 'SCALE UP/DOWN', 'REVERSALS', 'MIN AT MAX', 'PEAK', 'MEAN UTIL %', 'VS BOUND'];

/** One row per policy, then the clairvoyant bound. */
export function policyRows(s: ServiceRun): Array<Array<string | number>> {
  const rows: Array<Array<string | number>> = s.results.map((r) => [
    r.policy,
    num(r.score.replicaHours),
    num(r.score.cost, 2),
    num(r.score.violationMinutes, 2),
    num(r.score.overCapacityMinutes, 2),
    s.slo.p95Seconds !== undefined ? num(r.score.latencyMinutes, 2) : '-',
    `${r.score.scaleUps}/${r.score.scaleDowns}`,
    r.score.reversals,
    num(r.score.minutesAtMax, 2),
    r.score.peakReplicas,
    num(r.score.meanUtilization),
    pct(r.vsBound.extraReplicaHoursPct),
  ]);
  rows.push(['clairvoyant bound', num(s.bound.replicaHours), num(s.bound.cost, 2), num(s.bound.violationMinutes, 2), '-', '-', '-', '-', '-', s.bound.peakReplicas, '-', '0%']);
  return rows;
}

function traceLines(s: ServiceRun): string[] {
  const t = s.trace;
  const lines = [
    `trace ${t.source}: ${t.samples} samples every ${formatDuration(t.intervalMs)}, ${new Date(t.start * 1000).toISOString()} .. ${new Date(t.end * 1000).toISOString()}, ${t.steps} steps of ${formatDuration(t.stepMs)}`,
  ];
  if (t.averagedSteps) lines.push(`  the trace is finer than the step: each of ${t.averagedSteps} step(s) is the mean of the samples in it`);
  if (t.problems.length) {
    lines.push(`  ${t.problems.length} bad row(s) left out:`);
    for (const p of t.problems.slice(0, 10)) lines.push(`    ${p.where}: ${p.problem}`);
    if (t.problems.length > 10) lines.push(`    ... ${t.problems.length - 10} more (all in -o json)`);
  }
  if (t.gaps.length) {
    lines.push(`  ${t.gaps.length} gap(s): ${t.heldSteps} step(s) held the last value, ${t.noDataSteps} step(s) no-data (not scored)`);
    for (const g of t.gaps.slice(0, 10)) {
      lines.push(`    ${new Date(g.after * 1000).toISOString()} .. ${new Date(g.before * 1000).toISOString()}: ${g.missingSamples} sample(s) missing, ${g.heldSteps} held, ${g.noDataSteps} no-data`);
    }
    if (t.gaps.length > 10) lines.push(`    ... ${t.gaps.length - 10} more (all in -o json)`);
    lines.push(`  gaps: ${t.treatment}`);
  } else if (t.noDataSteps) {
    lines.push(`  ${t.noDataSteps} step(s) without data (not scored)`);
  }
  return lines;
}

export function workloadLine(s: ServiceRun): string {
  const w = s.workload;
  const parts = [
    `capacity ${num(w.capacityPerReplica, 2)} rps/replica (${w.capacitySource})`,
    `start-up ${formatDuration(w.startupDelayMs)} + readiness ${formatDuration(w.readinessDelayMs)}`,
    `SLO: utilization <= ${num(s.slo.maxUtilization * 100)}%${s.slo.p95Seconds !== undefined ? `, p95 <= ${num(s.slo.p95Seconds * 1000, 0)}ms` : ''}`,
  ];
  if (w.latency) parts.push(`p95 model ${num(w.latency.baseSeconds * 1000, 0)}ms/(1-u), at most ${num(w.latency.fullSeconds * 1000, 0)}ms`);
  if (s.costPerReplicaHour !== null) parts.push(`cost ${s.costPerReplicaHour}/replica-hour`);
  return parts.join('; ');
}

/** The terminal view. */
/** Shared budgets and verification in one run (guarded replay), one line each. */
export function guardLines(res: SimResult): string[] {
  const g = res.guard;
  if (!g) return [];
  const out: string[] = [];
  const peaks = Object.entries(g.budgetPeaks).map(([b, p]) => `${b} peaked at ${num(p.used)} of ${num(p.usable)} usable`);
  if (peaks.length || g.budgetCappedSteps) out.push(`budgets: ${[...peaks, `capped ${g.budgetCappedSteps} step(s)`].join(', ')}${g.firstBudgetCap ? `; first: ${g.firstBudgetCap}` : ''}`);
  if (g.verifications || g.rollbacks) out.push(`verification: ${g.verifications} change(s) verified, ${g.rollbacks} rolled back${g.firstRollback ? `; first: ${g.firstRollback}` : ''}`);
  return out;
}

export function renderText(r: SimulationReport): string {
  const out: string[] = [];
  for (const s of r.services) {
    out.push(`service ${s.service}`);
    out.push(...traceLines(s));
    out.push(`  ${workloadLine(s)}`);
    const bound = s.bindings.filter((b) => b.signal).map((b) => `${b.metric}<-${b.signal}${b.perPod ? ' (per replica)' : ''}`);
    if (bound.length) out.push(`  metrics fed from the model: ${bound.join(', ')}`);
    for (const n of s.notes) out.push(`  note: ${n}`);
    if (s.holdout) out.push(`  held out: the last ${num(s.holdout.fraction * 100)}% (from ${new Date(s.holdout.from * 1000).toISOString()}); every row and the bound score only that part, replayed with the history before it${s.holdout.tunedOnSteps ? '; tuning saw only the part before it' : ''}`);
    out.push('');
    out.push(table([HEADER, ...policyRows(s)]));
    for (const res of s.results) {
      if (res.decisionErrors.count) out.push(`  ${res.policy}: ${res.decisionErrors.count} decision(s) at steps with data reported errors; first: ${res.decisionErrors.first}`);
      for (const l of guardLines(res)) out.push(`  ${res.policy}: ${l}`);
    }
    if (s.tune) out.push(...tuneLines(s));
    out.push('');
  }
  return out.join('\n');
}

function tuneLines(s: ServiceRun): string[] {
  const t = s.tune!;
  const out = ['', `tuning (${t.mode} search, ${t.evaluated} of ${t.space} candidates simulated):`];
  const b = t.best.result.score;
  const c = t.configured.result.score;
  out.push(t.meetsSlo
    ? `  cheapest policy with zero SLO-violation minutes: ${num(b.replicaHours)} replica-hours${b.cost !== null ? `, cost ${num(b.cost, 2)}` : ''} (configured: ${num(c.replicaHours)} replica-hours, ${num(c.violationMinutes, 2)} violation min; bound ${num(s.bound.replicaHours)})`
    : `  no candidate met the SLO at every step; fewest violation minutes: ${num(b.violationMinutes, 2)} (configured: ${num(c.violationMinutes, 2)}), ${num(b.replicaHours)} replica-hours`);
  if (t.warmupSteps) out.push(`  the first ${t.warmupSteps} steps were replayed for the forecaster's history and not scored`);
  if (t.margin && t.margin.checks.length) {
    const m = t.margin;
    const last = m.checks[m.checks.length - 1]!;
    const pct = (s: number) => `${num((s - 1) * 100, 0)}%`;
    out.push(`  margin: chosen on the first quarter, half and three quarters of the tuning steps, ${m.checks.map((c) => `${c.slack === 1 ? 'no spare' : `${pct(c.slack)} spare`} → ${num(c.laterViolationMinutes, 2)} violation min after`).join(', ')}; ${last.laterViolationMinutes === 0 ? '' : 'none stayed safe, so the most tried is kept: '}the winner keeps ${m.required === 1 ? 'within the SLO' : `${pct(m.required)} spare capacity`} at every tuning step (${m.kept} candidates do)${shrinkNote(m)}`);
  }
  if (t.closestSlack !== undefined && t.meetsSlo) out.push(`  closest call: at its tightest scored step the winner had ${num(Math.max(0, t.closestSlack - 1) * 100, 1)}% spare capacity at the SLO's limit; zero violation minutes on this trace is no promise for traffic it has not seen (see margin and robustness)`);
  const ch = t.churn;
  if (ch.maxScaleUpsPerDay !== undefined) out.push(`  churn: at most ${ch.maxScaleUpsPerDay} scale-ups a day; the winner makes ${num(ch.winnerScaleUpsPerDay, 1)}${ch.kept ? '' : ', over the limit: no candidate simulated kept to it'} (configured: ${num(ch.configuredScaleUpsPerDay, 1)})`);
  else out.push(`  churn: the winner makes ${num(ch.winnerScaleUpsPerDay, 1)} scale-ups a day (configured: ${num(ch.configuredScaleUpsPerDay, 1)}); --tune-max-scale-ups N ranks candidates making more after the rest`);
  const rb = t.robustness;
  if (rb) {
    const allowed = rb.stresses.map((x, i) => (rb.allowedMinutes[i] ? `${x}: ${num(rb.allowedMinutes[i]!, 2)} min allowed` : '')).filter(Boolean);
    out.push(`  robustness: ${rb.checked === 1 ? 'the cheapest candidate' : `${rb.checked} cheapest candidates`} replayed with ${rb.stresses.join(', ')}${allowed.length ? ` (${allowed.join('; ')}, the first steps of each surge, which no policy without that much spare meets)` : ''}; the winner ${rb.robust ? 'stays safe under each' : `is the least violating (${rb.winnerViolationMinutes.map((m) => num(m, 2)).join(' / ')} min beyond what is allowed)`}`);
  }
  for (const [k, v] of Object.entries(t.best.params)) out.push(`    ${k}: ${v}`);
  out.push('', '  winning config:', ...t.snippet.trimEnd().split('\n').map((l) => `    ${l}`), '', '  top candidates:');
  out.push(table([
    ['#', ...t.params.map((p) => p.name.toUpperCase()), 'VIOLATION MIN', 'REPLICA-HOURS', 'SCALE EVENTS', 'REVERSALS'],
    ...t.top.map((cand, i) => [i + 1, ...t.params.map((p) => cand.params[p.name]!), cand.result.stoppedAt !== undefined ? `${num(cand.result.score.violationMinutes, 2)}+ (stopped)` : num(cand.result.score.violationMinutes, 2), cand.result.stoppedAt !== undefined ? '-' : num(cand.result.score.replicaHours), cand.result.score.scaleUps + cand.result.score.scaleDowns, cand.result.score.reversals]),
  ]).split('\n').map((l) => `  ${l}`).join('\n'));
  return out;
}

/**
 * Plain data for -o json|yaml: typed arrays become lists and non-finite numbers null; per-step arrays only with
 * `timeline`; tuning candidates as their parameters and scores (the winner's config is in the snippet).
 */
export function toMachine(r: SimulationReport, opts: { timeline?: boolean } = {}): unknown {
  const view = {
    ...r,
    services: r.services.map(({ load, tune, ...s }) => ({
      ...s,
      ...(opts.timeline && load ? { load: { start: load.start / 1000, stepSeconds: load.stepMs / 1000, values: load.values } } : {}),
      bound: opts.timeline ? s.bound : { ...s.bound, replicas: undefined, needed: undefined },
      results: s.results.map(({ timeline, ...res }) => (opts.timeline ? { ...res, timeline } : res)),
      ...(tune ? {
        tune: {
          ...tune,
          configured: candidate(tune.configured),
          best: candidate(tune.best),
          top: tune.top.map(candidate),
        },
      } : {}),
    })),
  };
  return JSON.parse(JSON.stringify(view, (_k, v: unknown) => {
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, (x) => (Number.isFinite(x) ? x : null));
    if (typeof v === 'number' && !Number.isFinite(v)) return null;
    return v;
  }));
}

function candidate(c: TuneResult['best']): { params: Record<string, string>; score: TuneResult['best']['result']['score'] } {
  return { params: c.params, score: c.result.score };
}

/** At most this many points per chart series; longer runs show the bucket's max (demand, replicas) or min (ready). */
const MAX_POINTS = 3000;

function bucketed(n: number): { size: number; count: number } {
  const size = Math.max(1, Math.ceil(n / MAX_POINTS));
  return { size, count: Math.ceil(n / size) };
}

function reduce(values: ArrayLike<number>, size: number, count: number, pick: 'max' | 'min', scale = 1): Array<number | null> {
  const out: Array<number | null> = new Array(count);
  for (let b = 0; b < count; b++) {
    let acc: number | null = null;
    for (let i = b * size; i < Math.min(values.length, (b + 1) * size); i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      acc = acc === null ? v : pick === 'max' ? Math.max(acc, v) : Math.min(acc, v);
    }
    out[b] = acc === null ? null : acc * scale;
  }
  return out;
}

function serviceCharts(s: ServiceRun): { charts: ReportChart[]; note?: string } {
  const first = s.results[0]?.timeline;
  if (!first) return { charts: [] };
  const n = first.t.length;
  const { size, count } = bucketed(n);
  const x = Array.from({ length: count }, (_, b) => first.t[b * size]!);
  const cap = s.workload.capacityPerReplica;
  const load = reduce(first.load, size, count, 'max');
  const charts: ReportChart[] = [
    {
      title: `${s.service}: demand vs ready capacity`,
      x,
      series: [
        { label: 'demand', values: load, unit: 'rps' },
        ...s.results.map((r): ReportSeries => ({ label: `ready capacity (${r.policy})`, values: reduce(r.timeline!.ready, size, count, 'min', cap), unit: 'rps', step: true })),
      ],
    },
    {
      title: `${s.service}: replicas`,
      x,
      series: [
        ...s.results.flatMap((r): ReportSeries[] => [
          { label: `desired (${r.policy})`, values: reduce(r.timeline!.desired, size, count, 'max'), unit: 'replicas', step: true },
          { label: `ready (${r.policy})`, values: reduce(r.timeline!.ready, size, count, 'min'), unit: 'replicas', step: true },
        ]),
        ...(s.bound.replicas ? [{ label: 'clairvoyant bound', values: reduce(s.bound.replicas, size, count, 'max'), unit: 'replicas', step: true }] : []),
      ],
    },
    {
      title: `${s.service}: utilization of ready capacity`,
      x,
      series: [
        ...s.results.map((r): ReportSeries => ({ label: r.policy, values: reduce(r.timeline!.utilization, size, count, 'max'), unit: '%' })),
        { label: 'SLO limit', values: x.map(() => s.slo.maxUtilization * 100), unit: '%' },
      ],
    },
  ];
  if (s.workload.latency) {
    charts.push({
      title: `${s.service}: modelled p95`,
      x,
      series: [
        ...s.results.map((r): ReportSeries => ({ label: r.policy, values: reduce(r.timeline!.p95, size, count, 'max', 1000), unit: 'ms' })),
        ...(s.slo.p95Seconds !== undefined ? [{ label: 'SLO p95', values: x.map(() => s.slo.p95Seconds! * 1000), unit: 'ms' }] : []),
      ],
    });
  }
  return { charts, ...(size > 1 ? { note: `${s.service}: charts show ${size}-step buckets (max of demand, replicas and utilization; min of ready)` } : {}) };
}

/** The HTML report (--report out.html). Needs the run made with timeline on. */
export function renderHtml(r: SimulationReport): string {
  const charts: ReportChart[] = [];
  const tables: ReportTable[] = [];
  const notes: string[] = [];
  const summary: Array<[string, string]> = [];
  for (const s of r.services) {
    const c = serviceCharts(s);
    charts.push(...c.charts);
    if (c.note) notes.push(c.note);
    const base = s.results[0]!;
    summary.push(
      [`${s.service}: replica-hours`, `${num(base.score.replicaHours)} (bound ${num(s.bound.replicaHours)})`],
      [`${s.service}: SLO-violation minutes`, num(base.score.violationMinutes, 2)],
      [`${s.service}: scale events`, `${base.score.scaleUps} up / ${base.score.scaleDowns} down, ${base.score.reversals} reversals`],
    );
    if (base.score.cost !== null) summary.push([`${s.service}: cost`, num(base.score.cost, 2)]);
    if (base.guard) {
      const peaks = Object.entries(base.guard.budgetPeaks).map(([b, p]) => `${b} ${num(p.used)} of ${num(p.usable)}`);
      if (peaks.length) summary.push([`${s.service}: budget peak`, `${peaks.join(', ')} (capped ${base.guard.budgetCappedSteps} steps)`]);
      if (base.guard.verifications || base.guard.rollbacks) summary.push([`${s.service}: verification`, `${base.guard.verifications} verified, ${base.guard.rollbacks} rolled back`]);
      notes.push(...guardLines(base).map((l) => `${s.service}: ${l}`));
    }
    tables.push({ title: `${s.service}: policies vs the clairvoyant bound`, header: HEADER, rows: policyRows(s) });
    if (s.trace.gaps.length) {
      tables.push({
        title: `${s.service}: trace gaps`,
        header: ['after', 'before', 'missing samples', 'held steps', 'no-data steps'],
        rows: s.trace.gaps.map((g) => [new Date(g.after * 1000).toISOString(), new Date(g.before * 1000).toISOString(), g.missingSamples, g.heldSteps, g.noDataSteps]),
      });
    }
    if (s.trace.problems.length) {
      tables.push({ title: `${s.service}: bad rows left out`, header: ['where', 'problem'], rows: s.trace.problems.map((p) => [p.where, p.problem]) });
    }
    if (s.tune) {
      const t = s.tune;
      tables.push({
        title: `${s.service}: tuning, top candidates (${t.mode} search, ${t.evaluated} of ${t.space})`,
        header: ['#', ...t.params.map((p) => p.name), 'violation min', 'replica-hours', 'scale events', 'reversals'],
        rows: t.top.map((c, i) => [i + 1, ...t.params.map((p) => c.params[p.name]!), num(c.result.score.violationMinutes, 2), num(c.result.score.replicaHours), c.result.score.scaleUps + c.result.score.scaleDowns, c.result.score.reversals]),
      });
      notes.push(`${s.service}: winning config:\n${t.snippet}`);
    }
    notes.push(`${s.service}: ${workloadLine(s)}`, ...s.notes.map((n) => `${s.service}: ${n}`), `${s.service}: gaps: ${s.trace.treatment}`);
  }
  return renderHtmlReport({
    title: `scalepilot simulate: ${r.services.map((s) => s.service).join(', ')}`,
    subtitle: `${r.config} replayed with ${r.trace}`,
    summary,
    tables,
    charts,
    notes,
  });
}

/** What the margin line says of the spare capacity the walk-forward choices lost on the traffic after them. */
export function shrinkNote(m: SlackCalibration): string {
  if (!(m.shrink > 1.0005)) return '';
  const by = `on the traffic after them the checked choices' spare capacity fell by up to ×${num(m.shrink, 3)}`;
  return m.strict ? `; ${by}, and the winner keeps that as well (${m.strictBecause ?? '--tune-strict'})` : `; ${by}: --tune-strict keeps that as well, for more replica-hours`;
}
