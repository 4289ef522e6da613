// Controller cost at scale: `scalepilot run --dry-run` (the built CLI, as operators run it) with N services on a
// trace-backed source. Prints CPU seconds per sync of all services, the process's RSS (from /proc) and its V8 heap
// (sampled inside the process by a preloaded probe that only reads process.memoryUsage()), next to the goal.
// RSS is read after start-up settles, once per sync: V8 grows the heap lazily, so a short window hides the steady state;
// "steady" is the part of the run after the services' history windows (6 min here) have filled.
// --runs N repeats the whole run and prints the best and median; --snapshot takes a heap snapshot at the end of the
// last run and prints what holds the heap (bench/lib/heap-summary.ts).
// Usage: node --import tsx bench/controller.ts [services=1000] [syncs=90] [--runs 3] [--snapshot]
//        (build first: npx tsc -p tsconfig.json)
import { writeFileSync, mkdirSync, mkdtempSync, rmSync, readFileSync, readdirSync, statSync, renameSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarise } from './lib/heap-summary.js';

const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--runs');
const runsAt = process.argv.indexOf('--runs');
const runs = runsAt > 0 ? Math.max(1, Number(process.argv[runsAt + 1]) || 1) : 1;
const snapshot = process.argv.includes('--snapshot');
const services = Number(positional[0] ?? 1000);
const syncs = Number(positional[1] ?? 90);
const GOAL_RSS_MB = 150;
const periodS = 5;
const dir = mkdtempSync(join(tmpdir(), 'scalepilot-bench-'));

// one day of request rate at 15 s steps, ten differently phased series
const cols = 10;
const rows: string[] = [`t_seconds,${Array.from({ length: cols }, (_, i) => `s${i}`).join(',')}`];
const start = Math.floor(Date.now() / 1000) - 3600;
for (let t = 0; t <= 86400; t += 15) {
  rows.push(`${start + t},${Array.from({ length: cols }, (_, i) => (400 + 300 * Math.sin((t / 86400) * 2 * Math.PI + i)).toFixed(1)).join(',')}`);
}
writeFileSync(join(dir, 'load.csv'), rows.join('\n'));

let yaml = `syncPeriod: ${periodS}s\nstore: sqlite:${join(dir, 'bench.db')}\nsources:\n  trace: { type: trace, file: ${join(dir, 'load.csv')} }\nservices:\n`;
for (let i = 0; i < services; i++) {
  yaml += `  svc-${i}:
    target: { provider: dryrun, replicas: 4 }
    minReplicas: 2
    maxReplicas: 40
    metrics: { rps: { source: trace, query: s${i % cols} } }
    hpa:
      metrics:
        - type: External
          external: { metric: { name: rps }, target: { type: AverageValue, averageValue: "50" } }
      behavior:
        scaleDown: { stabilizationWindowSeconds: 300, policies: [ { type: Percent, value: 20, periodSeconds: 60 } ] }
    rules:
      - { name: hot, when: "rps > 900", for: 5m, then: "+2" }
`;
}
const file = join(dir, 'scalepilot.yaml');
writeFileSync(file, yaml);

const ticksPerSecond = 100;
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

