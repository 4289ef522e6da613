// `simulate` as a library call: config + trace (+ compared policies, + tuning) → one report object that the CLI
// prints as a table, JSON or HTML. All I/O happens here, before any simulation; simulations run in workers.
import { MAX_CONFIG_BYTES, readFileBounded } from '../bounded-read.js';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig, parseConfig, type Config, type ServicePolicy } from '../config/load.js';
import { ConfigError, type ConfigIssue } from '../config/errors.js';
import { InputError } from '../errors.js';
import { formatDuration } from '../core/duration.js';
import type { ParsedTrace } from '../metrics/trace.js';
import { alignTrace, describeProblem, type AlignReport } from './align.js';
import { readTrace, seriesFor, type TraceInput } from './input.js';
import { resolveSetup, startReplicas, type CapacityMeasurement } from './setup.js';
import { clairvoyantBound, distanceFromBound, type VsBound } from './bound.js';
import { simulateMany, SimPool } from './pool.js';
import { shortTuningNote, tunePolicy, type TuneResult } from './tune.js';
import { simulateGuarded } from './guarded.js';
import type { Bound, LoadKind, LoadSeries, MetricBinding, Signal, SimResult, SimSetup, SloParams, WorkloadParams } from './types.js';
import { readCapacityFile } from '../loadtest/capacity.js';
import { own } from '../own.js';

