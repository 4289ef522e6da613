// Lease-based leader election with client-go's leaderelection semantics, so two scalepilot replicas never scale the
// same workload at once. A coordination.k8s.io/v1 Lease holds holderIdentity, leaseDurationSeconds, acquireTime,
// renewTime and leaseTransitions; writes use the Lease's resourceVersion (optimistic concurrency); expiry is judged
// by this process's own clock from when it last saw the record change, never by comparing clocks across machines.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { LeaseLock, LockNotFoundError, type LeaderElectionRecord, type ResourceLock } from '../kube-lease-lock.js';

export { LeaseLock, LockNotFoundError, type LeaderElectionRecord, type ResourceLock };

/** client-go's JitterFactor for the acquire loop (and the bound renewDeadline must clear). */
export const JITTER_FACTOR = 1.2;

export interface Clock {
  now(): number;
  /** Resolves after ms, or rejects with an AbortError when signal aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError());
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};


export interface LeaderCallbacks {
  /** Called when this process becomes leader; `signal` aborts when leadership ends. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called when run() returns, as client-go does: also when leadership was never acquired. */
  onStoppedLeading(): void;
  /** Called when the observed leader changes (including to this process). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionConfig {
  lock: ResourceLock;
  /** how long non-leaders wait after last seeing the record change before taking over (client-go default 15s) */
  leaseDurationMs?: number;
  /** how long the leader keeps retrying a failing renew before it steps down (default 10s) */
  renewDeadlineMs?: number;
  /** time between attempts (default 2s) */
  retryPeriodMs?: number;
  /** give the lease up on cancel so a successor need not wait it out */
  releaseOnCancel?: boolean;
  callbacks: LeaderCallbacks;
  clock?: Clock;
  random?: () => number;
  log?: (msg: string) => void;
}

export class LeaderElectionConfigError extends Error {
  override name = 'LeaderElectionConfigError';
}

export class LeaderElector {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private observedRecord?: LeaderElectionRecord;
  private observedRaw?: string;
  private observedTime = 0;
  private reportedLeader = '';

  constructor(private readonly config: LeaderElectionConfig) {
    this.leaseDurationMs = config.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = config.retryPeriodMs ?? 2_000;
    // The same checks as client-go's NewLeaderElector.
    if (this.leaseDurationMs <= this.renewDeadlineMs) throw new LeaderElectionConfigError('leaseDuration must be greater than renewDeadline');
    if (this.renewDeadlineMs <= JITTER_FACTOR * this.retryPeriodMs) throw new LeaderElectionConfigError('renewDeadline must be greater than retryPeriod*JitterFactor');
    if (this.leaseDurationMs < 1000) throw new LeaderElectionConfigError('leaseDuration must be at least 1s (the Lease stores whole seconds)');
    if (this.renewDeadlineMs < 1 || this.retryPeriodMs < 1) throw new LeaderElectionConfigError('renewDeadline and retryPeriod must be greater than zero');
    if (!config.lock.identity) throw new LeaderElectionConfigError('Lock identity is empty');
    this.clock = config.clock ?? realClock;
    this.random = config.random ?? Math.random;
  }

  isLeader(): boolean {
    return this.observedRecord?.holderIdentity === this.config.lock.identity;
  }

  /** The identity of the last observed leader ("" when none). */
  getLeader(): string {
    return this.observedRecord?.holderIdentity ?? '';
  }

  /** Campaigns until leader, leads until the lease is lost or signal aborts; then returns. */
  async run(signal: AbortSignal): Promise<void> {
    try {
      if (!(await this.acquire(signal))) return;
      const leading = new AbortController();
      const stop = () => leading.abort();
      signal.addEventListener('abort', stop, { once: true });
      try {
        void Promise.resolve()
          .then(() => this.config.callbacks.onStartedLeading(leading.signal))
          .catch((e) => this.log(`onStartedLeading failed: ${(e as Error).message}`));
        await this.renew(leading);
        if (this.config.releaseOnCancel) await this.release();
      } finally {
        signal.removeEventListener('abort', stop);
        leading.abort();
      }
    } finally {
      this.config.callbacks.onStoppedLeading();
    }
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    this.log(`attempting to acquire leader lease ${this.config.lock.describe()}`);
    while (!signal.aborted) {
      const ok = await this.tryAcquireOrRenew(signal);
      this.maybeReportTransition();
      if (ok) {
        this.log(`successfully acquired lease ${this.config.lock.describe()}`);
        return true;
      }
      const wait = this.retryPeriodMs + this.random() * JITTER_FACTOR * this.retryPeriodMs;
      if (!(await this.sleep(wait, signal))) return false;
    }
    return false;
  }

  private async renew(leading: AbortController): Promise<void> {
    const signal = leading.signal;
    while (!signal.aborted) {
      const round = new AbortController();
      const deadline = this.clock.now() + this.renewDeadlineMs;
      const abortRound = () => round.abort();
      signal.addEventListener('abort', abortRound, { once: true });
      const timer = new AbortController();
      void this.clock.sleep(this.renewDeadlineMs, timer.signal).then(abortRound, () => {});
      let renewed = false;
      try {
        for (;;) {
          if (await this.tryAcquireOrRenew(round.signal)) {
            renewed = true;
            break;
          }
          if (round.signal.aborted || this.clock.now() >= deadline) break;
          if (!(await this.sleep(this.retryPeriodMs, round.signal))) break;
        }
      } finally {
        timer.abort();
        signal.removeEventListener('abort', abortRound);
      }
      this.maybeReportTransition();
      if (signal.aborted) return;
      if (!renewed) {
        this.log(`failed to renew lease ${this.config.lock.describe()}: timed out waiting for the condition`);
        leading.abort();
        return;
      }
      if (!(await this.sleep(this.retryPeriodMs, signal))) return;
    }
  }

