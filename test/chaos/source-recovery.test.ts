// A metric source killed with SIGKILL and started again: while it is down every sync holds and says why, the failing
// source is probed every sync period (back-off only thins the logging and counting), and the first sync after it is
// back reads it again, within one period, however long it was down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/load.js';
import { startRuntime, type Runtime } from '../../src/controller/runtime.js';
import type { SyncResult } from '../../src/controller/controller.js';
import { sleep, tempDir } from '../helpers/env.js';
import { startRedis, type RunningService } from '../helpers/services.js';

const PERIOD_MS = 1000;

async function until(what: string, timeoutMs: number, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(20);
  }
}

async function redisPid(url: string): Promise<number> {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await c.connect();
    const m = /process_id:(\d+)/.exec(await c.info('server'));
    assert.ok(m, 'INFO server names the process id');
    return Number(m[1]);
  } finally {
    c.disconnect();
  }
}

test('redis killed with SIGKILL for 18 s: held while down, read again within one sync period after it returns', { timeout: 120_000 }, async (t) => {
  const dir = tempDir();
  let redis: RunningService | undefined = await startRedis();
  const port = redis.port;
  let rt: Runtime | undefined;
  const syncs: Array<SyncResult & { at: number }> = [];
  try {
    const file = join(dir.path, 'scalepilot.yaml');
    writeFileSync(file, `syncPeriod: 1s
store: sqlite:${join(dir.path, 'sp.db')}
sources:
  q: { type: redis, url: "${redis.url}", timeout: 500ms }
services:
  worker:
    target: { provider: dryrun, replicas: 3 }
    minReplicas: 1
    maxReplicas: 10
    metrics: { jobs: { source: q, query: llen jobs } }
    queue: { metric: jobs, targetPerReplica: 10 }
`);
    rt = await startRuntime(loadConfig(file), { dryRun: false, stateDir: dir.path, onSync: (r) => syncs.push({ ...r, at: Date.now() }) });
    rt.controller.start();
    const read = (s: SyncResult) => s.values.jobs !== undefined;
    await until('a first successful read', 15_000, () => syncs.some(read));

    process.kill(await redisPid(redis.url), 'SIGKILL');
    const killedAt = Date.now();
    await sleep(18_000);
    const down = syncs.filter((s) => s.at > killedAt + 500 && s.at < Date.now());
    assert.ok(down.length >= 12, `it kept syncing every period while the source was down (${down.length} syncs)`);
    for (const s of down) {
      assert.equal(read(s), false);
      assert.equal(s.acted, false);
      assert.match(s.decision!.errors.join('; '), /jobs|q:/, 'the failure is reported');
    }
    await redis.stop();
    redis = await startRedis({ port });
    const backAt = Date.now();
    await until('the source is read again', 20_000, () => syncs.some((s) => s.at > backAt && read(s)));
    const first = syncs.find((s) => s.at > backAt && read(s))!;
    const recoveryMs = first.at - backAt;
    t.diagnostic(`source down ${Math.round((backAt - killedAt) / 1000)} s; read again ${recoveryMs} ms after it came back (sync period ${PERIOD_MS} ms)`);
    // one period, plus the read itself, on a loaded machine
    assert.ok(recoveryMs <= 2 * PERIOD_MS + 2000, `read again ${recoveryMs} ms after the source came back`);
    // the failure counter counted the back-off steps, not every probe
    const text = await rt.metrics.registry.getSingleMetricAsString('scalepilot_metric_errors_total');
    const errors = Number(/metric="jobs"\} (\d+)/.exec(text)?.[1]);
    assert.ok(errors >= 3 && errors < down.length, `failures counted per back-off step (${errors}), not per probe (${down.length} syncs)`);
  } finally {
    await rt?.close();
    await redis?.stop();
    dir.cleanup();
  }
});
