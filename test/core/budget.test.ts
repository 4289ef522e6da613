// Shared budgets in decide(): tables of services sharing a limit, hand-computed caps, the split rule, and an
// unreadable live limit that must hold (never raise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type Config } from '../../src/config/load.js';
import { decide } from '../../src/core/decide.js';
import { allocate, budgetViews, budgetUsage, usableLimit, type BudgetService, type LiveLimit } from '../../src/core/budget.js';
import { emptyHistory, type Observation } from '../../src/core/types.js';
import { ConfigError } from '../../src/config/errors.js';

const T0 = Date.parse('2024-01-01T12:00:00Z');

function config(extra = '', limit = '500'): Config {
  return parseConfig(`
sources: { p: { type: prometheus, url: "http://127.0.0.1:9" }, pg: { type: postgres, url: "postgres://x@127.0.0.1:9/db" } }
budgets:
  maindb: { limit: ${limit}, headroom: 30% }
services:
  api:
    target: { provider: dryrun }
    minReplicas: 1
    maxReplicas: 20
    uses: { maindb: 20 }
    metrics: { rps: { source: p, query: rps } }
    hpa:
      metrics:
        - type: External
          external: { metric: { name: rps }, target: { type: AverageValue, averageValue: "10" } }
      behavior: { scaleUp: { policies: [ { type: Percent, value: 1000, periodSeconds: 15 } ] } }
  worker:
    target: { provider: dryrun }
    minReplicas: 1
    maxReplicas: 20
    uses: { maindb: 10 }
    metrics: { rps: { source: p, query: rps } }
    hpa:
      metrics:
        - type: External
          external: { metric: { name: rps }, target: { type: AverageValue, averageValue: "10" } }
      behavior: { scaleUp: { policies: [ { type: Percent, value: 1000, periodSeconds: 15 } ] } }
${extra}`, 'budget.yaml');
}

function observe(c: Config, service: string, current: number, rps: number, all: BudgetService[], limits: Record<string, LiveLimit> = {}): Observation {
  return { currentReplicas: current, pods: [], values: { rps }, failures: {}, budgets: budgetViews(c.budgets!, all, service, limits) };
}

const svc = (name: string, uses: number, current: number, demand?: number, priority = 0): BudgetService => ({ name, uses: { maindb: uses }, priority, current, ...(demand !== undefined ? { demand } : {}) });

test('usable limit: 500 less 30% headroom is 350 (no floating-point 349)', () => {
  assert.equal(usableLimit(500, 0.3), 350);
  assert.equal(usableLimit(100, 0), 100);
  assert.equal(usableLimit(97, 0.2), 77);
});

