// `scalepilot simulate` end to end through the CLI entry: outputs, reports, comparisons, tuning, and exit 2 with
// a clear message on every kind of bad input. One case runs the installed-style entry in a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/env.js';
import { readReportData } from '../../src/report/html.js';

const root = join(import.meta.dirname, '..', '..');
const example = join(root, 'examples', 'simulate');
const traceFile = join(root, 'examples', 'traces', 'daily-launch.csv');

/** Runs the CLI entry in this process (spawning tsx per case is slow), capturing output and the exit code. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { run } = await import('../../src/cli/main.js');
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  // The CLI writes text; the test runner's own events (binary, on stdout) pass through untouched.
  process.stdout.write = ((c: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof c !== 'string') return (out as (...a: unknown[]) => boolean).call(process.stdout, c, ...rest);
    stdout += c;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof c !== 'string') return (err as (...a: unknown[]) => boolean).call(process.stderr, c, ...rest);
    stderr += c;
    return true;
  }) as typeof process.stderr.write;
  try {
    await run(['node', 'scalepilot', ...args]);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  process.exitCode = 0;
  return { code, stdout, stderr };
}

const SERVICE = `
sources:
  prom: { type: prometheus, url: "http://127.0.0.1:9090" }
services:
  web:
    target: { provider: dryrun }
    minReplicas: 1
    maxReplicas: 10
    metrics:
      rps: { source: prom, query: "rate(http_requests_total[1m])", perPod: true }
    hpa:
      metrics:
        - type: Pods
          pods: { metric: { name: rps }, target: { type: AverageValue, averageValue: "80" } }
    capacity: { rpsPerReplica: 100, startupDelay: 15s }
`;

test('the example week replays: JSON with the gap, scores and the distance from the bound', async () => {
  const r = await cli(['simulate', '-c', join(example, 'scalepilot.yaml'), '--trace', traceFile, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const web = out.services[0];
  assert.equal(web.service, 'web');
  assert.equal(web.trace.steps, 7 * 24 * 60 * 4);
  assert.equal(web.trace.gaps.length, 1);
  assert.equal(web.trace.gaps[0].missingSamples, 4);
  assert.equal(web.trace.noDataSteps, 12);
  const s = web.results[0].score;
  assert.equal(s.scoredSteps + s.noDataSteps, s.steps);
  assert.ok(s.scaleUps > 0 && s.scaleDowns > 0);
  assert.ok(s.replicaHours > web.bound.replicaHours, 'a reactive policy costs more than the clairvoyant bound');
  assert.ok(Math.abs(s.cost - s.replicaHours * 0.05) < 1e-9);
  assert.ok(web.results[0].vsBound.extraReplicaHoursPct > 0);
  assert.equal(web.results[0].timeline, undefined, 'no per-step arrays without --timeline');
  assert.deepEqual(web.bindings.map((b: { metric: string; signal: string }) => [b.metric, b.signal]), [['rps', 'rps'], ['cpu', 'cpu']]);
});

test('--compare runs policies side by side with the bound, and --report draws them', async () => {
  const dir = tempDir();
  try {
    const html = join(dir.path, 'sim.html');
    const r = await cli(['simulate', '-c', join(example, 'scalepilot.yaml'), '--trace', traceFile, '--compare', `${join(example, 'cautious.yaml')},${join(example, 'predictive.yaml')}`, '--report', html]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    for (const row of ['scalepilot.yaml ', 'cautious.yaml ', 'predictive.yaml ', 'clairvoyant bound ']) assert.ok(lines.some((l) => l.startsWith(row)), `a row for ${row}`);
    assert.match(r.stdout, /1 gap\(s\): 4 step\(s\) held the last value, 12 step\(s\) no-data/);
    assert.match(r.stdout, /report written to/);
    const data = readReportData(readFileSync(html, 'utf8'))!;
    assert.deepEqual(data.charts.map((c) => c.title), ['web: demand vs ready capacity', 'web: replicas', 'web: utilization of ready capacity', 'web: modelled p95']);
    const replicas = data.charts[1]!;
    assert.ok(replicas.x.length <= 3000 && replicas.x.length > 2000);
    assert.ok(replicas.series.some((s) => s.label === 'clairvoyant bound'));
    assert.ok(replicas.series.some((s) => s.label === 'desired (cautious.yaml)'));
    // the launch spike shows in the demand series
    const demand = data.charts[0]!.series[0]!.values.filter((v): v is number => v !== null);
    assert.ok(Math.max(...demand) > 2000);
  } finally {
    dir.cleanup();
  }
});

test('bad rows are listed with their line, and utilization traces are rebuilt as demand', async () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir.path, 'web.yaml'), SERVICE);
    writeFileSync(join(dir.path, 'web.csv'), 't_seconds,value\n0,100\n15,120\n30,oops\n45,140\n60,150\n');
    const r = await cli(['simulate', '-c', join(dir.path, 'web.yaml'), '--trace', join(dir.path, 'web.csv')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 bad row\(s\) left out:\n\s+.*web\.csv:4: series value: value "oops" is not a finite number/);

    writeFileSync(join(dir.path, 'util.csv'), '0,50\n15,50\n30,75\n');
    const u = await cli(['simulate', '-c', join(dir.path, 'web.yaml'), '--trace', join(dir.path, 'util.csv'), '--trace-kind', 'utilization', '--recorded-replicas', '4', '--timeline', '-o', 'json']);
    assert.equal(u.code, 0, u.stderr);
    const web = JSON.parse(u.stdout).services[0];
    // 50 % of 4 replicas of 100 rps = 200 rps; 75 % = 300 rps
    assert.deepEqual(web.load.values, [200, 200, 300]);
    assert.ok(web.notes.some((n: string) => /utilization trace/.test(n)));
  } finally {
    dir.cleanup();
  }
});

test('capacity per replica: from capacity.rpsPerReplica, a saved capacity file, or 500 rps per core of cpu request', async () => {
  const { writeCapacityFile } = await import('../../src/loadtest/capacity.js');
  const dir = tempDir();
  try {
    writeFileSync(join(dir.path, 'web.csv'), '0,100\n15,100\n');
    writeCapacityFile(join(dir.path, 'web-capacity.json'), {
      url: 'http://127.0.0.1:8080/', sustainableRps: 240, rpsPerReplica: 240, replicas: 1, gates: ['p95<500ms'],
      measuredAt: '2024-05-01T10:00:00.000Z', steps: [],
    });
    const noCapacity = SERVICE.replace('    capacity: { rpsPerReplica: 100, startupDelay: 15s }\n', '');
    writeFileSync(join(dir.path, 'file.yaml'), noCapacity.replace('    metrics:', '    capacity: { file: web-capacity.json }\n    metrics:'));
    writeFileSync(join(dir.path, 'rule.yaml'), noCapacity.replace('    metrics:', '    resources: { requests: { cpu: 250m } }\n    metrics:'));
    const capacityOf = async (cfg: string) => {
      const r = await cli(['simulate', '-c', join(dir.path, cfg), '--trace', join(dir.path, 'web.csv'), '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout).services[0];
    };
    const fromFile = await capacityOf('file.yaml');
    assert.equal(fromFile.workload.capacityPerReplica, 240);
    assert.match(fromFile.workload.capacitySource, /web-capacity\.json, measured 2024-05-01T10:00:00.000Z/);
    const fromRule = await capacityOf('rule.yaml');
    assert.equal(fromRule.workload.capacityPerReplica, 125);
    assert.ok(fromRule.notes.some((n: string) => /500 rps per core/.test(n)));
    writeFileSync(join(dir.path, 'broken.yaml'), noCapacity.replace('    metrics:', '    capacity: { file: missing.json }\n    metrics:'));
    const broken = await cli(['simulate', '-c', join(dir.path, 'broken.yaml'), '--trace', join(dir.path, 'web.csv')]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /services\.web\.capacity\.file: capacity file .*missing\.json: cannot read it/);
  } finally {
    dir.cleanup();
  }
});

test('several services in one run: each replays the series named after it, results in config order', async () => {
  const dir = tempDir();
  try {
    const two = SERVICE + SERVICE.split('services:\n')[1]!.replace('  web:', '  api:').replace('maxReplicas: 10', 'maxReplicas: 6');
    writeFileSync(join(dir.path, 'two.yaml'), two);
    const rows = ['t_seconds,api,web'];
    for (let k = 0; k < 40; k++) rows.push(`${k * 15},${k < 20 ? 50 : 900},${k < 20 ? 100 : 300}`);
    writeFileSync(join(dir.path, 'two.csv'), rows.join('\n'));
    const r = await cli(['simulate', '-c', join(dir.path, 'two.yaml'), '--trace', join(dir.path, 'two.csv'), '--workers', '2', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.services.map((s: { service: string }) => s.service), ['web', 'api']);
    const [web, api] = out.services;
    assert.match(web.trace.source, /series web/);
    // 300 rps at 80 per replica
    assert.equal(web.results[0].score.peakReplicas, 4);
    // api needs 9 replicas at 900 rps but may run 6: over capacity from the jump to the end, even for the bound
    assert.equal(api.results[0].score.peakReplicas, 6);
    assert.equal(api.bound.violationMinutes, 20 * 0.25);
    assert.ok(api.results[0].score.minutesAtMax > 0);
  } finally {
    dir.cleanup();
  }
});

test('--tune prints the winning hpa block and the top candidates', async () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir.path, 'web.yaml'), SERVICE);
    const rows = ['t_seconds,value'];
    for (let k = 0; k < 240; k++) rows.push(`${k * 15},${k % 80 < 40 ? 150 : 450}`);
    writeFileSync(join(dir.path, 'web.csv'), rows.join('\n'));
    const r = await cli(['simulate', '-c', join(dir.path, 'web.yaml'), '--trace', join(dir.path, 'web.csv'), '--tune', '--tune-budget', '60', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout).services[0].tune;
    assert.ok(t.evaluated <= 60);
    assert.match(t.snippet, /^services:\n  web:\n    minReplicas: \d+\n    maxReplicas: 10\n    hpa:\n/);
    assert.ok(t.top.length > 1);
    for (const c of t.top) assert.ok(c.score.violationMinutes > t.best.score.violationMinutes || (c.score.violationMinutes === t.best.score.violationMinutes && c.score.replicaHours >= t.best.score.replicaHours));
    assert.ok(t.best.score.violationMinutes <= t.configured.score.violationMinutes);
    assert.equal(t.churn.maxScaleUpsPerDay, undefined, 'no churn limit unless asked');
    assert.equal(typeof t.churn.winnerScaleUpsPerDay, 'number');
    // with a churn limit the table says what the winner makes against it, and the JSON carries it
    const limited = await cli(['simulate', '-c', join(dir.path, 'web.yaml'), '--trace', join(dir.path, 'web.csv'), '--tune', '--tune-budget', '60', '--tune-max-scale-ups', '0']);
    assert.equal(limited.code, 0, limited.stderr);
    assert.match(limited.stdout, /churn: at most 0 scale-ups a day; the winner makes 0(\.0)? \(configured: [\d.]+\)$/m);
  } finally {
    dir.cleanup();
  }
});

test('bad input exits 2 with a message naming the problem and the fix', async () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir.path, 'web.yaml'), SERVICE);
    writeFileSync(join(dir.path, 'web.csv'), '0,100\n15,100\n');
    writeFileSync(join(dir.path, 'neg.csv'), '0,-1\n15,-2\n');
    // two samples two days apart: a span of four days (the last sample covers one interval more)
    writeFileSync(join(dir.path, 'long.csv'), '0,100\n172800,100\n');
    writeFileSync(join(dir.path, 'nocap.yaml'), SERVICE.replace('    capacity: { rpsPerReplica: 100, startupDelay: 15s }\n', ''));
    // a one-service variant with a mistake on its line 3
    writeFileSync(join(dir.path, 'bad-variant.yaml'), 'target: { provider: dryrun }\nminReplicas: 1\nmaxReplicas: many\n');
    const cfg = join(dir.path, 'web.yaml');
    const csv = join(dir.path, 'web.csv');
    const cases: Array<[string, string[], RegExp]> = [
      ['no traffic given', ['simulate', '-c', cfg], /give the traffic to replay: --trace FILE/],
      ['missing trace file', ['simulate', '-c', cfg, '--trace', join(dir.path, 'nope.csv')], /nope\.csv: cannot read the trace: ENOENT/],
      ['missing config', ['simulate', '-c', join(dir.path, 'nope.yaml'), '--trace', csv], /nope\.yaml: cannot read: ENOENT/],
      ['unknown service', ['simulate', '-c', cfg, '--trace', csv, '--service', 'api'], /--service api: .* has no such service; it has web/],
      ['unknown trace kind', ['simulate', '-c', cfg, '--trace', csv, '--trace-kind', 'qps'], /--trace-kind qps: use rps or utilization/],
      ['bad step', ['simulate', '-c', cfg, '--trace', csv, '--step', 'soon'], /--step soon: "soon" is not a duration/],
      ['utilization without recorded replicas', ['simulate', '-c', cfg, '--trace', csv, '--trace-kind', 'utilization'], /add --recorded-replicas N/],
      ['unknown signal', ['simulate', '-c', cfg, '--trace', csv, '--metric', 'rps=bogus'], /--metric rps=bogus: write NAME=SIGNAL/],
      ['signal for a metric the service lacks', ['simulate', '-c', cfg, '--trace', csv, '--metric', 'qps=rps'], /--metric qps=rps: services\.web has no metric qps/],
      ['prometheus without a query', ['simulate', '-c', cfg, '--prom-url', 'http://127.0.0.1:1'], /--prom-url needs --query/],
      ['no capacity', ['simulate', '-c', join(dir.path, 'nocap.yaml'), '--trace', csv], /services\.web: the simulator needs the capacity of one replica: set services\.web\.capacity\.rpsPerReplica/],
      ['nothing usable in the trace', ['simulate', '-c', cfg, '--trace', join(dir.path, 'neg.csv')], /no usable samples/],
      ['a compared variant with an error, at its own line', ['simulate', '-c', cfg, '--trace', csv, '--compare', join(dir.path, 'bad-variant.yaml')], /bad-variant\.yaml:3:\d+: maxReplicas: .*number/],
      ['a compared file that is missing', ['simulate', '-c', cfg, '--trace', csv, '--compare', join(dir.path, 'gone.yaml')], /--compare .*gone\.yaml: cannot read \(ENOENT\)/],
      ['bad output format', ['simulate', '-c', cfg, '--trace', csv, '-o', 'xml'], /-o xml: unknown output format/],
      ['a churn limit that is not a count', ['simulate', '-c', cfg, '--trace', csv, '--tune', '--tune-max-scale-ups', '-3'], /--tune-max-scale-ups -3: must be a whole number >= 0/],
      // search options without a search would be silently ignored
      ['--tune-strict without --tune', ['simulate', '-c', cfg, '--trace', csv, '--tune-strict'], /--tune-strict shapes a search: add --tune/],
      ['--no-tune-strict without --tune', ['simulate', '-c', cfg, '--trace', csv, '--no-tune-strict'], /--no-tune-strict shapes a search: add --tune/],
      ['a churn limit and --tune-strict without --tune', ['simulate', '-c', cfg, '--trace', csv, '--tune-strict', '--tune-max-scale-ups', '3'], /--tune-strict and --tune-max-scale-ups shape a search: add --tune/],
      // a step so fine that the replay's arrays would take gigabytes, before any is allocated
      ['more steps than a replay holds', ['simulate', '-c', cfg, '--trace', join(dir.path, 'long.csv'), '--step', '1ms'], /long\.csv: 4d in steps of 1ms is 345,600,000 steps, more than the 10,000,000 a replay holds; use --step 35ms or more, or a shorter range/],
      ['more steps than --timeline prints', ['simulate', '-c', cfg, '--trace', join(dir.path, 'long.csv'), '--step', '100ms', '--timeline', '-o', 'json'], /is 3,456,000 steps, more than the 1,000,000 steps --timeline prints; use --step 346ms or more/],
      // a budget past what a search can hold would run a grid of millions of candidates until memory ran out
      ['a search budget past the most a search holds', ['simulate', '-c', cfg, '--trace', csv, '--tune', '--tune-budget', '1e9'], /--tune-budget 1e9: must be at most 100000 \(a search holds every candidate/],
    ];
    for (const [name, args, expect] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${name}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, expect, name);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
    }
  } finally {
    dir.cleanup();
  }
});

test('the command runs as a process too: exit code and stderr from the real entry', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
    "const { run } = await import('./src/cli/main.ts'); await run(['node', 'scalepilot', ...process.argv.slice(1)]);",
    'simulate', '-c', join(example, 'scalepilot.yaml'), '--trace', join(root, 'nope.csv')], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^scalepilot: .*nope\.csv: cannot read the trace: ENOENT/);
});
