// The compose provider on a real Docker Engine (a private dockerd) driven by Debian's docker-compose: finding the CLI,
// scaling, what Compose's containers look like as pods (health, crash, one-off runs), a killed container started
// again, resize through docker update, dry runs, the drain as Compose's stop timeout, and the front a killed run
// leaves behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ComposeProvider, ENGINE_CALL_MS } from '../../src/providers/compose.js';
import { parseComposeVersion } from '../../src/providers/compose-cli.js';
import { ProviderError, type TargetRef } from '../../src/providers/types.js';
import { freePort, sleep, tempDir } from '../helpers/env.js';
import { DOCKER_CLI, DOCKER_COMPOSE, requireDockerCompose, startDockerd, type PrivateDockerd } from '../helpers/docker.js';

describe('parseComposeVersion', () => {
  const cases: Array<[string, { version: string; major: number; minor: number } | undefined]> = [
    ['docker-compose version 1.29.2, build unknown\ndocker-py version: 5.0.3\n', { version: '1.29.2', major: 1, minor: 29 }],
    ['Docker Compose version v2.29.1\n', { version: '2.29.1', major: 2, minor: 29 }],
    ['Docker Compose version 2.20.2-desktop.1', { version: '2.20.2-desktop.1', major: 2, minor: 20 }],
    ["docker: 'compose' is not a docker command.", undefined],
  ];
  for (const [out, want] of cases) it(JSON.stringify(out.slice(0, 40)), () => assert.deepEqual(parseComposeVersion(out), want));
});

const PLUGIN = ['/usr/libexec/docker/cli-plugins/docker-compose', '/usr/lib/docker/cli-plugins/docker-compose', '/usr/local/lib/docker/cli-plugins/docker-compose'];

