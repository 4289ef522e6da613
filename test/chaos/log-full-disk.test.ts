// The log on a full disk: `run` with its stdout on a device that refuses every write (/dev/full) keeps syncing and
// serving, says once on stderr that log lines are dropped, and still stops at once on SIGTERM; the log destination
// on a real tmpfs that fills up drops lines while it is full and says how many once it can write again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logDestination } from '../../src/cli/log-destination.js';
import { freePort, sleep, tempDir } from '../helpers/env.js';
import { mountSmallDisk } from '../helpers/faults.js';

const bin = join(process.cwd(), 'bin/scalepilot');

test('the log destination drops lines while the disk is full, says so once, and counts them when it can write again', () => {
  const disk = mountSmallDisk('1m');
  const file = join(disk.dir, 'scalepilot.log');
  const fd = openSync(file, 'a');
  const notes: string[] = [];
  try {
    const log = logDestination(fd, (t) => notes.push(t));
    log.write('{"msg":"before"}\n');
    disk.fill();
    // lines longer than a page: the log file's own last page cannot take them
    for (let i = 0; i < 5; i++) log.write(`{"msg":"while full ${i}","pad":"${'x'.repeat(8192)}"}\n`);
    assert.equal(log.dropped, 5);
    assert.equal(notes.length, 1, notes.join(''));
    assert.match(notes[0]!, /^scalepilot: cannot write the log \(ENOSPC\); log lines are dropped until it can be written again/);
    disk.free();
    log.write('{"msg":"after"}\n');
    assert.equal(log.dropped, 0);
    assert.equal(notes.length, 2);
    assert.match(notes[1]!, /^scalepilot: the log is written again; 5 line\(s\) were dropped while it could not be \(ENOSPC\)/);
    // a line the full disk cut short stays a fragment on its own line; the next one is whole
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.deepEqual([lines[0], lines.at(-1)], ['{"msg":"before"}', '{"msg":"after"}']);
    assert.ok(lines.length <= 3, `${lines.length} lines`);
  } finally {
    closeSync(fd);
    disk.cleanup();
  }
});

test('run with its stdout on a full device keeps serving, says why on stderr, and stops on SIGTERM', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const port = await freePort();
  const file = join(dir.path, 'scalepilot.yaml');
  writeFileSync(file, `syncPeriod: 1s\nstore: sqlite:${join(dir.path, 'sp.db')}\nservices:\n  api:\n    target: { provider: dryrun, replicas: 3 }\n    minReplicas: 1\n    maxReplicas: 2\n`);
  const full = openSync('/dev/full', 'w');
  const child = spawn(process.execPath, [bin, 'run', '-c', file, '--listen', `127.0.0.1:${port}`, '--state-dir', dir.path], { stdio: ['ignore', full, 'pipe'] });
  closeSync(full);
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    // syncs go on: the controller's sync counter grows while nothing reaches the log
    const syncs = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(/^scalepilot_sync_duration_seconds_count\{[^}]*service="api"[^}]*\} (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
    };
    let first = Number.NaN;
    for (const deadline = Date.now() + 30_000; !(first >= 1); await sleep(200)) {
      if (Date.now() > deadline) throw new Error(`run never served /metrics with a sync\n${err}`);
      first = await syncs().catch(() => Number.NaN);
    }
    await sleep(2500);
    assert.ok((await syncs()) > first, 'syncs stopped while the log could not be written');
    assert.match(err, /cannot write the log \(ENOSPC\); log lines are dropped until it can be written again/);
    assert.equal(err.match(/cannot write the log/g)!.length, 1, 'said once, not per line');
    const t0 = Date.now();
    child.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(15_000).then(() => 'still running')]);
    assert.equal(code, 0, `exit after SIGTERM: ${String(code)}\n${err}`);
    assert.ok(Date.now() - t0 < 15_000);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    dir.cleanup();
  }
});

test('a one-shot command whose output cannot be written exits 1 with the reason, no stack trace', () => {
  const dir = tempDir();
  try {
    const file = join(dir.path, 'scalepilot.yaml');
    writeFileSync(file, `syncPeriod: 1s\nstore: sqlite:${join(dir.path, 'sp.db')}\nservices:\n  api:\n    target: { provider: dryrun, replicas: 3 }\n    minReplicas: 1\n    maxReplicas: 2\n`);
    const full = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [bin, 'validate', file], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^scalepilot: cannot write the output \(ENOSPC: no space left on device, write\)$/m);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    } finally {
      closeSync(full);
    }
  } finally {
    dir.cleanup();
  }
});

test('stderr that cannot be written changes no exit code: a warning lost is not a failure, a refused config still exits 2', () => {
  const dir = tempDir();
  try {
    const good = join(dir.path, 'good.yaml');
    // the dryrun target makes export warn on stderr
    writeFileSync(good, 'services:\n  api:\n    target: { provider: dryrun }\n    minReplicas: 1\n    maxReplicas: 4\n');
    const bad = join(dir.path, 'bad.yaml');
    writeFileSync(bad, 'services: 5\n');
    const full = openSync('/dev/full', 'w');
    try {
      const ok = spawnSync(process.execPath, [bin, 'export', 'hpa', '-c', good], { stdio: ['ignore', 'pipe', full], encoding: 'utf8', timeout: 30_000 });
      assert.equal(ok.status, 0);
      assert.match(ok.stdout, /kind: HorizontalPodAutoscaler/);
      const refused = spawnSync(process.execPath, [bin, 'validate', bad], { stdio: ['ignore', 'pipe', full], encoding: 'utf8', timeout: 30_000 });
      assert.equal(refused.status, 2);
    } finally {
      closeSync(full);
    }
  } finally {
    dir.cleanup();
  }
});
