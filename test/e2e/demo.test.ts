// `scalepilot demo`, compressed: the sample service scales up under the ramp and back down after it, the proxy
// loses no request, and the HTML report is written. Runs with the built-in proxy (what a fresh machine without
// nginx uses) and through the CLI with -o json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { demoConfigYaml, runDemo } from '../../src/controller/demo.js';
import { parseConfig } from '../../src/config/load.js';
import { sleep, tempDir } from '../helpers/env.js';

test('demo: scale up under the ramp, back down after it, no failed request, report written', { timeout: 150_000 }, async () => {
  const dir = tempDir();
  try {
    const report = join(dir.path, 'demo.html');
    const lines: string[] = [];
    const r = await runDemo({ rate: 60, rampMs: 10_000, holdMs: 20_000, coolMs: 30_000, maxReplicas: 5, syncMs: 1000, stateDir: dir.path, report, plain: true, proxy: 'builtin', out: (s) => lines.push(s) });
    assert.ok(r.peakReplicas >= 2, `replicas rose under load (peak ${r.peakReplicas})`);
    assert.ok(r.finalReplicas < r.peakReplicas, `replicas fell after the load (final ${r.finalReplicas}, peak ${r.peakReplicas})`);
    assert.equal(r.load.errors, 0, `no failed requests: ${JSON.stringify(r.load.statusCodes)} ${JSON.stringify(r.load.errorsByKind)}\n${lines.join('')}`);
    assert.ok(r.decisions.some((d) => d.to > d.from) && r.decisions.some((d) => d.to < d.from));
    assert.ok(lines.some((l) => /replicas \d\/\d→\d/.test(l)), 'the live view printed');
    const html = readFileSync(report, 'utf8');
    assert.match(html, /scalepilot demo/);
    assert.doesNotMatch(html, /<script[^>]+src=["']https?:/);
    // the layout README describes: the store, and each replica's log under <state-dir>/local/<service>/
    assert.ok(existsSync(join(dir.path, 'demo.db')), 'store in the state directory');
    assert.ok(existsSync(join(dir.path, 'local', 'web', 'web-0.log')), 'replica logs under local/web');
  } finally {
    dir.cleanup();
  }
});

test('demo CLI: bad flags are bad input (exit 2)', async () => {
  const bin = join(process.cwd(), 'bin/scalepilot');
  assert.ok(existsSync(bin));
  await assert.rejects(promisify(execFile)(bin, ['demo', '--rate', 'lots']), (e: { code?: number; stderr?: string }) => e.code === 2 && /--rate lots: must be a number/.test(e.stderr ?? ''));
  await assert.rejects(promisify(execFile)(bin, ['demo', '--proxy', 'haproxy']), (e: { code?: number }) => e.code === 2);
});

test('demo config: a relative or odd state directory gives absolute paths, each one YAML string', () => {
  // relative paths in the config are read from the config file's directory, which is the state directory itself:
  // the default .scalepilot/demo put the store in .scalepilot/demo/.scalepilot/demo
  for (const stateDir of ['.scalepilot/demo', 'odd dir: #1']) {
    const yaml = demoConfigYaml({ listen: 9000, portBase: 10000, maxReplicas: 4, syncMs: 2000, proxy: 'builtin', stateDir });
    const config = parseConfig(yaml, join(stateDir, 'scalepilot.demo.yaml'));
    assert.equal(config.store, `sqlite:${resolve(stateDir, 'demo.db')}`);
    assert.equal((config.services.web!.target.spec as { stateDir: string }).stateDir, resolve(stateDir, 'local'));
  }
});

test('demo: a second demo on the same state dir exits 2 naming the first, and leaves the first\'s config and run alone', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const bin = join(process.cwd(), 'bin/scalepilot');
  try {
    const first = spawn(process.execPath, [bin, 'demo', '--ramp', '2s', '--hold', '2s', '--cool', '3s', '--rate', '20', '--proxy', 'builtin', '--no-report', '--state-dir', dir.path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    first.stdout!.on('data', (d) => (out += d));
    const firstExit = new Promise<number | null>((res) => first.once('exit', (c) => res(c)));
    // the header is printed once the first holds the state dir
    for (let i = 0; i < 200 && !out.includes('scalepilot demo:'); i++) await sleep(100);
    assert.match(out, /scalepilot demo:/);
    const config = readFileSync(join(dir.path, 'scalepilot.demo.yaml'), 'utf8');
    // once: the second ran, overwrote the first's config file and failed every one of its requests
    await assert.rejects(promisify(execFile)(process.execPath, [bin, 'demo', '--ramp', '2s', '--hold', '2s', '--cool', '3s', '--proxy', 'builtin', '--no-report', '--state-dir', dir.path]),
      (e: { code?: number; stdout?: string; stderr?: string }) => e.code === 2 && /is in use by another scalepilot \(pid \d+/.test(e.stderr ?? '') && !/scalepilot demo:/.test(e.stdout ?? ''));
    assert.equal(readFileSync(join(dir.path, 'scalepilot.demo.yaml'), 'utf8'), config);
    assert.equal(await firstExit, 0, out);
    assert.match(out, /requests, 0 failed/);
  } finally {
    dir.cleanup();
  }
});

test('demo: Ctrl-C (twice) stops the load, the replicas and the proxy, and exits 130', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const bin = join(process.cwd(), 'bin/scalepilot');
  try {
    const demo = spawn(process.execPath, [bin, 'demo', '--ramp', '20s', '--hold', '20s', '--cool', '20s', '--rate', '20', '--no-report', '--state-dir', dir.path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    demo.stdout!.on('data', (d) => (out += d));
    demo.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((res) => demo.once('exit', (c) => res(c)));
    // what the demo has started: its replicas' pids, and the nginx front's process group when nginx runs it
    const stateFile = join(dir.path, 'local', 'web', 'state.json');
    let state: { processes: Array<{ pid: number }>; proxy: { pgid?: number } } | undefined;
    for (let i = 0; i < 300 && !(state && /load\s+[1-9]/.test(out)); i++) {
      await sleep(100);
      try { state = JSON.parse(readFileSync(stateFile, 'utf8')); } catch { /* not written yet */ }
    }
    assert.ok(state && state.processes.length >= 1, `the demo started its replicas: ${out}`);
    const pids = [...state.processes.map((p) => p.pid), ...(state.proxy.pgid ? [state.proxy.pgid] : [])];
    assert.ok(pids.every(alive));
    // once: the default exit on SIGINT left the replicas and nginx running
    demo.kill('SIGINT');
    await sleep(200);
    demo.kill('SIGINT');
    assert.equal(await exited, 130, out);
    assert.match(out, /SIGINT: stopping the load, the replicas and the proxy/);
    assert.match(out, /stopped early by SIGINT/);
    assert.deepEqual(pids.filter(alive), [], 'nothing the demo started is left');
  } finally {
    dir.cleanup();
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
