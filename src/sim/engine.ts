// One service replayed through its policy: each step the workload is observed as the controller would observe it
// (the same Observation its buildObservation makes), decide() is called exactly as the controller calls it, and
// the decision is acted on in the workload model. Scores accumulate in the loop so batch runs keep no per-step arrays.
// Policies the replay kernel covers (sim/kernel.ts) are replayed there instead, with the same result.
import type { ServicePolicy } from '../config/load.js';
import type { Decision, History, Observation } from '../core/types.js';
import { emptyHistory } from '../core/types.js';
import { appendSeries, decide as coreDecide, historyWindowMs, rememberDecision, rememberScale } from '../core/decide.js';
import { recordDemand } from '../core/predict.js';
import { parseQuantity } from '../core/quantity.js';
import { Workload, p95Of, sloFlags, utilizationOf } from './workload.js';
import type { LoadSeries, SimResult, SimSetup } from './types.js';
import { FLAG_NO_DATA, FLAG_OVER_CAPACITY, FLAG_SLOW } from './types.js';
import { SplitTally, newTimeline, simResult } from './result.js';
import { kernelPlan, simulateKernel } from './kernel.js';

export type DecideFn = (policy: ServicePolicy, obs: Observation, hist: History, now: number) => Decision;

/** Replay reads numbers only (replicas, errors, resize, state): decide() skips building its explanations. */
const UNEXPLAINED = { explain: false } as const;
const decideUnexplained: DecideFn = (p, o, h, now) => coreDecide(p, o, h, now, UNEXPLAINED);

function cpuCores(q: string | undefined): number | undefined {
  if (q === undefined) return undefined;
  try {
    return parseQuantity(q).milliValue() / 1000;
  } catch {
    return undefined;
  }
}

export interface SimulateOptions {
  /** name of the policy variant in results */
  label?: string;
  /** the decision function; the core's decide() unless measuring the simulator's own cost */
  decide?: DecideFn;
  /**
   * Score only steps from this index on: the steps before it are replayed (so the controller has their history,
   * as a live one would) but not counted. A held-out check tunes on the first part and scores the rest this way.
   */
  scoreFrom?: number;
  /**
   * Stop the replay once more violation minutes than this were scored (the score is then partial, and the result
   * says where it stopped): a tuner that already has a safe candidate needs no more of one that is not.
   */
  stopAfterViolationMinutes?: number;
  /**
   * Cut the scored steps at each of these indices (ascending) and score each part apart as well (SimResult.parts),
   * with the least spare capacity each part saw: a tuner calibrates how much margin its choice needs by choosing on
   * earlier parts and checking on later ones.
   */
  splitAt?: readonly number[];
  /**
   * false: always replay through decide() and the pod-level workload model. By default a policy the replay kernel
   * (sim/kernel.ts) covers is replayed by it, with the same result; a custom `decide` always takes the general path.
   */
  kernel?: boolean;
}

/** Replays `load` through `policy`. Pure apart from time spent: same inputs, same result, in any thread. */
export function simulateService(policy: ServicePolicy, setup: SimSetup, load: LoadSeries, opts: SimulateOptions = {}): SimResult {
  if (opts.kernel !== false && opts.decide === undefined) {
    const plan = kernelPlan(policy, setup);
    // null from the kernel: a step it leaves to the general path (the first error with data worded by the HPA or
    // by a read failing at that step only, totals beyond exact arithmetic); the service is then replayed here
    const r = plan ? simulateKernel(plan, policy, setup, load, opts) : null;
    if (r) return r;
  }
  return simulateGeneral(policy, setup, load, opts);
}

