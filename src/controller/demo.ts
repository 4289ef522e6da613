// `scalepilot demo`: the whole loop on this machine — the bundled sample service on the local provider, a load
// ramp up and down from the load generator, live scaling by the HPA engine, and an HTML report at the end.
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../config/load.js';
import { startRuntime, type Runtime } from './runtime.js';
import type { SyncResult } from './controller.js';
import { runLoadTest, type Progress } from '../loadtest/engine.js';
import { renderHtmlReport } from '../report/html.js';
import { formatDuration } from '../core/duration.js';
import { makeDirs } from '../make-dirs.js';
import { replaceFile } from '../durable-file.js';
import { pause } from '../deadline.js';
import { InputError } from '../errors.js';
import { StoreLockedError, type StoreLock } from '../store/types.js';

export interface DemoOptions {
  /** peak arrival rate, requests per second */
  rate: number;
  rampMs: number;
  holdMs: number;
  /** ramp-down plus idle time in which scale-down happens */
  coolMs: number;
  maxReplicas: number;
  syncMs: number;
  stateDir: string;
  report?: string;
  /** print one line per sync instead of redrawing (non-TTY, tests) */
  plain: boolean;
  proxy: 'auto' | 'nginx' | 'builtin';
  out: (s: string) => void;
  /** stops the demo early (Ctrl-C): the load ends, and the replicas and proxy are stopped as at the end */
  signal?: AbortSignal;
}

export interface DemoTimelinePoint {
  t: number;
  rps: number;
  replicas: number;
  ready: number;
  desired: number;
  cpu: number | null;
  reason: string;
}

export interface DemoResult {
  timeline: DemoTimelinePoint[];
  decisions: Array<{ t: number; from: number; to: number; reason: string }>;
  load: { requests: number; errors: number; rps: number; p95: number | null; p99: number | null; statusCodes: Record<string, number>; errorsByKind: Record<string, number> };
  peakReplicas: number;
  finalReplicas: number;
  report?: string;
  proxy: string;
  /** stopped early by the signal */
  interrupted?: boolean;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

/** The sample service shipped with the package. */
export function sampleServicePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const p = resolve(here, up, 'examples/sample-service/server.mjs');
    if (existsSync(p)) return p;
  }
  throw new Error('examples/sample-service/server.mjs is missing from this installation');
}

/** The embedded demo config: one HPA-scaled web service on the local provider. */
export function demoConfigYaml(o: { listen: number; portBase: number; maxReplicas: number; syncMs: number; proxy: string; stateDir: string }): string {
  const syncS = Math.max(1, Math.round(o.syncMs / 1000));
  // absolute: the config file lives in the state directory, and relative paths in it are read from there; quoted, so
  // any directory name is one YAML string
  const dir = resolve(o.stateDir);
  return `# scalepilot demo: the sample service, CPU-scaled like a Kubernetes HPA (target 50% of a 200m request)
syncPeriod: ${syncS}s
store: ${JSON.stringify(`sqlite:${join(dir, 'demo.db')}`)}
sources:
  procs: { type: process }
services:
  web:
    target:
      provider: local
      command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(sampleServicePath())}]
      listen: 127.0.0.1:${o.listen}
      portBase: ${o.portBase}
      replicas: 1
      proxy: ${o.proxy}
      healthPath: /healthz
      stateDir: ${JSON.stringify(join(dir, 'local'))}
    minReplicas: 1
    maxReplicas: ${o.maxReplicas}
    drainTimeout: 10s
    resources: { requests: { cpu: 200m } }
    metrics:
      cpu: { source: procs, query: cpu, perPod: true }
    hpa:
      metrics:
        - type: Resource
          resource: { name: cpu, target: { type: Utilization, averageUtilization: 50 } }
      behavior:
        scaleUp:
          stabilizationWindowSeconds: 0
          policies: [ { type: Pods, value: 2, periodSeconds: ${syncS * 2} } ]
        scaleDown:
          stabilizationWindowSeconds: ${syncS * 8}
          policies: [ { type: Pods, value: 1, periodSeconds: ${syncS * 2} } ]
`;
}

function pct(v: number | undefined): string {
  return v === undefined ? '   -' : `${Math.round(v).toString().padStart(3)}%`;
}

/** A latency, or null when no request was answered (the load test then has NaN). */
const latency = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