export interface SimulateRequest {
  configFile: string;
  service?: string;
  trace: TraceInput;
  /** --series: which series of the trace (one service only) */
  series?: string;
  traceKind?: LoadKind;
  /** replicas running when a utilization trace was recorded */
  recordedReplicas?: number;
  /** simulation step; default each service's syncPeriod */
  stepMs?: number;
  /** crop the trace to [start, end) (epoch ms) */
  start?: number;
  end?: number;
  /** config files (full scalepilot.yaml or one service's block) to compare with the config */
  compare?: string[];
  tune?: { budget?: number; maxScaleUpsPerDay?: number; strict?: boolean };
  /**
   * Fraction (0..1) at the end of the trace held out: tuning sees only the part before it, and every policy
   * (and the tuned winner) is scored on the held-out part, replayed with the history before it.
   */
  holdout?: number;
  metricSignals?: Record<string, Signal>;
  initialReplicas?: number;
  workers?: number;
  /** keep per-step arrays (report charts, --timeline) */
  timeline?: boolean;
  /** the most steps a replay may take (default MAX_REPLAY_STEPS), and what holds it to that, for the message */
  maxSteps?: { steps: number; why: string };
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface ServiceRun {
  service: string;
  trace: AlignReport;
  traceKind: LoadKind;
  workload: WorkloadParams;
  slo: SloParams;
  costPerReplicaHour: number | null;
  bindings: MetricBinding[];
  notes: string[];
  initialReplicas: number;
  maxReplicas: number;
  results: Array<SimResult & { vsBound: VsBound }>;
  bound: Bound;
  tune?: TuneResult;
  /** with --holdout: results and the bound cover only steps from `fromStep` (unix seconds `from`) on */
  holdout?: { fraction: number; fromStep: number; from: number; tunedOnSteps: number };
  /** the replayed demand (only with timeline) */
  load?: LoadSeries;
}

export interface SimulationReport {
  config: string;
  trace: string;
  services: ServiceRun[];
}

function configError(e: unknown): never {
  if (e instanceof ConfigError) throw new InputError(e.message);
  throw e;
}

function shiftIssues(e: ConfigError, lines: number, cols: number): ConfigError {
  return new ConfigError(e.issues.map((i): ConfigIssue => ({
    ...i,
    ...(i.line !== undefined ? { line: Math.max(1, i.line - lines) } : {}),
    ...(i.col !== undefined ? { col: Math.max(1, i.col - cols) } : {}),
    path: i.path.replace(/^services\.[^.]+\.?/, ''),
  })));
}

/**
 * A policy to compare: a whole scalepilot.yaml (the service of the same name, or its only service), or just one
 * service's block (target, minReplicas, hpa, ...), read with the base config's sources.
 */
export function loadVariant(file: string, service: string, base: Config): ServicePolicy {
  let text: string;
  try {
    text = readFileBounded(file, MAX_CONFIG_BYTES);
  } catch (e) {
    throw new InputError(`--compare ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    doc = undefined; // parseConfig reports it with its line
  }
  const isWhole = doc !== null && typeof doc === 'object' && 'services' in (doc as object);
  if (isWhole) {
    let cfg: Config;
    try {
      cfg = parseConfig(text, file);
    } catch (e) {
      configError(e);
    }
    const names = Object.keys(cfg.services);
    const p = own(cfg.services, service) ?? (names.length === 1 ? cfg.services[names[0]!] : undefined);
    if (!p) throw new InputError(`--compare ${file}: has no service ${service} (it has ${names.join(', ')})`);
    return { ...p, name: service, target: { ...p.target, service } };
  }
  // One service's block: placed under the base config's sources, error lines shifted back to the file's own.
  const indented = text.split('\n').map((l) => (l.length ? `    ${l}` : l)).join('\n');
  const wrapped = `sources: ${JSON.stringify(base.sources)}\nservices:\n  ${service}:\n${indented}`;
  try {
    return parseConfig(wrapped, file).services[service]!;
  } catch (e) {
    if (e instanceof ConfigError) throw new InputError(shiftIssues(e, 3, 4).message);
    throw e;
  }
}

function traceSourceNames(cfg: Config): Set<string> {
  return new Set(Object.entries(cfg.sources).filter(([, s]) => s.type === 'trace').map(([n]) => n));
}

function capacityFor(p: ServicePolicy, configFile: string): CapacityMeasurement | undefined {
  const f = p.capacity?.file;
  if (f === undefined || p.capacity?.rpsPerReplica !== undefined) return undefined;
  const path = isAbsolute(f) ? f : resolve(dirname(configFile), f);
  try {
    const c = readCapacityFile(path);
    return { rpsPerReplica: c.rpsPerReplica, source: `services.${p.name}.capacity.file (${path}, measured ${c.measuredAt})` };
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`services.${p.name}.capacity.file: ${e.message}`);
    throw e;
  }
}

function traceName(t: TraceInput): string {
  return t.kind === 'file' ? t.file : `${t.url} ${t.query}`;
}

/** Runs simulate (and compare / tune when asked) for the chosen services. Throws InputError on bad input. */
export async function runSimulation(req: SimulateRequest): Promise<SimulationReport> {
  let cfg: Config;
  try {
    cfg = loadConfig(req.configFile);
  } catch (e) {
    configError(e);
  }
  const allNames = Object.keys(cfg.services);
  if (req.service !== undefined && !own(cfg.services, req.service)) {
    throw new InputError(`--service ${req.service}: ${req.configFile} has no such service; it has ${allNames.join(', ')}`);
  }
  const trace: ParsedTrace = await readTrace(req.trace);
  let names: string[];
  if (req.service !== undefined) names = [req.service];
  else if (allNames.length === 1) names = allNames;
  else {
    names = allNames.filter((n) => trace.series.has(n));
    if (names.length === 0) {
      throw new InputError(`${trace.file}: no series is named after a service of ${req.configFile} (${allNames.join(', ')}); choose one with --service NAME (and --series if needed)`);
    }
  }
  if (req.series !== undefined && names.length > 1) throw new InputError('--series picks one series: use it with --service');
  const kind: LoadKind = req.traceKind ?? 'rps';
  if (kind === 'utilization' && !(req.recordedReplicas && req.recordedReplicas > 0)) {
    throw new InputError('--trace-kind utilization: add --recorded-replicas N (how many replicas were running when the utilization was recorded), so demand can be rebuilt as utilization x N x capacity');
  }
  const problems = trace.problems.filter((p) => p.kind === 'row').map((p) => describeProblem(trace.file, p));
  const traceSources = traceSourceNames(cfg);

  interface Prepared {
    run: ServiceRun;
    load: LoadSeries;
    variants: Array<{ label: string; policy: ServicePolicy; setup: SimSetup }>;
  }
  const prepared: Prepared[] = [];
  for (const name of names) {
    const configured = cfg.services[name]!;
    const series = seriesFor(trace, name, req.series);
    const stepMs = req.stepMs ?? configured.syncPeriodMs;
    // decide() assumes one sync per syncPeriod (forecast steps count syncs): the replayed controller syncs every step.
    const atStep = (p: ServicePolicy): ServicePolicy => (p.syncPeriodMs === stepMs ? p : { ...p, syncPeriodMs: stepMs });
    const policy = atStep(configured);
    let aligned;
    try {
      aligned = alignTrace(series, {
        stepMs,
        source: trace.series.size > 1 || series.name !== 'value' ? `${trace.file} (series ${series.name})` : trace.file,
        problems,
        ...(req.maxSteps ? { maxSteps: req.maxSteps } : {}),
        ...(req.start !== undefined ? { start: req.start } : {}),
        ...(req.end !== undefined ? { end: req.end } : {}),
      });
    } catch (e) {
      throw new InputError((e as Error).message);
    }
    const resolveFor = (p: ServicePolicy, firstLoad: number | undefined, file: string) => {
      const capFile = capacityFor(p, file);
      return resolveSetup(p, traceSources, {
        ...(capFile ? { capacityFile: capFile } : {}),
        ...(req.metricSignals ? { metricSignals: req.metricSignals } : {}),
        ...(req.initialReplicas !== undefined ? { initialReplicas: req.initialReplicas } : {}),
        ...(firstLoad !== undefined ? { firstLoad } : {}),
        utilizationTrace: kind === 'utilization',
        timeline: req.timeline ?? false,
      });
    };
    const firstValue = () => aligned.series.values.find((v) => v >= 0);
    let base = resolveFor(policy, kind === 'rps' ? firstValue() : undefined, req.configFile);
    if (kind === 'utilization') {
      // demand in rps of this service's capacity: utilization x recorded replicas x capacity per replica
      const f = (req.recordedReplicas! * base.setup.workload.capacityPerReplica) / 100;
      const v = aligned.series.values;
      for (let i = 0; i < v.length; i++) v[i] = v[i]! * f;
      base = resolveFor(policy, firstValue(), req.configFile);
      base.notes.push(`utilization trace: demand = utilization x ${req.recordedReplicas} recorded replicas x ${base.setup.workload.capacityPerReplica} rps per replica`);
    }
    if (stepMs !== configured.syncPeriodMs) base.notes.push(`the controller is replayed syncing every ${formatDuration(stepMs)} (--step), not every ${formatDuration(configured.syncPeriodMs)} (syncPeriod)`);
    const label = basename(req.configFile);
    const variants = [{ label, policy, setup: base.setup }];
    for (const f of req.compare ?? []) {
      const vp = atStep(loadVariant(f, name, cfg));
      const vs = resolveFor(vp, firstValue(), f).setup;
      if (vs.workload.capacityPerReplica !== base.setup.workload.capacityPerReplica || vs.slo.maxUtilization !== base.setup.slo.maxUtilization) {
        base.notes.push(`${basename(f)} sets a different capacity or SLO than ${label}; the bound and distances use ${label}'s`);
      }
      variants.push({ label: variants.some((v) => v.label === basename(f)) ? f : basename(f), policy: vp, setup: vs });
    }
    prepared.push({
      load: aligned.series,
      variants,
      run: {
        service: name,
        trace: aligned.report,
        traceKind: kind,
        workload: base.setup.workload,
        slo: base.setup.slo,
        costPerReplicaHour: base.setup.costPerReplicaHour ?? null,
        bindings: base.setup.bindings,
        notes: base.notes,
        initialReplicas: base.setup.initialReplicas,
        maxReplicas: policy.maxReplicas,
        results: [],
        bound: { replicaHours: 0, cost: null, violationMinutes: 0, peakReplicas: 0 },
        ...(req.timeline ? { load: aligned.series } : {}),
      },
    });
  }

