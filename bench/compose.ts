// Compose on a real Docker Engine (a private dockerd, Debian's docker-compose, the examples/compose service behind
// scalepilot's nginx front): time from a scale-up decision to the new containers being ready and in the front, and
// failed requests while replicas drain during scale-down, under a steady open-model load on loopback.
// Usage: node --import tsx bench/compose.ts [rounds=2] [rps=30]   (root: it starts dockerd)
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ComposeProvider } from '../src/providers/compose.js';
import type { TargetRef } from '../src/providers/types.js';
import { runLoadTest } from '../src/loadtest/engine.js';
import { freePort, tempDir } from '../test/helpers/env.js';
import { DOCKER_COMPOSE, startDockerd } from '../test/helpers/docker.js';

const rounds = Number(process.argv[2] ?? 2);
const rps = Number(process.argv[3] ?? 30);
const DRAIN_MS = 15_000;
const file = resolve('examples', 'compose', 'compose.yaml');
const project = 'scalepilot-bench';

const engine = await startDockerd();
const dir = tempDir('scalepilot-bench-');
let provider: ComposeProvider | undefined;
const loads: AbortController[] = [];
try {
  process.env.SCALEPILOT_NODE_IMAGE = engine.importNodeImage('scalepilot-bench/node:local');
  process.env.DOCKER_HOST = engine.env.DOCKER_HOST;
  execFileSync(DOCKER_COMPOSE, ['-p', project, '-f', file, 'up', '-d'], { env: process.env, stdio: 'ignore' });
  const listen = await freePort();
  provider = new ComposeProvider({ frontDir: join(dir.path, 'front') });
  const t: TargetRef = { service: 'web', provider: 'compose', spec: { project, file, front: { listen: `127.0.0.1:${listen}`, port: 8080, proxy: 'nginx' } } };
  await provider.observe(t);
  await provider.scale(t, 1, { dryRun: false, drainMs: DRAIN_MS });

  const ups: Array<{ from: number; to: number; ms: number }> = [];
  const downs: Array<{ from: number; to: number; ms: number; requests: number; failed: number }> = [];
  for (let r = 0; r < rounds; r++) {
    for (const [from, to] of [[1, 2], [2, 4]] as const) {
      const t0 = Date.now();
      await provider.scale(t, to, { dryRun: false, drainMs: DRAIN_MS });
      const s = await provider.observe(t);
      if (s.readyReplicas < to) throw new Error(`only ${s.readyReplicas} of ${to} ready after scale`);
      ups.push({ from, to, ms: Date.now() - t0 });
    }
    // Scale-down under load: every request that fails while replicas leave the front and stop is counted. The 300 ms
    // POSTs are the ones a replica still holds when it is taken out, and no proxy may retry a POST elsewhere.
    const ac = new AbortController();
    loads.push(ac);
    const work = runLoadTest({ url: `http://127.0.0.1:${listen}/work?ms=2`, model: 'open', profile: { start: rps, stages: [{ durationMs: 60_000, target: rps }] }, maxConnections: 32 }, { signal: ac.signal });
    const slow = runLoadTest({ url: `http://127.0.0.1:${listen}`, endpoints: [{ method: 'POST', path: '/sleep?ms=300', body: 'x' }], model: 'open', profile: { start: 10, stages: [{ durationMs: 60_000, target: 10 }] }, maxConnections: 32 }, { signal: ac.signal });
    await new Promise((res) => setTimeout(res, 2000));
    const t0 = Date.now();
    await provider.scale(t, 1, { dryRun: false, drainMs: DRAIN_MS });
    const ms = Date.now() - t0;
    await new Promise((res) => setTimeout(res, 1000));
    ac.abort();
    const [a, b] = await Promise.all([work, slow]);
    downs.push({ from: 4, to: 1, ms, requests: a.requests + b.requests, failed: a.errors + b.errors });
  }
  for (const u of ups) console.log(`scale-up ${u.from}→${u.to}: decision to ready containers in the front ${u.ms} ms`);
  for (const d of downs) console.log(`scale-down ${d.from}→${d.to} (drain ≤ ${DRAIN_MS / 1000}s): ${d.ms} ms, ${d.requests} requests (${rps} rps GET /work + 10 rps POST /sleep?ms=300), ${d.failed} failed`);
} finally {
  for (const l of loads) l.abort();
  await provider?.close();
  await engine.stop();
  dir.cleanup();
}
