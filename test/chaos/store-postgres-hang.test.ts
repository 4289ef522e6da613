// A PostgreSQL store that stops answering (every server process stopped with SIGSTOP) under a running controller:
// writes time out instead of stalling the sync, the controller holds and keeps the records, and once the server runs
// again (SIGCONT) they are written and scaling resumes. No record of a sync or an applied change is missing, and
// none is stored twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { Controller, type SyncResult } from '../../src/controller/controller.js';
import { DryRunProvider } from '../../src/providers/dryrun.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { startPostgres } from '../helpers/services.js';
import { SwingingSource } from '../helpers/swinging-source.js';

/** The postmaster (from its pid file) and every process it started. */
function serverPids(dataDir: string): number[] {
  const main = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(main)], { encoding: 'utf8' }).split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
  return [main, ...children];
}

test('PostgreSQL stopped with SIGSTOP: writes time out, the controller holds, nothing is lost after SIGCONT', { timeout: 120_000 }, async (t) => {
  const pg = await startPostgres();
  const store = await PostgresStore.open(pg.url, { queryTimeoutMs: 1000 });
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
`, 'c.yaml');
  const clock = { t: Date.parse('2024-03-01T00:00:00Z') };
  const dry = new DryRunProvider({ now: () => clock.t });
  const c = new Controller(config, { store, dryRun: false, providerFor: () => dry, sources: { s: new SwingingSource() }, now: () => clock.t });
  const syncs: SyncResult[] = [];
  const sync = async () => {
    clock.t += 15_000;
    const r = await c.syncOnce('api');
    syncs.push(r);
    return r;
  };
  let stopped: number[] = [];
  try {
    for (let i = 0; i < 4; i++) await sync();
    stopped = serverPids(join(pg.dir, 'data'));
    for (const pid of stopped) process.kill(pid, 'SIGSTOP');
    const scalesBefore = dry.scales.length;
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      const r = await sync();
      assert.match(r.error ?? '', /^store: /, `sync ${i} while the server is stopped is degraded: ${r.error}`);
      assert.equal(r.acted, false);
    }
    const took = Date.now() - started;
    assert.ok(took < 30_000, `syncs go on, degraded, instead of hanging on the store (${took} ms for 5)`);
    t.diagnostic(`5 syncs with the store stopped took ${took} ms`);
    assert.equal(dry.scales.length, scalesBefore, 'no change while the store does not answer');
    for (const pid of stopped) process.kill(pid, 'SIGCONT');
    stopped = [];
    let back: SyncResult | undefined;
    for (let i = 0; i < 10 && !back; i++) {
      const r = await sync();
      if (!r.error) back = r;
    }
    assert.ok(back, 'healthy again once the server runs');
    for (let i = 0; i < 3; i++) await sync();
    assert.ok(dry.scales.length >= scalesBefore + 2, 'scaling resumed');

    const events = await store.history('api', 0);
    const decisionTimes = events.filter((e) => e.kind === 'decision').map((e) => e.time);
    const scales = events.filter((e) => e.kind === 'scale').map((e) => `${e.time}:${e.fromReplicas}:${e.toReplicas}`);
    for (const s of syncs) assert.ok(decisionTimes.includes(s.time), `the decision of the sync at ${s.time} is in the store`);
    for (const s of dry.scales) assert.ok(scales.includes(`${s.t}:${s.from}:${s.replicas}`), `the change at ${s.t} is in the store`);
    // an insert that timed out here but ran on the server after SIGCONT is not stored again by the retry
    assert.equal(decisionTimes.length, syncs.length, 'one decision per sync, none twice');
    assert.equal(scales.length, dry.scales.length, 'one scale event per change, none twice');
    t.diagnostic(`decisions ${decisionTimes.length} for ${syncs.length} syncs; scale events ${scales.length} for ${dry.scales.length} changes`);
  } finally {
    for (const pid of stopped) process.kill(pid, 'SIGCONT');
    await c.stop();
    await store.close();
    await pg.stop();
  }
});
