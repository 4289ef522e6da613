// `scalepilot loadtest`: load a local service (closed or open model, stages, weighted endpoints) and gate on the result,
// or probe its capacity and save it for `simulate` and `plan`.
import { MAX_REQUEST_BYTES, readFileBounded } from '../bounded-read.js';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { InputError, EXIT_FAILED, parseFormat, printMachine } from './output.js';
import { type LoadTestInput, durationFlag, planLoadTest, readLoadTestFile } from '../loadtest/config.js';
import { runLoadTest, type Progress } from '../loadtest/engine.js';
import { findCapacity, writeCapacityFile, type CapacityProgress } from '../loadtest/capacity.js';
import { parseGates, formatMs } from '../loadtest/gates.js';
import { parseStages } from '../loadtest/profile.js';
import { parseHeaderFlags, parseTarget } from '../loadtest/target.js';
import { capacityReport, formatCapacity, formatLoadTest, loadTestReport } from '../loadtest/report.js';
import { renderHtmlReport } from '../report/html.js';
import { replaceFile } from '../durable-file.js';

interface Options {
  connections?: string;
  rate?: string;
  duration?: string;
  requests?: string;
  stages?: string;
  config?: string;
  method?: string;
  header: string[];
  body?: string;
  gate: string[];
  timeout?: string;
  maxConnections?: string;
  targetRps?: string;
  allowRemote?: boolean;
  output: string;
  report?: string;
  findCapacity?: boolean;
  replicas?: string;
  startRate?: string;
  maxRate?: string;
  stepDuration?: string;
  precision?: string;
  save?: string;
}

function number(v: string | undefined, flag: string, opts: { integer?: boolean; min?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || n < (opts.min ?? 0) || n === 0) {
    throw new InputError(`${flag} ${v}: must be ${opts.integer ? 'a whole number' : 'a number'} above 0`);
  }
  return n;
}

function durationMs(v: string | undefined, flag: string): number | undefined {
  return v === undefined ? undefined : durationFlag(v, flag);
}