  /**
   * One attempt to acquire or renew (client-go tryAcquireOrRenew). Returns true when this process holds the lease
   * afterwards. Exposed so tests can drive the protocol step by step with an injected clock.
   */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    const lock = this.config.lock;
    const now = this.clock.now();
    const record: LeaderElectionRecord = {
      holderIdentity: lock.identity,
      leaseDurationSeconds: Math.floor(this.leaseDurationMs / 1000),
      renewTime: now,
      acquireTime: now,
      leaderTransitions: 0,
    };

    // 1. Fast path: the leader updates optimistically, assuming the record it saw last is still current.
    if (this.isLeader() && this.isLeaseValid(now)) {
      const old = this.observedRecord!;
      record.acquireTime = old.acquireTime;
      record.leaderTransitions = old.leaderTransitions;
      try {
        await abortable(lock.update(record), signal);
        this.setObservedRecord(record);
        return true;
      } catch (e) {
        if (signal?.aborted) return false;
        this.log(`failed to update lock optimistically: ${(e as Error).message}, falling back to slow path`);
      }
    }

    // 2. Obtain or create the election record.
    let got: { record: LeaderElectionRecord; raw: string };
    try {
      got = await abortable(lock.get(), signal);
    } catch (e) {
      if (signal?.aborted) return false;
      if (!(e instanceof LockNotFoundError)) {
        this.log(`error retrieving resource lock ${lock.describe()}: ${(e as Error).message}`);
        return false;
      }
      try {
        await abortable(lock.create(record), signal);
      } catch (ce) {
        if (!signal?.aborted) this.log(`error initially creating leader election record: ${(ce as Error).message}`);
        return false;
      }
      this.setObservedRecord(record);
      return true;
    }

    // 3. Record obtained: a change by anyone restarts the expiry clock, measured locally.
    if (this.observedRaw !== got.raw) {
      this.setObservedRecord(got.record);
      this.observedRaw = got.raw;
    }
    if (got.record.holderIdentity !== '' && this.isLeaseValid(now) && !this.isLeader()) {
      return false;
    }

    // 4. Take over or renew through the slow path.
    if (this.isLeader()) {
      record.acquireTime = got.record.acquireTime;
      record.leaderTransitions = got.record.leaderTransitions;
    } else {
      record.leaderTransitions = got.record.leaderTransitions + 1;
    }
    try {
      await abortable(lock.update(record), signal);
    } catch (e) {
      if (!signal?.aborted) this.log(`failed to update lock: ${(e as Error).message}`);
      return false;
    }
    this.setObservedRecord(record);
    return true;
  }

  /** Gives the lease up (holder cleared, 1 s duration) so a successor need not wait out the full lease. */
  async release(): Promise<boolean> {
    const lock = this.config.lock;
    const timeout = new AbortController();
    const timer = new AbortController();
    void this.clock.sleep(this.renewDeadlineMs, timer.signal).then(() => timeout.abort(), () => {});
    try {
      await abortable(lock.get(), timeout.signal);
      if (!this.isLeader()) return true;
      const now = this.clock.now();
      const record: LeaderElectionRecord = {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: now,
        acquireTime: now,
        leaderTransitions: this.observedRecord!.leaderTransitions,
      };
      await abortable(lock.update(record), timeout.signal);
      this.setObservedRecord(record);
      return true;
    } catch (e) {
      this.log(`failed to release lock ${lock.describe()}: ${(e as Error).message}`);
      return false;
    } finally {
      timer.abort();
    }
  }

  private isLeaseValid(now: number): boolean {
    return this.observedTime + (this.observedRecord?.leaseDurationSeconds ?? 0) * 1000 > now;
  }

  private setObservedRecord(r: LeaderElectionRecord): void {
    this.observedRecord = { ...r };
    this.observedTime = this.clock.now();
  }

  private maybeReportTransition(): void {
    const holder = this.observedRecord?.holderIdentity ?? '';
    if (holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    const cb = this.config.callbacks.onNewLeader;
    if (cb) queueMicrotask(() => cb(holder));
  }

  /** false when aborted */
  private async sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    try {
      await this.clock.sleep(ms, signal);
      return true;
    } catch {
      return false;
    }
  }

  private log(msg: string): void {
    this.config.log?.(msg);
  }
}

function abortError(): Error {
  return Object.assign(new Error('aborted'), { name: 'AbortError' });
}

/** Races a request against the signal; an abandoned request's result is ignored, as a cancelled context's is. */
function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(abortError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) reject(abortError());
        else resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** This replica's identity: the pod name in a cluster (POD_NAME from the Downward API), else host_random. */
export function defaultIdentity(): string {
  return process.env.POD_NAME || `${hostname()}_${randomBytes(4).toString('hex')}`;
}

/** The namespace scalepilot runs in: POD_NAMESPACE, else the in-cluster service account's, else "default". */
export function currentNamespace(): string {
  if (process.env.POD_NAMESPACE) return process.env.POD_NAMESPACE;
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
}
