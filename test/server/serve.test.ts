// `scalepilot serve` as installed: the built CLI (bin/scalepilot → dist/) in its own process, with the controller
// loop, then again over the same store with --read-only-store; and the bad-input exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { freePort, tempDir, waitForPort, sleep } from '../helpers/env.js';
import { traceCsv } from './helpers.js';
import { openStore } from '../../src/store/index.js';

const BIN = fileURLToPath(new URL('../../bin/scalepilot', import.meta.url));
const TOKEN = 'serve-test-token';

function writeConfig(dir: string): string {
  const start = Math.floor(Date.now() / 1000) - 60;
  writeFileSync(join(dir, 'trace.csv'), traceCsv(start, { rps: 250 }));
  const file = join(dir, 'scalepilot.yaml');
  writeFileSync(file, `
syncPeriod: 1s
store: sqlite:state.db
sources:
  recorded: { type: trace, file: trace.csv }
services:
  web:
    target: { provider: dryrun, replicas: 2 }
    minReplicas: 1
    maxReplicas: 5
    metrics: { rps: { source: recorded, query: rps } }
    hpa:
      metrics:
        - type: External
          external: { metric: { name: rps }, target: { type: AverageValue, averageValue: "100" } }
`);
  return file;
}

function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function stop(p: ReturnType<typeof start>): Promise<number | null> {
  if (p.child.exitCode !== null) return p.child.exitCode;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  const code = await p.exited;
  clearTimeout(t);
  return code;
}

async function get(port: number, path: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {}) {
  const r = await request(`http://127.0.0.1:${port}${path}`, { method: init.method ?? 'GET', ...(init.headers ? { headers: init.headers } : {}), ...(init.body ? { body: init.body } : {}) });
  const text = await r.body.text();
  return { status: r.statusCode, text, json: () => JSON.parse(text) };
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

test('serve runs the controller and serves dashboard and API from the built package; --read-only-store only shows the store', async () => {
  const tmp = tempDir('scalepilot-serve-');
  const file = writeConfig(tmp.path);
  mkdirSync(join(tmp.path, 'reports'));
  writeFileSync(join(tmp.path, 'reports', 'sim.json'), JSON.stringify({ config: 'c.yaml', trace: 't.csv', services: [] }));
  let live: ReturnType<typeof start> | undefined;
  let ro: ReturnType<typeof start> | undefined;
  try {
    const port = await freePort();
    live = start(['-c', file, '--listen', `127.0.0.1:${port}`, '--reports', join(tmp.path, 'reports'), '--state-dir', join(tmp.path, 'state')], { SCALEPILOT_TOKEN: TOKEN });
    await waitForPort(port, 20_000);
    // the loop syncs on its own: 250 rps at 100 per replica → 3
    const web = await until('a sync by the controller', async () => {
      const s = (await get(port, '/api/v1/services')).json().services[0];
      return s.source === 'controller' && s.currentReplicas === 3 ? s : undefined;
    });
    assert.equal(web.status, 'OK');
    const page = await get(port, '/');
    assert.equal(page.status, 200);
    assert.match(page.text, /<script src="assets\/app\.js"><\/script>/);
    assert.match((await get(port, '/assets/uplot.js')).text, /uPlot/);
    assert.equal((await get(port, '/api/v1/reports')).json().reports[0].kind, 'simulation');
    const pause = await get(port, '/api/v1/services/web/pause', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(pause.status, 200, pause.text);
    assert.equal((await get(port, '/api/v1/services/web/resume', { method: 'POST' })).status, 401);
    assert.equal(await stop(live), 0, live.output());

    const decisionsBefore = await storedDecisions(tmp.path);
    const port2 = await freePort();
    ro = start(['-c', file, '--listen', `127.0.0.1:${port2}`, '--read-only-store', '--token', TOKEN, '--state-dir', join(tmp.path, 'state')]);
    await waitForPort(port2, 20_000);
    const stored = (await get(port2, '/api/v1/services')).json().services[0];
    assert.equal(stored.source, 'store');
    assert.equal(stored.currentReplicas, 3);
    assert.equal(stored.paused, true, 'the newest pause/resume event in the store is the pause');
    const refused = await get(port2, '/api/v1/services/web/resume', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(refused.status, 403);
    assert.match(refused.json().error, /read-only-store/);
    await sleep(2500); // more than two sync periods: a running loop would have recorded decisions
    assert.equal(await stop(ro), 0, ro.output());
    assert.equal(await storedDecisions(tmp.path), decisionsBefore, 'a read-only server records nothing');
  } finally {
    if (live) await stop(live);
    if (ro) await stop(ro);
    tmp.cleanup();
  }
});

async function storedDecisions(dir: string): Promise<number> {
  const store = await openStore(`sqlite:${join(dir, 'state.db')}`);
  try {
    return (await store.history('web', 0, { kinds: ['decision'] })).length;
  } finally {
    await store.close();
  }
}

test('serve: bad input exits 2 with a message naming the fix', async () => {
  const tmp = tempDir('scalepilot-serve-bad-');
  try {
    const file = writeConfig(tmp.path);
    const table: Array<[string[], RegExp]> = [
      [['-c', file, '--reports', join(tmp.path, 'missing')], /--reports .*missing: not a directory/],
      [['-c', file, '--listen', 'localhost'], /--listen: listen address "localhost" must be host:port/],
      [['-c', join(tmp.path, 'nope.yaml')], /nope\.yaml/],
    ];
    for (const [args, re] of table) {
      const p = start(args);
      const code = await p.exited;
      assert.equal(code, 2, `${args.join(' ')}: ${p.output()}`);
      assert.match(p.output(), re);
    }
  } finally {
    tmp.cleanup();
  }
});
