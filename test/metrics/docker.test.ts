// Docker source: `docker stats` arithmetic tables, config parsing, and reads through dockerode against a fake Engine
// for what a real one cannot be made to do on demand: exact counter values (so the arithmetic is checked to the
// digit), a first reading without precpu_stats, a 500, a hang, and a TCP endpoint (a real Engine on TCP would give
// every local user root). Real container CPU and memory are read in docker-engine.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DockerSource, dockerCpuPercent, dockerMemoryPercent, dockerMemoryUsage, parseDockerConfig, type DockerStats } from '../../src/metrics/docker.js';
import { MetricError } from '../../src/metrics/types.js';
import { fakeContainer, startFakeDocker, statsJson, type FakeDocker } from '../helpers/fake-docker.js';

describe('docker stats arithmetic', () => {
  const stats = (total: number, preTotal: number, system: number, preSystem: number, online?: number, percpu?: number[]): DockerStats => ({
    cpu_stats: { cpu_usage: { total_usage: total, ...(percpu ? { percpu_usage: percpu } : {}) }, system_cpu_usage: system, ...(online !== undefined ? { online_cpus: online } : {}) },
    precpu_stats: { cpu_usage: { total_usage: preTotal }, system_cpu_usage: preSystem },
  });
  // cpu% = (Δtotal / Δsystem) × cpus × 100; Δsystem counts all CPUs' time, so half a core on 4 CPUs over 1 s is
  // Δtotal 0.5e9 over Δsystem 4e9.
  const cpuCases: Array<[string, DockerStats, number | RegExp]> = [
    ['half a core on 4 CPUs', stats(1.5e9, 1e9, 104e9, 100e9, 4), 50],
    ['two full cores on 4 CPUs', stats(3e9, 1e9, 104e9, 100e9, 4), 200],
    ['idle container is 0, a real value', stats(1e9, 1e9, 104e9, 100e9, 4), 0],
    ['online_cpus missing: percpu_usage length (cgroup v1)', stats(1.25e9, 1e9, 102e9, 100e9, 0, [1, 2]), 25],
    ['no precpu yet', { cpu_stats: stats(1, 0, 1, 0, 4).cpu_stats, precpu_stats: { cpu_usage: { total_usage: 0 } } }, /only one reading/],
    ['system counter did not move', stats(2e9, 1e9, 100e9, 100e9, 4), /did not advance/],
    ['no cpu_stats (stopped)', {}, /no cpu_stats/],
  ];
  for (const [name, s, want] of cpuCases) {
    test(`cpu: ${name}`, () => {
      const got = dockerCpuPercent(s);
      if (typeof want === 'number') assert.ok(typeof got === 'number' && Math.abs(got - want) < 1e-9, `${got} vs ${want}`);
      else assert.match(String(got), want);
    });
  }
  const memCases: Array<[string, DockerStats['memory_stats'], number | RegExp, number | RegExp]> = [
    ['cgroup v2: usage minus inactive_file', { usage: 100e6, limit: 400e6, stats: { inactive_file: 20e6, active_file: 5e6 } }, 80e6, 20],
    ['cgroup v1: usage minus total_inactive_file', { usage: 100e6, limit: 200e6, stats: { total_inactive_file: 40e6, inactive_file: 1e6 } }, 60e6, 30],
    ['cache larger than usage is ignored', { usage: 10e6, limit: 100e6, stats: { inactive_file: 20e6 } }, 10e6, 10],
    ['no limit reported', { usage: 10e6, stats: {} }, 10e6, /no memory limit/],
    ['stopped container', {}, /no memory_stats/, /no memory_stats/],
  ];
  for (const [name, m, bytes, pct] of memCases) {
    test(`memory: ${name}`, () => {
      const s: DockerStats = { memory_stats: m };
      const u = dockerMemoryUsage(s);
      const p = dockerMemoryPercent(s);
      if (typeof bytes === 'number') assert.equal(u, bytes);
      else assert.match(String(u), bytes);
      if (typeof pct === 'number') assert.ok(typeof p === 'number' && Math.abs(p - pct) < 1e-9, `${p}`);
      else assert.match(String(p), pct);
    });
  }
});

