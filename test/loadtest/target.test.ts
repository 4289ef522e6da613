// Targets (loopback unless allowed), endpoints, weighted choice, and the YAML config → runnable plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/cli/output.js';
import { WeightedPicker, isLoopbackHost, parseHeaderFlags, parseTarget, resolveEndpoints } from '../../src/loadtest/target.js';
import { parseLoadTestFile, planLoadTest, readLoadTestFile } from '../../src/loadtest/config.js';
import { runLoadTest } from '../../src/loadtest/engine.js';
import { constantProfile } from '../../src/loadtest/profile.js';
import { tempDir } from '../helpers/env.js';

const isInput = (re: RegExp) => (e: unknown) => e instanceof InputError && re.test(e.message);

test('loopback detection', () => {
  const cases: Array<[string, boolean]> = [
    ['127.0.0.1', true], ['127.1.2.3', true], ['localhost', true], ['api.localhost', true], ['[::1]', true], ['::1', true],
    ['::ffff:127.0.0.1', true], ['10.0.0.1', false], ['0.0.0.0', false], ['example.com', false], ['128.0.0.1', false],
    ['localhost.example.com', false], ['[::2]', false], ['192.168.1.1', false],
  ];
  for (const [h, want] of cases) assert.equal(isLoopbackHost(h), want, h);
});

test('non-loopback targets are refused unless --allow-remote; the message says how', () => {
  assert.throws(() => parseTarget('http://10.1.2.3:8080/', false), isInput(/not on this machine.*--allow-remote/));
  assert.throws(() => parseTarget('https://example.com/', false), isInput(/example\.com/));
  assert.equal(parseTarget('http://10.1.2.3:8080/x', true).host, '10.1.2.3:8080');
  assert.equal(parseTarget('http://127.0.0.1:9/', false).port, '9');
  assert.throws(() => parseTarget('not a url', false), isInput(/not a URL/));
  assert.throws(() => parseTarget('ftp://127.0.0.1/', false), isInput(/only http and https/));
});

test('the engine refuses a remote target before sending anything', async () => {
  await assert.rejects(
    runLoadTest({ url: 'http://192.0.2.10:80/', model: 'closed', profile: constantProfile(1, 1000) }),
    isInput(/--allow-remote/),
  );
});

test('endpoints resolve against the target origin with defaults and checks', () => {
  const t = parseTarget('http://127.0.0.1:8080/api/v1/items?x=1', false);
  const [only] = resolveEndpoints(t, []);
  assert.deepEqual(only, { name: 'GET /api/v1/items?x=1', method: 'GET', path: '/api/v1/items?x=1', headers: {}, weight: 1 });
  const eps = resolveEndpoints(t, [
    { path: 'users', weight: 3 },
    { name: 'login', method: 'post', path: '/login', body: '{"u":"a"}', headers: { 'X-Token': 'abc' } },
    { path: 'http://127.0.0.1:8080/health' },
  ]);
  assert.deepEqual(eps.map((e) => [e.name, e.method, e.path, e.weight]), [
    ['GET /api/v1/users', 'GET', '/api/v1/users', 3], ['login', 'POST', '/login', 1], ['GET /health', 'GET', '/health', 1],
  ]);
  assert.deepEqual(eps[1]!.headers, { 'x-token': 'abc', 'content-type': 'application/json' });
  assert.throws(() => resolveEndpoints(t, [{ path: 'http://127.0.0.1:9999/' }]), isInput(/endpoints\[0\]\.path.*not the target/));
  assert.throws(() => resolveEndpoints(t, [{}, { method: 'FETCH' }]), isInput(/endpoints\[1\]\.method "FETCH"/));
  assert.throws(() => resolveEndpoints(t, [{ weight: 0 }]), isInput(/endpoints\[0\]\.weight 0/));
  assert.throws(() => resolveEndpoints(t, [{ headers: { 'bad name': 'x' } }]), isInput(/endpoints\[0\]\.headers: "bad name" is not a valid header name/));
  assert.throws(() => resolveEndpoints(t, [{ headers: { 'x-a': 'a\r\nb' } }]), isInput(/endpoints\[0\]\.headers\.x-a: the value contains a line break/));
  // a body without a method is a POST, as with curl -d; an explicit method is kept
  assert.deepEqual(resolveEndpoints(t, [{ body: 'a=1' }, { method: 'PUT', body: 'b' }]).map((e) => [e.method, e.headers['content-type']]), [['POST', 'text/plain'], ['PUT', 'text/plain']]);
});

test('-H flags parse into lower-case names', () => {
  assert.deepEqual(parseHeaderFlags(['Authorization: Bearer x:y', 'X-A:1']), { authorization: 'Bearer x:y', 'x-a': '1' });
  assert.throws(() => parseHeaderFlags(['nocolon']), isInput(/-H "nocolon"/));
});

test('weighted choice follows the weights exactly and interleaves them', () => {
  const cases: Array<[number[], number]> = [[[3, 1], 400], [[1, 1, 1], 300], [[5, 2, 1], 800], [[0.5, 1.5], 200]];
  for (const [w, n] of cases) {
    const p = new WeightedPicker(w);
    const counts = w.map(() => 0);
    const seq: number[] = [];
    for (let i = 0; i < n; i++) { const k = p.next(); counts[k]!++; seq.push(k); }
    const total = w.reduce((a, b) => a + b, 0);
    assert.deepEqual(counts, w.map((x) => (x / total) * n), `weights ${w}`);
    // smooth: the heaviest endpoint never runs more than ceil(its share) times in a row
    const heaviest = w.indexOf(Math.max(...w));
    let run = 0, worst = 0;
    for (const k of seq) { run = k === heaviest ? run + 1 : 0; worst = Math.max(worst, run); }
    assert.ok(worst <= Math.ceil(Math.max(...w) / (total - Math.max(...w))) + 1, `weights ${w}: ${worst} in a row`);
  }
});

