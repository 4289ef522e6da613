// The compose provider's spec parsing and resize flags (tables), and the few cases that need a fake: the v2 compose
// plugin's argv (not installed on the test machines) and an Engine that fails on demand. The real-engine tests are in
// compose-engine.test.ts.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
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
    // 0 would be no time limit at all for the CLI; a timer past 24.8 days fires at once
    { name: 'a zero timeout', raw: { project: 'shop', file: 'a', timeout: '0s' }, path: 't.timeout' },
    { name: 'a timeout past 1h', raw: { project: 'shop', file: 'a', timeout: '9999999h' }, path: 't.timeout' },
    { name: 'unknown field', raw: { project: 'shop', file: 'a', replicas: 3 }, path: 't.replicas' },
    { name: 'composeCommand not a list', raw: { project: 'shop', file: 'a', composeCommand: 7 }, path: 't.composeCommand' },
    { name: 'front without port', raw: { project: 'shop', file: 'a', front: { listen: '127.0.0.1:8080' } }, path: 't.front.port' },
    { name: 'front with a bad listen', raw: { project: 'shop', file: 'a', front: { listen: 'everywhere', port: 8080 } }, path: 't.front.listen' },
    { name: 'front with an unknown field', raw: { project: 'shop', file: 'a', front: { listen: 8080, port: 8080, tls: true } }, path: 't.front.tls' },
    { name: 'front healthPath not a path', raw: { project: 'shop', file: 'a', front: { listen: 8080, port: 8080, healthPath: 'healthz' } }, path: 't.front.healthPath' },
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
  it('takes composeCommand as one string or a list, and a front with defaults', () => {
    assert.deepEqual(parseComposeSpec({ project: 'shop', file: 'a', composeCommand: 'docker  compose' }, 't').composeCommand, ['docker', 'compose']);
    assert.deepEqual(parseComposeSpec({ project: 'shop', file: 'a', composeCommand: ['/opt/bin/docker-compose'] }, 't').composeCommand, ['/opt/bin/docker-compose']);
    assert.deepEqual(parseComposeSpec({ project: 'shop', file: 'a', front: { listen: 8080, port: 80 } }, 't').front, {
      listen: { host: '127.0.0.1', port: 8080 }, port: 80, proxy: 'auto', nginxPath: '/usr/sbin/nginx', healthPath: '/healthz', readyTimeoutMs: 60000,
    });
  });
});

describe('updateFlags (Kubernetes resources → docker update)', () => {
  const cases: Array<{ r: Parameters<typeof updateFlags>[0]; want: string[] }> = [
    { r: { limits: { cpu: '500m' } }, want: ['--cpus', '0.5'] },
    { r: { limits: { cpu: '2', memory: '512Mi' } }, want: ['--cpus', '2', '--memory', '536870912', '--memory-swap', '536870912'] },
    { r: { limits: { memory: '1G' } }, want: ['--memory', '1000000000', '--memory-swap', '1000000000'] },
    { r: { requests: { cpu: '250m', memory: '128Mi' } }, want: ['--cpu-shares', '256', '--memory-reservation', '134217728'] },
    { r: { requests: { cpu: '1m' } }, want: ['--cpu-shares', '2'] },
    { r: {}, want: [] },
  ];
  for (const c of cases) it(JSON.stringify(c.r), () => assert.deepEqual(updateFlags(c.r, 'web'), c.want));
  it('rejects a bad quantity naming the field', () => {
    assert.throws(() => updateFlags({ limits: { cpu: 'two' } }, 'web'), /limits\.cpu "two" is not a quantity/);
  });
});

// Kept against fakes, for what the test machines cannot do on demand: the docker compose v2 plugin is not packaged
// in Debian (docker.io ships no plugin, docker-compose is v1), so v2's argv and --dry-run are checked against a fake
// `docker` CLI; and a real Engine cannot be made to answer 500 at will. Everything else (scaling, health, crash and
// replacement, one-off containers, resize, the front and drain) runs on a real dockerd in compose-engine.test.ts.
describe('compose provider with the v2 plugin CLI (fake) and a failing Engine (fake)', () => {
  const dir = tempDir();
  const engine = new FakeDockerEngine(join(dir.path, 'docker.sock'));
  const cli = writeFakeDockerCli(dir.path);
  const oldDir = join(dir.path, 'old');
  mkdirSync(oldDir);
  const oldCli = writeFakeDockerCli(oldDir, { composeVersion: '2.17.3' });
  const file = join(dir.path, 'compose.yaml');
  writeFileSync(file, 'services:\n  web:\n    image: shop-web\n  worker:\n    image: shop-worker\n');
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
    delete engine.failWith;
    engine.defineService('shop', 'web', { health: 'healthy' });
  });

  it('finds the plugin as `<dockerPath> compose` and scales with its argv', async () => {
    assert.deepEqual(await provider.cli(t), { command: [cli.path, 'compose'], version: '2.29.1', major: 2, dryRun: true });
    const calls = cli.calls().length;
    await provider.scale(t, 3, { dryRun: false, drainMs: 30_000 });
    assert.deepEqual(cli.calls().slice(calls), [
      ['compose', '-p', 'shop', '-f', file, 'up', '-d', '--scale', 'web=3', '--no-recreate', '--timeout', '30', 'web'],
    ]);
    const s = await provider.observe(t);
    assert.deepEqual(s.pods.map((p) => p.name), ['shop-web-1', 'shop-web-2', 'shop-web-3']);
    const list = engine.requests.find((r) => r.path === '/containers/json')!;
    assert.equal(list.version, '1.43');
    assert.deepEqual(JSON.parse(list.query.get('filters')!).label, ['com.docker.compose.project=shop', 'com.docker.compose.service=web', 'com.docker.compose.oneoff=False']);
  });

  it('v2.20+ dry run passes --dry-run and changes nothing', async () => {
    engine.composeScale('shop', 'web', 2);
    await provider.scale(t, 5, { dryRun: true, drainMs: 0 });
    assert.deepEqual(cli.calls().at(-1)!.slice(0, 2), ['compose', '--dry-run']);
    assert.equal((await provider.observe(t)).replicas, 2);
  });

  it('before v2.20 (no --dry-run) a dry run checks the file and the service instead', async () => {
    const old: TargetRef = { ...t, spec: { ...t.spec, dockerPath: oldCli.path } };
    assert.equal((await provider.cli(old)).dryRun, false);
    await provider.scale(old, 5, { dryRun: true, drainMs: 0 });
    assert.deepEqual(oldCli.calls().at(-1), ['compose', '-p', 'shop', '-f', file, 'config', '--services']);
    assert.ok(!oldCli.calls().some((c) => c.includes('--dry-run') || c.includes('up')));
    await assert.rejects(provider.scale({ ...old, spec: { ...old.spec, service: 'nosuch' } }, 1, { dryRun: true, drainMs: 0 }), /no such service: nosuch/);
  });

  it('an Engine answering 500 is a retryable error naming the call', async () => {
    engine.failWith = { status: 500, message: 'containerd: connection error' };
    await assert.rejects(provider.observe(t), (e: unknown) => {
      assert.ok(e instanceof ProviderError && e.retryable);
      assert.match(e.message, /listing containers of shop\/web: Docker Engine at unix:\/\/.*answered 500: containerd: connection error/);
      return true;
    });
  });

  it('rejects bad replica counts before running anything', async () => {
    const before = cli.calls().length;
    await assert.rejects(provider.scale(t, 1.5, { dryRun: false, drainMs: 0 }), /whole number/);
    assert.equal(cli.calls().length, before);
  });
});
