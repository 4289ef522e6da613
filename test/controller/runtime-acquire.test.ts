// startRuntime's acquire step (run takes the store's writer lock there) runs before any workload is touched: a run
// refused the lock leaves the processes a crashed run left for a removed service alone, and closes its store; a run
// that gets the lock and was asked to prune stops them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { startRuntime } from '../../src/controller/runtime.js';
import { procStartTime, processAlive } from '../../src/providers/local/proc.js';
import { StoreLockedError } from '../../src/store/types.js';
import { sleep, tempDir } from '../helpers/env.js';

test('a refused acquire touches no leftover process; a granted one with prune stops them', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  // a replica a crashed run left for a service the config no longer has, in a process group of its own
  const orphan = spawn('sleep', ['120'], { detached: true, stdio: 'ignore' });
  try {
    await sleep(100);
    const pid = orphan.pid!;
    const procStart = procStartTime(pid);
    assert.ok(procStart !== undefined);
    const svcDir = join(dir.path, 'local', 'gone');
    mkdirSync(svcDir, { recursive: true });
    // owner: a pid that is not running (the crashed run)
    const state = { service: 'gone', ownerPid: 2 ** 22 + 17, proxy: { kind: 'builtin', url: 'http://127.0.0.1:1' }, desired: 1, updatedAt: Date.now(), processes: [{ index: 0, port: 1, pid, procStart, restarts: 0 }], pods: [] };
    writeFileSync(join(svcDir, 'state.json'), JSON.stringify(state));
    const file = join(dir.path, 'scalepilot.yaml');
    const yaml = `store: sqlite:${join(dir.path, 'sp.db')}\nservices:\n  api:\n    target: { provider: dryrun }\n    maxReplicas: 3\n`;

    let closedStore = false;
    await assert.rejects(
      startRuntime(parseConfig(yaml, file), {
        dryRun: false,
        stateDir: dir.path,
        prune: true,
        acquire: async (store) => {
          const close = store.close.bind(store);
          store.close = async () => { closedStore = true; return close(); };
          throw new StoreLockedError('store sqlite:sp.db', 'pid 1 on this host');
        },
      }),
      StoreLockedError,
    );
    assert.ok(closedStore, 'the store is closed again when acquire throws');
    assert.ok(processAlive(pid), 'a run refused the lock must not stop anything');

    const rt = await startRuntime(parseConfig(yaml, file), { dryRun: false, stateDir: dir.path, prune: true, acquire: async () => {} });
    try {
      for (let i = 0; i < 100 && processAlive(pid); i++) await sleep(50);
      assert.ok(!processAlive(pid), 'with the lock and --prune the leftover replica is stopped');
    } finally {
      await rt.close({ stopReplicas: true });
    }
  } finally {
    try { process.kill(-orphan.pid!, 'SIGKILL'); } catch { /* gone */ }
    dir.cleanup();
  }
});
