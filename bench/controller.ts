// Controller cost at scale: N dry-run services on a trace-backed source, CPU seconds per sync round and RSS.
// Usage: node --import tsx bench/controller.ts [services=1000] [rounds=5]
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { startRuntime } from '../src/controller/runtime.js';

const services = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'scalepilot-bench-'));

// one day of request rate at 15 s steps, a different phase per column group
const cols = 10;
const rows: string[] = [`t_seconds,${Array.from({ length: cols }, (_, i) => `s${i}`).join(',')}`];
const start = Math.floor(Date.now() / 1000) - 3600;
for (let t = 0; t <= 86400; t += 15) {
  rows.push(`${start + t},${Array.from({ length: cols }, (_, i) => (400 + 300 * Math.sin((t / 86400) * 2 * Math.PI + i)).toFixed(1)).join(',')}`);
}
writeFileSync(join(dir, 'load.csv'), rows.join('\n'));

let yaml = `syncPeriod: 15s\nstore: sqlite:${join(dir, 'bench.db')}\nsources:\n  trace: { type: trace, file: ${join(dir, 'load.csv')} }\nservices:\n`;
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
const t0 = Date.now();
const config = parseConfig(yaml, join(dir, 'scalepilot.yaml'));
const parseMs = Date.now() - t0;
const rt = await startRuntime(config, { dryRun: true, stateDir: dir });
const names = rt.controller.services;
const cpuPerRound: number[] = [];
const wallPerRound: number[] = [];
for (let r = 0; r < rounds; r++) {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await Promise.all(names.map((s) => rt.controller.syncOnce(s)));
  const c = process.cpuUsage(c0);
  cpuPerRound.push((c.user + c.system) / 1e6);
  wallPerRound.push((performance.now() - w0) / 1000);
}
const rss = process.memoryUsage().rss / 1048576;
await rt.close();
rmSync(dir, { recursive: true, force: true });
const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
console.log(`controller: ${services} dry-run services, trace source, SQLite store, ${rounds} sync rounds`);
console.log(`  config parse:           ${parseMs} ms`);
console.log(`  CPU per sync round:     ${avg(cpuPerRound).toFixed(3)} s (first ${cpuPerRound[0]!.toFixed(3)} s, last ${cpuPerRound.at(-1)!.toFixed(3)} s)`);
console.log(`  wall per sync round:    ${avg(wallPerRound).toFixed(3)} s`);
console.log(`  RSS after the rounds:   ${rss.toFixed(0)} MB`);
