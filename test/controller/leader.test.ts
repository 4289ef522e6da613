// Lease leader election against the fake API server: client-go's protocol step by step with an injected clock
// (expiry judged locally, skew-proof, conflicts), then real electors campaigning, taking over, and stepping down.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  JITTER_FACTOR, LeaderElectionConfigError, LeaderElector, LeaseLock,
  type Clock, type LeaderCallbacks, type LeaderElectionRecord, type ResourceLock,
} from '../../src/controller/leader.js';
import { FakeKube } from '../helpers/fake-kube.js';

const NS = 'scalepilot';
const LEASE = 'scalepilot-leader';
const MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

class ManualClock implements Clock {
  constructor(public t = Date.parse('2025-03-01T12:00:00Z')) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  sleep(): Promise<void> {
    return new Promise(() => {});
  }
}

const noCallbacks: LeaderCallbacks = { onStartedLeading: () => {}, onStoppedLeading: () => {} };

describe('leader election config (client-go checks)', () => {
  const lock = { identity: 'a' } as ResourceLock;
  const cases: Array<[string, Partial<{ leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number }>, RegExp]> = [
    ['lease not longer than renew deadline', { leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }, /leaseDuration must be greater than renewDeadline/],
    ['renew deadline within jittered retry', { renewDeadlineMs: 2_400, retryPeriodMs: 2_000 }, /renewDeadline must be greater than retryPeriod\*JitterFactor/],
    ['sub-second lease', { leaseDurationMs: 900, renewDeadlineMs: 600, retryPeriodMs: 100 }, /at least 1s/],
  ];
  for (const [name, cfg, want] of cases) {
    it(`rejects ${name}`, () => assert.throws(() => new LeaderElector({ lock, callbacks: noCallbacks, ...cfg }), want));
  }
  it('rejects an empty identity', () => {
    assert.throws(() => new LeaderElector({ lock: { identity: '' } as ResourceLock, callbacks: noCallbacks }), LeaderElectionConfigError);
  });
  it('accepts client-go defaults (15s / 10s / 2s)', () => {
    const e = new LeaderElector({ lock, callbacks: noCallbacks });
    assert.deepEqual([e.leaseDurationMs, e.renewDeadlineMs, e.retryPeriodMs], [15_000, 10_000, 2_000]);
    assert.ok(e.renewDeadlineMs > JITTER_FACTOR * e.retryPeriodMs);
  });
});

