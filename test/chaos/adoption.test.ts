// What a restarted local provider does with a state dir a dead scalepilot left: a recorded pid that now belongs to
// another program is left alone, a replica from an older spec still holding its port is stopped and replaced, a
// state file whose owner still runs is refused (two controllers must not drive the same replicas), and a torn state
// file is reported, not fatal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalProvider } from '../../src/providers/local.js';
import { ProviderError, type ProviderEvent, type TargetRef } from '../../src/providers/types.js';
import { groupMembers, procCmdline, processAlive, procStartTime } from '../../src/providers/local/proc.js';
import { nginxConfig } from '../../src/providers/local/nginx.js';
import { freePort, requireBinary, tempDir, waitForPort, freePortRange } from '../helpers/env.js';
import { killLeftovers, NGINX, SAMPLE_SERVER } from './helpers.js';

async function target(portBase: number, replicas = 2): Promise<TargetRef> {
  return {
    service: 'web',
    provider: 'local',
    spec: { command: [process.execPath, SAMPLE_SERVER], listen: `127.0.0.1:${await freePort()}`, portBase, replicas, proxy: 'builtin', healthTimeout: '10s', stopGracePeriod: '3s' },
  };
}

/** A pid that belonged to a process which has exited. */
async function deadPid(): Promise<number> {
  const c = spawn('true');
  await new Promise((r) => c.once('exit', r));
  return c.pid!;
}

function spawnDetached(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const c = spawn(cmd, args, { detached: true, stdio: 'ignore', env: { ...process.env, ...env } });
  c.unref();
  return c;
}

/** The nginx master running with this prefix, and the processes of its group (its workers). */
function strayNginx(nginxDir: string): number[] {
  const masters = readdirSync('/proc').filter((e) => /^\d+$/.test(e) && procCmdline(Number(e)).startsWith('nginx: master') && procCmdline(Number(e)).includes(`-p ${nginxDir}/ `)).map(Number);
  return [...new Set(masters.flatMap((m) => [m, ...groupMembers(m)]))];
}

function writeState(stateDir: string, st: object): void {
  mkdirSync(join(stateDir, 'web'), { recursive: true });
  writeFileSync(join(stateDir, 'web', 'state.json'), JSON.stringify(st));
}

test('a reused pid is left alone; a stale replica holding its port is stopped and replaced', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const portBase = await freePortRange(3);
  const events: ProviderEvent[] = [];
  const other = spawnDetached('sleep', ['60']);
  const stale = spawnDetached(process.execPath, [SAMPLE_SERVER], { PORT: String(portBase + 1) });
  const p = new LocalProvider({ stateDir: dir.path, onEvent: (e) => events.push(e) });
  try {
    await waitForPort(portBase + 1);
    writeState(dir.path, {
      service: 'web', ownerPid: await deadPid(), ownerStart: 1, proxy: { kind: 'builtin', url: 'http://127.0.0.1:1' }, desired: 2, updatedAt: Date.now(), specHash: 'an-older-spec',
      processes: [
        // the pid is alive but started at another time: the kernel gave it to another program
        { index: 0, port: portBase, pid: other.pid!, procStart: procStartTime(other.pid!)! + 7, restarts: 0 },
        { index: 1, port: portBase + 1, pid: stale.pid!, procStart: procStartTime(stale.pid!), restarts: 0 },
      ],
      pods: [],
    });
    const t = await target(portBase);
    const st = await p.observe(t);
    assert.equal(st.readyReplicas, 2, JSON.stringify(st.pods));
    assert.ok(processAlive(other.pid!), 'the program that reuses a recorded pid is not signalled');
    assert.ok(!st.pods.some((x) => x.pid === other.pid || x.pid === stale.pid), 'neither is taken for a replica');
    assert.ok(!processAlive(stale.pid!), 'the stale replica was stopped');
    assert.ok(events.some((e) => e.kind === 'pid-reused'), JSON.stringify(events));
    assert.ok(events.some((e) => e.kind === 'stale-replica-stopped' && /older target spec/.test(e.message)), JSON.stringify(events));
  } finally {
    await p.close();
    for (const c of [other, stale]) if (c.pid && processAlive(c.pid)) process.kill(c.pid, 'SIGKILL');
    dir.cleanup();
  }
});

test('a state dir whose owner still runs is refused: two controllers never drive the same replicas', { timeout: 30_000 }, async () => {
  const dir = tempDir();
  const owner = spawnDetached('sleep', ['60']);
  const p = new LocalProvider({ stateDir: dir.path });
  try {
    writeState(dir.path, { service: 'web', ownerPid: owner.pid, ownerStart: procStartTime(owner.pid!), proxy: { kind: 'builtin', url: 'x' }, desired: 1, updatedAt: Date.now(), processes: [], pods: [] });
    await assert.rejects(p.observe(await target(await freePortRange(3), 1)), (e: unknown) => e instanceof ProviderError && new RegExp(`scalepilot pid ${owner.pid}, which is still running`).test((e as Error).message));
  } finally {
    await p.close();
    process.kill(owner.pid!, 'SIGKILL');
    dir.cleanup();
  }
});

test('a torn state file is reported and the service starts anyway', { timeout: 30_000 }, async () => {
  const dir = tempDir();
  const events: ProviderEvent[] = [];
  const p = new LocalProvider({ stateDir: dir.path, onEvent: (e) => events.push(e) });
  try {
    mkdirSync(join(dir.path, 'web'), { recursive: true });
    writeFileSync(join(dir.path, 'web', 'state.json'), '{"service":"web","ownerPid":12');
    const st = await p.observe(await target(await freePortRange(3), 1));
    assert.equal(st.readyReplicas, 1);
    assert.ok(events.some((e) => e.kind === 'state-unreadable' && e.level === 'error'), JSON.stringify(events));
  } finally {
    await p.close();
    dir.cleanup();
  }
});

test('an nginx left by a run killed before it recorded any state is stopped, workers included, and the front starts', { timeout: 60_000 }, async () => {
  requireBinary(NGINX, 'nginx');
  const dir = tempDir();
  const listen = await freePort();
  const nginxDir = join(dir.path, 'web', 'nginx');
  mkdirSync(join(nginxDir, 'temp'), { recursive: true });
  writeFileSync(join(nginxDir, 'nginx.conf'), nginxConfig({ nginxPath: NGINX, dir: nginxDir, listen: { host: '127.0.0.1', port: listen }, service: 'web' }, []));
  // started the way the provider starts it, then its scalepilot died before writing state.json
  spawnDetached(NGINX, ['-p', nginxDir + '/', '-c', join(nginxDir, 'nginx.conf'), '-e', join(nginxDir, 'error.log')]);
  await waitForPort(listen);
  const events: ProviderEvent[] = [];
  const p = new LocalProvider({ stateDir: dir.path, onEvent: (e) => events.push(e) });
  try {
    const t = await target(await freePortRange(2), 1);
    t.spec.listen = `127.0.0.1:${listen}`;
    t.spec.proxy = 'nginx';
    const before = strayNginx(nginxDir);
    assert.ok(before.length >= 2, `a master and a worker run: ${before}`);
    const st = await p.observe(t);
    assert.equal(st.readyReplicas, 1, JSON.stringify(st.pods));
    assert.ok(before.every((pid) => !processAlive(pid)), 'the stray master and its workers are gone');
    assert.ok(events.some((e) => e.kind === 'stray-front-stopped'), JSON.stringify(events));
  } finally {
    await p.close();
    killLeftovers('-', dir.path, strayNginx(nginxDir));
    dir.cleanup();
  }
});
