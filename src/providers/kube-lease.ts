// Who drives a Kubernetes workload: a coordination.k8s.io/v1 Lease per Deployment or StatefulSet, in its namespace,
// so that two scalepilot runs (say one in the cluster and one from a laptop's kubeconfig) never scale one workload
// against each other. Writes carry the Lease's resourceVersion (optimistic concurrency: a stale write is refused
// with 409), and a record held by another process expires once this process has seen it unchanged for the lease
// duration, by its own clock, as client-go's leader election judges it. `run --leader-elect` is a different Lease:
// which of several scalepilot replicas runs at all; this one is which run drives one workload.
import { createHash } from 'node:crypto';
import type { CoordinationV1Api, V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { kubeCall } from '../kube-call.js';
import { kubeClient } from '../lazy.js';

/** A MicroTime the API server's decoder accepts (six fractional digits). */
const micro = (ms: number): V1MicroTime => new (kubeClient().V1MicroTime)(ms);

/** How long a workload's Lease may go unrenewed before another run may take it over. */
export const WORKLOAD_LEASE_MS = 30_000;

/** The Lease's name for a workload: scalepilot-<kind>-<name>, hashed when that would be too long for a name. */
export function workloadLeaseName(kind: string, name: string): string {
  const plain = `scalepilot-${kind.toLowerCase()}-${name}`;
  return plain.length <= 253 ? plain : `scalepilot-${kind.toLowerCase()}-${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
}

/** The workload's Lease is held by another live scalepilot. */
export class WorkloadHeldElsewhere extends Error {
  override name = 'WorkloadHeldElsewhere';
  constructor(readonly what: string, readonly lease: string, readonly holder: string, readonly renewTime: string, readonly expiresInMs: number) {
    super(
      `${what} is driven by another scalepilot (holder ${holder}, Lease ${lease} renewed ${renewTime}); this run holds ` +
        `the workload until that one stops, or until its Lease goes ${Math.ceil(expiresInMs / 1000)} s without renewal. ` +
        'Stop the other run, or give each workload to one config',
    );
  }
}

export interface WorkloadLeaseOptions {
  what: string;
  namespace: string;
  name: string;
  identity: string;
  timeoutMs: number;
  durationMs?: number;
  now?: () => number;
}

export class WorkloadLease {
  readonly durationMs: number;
  private readonly now: () => number;
  /** the Lease as this process last read or wrote it */
  private lease?: V1Lease;
  /** when this process last wrote the Lease as its holder (by its own clock) */
  private writtenAt?: number;
  /** another holder's record as last seen, and when it was first seen so */
  private seen?: { raw: string; at: number };
  private pending?: Promise<void>;

  constructor(private readonly api: CoordinationV1Api, private readonly o: WorkloadLeaseOptions) {
    this.durationMs = o.durationMs ?? WORKLOAD_LEASE_MS;
    this.now = o.now ?? Date.now;
  }

  /** Takes the Lease, or renews it once a third of its duration has passed; throws while another holds it. */
  async hold(): Promise<void> {
    if (this.writtenAt !== undefined && this.now() - this.writtenAt < this.durationMs / 3) return;
    if (this.pending) return this.pending;
    this.pending = this.holdOnce().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async holdOnce(): Promise<void> {
    const ref = { name: this.o.name, namespace: this.o.namespace };
    let current: V1Lease | undefined;
    try {
      current = await kubeCall(this.o.timeoutMs, (opt) => this.api.readNamespacedLease(ref, opt));
    } catch (e) {
      if ((e as { code?: unknown }).code !== 404) throw e;
    }
    const now = this.now();
    const spec = current?.spec;
    const holder = spec?.holderIdentity ?? '';
    if (current && holder && holder !== this.o.identity) {
      const raw = JSON.stringify([holder, text(spec?.renewTime), spec?.leaseTransitions ?? 0]);
      if (this.seen?.raw !== raw) this.seen = { raw, at: now };
      const left = this.seen.at + this.durationMs - now;
      if (left > 0) {
        this.writtenAt = undefined;
        throw new WorkloadHeldElsewhere(this.o.what, `${this.o.namespace}/${this.o.name}`, holder, text(spec?.renewTime) || '?', left);
      }
    }
    const mine = holder === this.o.identity;
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...(current?.metadata ?? {}), name: this.o.name, namespace: this.o.namespace, labels: { ...(current?.metadata?.labels ?? {}), 'app.kubernetes.io/managed-by': 'scalepilot' } },
      spec: {
        holderIdentity: this.o.identity,
        leaseDurationSeconds: Math.ceil(this.durationMs / 1000),
        acquireTime: mine && spec?.acquireTime ? micro(millis(spec.acquireTime)) : micro(now),
        renewTime: micro(now),
        leaseTransitions: (spec?.leaseTransitions ?? 0) + (mine || !current ? 0 : 1),
      },
    };
    try {
      // the body carries the resourceVersion read above: a write by anyone since is refused with 409
      this.lease = current
        ? await kubeCall(this.o.timeoutMs, (opt) => this.api.replaceNamespacedLease({ ...ref, body }, opt))
        : await kubeCall(this.o.timeoutMs, (opt) => this.api.createNamespacedLease({ namespace: this.o.namespace, body }, opt));
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 409) {
        // another run wrote it first: it is theirs until seen unchanged for the duration
        this.writtenAt = undefined;
        this.seen = undefined;
        throw new WorkloadHeldElsewhere(this.o.what, `${this.o.namespace}/${this.o.name}`, 'another run that wrote it just now', new Date(now).toISOString(), this.durationMs);
      }
      throw e;
    }
    this.writtenAt = now;
    this.seen = undefined;
  }

  /** Gives the Lease up (holder cleared), so another run may take the workload at once. */
  async release(): Promise<void> {
    const lease = this.lease;
    const held = this.writtenAt !== undefined;
    this.writtenAt = undefined;
    if (!lease || !held || lease.spec?.holderIdentity !== this.o.identity) return;
    const body: V1Lease = { ...lease, spec: { ...lease.spec, holderIdentity: '', renewTime: micro(this.now()) } };
    if (lease.spec?.acquireTime) body.spec!.acquireTime = micro(millis(lease.spec.acquireTime));
    try {
      await kubeCall(this.o.timeoutMs, (opt) => this.api.replaceNamespacedLease({ name: this.o.name, namespace: this.o.namespace, body }, opt));
    } catch {
      // someone wrote it since, or the API server is unreachable: it expires by itself
    }
  }
}

function text(v: Date | string | undefined): string {
  if (v === undefined || v === null) return '';
  return v instanceof Date ? v.toISOString() : String(v);
}

function millis(v: Date | string): number {
  const n = v instanceof Date ? v.getTime() : Date.parse(String(v));
  return Number.isFinite(n) ? n : Date.now();
}
