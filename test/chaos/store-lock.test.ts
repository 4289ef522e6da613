// One writer per store, with real `scalepilot run` processes: a second `run` on the same store exits 2 naming the
// process that holds it (SQLite lease row, PostgreSQL advisory lock) and touches nothing, not even the first's live
// nginx.conf; with --wait-for-lock it waits and takes over once the holder is killed with SIGKILL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleServicePath } from '../../src/controller/demo.js';
import { openStore } from '../../src/store/index.js';
import { freePort, freePortRange, requireBinary, sleep, tempDir } from '../helpers/env.js';
import { startPostgres } from '../helpers/services.js';

const bin = join(process.cwd(), 'bin/scalepilot');

interface Proc { child: ChildProcess; out(): string; exit: Promise<number | null> }

function startRun(args: string[]): Proc {
  const child = spawn(process.execPath, [bin, 'run', '--no-server', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { child, out: () => out, exit };
}

async function until(what: string, timeoutMs: number, ok: () => boolean | Promise<boolean>, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}\n${detail()}`);
    await sleep(100);
  }
}

async function stop(p: Proc | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  await p.exit;
  clearTimeout(t);
}

const dryrunConfig = (store: string) => `syncPeriod: 1s\nstore: ${JSON.stringify(store)}\nservices:\n  api:\n    target: { provider: dryrun, replicas: 2 }\n    maxReplicas: 4\n`;

async function decisionsSince(storeUrl: string, since: number): Promise<number> {
  const s = await openStore(storeUrl);
  try {
    return (await s.history('api', since, { kinds: ['decision'] })).length;
  } finally {
    await s.close();
  }
}

test('SQLite + local provider + nginx: a second run on the same store exits 2 naming the holder and leaves the first alone', { timeout: 120_000 }, async () => {
  requireBinary('/usr/sbin/nginx', 'nginx');
  const dir = tempDir();
  const listen = await freePort();
  const portBase = await freePortRange(10);
  const file = join(dir.path, 'scalepilot.yaml');
  writeFileSync(file, `syncPeriod: 1s
store: sqlite:${join(dir.path, 'sp.db')}
services:
  web:
    target:
      provider: local
      command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(sampleServicePath())}]
      listen: 127.0.0.1:${listen}
      portBase: ${portBase}
      replicas: 1
      proxy: nginx
      healthPath: /healthz
      stateDir: ${JSON.stringify(join(dir.path, 'web'))}
    minReplicas: 1
    maxReplicas: 2
`);
  let first: Proc | undefined;
  let second: Proc | undefined;
  try {
    first = startRun(['-c', file, '--state-dir', dir.path]);
    await until('the first run serves through its nginx', 60_000, async () => {
      try {
        return (await fetch(`http://127.0.0.1:${listen}/healthz`, { signal: AbortSignal.timeout(1000) })).status === 200;
      } catch {
        return false;
      }
    }, () => first!.out());
    const conf = join(dir.path, 'web', 'web', 'nginx', 'nginx.conf');
    const confBefore = readFileSync(conf, 'utf8');
    const mtimeBefore = statSync(conf).mtimeMs;

    second = startRun(['-c', file, '--state-dir', dir.path]);
    const code = await Promise.race([second.exit, sleep(30_000).then(() => 'still running')]);
    assert.equal(code, 2, `the second run exits 2: ${second.out()}`);
    assert.match(second.out(), new RegExp(`store sqlite:.*sp\\.db is locked by another scalepilot run \\(pid ${first.child.pid} on host [^,]+, since \\d{4}-`));
    assert.match(second.out(), /--wait-for-lock/);
    assert.doesNotMatch(second.out(), /\n\s+at /, 'no stack trace');

    assert.equal(readFileSync(conf, 'utf8'), confBefore, "the first run's nginx.conf is untouched");
    assert.equal(statSync(conf).mtimeMs, mtimeBefore);
    assert.equal((await fetch(`http://127.0.0.1:${listen}/healthz`)).status, 200, 'the first run still serves');
    assert.equal(first.child.exitCode, null, 'the first run still runs');
  } finally {
    await stop(second);
    await stop(first);
    dir.cleanup();
  }
});

