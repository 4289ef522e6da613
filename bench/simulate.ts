// Simulation throughput: N services × D days at a 15 s step over worker threads, in service-steps per second,
// plus where one step's time goes: the replay kernel (sim/kernel.ts) against the general replay, and in the general
// replay decide() against the simulator's own workload and scoring.
// Runs the batch --runs times (default 1) and prints the median and best wall time next to the goal.
//   node --import tsx bench/simulate.ts [--services 1000] [--days 30] [--workers N] [--step 15s] [--runs 3]
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import type { Decision } from '../src/core/types.js';
import type { DecideFn, SimulateOptions } from '../src/sim/engine.js';
import type { SimTask } from '../src/sim/pool.js';

// Measure the compiled code users run (`npm run build` first); from source the workers run through tsx.
const fromDist = existsSync(new URL('../dist/sim/pool.js', import.meta.url)) && !process.argv.includes('--source');
const base = fromDist ? '../dist' : '../src';
const ext = fromDist ? '.js' : '.ts';
const { parseConfig } = (await import(`${base}/config/load${ext}`)) as typeof import('../src/config/load.js');
const { parseDuration } = (await import(`${base}/core/duration${ext}`)) as typeof import('../src/core/duration.js');
const { resolveSetup } = (await import(`${base}/sim/setup${ext}`)) as typeof import('../src/sim/setup.js');
const { simulateService } = (await import(`${base}/sim/engine${ext}`)) as typeof import('../src/sim/engine.js');
const { simulateMany } = (await import(`${base}/sim/pool${ext}`)) as typeof import('../src/sim/pool.js');
const { kernelPlan } = (await import(`${base}/sim/kernel${ext}`)) as typeof import('../src/sim/kernel.js');
const { decide } = (await import(`${base}/core/decide${ext}`)) as typeof import('../src/core/decide.js');
console.log(`code: ${fromDist ? 'compiled (dist/)' : 'source through tsx'}`);

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const services = Number(flag('services', '1000'));
const days = Number(flag('days', '30'));
const workers = Number(flag('workers', String(availableParallelism())));
const stepMs = parseDuration(flag('step', '15s'));
const runs = Number(flag('runs', '1'));
const steps = Math.round((days * 86_400_000) / stepMs);

// The example's policy: HPA on cpu utilization with a scale-down window, start-up and readiness delays, SLOs.
const policy = parseConfig(`
sources:
  procs: { type: process }
services:
  web:
    target: { provider: dryrun }
    minReplicas: 2
    maxReplicas: 60
    resources: { requests: { cpu: 500m } }
    metrics:
      cpu: { source: procs, query: cpu, perPod: true }
    hpa:
      metrics:
        - type: Resource
          resource: { name: cpu, target: { type: Utilization, averageUtilization: 70 } }
      behavior:
        scaleDown: { stabilizationWindowSeconds: 300 }
    capacity: { rpsPerReplica: 100, startupDelay: 45s, readinessDelay: 15s, latency: { base: 40ms, p95AtFull: 800ms } }
    slo: { maxUtilization: 90, p95: 250ms }
    cost: { perReplicaHour: 0.05 }
`, 'bench.yaml').services.web!;
const { setup } = resolveSetup(policy, new Set(), { firstLoad: 200 });
const start = Date.UTC(2024, 0, 1);

/** A daily cycle scaled per service, with noise and a few spikes; deterministic per service index. */
function trace(i: number): Float64Array {
  let s = (i + 1) * 2654435761;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
  const scale = 0.3 + 2.5 * rand();
  const phase = rand() * 24;
  const v = new Float64Array(steps);
  let drift = 0;
  for (let k = 0; k < steps; k++) {
    const hour = ((k * stepMs) / 3_600_000 + phase) % 24;
    drift = 0.95 * drift + 0.05 * (rand() - 0.5);
    const spike = k % 20_000 > 19_900 ? 1.8 : 1;
    v[k] = scale * (150 + 900 * (0.5 - 0.5 * Math.cos((2 * Math.PI * hour) / 24))) * (1 + drift) * spike;
  }
  return v;
}

const task = (i: number): SimTask => ({ policy: { ...policy, name: `svc-${i}` }, setup, load: { start, stepMs, values: trace(i) } });

