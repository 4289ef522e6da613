// The dry-run provider: records requested scales and resizes in memory and reports them back, so `--dry-run`
// benchmarks and simulation-backed runs exercise the whole loop without touching anything. It keeps the most recent
// records only: `run --dry-run` asks for the same change every sync, for as long as it runs.
import type { Provider, Resources, ScaleOptions, TargetRef, TargetState } from './types.js';
import { MAX_REPLICAS } from '../core/types.js';
import { optInt, rejectUnknown, specObject, requireReplicaCount } from './spec.js';

export interface DryRunSpec {
  /** replicas reported before the first scale */
  replicas: number;
}

export function parseDryRunSpec(raw: unknown, path: string): DryRunSpec {
  const o = specObject(raw, path);
  rejectUnknown(o, path, ['replicas']);
  return { replicas: optInt(o, 'replicas', path, 0, MAX_REPLICAS) ?? 1 };
}

export interface RecordedScale {
  t: number;
  service: string;
  from: number;
  replicas: number;
  /** the caller asked for a dry run, so the recorded count was not applied */
  dryRun: boolean;
}

export interface RecordedResize {
  t: number;
  service: string;
  resources: Resources;
  dryRun: boolean;
}

export interface DryRunOptions {
  /** epoch-ms clock for the records (simulation passes its own time) */
  now?: () => number;
  /** how many recent scales and resizes are kept (a long dry run would otherwise grow without bound); default 256 */
  keep?: number;
}

const KEEP = 256;

export class DryRunProvider implements Provider {
  readonly kind = 'dryrun';
  readonly scales: RecordedScale[] = [];
  readonly resizes: RecordedResize[] = [];
  private readonly replicas = new Map<string, number>();
  private readonly resources = new Map<string, Resources>();
  private readonly now: () => number;
  private readonly keep: number;

  constructor(options: DryRunOptions = {}) {
    this.now = options.now ?? Date.now;
    this.keep = Math.max(1, options.keep ?? KEEP);
  }

  private remember<T>(list: T[], r: T): void {
    list.push(r);
    if (list.length > this.keep) list.shift();
  }

  private current(t: TargetRef): number {
    const n = this.replicas.get(t.service);
    if (n !== undefined) return n;
    const initial = parseDryRunSpec(t.spec, `services.${t.service}.target`).replicas;
    this.replicas.set(t.service, initial);
    return initial;
  }

  async observe(t: TargetRef): Promise<TargetState> {
    const n = this.current(t);
    const resources = this.resources.get(t.service);
    const pods = Array.from({ length: n }, (_, i) => ({
      name: `${t.service}-${i}`,
      phase: 'Running' as const,
      ready: true,
      ...(resources ? { containers: [{ name: t.service, resources }] } : {}),
    }));
    return { replicas: n, readyReplicas: n, pods, ...(resources ? { resources } : {}) };
  }

  async scale(t: TargetRef, replicas: number, o: ScaleOptions): Promise<void> {
    requireReplicaCount(this.kind, t.service, replicas);
    const from = this.current(t);
    this.remember(this.scales, { t: this.now(), service: t.service, from, replicas, dryRun: o.dryRun });
    if (!o.dryRun) this.replicas.set(t.service, replicas);
  }

  async resize(t: TargetRef, r: Resources, o: { dryRun: boolean }): Promise<void> {
    this.current(t);
    this.remember(this.resizes, { t: this.now(), service: t.service, resources: structuredClone(r), dryRun: o.dryRun });
    if (!o.dryRun) this.resources.set(t.service, mergeResources(this.resources.get(t.service), r));
  }

  async close(): Promise<void> {}
}

/** Later values win per field, as a strategic-merge patch of container resources does. */
function mergeResources(base: Resources | undefined, r: Resources): Resources {
  const out: Resources = structuredClone(base ?? {});
  if (r.requests) out.requests = { ...out.requests, ...r.requests };
  if (r.limits) out.limits = { ...out.limits, ...r.limits };
  return out;
}
