// `scalepilot loadtest` end to end: the real CLI in a child process against real local servers; exit codes 0/1/2,
// quiet JSON, HTML reports, config files and the capacity probe's saved file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCapacityFile } from '../../src/loadtest/capacity.js';
import type { LoadTestResult } from '../../src/loadtest/engine.js';
import { readReportData } from '../../src/report/html.js';
import { tempDir } from '../helpers/env.js';
import { errorServer, fastServer, kneeServer, withServer } from './servers.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

/** Runs the CLI (stdin/stdout/stderr are pipes, so not a TTY) and collects its output. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const script = `import { run } from ${JSON.stringify(MAIN)}; await run(['node', 'scalepilot', ...process.argv.slice(1)]);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

test('gates that hold exit 0 with a human summary', () => withServer(fastServer(), async (s) => {
  const r = await cli(['loadtest', s.url, '-c', '4', '-d', '1s', '--gate', 'p95<500ms', '--gate', 'errors<1%']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /closed model \(virtual users\), 1s/);
  assert.match(r.stdout, /p95<500ms\s+\S+\s+pass/);
  assert.match(r.stdout, /passed p95<500ms, errors<1%/);
  assert.equal(r.stderr, '', 'no progress line when stderr is not a terminal');
  assert.ok(s.seen.length > 0);
}));

test('a failing gate exits 1; -o json is quiet and machine-readable; --report writes the charts', () => withServer(errorServer(10), async (s) => {
  const d = tempDir();
  try {
    const report = join(d.path, 'load.html');
    const r = await cli(['loadtest', s.url, '--rate', '100', '--stages', '1s:100,1s:200', '--gate', 'errors<1%', '-o', 'json', '--report', report]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, '');
    const out = JSON.parse(r.stdout) as LoadTestResult;
    assert.equal(out.model, 'open');
    assert.equal(out.passed, false);
    assert.deepEqual(out.gates.map((g) => [g.gate, g.passed]), [['errors<1%', false]]);
    assert.ok(Math.abs(out.errorRate - 0.1) < 0.01, `error rate ${out.errorRate}`);
    assert.ok(Math.abs(out.requests - 250) <= 3, `${out.requests} requests`);
    assert.equal(out.requests, s.seen.length);
    const data = readReportData(readFileSync(report, 'utf8'))!;
    assert.deepEqual(data.charts.map((c) => c.title), ['Throughput', 'Latency', 'Errors', 'Requests in flight']);
    assert.deepEqual(data.charts[0]!.series[0]!.values, out.timeline.map((p) => p.rps));
  } finally {
    d.cleanup();
  }
}));

test('bad input exits 2 with a message naming the problem, before any load is sent', () => withServer(fastServer(), async (s) => {
  const cases: Array<[string[], RegExp]> = [
    [['loadtest', s.url, '--gate', 'p95<<5ms'], /threshold "p95<<5ms"/],
    [['loadtest', 'http://192.0.2.1:8080/'], /not on this machine.*--allow-remote/],
    [['loadtest', s.url, '--stages', '30s:50', '--duration', '10s'], /--duration and --stages/],
    [['loadtest', s.url, '-c', 'many'], /--connections many/],
    [['loadtest', s.url, '--save', 'x.json'], /--save only applies with --find-capacity/],
    [['loadtest', s.url, '-o', 'xml'], /-o xml/],
    [['loadtest', s.url, '--config', '/nonexistent/load.yaml'], /--config \/nonexistent\/load\.yaml: cannot read it/],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
  }
  assert.equal(s.seen.length, 0);
}));

test('--config supplies endpoints, stages and thresholds; -H adds to every endpoint', () =>
  withServer(fastServer(), async (s) => {
    const d = tempDir();
    try {
      const file = join(d.path, 'load.yaml');
      writeFileSync(file, [
        `url: ${s.url}`,
        'stages: [ { duration: 1s, target: 3 }, { duration: 500ms, target: 3 } ]',
        'endpoints:',
        '  - { path: /home, weight: 4 }',
        '  - { path: /search, weight: 1 }',
        'thresholds: [ "p99<2s" ]',
      ].join('\n'));
      const r = await cli(['loadtest', '--config', file, '-H', 'Authorization: Bearer t', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as LoadTestResult;
      assert.deepEqual(out.gates.map((g) => g.gate), ['p99<2s']);
      assert.deepEqual(out.stages.map((x) => x.target), [3, 3]);
      const home = s.seen.filter((x) => x.url === '/home').length;
      const search = s.seen.filter((x) => x.url === '/search').length;
      assert.ok(Math.abs(home - 4 * search) <= 4, `${home} /home vs ${search} /search`);
      assert.ok(s.seen.every((x) => x.headers.authorization === 'Bearer t'));
    } finally {
      d.cleanup();
    }
  }));

test('--find-capacity --save writes the capacity file simulate and plan read', () => withServer(kneeServer(100), async (s) => {
  const d = tempDir();
  try {
    const file = join(d.path, 'capacity.json');
    const r = await cli(['loadtest', '--find-capacity', s.url, '--gate', 'p95<100ms', '--replicas', '2', '--start-rate', '50',
      '--step-duration', '1s', '--precision', '25%', '--save', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /sustainable: [\d.]+ rps under p95<100ms across 2 replicas = [\d.]+ rps per replica/);
    assert.ok(existsSync(file));
    const c = readCapacityFile(file);
    assert.ok(c.sustainableRps >= 80 && c.sustainableRps <= 120, `sustainable ${c.sustainableRps}`);
    assert.equal(c.rpsPerReplica, Math.round((c.sustainableRps / 2) * 100) / 100);
    assert.deepEqual(c.gates, ['p95<100ms']);
  } finally {
    d.cleanup();
  }
}));