  // Every service × policy in one batch over the workers; results come back in task order.
  const splitOf = (p: Prepared) => (req.holdout !== undefined ? Math.floor(p.load.values.length * (1 - req.holdout)) : 0);
  if (req.holdout !== undefined && !(req.holdout > 0 && req.holdout < 1)) throw new InputError(`--holdout ${req.holdout}: must be between 0% and 100% (e.g. 50%)`);
  const tasks = prepared.flatMap((p) => p.variants.map((v) => ({ policy: v.policy, setup: v.setup, load: p.load, label: v.label, ...(req.holdout !== undefined ? { scoreFrom: splitOf(p) } : {}) })));
  const pool = new SimPool(req.workers ?? undefined);
  try {
    const run = (n: number, make: (i: number) => (typeof tasks)[number], phase: string) =>
      (req.workers !== undefined && req.workers <= 1) || n === 1
        ? simulateMany(n, make, { workers: 1, onProgress: (d, t) => req.onProgress?.(phase, d, t) })
        : pool.run(n, make, (d, t) => req.onProgress?.(phase, d, t));
    // services sharing budgets or verifying changes replay together, per policy variant (sim/guarded.ts)
    const guarded = tasks.map((t, i) => (t.policy.uses || t.policy.verify ? i : -1)).filter((i) => i >= 0);
    const plain = tasks.map((_, i) => i).filter((i) => !guarded.includes(i));
    const results: SimResult[] = new Array(tasks.length);
    if (plain.length) (await run(plain.length, (i) => tasks[plain[i]!]!, 'simulate')).forEach((r, j) => (results[plain[j]!] = r));
    for (const label of new Set(guarded.map((i) => tasks[i]!.label))) {
      const idx = guarded.filter((i) => tasks[i]!.label === label);
      simulateGuarded(idx.map((i) => tasks[i]!), cfg.budgets).forEach((r, j) => (results[idx[j]!] = r));
    }
    const live = Object.values(cfg.budgets ?? {}).filter((b) => b.limitFrom);
    for (const p of prepared) {
      for (const b of live) if (p.variants[0]!.policy.uses?.[b.name] !== undefined) p.run.notes.push(`budget ${b.name} reads its limit live (${b.limitFrom!.source}: ${b.limitFrom!.query}); a replay has no live source, so it is left out: give it a static limit to replay it`);
    }
    let at = 0;
    for (const p of prepared) {
      const first = p.variants[0]!;
      const split = splitOf(p);
      const scored: LoadSeries = split ? { ...p.load, start: p.load.start + split * p.load.stepMs, values: p.load.values.slice(split) } : p.load;
      const tuneOn: LoadSeries = split ? { ...p.load, values: p.load.values.slice(0, split) } : p.load;
      const bound = clairvoyantBound(scored, first.setup, first.policy.maxReplicas, req.timeline ?? false);
      p.run.bound = bound;
      p.run.results = p.variants.map(() => results[at++]!).map((r) => ({ ...r, vsBound: distanceFromBound(r.score, bound) }));
      if (split) p.run.holdout = { fraction: req.holdout!, fromStep: split, from: scored.start / 1000, tunedOnSteps: req.tune ? split : 0 };
      if (req.tune) {
        const guards = [
          ...(first.policy.uses ? [`its shared budget(s) ${Object.keys(first.policy.uses).join(', ')}`] : []),
          ...(first.policy.verify ? ['verification after each change'] : []),
        ];
        if (guards.length) p.run.notes.push(`--tune scores candidates on this service alone, without ${guards.join(' or ')}: the winner can be capped or rolled back where the search assumed not; replay the tuned snippet with \`simulate\` (without --tune) to see it under both`);
        const tuneBound = split ? clairvoyantBound(tuneOn, first.setup, first.policy.maxReplicas) : bound;
        const demand = first.setup.bindings.find((b) => b.signal === 'rps' && !b.perPod);
        p.run.tune = await tunePolicy(first.policy, first.setup, tuneOn, {
          ...(demand ? { demandMetric: demand.metric } : {}),
          ...(req.tune.budget !== undefined ? { budget: req.tune.budget } : {}),
          ...(req.tune.maxScaleUpsPerDay !== undefined ? { maxScaleUpsPerDay: req.tune.maxScaleUpsPerDay } : {}),
          ...(req.tune.strict !== undefined ? { strict: req.tune.strict } : {}),
          ...(req.workers !== undefined && req.workers <= 1 ? { workers: 1 } : { pool }),
          // a floor above the most replicas the traffic ever needs only costs more
          maxUsefulMinReplicas: Math.max(tuneBound.peakReplicas, first.policy.minReplicas),
          initialReplicas: req.initialReplicas !== undefined
            ? () => req.initialReplicas!
            : (c, firstLoad) => startReplicas(c, first.setup.workload, first.setup.slo, firstLoad),
          onProgress: (d, t) => req.onProgress?.(`tune ${p.run.service}`, d, t),
        });
        const short = shortTuningNote(tuneOn.values.length * tuneOn.stepMs);
        if (short) p.run.notes.push(short);
        if (split) {
          // the winner replayed over the whole trace and scored on the held-out part only
          const best = p.run.tune.best.policy;
          const setup = { ...first.setup, ...(req.initialReplicas === undefined ? { initialReplicas: startReplicas(best, first.setup.workload, first.setup.slo, p.load.values.find((v) => v >= 0)) } : {}) };
          const [r] = await run(1, () => ({ policy: best, setup, load: p.load, label: 'tuned (held out)', scoreFrom: split }), 'held-out check');
          p.run.results.push({ ...r!, vsBound: distanceFromBound(r!.score, bound) });
        }
      }
    }
  } finally {
    await pool.close();
  }
  return { config: req.configFile, trace: traceName(req.trace), services: prepared.map((p) => p.run) };
}
