// The HTTP API through fastify's inject against a real Runtime (dry-run provider, trace metric source, SQLite):
// what it shows, how it pages, who may steer (the auth matrix), what steering changes, and stored reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { apiFixture, bearer, type ApiFixture } from './helpers.js';
import { MetricError, type MetricQuery, type MetricSource, type Sample } from '../../src/metrics/types.js';
import { runLoadTest } from '../../src/loadtest/engine.js';
import { loadTestReport } from '../../src/loadtest/report.js';
import { renderHtmlReport } from '../../src/report/html.js';
import { STEERING_DISABLED, STEERING_READ_ONLY_STORE } from '../../src/server/auth.js';

const TOKEN = 'tk-7f3a9c1e5b';

async function json<T = any>(f: ApiFixture, url: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: unknown } = {}): Promise<{ status: number; body: T; headers: Record<string, unknown> }> {
  const r = await f.app.inject({ method: init.method ?? 'GET', url, ...(init.headers ? { headers: init.headers } : {}), ...(init.body !== undefined ? { payload: init.body as object } : {}) });
  return { status: r.statusCode, body: r.json() as T, headers: r.headers };
}

async function syncs(f: ApiFixture, service: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await f.rt.controller.syncOnce(service);
}

async function replicas(f: ApiFixture, service: string): Promise<number> {
  const p = f.rt.controller.policy(service)!;
  return (await f.rt.controller.provider(service)!.observe(p.target)).replicas;
}

test('services: replicas, status, utilization and alerts from the controller; store-backed before any sync', async () => {
  const f = await apiFixture({ rps: 1000 });
  try {
    // before the first sync nothing is known; the page still lists every configured service
    let r = await json(f, '/api/v1/services');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.services.map((s: any) => [s.service, s.source, s.currentReplicas, s.status]), [['web', 'none', null, 'OK'], ['worker', 'none', null, 'OK']]);

    await syncs(f, 'web', 2); // 2 → 4 (max), then held at max while 1000 rps asks for 10
    await syncs(f, 'worker', 1);
    r = await json(f, '/api/v1/services');
    const web = r.body.services.find((s: any) => s.service === 'web');
    assert.equal(web.source, 'controller');
    assert.equal(web.currentReplicas, 4);
    assert.equal(web.desiredReplicas, 4);
    assert.equal(web.maxReplicas, 4);
    assert.equal(web.values.rps, 1000);
    assert.equal(web.status, 'IMMEDIATE');
    assert.match(web.statusReasons[0], /at maxReplicas 4 while hpa rps proposes 10/);
    assert.deepEqual(web.utilization.map((u: any) => [u.metric, u.current, u.target, u.ratio]), [['rps', 250, 100, 2.5]]);
    assert.deepEqual(web.alerts.map((a: any) => a.kind), ['pinned-at-max']);
    const worker = r.body.services.find((s: any) => s.service === 'worker');
    assert.equal(worker.status, 'OK');
    assert.deepEqual(worker.utilization.map((u: any) => [u.kind, u.current, u.target]), [['queue', 20, 50]]);

    const alerts = await json(f, '/api/v1/alerts');
    assert.deepEqual(alerts.body.alerts.map((a: any) => [a.service, a.kind, a.severity]), [['web', 'pinned-at-max', 'critical']]);
  } finally {
    await f.close();
  }
});

test('one service: policy, last decision with proposals, recent changes; unknown service is 404 naming the others', async () => {
  const f = await apiFixture({ rps: 250 });
  try {
    await syncs(f, 'web', 2);
    const r = await json(f, '/api/v1/services/web');
    assert.equal(r.status, 200);
    assert.equal(r.body.decision.service, 'web');
    assert.equal(r.body.decision.desiredReplicas, 3); // 250 rps / 100 per replica
    assert.ok(r.body.decision.proposals.some((p: any) => p.source === 'hpa' && p.name === 'rps' && p.replicas === 3));
    assert.deepEqual(r.body.policy.rules.map((x: any) => [x.name, x.when, x.then]), [['hot', 'rps > 300 for 10m', '+1'], ['idle', 'rps < 1 for 10m', '-1']]);
    assert.deepEqual(r.body.policy.hpaMetrics, [{ name: 'rps', type: 'External', target: '100 per replica' }]);
    assert.deepEqual(r.body.recentChanges.map((e: any) => [e.kind, e.fromReplicas, e.toReplicas]), [['scale', 2, 3]]);

    const missing = await json(f, '/api/v1/services/nope');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /no service "nope".*services: web, worker/);
    assert.equal((await json(f, '/api/v1/services/nope/decisions')).status, 404);
  } finally {
    await f.close();
  }
});

