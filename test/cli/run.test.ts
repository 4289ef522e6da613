// `scalepilot run` as operators start it: it keeps running until a signal, syncs every period, records to the
// store, stops cleanly on SIGTERM, and refuses an invalid config with exit 2 before doing anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir, sleep } from '../helpers/env.js';

const bin = join(process.cwd(), 'bin/scalepilot');

test('run --dry-run --no-server keeps syncing until SIGTERM, then exits 0', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    const file = join(dir.path, 'scalepilot.yaml');
    writeFileSync(file, `syncPeriod: 1s\nstore: sqlite:${join(dir.path, 'sp.db')}\nservices:\n  api:\n    target: { provider: dryrun, replicas: 3 }\n    minReplicas: 1\n    maxReplicas: 2\n`);
    const child = spawn(process.execPath, [bin, 'run', '--dry-run', '--no-server', '-c', file, '--state-dir', dir.path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    await sleep(3500);
    assert.equal(child.exitCode, null, `still running after 3.5 s: ${out}`);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 0, out);
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'history', 'api', '-c', file, '--since', '1h', '-o', 'json']);
    const events = JSON.parse(stdout) as Array<{ kind: string; toReplicas?: number; result: string }>;
    const decisions = events.filter((e) => e.kind === 'decision');
    assert.ok(decisions.length >= 2, `several syncs recorded: ${decisions.length}`);
    // 3 replicas above maxReplicas 2: the dry run decides 2 every sync and never acts
    assert.ok(decisions.every((d) => d.toReplicas === 2 && d.result === 'dry-run'));
  } finally {
    dir.cleanup();
  }
});

test('run with an invalid config exits 2 naming file:line, and creates no store', async () => {
  const dir = tempDir();
  try {
    const file = join(dir.path, 'bad.yaml');
    writeFileSync(file, `store: sqlite:${join(dir.path, 'sp.db')}\nservices:\n  api:\n    target: { provider: dryrun }\n    minReplicas: 3\n    maxReplicas: 2\n`);
    await assert.rejects(promisify(execFile)(process.execPath, [bin, 'run', '-c', file, '--no-server']), (e: { code?: number; stderr?: string }) => e.code === 2 && /bad\.yaml:6:\d+: services\.api\.maxReplicas/.test(e.stderr ?? ''));
    assert.equal(existsSync(join(dir.path, 'sp.db')), false);
  } finally {
    dir.cleanup();
  }
});