for (const kind of ['sqlite', 'postgres'] as const) {
  test(`${kind}: --wait-for-lock waits while the holder runs and takes over once it is killed with SIGKILL`, { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const pg = kind === 'postgres' ? await startPostgres() : undefined;
    const storeUrl = pg ? pg.url : `sqlite:${join(dir.path, 'sp.db')}`;
    const file = join(dir.path, 'scalepilot.yaml');
    writeFileSync(file, dryrunConfig(storeUrl));
    let first: Proc | undefined;
    let refused: Proc | undefined;
    let waiting: Proc | undefined;
    try {
      first = startRun(['-c', file]);
      await until('the first run records decisions', 30_000, async () => (await decisionsSince(storeUrl, 0)) >= 1, () => first!.out());

      refused = startRun(['-c', file]);
      assert.equal(await Promise.race([refused.exit, sleep(30_000).then(() => 'still running')]), 2, refused.out());
      const holder = kind === 'sqlite' ? `pid ${first.child.pid} on host` : `scalepilot run, pid ${first.child.pid} on host`;
      assert.ok(refused.out().includes(holder), `names the holder (${holder}): ${refused.out()}`);

      waiting = startRun(['-c', file, '--wait-for-lock']);
      await until('the second run says it waits', 30_000, () => /the store has another writer; waiting for it to stop/.test(waiting!.out()), () => waiting!.out());
      await sleep(2500);
      assert.equal(waiting.child.exitCode, null, 'still waiting while the holder runs');
      assert.doesNotMatch(waiting.out(), /scalepilot running/);

      first.child.kill('SIGKILL');
      await first.exit;
      const killedAt = Date.now();
      await until('the waiting run takes over', 30_000, () => /scalepilot running/.test(waiting!.out()), () => waiting!.out());
      await until('the new writer records', 15_000, async () => (await decisionsSince(storeUrl, killedAt)) >= 2);
      await stop(waiting);
      assert.equal(await waiting.exit, 0);
    } finally {
      await stop(waiting);
      await stop(refused);
      if (first && first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
      await pg?.stop();
      dir.cleanup();
    }
  });
}

test('sqlite: SIGTERM to a run waiting for the lock ends the wait at once, and a second one changes nothing', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const storeUrl = `sqlite:${join(dir.path, 'sp.db')}`;
  const file = join(dir.path, 'scalepilot.yaml');
  writeFileSync(file, dryrunConfig(storeUrl));
  let first: Proc | undefined;
  let waiting: Proc | undefined;
  try {
    first = startRun(['-c', file]);
    await until('the first run records decisions', 30_000, async () => (await decisionsSince(storeUrl, 0)) >= 1, () => first!.out());
    waiting = startRun(['-c', file, '--wait-for-lock']);
    await until('the second run says it waits', 30_000, () => /the store has another writer; waiting for it to stop/.test(waiting!.out()), () => waiting!.out());
    waiting.child.kill('SIGTERM');
    await sleep(50);
    waiting.child.kill('SIGTERM');
    assert.equal(await Promise.race([waiting.exit, sleep(15_000).then(() => 'still waiting')]), 2, waiting.out());
    assert.doesNotMatch(waiting.out(), /scalepilot running/);
    assert.equal(first.child.exitCode, null, 'the holder runs on');
    await stop(first);
    assert.equal(await first.exit, 0);
  } finally {
    await stop(waiting);
    await stop(first);
    dir.cleanup();
  }
});

test('postgres: a writer whose lock session is killed holds until it has the lock again, and stays held if another took it', { timeout: 120_000 }, async () => {
  const pgServer = await startPostgres();
  const { PostgresStore } = await import('../../src/store/postgres.js');
  const pg = (await import('pg')).default;
  const admin = new pg.Client({ connectionString: pgServer.url });
  const a = await PostgresStore.open(pgServer.url);
  const b = await PostgresStore.open(pgServer.url);
  try {
    await admin.connect();
    const killLockSession = async () => {
      const r = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = $1", [0x5ca1e1]);
      assert.equal(r.rowCount, 1, 'one session holds the writer lock');
    };
    const lock = await a.lock();
    assert.equal(lock.lost(), undefined);
    await killLockSession();
    await until('the writer notices its lock session is gone', 15_000, () => lock.lost() !== undefined);
    assert.match(lock.lost()!, /lock connection/);
    await until('the writer takes the lock again', 20_000, () => lock.lost() === undefined);

    // killed again, and this time another writer takes it first
    await killLockSession();
    const other = await b.lock();
    await until('the first writer sees it was taken over', 20_000, () => /taken over by scalepilot run, pid/.test(lock.lost() ?? ''));
    await sleep(6000);
    assert.match(lock.lost()!, /taken over/, 'it does not take the lock back from a live writer');
    await other.release();
    await until('free again: the first writer takes it back', 20_000, () => lock.lost() === undefined);
    await lock.release();
  } finally {
    await admin.end().catch(() => {});
    await a.close();
    await b.close();
    await pgServer.stop();
  }
});
