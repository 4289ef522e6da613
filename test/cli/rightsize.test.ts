// `scalepilot rightsize`: recommendations from a usage CSV and from a trace source's history, the cost change,
// and a reason for every service without a recommendation.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseUsageCsv, typicalInterval } from '../../src/capacity-report/usage.js';
import { InputError } from '../../src/cli/output.js';
import { register } from '../../src/cli/rightsize.js';
import { tempDir } from '../helpers/env.js';
import { ensureBuilt, runBin } from '../fixtures/capacity-report/built-cli.js';
import { runCommand } from '../fixtures/capacity-report/run-command.js';

const MiB = 1024 * 1024;
const CONFIG = `
sources:
  trace: { type: trace, file: usage-trace.csv }
services:
  api:
    target: { provider: dryrun }
    minReplicas: 2
    maxReplicas: 10
    resources: { requests: { cpu: "1", memory: 1Gi }, limits: { cpu: "2", memory: 2Gi } }
    metrics:
      cpu: { source: trace, query: cpu }
      memory: { source: trace, query: memory }
  worker:
    target: { provider: dryrun }
    maxReplicas: 3
    resources: { requests: { cpu: 250m, memory: 256Mi }, limits: { memory: 512Mi } }
  percent-only:
    target: { provider: dryrun }
    maxReplicas: 3
    metrics:
      cpu: { source: trace, query: cpu, unit: percent }
      memory: { source: trace, query: memory, unit: percent }
`;

/** Two pods, one row a minute: cpu steady at 0.1-0.2 cores (p95 ~0.2), memory 300-309Mi. */
function usageRows(minutes: number, start = Date.parse('2025-06-01T00:00:00Z')): string[] {
  const rows: string[] = [];
  for (let i = 0; i < minutes; i++) {
    for (const [pod, extra] of [['api-1', 0], ['api-2', 0.05]] as const) {
      rows.push(`${new Date(start + i * 60_000).toISOString()},api,${pod},${(0.1 + 0.05 * ((i % 10) / 10) + extra).toFixed(3)},${300 * MiB + (i % 10) * MiB}`);
    }
  }
  return rows;
}

describe('usage CSV', () => {
  it('reads times, services, cores or millicores and bytes or Mi', () => {
    const u = parseUsageCsv('time,service,pod,cpu,memory\n2025-06-01T00:00:00Z,api,a,250m,512Mi\n1748736060,api,a,0.3,\n', 'u.csv');
    assert.deepEqual(u.services.api, [
      { t: Date.parse('2025-06-01T00:00:00Z'), cpu: 0.25, memory: 512 * MiB },
      { t: 1748736060_000, cpu: 0.3 },
    ]);
    assert.equal(u.intervalMs, 60_000);
  });

  it('without a service column every row belongs to the named service', () => {
    assert.deepEqual(Object.keys(parseUsageCsv('time,cpu\n0,1\n', 'u.csv', 'api').services), ['api']);
  });

  const bad: Array<[string, RegExp]> = [
    ['cpu,memory\n1,2\n', /needs a time column/],
    ['time,pod\n0,a\n', /needs a cpu and\/or memory column/],
    ['time,service,cpu\n0,api\n', /u\.csv:2: 2 cells, the header has 3/],
    ['time,service,cpu\nyesterday,api,1\n', /u\.csv:2: time "yesterday"/],
    ['time,service,memory\n0,api,lots\n', /u\.csv:2: memory "lots" is not a memory amount/],
    ['time,cpu\n0,1\n', /no service column/],
  ];
  for (const [text, err] of bad) {
    it(`rejects ${JSON.stringify(text.split('\n')[1])} (${err.source})`, () => {
      assert.throws(() => parseUsageCsv(text, 'u.csv'), (e: unknown) => e instanceof InputError && err.test(e.message));
    });
  }

  it('the typical interval is the median gap between distinct times', () => {
    assert.equal(typicalInterval([{ t: 0 }, { t: 0 }, { t: 60_000 }, { t: 120_000 }, { t: 600_000 }]), 60_000);
  });
});

