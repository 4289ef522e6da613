// Kubernetes metrics source: quantity table, config parsing, and reads against a fake metrics.k8s.io API server.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubernetesMetricsSource, parseKubernetesMetricsConfig, quantityToNumber } from '../../src/metrics/kubernetes.js';
import { MAX_ANSWER_BYTES } from '../../src/bounded-read.js';
import { MetricError } from '../../src/metrics/types.js';
import { tempDir } from '../helpers/env.js';
import { fakePodMetrics, parseLabelSelector, startFakeKubeMetrics, type FakeKubeMetrics } from '../helpers/fake-kube-metrics.js';

describe('quantityToNumber', () => {
  const cases: Array<[string, number]> = [
    ['250m', 0.25], ['1', 1], ['1.5', 1.5], ['123456789n', 0.123456789], ['1500u', 0.0015], ['2', 2],
    ['51200Ki', 51200 * 1024], ['128Mi', 128 * 2 ** 20], ['1.5Gi', 1.5 * 2 ** 30], ['1G', 1e9], ['500M', 5e8], ['2k', 2000],
    ['1e3', 1000], ['5E-3', 0.005], ['.5', 0.5], ['0', 0],
  ];
  for (const [q, want] of cases) test(q, () => assert.ok(Math.abs(quantityToNumber(q) - want) <= Math.abs(want) * 1e-12, `${quantityToNumber(q)}`));
  for (const bad of ['', 'abc', '1Kb', '1 Mi', '--1', 'm']) test(`malformed ${JSON.stringify(bad)}`, () => assert.ok(Number.isNaN(quantityToNumber(bad))));
});

describe('parseKubernetesMetricsConfig', () => {
  test('server with token', () => {
    const c = parseKubernetesMetricsConfig({ type: 'kubernetes', server: 'https://10.0.0.1:6443/', token: 'abc', namespace: 'shop', timeout: '3s' }, 'sources.k');
    assert.equal(c.server, 'https://10.0.0.1:6443');
    assert.equal(c.timeoutMs, 3000);
  });
  test('relative files resolve against the config directory', () => {
    const c = parseKubernetesMetricsConfig({ type: 'kubernetes', kubeconfig: 'kube/config' }, 'sources.k', { baseDir: '/etc/scalepilot' });
    assert.equal(c.kubeconfig, '/etc/scalepilot/kube/config');
  });
  const bad: Array<[unknown, RegExp]> = [
    [{ type: 'kubernetes', server: 'https://x:6443', kubeconfig: '/k' }, /sources\.k: set either server .* or kubeconfig\/context, not both/],
    [{ type: 'kubernetes', token: 'abc' }, /sources\.k: token, tokenFile, caFile and insecureSkipTLSVerify go with server/],
    [{ type: 'kubernetes', server: 'localhost:6443' }, /sources\.k\.server: "localhost:6443" must use http or https|is not a URL/],
    [{ type: 'kubernetes', server: 'https://x:6443', token: 'env:SCALEPILOT_TEST_NO_SUCH_VAR' }, /sources\.k\.token: environment variable SCALEPILOT_TEST_NO_SUCH_VAR is not set/],
    [{ type: 'kubernetes', namespaces: ['a'] }, /sources\.k\.namespaces: unknown field/],
  ];
  for (const [raw, re] of bad) test(`refuses ${JSON.stringify(raw)}`, () => assert.throws(() => parseKubernetesMetricsConfig(raw, 'sources.k'), re));
  test('a kubeconfig without the named context fails at construction', () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'config');
      writeFileSync(file, 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:1\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: dev\n  context:\n    cluster: c\n    user: u\ncurrent-context: dev\n');
      const c = parseKubernetesMetricsConfig({ type: 'kubernetes', kubeconfig: file, context: 'prod' }, 'sources.k');
      assert.throws(() => new KubernetesMetricsSource('k', c, 'sources.k'), /sources\.k\.context: no context prod in the kubeconfig; known: dev/);
    } finally {
      dir.cleanup();
    }
  });
});

