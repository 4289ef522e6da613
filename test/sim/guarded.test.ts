// Guarded replay in `simulate`: services of a multi-service trace sharing a budget never exceed it together (and
// exceed it without the budget), and a scale-down that makes the modelled p95 worse is verified and rolled back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSimulation } from '../../src/sim/run.js';
import { renderText, renderHtml } from '../../src/sim/report.js';
import { readReportData } from '../../src/report/html.js';
import { tempDir } from '../helpers/env.js';

const T0 = 1714953600;

function trace(dir: string, rows: Array<[number, number]>): string {
  const f = join(dir, 'trace.csv');
  writeFileSync(f, ['t_seconds,api,worker', ...rows.map(([a, w], i) => `${T0 + i * 60},${a},${w}`)].join('\n') + '\n');
  return f;
}

const svc = (name: string, uses: string, extra = '') => `
  ${name}:
    target: { provider: dryrun }
    syncPeriod: 60s
    minReplicas: 1
    maxReplicas: 20
${uses}    metrics:
      rps: { source: prom, query: "rate(http_requests_total[1m])", perPod: true }
${extra}    hpa:
      metrics:
        - type: Pods
          pods: { metric: { name: rps }, target: { type: AverageValue, averageValue: "80" } }
    capacity: { rpsPerReplica: 100, startupDelay: 30s }
`;

test('simulate: two services of one trace share a budget; together they stay within it, and they would not without it', async () => {
  const dir = tempDir();
  try {
    // both ramp to 1200 rps: each alone would want 15 replicas, 15 × 10 + 15 × 5 = 225 > the 150 usable
    const rows: Array<[number, number]> = Array.from({ length: 40 }, (_, i) => [Math.min(1200, 100 + i * 60), Math.min(1200, 100 + i * 60)]);
    const t = trace(dir.path, rows);
    const cfg = (budget: boolean) => {
      const f = join(dir.path, budget ? 'b.yaml' : 'nb.yaml');
      writeFileSync(f, `sources: { prom: { type: prometheus, url: "http://127.0.0.1:9" } }
${budget ? 'budgets: { maindb: { limit: 200, headroom: 25% } }' : ''}
services:${svc('api', budget ? '    uses: { maindb: 10 }\n' : '')}${svc('worker', budget ? '    uses: { maindb: 5 }\n' : '')}`);
      return f;
    };
    const free = await runSimulation({ configFile: cfg(false), trace: { kind: 'file', file: t }, workers: 1, timeline: true });
    const freeUse = (k: number) => free.services[0]!.results[0]!.timeline!.replicas[k]! * 10 + free.services[1]!.results[0]!.timeline!.replicas[k]! * 5;
    assert.ok(Array.from({ length: 40 }, (_, k) => freeUse(k)).some((u) => u > 150), 'without the budget the two exceed 150');

    const r = await runSimulation({ configFile: cfg(true), trace: { kind: 'file', file: t }, workers: 1, timeline: true });
    const [api, worker] = r.services;
    for (let k = 0; k < 40; k++) {
      const used = api!.results[0]!.timeline!.replicas[k]! * 10 + worker!.results[0]!.timeline!.replicas[k]! * 5;
      assert.ok(used <= 150, `step ${k}: ${used} within 150`);
    }
    const g = api!.results[0]!.guard!;
    assert.ok(g.budgetCappedSteps > 0);
    assert.match(g.firstBudgetCap!, /by maindb/);
    assert.ok(g.budgetPeaks.maindb!.used <= 150 && g.budgetPeaks.maindb!.used >= 140, JSON.stringify(g.budgetPeaks));
    assert.equal(g.budgetPeaks.maindb!.usable, 150);
    // both got a share, neither was starved
    assert.ok(api!.results[0]!.score.peakReplicas > 5 && worker!.results[0]!.score.peakReplicas > 5);
    assert.match(renderText(r), /b\.yaml: budgets: maindb peaked at 1\d\d of 150 usable, capped \d+ step\(s\); first: .*capped at \d+ by maindb/);
    const html = renderHtml(r);
    assert.match(html, /api: budget peak[\s\S]{0,200}maindb 1\d\d of 150 \(capped \d+ steps\)/);
    assert.ok(readReportData(html)?.charts.length);
  } finally {
    dir.cleanup();
  }
});

test('simulate: a scale-down that makes the modelled p95 worse than its margin is rolled back and held off', async () => {
  const dir = tempDir();
  try {
    // 520 rps for 10 minutes (6-7 replicas), then 300 (4 replicas would run at 75% and a much slower p95)
    const rows: Array<[number, number]> = Array.from({ length: 40 }, (_, i) => [i < 10 ? 520 : 300, 0]);
    const t = trace(dir.path, rows);
    const f = join(dir.path, 'v.yaml');
    const latency = `    slo: { p95: 1s }
`;
    writeFileSync(f, `sources: { prom: { type: prometheus, url: "http://127.0.0.1:9" } }
verify: { window: 2m, p95: { metric: p95, margin: 10% }, coolOff: 30m }
services:${svc('api', '', `      p95: { source: prom, query: "histogram_quantile(0.95, rate(latency_bucket[1m]))" }\n`).replace('capacity: { rpsPerReplica: 100, startupDelay: 30s }', 'capacity: { rpsPerReplica: 100, startupDelay: 30s, latency: { base: 100ms, p95AtFull: 2s } }') + latency}`);
    const r = await runSimulation({ configFile: f, service: 'api', series: 'api', trace: { kind: 'file', file: t }, workers: 1, timeline: true });
    const res = r.services[0]!.results[0]!;
    assert.ok(res.guard!.rollbacks >= 1, JSON.stringify(res.guard));
    const m = /p95 \(p95\) rose from 0\.2 to 0\.4, more than the 10% margin after the change (\d+) → 4$/.exec(res.guard!.firstRollback!);
    assert.ok(m, res.guard!.firstRollback);
    const reps = Array.from(res.timeline!.replicas);
    assert.equal(reps.at(-1), Number(m[1]), `back to ${m[1]} and held there by the cool-off: ${reps.join(',')}`);
    assert.match(renderText(r), /verification: \d+ change\(s\) verified, 1 rolled back/);
    assert.ok(!r.services[0]!.notes.some((n) => /--tune/.test(n)), 'no tuning note without --tune');
    // --tune replays candidates alone: it says so instead of presenting the winner as checked under verification
    const tuned = await runSimulation({ configFile: f, service: 'api', series: 'api', trace: { kind: 'file', file: t }, workers: 1, tune: { budget: 8 } });
    assert.ok(tuned.services[0]!.notes.some((n) => /^--tune scores candidates on this service alone, without verification after each change/.test(n)), tuned.services[0]!.notes.join('\n'));
  } finally {
    dir.cleanup();
  }
});