test('a metric source failing turns the service SOON with a metric-source-failing alert', async () => {
  const f = await apiFixture({ rps: 150 });
  try {
    await syncs(f, 'web', 1);
    assert.equal((await json(f, '/api/v1/services/web')).body.status, 'OK');
    const failing: MetricSource = {
      kind: 'failing',
      async sample(q: MetricQuery, _now: Date): Promise<Sample[]> {
        throw new MetricError('recorded', q.query, 'connect ECONNREFUSED 127.0.0.1:9090');
      },
    };
    f.rt.controller.setSources({ recorded: failing });
    await syncs(f, 'web', 1);
    const r = await json(f, '/api/v1/services/web');
    assert.equal(r.body.status, 'SOON');
    assert.match(r.body.statusReasons.join(' '), /metric errors: .*ECONNREFUSED/);
    assert.deepEqual(r.body.alerts.map((a: any) => a.kind), ['metric-source-failing']);
    assert.equal(r.body.metricErrors.length, 1);
  } finally {
    await f.close();
  }
});

test('decisions: newest first, paged with nextBefore until the end, since and changes filters, bad parameters are 400', async () => {
  const f = await apiFixture({ rps: 250 });
  try {
    await syncs(f, 'web', 7);
    const all = (await f.rt.store.history('web', 0, { kinds: ['decision'] })).map((e) => e.id!).reverse();
    assert.equal(all.length, 7);
    const seen: number[] = [];
    let url = '/api/v1/services/web/decisions?limit=3';
    for (let pages = 0; pages < 5; pages++) {
      const r = await json(f, url);
      assert.equal(r.status, 200);
      assert.ok(r.body.items.length <= 3);
      seen.push(...r.body.items.map((d: any) => d.id));
      for (const d of r.body.items) assert.ok(d.reason.length > 0, 'every decision explains itself');
      if (r.body.nextBefore === null) break;
      url = `/api/v1/services/web/decisions?limit=3&before=${r.body.nextBefore}`;
    }
    assert.deepEqual(seen, all, 'pages cover every decision once, newest first');

    const changes = await json(f, '/api/v1/services/web/decisions?changes=true');
    assert.deepEqual(changes.body.items.map((d: any) => [d.action, d.fromReplicas, d.toReplicas]), [['scale-up', 2, 3]]);
    assert.match(changes.body.items[0].reason, /scale up 2 → 3/);
    assert.equal(changes.body.items[0].values.rps, 250);

    const future = await json(f, `/api/v1/services/web/decisions?since=${new Date(Date.now() + 60_000).toISOString()}`);
    assert.deepEqual(future.body.items, []);
    const recent = await json(f, '/api/v1/services/web/decisions?since=1h');
    assert.equal(recent.body.items.length, 7);
    const epoch = await json(f, `/api/v1/services/web/decisions?since=${Date.now() - 3_600_000}`);
    assert.equal(epoch.body.items.length, 7);
    // a duration reaching back past 1970 means everything; epoch milliseconds past what a date holds are refused
    const all7 = await json(f, '/api/v1/services/web/decisions?since=9999999999d');
    assert.equal(all7.status, 200, JSON.stringify(all7.body));
    assert.equal(all7.body.items.length, 7);

    for (const [q, re] of [['since=yesterday', /since=yesterday/], ['limit=0', /limit=0: must be a whole number from 1 to 1000/], ['limit=5000', /limit=5000/], ['before=-2', /before=-2/], ['changes=maybe', /changes=maybe: use true or false/], ['since=99999999999999999999', /past the latest time a date holds/]] as const) {
      const r = await json(f, `/api/v1/services/web/decisions?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.body.error, re);
    }
  } finally {
    await f.close();
  }
});

test('events and timeline: history without decisions by default, kind filter, chart series per decision', async () => {
  const f = await apiFixture({ rps: 250, server: { token: TOKEN } });
  try {
    await syncs(f, 'web', 3);
    await json(f, '/api/v1/services/web/pause', { method: 'POST', headers: bearer(TOKEN) });
    await syncs(f, 'web', 1);
    const ev = await json(f, '/api/v1/services/web/events');
    assert.deepEqual(ev.body.items.map((e: any) => e.kind), ['pause', 'scale']);
    assert.match(ev.body.items[0].message, /paused by api/);
    const onlyScale = await json(f, '/api/v1/services/web/events?kind=scale,rollback');
    assert.deepEqual(onlyScale.body.items.map((e: any) => e.kind), ['scale']);
    const bad = await json(f, '/api/v1/services/web/events?kind=scale,bogus');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /kind=bogus: unknown event kind/);

    const tl = await json(f, '/api/v1/services/web/timeline?since=1h');
    assert.equal(tl.status, 200);
    assert.equal(tl.body.t.length, 4);
    assert.deepEqual(tl.body.currentReplicas, [2, 3, 3, 3]);
    assert.deepEqual(tl.body.desiredReplicas, [3, 3, 3, 3]);
    assert.deepEqual(tl.body.values.rps, [250, 250, 250, 250]);
    assert.deepEqual(tl.body.proposedReplicas, [3, 3, 3, 3]);
    assert.deepEqual(tl.body.changes.map((e: any) => e.kind), ['scale', 'pause']);
    assert.ok(tl.body.t.every((t: number, i: number) => i === 0 || t >= tl.body.t[i - 1]), 'time ascends');
  } finally {
    await f.close();
  }
});

// ---- auth matrix ------------------------------------------------------------------------------------------------

const STEERING: Array<{ path: string; body?: unknown }> = [
  { path: 'pause' },
  { path: 'resume' },
  { path: 'scale', body: { replicas: 3 } },
  { path: 'rollback', body: {} },
];

test('auth matrix: no token configured → 403 saying how to enable; wrong or missing token → 401; right token → 200', async () => {
  const open = await apiFixture({ rps: 250 });
  const guarded = await apiFixture({ rps: 250, server: { token: TOKEN } });
  try {
    for (const f of [open, guarded]) await syncs(f, 'web', 1); // 2 → 3, something to roll back
    const before = await open.rt.store.history('web', 0);
    for (const s of STEERING) {
      const url = `/api/v1/services/web/${s.path}`;
      const post = (f: ApiFixture, headers?: Record<string, string>) => json(f, url, { method: 'POST', ...(headers ? { headers } : {}), ...(s.body !== undefined ? { body: s.body } : {}) });

      const none = await post(open, bearer(TOKEN));
      assert.equal(none.status, 403, `${s.path} without a configured token`);
      assert.equal(none.body.error, STEERING_DISABLED);
      assert.match(none.body.error, /--token/);
      assert.match(none.body.error, /SCALEPILOT_TOKEN/);

      for (const [label, headers, re] of [
        ['missing', undefined, /missing token/],
        ['wrong', bearer('tk-7f3a9c1e5c'), /wrong token/],
        ['prefix of the right one', bearer(TOKEN.slice(0, -1)), /wrong token/],
        ['not a bearer', { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }, /must be "Bearer <token>"/],
      ] as const) {
        const r = await post(guarded, headers as Record<string, string> | undefined);
        assert.equal(r.status, 401, `${s.path} with a ${label} token`);
        assert.match(r.body.error, re);
        assert.match(String(r.headers['www-authenticate']), /^Bearer/);
      }
    }
    // nothing refused left a trace
    assert.equal(open.rt.controller.isPaused('web'), false);
    assert.equal(guarded.rt.controller.isPaused('web'), false);
    assert.equal(await replicas(guarded, 'web'), 3);
    assert.equal((await open.rt.store.history('web', 0)).length, before.length);
    assert.deepEqual((await guarded.rt.store.history('web', 0)).map((e) => e.kind), ['decision', 'scale']);

    // and the right token does what each route says
    const ok = (path: string, body?: unknown) => json(guarded, `/api/v1/services/web/${path}`, { method: 'POST', headers: bearer(TOKEN), ...(body !== undefined ? { body } : {}) });
    let r = await ok('pause');
    assert.equal(r.status, 200);
    assert.equal(guarded.rt.controller.isPaused('web'), true);
    r = await ok('resume');
    assert.equal(r.status, 200);
    assert.equal(guarded.rt.controller.isPaused('web'), false);
    r = await ok('scale', { replicas: 1 });
    assert.equal(r.status, 200);
    assert.equal(await replicas(guarded, 'web'), 1);
    r = await ok('rollback', {});
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(await replicas(guarded, 'web'), 3);
  } finally {
    await open.close();
    await guarded.close();
  }
});

test('a server for a read-only store refuses steering even with the right token', async () => {
  const f = await apiFixture({ rps: 250, server: { token: TOKEN, readOnlyStore: true } });
  try {
    for (const s of STEERING) {
      const r = await json(f, `/api/v1/services/web/${s.path}`, { method: 'POST', headers: bearer(TOKEN), ...(s.body !== undefined ? { body: s.body } : {}) });
      assert.equal(r.status, 403, s.path);
      assert.equal(r.body.error, STEERING_READ_ONLY_STORE);
    }
    const info = await json(f, '/api/v1/server');
    assert.deepEqual(info.body.steering, { enabled: false, reason: STEERING_READ_ONLY_STORE });
  } finally {
    await f.close();
  }
});

// ---- steering effects ---------------------------------------------------------------------------------------------

test('pause holds the replica count while decisions are still recorded; resume acts again', async () => {
  const f = await apiFixture({ rps: 150, server: { token: TOKEN } });
  try {
    await syncs(f, 'web', 1); // 150 rps → 2 replicas: hold
    const r = await json(f, '/api/v1/services/web/pause', { method: 'POST', headers: { ...bearer(TOKEN), 'x-scalepilot-client': 'dashboard' } });
    assert.deepEqual([r.status, r.body.paused], [200, true]);
    f.rt.controller.setSources({ recorded: constant(450) }); // would scale to 5 (max 4)
    await syncs(f, 'web', 1);
    assert.equal(await replicas(f, 'web'), 2, 'paused: no action');
    const svc = await json(f, '/api/v1/services/web');
    assert.equal(svc.body.paused, true);
    assert.equal(svc.body.lastDecision.action, 'paused');
    assert.match(svc.body.lastDecision.reason, /paused: would have scaled to 4/);
    const [pause] = await f.rt.store.history('web', 0, { kinds: ['pause'] });
    assert.match(pause!.message!, /paused by dashboard/);

    assert.equal((await json(f, '/api/v1/services/web/resume', { method: 'POST', headers: bearer(TOKEN) })).status, 200);
    await syncs(f, 'web', 1);
    assert.equal(await replicas(f, 'web'), 4);
  } finally {
    await f.close();
  }
});

function constant(v: number): MetricSource {
  return { kind: 'constant', async sample(_q: MetricQuery, now: Date): Promise<Sample[]> { return [{ labels: {}, t: now.getTime(), value: v }]; } };
}

test('scale: sets the count through the provider, records a manual scale, warns when outside bounds; bad counts are 400', async () => {
  const f = await apiFixture({ rps: 150, server: { token: TOKEN } });
  try {
    await syncs(f, 'web', 1);
    const post = (body: unknown) => json(f, '/api/v1/services/web/scale', { method: 'POST', headers: bearer(TOKEN), body });
    let r = await post({ replicas: 3 });
    assert.equal(r.status, 200);
    assert.equal(r.body.fromReplicas, 2);
    assert.equal(r.body.replicas, 3);
    assert.match(r.body.warnings.join(' '), /not paused/);
    assert.equal(await replicas(f, 'web'), 3);
    const [ev] = await f.rt.store.history('web', 0, { kinds: ['scale'], limit: 1 });
    assert.equal(ev!.id, r.body.eventId);
    assert.match(ev!.message!, /manual scale by api/);

    r = await post({ replicas: 9 });
    assert.equal(r.status, 200);
    assert.match(r.body.warnings[0], /9 replicas is outside 1\.\.4/);

    for (const bad of [{ replicas: -1 }, { replicas: 2.5 }, { replicas: '3' }, {}, [3]]) {
      const b = await post(bad);
      assert.equal(b.status, 400, JSON.stringify(bad));
      assert.match(b.body.error, /replicas must be a whole number|must be a JSON object/);
    }
    assert.equal(await replicas(f, 'web'), 9);
  } finally {
    await f.close();
  }
});

test('rollback: plan, then restore the count before the last change; by event id; nothing to undo is 409; bad ids 400', async () => {
  const f = await apiFixture({ rps: 250, server: { token: TOKEN } });
  try {
    await syncs(f, 'web', 1); // 2 → 3
    f.rt.controller.setSources({ recorded: constant(400) });
    await syncs(f, 'web', 1); // 3 → 4
    const scales = await f.rt.store.history('web', 0, { kinds: ['scale'] });
    assert.deepEqual(scales.map((e) => [e.fromReplicas, e.toReplicas]), [[2, 3], [3, 4]]);

    const plan = await json(f, '/api/v1/services/web/rollback');
    assert.equal(plan.status, 200);
    assert.deepEqual(plan.body.changes, ['replicas 4 → 3']);
    assert.equal(plan.body.undoes.id, scales[1]!.id);
    assert.equal(await replicas(f, 'web'), 4, 'a plan changes nothing');

    const post = (body: unknown) => json(f, '/api/v1/services/web/rollback', { method: 'POST', headers: bearer(TOKEN), body });
    let r = await post({});
    assert.equal(r.status, 200);
    assert.equal(await replicas(f, 'web'), 3);
    assert.match(r.body.message, /rolled back to before event #\d+ .* by api: replicas 4 → 3/);
    assert.match(r.body.warnings.join(' '), /not paused/);
    const rec = await f.rt.store.get(r.body.eventId);
    assert.deepEqual([rec?.kind, rec?.fromReplicas, rec?.toReplicas, rec?.result], ['rollback', 4, 3, 'ok']);

    r = await post({ toEventId: scales[0]!.id });
    assert.equal(r.status, 200);
    assert.equal(await replicas(f, 'web'), 2);

    r = await post({ toEventId: scales[0]!.id });
    assert.equal(r.status, 409);
    assert.match(r.body.error, /nothing to roll back: web already runs 2 replicas/);

    const worker = await json(f, '/api/v1/services/worker/rollback', { method: 'POST', headers: bearer(TOKEN), body: {} });
    assert.equal(worker.status, 409);
    assert.match(worker.body.error, /worker has no applied scale/);

    for (const [body, re] of [[{ toEventId: 0 }, /toEventId must be an event id/], [{ toEventId: 'x' }, /toEventId must be/], [{ toEventId: 99999 }, /no such event/], [{ dryRun: 'yes' }, /dryRun must be true or false/]] as const) {
      const b = await post(body);
      assert.equal(b.status, 400, JSON.stringify(body));
      assert.match(b.body.error, re);
    }
    // an event of another service cannot be used
    await syncs(f, 'worker', 1);
    const [workerDecision] = await f.rt.store.history('worker', 0, { kinds: ['decision'] });
    const other = await post({ toEventId: workerDecision!.id });
    assert.equal(other.status, 400);
    assert.match(other.body.error, /belongs to service worker/);
  } finally {
    await f.close();
  }
});

test('a dry-run server records rollbacks as dry-run and changes nothing', async () => {
  const f = await apiFixture({ rps: 250, server: { token: TOKEN, dryRun: true } });
  try {
    // the controller itself acts here (not a dry-run runtime) so there is an applied change to undo
    await syncs(f, 'web', 1);
    const r = await json(f, '/api/v1/services/web/rollback', { method: 'POST', headers: bearer(TOKEN), body: {} });
    assert.equal(r.status, 200);
    assert.equal(r.body.result, 'dry-run');
    assert.equal(await replicas(f, 'web'), 3);
    assert.equal((await f.rt.store.get(r.body.eventId))?.result, 'dry-run');
  } finally {
    await f.close();
  }
});

// ---- reports -----------------------------------------------------------------------------------------------------

async function realLoadTest() {
  const srv = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  try {
    return await runLoadTest({ url: `http://127.0.0.1:${port}/`, model: 'closed', profile: { start: 2, stages: [{ durationMs: 400, target: 2 }] }, maxRequests: 200 });
  } finally {
    srv.close();
  }
}

test('reports: lists JSON/HTML pairs by kind and title, serves them sandboxed, never outside the directory', async () => {
  const lt = await realLoadTest();
  const f = await apiFixture({});
  const dir = join(f.dir, 'reports');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'checkout-load.json'), JSON.stringify(lt));
  writeFileSync(join(dir, 'checkout-load.html'), renderHtmlReport(loadTestReport(lt)));
  writeFileSync(join(dir, 'sim-web.json'), JSON.stringify({ config: '/etc/scalepilot/web.yaml', trace: 'traces/web.csv', services: [] }));
  writeFileSync(join(dir, 'half-written.json'), '{"services": [');
  writeFileSync(join(dir, '.hidden.json'), '{}');
  writeFileSync(join(dir, 'notes.txt'), 'not a report');
  writeFileSync(join(dir, 'sub', 'inner.json'), '{}');
  writeFileSync(join(f.dir, 'secret.json'), '{"password": "hunter2"}');
  const g = await apiFixture({ server: { reportsDir: dir } });
  try {
    const none = await json(f, '/api/v1/reports');
    assert.deepEqual([none.body.configured, none.body.reports], [false, []]);
    assert.match(none.body.message, /--reports DIR/);

    const r = await json(g, '/api/v1/reports');
    assert.equal(r.status, 200);
    const by = Object.fromEntries(r.body.reports.map((x: any) => [x.name, x]));
    assert.deepEqual(Object.keys(by).sort(), ['checkout-load', 'half-written', 'sim-web']);
    assert.equal(by['checkout-load'].kind, 'loadtest');
    assert.match(by['checkout-load'].title, /^load test of http:\/\/127\.0\.0\.1:\d+\/ \(closed model\)$/);
    assert.deepEqual(by['checkout-load'].files.map((x: any) => x.format).sort(), ['html', 'json']);
    assert.equal(by['sim-web'].kind, 'simulation');
    assert.equal(by['sim-web'].title, 'simulation of web.yaml on web.csv');
    assert.equal(by['half-written'].kind, 'report');

    const html = by['checkout-load'].files.find((x: any) => x.format === 'html');
    const page = await g.app.inject({ url: html.url });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(String(page.headers['content-security-policy']), /sandbox allow-scripts/);
    assert.match(page.body, /<title>/);
    const data = await g.app.inject({ url: '/api/v1/reports/checkout-load.json' });
    assert.equal((data.json() as { requests: number }).requests, lt.requests);

    for (const evil of ['..%2Fsecret.json', '%2e%2e%2fsecret.json', 'sub%2Finner.json', '.hidden.json', 'notes.txt', 'missing.json', '..secret.json']) {
      const x = await g.app.inject({ url: `/api/v1/reports/${evil}` });
      assert.equal(x.statusCode, 404, evil);
      assert.doesNotMatch(x.body, /hunter2/);
    }
  } finally {
    await f.close();
    await g.close();
  }
});

// ---- the rest of the server --------------------------------------------------------------------------------------

test('dashboard page and assets are served from the package, offline, under a strict content security policy', async () => {
  const f = await apiFixture({});
  try {
    const page = await f.app.inject({ url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    // data: URLs (the empty favicon) need no request at all
    const srcs = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((s) => !s.startsWith('data:'));
    assert.ok(srcs.length >= 5);
    for (const s of srcs) {
      assert.doesNotMatch(s, /^(https?:)?\/\//, `${s} would need the network`);
      const a = await f.app.inject({ url: `/${s}` });
      assert.equal(a.statusCode, 200, s);
      assert.ok(a.body.length > 100, `${s} is not empty`);
    }
    const uplot = await f.app.inject({ url: '/assets/uplot.js' });
    assert.match(uplot.body, /uPlot/);
    assert.match(String(uplot.headers['content-type']), /javascript/);
    assert.equal((await f.app.inject({ url: '/assets/secret.js' })).statusCode, 404);
    assert.equal((await f.app.inject({ url: '/assets/..%2F..%2Fpackage.json' })).statusCode, 404);
  } finally {
    await f.close();
  }
});

test('/metrics, /healthz, server info and unknown routes', async () => {
  const f = await apiFixture({ rps: 250 });
  try {
    await syncs(f, 'web', 1);
    const m = await f.app.inject({ url: '/metrics' });
    assert.equal(m.statusCode, 200);
    assert.match(m.body, /scalepilot_desired_replicas\{service="web"\} 3/);
    assert.deepEqual((await json(f, '/healthz')).body, { ok: true });
    const info = await json(f, '/api/v1/server');
    assert.equal(info.body.steering.enabled, false);
    assert.equal(info.body.steering.reason, STEERING_DISABLED);
    assert.equal(info.body.services, 2);
    const nf = await json(f, '/api/v1/nothing');
    assert.equal(nf.status, 404);
    assert.match(nf.body.error, /openapi\.json/);
  } finally {
    await f.close();
  }
});
