// The local provider's state file on a full disk (a real tmpfs filled to ENOSPC): no replica is started while the
// replicas cannot be recorded in state.json, since a restarted scalepilot could neither adopt nor stop one it never
// recorded. The target reports itself degraded with the reason, a scale-down still goes ahead, and once the disk has
// room the next scale-up starts and records its replicas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LocalProvider } from '../../src/providers/local.js';
import { ProviderError, type ProviderEvent, type TargetRef } from '../../src/providers/types.js';
import { freePort, freePortRange, sleep } from '../helpers/env.js';
import { mountSmallDisk } from '../helpers/faults.js';

const SAMPLE_SERVER = resolve('examples', 'sample-service', 'server.mjs');

test('local provider: no replica is started while state.json cannot be written; scale-downs go ahead', { timeout: 60_000 }, async () => {
  const disk = mountSmallDisk('1m');
  const events: ProviderEvent[] = [];
  const p = new LocalProvider({ onEvent: (e) => events.push(e) });
  const t: TargetRef = {
    service: 'web',
    provider: 'local',
    spec: {
      command: [process.execPath, SAMPLE_SERVER],
      listen: `127.0.0.1:${await freePort()}`,
      portBase: await freePortRange(4),
      replicas: 2,
      proxy: 'builtin',
      healthTimeout: '10s',
      restartBackoff: '200ms',
      stateDir: disk.dir,
    },
  };
  const file = join(disk.dir, 'web', 'state.json');
  const processes = () => (JSON.parse(readFileSync(file, 'utf8')) as { processes: Array<{ index: number; pid: number }> }).processes;
  const recorded = () => processes().length;
  try {
    assert.equal((await p.observe(t)).readyReplicas, 2);
    assert.equal(recorded(), 2);
    disk.fill();
    await assert.rejects(p.scale(t, 3, { dryRun: false, drainMs: 0 }), (e: unknown) =>
      e instanceof ProviderError && /web: cannot record replicas in .*state\.json \(ENOSPC\): not starting replicas a restarted scalepilot could not find or stop/.test(e.message));
    let s = await p.observe(t);
    assert.equal(s.pods.length, 2, 'nothing was started');
    assert.match(s.degraded?.join('; ') ?? '', /state: cannot record replicas in .*\(ENOSPC\); no replica is started until it can be/);
    assert.equal(events.filter((e) => e.kind === 'state-write-failed').length, 1, 'said once, not at every sync');
    // taking capacity away needs no new record to be safe
    const first = processes().find((x) => x.index === 0)!;
    await p.scale(t, 1, { dryRun: false, drainMs: 0 });
    assert.equal((await p.observe(t)).pods.length, 1);
    // a crashed replica is not restarted either while its new process could not be recorded
    process.kill(first.pid, 'SIGKILL');
    await sleep(1500);
    s = await p.observe(t);
    assert.equal(s.readyReplicas, 0);
    assert.deepEqual([s.pods[0]!.phase, s.pods[0]!.reason, s.pods[0]!.restarts], ['Failed', 'CrashLoopBackOff', 0], 'not restarted in 1.5 s of 200 ms back-off');
    assert.match(s.degraded?.join('; ') ?? '', /no replica is started until it can be/);
    disk.free();
    s = await p.observe(t);
    assert.equal(s.degraded, undefined);
    assert.ok(events.some((e) => e.kind === 'state-write-recovered'));
    for (let i = 0; i < 100 && (await p.observe(t)).readyReplicas < 1; i++) await sleep(100);
    assert.equal((await p.observe(t)).readyReplicas, 1, 'restarted once it can be recorded');
    assert.notEqual(processes()[0]!.pid, first.pid);
    await p.scale(t, 3, { dryRun: false, drainMs: 0 });
    assert.equal((await p.observe(t)).readyReplicas, 3);
    assert.equal(recorded(), 3);
  } finally {
    await p.close();
    disk.cleanup();
  }
});
