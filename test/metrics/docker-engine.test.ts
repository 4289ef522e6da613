// The docker stats source on a real Docker Engine (a private dockerd): real container CPU and memory of Compose
// containers, read as `docker stats` shows them, by Compose labels and by container id or name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DockerSource, parseDockerConfig } from '../../src/metrics/docker.js';
import { MetricError } from '../../src/metrics/types.js';
import { startDockerd, type PrivateDockerd } from '../helpers/docker.js';

describe('DockerSource on a real Engine', () => {
  let engine: PrivateDockerd;
  let src: DockerSource;
  const q = (query: string, params: Record<string, unknown>) => src.sample({ name: query, query, params }, new Date(5000));

  before(async () => {
    engine = await startDockerd();
    const image = engine.importBusyboxImage('scalepilot-test/busybox:local');
    // Compose's labels by hand (what docker-compose puts on its containers): one replica spinning on half a CPU with
    // 64 MiB of memory, one idle replica, and a container of another project.
    const run = (name: string, labels: Record<string, string>, args: string[], cmd: string[]) =>
      engine.docker(['run', '-d', '--name', name, '--network', 'none', ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), ...args, image, ...cmd]);
    const compose = (project: string, service: string, n: number) => ({
      'com.docker.compose.project': project, 'com.docker.compose.service': service, 'com.docker.compose.container-number': String(n), 'com.docker.compose.oneoff': 'False',
    });
    run('shop_web_1', compose('shop', 'web', 1), ['--cpus', '0.5', '--memory', '64m'], ['sh', '-c', 'while :; do :; done']);
    run('shop_web_2', compose('shop', 'web', 2), ['--memory', '64m'], ['sleep', '3600']);
    run('blog_web_1', compose('blog', 'web', 1), [], ['sleep', '3600']);
    src = new DockerSource('docker', parseDockerConfig({ type: 'docker', socketPath: engine.socketPath, timeout: '10s' }, 'sources.docker'));
    // Let the busy one run long enough that its CPU reading is steady.
    await new Promise((r) => setTimeout(r, 2000));
  });
  after(async () => {
    await engine?.stop();
  });

  test('cpu in cores per container of a Compose service: the busy replica near its 0.5 CPU limit, the idle one near 0', async () => {
    const s = await q('cpu', { project: 'shop', service: 'web' });
    const by = Object.fromEntries(s.map((x) => [x.labels.container, x]));
    assert.deepEqual(Object.keys(by).sort(), ['shop_web_1', 'shop_web_2']);
    // The limit caps it at 0.5; a loaded machine may give it less, never much more.
    assert.ok(by.shop_web_1!.value > 0.15 && by.shop_web_1!.value < 0.6, `busy replica: ${by.shop_web_1!.value} cores`);
    assert.ok(by.shop_web_2!.value < 0.05, `idle replica: ${by.shop_web_2!.value} cores`);
    assert.equal(by.shop_web_1!.labels.project, 'shop');
    assert.equal(by.shop_web_1!.labels.service, 'web');
    assert.match(by.shop_web_1!.labels.container_id!, /^[0-9a-f]{64}$/);
    assert.equal(by.shop_web_1!.t, 5000);
    const pct = await q('cpu_percent', { project: 'shop', service: 'web' });
    const busyPct = pct.find((x) => x.labels.container === 'shop_web_1')!.value;
    assert.ok(busyPct > 15 && busyPct < 60, `cpu_percent ${busyPct}`);
  });

  test('memory in bytes and percent of the 64 MiB limit', async () => {
    const mem = await q('memory', { project: 'shop' });
    for (const m of mem) assert.ok(m.value > 0 && m.value < 64 * 1024 * 1024, `${m.labels.container}: ${m.value} bytes`);
    const pct = await q('memory_percent', { project: 'shop' });
    for (const p of pct) assert.ok(p.value > 0 && p.value < 100, `${p.labels.container}: ${p.value}%`);
    // The Engine's own numbers: memory_percent is memory over the limit it reports.
    const m1 = mem.find((x) => x.labels.container === 'shop_web_2')!.value;
    const p1 = pct.find((x) => x.labels.container === 'shop_web_2')!.value;
    assert.ok(Math.abs(p1 - (m1 / (64 * 1024 * 1024)) * 100) < 5, `${p1}% vs ${m1} bytes of 64 MiB`);
  });

  test('containers named directly (ids or names), and other projects left out', async () => {
    const id = engine.docker(['inspect', '-f', '{{.Id}}', 'shop_web_2']).trim();
    const s = await q('memory', { containers: [id, 'blog_web_1'] });
    assert.deepEqual(s.map((x) => x.labels.container), ['shop_web_2', 'blog_web_1']);
    const blog = await q('memory', { project: 'blog' });
    assert.deepEqual(blog.map((x) => x.labels.container), ['blog_web_1']);
  });

  test('a stopped or missing container is an error, never a value', async () => {
    engine.docker(['stop', '-t', '0', 'blog_web_1']);
    await assert.rejects(q('cpu', { project: 'blog' }), (e: unknown) => e instanceof MetricError && e.retryable && /no running container has labels com\.docker\.compose\.project=blog/.test(e.message));
    await assert.rejects(q('cpu', { containers: ['nosuch'] }), (e: unknown) => e instanceof MetricError && !e.retryable && /HTTP 404: .*No such container: nosuch/i.test(e.message));
    await assert.rejects(q('memory', { containers: ['blog_web_1'] }), (e: unknown) => e instanceof MetricError && /no memory_stats|no value/.test(e.message));
  });

  test('with no endpoint configured, DOCKER_HOST names the Engine', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = engine.env.DOCKER_HOST;
    try {
      const cfg = parseDockerConfig({ type: 'docker' }, 's');
      assert.equal(cfg.socketPath, engine.socketPath);
      const s = await new DockerSource('d', cfg).sample({ name: 'm', query: 'memory', params: { project: 'shop', service: 'web' } }, new Date());
      assert.equal(s.length, 2);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});