const yaml = `
url: http://127.0.0.1:8080
stages:
  - { duration: 10s, target: 20 }
  - { duration: 20s, target: 20 }
endpoints:
  - { name: home, path: /, weight: 3 }
  - { name: create, method: POST, path: /items, body: { a: 1 }, headers: { X-Id: 7 } }
thresholds: [ 'p95<500ms', 'errors<1%' ]
`;

test('a YAML config becomes a plan: stages, endpoints, thresholds', () => {
  const p = planLoadTest(parseLoadTestFile(yaml, 'load.yaml'));
  assert.equal(p.model, 'closed');
  assert.deepEqual(p.profile, { start: 0, stages: [{ durationMs: 10_000, target: 20 }, { durationMs: 20_000, target: 20 }] });
  assert.deepEqual(p.endpoints!.map((e) => [e.name, e.method ?? 'GET', e.weight ?? 1, e.body]), [['home', 'GET', 3, undefined], ['create', 'POST', 1, '{"a":1}']]);
  assert.deepEqual(p.endpoints![1]!.headers, { 'X-Id': '7' });
  assert.deepEqual(p.gates!.map((g) => g.text), ['p95<500ms', 'errors<1%']);
});

test('config problems name file:line and the field', () => {
  const cases: Array<[string, RegExp]> = [
    ['url: http://127.0.0.1\nstages:\n  - { duration: 10x, target: 5 }\n', /^load\.yaml:3:\d+: stages\[0\]\.duration: .*"10x" is not a duration/],
    ['url: http://127.0.0.1\nthresholds:\n  - p95<500ms\n  - p95 < soon\n', /^load\.yaml:4:\d+: thresholds\[1\]: threshold "p95 < soon"/],
    ['url: http://127.0.0.1\nconections: 5\n', /^load\.yaml:2:\d+: conections: unknown key "conections"/],
    ['url: http://127.0.0.1\nendpoints:\n  - { path: /, weight: -1 }\n', /^load\.yaml:3:\d+: endpoints\[0\]\.weight/],
    ['url: [oops\n', /^load\.yaml:\d+:\d+: YAML:/],
    ['rate: fast\n', /^load\.yaml:1:\d+: rate: /],
  ];
  for (const [text, re] of cases) assert.throws(() => parseLoadTestFile(text, 'load.yaml'), isInput(re), text);
});

test('readLoadTestFile names an unreadable file', () => {
  const d = tempDir();
  try {
    assert.throws(() => readLoadTestFile(join(d.path, 'missing.yaml')), isInput(/--config .*missing\.yaml: cannot read it \(ENOENT\)/));
    writeFileSync(join(d.path, 'ok.yaml'), yaml);
    assert.equal(readLoadTestFile(join(d.path, 'ok.yaml')).url, 'http://127.0.0.1:8080');
  } finally {
    d.cleanup();
  }
});

test('planLoadTest picks the model, length and bounds', () => {
  const u = 'http://127.0.0.1:1/';
  const cases: Array<[Parameters<typeof planLoadTest>[0], string, number, number, number | undefined]> = [
    // input, model, start, total ms, maxRequests
    [{ url: u }, 'closed', 10, 10_000, undefined],
    [{ url: u, connections: 50, duration: '30s' }, 'closed', 50, 30_000, undefined],
    [{ url: u, rate: 200 }, 'open', 200, 10_000, undefined],
    [{ url: u, requests: 1000 }, 'closed', 10, 600_000, 1000],
    [{ url: u, requests: 1000, duration: '5s' }, 'closed', 10, 5_000, 1000],
    [{ url: u, rate: 20, stages: [{ durationMs: 1000, target: 40 }] }, 'open', 20, 1000, undefined],
    [{ url: u, stages: [{ durationMs: 1000, target: 40 }] }, 'closed', 0, 1000, undefined],
  ];
  for (const [input, model, start, total, max] of cases) {
    const p = planLoadTest(input);
    assert.equal(p.model, model, JSON.stringify(input));
    assert.equal(p.profile.start, start, JSON.stringify(input));
    assert.equal(p.profile.stages.reduce((s, x) => s + x.durationMs, 0), total, JSON.stringify(input));
    assert.equal(p.maxRequests, max, JSON.stringify(input));
  }
  assert.throws(() => planLoadTest({}), isInput(/no target URL/));
  assert.throws(() => planLoadTest({ url: u, connections: 5, rate: 5 }), isInput(/give one/));
  assert.throws(() => planLoadTest({ url: u, model: 'open' }), isInput(/needs --rate/));
  assert.throws(() => planLoadTest({ url: u, duration: '5s', stages: [{ durationMs: 1000, target: 1 }] }), isInput(/--duration and --stages/));
  assert.throws(() => planLoadTest({ url: u, duration: 'soon' }), isInput(/--duration: "soon" is not a duration/));
  assert.throws(() => planLoadTest({ url: u, thresholds: ['p95<<5'] }), isInput(/threshold "p95<<5"/));
});