describe('scalepilot rightsize', () => {
  const dir = tempDir('scalepilot-rightsize-');
  const cfg = join(dir.path, 'scalepilot.yaml');
  const csv = (name: string, rows: string[]) => {
    const f = join(dir.path, name);
    writeFileSync(f, ['time,service,pod,cpu,memory', ...rows].join('\n') + '\n');
    return f;
  };
  before(async () => {
    writeFileSync(cfg, CONFIG);
    // a trace around now (epoch seconds), one point a minute, 3 hours back and 1 ahead
    const now = Math.floor(Date.now() / 1000);
    const lines = ['t_seconds,cpu,memory'];
    for (let t = now - 3 * 3600; t <= now + 3600; t += 60) lines.push(`${t},${(0.4 + 0.1 * Math.sin(t / 600)).toFixed(4)},${800 * MiB}`);
    writeFileSync(join(dir.path, 'usage-trace.csv'), lines.join('\n') + '\n');
    await ensureBuilt();
  });
  after(() => dir.cleanup());

  it('two hours of low usage: lower the cpu request and the memory limit, and say what it saves', async () => {
    const r = await runCommand(register, ['rightsize', '-c', cfg, '-s', 'api', '--usage', csv('low.csv', usageRows(120)), '--price-cpu-hour', '0.04', '--price-gib-hour', '0.005', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const [api] = JSON.parse(r.stdout).services;
    const rec = api.recommendation;
    assert.equal(rec.cpu.action, 'lower');
    assert.equal(rec.memory.action, 'lower');
    // p95 of the samples × 1.15, to whole millicores; peak 309Mi × 1.15 to whole MiB
    assert.ok(rec.requests.cpu > 0.2 && rec.requests.cpu < 0.3, String(rec.requests.cpu));
    assert.equal(rec.limits.memory, Math.ceil(309 * 1.15) * MiB);
    assert.equal(api.samples, 240);
    assert.equal(rec.cost.replicas, 2);
    assert.ok(rec.cost.deltaPerMonth < 0, JSON.stringify(rec.cost));
    const expected = ((rec.requests.cpu - 1) * 0.04 + ((rec.requests.memory - 1024 * MiB) / (1024 * MiB)) * 0.005) * 2 * 730;
    assert.ok(Math.abs(rec.cost.deltaPerMonth - expected) < 1e-9);
  });

  it('every service gets a line; those without enough data say why', async () => {
    const r = await runCommand(register, ['rightsize', '-c', cfg, '-s', 'api,worker', '--usage', csv('short.csv', usageRows(20))]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^api\s+-\s+-/m);
    assert.match(r.stdout, /api: no recommendation: only 40 samples; need 60 \(1h at 1m\)/);
    assert.match(r.stdout, /worker: no recommendation: .*short\.csv has no rows for worker/);
  });

  it('without prices the cost column says how to get it', async () => {
    const r = await runCommand(register, ['rightsize', '-c', cfg, '-s', 'api', '--usage', csv('noprice.csv', usageRows(90))]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /api\s+1 → \d+m\s+1Gi → \d+Mi\s+2Gi → 356Mi/);
    assert.match(r.stdout, /pass --price-cpu-hour and --price-gib-hour to compare cost/);
  });

  it('--since reads the cpu/memory history from the source (trace); a percent metric without a base says why', async () => {
    const r = await runCommand(register, ['rightsize', '-c', cfg, '-s', 'api,percent-only,worker', '--since', '2h', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const by = Object.fromEntries(JSON.parse(r.stdout).services.map((s: { service: string }) => [s.service, s]));
    assert.ok(by.api.recommendation, by.api.why);
    // cpu averages 0.4 of a 1-core request (above the 30% line): keep; memory 800Mi of a 2Gi limit (< 50%): lower
    assert.equal(by.api.recommendation.cpu.action, 'keep');
    assert.equal(by.api.recommendation.memory.action, 'lower');
    assert.equal(by.api.recommendation.limits.memory, Math.ceil(800 * 1.15) * MiB);
    assert.ok(by.api.samples >= 120, String(by.api.samples));
    assert.equal(by['percent-only'].recommendation, null);
    assert.match(by['percent-only'].why, /cpu is in percent and services\.percent-only\.resources\.requests\.cpu is not set/);
    assert.equal(by.worker.recommendation, null);
    assert.match(by.worker.why, /services\.worker\.metrics has no cpu metric/);
  });

  it('bad input exits 2 through the real binary', async () => {
    const r = await runBin(['rightsize', '-c', cfg, '--usage', csv('p.csv', usageRows(5)), '--price-cpu-hour', '0.04']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /give both --price-cpu-hour and --price-gib-hour/);
  });
});
