// The compose provider against a fake Docker Engine (real Engine API shapes on a unix socket) and a fake `docker`
// CLI that records its argv and applies `compose up --scale` / `update` to that engine.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ComposeProvider, parseComposeSpec, updateFlags } from '../../src/providers/compose.js';
import { ProviderSpecError } from '../../src/providers/spec.js';
import { ProviderError, type TargetRef } from '../../src/providers/types.js';
import { tempDir } from '../helpers/env.js';
import { FakeDockerEngine, writeFakeDockerCli } from '../helpers/fake-docker-engine.js';

describe('parseComposeSpec', () => {
  const cases: Array<{ name: string; raw: unknown; path: string }> = [
    { name: 'missing project', raw: { file: 'compose.yaml' }, path: 't.project' },
    { name: 'bad project name', raw: { project: 'My Shop', file: 'compose.yaml' }, path: 't.project' },
    { name: 'missing file', raw: { project: 'shop' }, path: 't.file' },
    { name: 'file and files', raw: { project: 'shop', file: 'a.yaml', files: ['b.yaml'] }, path: 't.files' },
    { name: 'files not a list', raw: { project: 'shop', files: 'a.yaml' }, path: 't.files' },
    { name: 'socketPath and host', raw: { project: 'shop', file: 'a', socketPath: '/s', host: 'http://h:1' }, path: 't.host' },
    { name: 'host without port', raw: { project: 'shop', file: 'a', host: 'http://docker' }, path: 't.host' },
    { name: 'bad apiVersion', raw: { project: 'shop', file: 'a', apiVersion: 'latest' }, path: 't.apiVersion' },
    { name: 'bad timeout', raw: { project: 'shop', file: 'a', timeout: 'forever' }, path: 't.timeout' },
    { name: 'unknown field', raw: { project: 'shop', file: 'a', replicas: 3 }, path: 't.replicas' },
  ];
  for (const c of cases) {
    it(`rejects ${c.name} naming ${c.path}`, () => {
      assert.throws(() => parseComposeSpec(c.raw, 't'), (e: unknown) => e instanceof ProviderSpecError && e.path === c.path && /fix: /.test(e.message));
    });
  }
  it('accepts the short form and fills defaults', () => {
    const s = parseComposeSpec({ provider: 'compose', project: 'shop', file: 'compose.yaml', apiVersion: 'v1.43' }, 't');
    assert.deepEqual(s, { project: 'shop', files: ['compose.yaml'], dockerPath: 'docker', apiVersion: '1.43', timeoutMs: 120000 });
  });
});

describe('updateFlags (Kubernetes resources → docker update)', () => {
  const cases: Array<{ r: Parameters<typeof updateFlags>[0]; want: string[] }> = [
    { r: { limits: { cpu: '500m' } }, want: ['--cpus', '0.5'] },
    { r: { limits: { cpu: '2', memory: '512Mi' } }, want: ['--cpus', '2', '--memory', '536870912'] },
    { r: { limits: { memory: '1G' } }, want: ['--memory', '1000000000'] },
    { r: { requests: { cpu: '250m', memory: '128Mi' } }, want: ['--cpu-shares', '256', '--memory-reservation', '134217728'] },
    { r: { requests: { cpu: '1m' } }, want: ['--cpu-shares', '2'] },
    { r: {}, want: [] },
  ];
  for (const c of cases) it(JSON.stringify(c.r), () => assert.deepEqual(updateFlags(c.r, 'web'), c.want));
  it('rejects a bad quantity naming the field', () => {
    assert.throws(() => updateFlags({ limits: { cpu: 'two' } }, 'web'), /limits\.cpu "two" is not a quantity/);
  });
});

