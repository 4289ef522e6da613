// Bad input at the command line ends in exit 2 and one message, never a stack trace or an unbounded read:
// alias bombs, unresolved aliases, endless files and pipes, a corrupt SQLite store, an API port already taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../helpers/env.js';

const bin = join(process.cwd(), 'bin/scalepilot');

interface Result { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; peakRssKb: number }

/** Runs the CLI with a hard time limit; /usr/bin/time is not assumed, so peak RSS comes from /proc while it runs. */
function cli(args: string[], o: { stdinFile?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const stdinFd = o.stdinFile ? openSync(o.stdinFile, 'r') : 'ignore';
    const child = spawn(process.execPath, [bin, ...args], { stdio: [stdinFd, 'pipe', 'pipe'], ...(o.env ? { env: o.env } : {}) });
    if (typeof stdinFd === 'number') closeSync(stdinFd);
    let stdout = '';
    let stderr = '';
    let peakRssKb = 0;
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakRssKb = Math.max(peakRssKb, Number(m[1]));
      } catch {
        // exited between polls
      }
    }, 50);
    const kill = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000);
    child.once('exit', (code, signal) => {
      clearInterval(poll);
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr, peakRssKb });
    });
  });
}

function assertCleanExit2(r: Result, what: RegExp): void {
  assert.equal(r.signal, null, `killed (${r.signal}) instead of exiting: ${r.stderr.slice(0, 500)}`);
  assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr.slice(0, 2000)}`);
  assert.match(r.stderr, what);
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+\)?\n/, `no stack trace: ${r.stderr}`);
}

test('validate: alias bomb and unresolved alias exit 2 with a message', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    const bomb = join(dir.path, 'bomb.yaml');
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    writeFileSync(bomb, lines.join('\n') + '\nservices: {}\n');
    assertCleanExit2(await cli(['validate', bomb]), /bomb\.yaml: YAML aliases expand to too many nodes/);
    const unresolved = join(dir.path, 'unresolved.yaml');
    writeFileSync(unresolved, 'services:\n  api: *nope\n');
    assertCleanExit2(await cli(['validate', unresolved]), /unresolved\.yaml: YAML: Unresolved alias/);
    // the same file through a command that runs the controller: nothing is started
    assertCleanExit2(await cli(['run', '--once', '--dry-run', '-c', unresolved, '--no-server', '--state-dir', dir.path]), /Unresolved alias/);
  } finally {
    dir.cleanup();
  }
});

test('validate /dev/zero is refused after 16 MB, with bounded memory', { timeout: 60_000 }, async () => {
  const r = await cli(['validate', '/dev/zero']);
  assertCleanExit2(r, /\/dev\/zero: larger than 16 MB/);
  // unbounded, this read grew past 9 GB; a few hundred MB is the CLI plus one 16 MB buffer
  assert.ok(r.peakRssKb < 600 * 1024, `peak RSS ${Math.round(r.peakRssKb / 1024)} MB`);
});

test('hpa evaluate </dev/zero and --input /dev/zero are refused after 64 MB, with bounded memory', { timeout: 60_000 }, async () => {
  const r = await cli(['hpa', 'evaluate'], { stdinFile: '/dev/zero' });
  assertCleanExit2(r, /stdin: more than 64 MB/);
  assert.ok(r.peakRssKb < 800 * 1024, `peak RSS ${Math.round(r.peakRssKb / 1024)} MB`);
  assertCleanExit2(await cli(['hpa', 'evaluate', '--input', '/dev/zero']), /--input \/dev\/zero: more than 64 MB/);
});

test('a load-test file with an alias bomb exits 2', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    const file = join(dir.path, 'lt.yaml');
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    writeFileSync(file, lines.join('\n') + '\n');
    assertCleanExit2(await cli(['loadtest', '--config', file]), /lt\.yaml.*YAML: .*alias/i);
  } finally {
    dir.cleanup();
  }
});

test('run on a corrupt SQLite store exits 2 naming the store and the fix', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    const db = join(dir.path, 'sp.db');
    writeFileSync(db, Buffer.alloc(20_000, 0x5a));
    const file = join(dir.path, 'scalepilot.yaml');
    writeFileSync(file, `store: sqlite:${db}\nservices:\n  api:\n    target: { provider: dryrun }\n    maxReplicas: 3\n`);
    const r = await cli(['run', '--once', '--dry-run', '-c', file, '--no-server', '--state-dir', dir.path]);
    assertCleanExit2(r, /store sqlite:.*sp\.db is damaged \(.*not a database\).*Move it aside/);
  } finally {
    dir.cleanup();
  }
});

test('run and serve with the API port in use exit 2 naming the port, --listen and server.listen', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const squatter = createServer();
  try {
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    const port = (squatter.address() as { port: number }).port;
    const file = join(dir.path, 'scalepilot.yaml');
    writeFileSync(file, `store: sqlite:${join(dir.path, 'sp.db')}\nservices:\n  api:\n    target: { provider: dryrun }\n    maxReplicas: 3\n`);
    for (const cmd of ['run', 'serve']) {
      const r = await cli([cmd, '--dry-run', '-c', file, '--listen', `127.0.0.1:${port}`, '--state-dir', dir.path, '--log-level', 'warn'], { timeoutMs: 20_000 });
      assertCleanExit2(r, new RegExp(`port ${port} is already in use.*EADDRINUSE.*--listen.*server\\.listen`));
    }
  } finally {
    squatter.close();
    dir.cleanup();
  }
});

test('a trace, a compared policy, a capacity file, a load-test file and a --body @file that never end are refused at their caps', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  try {
    const trace = join(dir.path, 'trace.csv');
    writeFileSync(trace, 't_seconds,value\n0,10\n60,12\n120,11\n');
    const config = (capacity: string) => `
