// `scalepilot run` as a process with its SQLite store on a 2 MB tmpfs that fills up: /metrics and the API say the
// store is failing while it lasts, and once space is back every sync's decision is in the store (no gap in the log).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { freePort, sleep, tempDir } from '../helpers/env.js';
import { mountSmallDisk } from '../helpers/faults.js';

const bin = join(process.cwd(), 'bin/scalepilot');

async function until(what: string, timeoutMs: number, ok: () => Promise<boolean>, detail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}\n${detail()}`);
    await sleep(200);
  }
}

test('run on a store whose disk fills: degraded in /metrics and the API while it lasts, no decision missing after', { timeout: 120_000 }, async () => {
  const disk = mountSmallDisk('2m');
  const dir = tempDir();
  const port = await freePort();
  const db = join(disk.dir, 'sp.db');
  const file = join(dir.path, 'scalepilot.yaml');
  writeFileSync(file, `syncPeriod: 1s\nstore: sqlite:${db}\nservices:\n  api:\n    target: { provider: dryrun, replicas: 3 }\n    minReplicas: 1\n    maxReplicas: 2\n`);
  const child = spawn(process.execPath, [bin, 'run', '-c', file, '--listen', `127.0.0.1:${port}`, '--state-dir', dir.path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const metric = async (name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  };
  try {
    await until('run serves /metrics', 30_000, async () => /scalepilot running/.test(out) && (await metric('scalepilot_store_pending_records')) === 0, () => out);
    await sleep(2000);
    const filledAt = Date.now();
    disk.fill();
    await until('/metrics shows records waiting for the store', 30_000, async () => (await metric('scalepilot_store_pending_records')) >= 3, () => out);
    assert.equal(await metric('scalepilot_store_blocked'), 1);
    assert.ok((await metric('scalepilot_store_write_failures_total')) >= 1);
    const svc = (await (await fetch(`http://127.0.0.1:${port}/api/v1/services/api`)).json()) as { status: string; error: string | null };
    assert.equal(svc.status, 'SOON');
    assert.match(svc.error ?? '', /^store: \d+ record\(s\) could not be written to the store yet .*disk is full/);
    assert.match(out, /could not record to the store; keeping records to retry/);
    await sleep(3000);

    disk.free();
    const freedAt = Date.now();
    await until('the waiting records are written', 30_000, async () => (await metric('scalepilot_store_pending_records')) === 0, () => out);
    assert.equal(await metric('scalepilot_store_blocked'), 0);
    await sleep(1500);
    child.kill('SIGTERM');
    assert.equal(await new Promise((r) => child.once('exit', r)), 0, out);

    const store = await openStore(`sqlite:${db}`);
    const decisions = await store.history('api', 0, { kinds: ['decision'] });
    await store.close();
    const outage = decisions.filter((d) => d.time >= filledAt && d.time <= freedAt);
    assert.ok(outage.length >= 5, `decisions from the outage were written afterwards (${outage.length})`);
    // one decision per sync, before, during and after: no gap longer than a period (plus a loaded machine's lag)
    for (let i = 1; i < decisions.length; i++) {
      const gap = decisions[i]!.time - decisions[i - 1]!.time;
      assert.ok(gap <= 4000, `decisions ${i - 1} and ${i} are ${gap} ms apart`);
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    disk.cleanup();
    dir.cleanup();
  }
});

test('run killed (-9) while records wait for a full disk: the next run writes them before it acts', { timeout: 120_000 }, async () => {
  const disk = mountSmallDisk('2m');
  const dir = tempDir();
  const db = join(disk.dir, 'sp.db');
  const file = join(dir.path, 'scalepilot.yaml');
  writeFileSync(file, `syncPeriod: 1s\nstore: sqlite:${db}\nservices:\n  api:\n    target: { provider: dryrun, replicas: 3 }\n    minReplicas: 1\n    maxReplicas: 2\n`);
  const start = async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [bin, 'run', '-c', file, '--listen', `127.0.0.1:${port}`, '--state-dir', dir.path], { stdio: ['ignore', 'pipe', 'pipe'] });
    const p = { child, out: '', metric: async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1]) };
    child.stdout.on('data', (d) => (p.out += d));
    child.stderr.on('data', (d) => (p.out += d));
    return p;
  };
  const first = await start();
  let second: Awaited<ReturnType<typeof start>> | undefined;
  try {
    await until('run serves /metrics', 30_000, async () => /scalepilot running/.test(first.out) && (await first.metric('scalepilot_store_pending_records')) === 0, () => first.out);
    const filledAt = Date.now();
    disk.fill();
    await until('records wait for the store', 30_000, async () => (await first.metric('scalepilot_store_pending_records')) >= 3, () => first.out);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const killedAt = Date.now();
    disk.free();

    second = await start();
    const s = second;
    await until('the next run has written what the first left waiting', 30_000, async () => /scalepilot running/.test(s.out) && (await s.metric('scalepilot_store_pending_records')) === 0, () => s.out);
    assert.match(s.out, /records a previous run left waiting are written before anything new/);
    s.child.kill('SIGTERM');
    assert.equal(await new Promise((r) => s.child.once('exit', r)), 0, s.out);

    const store = await openStore(`sqlite:${db}`);
    const decisions = await store.history('api', 0, { kinds: ['decision'] });
    await store.close();
    const outage = decisions.filter((d) => d.time >= filledAt && d.time <= killedAt);
    assert.ok(outage.length >= 3, `the decisions made while the disk was full survived the kill (${outage.length})`);
    assert.equal(new Set(decisions.map((d) => d.time)).size, decisions.length, 'none written twice');
  } finally {
    for (const c of [first.child, second?.child]) if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    disk.cleanup();
    dir.cleanup();
  }
});