const table: Array<{ name: string; api: number; rps: number; worker: number; want: number; code: string; reason?: RegExp }> = [
  // worker holds 17 × 10 = 170; 350 − 170 = 180 = 9 × 20
  { name: 'binding: api asks 12, 9 fit beside the worker', api: 5, rps: 120, worker: 17, want: 9, code: 'BudgetLimit', reason: /^scale up 5 → 9: .*\(capped at 9 by maindb: 9 × 20 \+ 170 used by other services = 350, within 350, the 500 limit less 30% headroom; alternatives: resize the connection pool \(PgBouncer\) or add a read replica; a smaller pool per replica \(uses\.maindb\) lets more replicas fit\)$/ },
  { name: 'not binding: api asks 6, 9 would fit', api: 5, rps: 60, worker: 17, want: 6, code: 'SucceededRescale' },
  { name: 'no room at all: api holds at 5', api: 5, rps: 120, worker: 25, want: 5, code: 'BudgetLimit', reason: /^hold at 5: .*\(held at 5 by maindb: 5 × 20 \+ 250 used by other services = 350, over 340|capped at 5 by maindb/ },
  { name: 'already over: the budget never scales down', api: 10, rps: 120, worker: 25, want: 10, code: 'BudgetLimit', reason: /held at 10 by maindb: 10 × 20 \+ 250 used by other services = 450, over 350/ },
  { name: 'scale-down is never blocked by a budget', api: 10, rps: 30, worker: 25, want: 3, code: 'SucceededRescale' },
];

for (const row of table) {
  test(`budget table: ${row.name}`, () => {
    const c = config();
    const all = [svc('api', 20, row.api), svc('worker', 10, row.worker)];
    const p = c.services.api!;
    const h = { ...emptyHistory(), recommendations: [{ time: T0 - 60_000, replicas: row.api }] };
    const d = decide(p, observe(c, 'api', row.api, row.rps, all), h, T0);
    // scale-down goes through the default 5-minute window; seed it with the low recommendation
    const d2 = row.want < row.api ? decide(p, observe(c, 'api', row.api, row.rps, all), { ...emptyHistory(), recommendations: [{ time: T0 - 600_000, replicas: row.want }] }, T0) : d;
    assert.equal(d2.desiredReplicas, row.want, d2.reason);
    assert.equal(d2.reasonCode, row.code, d2.reason);
    if (row.reason) assert.match(d2.reason, row.reason);
    assert.equal(d2.budget?.budget, 'maindb');
  });
}

test('several services: a higher priority gets the room first; equal priorities split it in proportion to demand', () => {
  // room 350, held 2×20 + 2×10 = 60, 290 left
  assert.deepEqual(allocate(350, [
    { service: 'api', perReplica: 20, priority: 1, current: 2, demand: 12 },
    { service: 'worker', perReplica: 10, priority: 0, current: 2, demand: 30 },
  ]), { api: 12, worker: 11 }); // api takes 200, worker gets the last 90
  // same priority: api wants 200 more, worker 280 more, 290 to give → 290×200/480 = 120.8 (6.04 replicas), 169.2 (16.9)
  assert.deepEqual(allocate(350, [
    { service: 'api', perReplica: 20, priority: 0, current: 2, demand: 12 },
    { service: 'worker', perReplica: 10, priority: 0, current: 2, demand: 30 },
  ]), { api: 8, worker: 19 }); // 6×20 + 16×10 = 280; the 10 left go to the larger fraction (worker .92)
  // everything fits: everyone gets its demand
  assert.deepEqual(allocate(350, [
    { service: 'api', perReplica: 20, priority: 0, current: 2, demand: 5 },
    { service: 'worker', perReplica: 10, priority: 0, current: 2, demand: 5 },
  ]), { api: 5, worker: 5 });
});

test('several services in decide(): two at the same priority both asking for more get their proportional shares, not first come first served', () => {
  const c = config();
  // api wants 12 (rps 120), worker wants 30; both hold 4: 350 − 120 = 230 left for 160 + 260 asked →
  // api 4 + floor(4.38), worker 4 + floor(14.24), and the 10 left give the worker one more
  const all = [svc('api', 20, 4, 12), svc('worker', 10, 4, 30)];
  const api = decide(c.services.api!, observe(c, 'api', 4, 120, all), emptyHistory(), T0);
  const worker = decide(c.services.worker!, observe(c, 'worker', 4, 300, all), emptyHistory(), T0);
  assert.equal(api.desiredReplicas, 8, api.reason);
  assert.equal(worker.desiredReplicas, 19, worker.reason);
  assert.match(api.reason, /capped at 8 by maindb's split \(priority, then in proportion to demand\)/);
  assert.ok(8 * 20 + 19 * 10 <= 350);
  // with priority the api is served first
  const cp = config();
  const pall = [svc('api', 20, 4, 12, 5), svc('worker', 10, 4, 30, 0)];
  assert.equal(decide(cp.services.api!, observe(cp, 'api', 4, 120, pall), emptyHistory(), T0).desiredReplicas, 12);
  assert.equal(decide(cp.services.worker!, observe(cp, 'worker', 4, 300, pall), emptyHistory(), T0).desiredReplicas, 11);
});

test('live limit unreadable → hold at the current count, never raise; a readable one caps as a static one does', () => {
  const c = parseConfig(`
sources: { p: { type: prometheus, url: "http://127.0.0.1:9" }, pg: { type: postgres, url: "postgres://x@127.0.0.1:9/db" } }
budgets:
  maindb: { limit: { source: pg, query: max_connections }, headroom: 0.2 }
services:
  api:
    target: { provider: dryrun }
    maxReplicas: 20
    uses: { maindb: 10 }
    metrics: { rps: { source: p, query: rps } }
    hpa: { metrics: [ { type: External, external: { metric: { name: rps }, target: { type: AverageValue, averageValue: "10" } } } ] }
`, 'live.yaml');
  const all = [{ name: 'api', uses: { maindb: 10 }, priority: 0, current: 4 }];
  const down = decide(c.services.api!, observe(c, 'api', 4, 150, all, { maindb: { error: 'connect ECONNREFUSED 127.0.0.1:9' } }), emptyHistory(), T0);
  assert.equal(down.desiredReplicas, 4);
  assert.equal(down.action, 'hold');
  assert.match(down.reason, /held at 4 by maindb: its limit cannot be read \(connect ECONNREFUSED/);
  // 100 × 0.8 = 80 → 8 replicas of 10
  const up = decide(c.services.api!, observe(c, 'api', 4, 150, all, { maindb: { limit: 100 } }), emptyHistory(), T0);
  assert.equal(up.desiredReplicas, 8, up.reason);
  assert.equal(up.reasonCode, 'BudgetLimit');
  // a scale-down still happens without a readable limit
  const low = decide(c.services.api!, observe(c, 'api', 4, 10, all, { maindb: { error: 'down' } }), { ...emptyHistory(), recommendations: [{ time: T0 - 600_000, replicas: 1 }] }, T0);
  assert.equal(low.desiredReplicas, 1, low.reason);
});

test('budget usage: per service and in percent of the usable part', () => {
  const c = config();
  const [u] = budgetUsage(c.budgets!, [svc('api', 20, 9), svc('worker', 10, 17)]);
  assert.equal(u!.used, 350);
  assert.equal(u!.usable, 350);
  assert.equal(u!.percentOfUsable, 100);
  assert.deepEqual(u!.byService.map((s) => s.used), [180, 170]);
});

test('config: unknown budget, missing source and floors that cannot fit are rejected with their paths', () => {
  assert.doesNotThrow(() => config('', '50')); // 35 usable ≥ 1 × 20 + 1 × 10
  assert.throws(() => config('', '40'), /budgets\.maindb\.limit: minReplicas × uses of the services plus reserved need 30, more than the 28 usable/);
  assert.throws(() => parseConfig(`
services:
  api: { target: { provider: dryrun }, maxReplicas: 2, uses: { nodb: 1 } }
`), /services\.api\.uses\.nodb: budget "nodb" is not defined under budgets/);
  assert.throws(() => parseConfig(`
budgets: { maindb: { limit: { source: pg, query: max_connections } } }
services:
  api: { target: { provider: dryrun }, maxReplicas: 2, uses: { maindb: 1 } }
`), /budgets\.maindb\.limit\.source: source "pg" is not defined/);
  assert.throws(() => parseConfig(`
sources: { pg: { type: postgres, url: "postgres://x@127.0.0.1:5/db" } }
budgets: { maindb: { limit: { source: pg, query: max_conections } } }
services:
  api: { target: { provider: dryrun }, maxReplicas: 2, uses: { maindb: 1 } }
`, 'q.yaml'), /q\.yaml:3:\d+: budgets\.maindb\.limit\.query: "max_conections" is not a PostgreSQL metric/);
  assert.throws(() => parseConfig(`
budgets: { maindb: { limit: 10, headroom: 130% } }
services:
  api: { target: { provider: dryrun }, maxReplicas: 2 }
`), /budgets\.maindb\.headroom/);
});

test('a token quota: use per request × capacity.rpsPerReplica × 60 is what one replica can use per minute', () => {
  const c = parseConfig(`
sources: { p: { type: prometheus, url: "http://127.0.0.1:9" } }
budgets: { llm: { limit: 90000, headroom: 15%, kind: tokens, unit: tokens/min } }
services:
  agent:
    target: { provider: dryrun }
    maxReplicas: 20
    capacity: { rpsPerReplica: 10 }
    uses: { llm: { perRequest: 25 } }
    metrics: { rps: { source: p, query: rps } }
    hpa: { metrics: [ { type: External, external: { metric: { name: rps }, target: { type: AverageValue, averageValue: "10" } } } ], behavior: { scaleUp: { policies: [ { type: Percent, value: 1000, periodSeconds: 15 } ] } } }
`, 'tokens.yaml');
  assert.equal(c.services.agent!.uses!.llm, 15000);
  // 90000 less 15% = 76500 → 5 replicas of 15000
  const d = decide(c.services.agent!, observe(c, 'agent', 2, 80, [{ name: 'agent', uses: { llm: 15000 }, priority: 0, current: 2 }]), emptyHistory(), T0);
  assert.equal(d.desiredReplicas, 5, d.reason);
  assert.match(d.reason, /capped at 5 by llm: 5 × 15000 \+ 0 used by other services = 75000, within 76500, the 90000 limit less 15% headroom; alternatives: fewer tokens per request \(caching, batching, shorter prompts\), or a higher llm quota/);
  assert.throws(() => parseConfig(`
budgets: { llm: { limit: 90000, kind: tokens } }
services:
  agent: { target: { provider: dryrun }, maxReplicas: 2, uses: { llm: { perRequest: 25 } } }
`), /services\.agent\.uses\.llm\.perRequest: needs capacity\.rpsPerReplica/);
});
