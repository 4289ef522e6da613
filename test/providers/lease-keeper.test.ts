// LeaseKeeper: a workload's lease taken before acting and renewed on its own timer; what it says when renewals fail,
// come back, or find the lease taken by another run. The lease here answers as scripted; the providers' own leases
// are tested against a real dockerd (compose-lease) and the fake API server (kubernetes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseKeeper, type Lease } from '../../src/providers/lease-keeper.js';

class Taken extends Error {}

test('renewals: a failing streak is said once, its end once, and a lease taken by another run stops the renewals', async () => {
  const answers: Array<'ok' | 'fail' | 'taken'> = [];
  let holds = 0;
  let released = 0;
  const lease: Lease = {
    durationMs: 300,
    async hold() {
      holds++;
      const a = answers.shift() ?? 'ok';
      if (a === 'fail') throw new Error('engine hung');
      if (a === 'taken') throw new Taken('held by run-b');
    },
    async release() { released++; },
  };
  const events: Array<[string, string]> = [];
  const keeper = new LeaseKeeper(lease, { what: 'test: web', prefix: 'test: ', keptAs: 'a scripted lease', heldElsewhere: (e) => e instanceof Taken, event: (kind, _level, message) => events.push([kind, message]) });
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // the timer ticks every 100 ms; on a busy machine later, so each step waits for what it expects (up to 5 s)
  const until = async (what: string, ok: () => boolean) => {
    const deadline = Date.now() + 5000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(events)}`);
      await wait(20);
    }
  };

  await keeper.claim();
  await keeper.claim();
  assert.deepEqual(events, [['lease-taken', 'test: web: this run now drives it (a scripted lease)']], 'taken said once');
  answers.push('fail', 'fail', 'fail');
  await until('three failed renewals and a good one', () => answers.length === 0 && events.at(-1)![0] === 'lease-renewed');
  assert.deepEqual(events.slice(1), [
    ['lease-renewal-failed', 'test: web: its lease could not be renewed (engine hung); this run stops acting on it if that lasts 0 s'],
    ['lease-renewed', 'test: web: its lease is renewed again'],
  ], 'the failing streak said once, its end once');
  answers.push('taken');
  await until('the lease lost', () => events.at(-1)![0] === 'lease-lost');
  assert.deepEqual(events.at(-1), ['lease-lost', 'test: held by run-b']);
  const after = holds;
  await wait(350);
  assert.equal(holds, after, 'no renewals once another run holds it');
  // a claim now fails as hold() does, without saying "lost" again
  answers.push('taken');
  await assert.rejects(keeper.claim(), Taken);
  assert.equal(events.filter((e) => e[0] === 'lease-lost').length, 1);
  // taken back: said again, and renewed again
  await keeper.claim();
  assert.equal(events.at(-1)![0], 'lease-taken');
  await keeper.close();
  assert.equal(released, 1);
  const closedAt = holds;
  await wait(250);
  assert.equal(holds, closedAt, 'no renewals after close');
});
