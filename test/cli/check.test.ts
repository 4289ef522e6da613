// `scalepilot check`: statuses from metric values (table), exit codes through the real binary, and a live read
// from a private Prometheus.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkService, type CheckInput, type CheckStatus } from '../../src/capacity-report/check.js';
import { register } from '../../src/cli/check.js';
import { parseConfig } from '../../src/config/load.js';
import type { Strategy } from '../../src/core/classify.js';
import { tempDir } from '../helpers/env.js';
import { startPrometheus, type RunningService } from '../helpers/services.js';
import { ensureBuilt, runBin } from '../fixtures/capacity-report/built-cli.js';
import { runCommand } from '../fixtures/capacity-report/run-command.js';

const CONFIG = `
sources:
  prom: { type: prometheus, url: "http://127.0.0.1:9" }
  pg: { type: postgres, url: "postgres://x@127.0.0.1:9/db" }
services:
  api:
    target: { provider: dryrun }
    minReplicas: 2
    maxReplicas: 10
    metrics:
      cpu: { source: prom, query: "avg(cpu)", unit: percent }
      memory: { source: prom, query: "avg(mem)", unit: percent }
      db_connections: { source: pg, query: connections }
    hpa:
      metrics:
        - type: External
          external: { metric: { name: cpu }, target: { type: Value, value: "70" } }
    rules:
      - { name: cpu-warning, when: "cpu > 70", for: 10m, then: "+1", severity: warning }
      - { name: cpu-critical, when: "cpu > 80", for: 10m, then: "+1", severity: critical }
      - { name: cpu-low, when: "cpu < 30", for: 1h, then: "-1" }
    limits: { maxConnections: 100, connectionsHeadroom: 0.3 }
`;

const config = parseConfig(CONFIG, 'check-test.yaml');
const api = config.services.api!;
const NOW = Date.parse('2025-06-01T12:00:00Z');
const MIN = 60_000;

/** One sample a minute for the last `minutes` minutes (the newest at now), all `v` unless a function. */
function minutes(n: number, v: number | ((i: number) => number)): Array<{ t: number; v: number }> {
  return Array.from({ length: n + 1 }, (_, i) => ({ t: NOW - (n - i) * MIN, v: typeof v === 'number' ? v : v(i) }));
}

function input(p: Partial<CheckInput> & { cpu?: Array<{ t: number; v: number }>; memory?: number; db?: number }): CheckInput {
  const series: CheckInput['series'] = {};
  if (p.cpu) series.cpu = p.cpu;
  if (p.memory !== undefined) series.memory = [{ t: NOW, v: p.memory }];
  if (p.db !== undefined) series.db_connections = [{ t: NOW, v: p.db }];
  return { series: { ...series, ...(p.series ?? {}) }, failures: p.failures ?? {}, ...(p.replicas !== undefined ? { replicas: p.replicas } : {}) };
}