describe('compose provider on a real Docker Engine', () => {
  let engine: PrivateDockerd;
  const dir = tempDir();
  const file = join(dir.path, 'compose.yaml');
  let provider: ComposeProvider;
  const logs: string[] = [];
  const t: TargetRef = { service: 'web', provider: 'compose', spec: { project: 'shop', file: 'compose.yaml', dockerPath: DOCKER_CLI } };
  const names = () =>
    engine.docker(['ps', '-a', '--filter', 'label=com.docker.compose.project=shop', '--format', '{{.Names}}']).split('\n').filter(Boolean).sort();

  before(async () => {
    requireDockerCompose();
    engine = await startDockerd();
    const image = engine.importBusyboxImage('scalepilot-test/busybox:local');
    // busybox as PID 1 ignores SIGTERM, so a stop waits the whole stop timeout: the drain window is observable.
    writeFileSync(file, [
      'services:',
      '  web:',
      `    image: ${image}`,
      '    command: ["sleep", "3600"]',
      '  sick:',
      `    image: ${image}`,
      '    command: ["sleep", "3600"]',
      '    healthcheck: { test: ["CMD", "false"], interval: 1s, timeout: 1s, retries: 1 }',
      '  http:',
      `    image: ${image}`,
      '    command: ["httpd", "-f", "-p", "8080", "-h", "/"]',
      '    ports: ["127.0.0.1::8080"]',
      '',
    ].join('\n'));
    provider = new ComposeProvider({ socketPath: engine.socketPath, baseDir: dir.path, log: (m) => logs.push(m) });
  });
  after(async () => {
    await provider?.close();
    await engine?.stop();
    dir.cleanup();
  });

  it('finds the Compose CLI this machine has: the plugin if installed, else docker-compose', async () => {
    const cli = await provider.cli(t);
    if (PLUGIN.some((p) => existsSync(p))) assert.deepEqual(cli.command, [DOCKER_CLI, 'compose']);
    else assert.deepEqual(cli.command, ['docker-compose']);
    assert.ok(cli.major >= 1 && /^\d+\.\d+/.test(cli.version), JSON.stringify(cli));
  });

  it('says what it tried when no Compose CLI works, with the fix', async () => {
    const none: TargetRef = { ...t, spec: { ...t.spec, composeCommand: [join(dir.path, 'no-compose')] } };
    await assert.rejects(provider.scale(none, 1, { dryRun: false, drainMs: 0 }), (e: unknown) => {
      assert.ok(e instanceof ProviderError && !e.retryable);
      assert.match(e.message, /no working Compose CLI: `.*no-compose version` not found; install .* or name the one to use with target\.composeCommand/);
      return true;
    });
    // A docker CLI without the compose plugin answers `docker compose` with an error, and the search goes on.
    const notDocker: TargetRef = { ...t, spec: { ...t.spec, composeCommand: `${DOCKER_CLI} nosuchplugin` } };
    await assert.rejects(provider.cli(notDocker), /`\/usr\/bin\/docker nosuchplugin version` failed \(exit \d+\)/);
    const named: TargetRef = { ...t, spec: { ...t.spec, composeCommand: DOCKER_COMPOSE } };
    assert.equal((await provider.cli(named)).major, 1);
  });

  it('scales up and down; containers are pods with their start times', async () => {
    await provider.scale(t, 3, { dryRun: false, drainMs: 1000 });
    const s = await provider.observe(t);
    assert.equal(s.replicas, 3);
    assert.equal(s.readyReplicas, 3);
    assert.deepEqual(s.pods.map((p) => p.name), names());
    for (const p of s.pods) {
      assert.equal(p.phase, 'Running');
      assert.match(p.containerId!, /^[0-9a-f]{64}$/);
      assert.ok(p.pid! > 0);
      assert.ok(Math.abs(p.startTime! - Date.now()) < 60_000);
    }
    await provider.scale(t, 1, { dryRun: false, drainMs: 1000 });
    const after = await provider.observe(t);
    assert.deepEqual(after.pods.map((p) => p.name), [s.pods[0]!.name], 'the highest-numbered replicas go');
  });

  it('the drain is Compose stop timeout: a replica ignoring SIGTERM is killed only after it', async () => {
    await provider.scale(t, 2, { dryRun: false, drainMs: 1000 });
    const t0 = Date.now();
    await provider.scale(t, 1, { dryRun: false, drainMs: 3000 });
    const took = Date.now() - t0;
    assert.ok(took >= 2900, `stop waited for the drain (${took} ms)`);
    assert.equal(names().length, 1);
  });

  it('a drain longer than target.timeout is waited for: the Compose call gets the drain on top', async () => {
    // the CLI call was killed at target.timeout, in the middle of Compose stopping the replica
    const quick: TargetRef = { ...t, spec: { ...t.spec, timeout: '2s' } };
    await provider.scale(quick, 2, { dryRun: false, drainMs: 1000 });
    const t0 = Date.now();
    await provider.scale(quick, 1, { dryRun: false, drainMs: 4000 });
    const took = Date.now() - t0;
    assert.ok(took >= 3900, `stop waited for the drain (${took} ms)`);
    assert.equal(names().length, 1);
  });

  it('a dry run changes nothing; without --dry-run (Compose v1) it still catches an unknown service', async () => {
    await provider.scale(t, 4, { dryRun: true, drainMs: 0 });
    assert.equal(names().length, 1);
    const other: TargetRef = { ...t, spec: { ...t.spec, service: 'nosuch' } };
    await assert.rejects(provider.scale(other, 2, { dryRun: true, drainMs: 0 }), /no such service: nosuch/);
    await assert.rejects(provider.scale(other, 2, { dryRun: false, drainMs: 0 }), (e: unknown) => e instanceof ProviderError && /--scale nosuch=2 .*failed \(exit \d+\): .*nosuch/i.test(e.message));
  });

  it('a container killed with docker kill is noticed and started again, and counted as a restart', async () => {
    await provider.scale(t, 2, { dryRun: false, drainMs: 1000 });
    const victim = (await provider.observe(t)).pods[1]!;
    engine.docker(['kill', victim.name]);
    while (engine.docker(['inspect', '-f', '{{.State.Status}}', victim.name]).trim() !== 'exited') await sleep(50);
    const seen = await provider.observe(t);
    const down = seen.pods.find((p) => p.name === victim.name)!;
    assert.equal(down.ready, false);
    assert.equal(down.phase, 'Failed');
    assert.equal(down.reason, 'Exited(137)');
    assert.equal(seen.readyReplicas, 1);
    await sleep(1100);
    const back = await provider.observe(t);
    const again = back.pods.find((p) => p.name === victim.name)!;
    assert.equal(again.phase, 'Running');
    assert.equal(again.restarts, 1);
    assert.equal(back.readyReplicas, 2);
    assert.ok(logs.some((l) => l.includes(`${victim.name} exited (137); starting it again`)), logs.join('\n'));
  });

  it('a read-only provider reports a stopped container and leaves it stopped', async () => {
    const ro = new ComposeProvider({ socketPath: engine.socketPath, baseDir: dir.path, readOnly: true });
    const victim = (await ro.observe(t)).pods[0]!;
    engine.docker(['stop', '-t', '0', victim.name]);
    await ro.observe(t);
    await sleep(1100);
    const s = await ro.observe(t);
    assert.equal(s.pods.find((p) => p.name === victim.name)!.phase, 'Failed');
    engine.docker(['start', victim.name]);
    await ro.close();
  });

  it('reports health checks and one-off containers the way Kubernetes would see pods', async () => {
    const sick: TargetRef = { ...t, spec: { ...t.spec, service: 'sick' } };
    await provider.scale(sick, 1, { dryRun: false, drainMs: 1000 });
    const starting = (await provider.observe(sick)).pods[0]!;
    assert.equal(starting.ready, false);
    const deadline = Date.now() + 20_000;
    let reason: string | undefined;
    while (Date.now() < deadline && reason !== 'Unhealthy') {
      await sleep(500);
      reason = (await provider.observe(sick)).pods[0]!.reason;
    }
    assert.equal(reason, 'Unhealthy');
    // `compose run` makes a one-off container with the service's labels: not a replica.
    execFileSync(DOCKER_COMPOSE, ['-p', 'shop', '-f', file, 'run', '-d', 'web', 'sleep', '60'], { env: engine.env, stdio: 'ignore' });
    const s = await provider.observe(t);
    assert.equal(s.replicas, 2, `one-off containers are not replicas: ${s.pods.map((p) => p.name).join(', ')}`);
  });

  it('resizes running containers with docker update and reads the limits back from the Engine', async () => {
    await provider.resize(t, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '250m' } }, { dryRun: false });
    const s = await provider.observe(t);
    assert.deepEqual(s.resources, { limits: { cpu: '500m', memory: '268435456' }, requests: { cpu: '250m' } });
    const nano = engine.docker(['inspect', '-f', '{{.HostConfig.NanoCpus}}', s.pods[1]!.name]).trim();
    assert.equal(nano, '500000000');
  });

  it('runs the front over published ports; a run killed with SIGKILL leaves its nginx, and the next run replaces it', async () => {
    const listen = await freePort();
    const frontDir = join(dir.path, 'front');
    const http: TargetRef = { ...t, spec: { ...t.spec, service: 'http', front: { listen: `127.0.0.1:${listen}`, port: 8080, healthPath: '/etc/passwd', proxy: 'nginx' } } };
    const first = new ComposeProvider({ socketPath: engine.socketPath, baseDir: dir.path, frontDir });
    await first.observe(http);
    await first.scale(http, 2, { dryRun: false, drainMs: 1000 });
    const s = await first.observe(http);
    assert.equal(s.readyReplicas, 2);
    for (const p of s.pods) assert.match(p.endpoint!, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`http://127.0.0.1:${listen}/etc/passwd`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^root:/);
    // `first` is never closed: as if its process died with SIGKILL, its nginx keeps the port.
    const stale = Number(readFileSync(join(frontDir, 'web', 'nginx', 'nginx.pid'), 'utf8'));
    assert.ok(stale > 0 && existsSync(`/proc/${stale}`));
    const logs2: string[] = [];
    const second = new ComposeProvider({ socketPath: engine.socketPath, baseDir: dir.path, frontDir, log: (m) => logs2.push(m) });
    try {
      const again = await second.observe(http);
      assert.equal(again.readyReplicas, 2);
      assert.ok(!existsSync(`/proc/${stale}`), 'the stale nginx is gone');
      assert.ok(logs2.some((l) => l.includes(`stopping the front nginx (pid ${stale}) a previous run left behind`)), logs2.join('\n'));
      assert.equal((await fetch(`http://127.0.0.1:${listen}/etc/passwd`)).status, 200);
    } finally {
      await second.close();
      await first.close();
    }
    await assert.rejects(fetch(`http://127.0.0.1:${listen}/`), 'closing the provider stops its front');
  });

  it('with a front, a replica ignoring SIGTERM gets its whole drain even when it is longer than an Engine call may take', async () => {
    // the Engine answers a stop only once the container is gone; an idle timeout on the connection cut that off at
    // 10 s, failed the scale-down and left the stopped container behind as a failed replica
    const listen = await freePort();
    const http: TargetRef = { ...t, spec: { ...t.spec, service: 'http', front: { listen: `127.0.0.1:${listen}`, port: 8080, healthPath: '/etc/passwd', proxy: 'builtin' } } };
    const p = new ComposeProvider({ socketPath: engine.socketPath, baseDir: dir.path, frontDir: join(dir.path, 'front-drain') });
    try {
      await p.scale(http, 2, { dryRun: false, drainMs: 1000 });
      assert.equal((await p.observe(http)).readyReplicas, 2);
      const drainMs = ENGINE_CALL_MS + 2000;
      const t0 = Date.now();
      await p.scale(http, 1, { dryRun: false, drainMs });
      const took = Date.now() - t0;
      assert.ok(took >= drainMs - 100, `the stop waited for the drain (${took} ms)`);
      const after = await p.observe(http);
      assert.deepEqual(after.pods.map((x) => x.phase), ['Running'], 'the stopped replica is removed, not left as a failed one');
      assert.equal((await fetch(`http://127.0.0.1:${listen}/etc/passwd`)).status, 200);
      await p.scale(http, 0, { dryRun: false, drainMs: 1000 });
    } finally {
      await p.close();
    }
  });

  it('a hung Engine (dockerd stopped with SIGSTOP) fails a call at its deadline, retryable, with the reason; it answers again once resumed', async () => {
    const pid = Number(readFileSync(join(engine.dir, 'dockerd.pid'), 'utf8'));
    assert.ok(pid > 0);
    process.kill(pid, 'SIGSTOP');
    try {
      const t0 = Date.now();
      await assert.rejects(provider.observe(t), (e: unknown) =>
        e instanceof ProviderError && e.retryable && new RegExp(`listing containers of shop/web: the Docker Engine at unix://.* gave no answer within ${ENGINE_CALL_MS / 1000} s; it is up but not answering`).test(e.message));
      const took = Date.now() - t0;
      assert.ok(took >= ENGINE_CALL_MS - 100 && took < ENGINE_CALL_MS + 5000, `failed at the deadline (${took} ms)`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    assert.ok((await provider.observe(t)).replicas >= 1);
  });

  it('names the unreachable Engine with the fix', async () => {
    const gone: TargetRef = { ...t, spec: { ...t.spec, socketPath: join(dir.path, 'missing.sock') } };
    await assert.rejects(provider.observe(gone), /cannot reach the Docker Engine at unix:\/\/.*missing\.sock \(ENOENT\); start Docker or set target\.socketPath/);
  });
});
