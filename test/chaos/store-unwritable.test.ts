// The store stops taking writes under a running controller: a real SQLite file on a 2 MB tmpfs filled to ENOSPC, and
// a file made immutable (read-only even for root). The controller must not act on changes it cannot record (hold,
// degraded sync, /metrics), must keep every record it could not write and write them in order once it can, and must
// resume scaling after that. Nothing recorded is lost: every sync's decision and every applied change is in the store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type ServicePolicy } from '../../src/config/load.js';
import { Controller, type SyncResult } from '../../src/controller/controller.js';
import { DryRunProvider } from '../../src/providers/dryrun.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { createControllerMetrics } from '../../src/server/metrics.js';
import { mountSmallDisk, setImmutable } from '../helpers/faults.js';
import { SwingingSource } from '../helpers/swinging-source.js';
import { tempDir } from '../helpers/env.js';

const CONFIG = parseConfig(`
syncPeriod: 15s
sources: { s: { type: prometheus, url: "http://127.0.0.1:9" } }
services:
  api:
    target: { provider: dryrun, replicas: 2 }
    minReplicas: 1
    maxReplicas: 8
    metrics: { qps: { source: s, query: qps, perPod: true } }
    hpa:
      metrics:
        - type: Pods
          pods: { metric: { name: qps }, target: { type: AverageValue, averageValue: "10" } }
      behavior:
        scaleUp: { stabilizationWindowSeconds: 0, policies: [ { type: Pods, value: 4, periodSeconds: 15 } ] }
        scaleDown: { stabilizationWindowSeconds: 0, policies: [ { type: Pods, value: 4, periodSeconds: 15 } ] }
`, 'c.yaml');

const metricValue = async (c: ReturnType<typeof createControllerMetrics>, name: string) => {
  const text = await c.registry.getSingleMetricAsString(name);
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
};

async function outage(file: string, fault: { start(): void; end(): void }, t: test.TestContext) {
  const clock = { t: Date.parse('2024-03-01T00:00:00Z') };
  const store = SqliteStore.open(file);
  const dry = new DryRunProvider({ now: () => clock.t });
  const metrics = createControllerMetrics(false);
  const c = new Controller(CONFIG, { store, dryRun: false, providerFor: (_p: ServicePolicy) => dry, sources: { s: new SwingingSource() }, metrics, now: () => clock.t });
  const syncs: SyncResult[] = [];
  const sync = async () => {
    clock.t += 15_000;
    const r = await c.syncOnce('api');
    syncs.push(r);
    return r;
  };
  try {
    for (let i = 0; i < 6; i++) await sync();
    const before = dry.scales.length;
    assert.ok(before >= 5, `the swinging load changes the replicas every sync while the store works (${before} changes)`);

    fault.start();
    // until a write fails (SQLite may still have room in pages it already owns)
    let firstFailed: SyncResult | undefined;
    for (let i = 0; i < 400 && !firstFailed; i++) {
      const r = await sync();
      if (r.error?.startsWith('store:')) firstFailed = r;
    }
    assert.ok(firstFailed, 'a write failed once the store stopped taking writes');
    const failedAt = firstFailed.time;
    const scalesAtFailure = dry.scales.length;
    for (let i = 0; i < 12; i++) {
      const r = await sync();
      assert.match(r.error ?? '', /^store: \d+ record\(s\) could not be written to the store yet/, 'the sync reports the service degraded');
      assert.equal(r.acted, false);
      assert.equal(r.decision?.action, 'hold');
      assert.match(r.decision!.reason, /store cannot record changes, holding at \d+: would have scaled to \d+/);
    }
    // the change whose decision failed to write was not made, nor any after it
    assert.equal(dry.scales.length, scalesAtFailure, 'no change while records wait');
    assert.ok(dry.scales.every((s) => s.t < failedAt), 'no change at or after the first failed write');
    const pending = await metricValue(metrics, 'scalepilot_store_pending_records');
    assert.ok(pending >= 12, `/metrics shows the records waiting: ${pending}`);
    assert.ok((await metricValue(metrics, 'scalepilot_store_write_failures_total')) >= 1);
    assert.equal(await metricValue(metrics, 'scalepilot_store_blocked'), 1);
    assert.ok(c.storeBlocked());
    // refused through the API too
    await assert.rejects(c.scaleManually('api', 3), /store cannot record it/);

    fault.end();
    const back = await sync();
    assert.equal(back.error, undefined, 'the next sync writes the waiting records and is healthy');
    assert.equal(await metricValue(metrics, 'scalepilot_store_pending_records'), 0);
    assert.equal(await metricValue(metrics, 'scalepilot_store_blocked'), 0);
    for (let i = 0; i < 4; i++) await sync();
    assert.ok(dry.scales.length >= scalesAtFailure + 3, 'scaling resumed');

    // nothing lost: one decision per sync, one scale event per applied change, in time order
    const events = await store.history('api', 0);
    const decisions = events.filter((e) => e.kind === 'decision');
    const scales = events.filter((e) => e.kind === 'scale');
    assert.equal(decisions.length, syncs.length, `decisions recorded ${decisions.length} of ${syncs.length}`);
    assert.deepEqual(decisions.map((e) => e.time), syncs.map((s) => s.time));
    assert.deepEqual(scales.map((e) => [e.time, e.fromReplicas, e.toReplicas]), dry.scales.map((s) => [s.t, s.from, s.replicas]));
    const held = decisions.filter((e) => e.time >= failedAt && e.time < back.time);
    assert.ok(held.length >= 13 && held.every((e) => e.decision?.action === 'hold' && e.decision.errors.some((x) => x.startsWith('store: '))), 'the held decisions say why');
    t.diagnostic(`records lost: ${syncs.length - decisions.length + dry.scales.length - scales.length} (of ${decisions.length + scales.length}); syncs held: ${held.length}`);
  } finally {
    await c.stop();
    await store.close();
  }
}

test('full disk (2 MB tmpfs at ENOSPC): hold, keep and retry every record, lose none, resume', { timeout: 120_000 }, async (t) => {
  const disk = mountSmallDisk('2m');
  try {
    await outage(join(disk.dir, 'sp.db'), { start: () => { assert.ok(disk.fill() > 0); }, end: () => disk.free() }, t);
  } finally {
    disk.cleanup();
  }
});

test('read-only store file (immutable even for root): hold, keep and retry every record, lose none, resume', { timeout: 120_000 }, async (t) => {
  const dir = tempDir();
  const file = join(dir.path, 'sp.db');
  const files = () => [file, `${file}-wal`].filter((f) => existsSync(f));
  try {
    await outage(file, { start: () => setImmutable(files(), true), end: () => setImmutable(files(), false) }, t);
  } finally {
    setImmutable(files(), false);
    dir.cleanup();
  }
});
