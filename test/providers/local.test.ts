// The local provider against real processes (the sample service) behind real nginx and the built-in proxy:
// zero failed requests while scaling 3 → 1 under load, health-gated scale-up, crash restart, clean close.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { LocalProvider, parseLocalSpec } from '../../src/providers/local.js';
import { ProviderSpecError } from '../../src/providers/spec.js';
import { ProviderError, type TargetRef } from '../../src/providers/types.js';
import { freePort, freePortRange, requireBinary, sleep, tempDir, waitForPort } from '../helpers/env.js';
import { alive, eventually, SAMPLE_SERVER } from './helpers.js';
import { runLoad } from './load.js';

const NGINX = '/usr/sbin/nginx';
const POOL_SERVER = resolve('test', 'helpers', 'pool-server.mjs');
const TRICKLE_SERVER = resolve('test', 'helpers', 'trickle-server.mjs');

async function target(service: string, extra: Record<string, unknown> = {}, n = 3): Promise<TargetRef> {
  return {
    service,
    provider: 'local',
    spec: {
      command: [process.execPath, SAMPLE_SERVER],
      listen: `127.0.0.1:${await freePort()}`,
      portBase: await freePortRange(n + 1),
      replicas: n,
      healthTimeout: '10s',
      stopGracePeriod: '5s',
      ...extra,
    },
  };
}