describe('checkService', () => {
  const cases: Array<{
    name: string;
    input: CheckInput;
    status: CheckStatus;
    strategies?: Strategy[];
    reason?: RegExp;
    kinds?: string[];
  }> = [
    { name: 'everything within thresholds', input: input({ cpu: minutes(15, 50), memory: 40, db: 20, replicas: 4 }), status: 'OK', strategies: [], reason: /^within thresholds/ },
    {
      name: 'warning breached for 3 of 10 minutes → SOON (pending)',
      input: input({ cpu: minutes(15, (i) => (i >= 12 ? 75 : 60)), memory: 40, db: 20, replicas: 4 }),
      status: 'SOON',
      reason: /rule cpu-warning .*breached, not yet for 10m/,
    },
    {
      name: 'warning sustained for 12 minutes → SOON, add replicas',
      input: input({ cpu: minutes(12, 75), memory: 40, db: 20, replicas: 4 }),
      status: 'SOON',
      strategies: ['horizontal'],
      reason: /rule cpu-warning .*sustained/,
    },
    {
      name: 'critical sustained → IMMEDIATE, add replicas',
      input: input({ cpu: minutes(12, 85), memory: 40, db: 20, replicas: 5 }),
      status: 'IMMEDIATE',
      strategies: ['horizontal'],
      reason: /rule cpu-critical \(cpu > 80 for 10m, critical\) sustained/,
    },
    {
      name: 'critical threshold crossed by the current value alone → IMMEDIATE',
      input: input({ cpu: [{ t: NOW, v: 88 }], memory: 40, db: 20 }),
      status: 'IMMEDIATE',
      reason: /cpu-critical .*breached, not yet for 10m/,
    },
    {
      name: 'at maxReplicas while over the target → IMMEDIATE, make replicas bigger',
      input: input({ cpu: minutes(3, 78), memory: 40, db: 20, replicas: 10 }),
      status: 'IMMEDIATE',
      strategies: ['vertical'],
      reason: /at maxReplicas 10 while cpu 78 {2}is over its target 70/,
    },
    {
      name: 'at maxReplicas within target → OK',
      input: input({ cpu: minutes(3, 50), memory: 40, db: 20, replicas: 10 }),
      status: 'OK',
      kinds: ['max-replicas'],
    },
    {
      name: 'a failed read is UNKNOWN with its error, never OK',
      input: input({ memory: 40, db: 20, failures: { cpu: 'prom: connection refused' } }),
      status: 'UNKNOWN',
      strategies: [],
      reason: /cpu could not be read: prom: connection refused/,
    },
    { name: 'a metric with no value is UNKNOWN', input: input({ cpu: minutes(3, 50), db: 20 }), status: 'UNKNOWN', reason: /memory: no value was read/ },
    {
      name: 'a stale value is UNKNOWN',
      input: input({ cpu: [{ t: NOW - 10 * MIN, v: 50 }], memory: 40, db: 20 }),
      status: 'UNKNOWN',
      reason: /cpu: newest value is 10m old/,
    },
    {
      name: 'an unreadable metric does not hide a critical breach',
      input: input({ cpu: minutes(12, 85), db: 20, failures: { memory: 'timeout' } }),
      status: 'IMMEDIATE',
      kinds: ['metric', 'rule'],
    },
    {
      name: 'connections past the 30% headroom → SOON, grow the pool or add a read replica',
      input: input({ cpu: minutes(3, 50), memory: 40, db: 75 }),
      status: 'SOON',
      strategies: ['db-pool-or-read-replica'],
      reason: /database connections 75 of max_connections 100 \(75% used, 25% headroom\): below the 30% headroom kept/,
    },
    { name: 'connection pool exhausted → IMMEDIATE', input: input({ cpu: minutes(3, 50), memory: 40, db: 100 }), status: 'IMMEDIATE', reason: /\(100% used, no headroom\): the pool is exhausted/ },
    {
      name: 'an absurd connection count still reads as a number, with no headroom rather than a negative one',
      input: input({ cpu: minutes(3, 50), memory: 40, db: 1e308 }),
      status: 'IMMEDIATE',
      reason: /database connections 1e\+308 of max_connections 100 \(1e\+308% used, no headroom\): the pool is exhausted/,
    },
    {
      name: 'a negative connection count is a broken metric → UNKNOWN, not OK',
      input: input({ cpu: minutes(3, 50), memory: 40, db: -5 }),
      status: 'UNKNOWN',
      kinds: ['connections'],
      reason: /database connections read -5 of max_connections 100, below 0: no pool reports that; check the metric's query and unit/,
    },
    {
      name: 'cpu rising toward the critical line within 24h → SOON (projection)',
      input: input({ cpu: minutes(60, (i) => 40 + i * 0.4), memory: 40, db: 20 }),
      status: 'SOON',
      kinds: ['projection'],
      reason: /cpu is trending to 80 \(critical rule cpu-critical\) in about 40m/,
    },
    { name: 'flat cpu has no projection', input: input({ cpu: minutes(60, 60), memory: 40, db: 20 }), status: 'OK' },
    {
      name: 'a firing scale-down rule never raises the status',
      input: input({ cpu: minutes(70, 20), memory: 40, db: 20, replicas: 4 }),
      status: 'OK',
      kinds: ['rule'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = checkService(api, c.input, NOW, { sources: config.sources });
      assert.equal(r.status, c.status, `${r.status}: ${r.reason}\n${r.findings.map((f) => `${f.status} ${f.text}`).join('\n')}`);
      if (c.strategies) assert.deepEqual(r.action.strategies, c.strategies, r.action.text);
      if (c.reason) assert.match(r.reason, c.reason);
      for (const k of c.kinds ?? []) assert.ok(r.findings.some((f) => f.kind === k), `expected a ${k} finding in ${JSON.stringify(r.findings)}`);
      if (c.status !== 'UNKNOWN' && c.status !== 'OK') assert.ok(r.action.text !== 'none');
    });
  }

  it('reports connection use and headroom in numbers', () => {
    const r = checkService(api, input({ cpu: minutes(3, 50), memory: 40, db: 42 }), NOW, { sources: config.sources });
    assert.deepEqual(r.connections, { used: 42, max: 100, usedPercent: 42, headroomPercent: 58, keepHeadroomPercent: 30, ok: true });
  });

  it('reads a 0..1 connection ratio against maxConnections', () => {
    const cfg = parseConfig(
      CONFIG.replace('db_connections: { source: pg, query: connections }', 'db_connection_ratio: { source: pg, query: connection_ratio }'),
      'ratio.yaml',
    );
    const p = cfg.services.api!;
    const r = checkService(p, { series: { cpu: minutes(3, 50), memory: [{ t: NOW, v: 40 }], db_connection_ratio: [{ t: NOW, v: 0.85 }] }, failures: {} }, NOW, { sources: cfg.sources });
    assert.equal(r.status, 'SOON');
    assert.equal(Math.round(r.connections!.usedPercent), 85);
    assert.equal(Math.round(r.connections!.used), 85);
  });
});