// Where one step goes: the same service through the replay kernel (what batches run for this policy), through the
// general replay with decide()'s fast path, with decide() explaining every step, and with a stand-in that replays the
// decisions decide() made (same replicas, same workload work), so the difference is decide() alone.
const sample = Math.min(steps, 40_320);
const probe = { ...task(0), setup: { ...setup, timeline: true }, load: { start, stepMs, values: trace(0).subarray(0, sample) } };
const usesKernel = kernelPlan(probe.policy, probe.setup) !== null;
const real = simulateService(probe.policy, probe.setup, probe.load, { kernel: false });
const desired = real.timeline!.desired;
const replay: DecideFn = (p, o, h, now): Decision => {
  const d = desired[Math.round((now - start) / stepMs)]!;
  return {
    service: p.name, time: now, currentReplicas: o.currentReplicas, desiredReplicas: d, action: 'hold', reason: '', reasonCode: 'Replay',
    proposals: [], proposed: d, recommendation: d, minReplicas: p.minReplicas, maxReplicas: p.maxReplicas, conditions: [], errors: [], lastFired: h.lastFired,
  };
};
// the same run with decide() building its explanations, as the controller calls it
const explainedDecide: DecideFn = (p, o, h, now) => decide(p, o, h, now);
// the variants interleaved in rotating order, best of six each, so JIT warm-up, whichever runs first and other
// load on the machine hit them alike
const variants: Array<[string, SimulateOptions]> = [['kernel', {}], ['fast', { kernel: false }], ['explained', { decide: explainedDecide }], ['replay', { decide: replay }]];
const bestUs = new Map<string, number>();
for (let rep = 0; rep < 6; rep++) {
  for (let v = 0; v < variants.length; v++) {
    const [name, opts] = variants[(v + rep) % variants.length]!;
    const t0 = performance.now();
    const r = simulateService(probe.policy, probe.setup, probe.load, opts);
    const us = ((performance.now() - t0) * 1000) / sample;
    if (r.score.replicaHours !== real.score.replicaHours) throw new Error(`the ${name} run did not reproduce the run`);
    bestUs.set(name, Math.min(bestUs.get(name) ?? Infinity, us));
  }
}
const kernelUs = bestUs.get('kernel')!;
const withDecide = bestUs.get('fast')! / 1000;
const withExplained = bestUs.get('explained')! / 1000;
const simOnly = bestUs.get('replay')! / 1000;
let t = 0;
console.log(`per step, one thread (mean ${real.score.meanReplicas.toFixed(1)} replicas): ${(withDecide * 1000).toFixed(2)} µs with the replay fast path, ${(withExplained * 1000).toFixed(2)} µs with decide() explaining every step, ${(simOnly * 1000).toFixed(2)} µs for the simulator alone (decide() ~${(((withDecide - simOnly) / withDecide) * 100).toFixed(0)} % of a fast-path step)`);
console.log(`per step, replay kernel: ${kernelUs.toFixed(3)} µs vs ${(withDecide * 1000).toFixed(2)} µs on the general path (${(withDecide * 1000 / kernelUs).toFixed(0)}x); the batch below ${usesKernel ? 'runs through the kernel' : 'runs on the general path (the policy is not one the kernel covers)'}`);

console.log(`simulating ${services} services x ${days} days at ${stepMs / 1000}s steps (${steps} steps each, ${(services * steps).toLocaleString('en')} service-steps) on ${workers} worker(s), ${runs} run(s)...`);
const total = services * steps;
const walls: number[] = [];
// the harness's own share: making each service's trace on the main thread while the workers simulate
const makeSeconds: number[] = [];
let results: Awaited<ReturnType<typeof simulateMany>> = [];
for (let run = 0; run < runs; run++) {
  let last = 0;
  let making = 0;
  const timedTask = (i: number): SimTask => {
    const t0 = performance.now();
    const made = task(i);
    making += performance.now() - t0;
    return made;
  };
  t = performance.now();
  results = await simulateMany(services, timedTask, {
    workers,
    onProgress: (done) => {
      const now = performance.now();
      if (now - last > 10_000 || done === services) {
        last = now;
        console.log(`  ${done}/${services} services, ${((now - t) / 1000).toFixed(1)} s`);
      }
    },
  });
  walls.push((performance.now() - t) / 1000);
  makeSeconds.push(making / 1000);
}
const sorted = [...walls].sort((a, b) => a - b);
const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
const best = sorted[0]!;
// the goal is for 1,000 services x 30 days; a smaller batch is scaled to it by service-steps (throughput is per step)
const scale = (1000 * Math.round((30 * 86_400_000) / stepMs)) / total;
console.log(`wall time: median ${median.toFixed(1)} s, best ${best.toFixed(1)} s over ${runs} run(s)${scale !== 1 ? `; at this throughput 1000 services x 30 days would take ${(median * scale).toFixed(0)} s (best ${(best * scale).toFixed(0)} s)` : ''} (goal <= 30 s for 1000 services x 30 days: ${median * scale <= 30 ? 'met' : 'missed'})`);
const makeMedian = [...makeSeconds].sort((a, b) => a - b)[Math.floor((makeSeconds.length - 1) / 2)]!;
console.log(`bench harness: ${makeMedian.toFixed(1)} s (median) of main-thread time making the ${services} traces (${((makeMedian * 1000) / services).toFixed(1)} ms each), on the same ${availableParallelism()} core(s) as the workers`);
console.log(`throughput: ${Math.round(total / median).toLocaleString('en')} service-steps/s median (${Math.round(total / median / workers).toLocaleString('en')} per worker)`);
const rh = results.reduce((a, r) => a + r.score.replicaHours, 0);
const viol = results.reduce((a, r) => a + r.score.violationMinutes, 0);
console.log(`results: ${results.length} services, ${Math.round(rh).toLocaleString('en')} replica-hours, ${viol.toFixed(1)} SLO-violation minutes in total`);
console.log(`load average at the end: ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')} (figures are skewed when it exceeds the CPU count)`);