describe('parseDockerConfig', () => {
  test('defaults to the local socket', () => {
    assert.deepEqual(parseDockerConfig({ type: 'docker' }, 'sources.d'), { type: 'docker', socketPath: '/var/run/docker.sock', host: undefined, apiVersion: undefined, project: undefined, timeoutMs: 10_000 });
    assert.equal(parseDockerConfig({ type: 'docker', apiVersion: 'v1.43' }, 's').apiVersion, '1.43');
  });
  const bad: Array<[unknown, RegExp]> = [
    [{ type: 'docker', socketPath: '/x.sock', host: 'http://127.0.0.1:2375' }, /sources\.d: set either socketPath or host/],
    [{ type: 'docker', host: 'tcp://127.0.0.1' }, /sources\.d\.host: "tcp:\/\/127\.0\.0\.1" must be a URL with a port like http:\/\/127\.0\.0\.1:2375/],
    [{ type: 'docker', apiVersion: 'latest' }, /sources\.d\.apiVersion: "latest" is not an Engine API version; write it like 1\.43/],
    [{ type: 'docker', timeout: -1 }, /sources\.d\.timeout: duration -1 must be a non-negative/],
    [{ type: 'docker', sock: '/x' }, /sources\.d\.sock: unknown field/],
  ];
  for (const [raw, re] of bad) test(`refuses ${JSON.stringify(raw)}`, () => assert.throws(() => parseDockerConfig(raw, 'sources.d'), re));
  test('query checks name the metric path', () => {
    const src = new DockerSource('d', parseDockerConfig({ type: 'docker' }, 'sources.d'));
    assert.throws(() => src.checkQuery({ name: 'cpu', query: 'cpu_usage' }, 'services.web.metrics.cpu'), /services\.web\.metrics\.cpu\.query: "cpu_usage" is not a container metric; use cpu, cpu_percent, memory, memory_percent/);
    assert.throws(() => src.checkQuery({ name: 'cpu', query: 'cpu', params: { labels: 5 } }, 'm'), /m\.params\.labels: must be a list/);
  });
});