describe('scalepilot check (bin)', () => {
  const dir = tempDir('scalepilot-check-');
  const cfg = join(dir.path, 'scalepilot.yaml');
  const values = (name: string, metrics: Record<string, unknown>, replicas?: number) => {
    const f = join(dir.path, `${name}.json`);
    writeFileSync(f, JSON.stringify({ time: '2025-06-01T12:00:00Z', services: { api: { ...(replicas !== undefined ? { replicas } : {}), metrics } } }));
    return f;
  };
  const window = (v: number) => [0, 2, 4, 6, 8, 10, 12].map((m) => ({ ago: `${12 - m}m`, v }));
  before(async () => {
    writeFileSync(cfg, CONFIG);
    await ensureBuilt();
  });
  after(() => dir.cleanup());

  const cases: Array<{ name: string; args: () => string[]; code: number; out?: RegExp; err?: RegExp }> = [
    { name: 'OK exits 0', args: () => ['--values', values('ok', { cpu: 50, memory: 40, db_connections: 20 }, 4)], code: 0, out: /api\s+OK/ },
    { name: 'SOON exits 0', args: () => ['--values', values('soon', { cpu: window(75), memory: 40, db_connections: 20 }, 4)], code: 0, out: /api\s+SOON/ },
    { name: 'IMMEDIATE exits 1', args: () => ['--values', values('now', { cpu: window(90), memory: 40, db_connections: 20 }, 4)], code: 1, out: /api\s+IMMEDIATE/ },
    { name: 'UNKNOWN exits 0 by default', args: () => ['--values', values('unknown', { cpu: { error: 'refused' }, memory: 40, db_connections: 20 })], code: 0, out: /cpu could not be read: refused/ },
    { name: 'UNKNOWN exits 1 with --fail-on unknown', args: () => ['--values', values('unknown2', { cpu: { error: 'refused' }, memory: 40, db_connections: 20 }), '--fail-on', 'unknown'], code: 1 },
    { name: 'SOON exits 1 with --fail-on soon', args: () => ['--values', values('soon2', { cpu: window(75), memory: 40, db_connections: 20 }), '--fail-on', 'soon'], code: 1 },
    { name: 'a values file that is not JSON is bad input (2)', args: () => { const f = join(dir.path, 'bad.json'); writeFileSync(f, '{nope'); return ['--values', f]; }, code: 2, err: /bad\.json: not JSON/ },
    { name: 'a non-number value is bad input naming the path', args: () => ['--values', values('badv', { cpu: 'high' })], code: 2, err: /services\.api\.metrics\.cpu: must be a number/ },
    { name: 'an unknown service is bad input', args: () => ['--values', values('x', {}), '--service', 'nope'], code: 2, err: /--service nope: no such service/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await runBin(['check', '-c', cfg, ...c.args()]);
      assert.equal(r.code, c.code, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      if (c.out) assert.match(r.stdout, c.out);
      if (c.err) assert.match(r.stderr, c.err);
    });
  }

  it('a missing config is bad input (2)', async () => {
    const r = await runBin(['check', '-c', join(dir.path, 'missing.yaml'), '--values', values('m', {})]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /missing\.yaml: cannot read/);
  });

  it('--at reads times as simulate --start does: unix seconds and RFC 3339 name the same moment; milliseconds are refused with a hint', async () => {
    const f = values('at', { cpu: 50, memory: 40, db_connections: 20 }, 4);
    const asSeconds = await runBin(['check', '-c', cfg, '-o', 'json', '--values', f, '--at', String(Date.parse('2025-06-01T12:05:00Z') / 1000)]);
    assert.equal(asSeconds.code, 0, asSeconds.stderr);
    assert.equal(JSON.parse(asSeconds.stdout).time, '2025-06-01T12:05:00.000Z');
    const asMs = await runBin(['check', '-c', cfg, '--values', f, '--at', String(Date.parse('2025-06-01T12:05:00Z'))]);
    assert.equal(asMs.code, 2, asMs.stderr);
    assert.match(asMs.stderr, /--at 1748779500000: past year 9999 read as unix seconds; milliseconds\? unix seconds have 10 digits/);
  });

  it('-o json gives status, reason, action, connections and metrics per service', async () => {
    const r = await runBin(['check', '-c', cfg, '-o', 'json', '--values', values('json', { cpu: window(90), memory: 40, db_connections: 75 }, 10)]);
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.time, '2025-06-01T12:00:00.000Z');
    assert.equal(j.status, 'IMMEDIATE');
    const s = j.services[0];
    assert.equal(s.service, 'api');
    assert.equal(s.status, 'IMMEDIATE');
    assert.deepEqual(s.replicas, { current: 10, min: 2, max: 10, atMax: true });
    assert.equal(s.connections.usedPercent, 75);
    assert.equal(s.connections.headroomPercent, 25);
    assert.equal(s.metrics.cpu.value, 90);
    assert.deepEqual(s.action.strategies, ['vertical', 'db-pool-or-read-replica'].filter((x) => s.action.strategies.includes(x)));
    assert.ok(s.action.strategies.length > 0);
    assert.ok(s.findings.some((f: { kind: string; status: string }) => f.kind === 'max-replicas' && f.status === 'IMMEDIATE'));
    assert.ok(s.findings.some((f: { kind: string; status: string }) => f.kind === 'connections' && f.status === 'SOON'));
  });
});