describe('the fake API server\'s label selectors', () => {
  const labels = { app: 'web', tier: 'frontend' };
  const cases: Array<[string, boolean | 'error']> = [
    ['', true], ['app=web', true], ['app==web', true], ['app!=web', false], ['app=web,tier=backend', false],
    ['tier in (frontend,backend)', true], ['tier notin (frontend)', false], ['app', true], ['!app', false], ['!track', true],
    ['=web', 'error'], ['app=web=x', 'error'],
  ];
  for (const [sel, want] of cases) {
    test(JSON.stringify(sel), () => {
      const r = parseLabelSelector(sel);
      if (want === 'error') assert.equal(typeof r, 'string');
      else assert.equal(typeof r !== 'string' && r.every((f) => f(labels)), want);
    });
  }
});

describe('KubernetesMetricsSource against a fake metrics API', () => {
  let kube: FakeKubeMetrics;
  before(async () => {
    kube = await startFakeKubeMetrics({
      token: 'sekret',
      pods: [
        fakePodMetrics({ name: 'web-7d4b9c-aaaaa', namespace: 'shop', labels: { app: 'web', 'pod-template-hash': '7d4b9c' }, containers: [
          { name: 'web', cpu: '250000000n', memory: '102400Ki' },
          { name: 'istio-proxy', cpu: '12000000n', memory: '40Mi' },
        ] }),
        fakePodMetrics({ name: 'web-7d4b9c-bbbbb', namespace: 'shop', labels: { app: 'web', 'pod-template-hash': '7d4b9c' }, containers: [
          { name: 'web', cpu: '750m', memory: '200Mi' },
          { name: 'istio-proxy', cpu: '8000000n', memory: '40Mi' },
        ] }),
        fakePodMetrics({ name: 'worker-1', namespace: 'shop', labels: { app: 'worker' }, cpu: '1', memory: '1Gi' }),
        fakePodMetrics({ name: 'web-other', namespace: 'blog', labels: { app: 'web' }, cpu: '5', memory: '1Gi' }),
      ],
    });
  });
  after(() => kube.stop());

  const source = (extra: Record<string, unknown> = {}) =>
    new KubernetesMetricsSource('k8s', parseKubernetesMetricsConfig({ type: 'kubernetes', server: kube.url, token: 'sekret', namespace: 'shop', timeout: '2s', ...extra }, 'sources.k8s'));

  test('cpu in cores and memory in bytes per pod, summed over containers, by label selector', async () => {
    kube.requests.length = 0;
    const cpu = await source().sample({ name: 'cpu', query: 'cpu', params: { labelSelector: 'app=web' } }, new Date());
    assert.deepEqual(cpu.map((s) => [s.labels.namespace, s.labels.pod, Math.round(s.value * 1e9)]), [
      ['shop', 'web-7d4b9c-aaaaa', 262_000_000],
      ['shop', 'web-7d4b9c-bbbbb', 758_000_000],
    ]);
    assert.equal(kube.requests[0]!.url, '/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods?labelSelector=app%3Dweb');
    assert.equal(kube.requests[0]!.authorization, 'Bearer sekret');
    assert.ok(Math.abs(cpu[0]!.t - (Date.now() - 1000)) < 5000, 'sample time is the metrics timestamp');
    const mem = await source().sample({ name: 'memory', query: 'memory', params: { labelSelector: { app: 'web' }, container: 'web' } }, new Date());
    assert.deepEqual(mem.map((s) => s.value), [102400 * 1024, 200 * 2 ** 20]);
  });

  test('the replicas the controller passes narrow the answer; another namespace by param', async () => {
    const one = await source().sample({ name: 'cpu', query: 'cpu', params: { labelSelector: 'app=web', pods: ['web-7d4b9c-bbbbb'] } }, new Date());
    assert.deepEqual(one.map((s) => s.labels.pod), ['web-7d4b9c-bbbbb']);
    const blog = await source().sample({ name: 'cpu', query: 'cpu', params: { namespace: 'blog' } }, new Date());
    assert.deepEqual(blog.map((s) => [s.labels.pod, s.value]), [['web-other', 5]]);
  });

  test('over HTTPS: a kubeconfig with the cluster CA (context namespace, token user); skip-verify; untrusted cert', async () => {
    const tls = await startFakeKubeMetrics({ tls: true, token: 'sekret', pods: [fakePodMetrics({ name: 'worker-1', namespace: 'shop', labels: { app: 'worker' }, cpu: '1', memory: '1Gi' })] });
    const dir = tempDir();
    try {
      const file = join(dir.path, 'config');
      const ca = readFileSync(tls.caFile!).toString('base64');
      writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: ${tls.url}\n    certificate-authority-data: ${ca}\nusers:\n- name: bot\n  user:\n    token: sekret\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: bot\n    namespace: shop\ncurrent-context: fake\n`);
      const src = new KubernetesMetricsSource('k', parseKubernetesMetricsConfig({ type: 'kubernetes', kubeconfig: file }, 's'));
      const s = await src.sample({ name: 'cpu', query: 'cpu', params: { labelSelector: 'app=worker' } }, new Date());
      assert.deepEqual(s.map((x) => [x.labels.pod, x.value]), [['worker-1', 1]]);
      const withCaFile = new KubernetesMetricsSource('k', parseKubernetesMetricsConfig({ type: 'kubernetes', server: tls.url, caFile: tls.caFile, token: 'sekret', namespace: 'shop' }, 's'));
      assert.equal((await withCaFile.sample({ name: 'memory', query: 'memory' }, new Date()))[0]!.value, 2 ** 30);
      const skip = new KubernetesMetricsSource('k', parseKubernetesMetricsConfig({ type: 'kubernetes', server: tls.url, insecureSkipTLSVerify: true, token: 'sekret', namespace: 'shop' }, 's'));
      assert.equal((await skip.sample({ name: 'cpu', query: 'cpu' }, new Date())).length, 1);
      const untrusted = new KubernetesMetricsSource('k', parseKubernetesMetricsConfig({ type: 'kubernetes', server: tls.url, token: 'sekret', namespace: 'shop' }, 's'));
      await assert.rejects(untrusted.sample({ name: 'cpu', query: 'cpu' }, new Date()), (e: unknown) => e instanceof MetricError && !e.retryable && /set caFile/.test(e.message));
    } finally {
      dir.cleanup();
      await tls.stop();
    }
  });

  test('tokenFile is read per request (rotating service-account tokens)', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'token');
      writeFileSync(file, 'old\n');
      const src = new KubernetesMetricsSource('k', parseKubernetesMetricsConfig({ type: 'kubernetes', server: kube.url, tokenFile: file, namespace: 'shop' }, 's'));
      await assert.rejects(src.sample({ name: 'cpu', query: 'cpu' }, new Date()), /HTTP 401/);
      writeFileSync(file, 'sekret\n');
      assert.equal((await src.sample({ name: 'cpu', query: 'cpu' }, new Date())).length, 3);
      // a token path that never ends is refused at its bound, not read until memory runs out
      rmSync(file);
      symlinkSync('/dev/zero', file);
      await assert.rejects(src.sample({ name: 'cpu', query: 'cpu' }, new Date()), (e: unknown) => e instanceof MetricError && !e.retryable && /cannot prepare credentials: .*token: more than 1 MB; refused without reading further/.test((e as Error).message));
    } finally {
      dir.cleanup();
    }
  });

  test('401, 404, 500, 503, bad selector, no pods: errors with the API\'s message, never values', async () => {
    const q = (src: KubernetesMetricsSource, params: Record<string, unknown> = {}) => src.sample({ name: 'cpu', query: 'cpu', params }, new Date());
    await assert.rejects(q(source({ token: 'wrong' })), (e: unknown) => e instanceof MetricError && !e.retryable && /HTTP 401 Unauthorized: Unauthorized \(the credentials were refused/.test(e.message));
    await assert.rejects(q(source(), { labelSelector: 'app=nothing' }), (e: unknown) => e instanceof MetricError && e.retryable && /no pod metrics in namespace shop for app=nothing/.test(e.message));
    await assert.rejects(q(source(), { labelSelector: '=web' }), (e: unknown) => e instanceof MetricError && !e.retryable && /HTTP 400 BadRequest: unable to parse requirement/.test(e.message));
    await assert.rejects(q(source(), { labelSelector: 'app=web', container: 'sidecar' }), /no container sidecar/);
    kube.apiAvailable = false;
    await assert.rejects(q(source()), (e: unknown) => e instanceof MetricError && !e.retryable && /HTTP 404 NotFound: the server could not find the requested resource \(is metrics-server installed/.test(e.message));
    kube.apiAvailable = true;
    kube.fail = { code: 500, reason: 'InternalError', message: 'Internal error occurred: unable to fetch pod metrics' };
    await assert.rejects(q(source()), (e: unknown) => e instanceof MetricError && e.retryable && /HTTP 500 InternalError: Internal error occurred: unable to fetch pod metrics/.test(e.message));
    kube.fail = { code: 503, reason: 'ServiceUnavailable', message: 'the server is currently unable to handle the request (get pods.metrics.k8s.io)' };
    await assert.rejects(q(source()), (e: unknown) => e instanceof MetricError && e.retryable && /503 ServiceUnavailable/.test(e.message));
    kube.fail = undefined;
    kube.pods.push(fakePodMetrics({ name: 'broken', namespace: 'shop', labels: { app: 'broken' }, cpu: 'lots' }));
    await assert.rejects(q(source(), { labelSelector: 'app=broken' }), /broken\/app: cpu usage "lots" is not a quantity/);
  });

  test('no API server, or a slow one: retryable, bounded by the timeout', async () => {
    const refused = new KubernetesMetricsSource('k', parseKubernetesMetricsConfig({ type: 'kubernetes', server: 'http://127.0.0.1:1' }, 's'));
    await assert.rejects(refused.sample({ name: 'cpu', query: 'cpu' }, new Date()), (e: unknown) => e instanceof MetricError && e.retryable && /connection refused/.test(e.message));
    kube.delayMs = 3000;
    const started = Date.now();
    try {
      await assert.rejects(source({ timeout: '300ms' }).sample({ name: 'cpu', query: 'cpu' }, new Date()), (e: unknown) => e instanceof MetricError && e.retryable && /timeout/.test(e.message));
      assert.ok(Date.now() - started < 2500);
    } finally {
      kube.delayMs = 0;
    }
  });

  test('an answer past MAX_ANSWER_BYTES is refused while it downloads, naming the fix', async () => {
    // the whole body was held in memory, however large
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let sent = 0;
      const more = () => {
        while (sent <= MAX_ANSWER_BYTES + chunk.length) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => {});
      more();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      const big = new KubernetesMetricsSource('k', parseKubernetesMetricsConfig({ type: 'kubernetes', server: `http://127.0.0.1:${port}`, timeout: '20s' }, 's'));
      await assert.rejects(big.sample({ name: 'cpu', query: 'cpu', params: { labelSelector: 'app=web' } }, new Date()), (e: unknown) =>
        e instanceof MetricError && !e.retryable && /the answer is larger than 64 MiB; narrow the query/.test(e.message));
    } finally {
      await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
    }
  });

  test('query checks', () => {
    const src = source();
    assert.throws(() => src.checkQuery({ name: 'cpu', query: 'cpu_usage' }, 'services.web.metrics.cpu'), /services\.web\.metrics\.cpu\.query: "cpu_usage" is not a pod resource metric; use cpu \(cores\) or memory \(bytes\)/);
    assert.throws(() => src.checkQuery({ name: 'cpu', query: 'cpu', params: { labelSelector: 3 } }, 'm'), /m\.params\.labelSelector: must be a selector string/);
    assert.throws(() => src.checkQuery({ name: 'cpu', query: 'cpu', params: { selector: 'a=b' } }, 'm'), /m\.params\.selector: unknown field/);
  });
});
