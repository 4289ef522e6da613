// Controller cost at scale: `scalepilot run --dry-run` (the built CLI, as operators run it) with N services on a
// trace-backed source. Prints CPU seconds per sync of all services and the process's RSS, read from /proc.
// Usage: node --import tsx bench/controller.ts [services=1000] [syncs=6]
import { writeFileSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const services = Number(process.argv[2] ?? 1000);
const syncs = Number(process.argv[3] ?? 6);
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

const child = spawn(process.execPath, ['bin/scalepilot', 'run', '--dry-run', '--no-server', '-c', file, '--state-dir', dir, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
const pid = child.pid!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// start-up and the first (history-loading) sync
await sleep(periodS * 1000 + 3000);
const startCpu = cpuSeconds(pid);
const startupCpu = startCpu;
const rss: number[] = [];
for (let i = 0; i < syncs; i++) {
  await sleep(periodS * 1000);
  rss.push(rssMb(pid));
}
const cpu = cpuSeconds(pid) - startCpu;
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
const db = readFileSync(join(dir, 'bench.db')).length;
rmSync(dir, { recursive: true, force: true });
console.log(`controller: scalepilot run --dry-run, ${services} services, trace source, SQLite store, sync every ${periodS}s`);
console.log(`  CPU for start-up and first sync: ${startupCpu.toFixed(2)} s`);
console.log(`  CPU per sync of all services:    ${(cpu / syncs).toFixed(3)} s (over ${syncs} syncs)`);
console.log(`  RSS: ${Math.min(...rss).toFixed(0)}–${Math.max(...rss).toFixed(0)} MB (max over the run)`);
console.log(`  store after the run: ${(db / 1048576).toFixed(1)} MB`);
