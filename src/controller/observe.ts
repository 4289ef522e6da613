// Turns a provider's target state and metric samples into the Observation decide() reads.
// Per-replica samples are matched to replicas by their `pod` label (or `pid` / `container` for local and compose).
import type { ServicePolicy } from '../config/load.js';
import type { MetricSource, Sample } from '../metrics/types.js';
import type { TargetState, PodState } from '../providers/types.js';
import type { Observation, ObservedPod } from '../core/types.js';
import { parseMilli } from '../core/quantity.js';
import { invalidSample, nonNegativeKind } from '../metrics/validate.js';

export interface MetricReading {
  name: string;
  samples?: Sample[];
  error?: string;
}

function milli(q: string | undefined): number | undefined {
  if (q === undefined) return undefined;
  return parseMilli(q);
}

/** Finds the replica a sample belongs to. */
function podFor(s: Sample, pods: PodState[]): PodState | undefined {
  const l = s.labels;
  if (l.pod) return pods.find((p) => p.name === l.pod);
  if (l.pid) return pods.find((p) => String(p.pid) === l.pid);
  if (l.container || l.container_id) return pods.find((p) => (l.container_id !== undefined && p.containerId === l.container_id) || (l.container !== undefined && (p.containerId === l.container || p.name === l.container)));
  // Prometheus scraping each replica directly labels its samples with the replica's host:port
  if (l.instance) return pods.find((p) => p.endpoint !== undefined && p.endpoint.replace(/^\w+:\/\//, '').replace(/\/.*$/, '') === l.instance);
  return undefined;
}

/**
 * Units: per-replica `cpu` samples are cores (as /proc, docker stats and the metrics API report them) and `memory`
 * samples bytes; both become Kubernetes milli-units for the HPA arithmetic.
 */
export function buildObservation(policy: ServicePolicy, state: TargetState, readings: MetricReading[]): Observation {
  const requests = policy.resources?.requests ?? state.resources?.requests;
  const reqCpu = milli(requests?.cpu);
  const reqMem = milli(requests?.memory);
  const pods: ObservedPod[] = state.pods.map((p) => ({
    name: p.name,
    phase: p.phase,
    ready: p.ready,
    ...(p.startTime !== undefined ? { startTime: p.startTime } : {}),
    ...(p.readyTransitionTime !== undefined ? { readyTransitionTime: p.readyTransitionTime } : {}),
    ...(p.deleted ? { deleted: true } : {}),
    requests: { ...(reqCpu !== undefined ? { cpu: reqCpu } : {}), ...(reqMem !== undefined ? { memory: reqMem } : {}) },
    usage: {},
    metrics: {},
  }));
  const byName = new Map(pods.map((p) => [p.name, p]));
  const values: Record<string, number> = {};
  const failures: Record<string, string> = {};
  for (const r of readings) {
    const spec = policy.metrics[r.name];
    if (!spec) continue;
    if (r.error !== undefined || !r.samples) {
      failures[r.name] = r.error ?? 'no samples';
      continue;
    }
    if (r.samples.length === 0) {
      failures[r.name] = 'the query returned no samples';
      continue;
    }
    if (!spec.perPod) {
      // An aggregate metric: several series are summed (a PromQL `sum` left out is the usual cause).
      values[r.name] = r.samples.reduce((a, s) => a + s.value, 0);
      continue;
    }
    let sum = 0;
    let n = 0;
    let usageSum = 0;
    let reqSum = 0;
    for (const s of r.samples) {
      const ps = podFor(s, state.pods);
      const pod = ps ? byName.get(ps.name) : undefined;
      if (!pod) continue;
      n++;
      sum += s.value;
      const isResource = r.name === 'cpu' || r.name === 'memory';
      const m = Math.round(s.value * 1000);
      if (isResource) {
        pod.usage![r.name as 'cpu' | 'memory'] = m;
        const req = pod.requests?.[r.name as 'cpu' | 'memory'];
        if (req !== undefined && pod.ready) { usageSum += m; reqSum += req; }
      } else {
        pod.metrics![r.name] = m;
      }
    }
    if (n === 0) {
      failures[r.name] = `no sample matched a replica (${r.samples.length} samples, ${state.pods.length} replicas)`;
      continue;
    }
    // Rules on cpu/memory read utilization in percent of requests when requests are known, as the runbooks write them.
    values[r.name] = reqSum > 0 ? (usageSum / reqSum) * 100 : sum / n;
  }
  return {
    currentReplicas: state.replicas,
    readyReplicas: state.readyReplicas,
    pods,
    values,
    failures,
    ...(state.resources ? { resources: state.resources } : {}),
  };
}

/** Reads every configured metric of a service (concurrently); a failed read becomes an error, never a value. */
export async function readMetrics(
  policy: ServicePolicy,
  sources: Record<string, MetricSource>,
  state: TargetState,
  now: Date,
  skip: (metric: string) => string | undefined = () => undefined,
): Promise<MetricReading[]> {
  const pids = state.pods.filter((p) => p.pid !== undefined && !p.deleted).map((p) => p.pid!);
  const containers = state.pods.filter((p) => p.containerId).map((p) => p.containerId!);
  return Promise.all(
    Object.entries(policy.metrics).map(async ([name, m]): Promise<MetricReading> => {
      const held = skip(name);
      if (held) return { name, error: held };
      const src = sources[m.source];
      if (!src) return { name, error: `source ${m.source} is not available` };
      try {
        const params = { ...(m.params ?? {}), ...(m.perPod ? { pids, containers, pods: state.pods.map((p) => p.name) } : {}) };
        const samples = await src.sample({ name, query: m.query, params }, now);
        // a value the arithmetic cannot use is a failed read, never a number that throws or misleads downstream
        const bad = invalidSample(samples, nonNegativeKind(policy, name, src.kind, m.query));
        return bad ? { name, error: `${m.source}: ${bad}` } : { name, samples };
      } catch (e) {
        return { name, error: (e as Error).message };
      }
    }),
  );
}
