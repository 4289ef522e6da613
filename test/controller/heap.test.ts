// The controller's heap trim: one full collection after start-up frees what start-up left behind, without needing
// --expose-gc on the command line and without exposing gc() on the process's own global.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

test('collectStartupGarbage frees unreachable start-up garbage and leaves the global untouched', () => {
  // a fresh process: nothing else in it decides when V8 collects
  const heap = resolve('src', 'controller', 'heap.ts');
  const script = `
    const { collectStartupGarbage, limitHeapGrowth } = await import(${JSON.stringify(heap)});
    limitHeapGrowth();
    let garbage = [];
    for (let i = 0; i < 400000; i++) garbage.push({ i, s: 'item ' + i });
    const big = garbage.length;
    garbage = null;
    const before = process.memoryUsage().heapUsed;
    collectStartupGarbage();
    const after = process.memoryUsage().heapUsed;
    console.log(JSON.stringify({ big, before, after, gcOnGlobal: typeof globalThis.gc }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { big: number; before: number; after: number; gcOnGlobal: string };
  assert.equal(o.big, 400000);
  // 400,000 objects with their strings are well over 20 MB; a full collection must give most of it back
  assert.ok(o.before - o.after > 15 * 1048576, `heap ${(o.before / 1048576).toFixed(1)} MB -> ${(o.after / 1048576).toFixed(1)} MB`);
  assert.equal(o.gcOnGlobal, 'undefined');
});

test('`scalepilot run` keeps the young generation at its initial size from the first line on', async () => {
  // Loading the CLI's modules alone grows V8's young generation (to ~9 MB here, up to 2 x 16 MB under load) unless
  // the growth limit is set before they load; a probe preloaded into the real binary reads its size once running.
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'scalepilot-heap-'));
  try {
    writeFileSync(join(dir, 'probe.cjs'), `const v8 = require('v8');
setTimeout(() => { const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space'); process.stderr.write('NEW_SPACE ' + s.physical_space_size + '\\n'); process.kill(process.pid, 'SIGTERM'); }, 2500).unref();
`);
    writeFileSync(join(dir, 'c.yaml'), `syncPeriod: 1s\nstore: sqlite:${join(dir, 's.db')}\nservices:\n  api:\n    target: { provider: dryrun, replicas: 2 }\n    maxReplicas: 5\n    rules: []\n`);
    const r = spawnSync(process.execPath, ['--require', join(dir, 'probe.cjs'), resolve('bin', 'scalepilot'), 'run', '--dry-run', '--no-server', '-c', join(dir, 'c.yaml'), '--state-dir', dir], { encoding: 'utf8', timeout: 30_000 });
    const m = /NEW_SPACE (\d+)/.exec(r.stderr);
    assert.ok(m, `the probe reported the young generation: ${r.stderr.slice(-500)}`);
    assert.ok(Number(m[1]) <= 4 * 1048576, `young generation ${(Number(m[1]) / 1048576).toFixed(1)} MB, at most 4 MB expected`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
