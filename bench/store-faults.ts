// Figures for `run` under store and source faults, on real parts:
//   records lost when the store's disk fills (SQLite on a 16 MB tmpfs filled to ENOSPC, then freed; needs root)
//   recovery time after a metric source returns (redis-server killed with SIGKILL, down for D s, started again)
// Usage: node --import tsx bench/store-faults.ts [rounds=3] [downSeconds=10]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig, parseConfig } from '../src/config/load.js';
import { Controller, type SyncResult } from '../src/controller/controller.js';
import { startRuntime } from '../src/controller/runtime.js';
import { DryRunProvider } from '../src/providers/dryrun.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { mountSmallDisk } from '../test/helpers/faults.js';
import { sleep, tempDir } from '../test/helpers/env.js';
import { startRedis } from '../test/helpers/services.js';
import { SwingingSource } from '../test/helpers/swinging-source.js';

const rounds = Number(process.argv[2] ?? 3);
const downS = Number(process.argv[3] ?? 10);

async function fullDisk(): Promise<void> {
  const config = parseConfig(`
sources: { s: { type: prometheus, url: "http://127.0.0.1:9" } }
services:
  api:
    target: { provider: dryrun, replicas: 2 }
    maxReplicas: 8
    metrics: { qps: { source: s, query: qps, perPod: true } }
    hpa:
      metrics: [ { type: Pods, pods: { metric: { name: qps }, target: { type: AverageValue, averageValue: "10" } } } ]
      behavior: { scaleDown: { stabilizationWindowSeconds: 0 } }
`, 'bench.yaml');
  const disk = mountSmallDisk('16m');
  const clock = { t: Date.parse('2024-01-01T00:00:00Z') };
  const store = SqliteStore.open(join(disk.dir, 'sp.db'));
  const dry = new DryRunProvider({ now: () => clock.t });
  const c = new Controller(config, { store, dryRun: false, providerFor: () => dry, sources: { s: new SwingingSource() }, now: () => clock.t });
  let syncs = 0;
  let held = 0;
  try {
    const sync = async () => {
      clock.t += 15_000;
      syncs++;
      const r = await c.syncOnce('api');
      if (r.error?.startsWith('store:')) held++;
    };
    for (let i = 0; i < 20; i++) await sync();
    disk.fill();
    for (let i = 0; i < 60; i++) await sync();
    disk.free();
    for (let i = 0; i < 20; i++) await sync();
    const events = await store.history('api', 0);
    const decisions = events.filter((e) => e.kind === 'decision').length;
    const scales = events.filter((e) => e.kind === 'scale').length;
    const expected = syncs + dry.scales.length;
    const pending = c.pendingRecords().length;
    console.log(`full disk: ${syncs} syncs (60 with the disk full), ${held} held; records lost ${expected - decisions - scales - pending} of ${expected} (${pending} still waiting to be written)`);
  } finally {
    await c.stop();
    await store.close();
    disk.cleanup();
  }
}

async function sourceRecovery(): Promise<void> {
  const dir = tempDir();
  let redis = await startRedis();
  const port = redis.port;
  const file = join(dir.path, 'scalepilot.yaml');
  writeFileSync(file, `syncPeriod: 1s\nstore: sqlite:${join(dir.path, 'sp.db')}\nsources:\n  q: { type: redis, url: "${redis.url}", timeout: 500ms }\nservices:\n  worker:\n    target: { provider: dryrun, replicas: 3 }\n    maxReplicas: 10\n    metrics: { jobs: { source: q, query: llen jobs } }\n    queue: { metric: jobs, targetPerReplica: 10 }\n`);
  const syncs: Array<{ at: number; ok: boolean }> = [];
  const rt = await startRuntime(loadConfig(file), { dryRun: false, stateDir: dir.path, onSync: (r: SyncResult) => syncs.push({ at: Date.now(), ok: r.values.jobs !== undefined }) });
  rt.controller.start();
  const times: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      while (!syncs.at(-1)?.ok) await sleep(20);
      const c = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      await c.connect();
      const pid = Number(/process_id:(\d+)/.exec(await c.info('server'))![1]);
      c.disconnect();
      process.kill(pid, 'SIGKILL');
      await sleep(downS * 1000);
      await redis.stop();
      redis = await startRedis({ port });
      const back = Date.now();
      while (!syncs.some((s) => s.at > back && s.ok)) await sleep(10);
      times.push(syncs.find((s) => s.at > back && s.ok)!.at - back);
    }
    console.log(`source recovery (sync period 1000 ms, down ${downS} s, ${rounds} rounds): read again after ${times.map((t) => `${t} ms`).join(', ')}; max ${Math.max(...times)} ms`);
  } finally {
    await rt.close();
    await redis.stop();
    dir.cleanup();
  }
}

await fullDisk();
await sourceRecovery();