function bodyFlag(v: string | undefined): string | undefined {
  if (v === undefined || !v.startsWith('@')) return v;
  try {
    return readFileBounded(v.slice(1), MAX_REQUEST_BYTES);
  } catch (e) {
    throw new InputError(`--body ${v}: cannot read ${v.slice(1)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Flags over the --config file: the URL, load shape and limits replace the file's; gates and -H add to them. */
function inputFromFlags(url: string | undefined, o: Options): LoadTestInput {
  const file: LoadTestInput = o.config ? readLoadTestFile(o.config) : {};
  const headers = parseHeaderFlags(o.header);
  const body = bodyFlag(o.body);
  let endpoints = file.endpoints;
  if (endpoints) {
    if (o.method !== undefined || body !== undefined) {
      throw new InputError(`--method/--body describe a single endpoint, but ${o.config} lists endpoints; set method and body per endpoint there`);
    }
    if (Object.keys(headers).length) endpoints = endpoints.map((e) => ({ ...e, headers: { ...e.headers, ...headers } }));
  } else if (o.method !== undefined || body !== undefined || Object.keys(headers).length) {
    endpoints = [{ ...(o.method ? { method: o.method } : {}), headers, ...(body !== undefined ? { body } : {}) }];
  }
  const connections = number(o.connections, '--connections', { integer: true });
  const rate = number(o.rate, '--rate');
  const requests = number(o.requests, '--requests', { integer: true });
  const maxConnections = number(o.maxConnections, '--max-connections', { integer: true });
  const targetRps = number(o.targetRps, '--target-rps');
  if (o.stages !== undefined && o.duration !== undefined) throw new InputError('--duration and --stages both set the length of the test; give one');
  // a length given by flag replaces the file's, whichever form either takes
  const stages = o.stages !== undefined ? parseStages(o.stages) : o.duration === undefined ? file.stages : undefined;
  const flagsPickModel = connections !== undefined || rate !== undefined;
  const pick = <T>(flag: T | undefined, fromFile: T | undefined) => (flag !== undefined ? flag : fromFile);
  return {
    url: url ?? file.url,
    // a load-shape flag replaces the file's load shape as a whole, so the two never mix into a contradiction
    ...(flagsPickModel
      ? { ...(connections !== undefined ? { connections } : {}), ...(rate !== undefined ? { rate } : {}) }
      : { ...(file.model ? { model: file.model } : {}), ...(file.connections !== undefined ? { connections: file.connections } : {}), ...(file.rate !== undefined ? { rate: file.rate } : {}) }),
    ...(o.duration !== undefined ? { duration: o.duration } : o.stages === undefined && file.duration !== undefined ? { duration: file.duration } : {}),
    ...(stages ? { stages } : {}),
    ...(pick(requests, file.requests) !== undefined ? { requests: pick(requests, file.requests)! } : {}),
    ...(endpoints ? { endpoints } : {}),
    thresholds: [...(file.thresholds ?? []), ...o.gate],
    ...(pick(o.timeout, file.timeout) !== undefined ? { timeout: pick(o.timeout, file.timeout)! } : {}),
    ...(pick(maxConnections, file.maxConnections) !== undefined ? { maxConnections: pick(maxConnections, file.maxConnections)! } : {}),
    ...(pick(targetRps, file.targetRps) !== undefined ? { targetRps: pick(targetRps, file.targetRps)! } : {}),
    allowRemote: o.allowRemote ?? false,
  };
}

/** A single updating line on a TTY; nothing otherwise. */
function progressLine(enabled: boolean) {
  if (!enabled) return { update: undefined, stop: () => {} };
  const bar = new cliProgress.SingleBar({
    format: '{prefix}[{bar}] {elapsed}/{total_s}s | {requests} req | {rps} rps | p99 {p99} | {active} {unit} | {errors} errors',
    stream: process.stderr,
    clearOnComplete: true,
    hideCursor: true,
    barsize: 20,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    update(p: Progress, unit: string, prefix = '') {
      const payload = {
        prefix, elapsed: Math.round(p.elapsedMs / 1000), total_s: Math.round(p.totalMs / 1000), requests: p.requests,
        rps: Math.round(p.rps), p99: p.p99 === null ? '-' : formatMs(p.p99), active: p.active, unit, errors: p.errors,
      };
      if (!started) { bar.start(p.totalMs, p.elapsedMs, payload); started = true; }
      bar.setTotal(p.totalMs);
      bar.update(p.elapsedMs, payload);
    },
    stop: () => { if (started) bar.stop(); },
  };
}

/** Ctrl-C stops the load and still reports what was measured. */
function interruptible(): { signal: AbortSignal; release: () => void } {
  const ac = new AbortController();
  const onInt = () => ac.abort();
  process.once('SIGINT', onInt);
  return { signal: ac.signal, release: () => process.off('SIGINT', onInt) };
}

function writeReport(path: string, html: string): void {
  try {
    replaceFile(path, html);
  } catch (e) {
    throw new InputError(`--report ${path}: cannot write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

async function probe(url: string | undefined, o: Options, format: ReturnType<typeof parseFormat>): Promise<void> {
  const input = inputFromFlags(url, o);
  if (!input.url) throw new InputError('--find-capacity needs the target URL as the argument');
  parseTarget(input.url, input.allowRemote ?? false);
  const replicas = number(o.replicas, '--replicas', { integer: true });
  const startRps = number(o.startRate, '--start-rate');
  const maxRps = number(o.maxRate, '--max-rate');
  const stepDurationMs = durationMs(o.stepDuration, '--step-duration');
  const precision = o.precision === undefined ? undefined : number(o.precision.replace(/%$/, ''), '--precision')! / 100;
  const timeoutMs = durationMs(input.timeout, '--timeout');
  const line = progressLine(format === 'table' && process.stderr.isTTY === true);
  const { signal, release } = interruptible();
  let result;
  try {
    result = await findCapacity({
      url: input.url,
      gates: parseGates(input.thresholds ?? []),
      ...(input.endpoints ? { endpoints: input.endpoints } : {}),
      ...(replicas !== undefined ? { replicas } : {}),
      ...(startRps !== undefined ? { startRps } : {}),
      ...(maxRps !== undefined ? { maxRps } : {}),
      ...(stepDurationMs !== undefined ? { stepDurationMs } : {}),
      ...(precision !== undefined ? { precision } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(input.maxConnections !== undefined ? { maxConnections: input.maxConnections } : {}),
      allowRemote: input.allowRemote ?? false,
    }, {
      signal,
      onProgress: (p: CapacityProgress) => { if (p.run) line.update?.(p.run, 'in flight', `step ${p.step} ${p.phase} ${Math.round(p.targetRps)} rps `); },
    });
  } finally {
    line.stop();
    release();
  }
  if (o.save) {
    try {
      writeCapacityFile(o.save, result);
    } catch (e) {
      throw new InputError(`--save ${o.save}: cannot write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  if (o.report) writeReport(o.report, renderHtmlReport(capacityReport(result)));
  if (!printMachine(result, format)) {
    process.stdout.write(formatCapacity(result));
    if (o.save) process.stdout.write(`saved ${o.save}\n`);
  }
  if (result.sustainableRps <= 0) process.exitCode = EXIT_FAILED;
}

export function register(program: Command): void {
  const collect = (v: string, prev: string[]) => [...prev, v];
  program
    .command('loadtest')
    .description('send load to a local service and gate on latency, errors and throughput; or find its capacity')
    .argument('[url]', 'target, e.g. http://127.0.0.1:8080/ (loopback only unless --allow-remote)')
    .option('-c, --connections <n>', 'closed model: virtual users, each on its own keep-alive connection (default 10)')
    .option('-r, --rate <rps>', 'open model: arrivals per second; latency is measured from each intended send time')
    .option('-d, --duration <d>', 'how long to run, e.g. 30s (default 10s; 10m ceiling with only --requests)')
    .option('-n, --requests <n>', 'stop after this many requests')
    .option('--stages <spec>', 'ramp VUs (or the rate with --rate) linearly: duration:target,... e.g. 30s:50,1m:50,30s:0')
    .option('--config <file>', 'YAML with url, endpoints (weighted), stages, thresholds, ...')
    .option('-m, --method <method>', 'HTTP method (default GET)')
    .option('-H, --header <header>', "request header 'name: value' (repeatable)", collect, [])
    .option('--body <text>', 'request body (the method then defaults to POST), or @file to read it from a file')
    .option('--gate <threshold>', 'fail (exit 1) unless this holds: p95<500ms, p99<2s, max<5s, errors<1%, rps>100 (repeatable; --find-capacity defaults to p95<500ms, errors<1%)', collect, [])
    .option('--timeout <d>', 'per-request timeout for connect, headers and body (default 10s; checked about every 0.5s)')
    .option('--max-connections <n>', 'open model: most connections at once (default: peak rate, 10..1000)')
    .option('--target-rps <n>', 'read throughput against this rate (good >= 95%, warning >= 80%)')
    .option('--allow-remote', 'allow a target that is not on this machine')
    .option('-o, --output <format>', 'table | json | yaml', 'table')
    .option('--report <file>', 'write an HTML report with charts over time')
    .option('--find-capacity', 'raise the arrival rate until a gate breaks, then bisect; report the sustainable rate')
    .option('--replicas <n>', 'with --find-capacity: replicas behind the URL, to report capacity per replica')
    .option('--start-rate <rps>', 'with --find-capacity: first rate tried (default 10)')
    .option('--max-rate <rps>', 'with --find-capacity: highest rate tried (default 100000)')
    .option('--step-duration <d>', 'with --find-capacity: how long each rate is held (default 10s)')
    .option('--precision <percent>', 'with --find-capacity: stop bisecting when good and bad rates are this close (default 5%)')
    .option('--save <file>', 'with --find-capacity: write the capacity file read by simulate and plan')
    .addHelpText('after', `
Examples:
  scalepilot loadtest http://127.0.0.1:8080/ -c 50 -d 30s --gate 'p95<300ms' --gate 'errors<1%'
  scalepilot loadtest http://127.0.0.1:8080/ --rate 200 --stages 30s:200,1m:400 --report load.html
  scalepilot loadtest --find-capacity http://127.0.0.1:8080/ --gate 'p95<300ms' --replicas 2 --save capacity.json`)
    .action(async (url: string | undefined, o: Options) => {
      const format = parseFormat(o.output);
      if (o.findCapacity) return probe(url, o, format);
      for (const f of ['replicas', 'startRate', 'maxRate', 'stepDuration', 'precision', 'save'] as const) {
        if (o[f] !== undefined) throw new InputError(`--${f.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} only applies with --find-capacity`);
      }
      const options = planLoadTest(inputFromFlags(url, o));
      const line = progressLine(format === 'table' && process.stderr.isTTY === true);
      const { signal, release } = interruptible();
      let result;
      try {
        result = await runLoadTest(options, { signal, onProgress: (p) => line.update?.(p, options.model === 'closed' ? 'VUs' : 'in flight') });
      } finally {
        line.stop();
        release();
      }
      if (o.report) writeReport(o.report, renderHtmlReport(loadTestReport(result)));
      if (!printMachine(result, format)) {
        process.stdout.write(formatLoadTest(result));
        if (o.report) process.stdout.write(`report: ${o.report}\n`);
      }
      if (!result.passed) process.exitCode = EXIT_FAILED;
    });
}