/** The general replay: the workload model's pods observed and decide() called every step, as the controller would. */
function simulateGeneral(policy: ServicePolicy, setup: SimSetup, load: LoadSeries, opts: SimulateOptions): SimResult {
  const decide = opts.decide ?? decideUnexplained;
  const n = load.values.length;
  const stepMs = load.stepMs;
  const w = new Workload(policy.name, setup.workload, setup.bindings, setup.initialReplicas, load.start, policy.resources);
  const hist = emptyHistory();
  const windowMs = historyWindowMs(policy);
  const tl = setup.timeline ? newTimeline(n) : undefined;
  const acts = !policy.paused;
  const scoreFrom = opts.scoreFrom ?? 0;
  const split = opts.splitAt !== undefined ? new SplitTally(opts.splitAt, setup, w.capacityPerReplica) : undefined;

  let scored = 0;
  let noData = 0;
  let overSteps = 0;
  let slowSteps = 0;
  let violationSteps = 0;
  let replicaSteps = 0;
  let atMaxSteps = 0;
  let peak = 0;
  let utilSum = 0;
  let utilSteps = 0;
  let utilMax = 0;
  let scaleUps = 0;
  let scaleDowns = 0;
  let reversals = 0;
  let lastDirection = 0;
  let errorCount = 0;
  let noDataErrors = 0;
  let firstError: string | undefined;
  let resizes = 0;
  const stopAfter = opts.stopAfterViolationMinutes ?? Number.POSITIVE_INFINITY;
  let stoppedAt: number | undefined;

  for (let k = 0; k < n; k++) {
    const now = load.start + k * stepMs;
    w.advance(now);
    const demand = load.values[k]!;
    const obs = w.observe(demand);
    const before = obs.currentReplicas;
    // as the controller does: the series includes this sync's values before deciding
    appendSeries(hist, obs.values, now, windowMs);
    recordDemand(hist, policy, obs.values, now);
    const d = decide(policy, obs, hist, now);
    // what the controller remembers between syncs, through the same functions it uses
    rememberDecision(hist, d, windowMs);
    const scoring = k >= scoreFrom;
    if (d.errors.length && scoring) {
      // failed reads at no-data steps are the gap treatment working; errors with data are worth a look
      if (demand >= 0) {
        errorCount++;
        firstError ??= `${new Date(now).toISOString()}: ${d.errors[0]}`;
      } else {
        noDataErrors++;
      }
    }
    if (acts && d.desiredReplicas !== before) {
      w.scaleTo(d.desiredReplicas, now);
      rememberScale(hist, before, d.desiredReplicas, now);
    }
    if (acts && d.desiredReplicas !== before && scoring) {
      const dir = d.desiredReplicas > before ? 1 : -1;
      if (dir > 0) scaleUps++;
      else scaleDowns++;
      if (lastDirection !== 0 && dir !== lastDirection) reversals++;
      lastDirection = dir;
    }
    if (acts && d.resize?.requests?.cpu !== undefined) {
      const cores = cpuCores(d.resize.requests.cpu);
      if (cores !== undefined && cores !== w.cpuRequestCores) {
        w.resizeCpu(cores);
        if (scoring) resizes++;
      }
    }
    w.serve(demand, stepMs);

    const replicas = w.replicas;
    const ready = w.ready;
    let flags = 0;
    let u = Number.NaN;
    if (!scoring) {
      // replayed for its history only
    } else if (!(demand >= 0)) {
      flags = FLAG_NO_DATA;
      noData++;
    } else {
      scored++;
      replicaSteps += replicas;
      if (replicas > peak) peak = replicas;
      if (replicas >= policy.maxReplicas) atMaxSteps++;
      u = utilizationOf(demand, ready, w.capacityPerReplica);
      if (ready > 0) {
        utilSum += u;
        utilSteps++;
        if (u > utilMax) utilMax = u;
      }
      flags = sloFlags(demand, ready, w.capacityPerReplica, setup.workload.latency, setup.slo);
      if (flags & FLAG_OVER_CAPACITY) overSteps++;
      if (flags & FLAG_SLOW) slowSteps++;
      if (flags) violationSteps++;
      split?.add(k, demand, ready, replicas, flags !== 0);
    }
    if (tl) {
      tl.t[k] = now / 1000;
      tl.load[k] = demand;
      tl.desired[k] = d.desiredReplicas;
      tl.replicas[k] = replicas;
      tl.ready[k] = ready;
      tl.utilization[k] = u * 100;
      tl.p95[k] = Number.isNaN(u) ? Number.NaN : p95Of(u, setup.workload.latency);
      tl.flags[k] = flags;
    }
    if (violationSteps * (stepMs / 60_000) > stopAfter) { stoppedAt = k; break; }
  }

  return simResult(
    { service: policy.name, label: opts.label, setup, n, stepMs, scoreFrom },
    { scored, noData, overSteps, slowSteps, violationSteps, replicaSteps, atMaxSteps, peak, utilSum, utilSteps, utilMax, scaleUps, scaleDowns, reversals, errorCount, noDataErrors, firstError, resizes },
    tl,
    stoppedAt,
    split,
  );
}
