// Prometheus source against a private Prometheus scraping a prom-client /metrics endpoint, plus HTTP failure paths.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { parsePromQueryRangeFile, parsePromValue, parsePrometheusConfig, PrometheusSource } from '../../src/metrics/prometheus.js';
import { MAX_ANSWER_BYTES } from '../../src/bounded-read.js';
import { MetricConfigError } from '../../src/metrics/config.js';
import { MetricError } from '../../src/metrics/types.js';
import { startPrometheus, waitForPromQuery, type RunningService } from '../helpers/services.js';

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}
const close = (s: Server) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); });

describe('parsing', () => {
  const values: Array<[unknown, number]> = [['1.5', 1.5], ['0', 0], ['-2e-3', -0.002], ['+Inf', Infinity], ['-Inf', -Infinity], ['NaN', NaN], ['', NaN], [3, NaN]];
  for (const [raw, want] of values) test(`value ${JSON.stringify(raw)}`, () => assert.ok(Object.is(parsePromValue(raw), want)));

  test('config', () => {
    const c = parsePrometheusConfig({ type: 'prometheus', url: 'http://prom:9090/prometheus/', timeout: '3s', headers: { 'X-Scope-OrgID': 'team-a' } }, 'sources.prom');
    assert.equal(c.url, 'http://prom:9090/prometheus');
    assert.equal(c.timeoutMs, 3000);
    assert.deepEqual(c.headers, { 'X-Scope-OrgID': 'team-a' });
    process.env.SCALEPILOT_TEST_PROM_TOKEN = 'from-env';
    assert.equal(parsePrometheusConfig({ type: 'prometheus', url: 'http://p:9090', bearerToken: 'env:SCALEPILOT_TEST_PROM_TOKEN' }, 's').bearerToken, 'from-env');
  });
  const bad: Array<[unknown, RegExp]> = [
    [{ type: 'prometheus' }, /sources\.prom\.url: is required; add e\.g\. url: http:\/\/127\.0\.0\.1:9090/],
    [{ type: 'prometheus', url: 'prom:9090' }, /sources\.prom\.url: "prom:9090" must use http or https/],
    [{ type: 'prometheus', url: 'not a url' }, /sources\.prom\.url: "not a url" is not a URL; write it like http:\/\/127\.0\.0\.1:9090/],
    [{ type: 'prometheus', url: 'http://p', timeout: 'fast' }, /sources\.prom\.timeout: "fast" is not a duration/],
    // a deadline past a timer's range fired at once: every read timed out
    [{ type: 'prometheus', url: 'http://p', timeout: '30d' }, /sources\.prom\.timeout: must be at most 10m, got 30d/],
    [{ type: 'prometheus', url: 'http://p', basicAuth: { username: 'u' } }, /sources\.prom\.basicAuth: needs both username and password/],
    [{ type: 'prometheus', url: 'http://p', bearerToken: 't', basicAuth: { username: 'u', password: 'p' } }, /set either bearerToken or basicAuth/],
    [{ type: 'prometheus', url: 'http://p', headers: ['a'] }, /sources\.prom\.headers: must be a mapping/],
    [{ type: 'prometheus', url: 'http://p', step: '15s' }, /sources\.prom\.step: unknown field; known fields here are type, url, timeout/],
  ];
  for (const [raw, re] of bad) test(`config refuses ${JSON.stringify(raw)}`, () => assert.throws(() => parsePrometheusConfig(raw, 'sources.prom'), (e: unknown) => e instanceof MetricConfigError && re.test((e as Error).message)));

  test('query params are checked', () => {
    const src = new PrometheusSource('p', parsePrometheusConfig({ type: 'prometheus', url: 'http://127.0.0.1:1' }, 's'));
    assert.throws(() => src.checkQuery({ name: 'rps', query: 'up', params: { nonFinite: 'zero' } }, 'services.web.metrics.rps'), /services\.web\.metrics\.rps\.params\.nonFinite: must be one of error, skip/);
    assert.throws(() => src.checkQuery({ name: 'rps', query: ' ' }, 'm'), /m\.query: is empty/);
    src.checkQuery({ name: 'rps', query: 'up', params: { allowEmpty: true, pids: [1], pods: ['a'] } }, 'm');
  });

  test('saved query_range files', () => {
    const file = { status: 'success', data: { resultType: 'matrix', result: [{ metric: { pod: 'a' }, values: [[1700000000, '1'], [1700000015.5, '+Inf'], [1700000030, '3']] }] } };
    const r = parsePromQueryRangeFile(JSON.stringify(file), 'trace.json');
    assert.deepEqual(r.series, [{ labels: { pod: 'a' }, points: [{ t: 1700000000000, value: 1, index: 0 }, { t: 1700000030000, value: 3, index: 2 }] }]);
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0]!.where, 'data.result[0].values[1]');
    assert.equal(r.problems[0]!.t, 1700000015500);
    assert.deepEqual(parsePromQueryRangeFile(file.data).series.length, 1);
    assert.throws(() => parsePromQueryRangeFile('{"status":"success","data":{"resultType":"vector","result":[]}}', 'x.json'), /x\.json: must hold a matrix result .* got resultType "vector"/);
    assert.throws(() => parsePromQueryRangeFile('{"status":"error","errorType":"bad_data","error":"boom"}', 'x.json'), /x\.json: holds a Prometheus error \(bad_data: boom\)/);
    assert.throws(() => parsePromQueryRangeFile('<html>', 'x.json'), /x\.json: is not JSON/);
    assert.throws(() => parsePromQueryRangeFile('{"data":{"resultType":"matrix","result":[{"values":[[1]]}]}}', 'x.json'), /x\.json: data\.result\[0\]\.values\[0\] is not a \[timestamp, "value"\] pair/);
  });
});

