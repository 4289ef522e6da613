// Keeps one lease of a workload while a run acts on it: takes it before each action, renews it on a timer of its own
// (so a long drain or a slow sync never lets it lapse), and says when it is taken, lost, failing or renewed again.
// The leases themselves are the provider's: volumes in the Docker Engine (compose-lease), a Kubernetes Lease
// (kube-lease).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ProviderEvent } from './types.js';

let identityCache: string | undefined;
/** This process as a lease holder: host, pid and a random part, the same for every lease it takes. */
export function processIdentity(): string {
  identityCache ??= `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  return identityCache;
}

export interface Lease {
  readonly durationMs: number;
  /** takes or renews the lease; throws while another holds it, or on the backend's failure */
  hold(): Promise<void>;
  /** gives it up, so another run may take the workload at once */
  release(): Promise<void>;
}

export interface LeaseKeeperOptions {
  /** e.g. "compose: shop/web" or "kubernetes: Deployment shop/web", the start of every message */
  what: string;
  /** e.g. "compose: " — put before a holder's message the lease itself wrote */
  prefix: string;
  /** what the lease is kept as, for the message when it is taken */
  keptAs: string;
  /** whether a hold() failure means another run holds the lease */
  heldElsewhere: (e: unknown) => boolean;
  event: (kind: string, level: ProviderEvent['level'], message: string) => void;
}

export class LeaseKeeper {
  private timer?: NodeJS.Timeout;
  private failing?: string;

  constructor(readonly lease: Lease, private readonly o: LeaseKeeperOptions) {}

  /** Holds the lease before an action; throws what hold() throws (and stops renewing). */
  async claim(): Promise<void> {
    try {
      await this.lease.hold();
    } catch (err) {
      const had = this.stop();
      if (had && this.o.heldElsewhere(err)) this.o.event('lease-lost', 'error', `${this.o.prefix}${(err as Error).message}`);
      throw err;
    }
    if (this.timer) return;
    this.o.event('lease-taken', 'info', `${this.o.what}: this run now drives it (${this.o.keptAs})`);
    this.timer = setInterval(() => {
      this.lease.hold().then(() => {
        if (this.failing !== undefined) this.o.event('lease-renewed', 'info', `${this.o.what}: its lease is renewed again`);
        this.failing = undefined;
      }, (err: Error) => {
        if (this.o.heldElsewhere(err)) {
          this.stop();
          this.o.event('lease-lost', 'error', `${this.o.prefix}${err.message}`);
        } else if (this.failing === undefined) {
          this.failing = err.message;
          this.o.event('lease-renewal-failed', 'warn', `${this.o.what}: its lease could not be renewed (${err.message}); this run stops acting on it if that lasts ${Math.round(this.lease.durationMs / 1000)} s`);
        }
      });
    }, Math.max(100, Math.floor(this.lease.durationMs / 3)));
    this.timer.unref();
  }

  /** Stops renewing; true when it was renewing. */
  private stop(): boolean {
    if (!this.timer) return false;
    clearInterval(this.timer);
    this.timer = undefined;
    return true;
  }

  /** Stops renewing and gives the lease up. */
  async close(): Promise<void> {
    this.stop();
    await this.lease.release();
  }
}
