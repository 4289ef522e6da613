// A coordination.k8s.io/v1 Lease as a lock record (client-go's resourcelock.LeaseLock): holderIdentity,
// leaseDurationSeconds, acquireTime, renewTime and leaseTransitions, read and written with the Lease's resourceVersion
// (optimistic concurrency: a stale write is refused with 409). Leader election (controller/leader) and the per-workload
// Leases of the kubernetes provider (providers/kube-lease) keep their records through it. The client is loaded
// lazily, so commands that never touch Kubernetes do not load it.
import type { CoordinationV1Api, KubeConfig, V1Lease } from '@kubernetes/client-node';
import { kubeCall } from './kube-call.js';
import { kubeClient } from './lazy.js';

/** The election state as client-go's resourcelock.LeaderElectionRecord carries it. */
export interface LeaderElectionRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  /** epoch ms */
  acquireTime: number;
  renewTime: number;
  leaderTransitions: number;
}

export class LockNotFoundError extends Error {
  override name = 'LockNotFoundError';
}

/** What the elector needs from a lock object (client-go resourcelock.Interface). */
export interface ResourceLock {
  readonly identity: string;
  /** the record and its raw serialization (compared to detect any change by anyone) */
  get(): Promise<{ record: LeaderElectionRecord; raw: string }>;
  create(r: LeaderElectionRecord): Promise<void>;
  update(r: LeaderElectionRecord): Promise<void>;
  describe(): string;
}

/** A coordination.k8s.io/v1 Lease as the lock (client-go resourcelock.LeaseLock). */
export class LeaseLock implements ResourceLock {
  private lease?: V1Lease;

  constructor(
    private readonly api: CoordinationV1Api,
    readonly namespace: string,
    readonly name: string,
    readonly identity: string,
    /** how long one Lease read or write may take: an API server that never answers would hold the campaign */
    private readonly timeoutMs = 10_000,
    /** labels every write puts on the Lease (e.g. who manages it) */
    private readonly labels?: Record<string, string>,
  ) {}

  static fromKubeConfig(kc: KubeConfig, o: { namespace: string; name: string; identity: string; timeoutMs?: number }): LeaseLock {
    return new LeaseLock(kc.makeApiClient(kubeClient().CoordinationV1Api), o.namespace, o.name, o.identity, o.timeoutMs);
  }

  describe(): string {
    return `${this.namespace}/${this.name}`;
  }

  async get(): Promise<{ record: LeaderElectionRecord; raw: string }> {
    let lease: V1Lease;
    try {
      lease = await kubeCall(this.timeoutMs, (o) => this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }, o));
    } catch (e) {
      if ((e as { code?: number }).code === 404) throw new LockNotFoundError(`lease ${this.describe()} not found`);
      throw e;
    }
    this.lease = lease;
    const spec = lease.spec ?? {};
    const raw = JSON.stringify([spec.holderIdentity ?? '', spec.leaseDurationSeconds ?? 0, text(spec.acquireTime), text(spec.renewTime), spec.leaseTransitions ?? 0]);
    return {
      record: {
        holderIdentity: spec.holderIdentity ?? '',
        leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
        acquireTime: millis(spec.acquireTime),
        renewTime: millis(spec.renewTime),
        leaderTransitions: spec.leaseTransitions ?? 0,
      },
      raw,
    };
  }

  async create(r: LeaderElectionRecord): Promise<void> {
    this.lease = await kubeCall(this.timeoutMs, (o) => this.api.createNamespacedLease({
      namespace: this.namespace,
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.name, namespace: this.namespace, ...(this.labels ? { labels: this.labels } : {}) }, spec: toSpec(r) },
    }, o));
  }

  async update(r: LeaderElectionRecord): Promise<void> {
    if (!this.lease) throw new Error('lease not initialized, call get or create first');
    // The body carries the resourceVersion last read or written: a stale one is refused with 409 Conflict.
    const body: V1Lease = { ...this.lease, spec: toSpec(r) };
    if (this.labels) body.metadata = { ...this.lease.metadata, labels: { ...this.lease.metadata?.labels, ...this.labels } };
    this.lease = await kubeCall(this.timeoutMs, (o) => this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body }, o));
  }
}

function toSpec(r: LeaderElectionRecord): V1Lease['spec'] {
  // V1MicroTime serializes with the six fractional digits the API server's MicroTime decoder insists on.
  return {
    holderIdentity: r.holderIdentity,
    leaseDurationSeconds: r.leaseDurationSeconds,
    acquireTime: new (kubeClient().V1MicroTime)(r.acquireTime),
    renewTime: new (kubeClient().V1MicroTime)(r.renewTime),
    leaseTransitions: r.leaderTransitions,
  };
}

function text(v: Date | string | undefined): string {
  if (v === undefined || v === null) return '';
  return v instanceof Date ? v.toISOString() : String(v);
}

function millis(v: Date | string | undefined): number {
  if (v === undefined || v === null) return 0;
  const n = v instanceof Date ? v.getTime() : Date.parse(String(v));
  return Number.isFinite(n) ? n : 0;
}