describe('PrometheusSource against Prometheus', () => {
  let prom: RunningService;
  let target: { server: Server; url: string };
  let ticker: NodeJS.Timeout;
  let src: PrometheusSource;
  const t0 = Date.now();

  before(async () => {
    const registry = new Registry();
    const elapsed = () => (Date.now() - t0) / 1000;
    new Counter({
      name: 'container_cpu_usage_seconds_total', help: 'cpu', labelNames: ['pod', 'container'], registers: [registry],
      collect() {
        // half a core in web-1, a quarter core in web-2
        this.reset();
        this.labels('web-1', 'web').inc(0.5 * elapsed());
        this.labels('web-2', 'web').inc(0.25 * elapsed());
      },
    });
    new Counter({ name: 'http_requests_total', help: 'requests', registers: [registry], collect() { this.reset(); this.inc(10 * elapsed()); } });
    new Gauge({ name: 'queue_depth', help: 'queue', registers: [registry] }).set(7);
    const latency = new Histogram({ name: 'http_request_duration_seconds', help: 'latency', buckets: [0.05, 0.1, 0.25, 0.5, 1], registers: [registry] });
    new Histogram({ name: 'idle_request_duration_seconds', help: 'no traffic', buckets: [0.1, 1], registers: [registry] });
    // 90% of requests take 80 ms, 10% take 400 ms: p95 interpolates inside (0.25, 0.5] to 0.375.
    ticker = setInterval(() => {
      for (let i = 0; i < 9; i++) latency.observe(0.08);
      latency.observe(0.4);
    }, 50);
    target = await listen(async (req, res) => {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(await registry.metrics());
    });
    prom = await startPrometheus({ scrapeTargets: [target.url.replace('http://', '')], scrapeInterval: '1s' });
    src = new PrometheusSource('prom', parsePrometheusConfig({ type: 'prometheus', url: prom.url, timeout: '5s' }, 'sources.prom'));
    // rate() over 5s, evaluated as far back as 4 s ago, needs about 10 s of scrapes
    await waitForPromQuery(prom.url, 'count_over_time(http_requests_total[1m])', (r) => r.length > 0 && Number((r[0] as { value: [number, string] }).value[1]) >= 11, 30_000);
  });
  after(async () => {
    clearInterval(ticker);
    await prom?.stop();
    if (target) await close(target.server);
  });
  const read = (query: string, params?: Record<string, unknown>) => src.sample({ name: 'm', query, params }, new Date());

  test('instant vector: rate of a counter, per series and summed (the runbook query)', async () => {
    const perPod = await read('rate(container_cpu_usage_seconds_total[5s])');
    const byPod = new Map(perPod.map((s) => [s.labels.pod, s.value]));
    assert.ok(Math.abs(byPod.get('web-1')! - 0.5) < 0.05, `web-1 ${byPod.get('web-1')}`);
    assert.ok(Math.abs(byPod.get('web-2')! - 0.25) < 0.03, `web-2 ${byPod.get('web-2')}`);
    assert.equal(perPod[0]!.labels.job, 'targets');
    const sum = await read('sum(rate(container_cpu_usage_seconds_total[5s]))');
    assert.equal(sum.length, 1);
    assert.deepEqual(sum[0]!.labels, {});
    assert.ok(Math.abs(sum[0]!.value - 0.75) < 0.08, `${sum[0]!.value}`);
    // The runbooks' 5m window: Prometheus has only seconds of data, so the rate is diluted but real and positive.
    const runbook = await read('sum(rate(container_cpu_usage_seconds_total[5m]))');
    assert.ok(runbook[0]!.value > 0 && runbook[0]!.value <= 0.8, `${runbook[0]!.value}`);
    assert.ok(Math.abs(runbook[0]!.t - Date.now()) < 5000, 'sample time is the evaluation time');
  });

  test('histogram_quantile as the runbooks write it', async () => {
    for (const window of ['5s', '5m']) {
      const p95 = await read(`histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[${window}])) by (le))`);
      assert.equal(p95.length, 1);
      assert.ok(Math.abs(p95[0]!.value - 0.375) < 0.01, `p95 over ${window}: ${p95[0]!.value}`);
    }
  });

  test('range query: one sample per step', async () => {
    const end = new Date();
    const start = new Date(end.getTime() - 4000);
    const s = await src.sample({ name: 'queue', query: 'queue_depth', range: { start, end, stepSeconds: 1 } }, end);
    assert.equal(s.length, 5);
    assert.deepEqual(s.map((x) => x.value), [7, 7, 7, 7, 7]);
    for (let i = 1; i < s.length; i++) assert.equal(s[i]!.t - s[i - 1]!.t, 1000);
    assert.equal(s[0]!.t, start.getTime());
    const rates = await src.sample({ name: 'rps', query: 'rate(http_requests_total[5s])', range: { start, end, stepSeconds: 2 } }, end);
    assert.ok(rates.length === 3 && rates.every((r) => Math.abs(r.value - 10) < 1), JSON.stringify(rates.map((r) => r.value)));
    await assert.rejects(src.sample({ name: 'x', query: 'up', range: { start: new Date(0), end, stepSeconds: 1 } }, end), /Prometheus allows 11000: use a larger step/);
  });

  test('a saved query_range answer parses to the same points', async () => {
    const end = Math.floor(Date.now() / 1000);
    const body = await (await fetch(`${prom.url}/api/v1/query_range?query=queue_depth&start=${end - 4}&end=${end}&step=1`)).text();
    const file = parsePromQueryRangeFile(body, 'saved.json');
    const live = await src.sample({ name: 'q', query: 'queue_depth', range: { start: new Date((end - 4) * 1000), end: new Date(end * 1000), stepSeconds: 1 } }, new Date());
    assert.deepEqual(file.series[0]!.points.map((p) => [p.t, p.value]), live.map((s) => [s.t, s.value]));
  });

  test('scalars, strings, empty results, NaN and +Inf', async () => {
    assert.deepEqual((await read('2 * 21')).map((s) => [s.labels, s.value]), [[{}, 42]]);
    await assert.rejects(read('"hello"'), (e: unknown) => e instanceof MetricError && !e.retryable && /returns a string/.test(e.message));
    await assert.rejects(read('no_such_metric_total'), (e: unknown) => e instanceof MetricError && e.retryable && /returned no series/.test(e.message));
    assert.deepEqual(await read('no_such_metric_total', { allowEmpty: true }), []);
    const idle = 'histogram_quantile(0.95, sum(rate(idle_request_duration_seconds_bucket[5s])) by (le))';
    await assert.rejects(read(idle), (e: unknown) => e instanceof MetricError && e.retryable && /value\(s\) are not finite.*= NaN.*0\/0/.test(e.message));
    await assert.rejects(read('queue_depth / 0'), /= Infinity \(a division by zero/);
    await assert.rejects(read(idle, { nonFinite: 'skip' }), /returned no series/);
    assert.deepEqual(await read(idle, { nonFinite: 'skip', allowEmpty: true }), []);
  });

  test('bad PromQL: not retryable, with Prometheus\' own error text', async () => {
    const query = 'sum(rate(http_requests_total[5m])';
    const raw = (await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as { error: string };
    await assert.rejects(read(query), (e: unknown) => e instanceof MetricError && !e.retryable && e.message.includes(raw.error) && /bad_data \(HTTP 400\)/.test(e.message));
  });

  test('Prometheus stopped: retryable', async () => {
    const other = await startPrometheus({ scrapeTargets: [] });
    const s = new PrometheusSource('p2', parsePrometheusConfig({ type: 'prometheus', url: other.url, timeout: '2s' }, 's'));
    assert.equal((await s.sample({ name: 'm', query: 'vector(1)' }, new Date()))[0]!.value, 1);
    await other.stop();
    await assert.rejects(s.sample({ name: 'm', query: 'vector(1)' }, new Date()), (e: unknown) => e instanceof MetricError && e.retryable && /connection refused/.test(e.message));
  });
});

describe('HTTP behaviour (auth, timeouts, non-Prometheus answers)', () => {
  test('bearer token, headers and basic auth are sent; the query goes as a form with the evaluation time', async () => {
    const seen: Array<{ auth?: string; org?: string; body: string; path?: string }> = [];
    const { server, url } = await listen((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ auth: req.headers.authorization, org: req.headers['x-scope-orgid'] as string | undefined, body, path: req.url });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"success","data":{"resultType":"scalar","result":[1700000000,"3"]}}');
      });
    });
    try {
      const bearer = new PrometheusSource('p', parsePrometheusConfig({ type: 'prometheus', url: `${url}/prefix`, bearerToken: 'tok', headers: { 'X-Scope-OrgID': 'team-a' } }, 's'));
      assert.deepEqual(await bearer.sample({ name: 'm', query: 'up == 1' }, new Date(1700000000500)), [{ labels: {}, t: 1700000000000, value: 3 }]);
      const basic = new PrometheusSource('p', parsePrometheusConfig({ type: 'prometheus', url, basicAuth: { username: 'ops', password: 'pw' } }, 's'));
      await basic.sample({ name: 'm', query: 'up' }, new Date());
      assert.equal(seen[0]!.auth, 'Bearer tok');
      assert.equal(seen[0]!.org, 'team-a');
      assert.equal(seen[0]!.path, '/prefix/api/v1/query');
      const form = new URLSearchParams(seen[0]!.body);
      assert.equal(form.get('query'), 'up == 1');
      assert.equal(form.get('time'), '1700000000.5');
      assert.equal(seen[1]!.auth, `Basic ${Buffer.from('ops:pw').toString('base64')}`);
    } finally {
      await close(server);
    }
  });

  test('HTTP errors: 401/404 not retryable, 502/503 retryable, HTML is not an answer', async () => {
    let status = 401;
    let body = 'Unauthorized';
    const { server, url } = await listen((_req, res) => {
      res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/html' });
      res.end(body);
    });
    const src = new PrometheusSource('p', parsePrometheusConfig({ type: 'prometheus', url }, 's'));
    const q = () => src.sample({ name: 'm', query: 'up' }, new Date());
    try {
      await assert.rejects(q(), (e: unknown) => e instanceof MetricError && !e.retryable && /HTTP 401 \(check bearerToken\/basicAuth\)/.test(e.message));
      status = 404;
      body = '404 page not found';
      await assert.rejects(q(), (e: unknown) => e instanceof MetricError && !e.retryable && /HTTP 404 \(is .* the Prometheus base URL/.test(e.message));
      status = 502;
      body = '<html>Bad Gateway</html>';
      await assert.rejects(q(), (e: unknown) => e instanceof MetricError && e.retryable && /HTTP 502/.test(e.message));
      status = 503;
      body = '{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}';
      await assert.rejects(q(), (e: unknown) => e instanceof MetricError && e.retryable && /Prometheus timeout \(HTTP 503\): query timed out/.test(e.message));
      status = 422;
      body = '{"status":"error","errorType":"execution","error":"found duplicate series for the match group"}';
      await assert.rejects(q(), (e: unknown) => e instanceof MetricError && !e.retryable && /execution \(HTTP 422\): found duplicate series/.test(e.message));
      status = 200;
      body = '<html>Grafana</html>';
      await assert.rejects(q(), (e: unknown) => e instanceof MetricError && !e.retryable && /not a Prometheus API answer/.test(e.message));
    } finally {
      await close(server);
    }
  });

  test('an answer past MAX_ANSWER_BYTES is refused while it downloads, with the fix, declared or streamed', async () => {
    // a query that is not aggregated can return hundreds of MB; it was read whole into memory
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let declare = true;
    let sent = 0;
    const { server, url } = await listen((_req, res) => {
      sent = 0;
      const total = MAX_ANSWER_BYTES + 2 * chunk.length;
      res.writeHead(200, { 'content-type': 'application/json', ...(declare ? { 'content-length': String(total) } : {}) });
      const more = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => {});
      more();
    });
    const src = new PrometheusSource('p', parsePrometheusConfig({ type: 'prometheus', url, timeout: '20s' }, 's'));
    try {
      for (const d of [true, false]) {
        declare = d;
        await assert.rejects(src.sample({ name: 'm', query: 'container_cpu_usage_seconds_total' }, new Date()), (e: unknown) =>
          e instanceof MetricError && !e.retryable && /the answer is larger than 64 MiB; aggregate the query/.test(e.message));
      }
    } finally {
      await close(server);
    }
  });

  test('a server that never answers: retryable timeout, bounded', async () => {
    const { server, url } = await listen(() => { /* never answers */ });
    const src = new PrometheusSource('p', parsePrometheusConfig({ type: 'prometheus', url, timeout: '300ms' }, 's'));
    const started = Date.now();
    try {
      await assert.rejects(src.sample({ name: 'm', query: 'up' }, new Date()), (e: unknown) => e instanceof MetricError && e.retryable && /no answer within 300 ms \(timeout\)/.test(e.message));
      assert.ok(Date.now() - started < 2000);
    } finally {
      await close(server);
    }
  });
});