describe('parseLocalSpec', () => {
  const good = { command: ['node', 'server.mjs'], listen: '127.0.0.1:8080', portBase: 18001 };
  const cases: Array<{ name: string; raw: unknown; path?: string; fix?: RegExp }> = [
    { name: 'not a mapping', raw: 'node server.mjs', path: 't' },
    { name: 'shell string command', raw: { ...good, command: 'node server.mjs' }, path: 't.command', fix: /\["node"/ },
    { name: 'missing command', raw: { listen: '8080', portBase: 18001 }, path: 't.command' },
    { name: 'empty command', raw: { ...good, command: [] }, path: 't.command' },
    { name: 'missing listen', raw: { command: ['x'], portBase: 18001 }, path: 't.listen' },
    { name: 'bad listen', raw: { ...good, listen: 'localhost' }, path: 't.listen' },
    { name: 'missing portBase', raw: { command: ['x'], listen: '8080' }, path: 't.portBase' },
    { name: 'privileged portBase', raw: { ...good, portBase: 80 }, path: 't.portBase' },
    { name: 'listen inside replica ports', raw: { ...good, listen: '127.0.0.1:18002', replicas: 3 }, path: 't.listen' },
    { name: 'unknown proxy', raw: { ...good, proxy: 'haproxy' }, path: 't.proxy', fix: /proxy: auto/ },
    { name: 'bad duration', raw: { ...good, healthTimeout: 'soon' }, path: 't.healthTimeout' },
    // a zero back-off restarted a crashing replica in a busy loop; one past a timer's range fired at once, the same
    { name: 'a zero restart back-off', raw: { ...good, restartBackoff: '0s' }, path: 't.restartBackoff' },
    { name: 'a back-off past a timer', raw: { ...good, maxRestartBackoff: '999999h' }, path: 't.maxRestartBackoff' },
    { name: 'a zero health timeout', raw: { ...good, healthTimeout: '0s' }, path: 't.healthTimeout' },
    { name: 'a grace period past a timer', raw: { ...good, stopGracePeriod: '30d' }, path: 't.stopGracePeriod' },
    { name: 'healthPath without slash', raw: { ...good, healthPath: 'healthz' }, path: 't.healthPath' },
    { name: 'typo field', raw: { ...good, replcias: 2 }, path: 't.replcias' },
    { name: 'env not strings', raw: { ...good, env: { A: { b: 1 } } }, path: 't.env.A' },
    { name: 'backoff order', raw: { ...good, restartBackoff: '10s', maxRestartBackoff: '1s' }, path: 't.maxRestartBackoff' },
  ];
  for (const c of cases) {
    it(`rejects ${c.name} naming ${c.path}`, () => {
      assert.throws(
        () => parseLocalSpec(c.raw, 't'),
        (e: unknown) => {
          assert.ok(e instanceof ProviderSpecError, String(e));
          assert.equal(e.path, c.path);
          assert.match(e.message, /fix: /);
          if (c.fix) assert.match(e.fix, c.fix);
          return true;
        },
      );
    });
  }
  it('fills defaults and keeps what was given', () => {
    const s = parseLocalSpec({ ...good, provider: 'local', env: { WORK_MS: 3 }, proxy: 'builtin', healthTimeout: '2s' }, 't');
    assert.deepEqual(s.listen, { host: '127.0.0.1', port: 8080 });
    assert.equal(s.replicas, 1);
    assert.equal(s.proxy, 'builtin');
    assert.equal(s.healthPath, '/healthz');
    assert.equal(s.healthTimeoutMs, 2000);
    assert.equal(s.stopGracePeriodMs, 10000);
    assert.deepEqual(s.env, { WORK_MS: '3' });
    assert.deepEqual(parseLocalSpec({ ...good, listen: 9000 }, 't').listen, { host: '127.0.0.1', port: 9000 });
  });
});

for (const proxy of ['builtin', 'nginx'] as const) {
  describe(`local provider, ${proxy} proxy`, () => {
    it('scales 3 → 1 under load with zero failed requests, draining before stopping', async () => {
      if (proxy === 'nginx') requireBinary(NGINX, 'nginx');
      const dir = tempDir();
      const p = new LocalProvider({ stateDir: dir.path });
      // DRAIN_TIMEOUT_MS=0: the replica exits the moment it gets SIGTERM, cutting whatever it is serving, so only
      // the provider's own drain (out of the proxy, wait for in-flight) can keep every request whole.
      const t = await target(`drain-${proxy}`, { proxy, env: { DRAIN_TIMEOUT_MS: '0' } });
      try {
        const before = await p.observe(t);
        assert.equal(before.replicas, 3);
        assert.equal(before.readyReplicas, 3);
        const url = await p.url(t);
        // About 3 s of load: ~1 s before the scale, the scale itself, ~1 s after it (bounded at 12 s in all).
        const stopLoad = new AbortController();
        const load = runLoad({ url, durationMs: 12_000, concurrency: 10, paths: ['/work?ms=2', 'POST /work?ms=2', 'POST /sleep?ms=300'], signal: stopLoad.signal });
        await new Promise((r) => setTimeout(r, 1000));
        const t0 = Date.now();
        await p.scale(t, 1, { dryRun: false, drainMs: 5000 });
        const scaleMs = Date.now() - t0;
        await new Promise((r) => setTimeout(r, 1000));
        stopLoad.abort();
        const res = await load;
        assert.deepEqual(res.failures.slice(0, 5), [], `${res.failures.length} failed of ${res.ok + res.failures.length}`);
        assert.ok(res.ok > 50, `only ${res.ok} requests completed`);
        // Load was spread over all three before the scale, and only the survivor served at the end.
        assert.equal(res.byPid.size, 3, `pids seen: ${[...res.byPid.keys()]}`);
        const after = await p.observe(t);
        assert.equal(after.replicas, 1);
        assert.equal(after.pods.length, 1);
        const afterScale = new Set(res.responses.filter((x) => x.t > t0 + scaleMs).map((x) => x.pid));
        assert.deepEqual([...afterScale], [String(after.pods[0]!.pid)]);
        // Slow requests (300 ms) were in flight on the removed replicas when the scale started; they completed
        // after it started, and scale() returned only once they had.
        const removed = before.pods.filter((x) => x.name !== after.pods[0]!.name);
        const lastFromRemoved = Math.max(...removed.map((x) => res.lastSeen.get(String(x.pid)) ?? 0));
        assert.ok(lastFromRemoved > t0, 'no request in flight on a removed replica completed after the scale started');
        assert.ok(t0 + scaleMs >= lastFromRemoved - 20, `scale() returned ${lastFromRemoved - t0 - scaleMs} ms before the last drained response`);
        for (const pod of removed) assert.equal(alive(pod.pid!), false, `${pod.name} (pid ${pod.pid}) still running`);
        if (proxy === 'nginx') {
          const conf = readFileSync(join(dir.path, t.service, 'nginx', 'nginx.conf'), 'utf8');
          assert.equal(conf.match(/^\s*server 127\.0\.0\.1:/gm)?.length, 1, conf);
          assert.ok(conf.includes(`server ${after.pods[0]!.endpoint!.slice('http://'.length)} `));
        }
      } finally {
        await p.close();
        dir.cleanup();
      }
    });

    it('adds new replicas to the proxy only after their health check passes', async () => {
      if (proxy === 'nginx') requireBinary(NGINX, 'nginx');
      const dir = tempDir();
      const p = new LocalProvider({ stateDir: dir.path });
      // Every replica answers /healthz 503 for its first 800 ms; traffic must not reach it before that.
      const t = await target(`slow-${proxy}`, { proxy, env: { STARTUP_DELAY_MS: '800' } }, 1);
      try {
        const first = await p.observe(t);
        assert.equal(first.readyReplicas, 1);
        const url = await p.url(t);
        const stopLoad = new AbortController();
        const load = runLoad({ url, durationMs: 12_000, concurrency: 6, paths: ['/work?ms=1', 'POST /work?ms=1'], signal: stopLoad.signal });
        await new Promise((r) => setTimeout(r, 200));
        const t0 = Date.now();
        await p.scale(t, 3, { dryRun: false, drainMs: 1000 });
        assert.ok(Date.now() - t0 >= 700, 'scale-up returned before the new replicas were healthy');
        setTimeout(() => stopLoad.abort(), 1000);
        const mid = await p.observe(t);
        assert.equal(mid.readyReplicas, 3);
        for (const pod of mid.pods) {
          assert.ok(pod.startTime! <= pod.readyTransitionTime!, `${pod.name} ready before start`);
          assert.ok(pod.readyTransitionTime! - pod.startTime! >= 700, `${pod.name} became ready in under the startup delay`);
          assert.match(pod.endpoint!, /^http:\/\/127\.0\.0\.1:\d+$/);
        }
        const res = await load;
        assert.deepEqual(res.failures.slice(0, 5), [], `${res.failures.length} failed`);
        assert.equal(res.byPid.size, 3, 'new replicas never received traffic');
        if (proxy === 'nginx') {
          const conf = readFileSync(join(dir.path, t.service, 'nginx', 'nginx.conf'), 'utf8');
          assert.match(conf, /least_conn;/);
          const ports = mid.pods.map((x) => Number(new URL(x.endpoint!).port));
          for (const port of ports) assert.match(conf, new RegExp(`server 127\\.0\\.0\\.1:${port} max_fails=3 fail_timeout=5s;`));
          assert.match(conf, /proxy_next_upstream error timeout;/);
        }
      } finally {
        await p.close();
        dir.cleanup();
      }
    });

    it('scales to zero (the proxy answers 503) and back', async () => {
      if (proxy === 'nginx') requireBinary(NGINX, 'nginx');
      const p = new LocalProvider();
      const t = await target(`zero-${proxy}`, { proxy }, 1);
      try {
        const first = await p.observe(t);
        const url = await p.url(t);
        await p.scale(t, 0, { dryRun: false, drainMs: 1000 });
        assert.deepEqual(await p.observe(t), { replicas: 0, readyReplicas: 0, pods: [] });
        assert.equal(alive(first.pods[0]!.pid!), false);
        const r = await request(`${url}/work`);
        assert.equal(r.statusCode, 503);
        assert.match(await r.body.text(), /no ready replicas/);
        await p.scale(t, 1, { dryRun: false, drainMs: 1000 });
        const back = await request(`${url}/work`);
        assert.equal(back.statusCode, 200);
        await back.body.dump();
      } finally {
        await p.close();
      }
    });
  });
}

describe('local provider, failures', () => {
  it('refuses proxy: nginx when nginx is not there, and falls back to builtin under auto', async () => {
    const p = new LocalProvider();
    try {
      const t = await target('nonginx', { proxy: 'nginx', nginxPath: '/nonexistent/nginx' }, 1);
      await assert.rejects(p.observe(t), /proxy is nginx but \/nonexistent\/nginx does not exist; install nginx or set proxy: builtin/);
      const auto = await target('autoproxy', { proxy: 'auto', nginxPath: '/nonexistent/nginx' }, 1);
      assert.equal((await p.observe(auto)).readyReplicas, 1);
      const r = await request(`${await p.url(auto)}/work`);
      assert.equal(r.headers['server'], undefined, 'nginx would add a Server header; the built-in proxy passes the replica\'s');
      await r.body.dump();
    } finally {
      await p.close();
    }
  });

  it('reports a crashed replica, keeps serving, and restarts it with back-off', async () => {
    const p = new LocalProvider();
    const t = await target('crash', { proxy: 'builtin', restartBackoff: '300ms' }, 2);
    try {
      const before = await p.observe(t);
      const victim = before.pods[0]!;
      process.kill(victim.pid!, 'SIGKILL');
      const crashed = await eventually(async () => {
        const s = await p.observe(t);
        return s.pods.find((x) => x.name === victim.name && x.phase === 'Failed') ? s : undefined;
      }, 3000, 'the crash to be reported');
      assert.equal(crashed.readyReplicas, 1);
      assert.equal(crashed.replicas, 2, 'the desired count stays while the replica restarts');
      assert.equal(crashed.pods.find((x) => x.name === victim.name)!.reason, 'CrashLoopBackOff');
      // Requests keep working through the surviving replica.
      const url = await p.url(t);
      for (let i = 0; i < 20; i++) {
        const r = await request(`${url}/work?ms=1`);
        assert.equal(r.statusCode, 200);
        await r.body.dump();
      }
      const healed = await eventually(async () => {
        const s = await p.observe(t);
        return s.readyReplicas === 2 ? s : undefined;
      }, 8000, 'the restart');
      const again = healed.pods.find((x) => x.name === victim.name)!;
      assert.equal(again.restarts, 1);
      assert.notEqual(again.pid, victim.pid);
      assert.ok(alive(again.pid!));
    } finally {
      await p.close();
    }
  });

  it('a scale-down is not held up by restarts of replicas that never get healthy: it removes them instead', async () => {
    // a bad release: replicas restarted after a crash never answer their health check (20 s allowed); rolling back
    // to one replica must not wait for those health checks, and the removed replicas must not come back
    const dir = tempDir();
    const flag = join(dir.path, 'bad-release');
    const p = new LocalProvider();
    const t = await target('restarting', { proxy: 'builtin', command: [process.execPath, POOL_SERVER], env: { BROKEN_FLAG: flag }, healthTimeout: '20s', restartBackoff: '100ms' }, 3);
    try {
      const before = await p.observe(t);
      assert.equal(before.readyReplicas, 3);
      writeFileSync(flag, 'x');
      const victims = before.pods.filter((x) => x.name !== before.pods[0]!.name);
      for (const v of victims) process.kill(v.pid!, 'SIGKILL');
      // they are restarted and wait for a health check that never passes
      const restarting = await eventually(async () => {
        const s = await p.observe(t);
        const again = s.pods.filter((x) => victims.some((v) => v.name === x.name) && x.pid !== undefined && !victims.some((v) => v.pid === x.pid) && x.phase === 'Pending');
        return again.length > 0 ? again : undefined;
      }, 5000, 'the crashed replicas to be restarted');
      const started = Date.now();
      await p.scale(t, 1, { dryRun: false, drainMs: 1000 });
      const took = Date.now() - started;
      assert.ok(took < 10_000, `the scale-down took ${took} ms: it waited for the restarted replicas' 20 s health checks`);
      const after = await p.observe(t);
      assert.equal(after.replicas, 1);
      assert.equal(after.readyReplicas, 1);
      assert.equal(after.pods[0]!.pid, before.pods[0]!.pid, 'the healthy replica is the one kept');
      for (const r of restarting) assert.equal(alive(r.pid!), false, `restarted replica pid ${r.pid} is stopped`);
      // nothing restarts them later
      await sleep(1500);
      const later = await p.observe(t);
      assert.deepEqual(later.pods.map((x) => x.pid), [before.pods[0]!.pid]);
    } finally {
      await p.close();
      dir.cleanup();
    }
  });

  it('a scale-up waiting for slow health checks holds up neither a sync nor a scale-down that overrides it', async () => {
    // new replicas take 4 s to answer /healthz; meanwhile the controller must still see the group (the new replicas
    // Pending), and a rollback to one replica must go through at once and stop them
    const p = new LocalProvider();
    const slow = await target('slow-up', { proxy: 'builtin', healthTimeout: '20s', env: { STARTUP_DELAY_MS: '4000' } }, 1);
    try {
      const before = await p.observe(slow);
      assert.equal(before.readyReplicas, 1);
      const up = p.scale(slow, 3, { dryRun: false, drainMs: 0 });
      let upDone = false;
      void up.then(() => (upDone = true), () => (upDone = true));
      await sleep(300);
      const t0 = Date.now();
      const mid = await p.observe(slow);
      assert.ok(Date.now() - t0 < 1500, `observe took ${Date.now() - t0} ms: it waited for the new replicas' health checks`);
      assert.equal(mid.replicas, 3);
      const pending = mid.pods.filter((x) => x.phase === 'Pending');
      assert.equal(pending.length, 2, `pods: ${JSON.stringify(mid.pods.map((x) => x.phase))}`);
      assert.equal(upDone, false, 'the scale-up resolved before its replicas were ready');
      const t1 = Date.now();
      await p.scale(slow, 1, { dryRun: false, drainMs: 500 });
      assert.ok(Date.now() - t1 < 2500, `the scale-down took ${Date.now() - t1} ms: it waited for the scale-up`);
      // the overridden scale-up ends without an error: its replicas were removed, not failed
      await up;
      const after = await p.observe(slow);
      assert.equal(after.replicas, 1);
      assert.equal(after.pods.length, 1);
      for (const x of pending) assert.equal(alive(x.pid!), false, `pending replica pid ${x.pid} is stopped`);
    } finally {
      await p.close();
    }
  });

  it('fails a scale-up whose replicas never become healthy, naming the health path', async () => {
    const p = new LocalProvider();
    const t = await target('unhealthy', { proxy: 'builtin', healthTimeout: '700ms', restartBackoff: '10s' }, 1);
    try {
      await p.observe(t);
      const bad: TargetRef = { ...t, spec: { ...t.spec, env: { STARTUP_DELAY_MS: '60000' } } };
      // The group's spec was fixed at start; a new service name takes the slow spec.
      const slow: TargetRef = { ...bad, service: 'unhealthy-2', spec: { ...bad.spec, listen: `127.0.0.1:${await freePort()}`, portBase: await freePortRange(3) } };
      await assert.rejects(p.scale(slow, 1, { dryRun: false, drainMs: 0 }), (e: unknown) => {
        assert.ok(e instanceof ProviderError);
        assert.match(e.message, /GET \/healthz on port \d+ did not answer 200 within 700 ms/);
        return true;
      });
      const s = await p.observe(slow);
      assert.equal(s.readyReplicas, 0);
      assert.equal(s.pods[0]!.phase, 'Failed');
      assert.equal(s.pods[0]!.reason, 'Unhealthy');
    } finally {
      await p.close();
    }
  });

  it('a replica whose health answer never ends fails its health check at the deadline instead of holding the scale-up', { timeout: 20_000 }, async () => {
    // the idle timeouts alone never fired: a byte every 300 ms kept the health check, and the scale-up, waiting forever
    const p = new LocalProvider();
    const t = await target('trickle', { proxy: 'builtin', command: [process.execPath, TRICKLE_SERVER], healthTimeout: '1500ms', restartBackoff: '10s' }, 0);
    try {
      await p.observe(t);
      const t0 = Date.now();
      await assert.rejects(p.scale(t, 1, { dryRun: false, drainMs: 0 }), (e: unknown) => e instanceof ProviderError && /did not answer 200 within 1500 ms/.test(e.message));
      const took = Date.now() - t0;
      assert.ok(took < 6000, `failed within the health timeout and one check (${took} ms)`);
      assert.equal((await p.observe(t)).readyReplicas, 0);
    } finally {
      await p.close();
    }
  });

  it('names the command when it cannot be started', async () => {
    const p = new LocalProvider();
    const t = await target('nocmd', { proxy: 'builtin', command: ['/nonexistent/bin/server'], healthTimeout: '1s' }, 1);
    try {
      await assert.rejects(p.scale(t, 1, { dryRun: false, drainMs: 0 }), /\/nonexistent\/bin\/server.*(ENOENT|exited)/);
    } finally {
      await p.close();
    }
  });

  it('refuses resize with the reason, and dry-run scale changes nothing', async () => {
    const p = new LocalProvider();
    const t = await target('dry', { proxy: 'builtin' }, 1);
    try {
      await assert.rejects(p.resize(t, { requests: { cpu: '500m' } }), /plain processes without CPU or memory limits/);
      await p.observe(t);
      await p.scale(t, 3, { dryRun: true, drainMs: 0 });
      assert.equal((await p.observe(t)).pods.length, 1);
      await assert.rejects(p.scale(t, -1, { dryRun: false, drainMs: 0 }), /whole number/);
    } finally {
      await p.close();
    }
  });

  it('lets a read-only provider (dry runs, reports) observe replicas another provider owns, without acting', async () => {
    const dir = tempDir();
    const owner = new LocalProvider({ stateDir: dir.path });
    const reader = new LocalProvider({ stateDir: dir.path, readOnly: true });
    const t = await target('shared', { proxy: 'builtin' }, 2);
    try {
      await assert.rejects(reader.observe(t), /no running replicas of shared are recorded in .*start them with `scalepilot run`/);
      const live = await owner.observe(t);
      const seen = await reader.observe(t);
      assert.equal(seen.replicas, 2);
      assert.deepEqual(seen.pods.map((p) => [p.name, p.pid, p.ready, p.endpoint]), live.pods.map((p) => [p.name, p.pid, p.ready, p.endpoint]));
      await assert.rejects(reader.scale(t, 3, { dryRun: false, drainMs: 0 }), /read-only provider: local replicas belong to the scalepilot process that started them/);
      await reader.scale(t, 3, { dryRun: true, drainMs: 0 });
      await owner.scale(t, 1, { dryRun: false, drainMs: 1000 });
      assert.deepEqual((await reader.observe(t)).pods.map((p) => p.name), ['shared-0']);
      // The reader checks liveness itself rather than trusting the file.
      const pid = (await reader.observe(t)).pods[0]!.pid!;
      await owner.close();
      assert.equal(alive(pid), false);
      await assert.rejects(reader.observe(t), /no running replicas/);
    } finally {
      await owner.close();
      dir.cleanup();
    }
  });

  it('close() during a scale-up stops the replicas still starting, quietly: no failure reported, nothing restarted', async () => {
    const events: string[] = [];
    const p = new LocalProvider({ onEvent: (e) => events.push(`${e.kind} ${e.message}`) });
    const t = await target('close-starting', { proxy: 'builtin', healthTimeout: '20s', env: { STARTUP_DELAY_MS: '3000' } }, 1);
    await p.observe(t);
    const up = p.scale(t, 3, { dryRun: false, drainMs: 0 });
    const starting = await eventually(async () => {
      const s = await p.observe(t);
      const pending = s.pods.filter((x) => x.phase === 'Pending' && x.pid !== undefined);
      return pending.length === 2 ? pending : undefined;
    }, 5000, 'the new replicas to start');
    await p.close();
    await up;
    for (const x of starting) assert.equal(alive(x.pid!), false, `starting replica pid ${x.pid} is stopped`);
    assert.deepEqual(events.filter((e) => /unhealthy|start-failed|crashed/.test(e)), []);
  });

  it('close() stops every replica and the proxy', async () => {
    const p = new LocalProvider();
    const t = await target('close', { proxy: 'builtin' }, 2);
    const s = await p.observe(t);
    const url = new URL(await p.url(t));
    await waitForPort(Number(url.port));
    await p.close();
    for (const pod of s.pods) assert.equal(alive(pod.pid!), false);
    await assert.rejects(request(url.origin + '/'), /ECONNREFUSED/);
  });
});
