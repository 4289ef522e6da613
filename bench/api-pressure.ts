// Sync timing under API pressure: `scalepilot run --dry-run` (the built CLI) with its API on loopback, hammered by
// N keep-alive connections for a fixed time, while a probe times /metrics. Prints how late each sync started
// against its period (from the decisions in the store), the probe's latencies and what the API answered.
// Loopback only, bounded in time. Runs dist/ (npm run build first).
// Usage: node --import tsx bench/api-pressure.ts [connections=1000] [seconds=20] [services=10]
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freePort, waitForPort } from '../test/helpers/env.js';

const connections = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 20);
const services = Number(process.argv[4] ?? 10);
const periodS = 2;
const dir = mkdtempSync(join(tmpdir(), 'scalepilot-bench-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const start = Math.floor(Date.now() / 1000) - 3600;
const rows = ['t_seconds,rps'];
for (let t = 0; t <= 4 * 3600; t += 15) rows.push(`${start + t},${(400 + 300 * Math.sin(t / 3000)).toFixed(1)}`);
writeFileSync(join(dir, 'load.csv'), rows.join('\n'));
let yaml = `syncPeriod: ${periodS}s\nstore: sqlite:${join(dir, 'bench.db')}\nsources:\n  trace: { type: trace, file: ${join(dir, 'load.csv')} }\nservices:\n`;
for (let i = 0; i < services; i++) {
  yaml += `  svc-${i}:
    target: { provider: dryrun, replicas: 4 }
    minReplicas: 2
    maxReplicas: 40
    metrics: { rps: { source: trace, query: rps } }
    hpa:
      metrics:
        - type: External
          external: { metric: { name: rps }, target: { type: AverageValue, averageValue: "50" } }
`;
}
const file = join(dir, 'scalepilot.yaml');
writeFileSync(file, yaml);

const port = await freePort();
const child = spawn(process.execPath, ['bin/scalepilot', 'run', '--dry-run', '-c', file, '--state-dir', dir, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
// whatever happens below, the controller started here does not outlive the bench
process.once('exit', () => child.kill('SIGKILL'));
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
await waitForPort(port, 20_000);

/** GET `path` on a fresh connection every 500 ms; latencies in ms (a failed or refused probe counts as its time). */
function probe(path: string, stopAt: number): Promise<{ ms: number[]; failed: number }> {
  const ms: number[] = [];
  let failed = 0;
  return new Promise((resolve) => {
    const tick = () => {
      if (Date.now() >= stopAt) return resolve({ ms, failed });
      const t0 = performance.now();
      const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 30_000 }, (res) => {
        res.resume();
        res.once('end', () => {
          ms.push(performance.now() - t0);
          if (res.statusCode !== 200) failed++;
          setTimeout(tick, 500);
        });
      });
      req.once('error', () => {
        failed++;
        ms.push(performance.now() - t0);
        setTimeout(tick, 500);
      });
      req.once('timeout', () => req.destroy());
      req.end();
    };
    tick();
  });
}

interface LoadResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  statusCodeStats?: Record<string, { count: number }>;
  errors: number;
  timeouts: number;
}

/** The load generator runs in its own process, so the probes here are not timed behind its work. */
function loadInChild(): Promise<LoadResult> {
  const script = `import autocannon from 'autocannon';
const r = await autocannon(${JSON.stringify({ url: `http://127.0.0.1:${port}`, connections, duration: seconds, requests: [{ path: '/api/v1/services' }, { path: '/api/v1/services/svc-0' }, { path: '/metrics' }, { path: '/api/v1/alerts' }] })});
process.stdout.write(JSON.stringify({ requests: r.requests, latency: r.latency, statusCodeStats: r.statusCodeStats, errors: r.errors, timeouts: r.timeouts }));`;
  return new Promise((resolve, reject) => {
    const gen = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    gen.stdout.on('data', (d) => (out += d));
    gen.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load generator exited ${code}`))));
  });
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const fmt = (x: number) => (Number.isFinite(x) ? `${(x / 1000).toFixed(2)} s` : '-');

// warm up: first syncs load history; then a quiet window as the baseline
await sleep(3000);
const quietFrom = Date.now();
const quietProbe = await probe('/metrics', Date.now() + 6000);
const loadFrom = Date.now();
const [load, loadProbe, healthProbe] = await Promise.all([
  loadInChild(),
  probe('/metrics', Date.now() + seconds * 1000),
  probe('/healthz', Date.now() + seconds * 1000),
]);
const loadTo = Date.now();
await sleep(periodS * 1000 + 500);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));

const db = new Database(join(dir, 'bench.db'), { readonly: true });
const events = db.prepare("SELECT service, time FROM scalepilot_events WHERE kind = 'decision' ORDER BY service, time").all() as Array<{ service: string; time: number }>;
db.close();
if (process.env.BENCH_KEEP) console.log(`kept ${dir}`); else rmSync(dir, { recursive: true, force: true });

/** How much later than one period after the previous start each sync started, for syncs started in [from, to]. */
function delays(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 1; i < events.length; i++) {
    const a = events[i - 1]!;
    const b = events[i]!;
    if (a.service !== b.service || b.time < from || b.time > to) continue;
    out.push(b.time - a.time - periodS * 1000);
  }
  return out;
}
// a sync starting after the load ended still reports the delay the load caused
const quiet = delays(quietFrom, loadFrom);
const loaded = delays(loadFrom, loadTo + periodS * 1000);
const statuses = Object.entries(load.statusCodeStats ?? {}).map(([code, s]) => `${code}: ${s.count}`).join(', ');

console.log(`api-pressure: scalepilot run --dry-run, ${services} services, sync every ${periodS}s; ${connections} keep-alive connections on the API for ${seconds}s (loopback)`);
console.log(`  sync delay (start later than one period after the previous start), quiet:       p50 ${fmt(pct(quiet, 50))}, max ${fmt(Math.max(...quiet))} (${quiet.length} syncs)`);
console.log(`  load window (connect, ${seconds}s of requests, drain): ${((loadTo - loadFrom) / 1000).toFixed(1)} s`);
console.log(`  sync delay under ${connections} API connections:                                     p50 ${fmt(pct(loaded, 50))}, p95 ${fmt(pct(loaded, 95))}, max ${fmt(Math.max(...loaded))} (${loaded.length} syncs)`);
console.log(`  /metrics probe, quiet:          avg ${fmt(quietProbe.ms.reduce((a, b) => a + b, 0) / quietProbe.ms.length)}, max ${fmt(Math.max(...quietProbe.ms))}`);
console.log(`  /metrics probe, under load:     avg ${fmt(loadProbe.ms.reduce((a, b) => a + b, 0) / loadProbe.ms.length)}, p95 ${fmt(pct(loadProbe.ms, 95))}, max ${fmt(Math.max(...loadProbe.ms))} (${loadProbe.ms.length} probes, ${loadProbe.failed} not 200)`);
console.log(`  /healthz probe, under load:     avg ${fmt(healthProbe.ms.reduce((a, b) => a + b, 0) / healthProbe.ms.length)}, p95 ${fmt(pct(healthProbe.ms, 95))}, max ${fmt(Math.max(...healthProbe.ms))} (${healthProbe.ms.length} probes, ${healthProbe.failed} not 200)`);
console.log(`  API under load: ${Math.round(load.requests.average)} req/s answered, latency p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms; status ${statuses || '-'}; ${load.errors} errors, ${load.timeouts} timeouts`);
