// Crash recovery of `scalepilot run` on the local provider (the built CLI, as operators run it): per round, start run
// with 2 replicas, kill -9 it, start it again on the same state dir, time until it serves through its own front, then
// stop it cleanly and count the processes left (replicas, nginx master and workers). Prints figures, asserts nothing.
// Usage: node --import tsx bench/crash-restart.ts [rounds=3]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, freePortRange, tempDir } from '../test/helpers/env.js';
import { get, killLeftovers, leftovers, localConfig, nginxProcesses, readState, readyPids, startRun, until } from '../test/chaos/helpers.js';

const rounds = Number(process.argv[2] ?? 3);

async function round(proxy: 'nginx' | 'builtin', i: number): Promise<{ serveMs: number; adopted: boolean; orphansAfterKill: number; orphans: number }> {
  const dir = tempDir('scalepilot-bench-');
  const marker = `bench-${proxy}-${process.pid}-${i}`;
  const stateDir = join(dir.path, 'state');
  const listen = await freePort();
  const file = join(dir.path, 'scalepilot.yaml');
  writeFileSync(file, localConfig(dir.path, { web: { listen, portBase: await freePortRange(3), replicas: 2, proxy, marker } }));
  const args = ['-c', file, '--state-dir', stateDir, '--no-server', '--log-level', 'warn'];
  const front = `http://127.0.0.1:${listen}/`;
  const pgids = new Set<number>();
  try {
    let run = startRun(args);
    await until('first run serves', 30_000, async () => (await get(front))?.status === 200 && readyPids(readState(stateDir, 'web')).length === 2);
    const before = readyPids(readState(stateDir, 'web'));
    const oldMaster = nginxProcesses(stateDir, 'web').master;
    if (oldMaster) pgids.add(oldMaster);
    run.child.kill('SIGKILL');
    await run.exited;
    const orphansAfterKill = leftovers(marker, dir.path, pgids).length;
    const t0 = Date.now();
    run = startRun(args);
    const second = run;
    await until('restarted run serves through its own front', 30_000, async () => {
      const st = readState(stateDir, 'web');
      const master = nginxProcesses(stateDir, 'web').master;
      return st?.ownerPid === second.pid && (proxy === 'builtin' || (master !== undefined && master !== oldMaster)) && (await get(front))?.status === 200;
    });
    const serveMs = Date.now() - t0;
    const m = nginxProcesses(stateDir, 'web').master;
    if (m) pgids.add(m);
    const adopted = JSON.stringify(readyPids(readState(stateDir, 'web'))) === JSON.stringify(before);
    run.child.kill('SIGTERM');
    await run.exited;
    return { serveMs, adopted, orphansAfterKill, orphans: leftovers(marker, dir.path, pgids).length };
  } finally {
    killLeftovers(marker, dir.path, pgids);
    dir.cleanup();
  }
}

console.log(`crash-restart: scalepilot run, local provider, 2 replicas of the sample service, ${rounds} round(s) per front`);
for (const proxy of ['nginx', 'builtin'] as const) {
  const r = [];
  for (let i = 0; i < rounds; i++) r.push(await round(proxy, i));
  const ms = r.map((x) => x.serveMs).sort((a, b) => a - b);
  console.log(`  ${proxy.padEnd(7)} restart → serving through its own front: median ${ms[Math.floor(ms.length / 2)]} ms, max ${ms.at(-1)} ms`);
  console.log(`  ${proxy.padEnd(7)} replicas adopted (same pids): ${r.filter((x) => x.adopted).length}/${rounds}; processes running right after kill -9: ${r.map((x) => x.orphansAfterKill).join(', ')}`);
  console.log(`  ${proxy.padEnd(7)} orphans after kill -9, restart and clean stop: ${r.reduce((s, x) => s + x.orphans, 0)}`);
}