describe('leader election against fake-kube', () => {
  const kube = new FakeKube({ token: 't0k3n' });
  before(() => kube.start());
  after(() => kube.close());
  beforeEach(() => {
    kube.objects.clear();
    kube.requests.splice(0);
    kube.denials.splice(0);
  });
  const lock = (identity: string) => LeaseLock.fromKubeConfig(kube.kubeConfig(), { namespace: NS, name: LEASE, identity });
  const lease = () => kube.get('leases', NS, LEASE)!;

  describe('protocol steps with an injected clock', () => {
    it('creates the Lease, renews it, and keeps others out while it is renewed', async () => {
      const ca = new ManualClock();
      const cb = new ManualClock();
      const a = new LeaderElector({ lock: lock('a'), callbacks: noCallbacks, clock: ca });
      const b = new LeaderElector({ lock: lock('b'), callbacks: noCallbacks, clock: cb });
      assert.equal(await a.tryAcquireOrRenew(), true);
      const created = structuredClone(lease());
      assert.equal(created.spec.holderIdentity, 'a');
      assert.equal(created.spec.leaseDurationSeconds, 15);
      assert.equal(created.spec.leaseTransitions, 0);
      assert.match(created.spec.acquireTime, MICRO);
      assert.equal(created.spec.acquireTime, created.spec.renewTime);
      assert.equal(Date.parse(created.spec.renewTime), ca.now());

      assert.equal(await b.tryAcquireOrRenew(), false);
      assert.equal(b.getLeader(), 'a');
      for (let i = 0; i < 10; i++) {
        ca.advance(2_000);
        cb.advance(2_000);
        assert.equal(await a.tryAcquireOrRenew(), true, `renew ${i}`);
        assert.equal(await b.tryAcquireOrRenew(), false, `b must not take a renewed lease (t+${(i + 1) * 2}s)`);
      }
      const renewed = lease();
      assert.equal(renewed.spec.acquireTime, created.spec.acquireTime, 'renewals keep acquireTime');
      assert.equal(Date.parse(renewed.spec.renewTime), ca.now());
      assert.equal(renewed.spec.leaseTransitions, 0);
      assert.ok(Number(renewed.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
    });

    it('judges expiry by its own clock from the last change it saw, so clock skew cannot steal a lease', async () => {
      const ca = new ManualClock();
      // b's clock runs an hour ahead: comparing renewTime with b's "now" would call the lease long expired.
      const cb = new ManualClock(ca.now() + 3_600_000);
      const a = new LeaderElector({ lock: lock('a'), callbacks: noCallbacks, clock: ca });
      const b = new LeaderElector({ lock: lock('b'), callbacks: noCallbacks, clock: cb });
      assert.equal(await a.tryAcquireOrRenew(), true);
      assert.equal(await b.tryAcquireOrRenew(), false);
      // a stops renewing. b takes over only once leaseDuration has passed on b's clock since b last saw a change.
      cb.advance(14_999);
      assert.equal(await b.tryAcquireOrRenew(), false);
      cb.advance(2);
      assert.equal(await b.tryAcquireOrRenew(), true);
      assert.equal(lease().spec.holderIdentity, 'b');
      assert.equal(lease().spec.leaseTransitions, 1);
      assert.equal(Date.parse(lease().spec.acquireTime), cb.now());
      // a still believes it leads; its optimistic update carries a stale resourceVersion and is refused (409),
      // then the slow path sees b's fresh record and a stands down.
      ca.advance(2_000);
      assert.equal(a.isLeader(), true);
      const before = kube.requests.length;
      assert.equal(await a.tryAcquireOrRenew(), false);
      assert.equal(a.isLeader(), false);
      assert.equal(a.getLeader(), 'b');
      const conflict = kube.requests.slice(before).find((r) => r.method === 'PUT');
      assert.ok(conflict, 'a tried its optimistic update');
      assert.equal(lease().spec.holderIdentity, 'b');
    });

    it('lets exactly one of two simultaneous candidates win an expired lease (resourceVersion conflict)', async () => {
      const seed = new LeaderElector({ lock: lock('old'), callbacks: noCallbacks, clock: new ManualClock() });
      assert.equal(await seed.tryAcquireOrRenew(), true);
      // Both candidates read the record, then both write: the barrier makes the race certain, not likely.
      let waiting: Array<() => void> = [];
      const barrier = () => new Promise<void>((r) => {
        waiting.push(r);
        if (waiting.length === 2) {
          for (const w of waiting) w();
          waiting = [];
        }
      });
      const racing = (id: string): ResourceLock => {
        const inner = lock(id);
        return {
          identity: id,
          describe: () => inner.describe(),
          get: async () => {
            const r = await inner.get();
            await barrier();
            return r;
          },
          create: (r: LeaderElectionRecord) => inner.create(r),
          update: (r: LeaderElectionRecord) => inner.update(r),
        };
      };
      const cx = new ManualClock();
      const cy = new ManualClock();
      const x = new LeaderElector({ lock: racing('x'), callbacks: noCallbacks, clock: cx });
      const y = new LeaderElector({ lock: racing('y'), callbacks: noCallbacks, clock: cy });
      // First look: the lease is held and fresh.
      assert.deepEqual(await Promise.all([x.tryAcquireOrRenew(), y.tryAcquireOrRenew()]), [false, false]);
      cx.advance(16_000);
      cy.advance(16_000);
      const start = kube.requests.length;
      const results = await Promise.all([x.tryAcquireOrRenew(), y.tryAcquireOrRenew()]);
      assert.equal(results.filter(Boolean).length, 1, `results ${results}`);
      const winner = results[0] ? 'x' : 'y';
      assert.equal(lease().spec.holderIdentity, winner);
      assert.equal(lease().spec.leaseTransitions, 1);
      const puts = kube.requests.slice(start).filter((r) => r.method === 'PUT');
      assert.equal(puts.length, 2, 'both wrote with the same resourceVersion');
      assert.equal((puts[0]!.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion, (puts[1]!.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
    });
  });

  describe('electors running in real time (1 s lease)', () => {
    const timing = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 150 };

    function candidate(id: string, opts: { releaseOnCancel?: boolean; leaseDurationMs?: number } = {}) {
      const events: Array<{ e: 'started' | 'stopped' | 'new-leader'; t: number; who?: string }> = [];
      let leading: AbortSignal | undefined;
      const elector = new LeaderElector({
        lock: lock(id),
        ...timing,
        ...(opts.leaseDurationMs ? { leaseDurationMs: opts.leaseDurationMs } : {}),
        ...(opts.releaseOnCancel ? { releaseOnCancel: true } : {}),
        callbacks: {
          onStartedLeading: (s) => {
            leading = s;
            events.push({ e: 'started', t: Date.now() });
          },
          onStoppedLeading: () => events.push({ e: 'stopped', t: Date.now() }),
          onNewLeader: (who) => events.push({ e: 'new-leader', t: Date.now(), who }),
        },
      });
      const stop = new AbortController();
      const done = elector.run(stop.signal);
      return { id, elector, events, stop, done, leadingSignal: () => leading, started: () => events.find((x) => x.e === 'started') };
    }

    async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
      const deadline = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    it('one leads; the other takes over only after the leader stops renewing for a lease duration', async () => {
      const a = candidate('a');
      await until(() => !!a.started(), 2000, 'a to lead');
      const b = candidate('b');
      // b campaigns for a while and never leads while a renews.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(b.started(), undefined);
      assert.deepEqual(b.events.filter((x) => x.e === 'new-leader').map((x) => x.who), ['a']);
      // a "crashes": stops without releasing.
      const stoppedAt = Date.now();
      a.stop.abort();
      await a.done;
      assert.equal(a.leadingSignal()!.aborted, true);
      assert.deepEqual(a.events.map((x) => x.e).filter((e) => e !== 'new-leader'), ['started', 'stopped']);
      await until(() => !!b.started(), 4000, 'b to take over');
      const gap = b.started()!.t - stoppedAt;
      assert.ok(gap >= 1000 - timing.retryPeriodMs * (1 + JITTER_FACTOR) - 50, `b took over ${gap} ms after a's last renew window`);
      assert.ok(gap < 3000, `takeover took ${gap} ms`);
      assert.equal(lease().spec.holderIdentity, 'b');
      assert.equal(lease().spec.leaseTransitions, 1);
      b.stop.abort();
      await b.done;
    });

    it('steps down when renewals fail for renewDeadline, and calls onStoppedLeading', async () => {
      const a = candidate('a');
      await until(() => !!a.started(), 2000, 'a to lead');
      const deniedAt = Date.now();
      kube.deny({ verb: 'update', resource: 'leases' });
      kube.deny({ verb: 'get', resource: 'leases' });
      await a.done;
      const stopped = a.events.find((x) => x.e === 'stopped')!;
      const took = stopped.t - deniedAt;
      assert.equal(a.leadingSignal()!.aborted, true);
      assert.ok(took >= timing.renewDeadlineMs - timing.retryPeriodMs - 50, `stepped down after ${took} ms, before renewDeadline`);
      assert.ok(took <= timing.renewDeadlineMs + 2 * timing.retryPeriodMs + 300, `stepped down after ${took} ms`);
      assert.equal(a.elector.isLeader(), true, 'it never saw another holder; it stopped because it could not renew');
    });

    it('a Lease read the API server never answers fails at the lock deadline; the campaign goes on and leads', async () => {
      // the client has no deadline of its own: one hung read held the campaign forever and the standby never led
      kube.hangNext('GET', /\/leases\//);
      const events: string[] = [];
      const elector = new LeaderElector({
        lock: LeaseLock.fromKubeConfig(kube.kubeConfig(), { namespace: NS, name: LEASE, identity: 'c', timeoutMs: 400 }),
        ...timing,
        callbacks: { onStartedLeading: () => void events.push('started'), onStoppedLeading: () => void events.push('stopped') },
      });
      const stop = new AbortController();
      const t0 = Date.now();
      const done = elector.run(stop.signal);
      try {
        await until(() => events.includes('started'), 3000, 'c to lead after the hung read');
        assert.ok(Date.now() - t0 >= 350, 'the first read waited for its deadline');
        assert.equal(lease().spec.holderIdentity, 'c');
      } finally {
        stop.abort();
        await done;
      }
    });

    it('releases on cancel so a successor need not wait out the lease', async () => {
      const a = candidate('a', { releaseOnCancel: true, leaseDurationMs: 4000 });
      await until(() => !!a.started(), 2000, 'a to lead');
      const b = candidate('b', { leaseDurationMs: 4000 });
      await new Promise((r) => setTimeout(r, 400));
      const stoppedAt = Date.now();
      a.stop.abort();
      await a.done;
      assert.equal(lease().spec.holderIdentity, '');
      assert.equal(lease().spec.leaseDurationSeconds, 1);
      await until(() => !!b.started(), 3500, 'b to take over after the release');
      assert.ok(b.started()!.t - stoppedAt < 2500, `takeover took ${b.started()!.t - stoppedAt} ms with a 4 s lease`);
      assert.equal(lease().spec.holderIdentity, 'b');
      b.stop.abort();
      await b.done;
    });
  });
});
