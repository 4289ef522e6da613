// How long a restarted `run` takes to seed one service's seasonal forecaster from the store: from its checkpoint
// (saved 5 minutes before the restart) plus the decisions after it, from the database's per-minute peaks
// (metricSeries) when there is no checkpoint, and from reading and parsing every recorded decision.
//   node --import tsx bench/demand-seed.ts [--days 15] [--sync 15s]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite.js';
import type { Store, StoreEvent } from '../src/store/types.js';
import { parseConfig } from '../src/config/load.js';
import { emptyHistory } from '../src/core/types.js';
import { checkpointDemandHistory, seedDemandHistory } from '../src/controller/demand-seed.js';
import { recordDemand } from '../src/core/predict.js';
import { parseDuration } from '../src/core/duration.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const days = Number(flag('days', '15'));
const syncMs = parseDuration(flag('sync', '15s'));
const dir = mkdtempSync(join(tmpdir(), 'scalepilot-seed-'));
try {
  const store = SqliteStore.open(join(dir, 'store.db'));
  const t0 = Date.UTC(2024, 0, 1);
  const n = Math.round((days * 86_400_000) / syncMs);
  // decisions as the controller records them: the inputs of every sync and a reason
  const t = performance.now();
  for (let k = 0; k < n; k++) {
    const time = t0 + k * syncMs;
    const rps = 500 + 400 * Math.sin((2 * Math.PI * time) / 86_400_000);
    const e: StoreEvent = { service: 'api', time, kind: 'decision', result: 'ok', fromReplicas: 5, toReplicas: 5, message: `hold at 5: cpu 61% of 70% target; predictive forecast of rps peaks at ${rps.toFixed(0)}`, inputs: { values: { rps, cpu: 0.61, latency_p95: 0.12 }, readyReplicas: 5 } };
    await store.append(e);
  }
  console.log(`${n.toLocaleString('en')} decisions (${days} days at ${syncMs / 1000}s) written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const policy = parseConfig(`
sources: { s: { type: prometheus, url: "http://127.0.0.1:9" } }
services:
  api:
    target: { provider: dryrun }
    maxReplicas: 40
    metrics: { rps: { source: s, query: rps } }
    predictive: { metric: rps, model: seasonal }
    capacity: { rpsPerReplica: 100 }
`, 'bench.yaml').services.api!;
  const now = t0 + n * syncMs;
  const viaEvents: Store = { append: store.append.bind(store), history: store.history.bind(store), get: store.get.bind(store), services: store.services.bind(store), close: async () => {} };
  const viaSeries: Store = { ...viaEvents, metricSeries: store.metricSeries.bind(store) };
  // the checkpoint a controller would have saved 5 minutes before the restart
  const running = emptyHistory();
  for (const e of await store.history('api', 0, { kinds: ['decision'] })) if (e.time < now - 300_000) recordDemand(running, policy, e.inputs!.values, e.time);
  await checkpointDemandHistory(store, policy, running, now - 300_000);
  const size = (await store.loadState('api', 'forecast'))!.data.byteLength;
  console.log(`checkpoint: ${(size / 1024).toFixed(0)} kB`);
  for (const [label, s] of [['checkpoint + decisions after it', store], ['database peaks (metricSeries)', viaSeries], ['every decision (history)', viaEvents]] as const) {
    const times: number[] = [];
    let fed = { from: '', samples: 0 };
    for (let r = 0; r < 3; r++) {
      const t1 = performance.now();
      fed = await seedDemandHistory(s, policy, emptyHistory(), now);
      times.push(performance.now() - t1);
    }
    times.sort((a, b) => a - b);
    console.log(`${label}: from ${fed.from}, ${fed.samples.toLocaleString('en')} samples fed; best ${times[0]!.toFixed(1)} ms, median ${times[1]!.toFixed(1)} ms per service`);
  }
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
