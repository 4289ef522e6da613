// Config reload under `run` never stops what runs by accident: a half-written file that parses, a removed service,
// `services: {}` and a changed target all leave the replicas and fronts running (with a log line saying how to stop
// them) until the operator asks: SIGUSR2, or `run --prune`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, sleep, tempDir, freePortRange } from '../helpers/env.js';
import { processAlive } from '../../src/providers/local/proc.js';
import { get, killLeftovers, leftovers, localConfig, readState, readyPids, startRun, until, type LocalService, type RunProcess } from './helpers.js';

async function services(marker: string): Promise<Record<string, LocalService>> {
  return {
    a: { listen: await freePort(), portBase: await freePortRange(2), replicas: 1, proxy: 'builtin', marker },
    b: { listen: await freePort(), portBase: await freePortRange(2), replicas: 1, proxy: 'builtin', marker },
  };
}

/** Holds for `ms` that every pid stays alive and every front answers 200. */
async function staysUp(ms: number, pids: number[], fronts: string[]): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (const p of pids) assert.ok(processAlive(p), `replica pid ${p} was stopped`);
    for (const f of fronts) assert.equal((await get(f))?.status, 200, `${f} stopped serving`);
    await sleep(200);
  }
}

test('reload: a half-written file, a removed service, a changed target and services: {} stop nothing until SIGUSR2 or a clean stop', { timeout: 120_000 }, async (t) => {
  const dir = tempDir();
  const marker = `reload-${process.pid}-${Date.now()}`;
  const stateDir = join(dir.path, 'state');
  const file = join(dir.path, 'scalepilot.yaml');
  const svc = await services(marker);
  const full = localConfig(dir.path, svc);
  writeFileSync(file, full);
  const fronts = Object.values(svc).map((s) => `http://127.0.0.1:${s.listen}/`);
  let run: RunProcess | undefined;
  try {
    run = startRun(['-c', file, '--state-dir', stateDir, '--no-server']);
    const r = run;
    const pidOf = (s: string) => readyPids(readState(stateDir, s))[0];
    await until('both services serve', 30_000, async () => (await Promise.all(fronts.map(get))).every((x) => x?.status === 200) && pidOf('a') !== undefined && pidOf('b') !== undefined, () => r.out());
    const pids = [pidOf('a')!, pidOf('b')!];

    // 1. a slow writer: the first part (service a only, which parses) sits there for 700 ms before the rest arrives
    const cut = full.indexOf('  b:\n');
    writeFileSync(file, full.slice(0, cut));
    await sleep(700);
    appendFileSync(file, full.slice(cut));
    await staysUp(3000, pids, fronts);

    // 2. b removed for real, and a's target changed: both keep running, the log says how to stop them
    writeFileSync(file, localConfig(dir.path, { a: { ...svc.a, env: { CHANGED: '1' } } }));
    await until('the reload reports what it kept running', 15_000, () => /removed services keep running: b/.test(r.out()) && /changed targets not applied.*: a/.test(r.out()), () => r.out());
    assert.match(r.out(), new RegExp(`kill -USR2 ${r.pid}`));
    await staysUp(2000, pids, fronts);

    // 3. the operator asks: SIGUSR2 stops b and applies a's new target (a new replica replaces the old one)
    process.kill(r.pid, 'SIGUSR2');
    await until('SIGUSR2 stopped b and restarted a on its new target', 30_000, async () => {
      const aPid = pidOf('a');
      return !processAlive(pids[1]!) && (await get(fronts[1]!)) === undefined && aPid !== undefined && aPid !== pids[0] && (await get(fronts[0]!))?.status === 200;
    }, () => r.out());
    assert.ok(!processAlive(pids[0]!), "a's old replica is stopped");
    const a2 = pidOf('a')!;

    // 4. services: {} keeps a running; a clean stop then stops it as well
    writeFileSync(file, `store: sqlite:${join(dir.path, 'sp.db')}\nservices: {}\n`);
    await until('the empty config is applied', 15_000, () => /removed services keep running: a\b/.test(r.out()), () => r.out());
    await staysUp(2000, [a2], [fronts[0]!]);

    run.child.kill('SIGTERM');
    assert.equal((await run.exited).code, 0, run.out());
    assert.deepEqual(leftovers(marker, dir.path, []), []);
  } finally {
    if (run && run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    killLeftovers(marker, dir.path, []);
    dir.cleanup();
  }
  t.diagnostic('no replica stopped by a reload until SIGUSR2');
});

test('reload with run --prune stops a removed service once the file has settled', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const marker = `prune-${process.pid}-${Date.now()}`;
  const stateDir = join(dir.path, 'state');
  const file = join(dir.path, 'scalepilot.yaml');
  const svc = await services(marker);
  writeFileSync(file, localConfig(dir.path, svc));
  const fronts = Object.values(svc).map((s) => `http://127.0.0.1:${s.listen}/`);
  let run: RunProcess | undefined;
  try {
    run = startRun(['-c', file, '--state-dir', stateDir, '--no-server', '--prune']);
    const r = run;
    const pidOf = (s: string) => readyPids(readState(stateDir, s))[0];
    await until('both services serve', 30_000, async () => (await Promise.all(fronts.map(get))).every((x) => x?.status === 200) && pidOf('a') !== undefined && pidOf('b') !== undefined, () => r.out());
    const [a, b] = [pidOf('a')!, pidOf('b')!];
    writeFileSync(file, localConfig(dir.path, { a: svc.a }));
    await until('b is stopped', 20_000, async () => !processAlive(b) && (await get(fronts[1]!)) === undefined, () => r.out());
    assert.ok(processAlive(a), 'a keeps running');
    assert.equal((await get(fronts[0]!))?.status, 200);
    run.child.kill('SIGTERM');
    assert.equal((await run.exited).code, 0, run.out());
    assert.deepEqual(leftovers(marker, dir.path, []), []);
  } finally {
    if (run && run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    killLeftovers(marker, dir.path, []);
    dir.cleanup();
  }
});

test('reload: a config file past the config limit (one that never ends) is not read whole; the reload is refused and run goes on', { timeout: 60_000 }, async () => {
  // the watcher read the whole file to compare it with the last one: a file gigabytes long took that much memory
  const dir = tempDir();
  const file = join(dir.path, 'scalepilot.yaml');
  const config = `syncPeriod: 1s\nstore: sqlite:${join(dir.path, 'sp.db')}\nservices:\n  web:\n    target: { provider: dryrun }\n    maxReplicas: 3\n`;
  writeFileSync(file, config);
  let run: RunProcess | undefined;
  try {
    run = startRun(['-c', file, '--state-dir', join(dir.path, 'state'), '--no-server']);
    const r = run;
    await until('run is up', 20_000, () => /scalepilot running/.test(r.out()), () => r.out());
    // a file that never ends: the config path replaced by a link to /dev/zero
    rmSync(file);
    symlinkSync('/dev/zero', file);
    await until('the reload is refused as too large', 20_000, () => /larger than 16 MB|too large|exceeds/i.test(r.out()), () => r.out().slice(-3000));
    await sleep(2000);
    assert.equal(r.child.exitCode, null, 'run goes on');
    const rss = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${r.pid}/status`, 'utf8'))?.[1]);
    assert.ok(rss < 400 * 1024, `peak RSS ${Math.round(rss / 1024)} MiB`);
  } finally {
    if (run && run.child.exitCode === null) {
      run.child.kill('SIGTERM');
      await run.exited;
    }
    dir.cleanup();
  }
});
