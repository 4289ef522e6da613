// Who drives a Kubernetes workload: a coordination.k8s.io/v1 Lease per Deployment or StatefulSet, in its namespace,
// so that two scalepilot runs (say one in the cluster and one from a laptop's kubeconfig) never scale one workload
// against each other. The record is read and written through LeaseLock (the Lease's resourceVersion: a stale write
// is refused with 409), and a record held by another process expires once this process has seen it unchanged for
// the lease duration, by its own clock, as client-go's leader election judges it. `run --leader-elect` is a different
// Lease: which of several scalepilot replicas runs at all; this one is which run drives one workload.
import { createHash } from 'node:crypto';
import type { CoordinationV1Api } from '@kubernetes/client-node';
import { LeaseLock, LockNotFoundError, type LeaderElectionRecord } from '../kube-lease-lock.js';

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
  private readonly lock: LeaseLock;
  /** the record this process last wrote as the holder, and when (by its own clock) */
  private written?: { record: LeaderElectionRecord; at: number };
  /** another holder's record as last seen, and when it was first seen so */
  private seen?: { raw: string; at: number };
  private pending?: Promise<void>;

  constructor(api: CoordinationV1Api, private readonly o: WorkloadLeaseOptions) {
    this.durationMs = o.durationMs ?? WORKLOAD_LEASE_MS;
    this.now = o.now ?? Date.now;
    this.lock = new LeaseLock(api, o.namespace, o.name, o.identity, o.timeoutMs, { 'app.kubernetes.io/managed-by': 'scalepilot' });
  }

  /** Takes the Lease, or renews it once a third of its duration has passed; throws while another holds it. */
  async hold(): Promise<void> {
    if (this.written && this.now() - this.written.at < this.durationMs / 3) return;
    // one write at a time: a sync and the renewal timer must not race each other for the Lease
    return (this.pending ??= this.holdOnce().finally(() => { this.pending = undefined; }));
  }

  private async holdOnce(): Promise<void> {
    let got: { record: LeaderElectionRecord; raw: string } | undefined;
    try {
      got = await this.lock.get();
    } catch (e) {
      if (!(e instanceof LockNotFoundError)) throw e;
    }
    const now = this.now();
    const current = got?.record;
    const holder = current?.holderIdentity ?? '';
    if (got && holder && holder !== this.o.identity) {
      if (this.seen?.raw !== got.raw) this.seen = { raw: got.raw, at: now };
      const left = this.seen.at + this.durationMs - now;
      if (left > 0) {
        this.written = undefined;
        throw new WorkloadHeldElsewhere(this.o.what, this.lock.describe(), holder, current!.renewTime ? new Date(current!.renewTime).toISOString() : '?', left);
      }
    }
    const mine = holder === this.o.identity;
    const record: LeaderElectionRecord = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.durationMs / 1000),
      acquireTime: mine && current?.acquireTime ? current.acquireTime : now,
      renewTime: now,
      leaderTransitions: (current?.leaderTransitions ?? 0) + (mine || !got ? 0 : 1),
    };
    try {
      // written with the resourceVersion read above: a write by anyone since is refused with 409
      if (got) await this.lock.update(record);
      else await this.lock.create(record);
    } catch (e) {
      if ((e as { code?: unknown }).code === 409) {
        // another run wrote it first: it is theirs until seen unchanged for the duration
        this.written = undefined;
        this.seen = undefined;
        throw new WorkloadHeldElsewhere(this.o.what, this.lock.describe(), 'another run that wrote it just now', new Date(now).toISOString(), this.durationMs);
      }
      throw e;
    }
    this.written = { record, at: now };
    this.seen = undefined;
  }

  /** Gives the Lease up (holder cleared), so another run may take the workload at once. */
  async release(): Promise<void> {
    // a renewal under way updates the Lease itself: cleared before it lands, the clear would be refused (409) or undone
    await this.pending?.catch(() => undefined);
    const written = this.written;
    this.written = undefined;
    if (!written) return;
    try {
      await this.lock.update({ ...written.record, holderIdentity: '', renewTime: this.now() });
    } catch {
      // someone wrote it since, or the API server is unreachable: it expires by itself
    }
  }
}
