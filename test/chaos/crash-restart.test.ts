// `kill -9` of `scalepilot run` on the local provider, with nginx and with the built-in proxy in front: the replicas
// and the front outlive it (Node cannot make them die with it), so the next `run` on the same state dir must adopt the
// replicas, replace the dead run's front and serve again within a sync; a clean stop afterwards leaves no process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, requireBinary, tempDir, freePortRange } from '../helpers/env.js';
import { processAlive } from '../../src/providers/local/proc.js';
import { get, killLeftovers, leftovers, localConfig, NGINX, readState, readyPids, startRun, until, type RunProcess } from './helpers.js';

for (const proxy of ['nginx', 'builtin'] as const) {
  test(`kill -9 of run (${proxy} front): the next run adopts the replicas, serves within a sync, and a clean stop leaves 0 processes`, { timeout: 120_000 }, async (t) => {
    if (proxy === 'nginx') requireBinary(NGINX, 'nginx');
    const dir = tempDir();
    const marker = `crash-${proxy}-${process.pid}-${Date.now()}`;
    const stateDir = join(dir.path, 'state');
    const listen = await freePort();
    const portBase = await freePortRange(3);
    const file = join(dir.path, 'scalepilot.yaml');
    writeFileSync(file, localConfig(dir.path, { web: { listen, portBase, replicas: 2, proxy, marker } }));
    const args = ['-c', file, '--state-dir', stateDir, '--no-server'];
    const pgids = new Set<number>();
    const front = `http://127.0.0.1:${listen}/`;
    let run: RunProcess | undefined;
    try {
      run = startRun(args);
      const first = run;
      await until('the first run serves through its front with 2 replicas', 30_000, async () => (await get(front))?.status === 200 && readyPids(readState(stateDir, 'web')).length === 2, () => first.out());
      const before = readState(stateDir, 'web')!;
      if (before.proxy.pgid) pgids.add(before.proxy.pgid);
      const replicaPids = readyPids(before);

      run.child.kill('SIGKILL');
      await run.exited;
      // what kill -9 leaves: every replica (and nginx) is still running, holding its port
      assert.ok(replicaPids.every(processAlive), 'replicas outlive a kill -9 of run');

      const restartedAt = Date.now();
      run = startRun(args);
      const second = run;
      // serving again means through the restarted run's own front (the dead run's nginx may still answer until then)
      const ownFront = () => {
        const st = readState(stateDir, 'web');
        return st?.ownerPid === second.pid && (proxy === 'builtin' || (st.proxy.pgid !== undefined && st.proxy.pgid !== before.proxy.pgid));
      };
      await until('the restarted run serves through its own front', 30_000, async () => ownFront() && (await get(front))?.status === 200, () => second.out());
      const serveMs = Date.now() - restartedAt;
      t.diagnostic(`${proxy}: restart to serving ${serveMs} ms`);
      const after = readState(stateDir, 'web')!;
      if (after.proxy.pgid) pgids.add(after.proxy.pgid);
      assert.deepEqual(readyPids(after), replicaPids, `the running replicas were adopted, not replaced:\n${second.out()}`);
      assert.doesNotMatch(second.out(), /PortInUse|Address already in use|bind\(\)/, 'no replica or front fought over a port');
      assert.match(second.out(), /adopted web-0/);
      // both adopted replicas take traffic through the new front
      const ports = new Set<string>();
      for (let i = 0; i < 40 && ports.size < 2; i++) ports.add(/port=(\d+)/.exec((await get(front))?.body ?? '')?.[1] ?? '');
      assert.deepEqual([...ports].sort(), [String(portBase), String(portBase + 1)]);

      run.child.kill('SIGTERM');
      const { code } = await run.exited;
      assert.equal(code, 0, run.out());
      const left = leftovers(marker, dir.path, pgids);
      t.diagnostic(`${proxy}: orphans after kill -9, restart and clean stop: ${left.length}`);
      assert.deepEqual(left, [], 'no replica or front process is left');
      assert.equal(await get(front), undefined, 'nothing listens on the front port');
    } finally {
      if (run && run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
      killLeftovers(marker, dir.path, pgids);
      dir.cleanup();
    }
  });
}

test('kill -9 of run, then a restart on a config without one service: its leftovers are named, and stopped with --prune', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const marker = `gone-${process.pid}-${Date.now()}`;
  const stateDir = join(dir.path, 'state');
  const file = join(dir.path, 'scalepilot.yaml');
  const a = { listen: await freePort(), portBase: await freePortRange(2), replicas: 1, proxy: 'builtin' as const, marker };
  const b = { ...a, listen: await freePort(), portBase: await freePortRange(2) };
  writeFileSync(file, localConfig(dir.path, { a, b }));
  const args = ['-c', file, '--state-dir', stateDir, '--no-server'];
  let run: RunProcess | undefined;
  try {
    run = startRun(args);
    const first = run;
    await until('both services run', 30_000, () => readyPids(readState(stateDir, 'a')).length === 1 && readyPids(readState(stateDir, 'b')).length === 1, () => first.out());
    const bPid = readyPids(readState(stateDir, 'b'))[0]!;
    run.child.kill('SIGKILL');
    await run.exited;

    writeFileSync(file, localConfig(dir.path, { a }));
    run = startRun(args);
    const second = run;
    await until('the restart names what b left running', 20_000, () => new RegExp(`b is not in the config.*pids ${bPid}.*--prune`).test(second.out()), () => second.out());
    assert.ok(processAlive(bPid), 'without --prune nothing of b is stopped');
    run.child.kill('SIGTERM');
    assert.equal((await run.exited).code, 0, run.out());

    run = startRun([...args, '--prune']);
    const third = run;
    await until('--prune stopped b', 20_000, () => !processAlive(bPid), () => third.out());
    await until('a serves', 20_000, async () => (await get(`http://127.0.0.1:${a.listen}/`))?.status === 200, () => third.out());
    run.child.kill('SIGTERM');
    assert.equal((await run.exited).code, 0, run.out());
    assert.deepEqual(leftovers(marker, dir.path, []), []);
  } finally {
    if (run && run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    killLeftovers(marker, dir.path, []);
    dir.cleanup();
  }
});

test('a second SIGINT or SIGTERM during the clean stop is said and ignored: the stop finishes and leaves 0 processes', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const marker = `twice-${process.pid}-${Date.now()}`;
  const stateDir = join(dir.path, 'state');
  const file = join(dir.path, 'scalepilot.yaml');
  const web = { listen: await freePort(), portBase: await freePortRange(2), replicas: 2, proxy: 'builtin' as const, marker };
  writeFileSync(file, localConfig(dir.path, { web }));
  let run: RunProcess | undefined;
  try {
    run = startRun(['-c', file, '--state-dir', stateDir, '--no-server']);
    const first = run;
    await until('2 replicas serve', 30_000, async () => readyPids(readState(stateDir, 'web')).length === 2 && (await get(`http://127.0.0.1:${web.listen}/`))?.status === 200, () => first.out());
    const pids = readyPids(readState(stateDir, 'web'));
    // once: the second signal took the default exit part way through the stop, and the replicas were left running
    run.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    run.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 50));
    run.child.kill('SIGTERM');
    const { code, signal } = await run.exited;
    assert.deepEqual([code, signal], [0, null], run.out());
    assert.match(run.out(), /already stopping/);
    assert.deepEqual(pids.filter(processAlive), []);
    assert.deepEqual(leftovers(marker, dir.path, []), []);
  } finally {
    if (run && run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    killLeftovers(marker, dir.path, []);
    dir.cleanup();
  }
});