/** A latency for the report, or '-' when no request was answered. */
const ms = (v: number | null): string => (v === null ? '-' : `${v.toFixed(1)} ms`);

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  makeDirs(o.stateDir);
  const listen = await freePort();
  const portBase = 10000 + Math.floor(Math.random() * 20000);
  const yaml = demoConfigYaml({ listen, portBase, maxReplicas: o.maxReplicas, syncMs: o.syncMs, proxy: o.proxy, stateDir: o.stateDir });
  const configFile = join(o.stateDir, 'scalepilot.demo.yaml');
  const config = parseConfig(yaml, configFile);
  const started = Date.now();
  const timeline: DemoTimelinePoint[] = [];
  const decisions: DemoResult['decisions'] = [];
  let lastRps = 0;
  let rt: Runtime | undefined;
  const draw = (r: SyncResult) => {
    const d = r.decision;
    const s = r.state;
    const point: DemoTimelinePoint = {
      t: r.time,
      rps: lastRps,
      replicas: s?.replicas ?? 0,
      ready: s?.readyReplicas ?? 0,
      desired: d?.desiredReplicas ?? s?.replicas ?? 0,
      cpu: r.values.cpu ?? null,
      reason: d?.reason ?? r.error ?? '',
    };
    timeline.push(point);
    if (d && d.desiredReplicas !== d.currentReplicas && d.action !== 'paused') decisions.push({ t: r.time, from: d.currentReplicas, to: d.desiredReplicas, reason: d.reason });
    const el = formatDuration(Math.round((r.time - started) / 1000) * 1000).padStart(6);
    const bar = '█'.repeat(point.ready) + '░'.repeat(Math.max(0, point.desired - point.ready));
    const line = `${el}  load ${String(Math.round(lastRps)).padStart(4)} rps  cpu ${pct(r.values.cpu)}  replicas ${point.ready}/${point.replicas}→${point.desired} ${bar.padEnd(o.maxReplicas)}  ${point.reason.slice(0, 90)}`;
    o.out(line + '\n');
  };
  // one demo (or run) per state dir: its store's writer lock, taken before anything starts or is written there
  let lock: StoreLock | undefined;
  try {
    rt = await startRuntime(config, { dryRun: false, stateDir: o.stateDir, onSync: draw, acquire: async (store) => { lock = await store.lock?.(); } });
  } catch (e) {
    if (e instanceof StoreLockedError) throw new InputError(`${o.stateDir} is in use by another scalepilot (${e.holder}); wait for it to finish, or give this demo its own --state-dir`);
    throw e;
  }
  rt.controller.useStoreLock(lock);
  o.out(`scalepilot demo: sample service behind a ${o.proxy === 'auto' ? (existsSync('/usr/sbin/nginx') ? 'nginx' : 'built-in') : o.proxy} proxy on http://127.0.0.1:${listen}\n`);
  o.out(`load: 0 → ${o.rate} rps over ${formatDuration(o.rampMs)}, hold ${formatDuration(o.holdMs)}, then down to 0 and idle for ${formatDuration(o.coolMs)}; HPA target: cpu 50% of request\n\n`);
  let loadResult;
  try {
    // the config the demo runs, for `scalepilot history -c` and the dashboard of a later `serve`
    writeFileSync(configFile, yaml);
    // the first observe starts the replica; wait until it serves before sending load
    await rt.controller.syncOnce('web');
    if (!o.signal?.aborted) rt.controller.start();
    const downMs = Math.min(o.coolMs / 3, 15_000);
    loadResult = await runLoadTest(
      {
        url: `http://127.0.0.1:${listen}/work?ms=8`,
        model: 'open',
        profile: {
          start: 0,
          stages: [
            { durationMs: o.rampMs, target: o.rate },
            { durationMs: o.holdMs, target: o.rate },
            { durationMs: downMs, target: 0 },
          ],
        },
        maxConnections: 64,
        timeoutMs: 10_000,
      },
      { onProgress: (p: Progress) => { lastRps = p.rps; }, ...(o.signal ? { signal: o.signal } : {}) },
    );
    lastRps = 0;
    // idle: let the scale-down windows run out while the load is gone
    await pause(Math.max(0, o.coolMs - downMs), o.signal);
  } finally {
    await rt.close({ stopReplicas: true });
  }
  const peakReplicas = Math.max(...timeline.map((p) => p.replicas));
  const finalReplicas = timeline.length ? timeline[timeline.length - 1]!.desired : 0;
  const result: DemoResult = {
    timeline,
    decisions,
    load: {
      requests: loadResult.requests,
      errors: loadResult.errors,
      rps: loadResult.rps,
      p95: latency(loadResult.latency.p95),
      p99: latency(loadResult.latency.p99),
      statusCodes: loadResult.statusCodes,
      errorsByKind: loadResult.errorsByKind,
    },
    peakReplicas,
    finalReplicas,
    proxy: o.proxy,
    ...(o.signal?.aborted ? { interrupted: true } : {}),
  };
  if (o.report) {
    const x = timeline.map((p) => p.t / 1000);
    const html = renderHtmlReport({
      title: 'scalepilot demo',
      subtitle: `sample service, HPA cpu target 50%, ${new Date(started).toISOString()}`,
      summary: [
        ['requests', String(loadResult.requests)],
        ['failed requests', `${loadResult.errors} (${(loadResult.errorRate * 100).toFixed(2)}%)`],
        ['p95 / p99 latency', `${ms(result.load.p95)} / ${ms(result.load.p99)}`],
        ['peak replicas', String(peakReplicas)],
        ['final replicas', String(finalReplicas)],
        ['scale events', String(decisions.length)],
      ],
      charts: [
        { title: 'Load', x, series: [{ label: 'requests/s', values: timeline.map((p) => p.rps), unit: 'rps' }] },
        {
          title: 'Replicas',
          x,
          series: [
            { label: 'ready', values: timeline.map((p) => p.ready), step: true },
            { label: 'desired', values: timeline.map((p) => p.desired), step: true },
          ],
        },
        { title: 'CPU utilization (% of request)', x, series: [{ label: 'cpu', values: timeline.map((p) => p.cpu), unit: '%' }] },
      ],
      tables: [
        {
          title: 'Scale decisions',
          header: ['time', 'from', 'to', 'reason'],
          rows: decisions.map((d) => [new Date(d.t).toISOString().slice(11, 19), d.from, d.to, d.reason]),
        },
      ],
    });
    makeDirs(dirname(resolve(o.report)));
    replaceFile(o.report, html);
    result.report = resolve(o.report);
  }
  return result;
}
