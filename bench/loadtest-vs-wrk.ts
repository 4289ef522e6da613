// Throughput of scalepilot's load engine next to wrk (and autocannon, the other engine considered) on the same targets:
// a private nginx serving a static file and a Node hello server, each in its own process on a free loopback port.
// Compared: wrk with 1 thread vs scalepilot (closed model) in one Node process vs autocannon in one Node process, all
// with the same number of keep-alive connections and the same duration. Besides requests/s it prints the load
// generator's own CPU time per request, which stays comparable when other work on the machine skews requests/s.
// Tools run interleaved, round after round, so a burst of load elsewhere hits them alike; each row gives the median
// and best of the rounds next to the goal (>= 0.9x wrk's requests/s, p50/p99 within 1 ms of wrk's).
// Prints figures; never passes or fails.
//   node --import tsx bench/loadtest-vs-wrk.ts        (env: DURATION=10 CONNECTIONS=50 ROUNDS=3)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { runLoadTest } from '../src/loadtest/engine.js';
import { constantProfile } from '../src/loadtest/profile.js';
import { freePort, requireBinary, tempDir, waitForPort } from '../test/helpers/env.js';

const DURATION_S = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const GOAL_RATIO = 0.9;
const GOAL_LATENCY_MS = 1;

interface Figures { rps: number; p50: number; p99: number; cpuUsPerReq: number }

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
  // bash's `times` reports the CPU its child (wrk) used; arguments are passed positionally, never interpolated
  const r = spawnSync('bash', ['-c', '"$@"; times', 'bash', wrkBin, '-t1', `-c${CONNECTIONS}`, `-d${DURATION_S}s`, '--latency', url], { encoding: 'utf8' });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  const p50 = /\s50%\s+([\d.]+)(us|ms|s)/.exec(r.stdout);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(r.stdout);
  const total = /(\d+) requests in/.exec(r.stdout);
  const times = [...r.stdout.matchAll(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/g)].at(-1);
  if (!rps || !p50 || !p99 || !total || !times) throw new Error(`could not read wrk output:\n${r.stdout}${r.stderr}`);
  const cpuS = Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]);
  return { rps: Number(rps[1]), p50: wrkMs(p50[1]!, p50[2]!), p99: wrkMs(p99[1]!, p99[2]!), cpuUsPerReq: (cpuS * 1e6) / Number(total[1]) };
}

/** Runs an in-process generator and measures this process's CPU time per request. */
async function inProcess(run: () => Promise<{ rps: number; p50: number; p99: number; requests: number }>): Promise<Figures> {
  const c0 = process.cpuUsage();
  const f = await run();
  const c = process.cpuUsage(c0);
  return { rps: f.rps, p50: f.p50, p99: f.p99, cpuUsPerReq: (c.user + c.system) / Math.max(1, f.requests) };
}

function runScalepilot(url: string): Promise<Figures> {
  return inProcess(async () => {
    const r = await runLoadTest({ url, model: 'closed', profile: constantProfile(CONNECTIONS, DURATION_S * 1000) });
    if (r.errors) console.error(`  scalepilot saw ${r.errors} errors: ${JSON.stringify(r.errorsByKind)}`);
    return { rps: r.rps, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests };
  });
}

function runAutocannon(url: string): Promise<Figures> {
  return inProcess(async () => {
    // autocannon reports latency in whole milliseconds
    const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S });
    return { rps: r.requests.total / DURATION_S, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total };
  });
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
  const median = (xs: number[]) => { const v = [...xs].sort((a, b) => a - b); return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2; };
  const rows: string[] = [];
  for (const [name, url] of targets) {
    const runs = new Map<string, Figures[]>(tools.map(([t]) => [t, []]));
    // per round, each tool's requests/s relative to wrk's in the same round
    const ratios = new Map<string, number[]>(tools.map(([t]) => [t, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const figs = new Map<string, Figures>();
      for (const [tool, run] of tools) figs.set(tool, await run(url));
      for (const [tool, f] of figs) {
        runs.get(tool)!.push(f);
        ratios.get(tool)!.push(f.rps / figs.get('wrk')!.rps);
      }
    }
    const wrk = runs.get('wrk')!;
    for (const [tool, fs] of runs) {
      const r = ratios.get(tool)!;
      const p50 = median(fs.map((f) => f.p50));
      const p99 = median(fs.map((f) => f.p99));
      const goal = tool === 'wrk' ? '' : `  ${median(r) >= GOAL_RATIO ? 'met' : 'missed'}`
        + ` / latency ${Math.abs(p50 - median(wrk.map((f) => f.p50))) <= GOAL_LATENCY_MS && Math.abs(p99 - median(wrk.map((f) => f.p99))) <= GOAL_LATENCY_MS ? 'within' : 'beyond'} ${GOAL_LATENCY_MS} ms`;
      rows.push(`${name.padEnd(13)} ${tool.padEnd(11)} ${fmt(median(fs.map((f) => f.rps)))} ${fmt(median(r), 2)} ${fmt(Math.max(...r), 2)} ${fmt(p50, 2)} ${fmt(p99, 2)} ${fmt(median(fs.map((f) => f.cpuUsPerReq)), 1)}${goal}`);
    }
  }
  console.log(`\nmedian (and best) of ${ROUNDS} round(s); goal: >= ${GOAL_RATIO}x wrk's req/s, p50 and p99 within ${GOAL_LATENCY_MS} ms of wrk's`);
  console.log(`${'target'.padEnd(13)} ${'tool'.padEnd(11)} ${'req/s'.padStart(9)} ${'vs wrk'.padStart(9)} ${'best'.padStart(9)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'CPU us/req'.padStart(10)}  goal`);
  for (const r of rows) console.log(r);
  console.log(`\nload average at the end: ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')} (figures are skewed when it exceeds the CPU count)`);
}

try {
  await main();
} finally {
  for (const c of children) c.kill('SIGTERM');
  dir.cleanup();
}