// the probe writes the heap figures to a file the bench reads; it never touches the controller's state
const heapFile = join(dir, 'heap.json');
const probe = join(dir, 'probe.cjs');
writeFileSync(probe, `const fs = require('fs');
setInterval(() => { const m = process.memoryUsage(); fs.writeFileSync(${JSON.stringify(heapFile + '.tmp')}, JSON.stringify({ heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external })); fs.renameSync(${JSON.stringify(heapFile + '.tmp')}, ${JSON.stringify(heapFile)}); }, 1000).unref();
`);
function heapMb(): { used: number; total: number; external: number } {
  try {
    const h = JSON.parse(readFileSync(heapFile, 'utf8')) as { heapUsed: number; heapTotal: number; external: number };
    return { used: h.heapUsed / 1048576, total: h.heapTotal / 1048576, external: h.external / 1048576 };
  } catch {
    return { used: NaN, total: NaN, external: NaN };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const mb = (x: number) => `${x.toFixed(0)} MB`;
/** syncs after which every service's history window (rule `for: 5m` + 1 min, one sync more) has filled */
const steadyFrom = Math.ceil(360 / periodS) + 1;

interface RunFigures { steadyMax: number; steadyMedian: number; cpuPerSync: number }

async function once(run: number, takeSnapshot: boolean): Promise<RunFigures> {
  rmSync(heapFile, { force: true });
  rmSync(join(dir, 'bench.db'), { force: true });
  rmSync(join(dir, 'bench.db-wal'), { force: true });
  rmSync(join(dir, 'bench.db-shm'), { force: true });
  const snapDir = join(dir, 'snapshots');
  const extra = takeSnapshot ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`] : [];
  const child = spawn(process.execPath, [...extra, '--require', probe, 'bin/scalepilot', 'run', '--dry-run', '--no-server', '-c', file, '--state-dir', dir, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const pid = child.pid!;
  // start-up, the first (history-loading) syncs, and the controller's post-start-up collection
  await sleep(15_000);
  const startupCpu = cpuSeconds(pid);
  const startupRss = rssMb(pid);
  const rss: number[] = [];
  const heap: Array<ReturnType<typeof heapMb>> = [];
  for (let i = 0; i < syncs; i++) {
    await sleep(periodS * 1000);
    rss.push(rssMb(pid));
    heap.push(heapMb());
  }
  const cpu = cpuSeconds(pid) - startupCpu;
  let snapFile: string | undefined;
  if (takeSnapshot) {
    rmSync(snapDir, { recursive: true, force: true });
    mkdirSync(snapDir, { recursive: true });
    child.kill('SIGUSR2');
    for (let waited = 0; waited < 120_000 && !snapFile; waited += 1000) {
      await sleep(1000);
      // V8 writes the file in place: wait until its size stops changing
      const f = (() => { try { return readdirSync(snapDir).find((n) => n.endsWith('.heapsnapshot')); } catch { return undefined; } })();
      if (f) {
        const size = statSync(join(snapDir, f)).size;
        await sleep(2000);
        if (statSync(join(snapDir, f)).size === size && size > 0) snapFile = join(snapDir, f);
      }
    }
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const db = readFileSync(join(dir, 'bench.db')).length;
  const steady = rss.slice(Math.min(steadyFrom, rss.length - 1));
  console.log(`run ${run}: scalepilot run --dry-run, ${services} services, trace source, SQLite store, sync every ${periodS}s, ${syncs} syncs measured`);
  console.log(`  CPU for start-up and first syncs (15 s): ${startupCpu.toFixed(2)} s   RSS then: ${mb(startupRss)}`);
  console.log(`  CPU per sync of all services:    ${(cpu / syncs).toFixed(3)} s`);
  console.log(`  RSS over the run:  median ${mb(median(rss))}, max ${mb(Math.max(...rss))}, min ${mb(Math.min(...rss))}`);
  console.log(`  RSS steady (${syncs > steadyFrom ? `from sync ${steadyFrom}, history windows full` : `last sync only: the history windows fill after ${steadyFrom} syncs`}): median ${mb(median(steady))}, max ${mb(Math.max(...steady))}   (goal <= ${GOAL_RSS_MB} MB: ${Math.max(...steady) <= GOAL_RSS_MB ? 'met' : 'missed'})`);
  console.log(`  RSS at each sync: ${rss.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(`  V8 heap used:      median ${mb(median(heap.map((h) => h.used)))}, max ${mb(Math.max(...heap.map((h) => h.used)))}`);
  console.log(`  V8 heap reserved:  median ${mb(median(heap.map((h) => h.total)))}, max ${mb(Math.max(...heap.map((h) => h.total)))}   external ${mb(median(heap.map((h) => h.external)))}`);
  console.log(`  RSS outside the V8 heap (Node runtime, code, SQLite, buffers): ~${mb(median(rss) - median(heap.map((h) => h.total)))}`);
  console.log(`  store after the run: ${(db / 1048576).toFixed(1)} MB`);
  if (takeSnapshot) {
    if (!snapFile) console.log('  heap snapshot: none written within 2 minutes');
    else {
      const kept = join(tmpdir(), `scalepilot-controller-${services}-${Date.now()}.heapsnapshot`);
      renameSync(snapFile, kept);
      const { total, rows } = summarise(kept);
      console.log(`  heap snapshot kept at ${kept}`);
      console.log(`  heap snapshot at the end: ${mb(total / 1048576)} in live objects; the largest holders (self size, backing stores charged to their owner):`);
      for (const r of rows.slice(0, 15)) console.log(`    ${(r.bytes / 1048576).toFixed(2).padStart(6)} MB ${String(r.count).padStart(8)}  ${r.name}`);
    }
  }
  return { steadyMax: Math.max(...steady), steadyMedian: median(steady), cpuPerSync: cpu / syncs };
}

const figures: RunFigures[] = [];
for (let r = 1; r <= runs; r++) figures.push(await once(r, snapshot && r === runs));
rmSync(dir, { recursive: true, force: true });
if (runs > 1) {
  const maxes = figures.map((f) => f.steadyMax);
  console.log(`steady-state RSS (max within each run) over ${runs} runs: best ${mb(Math.min(...maxes))}, median ${mb(median(maxes))}   (goal <= ${GOAL_RSS_MB} MB: ${median(maxes) <= GOAL_RSS_MB ? 'met' : 'missed'}); CPU per sync median ${median(figures.map((f) => f.cpuPerSync)).toFixed(3)} s`);
}
