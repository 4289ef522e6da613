// Who drives a Compose service, on a real Docker Engine (a private dockerd): the lease a `run` keeps in the Engine as
// labelled volumes. A second scalepilot with another state dir (another config, store or host) is refused while the
// first holds the service, and takes it over when the first stops, is killed with SIGKILL, or (on another host) stops
// renewing. Writes of one epoch race on the Engine's own atomic volume create: exactly one wins.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import dockerode from 'dockerode';
import { ComposeProvider } from '../../src/providers/compose.js';
import { EngineLease, LeaseHeldElsewhere, leaseKey, type EngineCaller } from '../../src/providers/compose-lease.js';
import { createProvider } from '../../src/providers/index.js';
import { ProviderError, type ProviderEvent, type TargetRef } from '../../src/providers/types.js';
import { sleep, tempDir } from '../helpers/env.js';
import { DOCKER_CLI, requireDockerCompose, startDockerd, type PrivateDockerd } from '../helpers/docker.js';

describe('compose: the lease on a Compose service, on a real Docker Engine', () => {
  let engine: PrivateDockerd;
  let docker: dockerode;
  const dir = tempDir();
  const file = join(dir.path, 'compose.yaml');
  const t: TargetRef = { service: 'web', provider: 'compose', spec: { project: 'shop', file: 'compose.yaml', dockerPath: DOCKER_CLI } };
  const open: ComposeProvider[] = [];
  const provider = (identity: string, extra: { durationMs?: number; events?: ProviderEvent[] } = {}) => {
    const p = new ComposeProvider({
      socketPath: engine.socketPath,
      baseDir: dir.path,
      lease: { identity, stateDir: `/srv/${identity}`, ...(extra.durationMs ? { durationMs: extra.durationMs } : {}) },
      ...(extra.events ? { onEvent: (e: ProviderEvent) => extra.events!.push(e) } : {}),
    });
    open.push(p);
    return p;
  };
  const call: EngineCaller = (_doing, fn) => fn(AbortSignal.timeout(10_000));
  const leaseVolumes = () => engine.docker(['volume', 'ls', '-q', '--filter', `label=io.scalepilot.lease=${leaseKey('shop', 'web')}`]).split('\n').filter(Boolean);
  const containers = () => engine.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.project=shop', '--filter', 'label=com.docker.compose.service=web']).split('\n').filter(Boolean).length;
  const clear = () => {
    const v = leaseVolumes();
    if (v.length) engine.docker(['volume', 'rm', ...v]);
  };

  before(async () => {
    requireDockerCompose();
    engine = await startDockerd();
    docker = new dockerode({ socketPath: engine.socketPath });
    const image = engine.importBusyboxImage('scalepilot-test/busybox:local');
    writeFileSync(file, ['services:', '  web:', `    image: ${image}`, '    command: ["sleep", "3600"]', ''].join('\n'));
  });
  after(async () => {
    for (const p of open) await p.close().catch(() => undefined);
    await engine?.stop();
    dir.cleanup();
  });

  it('a second scalepilot is refused while the first drives the service, and takes it over once the first stops', async () => {
    clear();
    const eventsA: ProviderEvent[] = [];
    const a = provider('run-a', { events: eventsA });
    const b = provider('run-b');
    await a.scale(t, 1, { dryRun: false, drainMs: 1000 });
    assert.equal((await a.observe(t)).replicas, 1);
    assert.ok(eventsA.some((e) => e.kind === 'lease-taken' && /shop\/web: this run now drives it/.test(e.message)), JSON.stringify(eventsA));
    const refused = (e: unknown) => {
      assert.ok(e instanceof ProviderError && e.retryable, String(e));
      assert.equal(e.retryInMs, 30_000, 'looked at again within a lease duration, whatever the back-off');
      assert.match(e.message, new RegExp(`compose service shop/web on unix://.* is driven by another scalepilot \\(pid ${process.pid} on .*, state dir /srv/run-a, lease renewed \\d{4}-`));
      assert.match(e.message, /Stop the other run, or give each Compose service to one config/);
      return true;
    };
    await assert.rejects(b.observe(t), refused);
    await assert.rejects(b.scale(t, 3, { dryRun: false, drainMs: 1000 }), refused);
    assert.equal(containers(), 1, 'the refused scale changed nothing');
    // a dry run acts on nothing and needs no lease
    await b.scale(t, 3, { dryRun: true, drainMs: 1000 });

    await a.close();
    assert.deepEqual(leaseVolumes(), [], 'a run that stops gives its lease up');
    await b.scale(t, 2, { dryRun: false, drainMs: 1000 });
    assert.equal((await b.observe(t)).replicas, 2);
    const again = provider('run-a');
    await assert.rejects(again.observe(t), /driven by another scalepilot \(.*state dir \/srv\/run-b/);
    await b.close();
  });

  it('the holder renews its lease while it runs: a live holder is never taken over, however long the other waits', async () => {
    clear();
    const a = provider('live-a', { durationMs: 1500 });
    const b = provider('live-b', { durationMs: 1500 });
    await a.observe(t);
    const until = Date.now() + 4000;
    let tries = 0;
    while (Date.now() < until) {
      await assert.rejects(b.observe(t), /driven by another scalepilot/);
      tries++;
      await sleep(300);
    }
    assert.ok(tries >= 8);
    assert.ok(leaseVolumes().length <= 2, `old records are removed as new ones are written: ${leaseVolumes().join(', ')}`);
    await a.close();
    await b.observe(t);
    await b.close();
  });

  it('a release while a renewal is being written waits for it, so no record outlives the release', async () => {
    clear();
    const l = new EngineLease(docker, call, { what: 'shop/web', project: 'shop', service: 'web', identity: 'racing', stateDir: '/srv/racing', durationMs: 1500 });
    await l.hold();
    // past a third of the duration, the next hold() writes a new record: release at the same moment
    await sleep(600);
    const renewal = l.hold();
    await l.release();
    await renewal;
    assert.deepEqual(leaseVolumes(), [], 'released with the renewal\'s record too');
    const other = provider('after-race', { durationMs: 1500 });
    await other.observe(t);
    await other.close();
  });

  it('a holder on another host that stops renewing is taken over once its record stays unchanged for the lease duration', async () => {
    clear();
    const far = new EngineLease(docker, call, { what: 'shop/web', project: 'shop', service: 'web', identity: 'far', stateDir: '/srv/far', durationMs: 1500, host: 'another-host', pid: 4242 });
    await far.hold();
    const b = provider('near', { durationMs: 1500 });
    const t0 = Date.now();
    await assert.rejects(b.observe(t), /pid 4242 on another-host, state dir \/srv\/far.*until its lease goes 2 s without renewal/);
    for (;;) {
      try {
        await b.observe(t);
        break;
      } catch (e) {
        assert.match((e as Error).message, /driven by another scalepilot/);
        assert.ok(Date.now() - t0 < 10_000, 'taken over within the lease duration');
        await sleep(200);
      }
    }
    assert.ok(Date.now() - t0 >= 1400, `not before the lease duration (${Date.now() - t0} ms)`);
    assert.equal(leaseVolumes().length, 1, 'the expired record is removed');
    // the old holder, come back, finds the service taken and does not act
    await assert.rejects(far.hold(), (e: unknown) => e instanceof LeaseHeldElsewhere && e.holder.stateDir === '/srv/near');
    await b.close();
  });

  it('a holder on this host killed with SIGKILL is taken over at once: its pid is gone', async () => {
    clear();
    const script = join(dir.path, 'hold.mts');
    writeFileSync(script, [
      `import dockerode from ${JSON.stringify(resolve('node_modules/dockerode/lib/docker.js'))};`,
      `import { EngineLease } from ${JSON.stringify(resolve('src/providers/compose-lease.ts'))};`,
      `const docker = new dockerode({ socketPath: ${JSON.stringify(engine.socketPath)} });`,
      `const lease = new EngineLease(docker, (_d, fn) => fn(AbortSignal.timeout(10_000)), { what: 'shop/web', project: 'shop', service: 'web', identity: 'child', stateDir: '/srv/child' });`,
      'await lease.hold();',
      "process.stdout.write('held\\n');",
      'setInterval(() => {}, 1000);',
    ].join('\n'));
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((res, rej) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && res());
        child.once('exit', (c) => rej(new Error(`the holder exited (${c}) before it held the lease`)));
      });
      const b = provider('after-kill');
      await assert.rejects(b.observe(t), new RegExp(`pid ${child.pid} on .*state dir /srv/child`));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const t0 = Date.now();
      await b.observe(t);
      assert.ok(Date.now() - t0 < 5000, 'no wait for the 30 s lease');
      await b.close();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('writers racing for the same record: exactly one holds it', async () => {
    clear();
    const racers = Array.from({ length: 8 }, (_, i) => new EngineLease(docker, call, { what: 'shop/web', project: 'shop', service: 'web', identity: `racer-${i}`, stateDir: `/srv/racer-${i}` }));
    const results = await Promise.allSettled(racers.map((r) => r.hold()));
    const won = results.filter((r) => r.status === 'fulfilled').length;
    assert.equal(won, 1, JSON.stringify(results.map((r) => (r.status === 'fulfilled' ? 'held' : String(r.reason)))));
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof LeaseHeldElsewhere || /changed while it was written/.test(String(r.reason)), String(r.reason));
    const winner = racers[results.findIndex((r) => r.status === 'fulfilled')]!;
    await winner.release();
    assert.deepEqual(leaseVolumes(), []);
  });

  it('volumes that squat the next record names without being lease records are stepped over; too many are named', async () => {
    clear();
    const key = leaseKey('shop', 'web');
    engine.docker(['volume', 'create', `scalepilot-lease-${key}-0`]);
    engine.docker(['volume', 'create', '--label', `io.scalepilot.lease=${key}`, '--label', 'io.scalepilot.lease.epoch=x', `scalepilot-lease-${key}-1`]);
    const lease = new EngineLease(docker, call, { what: 'shop/web', project: 'shop', service: 'web', identity: 'stepper', stateDir: '/srv/stepper' });
    await lease.hold();
    assert.ok(leaseVolumes().includes(`scalepilot-lease-${key}-2`), leaseVolumes().join(', '));
    await lease.release();
    // eight names in a row squatted: the write gives up, naming them
    for (let i = 2; i < 8; i++) engine.docker(['volume', 'create', `scalepilot-lease-${key}-${i}`]);
    const blocked = new EngineLease(docker, call, { what: 'shop/web', project: 'shop', service: 'web', identity: 'blocked', stateDir: '/srv/blocked' });
    await assert.rejects(blocked.hold(), new RegExp(`volumes scalepilot-lease-${key}-0 to -7 exist but are not lease records; remove them`));
    engine.docker(['volume', 'rm', ...Array.from({ length: 8 }, (_, i) => `scalepilot-lease-${key}-${i}`)]);
    await blocked.hold();
    await blocked.release();
  });

  it('only the acting run takes leases: createProvider gives one to a provider with a state dir, none to a dry run or a report', async () => {
    clear();
    const spec: TargetRef = { ...t, spec: { ...t.spec, socketPath: engine.socketPath, file } };
    const acting = createProvider(spec, { stateDir: join(dir.path, 'state'), baseDir: dir.path });
    const dry = createProvider(spec, { stateDir: join(dir.path, 'state2'), baseDir: dir.path, dryRun: true });
    const report = createProvider(spec, { baseDir: dir.path, readOnly: true });
    try {
      await dry.observe(spec);
      await report.observe(spec);
      assert.deepEqual(leaseVolumes(), []);
      await acting.observe(spec);
      assert.equal(leaseVolumes().length, 1);
      await dry.observe(spec);
      await report.observe(spec);
    } finally {
      for (const p of [acting, dry, report]) await p.close?.();
    }
    assert.deepEqual(leaseVolumes(), []);
  });

  it('a one-shot command that acts (rollback) takes the lease too: refused while a run holds it, and gives it up when done', async () => {
    clear();
    const spec: TargetRef = { ...t, spec: { ...t.spec, socketPath: engine.socketPath, file } };
    // the run is another process: another identity (a provider made here would share this process's)
    const run = new ComposeProvider({ socketPath: engine.socketPath, baseDir: dir.path, lease: { identity: 'the-run', stateDir: '/srv/the-run' } });
    const rollback = createProvider(spec, { baseDir: dir.path, oneShot: 'scalepilot rollback' });
    const dryRollback = createProvider(spec, { baseDir: dir.path, dryRun: true, oneShot: 'scalepilot rollback' });
    try {
      await run.observe(spec);
      const before = containers();
      await assert.rejects(rollback.scale(spec, before + 1, { dryRun: false, drainMs: 1000 }), (e: unknown) => e instanceof ProviderError && /driven by another scalepilot/.test(e.message) && e.retryInMs !== undefined);
      assert.equal(containers(), before);
      await dryRollback.observe(spec);
      await run.close?.();
      // the run is gone: the rollback holds the lease while it acts, and names itself to anyone refused meanwhile
      await rollback.observe(spec);
      const waiting = provider('another-run');
      await assert.rejects(waiting.observe(spec), (e: unknown) => e instanceof ProviderError && /state dir none \(scalepilot rollback\)/.test(e.message));
      await rollback.close?.();
      assert.deepEqual(leaseVolumes(), []);
      await waiting.observe(spec);
    } finally {
      for (const p of [run, rollback, dryRollback]) await p.close?.();
    }
  });
});