describe('scalepilot check (live Prometheus)', () => {
  let prom: RunningService;
  const dir = tempDir('scalepilot-check-live-');
  before(async () => {
    prom = await startPrometheus({ scrapeTargets: ['127.0.0.1:9'] });
  });
  after(async () => {
    await prom?.stop();
    dir.cleanup();
  });

  it('reads values and `for:` windows from the source; an unreadable metric is UNKNOWN', async () => {
    const cfg = join(dir.path, 'live.yaml');
    writeFileSync(
      cfg,
      `
sources:
  prom: { type: prometheus, url: "${prom.url}" }
  down: { type: prometheus, url: "http://127.0.0.1:9", timeout: 2s }
services:
  hot:
    target: { provider: dryrun }
    maxReplicas: 5
    metrics:
      cpu: { source: prom, query: "vector(91)", unit: percent }
      replicas: { source: prom, query: "vector(3)" }
    rules:
      - { name: cpu-critical, when: "cpu > 80", for: 10m, then: "+1", severity: critical }
  calm:
    target: { provider: dryrun, replicas: 2 }
    maxReplicas: 5
    metrics:
      cpu: { source: prom, query: "vector(20)", unit: percent }
  blind:
    target: { provider: dryrun }
    maxReplicas: 5
    metrics:
      cpu: { source: down, query: "vector(20)", unit: percent }
      memory: { source: prom, query: "no_such_metric_anywhere", unit: percent }
  boxed:
    target: { provider: compose, project: shop, file: compose.yaml, service: web, host: "http://127.0.0.1:9" }
    maxReplicas: 5
    metrics:
      cpu: { source: prom, query: "vector(20)", unit: percent }
`,
    );
    const r = await runCommand(register, ['check', '-c', cfg, '-o', 'json']);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    const j = JSON.parse(r.stdout) as { services: Array<{ service: string; status: string; reason: string; replicas?: { current: number } }> };
    const by = Object.fromEntries(j.services.map((s) => [s.service, s]));
    assert.equal(by.hot!.status, 'IMMEDIATE');
    // the range read covered the whole 10m window, so the rule is sustained, not merely breached
    assert.match(by.hot!.reason, /cpu-critical .* sustained/);
    assert.equal(by.hot!.replicas?.current, 3);
    assert.equal(by.calm!.status, 'OK');
    // no replicas metric: the count comes from the target's provider
    assert.equal(by.calm!.replicas?.current, 2);
    assert.equal(by.boxed!.status, 'UNKNOWN');
    assert.match(by.boxed!.reason, /replicas could not be observed: /);
    assert.equal(by.blind!.status, 'UNKNOWN');
    assert.match(by.blind!.reason, /cpu could not be read: down: http:\/\/127\.0\.0\.1:9/);
    assert.match(by.blind!.reason, /memory could not be read: .*no series/);
  });
});