describe('compose provider against a fake Engine', () => {
  const dir = tempDir();
  const engine = new FakeDockerEngine(join(dir.path, 'docker.sock'));
  const cli = writeFakeDockerCli(dir.path);
  const file = join(dir.path, 'compose.yaml');
  writeFileSync(file, 'services:\n  web:\n    image: shop-web\n');
  const provider = new ComposeProvider({ dockerPath: cli.path, socketPath: engine.socketPath, baseDir: dir.path });
  const t: TargetRef = { service: 'web', provider: 'compose', spec: { project: 'shop', file: 'compose.yaml', apiVersion: '1.43' } };

  before(() => engine.start());
  after(async () => {
    await provider.close();
    await engine.close();
    dir.cleanup();
  });
  beforeEach(() => {
    engine.containers.splice(0);
    engine.requests.splice(0);
    engine.services.clear();
    engine.defineService('shop', 'web', { health: 'healthy' });
    engine.defineService('shop', 'worker');
  });

  it('scales with the exact compose argv and observes the new containers', async () => {
    const calls = cli.calls().length;
    await provider.scale(t, 3, { dryRun: false, drainMs: 30_000 });
    assert.deepEqual(cli.calls().slice(calls), [
      ['compose', '-p', 'shop', '-f', file, 'up', '-d', '--scale', 'web=3', '--no-recreate', '--timeout', '30', 'web'],
    ]);
    const s = await provider.observe(t);
    assert.equal(s.replicas, 3);
    assert.equal(s.readyReplicas, 3);
    assert.deepEqual(s.pods.map((p) => p.name), ['shop-web-1', 'shop-web-2', 'shop-web-3']);
    for (const p of s.pods) {
      assert.equal(p.phase, 'Running');
      assert.match(p.containerId!, /^[0-9a-f]{64}$/);
      assert.ok(p.pid! > 0);
      assert.ok(Math.abs(p.startTime! - Date.now()) < 10_000);
      assert.equal(p.readyTransitionTime, p.startTime);
    }
    // Listed through the versioned API with Compose's labels, then inspected one by one.
    const list = engine.requests.find((r) => r.path === '/containers/json')!;
    assert.equal(list.version, '1.43');
    assert.deepEqual(JSON.parse(list.query.get('filters')!).label, ['com.docker.compose.project=shop', 'com.docker.compose.service=web', 'com.docker.compose.oneoff=False']);
    assert.equal(engine.requests.filter((r) => /^\/containers\/[0-9a-f]+\/json$/.test(r.path)).length, 3);
  });

  it('scales down, removing the highest-numbered containers, with the drain as the stop timeout', async () => {
    engine.composeScale('shop', 'web', 3);
    await provider.scale(t, 1, { dryRun: false, drainMs: 4500 });
    assert.deepEqual(cli.calls().at(-1)!.slice(-3), ['--timeout', '5', 'web']);
    const s = await provider.observe(t);
    assert.deepEqual(s.pods.map((p) => p.name), ['shop-web-1']);
  });

  it('dry run passes --dry-run and changes nothing', async () => {
    engine.composeScale('shop', 'web', 2);
    await provider.scale(t, 5, { dryRun: true, drainMs: 0 });
    assert.deepEqual(cli.calls().at(-1)!.slice(0, 2), ['compose', '--dry-run']);
    assert.equal((await provider.observe(t)).replicas, 2);
  });

  it('reports health, crash and one-off containers the way Kubernetes would see pods', async () => {
    engine.composeScale('shop', 'web', 4);
    const [a, b, c, d] = engine.list('shop', 'web');
    a!.health = 'starting';
    b!.health = 'unhealthy';
    c!.status = 'exited';
    c!.exitCode = 137;
    d!.status = 'restarting';
    d!.restartCount = 4;
    engine.composeScale('shop', 'worker', 1);
    engine.containers.push({ ...a!, Id: 'f'.repeat(64), name: 'shop-web-run-1', oneoff: true });
    const s = await provider.observe(t);
    assert.equal(s.replicas, 4, 'one-off containers (docker compose run) are not replicas');
    assert.equal(s.readyReplicas, 0);
    assert.deepEqual(
      s.pods.map((p) => [p.name, p.phase, p.ready, p.reason]),
      [
        ['shop-web-1', 'Running', false, 'Starting'],
        ['shop-web-2', 'Running', false, 'Unhealthy'],
        ['shop-web-3', 'Failed', false, 'Exited(137)'],
        ['shop-web-4', 'Pending', false, 'CrashLoopBackOff'],
      ],
    );
    assert.equal(s.pods[3]!.restarts, 4);
  });

  it('resizes running containers with docker update and reads the limits back', async () => {
    engine.composeScale('shop', 'web', 2);
    await provider.resize(t, { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '250m' } }, { dryRun: false });
    const call = cli.calls().at(-1)!;
    assert.deepEqual(call.slice(0, 7), ['update', '--cpus', '0.5', '--memory', '536870912', '--cpu-shares', '256']);
    assert.deepEqual(call.slice(7).sort(), engine.list('shop', 'web').map((c) => c.Id).sort());
    const s = await provider.observe(t);
    assert.deepEqual(s.resources, { limits: { cpu: '500m', memory: '536870912' }, requests: { cpu: '250m' } });
    assert.equal(engine.list('shop', 'web')[1]!.hostConfig.NanoCpus, 500_000_000);
  });

  it('dry-run resize runs nothing', async () => {
    engine.composeScale('shop', 'web', 1);
    const before = cli.calls().length;
    await provider.resize(t, { limits: { cpu: '1' } }, { dryRun: true });
    assert.equal(cli.calls().length, before);
    assert.equal(engine.list('shop', 'web')[0]!.hostConfig.NanoCpus, 0);
  });

  it('surfaces the CLI error for an unknown service', async () => {
    const other: TargetRef = { ...t, spec: { ...t.spec, service: 'nosuch' } };
    await assert.rejects(provider.scale(other, 2, { dryRun: false, drainMs: 0 }), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.match(e.message, /compose -p shop .* --scale nosuch=2 .* failed \(exit 1\): no such service: nosuch/);
      return true;
    });
  });

  it('names the missing docker binary and the unreachable engine, with fixes', async () => {
    const noCli: TargetRef = { ...t, spec: { ...t.spec, dockerPath: join(dir.path, 'no-docker') } };
    await assert.rejects(provider.scale(noCli, 1, { dryRun: false, drainMs: 0 }), (e: unknown) => {
      assert.ok(e instanceof ProviderError && !e.retryable);
      assert.match(e.message, /no-docker not found; install Docker .* or set target\.dockerPath/);
      return true;
    });
    const noEngine: TargetRef = { ...t, spec: { ...t.spec, socketPath: join(dir.path, 'missing.sock') } };
    await assert.rejects(provider.observe(noEngine), /cannot reach the Docker Engine at unix:\/\/.*missing\.sock \(ENOENT\); start Docker or set target\.socketPath/);
  });

  it('rejects bad replica counts before running anything', async () => {
    const before = cli.calls().length;
    await assert.rejects(provider.scale(t, 1.5, { dryRun: false, drainMs: 0 }), /whole number/);
    assert.equal(cli.calls().length, before);
  });
});
