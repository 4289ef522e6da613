// Reading files whose size scalepilot does not control: at most a limit, or only their newest bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputTooLargeError, readFileBounded, readFileTail } from '../src/bounded-read.js';
import { tempDir } from './helpers/env.js';

test('readFileTail: the last bytes of a long file, all of a short one, and of a device that never ends', () => {
  const dir = tempDir();
  try {
    const long = join(dir.path, 'error.log');
    writeFileSync(long, Array.from({ length: 100_000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const tail = readFileTail(long, 64);
    assert.ok(tail.length <= 64);
    assert.deepEqual(tail.trim().split('\n').slice(-2), ['line 99998', 'line 99999']);
    const short = join(dir.path, 'short.log');
    writeFileSync(short, 'only\n');
    assert.equal(readFileTail(short, 64), 'only\n');
    assert.equal(readFileTail('/dev/null', 64), '');
    // what was written since an offset, at most the last bytes of it
    assert.equal(readFileTail(short, 64, 2), 'ly\n');
    assert.equal(readFileTail(short, 64, 5), '');
  } finally {
    dir.cleanup();
  }
});

test('readFileBounded: stops past the limit, even on a device that never ends', () => {
  assert.throws(() => readFileBounded('/dev/zero', 1024 * 1024), InputTooLargeError);
});
