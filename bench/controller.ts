// Controller cost at scale: `scalepilot run --dry-run` (the built CLI, as operators run it) with N services on a
// trace-backed source. Prints CPU seconds per sync of all services, the process's RSS (from /proc) and its V8 heap
// (sampled inside the process by a preloaded probe that only reads process.memoryUsage()), next to the goal.
// RSS is read after start-up settles, once per sync: V8 grows the heap lazily, so a short window hides the steady state.
// Usage: node --import tsx bench/controller.ts [services=1000] [syncs=24]   (build first: npx tsc -p tsconfig.json)
import { writeFileSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const services = Number(process.argv[2] ?? 1000);
const syncs = Number(process.argv[3] ?? 24);
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
setInterval(() => { const m = process.memoryUsage(); fs.writeFileSync(${JSON.stringify(heapFile)}, JSON.stringify({ heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external })); }, 1000).unref();
`);
function heapMb(): { used: number; total: number; external: number } {
  try {
    const h = JSON.parse(readFileSync(heapFile, 'utf8')) as { heapUsed: number; heapTotal: number; external: number };
    return { used: h.heapUsed / 1048576, total: h.heapTotal / 1048576, external: h.external / 1048576 };
  } catch {
    return { used: NaN, total: NaN, external: NaN };
  }
}

const child = spawn(process.execPath, ['--require', probe, 'bin/scalepilot', 'run', '--dry-run', '--no-server', '-c', file, '--state-dir', dir, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
const pid = child.pid!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
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
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
const db = readFileSync(join(dir, 'bench.db')).length;
rmSync(dir, { recursive: true, force: true });
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const mb = (x: number) => `${x.toFixed(0)} MB`;
console.log(`controller: scalepilot run --dry-run, ${services} services, trace source, SQLite store, sync every ${periodS}s, ${syncs} syncs measured`);
console.log(`  CPU for start-up and first syncs (15 s): ${startupCpu.toFixed(2)} s   RSS then: ${mb(startupRss)}`);
console.log(`  CPU per sync of all services:    ${(cpu / syncs).toFixed(3)} s`);
console.log(`  RSS over the run:  median ${mb(median(rss))}, max ${mb(Math.max(...rss))}, min ${mb(Math.min(...rss))}   (goal <= ${GOAL_RSS_MB} MB steady state: ${Math.max(...rss) <= GOAL_RSS_MB ? 'met' : 'missed'})`);
console.log(`  RSS at each sync: ${rss.map((x) => x.toFixed(0)).join(' ')}`);
console.log(`  V8 heap used:      median ${mb(median(heap.map((h) => h.used)))}, max ${mb(Math.max(...heap.map((h) => h.used)))}`);
console.log(`  V8 heap reserved:  median ${mb(median(heap.map((h) => h.total)))}, max ${mb(Math.max(...heap.map((h) => h.total)))}   external ${mb(median(heap.map((h) => h.external)))}`);
console.log(`  RSS outside the V8 heap (Node runtime, code, SQLite, buffers): ~${mb(median(rss) - median(heap.map((h) => h.total)))}`);
console.log(`  store after the run: ${(db / 1048576).toFixed(1)} MB`);