describe('DockerSource against a fake Engine', () => {
  let docker: FakeDocker;
  let web1: ReturnType<typeof fakeContainer>;
  let web2: ReturnType<typeof fakeContainer>;
  before(async () => {
    web1 = fakeContainer({ name: 'shop-web-1', project: 'shop', service: 'web', number: 1 });
    web2 = fakeContainer({ name: 'shop-web-2', project: 'shop', service: 'web', number: 2, cgroup: 'v1' });
    const worker = fakeContainer({ name: 'shop-worker-1', project: 'shop', service: 'worker' });
    const other = fakeContainer({ name: 'blog-web-1', project: 'blog', service: 'web' });
    const stopped = fakeContainer({ name: 'shop-web-3', project: 'shop', service: 'web', number: 3, state: 'exited' });
    docker = await startFakeDocker({ containers: [web1, web2, worker, other, stopped] });
  });
  after(() => docker.stop());

  const source = (extra: Record<string, unknown> = {}) =>
    new DockerSource('docker', parseDockerConfig({ type: 'docker', socketPath: docker.socketPath, apiVersion: '1.43', timeout: '2s', ...extra }, 'sources.docker'));

  test('cpu per running container of a compose service, over the unix socket with the version prefix', async () => {
    // web1: 1 core busy on 4 CPUs; web2 (cgroup v1, no online_cpus): a quarter core
    web1.cpu = { total: 2e9, preTotal: 1e9, system: 204e9, preSystem: 200e9, onlineCpus: 4 };
    web2.cpu = { total: 1.25e9, preTotal: 1e9, system: 204e9, preSystem: 200e9, onlineCpus: 4 };
    docker.requests.length = 0;
    const s = await source().sample({ name: 'cpu', query: 'cpu', params: { project: 'shop', service: 'web' } }, new Date(1000));
    assert.deepEqual(s.map((x) => [x.labels.container, x.labels.service, x.labels.project, x.value, x.t]), [
      ['shop-web-1', 'web', 'shop', 1, 1000],
      ['shop-web-2', 'web', 'shop', 0.25, 1000],
    ]);
    assert.equal(s[0]!.labels.container_id, web1.id);
    const list = docker.requests.find((r) => r.includes('/containers/json'))!;
    assert.match(list, /^GET \/v1\.43\/containers\/json\?/);
    assert.deepEqual(JSON.parse(new URL(list.slice(4), 'http://x').searchParams.get('filters')!), { label: ['com.docker.compose.project=shop', 'com.docker.compose.service=web'] });
    assert.ok(docker.requests.some((r) => r.startsWith(`GET /v1.43/containers/${web1.id}/stats?stream=false`)), docker.requests.join('\n'));
  });

  test('cpu_percent, memory and memory_percent as docker stats shows them', async () => {
    web1.memory = { usage: 300e6, inactiveFile: 100e6, limit: 1000e6 };
    web2.memory = { usage: 300e6, inactiveFile: 50e6, limit: 500e6 };
    const src = source({ project: 'shop' });
    const q = (query: string) => src.sample({ name: query, query, params: { service: 'web' } }, new Date());
    assert.deepEqual((await q('cpu_percent')).map((x) => x.value), [100, 25]);
    assert.deepEqual((await q('memory')).map((x) => x.value), [200e6, 250e6]);
    assert.deepEqual((await q('memory_percent')).map((x) => x.value), [20, 50]);
  });

  test('the containers the compose provider passes are read directly, by id or name', async () => {
    docker.requests.length = 0;
    const s = await source().sample({ name: 'cpu', query: 'cpu', params: { containers: [web2.id, 'shop-web-1'] } }, new Date());
    assert.deepEqual(s.map((x) => x.labels.container), ['shop-web-2', 'shop-web-1']);
    assert.ok(!docker.requests.some((r) => r.includes('/containers/json')));
  });

  test('over TCP too', async () => {
    const tcp = await startFakeDocker({ tcp: true, containers: [fakeContainer({ name: 'a-web-1', project: 'a', service: 'web', cpu: { total: 3e9, preTotal: 1e9, system: 108e9, preSystem: 100e9, onlineCpus: 8 } })] });
    try {
      const src = new DockerSource('d', parseDockerConfig({ type: 'docker', host: `http://127.0.0.1:${tcp.port}` }, 's'));
      const s = await src.sample({ name: 'cpu', query: 'cpu', params: { project: 'a' } }, new Date());
      assert.equal(s[0]!.value, 2);
      assert.match(tcp.requests[0]!, /^GET \/containers\/json/); // no version pinned: unversioned paths
    } finally {
      await tcp.stop();
    }
  });

  test('failures are errors, never values', async () => {
    const src = source();
    const q = (query: string, params: Record<string, unknown>) => src.sample({ name: query, query, params }, new Date());
    await assert.rejects(q('cpu', { project: 'nope' }), (e: unknown) => e instanceof MetricError && e.retryable && /no running container has labels com\.docker\.compose\.project=nope/.test(e.message));
    await assert.rejects(q('cpu', { containers: ['deadbeef'] }), (e: unknown) => e instanceof MetricError && !e.retryable && /HTTP 404: No such container: deadbeef/.test(e.message));
    await assert.rejects(q('cpu', {}), (e: unknown) => e instanceof MetricError && !e.retryable && /set params\.project\/service/.test(e.message));
    // The Engine's first reading of a container has no precpu_stats: no CPU value yet.
    const fresh = fakeContainer({ name: 'fresh-web-1', project: 'fresh', service: 'web', cpu: { total: 5e8, preTotal: 0, system: 1e9, preSystem: 0, onlineCpus: 2, noPrecpu: true } });
    docker.containers.push(fresh);
    await assert.rejects(q('cpu', { project: 'fresh' }), (e: unknown) => e instanceof MetricError && e.retryable && /only one reading/.test(e.message));
    assert.equal((await q('memory', { project: 'fresh' }))[0]!.value, fresh.memory.usage - fresh.memory.inactiveFile);
    docker.fail = { path: /\/containers\/json/, status: 500, message: 'Cannot connect to the containerd daemon' };
    await assert.rejects(q('cpu', { project: 'shop' }), (e: unknown) => e instanceof MetricError && e.retryable && /HTTP 500: Cannot connect to the containerd daemon/.test(e.message));
    docker.fail = undefined;
    const tooNew = new DockerSource('d', parseDockerConfig({ type: 'docker', socketPath: docker.socketPath, apiVersion: '1.99' }, 's'));
    await assert.rejects(tooNew.sample({ name: 'cpu', query: 'cpu', params: { project: 'shop' } }, new Date()), /HTTP 400: client version 1\.99 is too new/);
  });

  test('no Engine, or a slow one, is a retryable error within the timeout', async () => {
    const gone = new DockerSource('d', parseDockerConfig({ type: 'docker', socketPath: '/nonexistent/docker.sock' }, 's'));
    await assert.rejects(gone.sample({ name: 'cpu', query: 'cpu', params: { project: 'shop' } }, new Date()), (e: unknown) => e instanceof MetricError && e.retryable && /no Docker socket there/.test(e.message));
    docker.delayMs = 3000;
    const started = Date.now();
    try {
      const slow = source({ timeout: '300ms' });
      await assert.rejects(slow.sample({ name: 'cpu', query: 'cpu', params: { project: 'shop' } }, new Date()), (e: unknown) => e instanceof MetricError && e.retryable && /timeout/.test(e.message));
      assert.ok(Date.now() - started < 2500, `gave up after ${Date.now() - started} ms`);
    } finally {
      docker.delayMs = 0;
    }
  });

  test('the fake serves stopped containers as the Engine does (zeros, empty memory_stats)', () => {
    const s = statsJson(fakeContainer({ name: 'x', state: 'exited' })) as DockerStats;
    assert.match(String(dockerMemoryUsage(s)), /no memory_stats/);
    assert.match(String(dockerCpuPercent(s)), /no cpu_stats|only one reading/);
  });
});
