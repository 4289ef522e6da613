// Throughput of scalepilot's load engine next to wrk (and autocannon, the other engine considered) on the same targets:
// a private nginx serving a static file and a Node hello server, each in its own process on a free loopback port.
// Compared: wrk with 1 thread vs scalepilot (closed model) in one Node process vs autocannon in one Node process, all
// with the same number of keep-alive connections and the same duration. Prints figures; never passes or fails.
//   node --import tsx bench/loadtest-vs-wrk.ts        (env: DURATION=10 CONNECTIONS=50 ROUNDS=1)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { runLoadTest } from '../src/loadtest/engine.js';
import { constantProfile } from '../src/loadtest/profile.js';
import { freePort, requireBinary, tempDir, waitForPort } from '../test/helpers/env.js';

const DURATION_S = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.ROUNDS ?? 1);

interface Figures { rps: number; p50: number; p99: number }

const nginxBin = requireBinary('/usr/sbin/nginx', 'nginx');
const wrkBin = requireBinary('/usr/bin/wrk', 'wrk');
const dir = tempDir('scalepilot-bench-');
const children: ChildProcess[] = [];

async function startNginx(): Promise<string> {
  const port = await freePort();
  const d = dir.path;
  // nginx workers drop to an unprivileged user when started as root; they must be able to read the page
  chmodSync(d, 0o755);
  // a small static page, the common case for an nginx benchmark
  writeFileSync(join(d, 'index.html'), '<!doctype html><title>bench</title>' + 'x'.repeat(512) + '\n');
  writeFileSync(join(d, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${d}/nginx.pid;
error_log ${d}/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${d}/body; proxy_temp_path ${d}/proxy; fastcgi_temp_path ${d}/fastcgi;
  uwsgi_temp_path ${d}/uwsgi; scgi_temp_path ${d}/scgi;
  server { listen 127.0.0.1:${port}; root ${d}; location / { } }
}
`);
  children.push(spawn(nginxBin, ['-c', join(d, 'nginx.conf'), '-p', d], { stdio: 'ignore' }));
  await waitForPort(port);
  return `http://127.0.0.1:${port}/index.html`;
}

async function startNodeHello(): Promise<string> {
  const port = await freePort();
  const src = `require('node:http').createServer((q, s) => { s.setHeader('content-type', 'text/plain'); s.end('hello world\\n'); })` +
    `.listen(${port}, '127.0.0.1')`;
  children.push(spawn(process.execPath, ['-e', src], { stdio: 'ignore' }));
  await waitForPort(port);
  return `http://127.0.0.1:${port}/`;
}

function wrkMs(v: string, unit: string): number {
  return Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? NaN);
}

function runWrk(url: string): Figures {
  const r = spawnSync(wrkBin, ['-t1', `-c${CONNECTIONS}`, `-d${DURATION_S}s`, '--latency', url], { encoding: 'utf8' });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  const p50 = /\s50%\s+([\d.]+)(us|ms|s)/.exec(r.stdout);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(r.stdout);
  if (!rps || !p50 || !p99) throw new Error(`could not read wrk output:\n${r.stdout}${r.stderr}`);
  return { rps: Number(rps[1]), p50: wrkMs(p50[1]!, p50[2]!), p99: wrkMs(p99[1]!, p99[2]!) };
}

async function runScalepilot(url: string): Promise<Figures> {
  const r = await runLoadTest({ url, model: 'closed', profile: constantProfile(CONNECTIONS, DURATION_S * 1000) });
  if (r.errors) console.error(`  scalepilot saw ${r.errors} errors: ${JSON.stringify(r.errorsByKind)}`);
  return { rps: r.rps, p50: r.latency.p50, p99: r.latency.p99 };
}

async function runAutocannon(url: string): Promise<Figures> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S });
  return { rps: r.requests.total / DURATION_S, p50: r.latency.p50, p99: r.latency.p99 };
}

const fmt = (n: number, d = 0) => n.toFixed(d).padStart(9);

async function main(): Promise<void> {
  console.log(`loadtest engine vs wrk: ${CONNECTIONS} connections, ${DURATION_S}s per run, ${ROUNDS} round(s); wrk -t1, scalepilot and autocannon one Node process each`);
  console.log(`machine: ${(await import('node:os')).cpus().length} CPUs, node ${process.version}`);
  const targets: Array<[string, string]> = [['nginx static', await startNginx()], ['node hello', await startNodeHello()]];
  const tools: Array<[string, (u: string) => Figures | Promise<Figures>]> = [
    ['wrk', runWrk], ['scalepilot', runScalepilot], ['autocannon', runAutocannon],
  ];
  // warm both servers (and the JIT) so the first tool measured is not penalised
  for (const [, url] of targets) await runLoadTest({ url, model: 'closed', profile: constantProfile(CONNECTIONS, 1000) });
  const rows: string[] = [];
  for (const [name, url] of targets) {
    const sums = new Map<string, Figures>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [tool, run] of tools) {
        const f = await run(url);
        const s = sums.get(tool) ?? { rps: 0, p50: 0, p99: 0 };
        sums.set(tool, { rps: s.rps + f.rps / ROUNDS, p50: s.p50 + f.p50 / ROUNDS, p99: s.p99 + f.p99 / ROUNDS });
      }
    }
    const wrk = sums.get('wrk')!.rps;
    for (const [tool, f] of sums) {
      rows.push(`${name.padEnd(13)} ${tool.padEnd(11)} ${fmt(f.rps)} ${fmt(f.rps / wrk, 2)} ${fmt(f.p50, 2)} ${fmt(f.p99, 2)}`);
    }
  }
  console.log(`\n${'target'.padEnd(13)} ${'tool'.padEnd(11)} ${'req/s'.padStart(9)} ${'vs wrk'.padStart(9)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)}`);
  for (const r of rows) console.log(r);
}

try {
  await main();
} finally {
  for (const c of children) c.kill('SIGTERM');
  dir.cleanup();
}