sources:
  traffic: { type: trace, file: ${JSON.stringify(trace)} }
  procs: { type: process }
services:
  web:
    target: { provider: dryrun }
    maxReplicas: 10
    resources: { requests: { cpu: 500m } }
    metrics:
      rps: { source: traffic, query: value }
      cpu: { source: procs, query: cpu, perPod: true }
    hpa: { metrics: [ { type: Resource, resource: { name: cpu, target: { type: Utilization, averageUtilization: 70 } } } ] }
    capacity: { ${capacity} }
`;
    const ok = join(dir.path, 'ok.yaml');
    writeFileSync(ok, config('rpsPerReplica: 10'));
    const cap = join(dir.path, 'cap.yaml');
    writeFileSync(cap, config('file: /dev/zero'));
    const cases: Array<[string, string[], RegExp]> = [
      ['trace', ['simulate', '-c', ok, '--trace', '/dev/zero'], /\/dev\/zero.*larger than 256 MB/],
      ['compared policy', ['simulate', '-c', ok, '--trace', trace, '--compare', '/dev/zero'], /--compare \/dev\/zero.*more than 16 MB/],
      ['capacity file', ['simulate', '-c', cap, '--trace', trace], /\/dev\/zero.*more than 64 MB/],
      ['load-test file', ['loadtest', '--config', '/dev/zero'], /--config \/dev\/zero.*more than 16 MB/],
      ['request body', ['loadtest', 'http://127.0.0.1:9/', '--body', '@/dev/zero', '--duration', '1s'], /--body @\/dev\/zero.*more than 64 MB/],
    ];
    for (const [name, args, why] of cases) {
      const r = await cli(args, { timeoutMs: 60_000 });
      assertCleanExit2(r, why);
      // a read without a cap grows until the kernel kills it; with one, the CLI plus one capped buffer
      assert.ok(r.peakRssKb < 1200 * 1024, `${name}: peak RSS ${Math.round(r.peakRssKb / 1024)} MB`);
    }
  } finally {
    dir.cleanup();
  }
});

test('numbers past every sensible bound (1e308 replicas or rps, 20-digit times, 99999d tests) and inherited names exit 2 at once', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  try {
    const trace = join(dir.path, 'trace.csv');
    writeFileSync(trace, 't_seconds,value\n0,10\n60,12\n120,11\n');
    const cfg = join(dir.path, 'scalepilot.yaml');
    writeFileSync(cfg, `
sources: { traffic: { type: trace, file: ${JSON.stringify(trace)} } }
services:
  web:
    target: { provider: dryrun }
    maxReplicas: 10
    metrics: { rps: { source: traffic, query: value } }
    capacity: { rpsPerReplica: 5 }
`);
    const tokenCfg = join(dir.path, 'token.yaml');
    writeFileSync(tokenCfg, readFileSync(cfg, 'utf8') + 'server: { token: "env:SCALEPILOT_TEST_NO_SUCH_VAR" }\n');
    const cases: Array<[string[], RegExp]> = [
      // once: `run` served an API without steering, saying nothing (serve refused it)
      [['run', '-c', tokenCfg, '--dry-run', '--state-dir', join(dir.path, 'state')], /server\.token is env:SCALEPILOT_TEST_NO_SUCH_VAR but SCALEPILOT_TEST_NO_SUCH_VAR is not set/],
      // once: a simulation holding 1e308 pods until the heap ran out
      [['simulate', '-c', cfg, '--trace', trace, '--initial-replicas', '1e308'], /--initial-replicas 1e308: must be at most 100000/],
      [['simulate', '-c', cfg, '--trace', trace, '--start', 'now-99999999999d'], /--start now-99999999999d: not a time/],
      // once: a RangeError from Date.toISOString
      [['check', '-c', cfg, '--at', '99999999999999999999'], /--at 99999999999999999999: past year 9999/],
      // once: a schedule whose arrival times no longer advanced, so `--duration 1s` never ended
      [['loadtest', 'http://127.0.0.1:9/', '--rate', '1e308', '--duration', '1s'], /arrivals per second is more than one process can send \(max 1000000\)/],
      [['loadtest', 'http://127.0.0.1:9/', '--duration', '99999d'], /a load test runs at most 24h/],
      [['loadtest', 'http://127.0.0.1:9/', '--find-capacity', '--max-rate', '1e20'], /--max-rate .*: must be at most 1000000/],
      // once: Object.prototype taken for a service, and a TypeError
      [['export', 'hpa', '-c', cfg, '--service', '__proto__'], /--service __proto__: not in .*services there: web/],
      [['check', '-c', cfg, '--service', 'constructor'], /--service constructor: no such service/],
      // once: pino's own Error and its stack
      [['run', '-c', cfg, '--once', '--dry-run', '--no-server', '--log-level', 'loud'], /--log-level "loud": not a log level; use one of fatal, error/],
      [['serve', '-c', cfg, '--log-level', 'loud'], /--log-level "loud": not a log level/],
    ];
    // a hang is killed at 30 s and fails as a kill, not an exit 2
    // SCALEPILOT_TOKEN would stand in for server.token, so it is not passed on
    const { SCALEPILOT_TOKEN: _token, ...env } = process.env;
    for (const [args, why] of cases) assertCleanExit2(await cli(args, { timeoutMs: 30_000, env }), why);
  } finally {
    dir.cleanup();
  }
});
