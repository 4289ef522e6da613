// What every replay path shares once its loop is done: the per-step timeline arrays and the SimResult built from
// the counters the loop kept, so the general replay and the replay kernel report through the same code.
import type { PartScore, Score, SimResult, SimSetup, Timeline } from './types.js';
import { sloUtilizationLimit } from './workload.js';

export function newTimeline(n: number): Timeline {
  return {
    t: new Float64Array(n),
    load: new Float64Array(n),
    desired: new Int32Array(n),
    replicas: new Int32Array(n),
    ready: new Int32Array(n),
    utilization: new Float64Array(n),
    p95: new Float64Array(n),
    flags: new Uint8Array(n),
  };
}

/** The counters a replay keeps over its scored steps. */
export interface Tally {
  scored: number;
  noData: number;
  overSteps: number;
  slowSteps: number;
  violationSteps: number;
  replicaSteps: number;
  atMaxSteps: number;
  peak: number;
  utilSum: number;
  utilSteps: number;
  utilMax: number;
  scaleUps: number;
  scaleDowns: number;
  reversals: number;
  errorCount: number;
  noDataErrors: number;
  firstError: string | undefined;
  resizes: number;
}

export interface ResultContext {
  service: string;
  label: string | undefined;
  setup: SimSetup;
  /** steps in the load series */
  n: number;
  stepMs: number;
  scoreFrom: number;
}

/**
 * The scored steps cut at each index of `at` (ascending), each part scored apart with the least spare capacity it saw
 * (SimulateOptions.splitAt): both replay paths call add() at every scored step with data.
 */
export class SplitTally {
  readonly parts: PartScore[];
  private readonly limit: number;

  constructor(readonly at: readonly number[], setup: SimSetup, private readonly capacityPerReplica: number) {
    this.limit = sloUtilizationLimit(setup.workload, setup.slo);
    this.parts = Array.from({ length: at.length + 1 }, () => ({ scoredSteps: 0, violationSteps: 0, replicaSteps: 0, minSlack: Number.POSITIVE_INFINITY }));
  }

  add(k: number, demand: number, ready: number, replicas: number, violated: boolean): void {
    let j = 0;
    while (j < this.at.length && k >= this.at[j]!) j++;
    const p = this.parts[j]!;
    p.scoredSteps++;
    p.replicaSteps += replicas;
    if (violated) p.violationSteps++;
    if (demand > 0) {
      const slack = ready > 0 ? (this.limit * ready * this.capacityPerReplica) / demand : 0;
      if (slack < p.minSlack) p.minSlack = slack;
    }
  }
}

export function simResult(c: ResultContext, t: Tally, tl: Timeline | undefined, stoppedAt: number | undefined, split?: SplitTally): SimResult {
  const { n, stepMs, scoreFrom, setup } = c;
  const stepMin = stepMs / 60_000;
  const replicaHours = (t.replicaSteps * stepMs) / 3_600_000;
  const score: Score = {
    steps: n - Math.min(n, scoreFrom),
    scoredSteps: t.scored,
    noDataSteps: t.noData,
    violationMinutes: t.violationSteps * stepMin,
    overCapacityMinutes: t.overSteps * stepMin,
    latencyMinutes: t.slowSteps * stepMin,
    replicaHours,
    cost: setup.costPerReplicaHour !== undefined ? replicaHours * setup.costPerReplicaHour : null,
    scaleUps: t.scaleUps,
    scaleDowns: t.scaleDowns,
    reversals: t.reversals,
    minutesAtMax: t.atMaxSteps * stepMin,
    peakReplicas: t.peak,
    meanReplicas: t.scored ? t.replicaSteps / t.scored : 0,
    meanUtilization: t.utilSteps ? (t.utilSum / t.utilSteps) * 100 : 0,
    maxUtilization: t.utilMax * 100,
  };
  return {
    service: c.service,
    policy: c.label ?? 'config',
    score,
    decisionErrors: { count: t.errorCount, atNoData: t.noDataErrors, ...(t.firstError !== undefined ? { first: t.firstError } : {}) },
    resizes: t.resizes,
    ...(tl ? { timeline: tl } : {}),
    ...(stoppedAt !== undefined ? { stoppedAt } : {}),
    ...(split ? { parts: split.parts } : {}),
  };
}
