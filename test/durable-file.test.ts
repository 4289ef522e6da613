// replaceFile, which every saved report, capacity file and export goes through: a full disk (a real tmpfs) or a
// second writer never leaves half a file where a whole one was, and a link or device is written through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFile } from '../src/durable-file.js';
import { writeCapacityFile, readCapacityFile, type CapacityFile } from '../src/loadtest/capacity.js';
import { tempDir } from './helpers/env.js';
import { mountSmallDisk } from './helpers/faults.js';

const capacity = (rps: number, steps = 0): CapacityFile => ({
  url: 'http://127.0.0.1:1/', sustainableRps: rps, rpsPerReplica: rps, replicas: 1, gates: ['p95<300ms'],
  measuredAt: '2025-01-01T00:00:00.000Z',
  steps: Array.from({ length: steps }, (_, i) => ({
    phase: 'ramp' as const, targetRps: i + 1, achievedRps: i + 1, requests: i + 1, p50: 1, p95: 1, p99: 1, errorRate: 0, passed: true,
    failed: [], startedAt: '2025-01-01T00:00:00.000Z', durationMs: 1000,
  })),
});

test('on a full disk the old capacity file stays whole and nothing is left beside it', () => {
  const disk = mountSmallDisk('1m');
  try {
    const file = join(disk.dir, 'capacity.json');
    writeCapacityFile(file, capacity(100));
    disk.fill();
    // a file several times what is left: a plain write would have truncated the old one and stopped half way
    assert.throws(() => writeCapacityFile(file, capacity(200, 2_000)), (e: NodeJS.ErrnoException) => e.code === 'ENOSPC');
    assert.equal(readCapacityFile(file).rpsPerReplica, 100);
    assert.deepEqual(readdirSync(disk.dir).sort(), ['capacity.json', 'filler']);
    disk.free();
    writeCapacityFile(file, capacity(200, 2_000));
    assert.equal(readCapacityFile(file).steps.length, 2_000);
  } finally {
    disk.cleanup();
  }
});

test('two processes replacing one file at once leave one whole version, never a mix', async () => {
  const d = tempDir();
  try {
    const file = join(d.path, 'report.html');
    const writer = (ch: string) => new Promise<void>((resolve, reject) => {
      const code = `import { replaceFile } from ${JSON.stringify(join(process.cwd(), 'src/durable-file.ts'))};
        for (let i = 0; i < 40; i++) replaceFile(${JSON.stringify(file)}, ${JSON.stringify(ch)}.repeat(2_000_000));`;
      const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: 'inherit' });
      p.once('exit', (c) => (c === 0 ? resolve() : reject(new Error(`writer ${ch} exit ${c}`))));
    });
    const seen = new Set<string>();
    let reading = true;
    const reader = (async () => {
      while (reading) {
        try {
          const t = readFileSync(file, 'utf8');
          seen.add(t.length === 2_000_000 && (t === 'a'.repeat(2_000_000) || t === 'b'.repeat(2_000_000)) ? t[0]! : `torn:${t.length}`);
        } catch {
          // not there yet
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    await Promise.all([writer('a'), writer('b')]);
    reading = false;
    await reader;
    assert.ok([...seen].every((s) => s === 'a' || s === 'b'), [...seen].join(','));
    assert.deepEqual(readdirSync(d.path), ['report.html']);
  } finally {
    d.cleanup();
  }
});

test('a symlink is written through (the link stays), and a new file is created', () => {
  const d = tempDir();
  try {
    const real = join(d.path, 'real.json');
    writeFileSync(real, 'old');
    const link = join(d.path, 'link.json');
    symlinkSync(real, link);
    replaceFile(link, 'new');
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), real);
    assert.equal(readFileSync(real, 'utf8'), 'new');
    replaceFile(join(d.path, 'fresh.json'), 'x');
    assert.equal(readFileSync(join(d.path, 'fresh.json'), 'utf8'), 'x');
    assert.throws(() => replaceFile(join(d.path, 'no', 'such', 'dir.json'), 'x'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  } finally {
    d.cleanup();
  }
});

test('a temporary file left by a writer killed mid-write is removed by the next write, a live or recent one is not', () => {
  const d = tempDir();
  try {
    const file = join(d.path, 'capacity.json');
    const old = Date.now() / 1000 - 3600;
    const temp = (pid: number, age: number) => {
      const p = join(d.path, `.capacity.json.${pid}.0badcafe.tmp`);
      writeFileSync(p, '{"half');
      utimesSync(p, age, age);
      return p;
    };
    // a pid past the kernel's pid_max: no process has it
    const dead = temp(4_194_305, old);
    const deadButRecent = temp(4_194_306, Date.now() / 1000);
    const live = temp(process.ppid, old);
    const unrelated = join(d.path, '.other.json.4194305.0badcafe.tmp');
    writeFileSync(unrelated, 'x');
    utimesSync(unrelated, old, old);
    replaceFile(file, '{}');
    assert.equal(existsSync(dead), false);
    assert.ok(existsSync(deadButRecent), 'a write may still be under way on another host');
    assert.ok(existsSync(live), 'the writer is alive');
    assert.ok(existsSync(unrelated), 'another file\'s temporary file');
    assert.equal(readFileSync(file, 'utf8'), '{}');
  } finally {
    d.cleanup();
  }
});
