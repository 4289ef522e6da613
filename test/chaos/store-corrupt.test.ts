// A damaged SQLite store (a page overwritten on disk, or a file that is not a database): `history` and `run` refuse
// it at once with the file named and what to do, exit 2 (bad input, as a broken config), no stack trace, and `run` never starts holding forever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SqliteStore } from '../../src/store/sqlite.js';
import { StoreError } from '../../src/store/types.js';
import { tempDir } from '../helpers/env.js';

const bin = join(process.cwd(), 'bin/scalepilot');
const exec = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await exec(process.execPath, [bin, ...args], { timeout: 30_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string; killed?: boolean };
    if (x.killed) throw new Error(`scalepilot ${args.join(' ')} did not finish within 30 s`);
    return { code: x.code ?? -1, out: (x.stdout ?? '') + (x.stderr ?? '') };
  }
}

async function filledStore(file: string): Promise<void> {
  const s = SqliteStore.open(file);
  const now = Date.now();
  for (let i = 0; i < 3000; i++) await s.append({ service: 'api', time: now - 3000 + i, kind: 'decision', result: 'ok', message: `sync ${i} ${'x'.repeat(200)}` });
  await s.close();
}

function overwritePage(file: string): void {
  const pages = Math.floor(statSync(file).size / 4096);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 4096 * Math.floor(pages / 2));
  closeSync(fd);
}

for (const damage of ['a page overwritten', 'not a database'] as const) {
  test(`a damaged store (${damage}): history and run exit 2 naming the file and what to do`, { timeout: 90_000 }, async () => {
    const dir = tempDir();
    try {
      const db = join(dir.path, 'sp.db');
      if (damage === 'a page overwritten') {
        await filledStore(db);
        overwritePage(db);
      } else {
        writeFileSync(db, Buffer.alloc(64 * 1024, 0x17));
      }
      const config = join(dir.path, 'scalepilot.yaml');
      writeFileSync(config, `syncPeriod: 1s\nstore: sqlite:${db}\nservices:\n  api:\n    target: { provider: dryrun, replicas: 2 }\n    maxReplicas: 4\n`);

      assert.throws(() => SqliteStore.open(db), (e: Error) => e instanceof StoreError && e.message.includes(`store sqlite:${db} is damaged`));
      for (const args of [['history', '-c', config, '--since', '1d'], ['run', '--once', '--no-server', '-c', config], ['run', '--no-server', '-c', config]]) {
        const r = await cli(args);
        const what = `scalepilot ${args[0]} ${args[1]}`;
        assert.equal(r.code, 2, `${what} exits 2: ${r.out}`);
        assert.match(r.out, new RegExp(`store sqlite:${db.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is damaged`), what);
        assert.match(r.out, /Move it aside \(mv .*sp\.db .*sp\.db\.damaged/, what);
        assert.match(r.out, /\.recover/, what);
        assert.doesNotMatch(r.out, /\n\s+at /, `${what}: no stack trace`);
      }
      // the damaged file is left as it was, for recovery
      assert.ok(statSync(db).size > 0);
    } finally {
      dir.cleanup();
    }
  });
}
