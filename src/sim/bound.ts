// The clairvoyant lower bound and each policy's distance from it. Knowing the whole trace, the bound runs the
// fewest replicas that meet the SLO at every step. A replica ready at step t must have been requested start-up +
// readiness delay earlier and costs from then on, so the replicas that exist at t are the most needed anywhere in
// [t, t + delay]. Scale-down is free and instant.
import { neededReplicas } from './workload.js';
import type { Bound, LoadSeries, Score, SimSetup } from './types.js';

/**
 * Steps without data need nothing and are not scored, as in the simulation. minReplicas and schedule floors are
 * deliberately ignored: the bound is what the traffic itself requires.
 */
export function clairvoyantBound(load: LoadSeries, setup: SimSetup, maxReplicas: number, keepSeries = false): Bound {
  const n = load.values.length;
  const needed = new Int32Array(n);
  let unmet = 0;
  for (let k = 0; k < n; k++) {
    const v = load.values[k]!;
    if (!(v >= 0)) continue;
    const r = neededReplicas(v, setup.workload, setup.slo);
    if (r > maxReplicas) unmet++;
    needed[k] = Math.min(r, maxReplicas);
  }
  const lead = Math.ceil((setup.workload.startupDelayMs + setup.workload.readinessDelayMs) / load.stepMs);
  // Sliding maximum of needed[k .. k+lead], walking backwards with a monotonic deque of indices.
  const exist = new Int32Array(n);
  const dq = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let k = n - 1; k >= 0; k--) {
    while (tail > head && needed[dq[tail - 1]!]! <= needed[k]!) tail--;
    dq[tail++] = k;
    while (dq[head]! > k + lead) head++;
    exist[k] = needed[dq[head]!]!;
  }
  let replicaSteps = 0;
  let peak = 0;
  for (let k = 0; k < n; k++) {
    if (!(load.values[k]! >= 0)) continue;
    replicaSteps += exist[k]!;
    if (exist[k]! > peak) peak = exist[k]!;
  }
  const replicaHours = (replicaSteps * load.stepMs) / 3_600_000;
  return {
    replicaHours,
    cost: setup.costPerReplicaHour !== undefined ? replicaHours * setup.costPerReplicaHour : null,
    violationMinutes: (unmet * load.stepMs) / 60_000,
    peakReplicas: peak,
    ...(keepSeries ? { replicas: exist, needed } : {}),
  };
}

/** How far a policy's run is from the bound. */
export interface VsBound {
  /** replica-hours above the bound, percent of the bound (null when the bound is 0) */
  extraReplicaHoursPct: number | null;
  extraReplicaHours: number;
  /** violation minutes beyond those even the bound cannot avoid */
  extraViolationMinutes: number;
}

export function distanceFromBound(s: Score, b: Bound): VsBound {
  const extra = s.replicaHours - b.replicaHours;
  return {
    extraReplicaHoursPct: b.replicaHours > 0 ? (extra / b.replicaHours) * 100 : null,
    extraReplicaHours: extra,
    extraViolationMinutes: s.violationMinutes - b.violationMinutes,
  };
}
