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
