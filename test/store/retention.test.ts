// Retention over a simulated month of a live controller on a real SQLite file: per-sync records are kept for
// `retention.decisions`, changes for `retention.events`, the file stops growing, and nothing the controller reads
// back (its windows, forecast lookback) is ever deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { Controller } from '../../src/controller/controller.js';
import { DryRunProvider } from '../../src/providers/dryrun.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { Retention } from '../../src/store/retention.js';
import { tempDir } from '../helpers/env.js';
import { SwingingSource } from '../helpers/swinging-source.js';

const DAY = 86_400_000;

test('a month at a 5-minute sync: decisions kept 3 days, changes 10 days, the file stays bounded', { timeout: 300_000 }, async (t) => {
  const dir = tempDir();
  const file = join(dir.path, 'sp.db');
  const config = parseConfig(`
syncPeriod: 5m
retention: { decisions: 3d, events: 10d }
sources: { s: { type: prometheus, url: "http://127.0.0.1:9" } }
services:
  api:
    target: { provider: dryrun, replicas: 2 }
    maxReplicas: 8
    metrics: { qps: { source: s, query: qps, perPod: true } }
    hpa:
      metrics:
        - type: Pods
          pods: { metric: { name: qps }, target: { type: AverageValue, averageValue: "10" } }
      behavior:
        scaleDown: { stabilizationWindowSeconds: 0 }
`, join(dir.path, 'c.yaml'));
  const start = Date.parse('2024-01-01T00:00:00Z');
  const clock = { t: start };
  const store = SqliteStore.open(file);
  const c = new Controller(config, { store, dryRun: false, providerFor: () => new DryRunProvider({ now: () => clock.t }), sources: { s: new SwingingSource({ high: 30, low: 5, every: 6 }) }, now: () => clock.t });
  const size = () => statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
  const sizes: number[] = [];
  try {
    for (let day = 1; day <= 30; day++) {
      for (let i = 0; i < DAY / 300_000; i++) {
        clock.t += 300_000;
        await c.syncOnce('api');
      }
      // let a retention pass started by the last sync finish
      await new Promise((r) => setTimeout(r, 0));
      sizes[day] = size();
    }
    await c.stop();
    const now = clock.t;
    const events = await store.history('api', 0);
    const decisions = events.filter((e) => e.kind === 'decision');
    const scales = events.filter((e) => e.kind === 'scale');
    assert.ok(scales.length > 100, `the swinging load scales often (${scales.length} kept)`);
    // a pass runs at most every 10 minutes, so the oldest kept record is at most that much past its cutoff
    const slack = 10 * 60_000 + 300_000;
    assert.ok(decisions[0]!.time >= now - 3 * DAY - slack, `oldest decision ${new Date(decisions[0]!.time).toISOString()}`);
    assert.ok(decisions[0]!.time <= now - 3 * DAY + slack, 'decisions are kept for the whole 3 days');
    assert.ok(scales[0]!.time >= now - 10 * DAY - slack && scales[0]!.time <= now - 10 * DAY + DAY, `oldest change ${new Date(scales[0]!.time).toISOString()}`);
    assert.ok(decisions.length <= (3 * DAY + slack) / 300_000 + 1, `${decisions.length} decisions kept`);
    // bounded: from day 12 on (both retentions in force) the file does not grow beyond its size then
    const plateau = sizes[12]!;
    const last = Math.max(...sizes.slice(12));
    t.diagnostic(`store size: day 3 ${sizes[3]} B, day 12 ${plateau} B, max days 12-30 ${last} B, day 30 ${sizes[30]} B`);
    assert.ok(last <= plateau * 1.2, `the store stays bounded (day 12: ${plateau} B, largest after: ${last} B)`);
  } finally {
    await c.stop();
    await store.close();
    dir.cleanup();
  }
});

test('retention never deletes inside the span the controller reads back, and prunes in batches', async () => {
  const dir = tempDir();
  const store = SqliteStore.open(join(dir.path, 'sp.db'));
  try {
    const now = 100 * DAY;
    for (let h = 0; h < 24 * 20; h++) {
      await store.append({ service: 'api', time: now - h * 3_600_000, kind: 'decision', result: 'ok' });
      if (h % 24 === 0) await store.append({ service: 'api', time: now - h * 3_600_000, kind: 'scale', fromReplicas: 1, toReplicas: 2, result: 'ok' });
    }
    const r = new Retention(store, { batch: 50 });
    // decisions 1 day, but a forecast reads 7 days back: 7 days are kept
    r.tick(now, { decisionsMs: DAY, eventsMs: 2 * DAY }, 7 * DAY);
    await r.idle();
    const left = await store.history('api', 0);
    const oldestDecision = Math.min(...left.filter((e) => e.kind === 'decision').map((e) => e.time));
    assert.equal(oldestDecision, now - 7 * DAY);
    // events are never kept for less than decisions
    assert.ok(left.filter((e) => e.kind === 'scale').every((e) => e.time >= now - 7 * DAY));
    assert.equal(r.deleted, 24 * 20 - (7 * 24 + 1) + (20 - 8));
    // a second tick before the interval does nothing
    r.tick(now + 1000, { decisionsMs: DAY, eventsMs: 2 * DAY }, 0);
    await r.idle();
    assert.equal((await store.history('api', 0)).length, left.length);
  } finally {
    await store.close();
    dir.cleanup();
  }
});
