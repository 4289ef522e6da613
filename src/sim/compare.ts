// Several policies on one trace, side by side, each measured against the clairvoyant bound.
import type { ServicePolicy } from '../config/load.js';
import { clairvoyantBound } from './bound.js';
import { simulateMany, type RunOptions, type SimPool } from './pool.js';
import type { Bound, LoadSeries, Score, SimResult, SimSetup } from './types.js';

export interface Variant {
  label: string;
  policy: ServicePolicy;
  setup: SimSetup;
}

export interface VsBound {
  /** replica-hours above the bound, percent of the bound (null when the bound is 0) */
  extraReplicaHoursPct: number | null;
  extraReplicaHours: number;
  /** violation minutes beyond those even the bound cannot avoid */
  extraViolationMinutes: number;
}

export interface Comparison {
  bound: Bound;
  results: Array<SimResult & { vsBound: VsBound }>;
}

export function distanceFromBound(s: Score, b: Bound): VsBound {
  const extra = s.replicaHours - b.replicaHours;
  return {
    extraReplicaHoursPct: b.replicaHours > 0 ? (extra / b.replicaHours) * 100 : null,
    extraReplicaHours: extra,
    extraViolationMinutes: s.violationMinutes - b.violationMinutes,
  };
}

/**
 * Runs every variant over `load` (in worker threads when there are several) and the bound once, from the first
 * variant's capacity and SLO: comparing policies only means something under one workload model.
 */
export async function comparePolicies(variants: Variant[], load: LoadSeries, opts: RunOptions & { pool?: SimPool } = {}): Promise<Comparison> {
  if (variants.length === 0) throw new Error('comparePolicies needs at least one policy');
  const first = variants[0]!;
  const make = (i: number) => ({ policy: variants[i]!.policy, setup: variants[i]!.setup, load, label: variants[i]!.label });
  const results = opts.pool ? await opts.pool.run(variants.length, make, opts.onProgress) : await simulateMany(variants.length, make, opts);
  const bound = clairvoyantBound(load, first.setup, first.policy.maxReplicas, first.setup.timeline);
  return { bound, results: results.map((r) => ({ ...r, vsBound: distanceFromBound(r.score, bound) })) };
}
