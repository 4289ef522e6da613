// `scalepilot plan`: the VoiceAssist runbook script's numbers exactly, month rows, limit dates, fitted growth,
// -o json, the HTML report and bad input.
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildPlan, parseHistoryCsv } from '../../src/capacity-report/plan.js';
import { emptyPlanInputs, mergePlanInputs, parseGb, parsePlanFile, type PlanInputs } from '../../src/capacity-report/plan-file.js';
import { InputError } from '../../src/cli/output.js';
import { register } from '../../src/cli/plan.js';
import { readReportData } from '../../src/report/html.js';
import { tempDir } from '../helpers/env.js';
import { ensureBuilt, ROOT, runBin } from '../fixtures/capacity-report/built-cli.js';
import { runCommand } from '../fixtures/capacity-report/run-command.js';

// The runbook's own script, run with python3 to produce this file (test/fixtures/capacity-report/*.py).
const SCRIPT_OUTPUT = readFileSync(join(ROOT, 'test/fixtures/capacity-report/voiceassist_capacity_projection.out'), 'utf8');
const VOICEASSIST_FLAGS = [
  '--users', '1000', '--rps', '50', '--storage', '10GB', '--growth', '1.5', '--months', '6',
  '--rps-per-instance', '50', '--connections-per-1000-users', '100', '--redis-gb-per-10000-users', '1',
];
const NOW = Date.parse('2025-11-21T09:30:00Z');

function voiceassist(extra: Partial<PlanInputs> = {}): PlanInputs {
  return mergePlanInputs(
    { ...emptyPlanInputs(), users: 1000, rps: 50, storageGb: 10, growth: { kind: 'compound', monthlyFactor: 1.5 }, months: 6, rpsPerInstance: 50, connectionsPer1000Users: 100, redisGbPer10000Users: 1 },
    { ...emptyPlanInputs(), ...extra },
  );
}

describe('plan: the VoiceAssist projection', () => {
  it('prints the runbook script\'s report exactly', () => {
    assert.equal(buildPlan(voiceassist(), NOW).summary + '\n', SCRIPT_OUTPUT);
  });

  it('the command with the runbook\'s flags starts with the script\'s output, then one row a month', async () => {
    const r = await runCommand(register, ['plan', ...VOICEASSIST_FLAGS, '--start', '2025-11-21']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith(SCRIPT_OUTPUT), r.stdout.slice(0, 800));
    const rows = r.stdout.split('\n').filter((l) => /^\d+\s+\d{4}-\d\d-\d\d\s/.test(l));
    assert.equal(rows.length, 7, r.stdout);
    assert.match(rows[0]!, /^0\s+2025-11-21\s+1,000\s+50\.0\s+10\.0\s+1\s+100\s+1\s/);
    assert.match(rows[6]!, /^6\s+2026-05-21\s+11,391\s+569\.5\s+113\.9\s+12\s+1140\s+2\s+large$/);
  });

  // Hand-worked from the runbook's formulas: users × 1.5^m, ceil(rps / 50), ceil(users / 1000 × 100), ceil(users / 10,000).
  const rows: Array<[month: number, users: number, instances: number, connections: number, redis: number]> = [
    [0, 1000, 1, 100, 1],
    [1, 1500, 2, 150, 1],
    [2, 2250, 3, 225, 1],
    [3, 3375, 4, 338, 1],
    [4, 5062.5, 6, 507, 1],
    [5, 7593.75, 8, 760, 1],
    [6, 11390.625, 12, 1140, 2],
  ];
  for (const [month, users, instances, connections, redis] of rows) {
    it(`month ${month}: ${users} users → ${instances} instances, ${connections} connections, ${redis} GB Redis`, () => {
      const row = buildPlan(voiceassist(), NOW).months[month]!;
      assert.equal(row.users, users);
      assert.equal(row.instances, instances);
      assert.equal(row.dbConnections, connections);
      assert.equal(row.redisGb, redis);
    });
  }

  it('recommends the runbook setup and sizes the last month', () => {
    const p = buildPlan(voiceassist(), NOW);
    assert.deepEqual(p.setup, { application: '12 instances with auto-scaling', database: 'Primary + 2 read replicas + PgBouncer', redis: 'Single instance (2GB)' });
    assert.equal(p.tier.tier, 'large');
    assert.deepEqual(p.phases.map((ph) => ph.name), ['pilot', '10x', '100x']);
  });
});

describe('plan: when limits are reached', () => {
  // months = ln(usable / demand now) / ln(1.5), dated from 2025-11-21 by calendar months
  const cases: Array<{ name: string; limits: PlanInputs['limits']; extra?: Partial<PlanInputs>; limit: string; month: number | null; date: string | null }> = [
    { name: 'maxReplicas 10 at 1 replica of load today', limits: { maxReplicas: 10 }, limit: 'maxReplicas', month: Math.log(10) / Math.log(1.5), date: '2026-05-11' },
    { name: 'max_connections 200 keeping 30% free (140 usable, 100 used)', limits: { maxConnections: 200 }, limit: 'maxConnections', month: Math.log(1.4) / Math.log(1.5), date: '2025-12-15' },
    {
      name: 'a 90,000 tokens/min quota under the 85% ceiling at 20 tokens a request',
      limits: { tokenQuotaPerMinute: 90_000 },
      extra: { tokensPerRequest: 20 },
      limit: 'tokenQuota',
      month: Math.log((90_000 * 0.85) / 60_000) / Math.log(1.5),
      date: '2025-12-08',
    },
    { name: 'max_connections already short of headroom', limits: { maxConnections: 120 }, limit: 'maxConnections', month: 0, date: '2025-11-21' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = buildPlan(voiceassist({ start: Date.parse('2025-11-21'), limits: c.limits, ...c.extra }), NOW);
      const l = p.limits.find((x) => x.limit === c.limit)!;
      assert.ok(l, JSON.stringify(p.limits));
      if (c.month === null) assert.equal(l.month, null);
      else assert.ok(Math.abs(l.month! - c.month) < 1e-9, `${l.month} vs ${c.month}`);
      assert.equal(l.date, c.date);
    });
  }

  it('takes maxReplicas and limits from the service in --config', async () => {
    const dir = tempDir('scalepilot-plan-');
    try {
      const cfg = join(dir.path, 'scalepilot.yaml');
      writeFileSync(cfg, 'services:\n  web:\n    target: { provider: dryrun }\n    maxReplicas: 10\n    limits: { maxConnections: 200 }\n');
      const r = await runCommand(register, ['plan', '-c', cfg, '-s', 'web', ...VOICEASSIST_FLAGS, '--start', '2025-11-21', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.deepEqual(j.limits.map((l: { limit: string; date: string }) => [l.limit, l.date]), [['maxReplicas', '2026-05-11'], ['maxConnections', '2025-12-15']]);
    } finally {
      dir.cleanup();
    }
  });
});

describe('plan: growth fitted from history', () => {
  const dir = tempDir('scalepilot-plan-history-');
  after(() => dir.cleanup());
  const csv = (name: string, rows: string[]) => {
    const f = join(dir.path, name);
    writeFileSync(f, ['month,users,rps', ...rows].join('\n') + '\n');
    return f;
  };

  it('exponential: a series growing ×1.2 a month fits ×1.2 and starts from the latest month', () => {
    const f = csv('exp.csv', [0, 1, 2, 3, 4, 5].map((m) => `2025-0${m + 1},${1000 * 1.2 ** m},${50 * 1.2 ** m}`));
    const p = buildPlan({ ...emptyPlanInputs(), growth: { kind: 'fit', method: 'exponential', history: f }, months: 3 }, NOW);
    assert.equal(p.growth.model.kind, 'compound');
    assert.ok(Math.abs((p.growth.model as { monthlyFactor: number }).monthlyFactor - 1.2) < 1e-9);
    assert.ok(Math.abs(p.inputs.users - 1000 * 1.2 ** 5) < 1e-6);
    assert.ok(Math.abs(p.months[3]!.users - 1000 * 1.2 ** 8) < 1e-3);
  });

  it('linear: +100 users a month continues at +100 a month', () => {
    const f = csv('lin.csv', [0, 1, 2, 3].map((m) => `m${m},${500 + 100 * m},${10 + 2 * m}`));
    const p = buildPlan({ ...emptyPlanInputs(), growth: { kind: 'fit', method: 'linear', history: f }, months: 2 }, NOW);
    assert.ok(Math.abs(p.months[2]!.users - 1000) < 1e-9, String(p.months[2]!.users));
  });

  it('holt-winters: a seasonal history gives a forecast path over the months asked', () => {
    const season = [1, 1.3, 0.8];
    const f = csv('hw.csv', Array.from({ length: 12 }, (_, m) => `m${m},${Math.round(1000 * (1 + 0.05 * m) * season[m % 3]!)},50`));
    const p = buildPlan({ ...emptyPlanInputs(), growth: { kind: 'fit', method: 'holt-winters', history: f, season: 3 }, months: 6 }, NOW);
    assert.equal(p.growth.model.kind, 'series');
    assert.equal(p.months.length, 7);
    assert.ok(p.months.every((r) => Number.isFinite(r.users) && r.users > 0));
  });

  it('a history whose fit overflows names the file, the column and the fit, for every method', () => {
    // each value is a finite number, but the fit's sums are not: the growth came out as NaN or Infinity before
    const f = csv('huge.csv', ['m0,1000,10', 'm1,1e308,20', 'm2,1e308,30', 'm3,1e308,40']);
    for (const method of ['linear', 'exponential', 'holt-winters'] as const) {
      assert.throws(
        () => buildPlan({ ...emptyPlanInputs(), growth: { kind: 'fit', method, history: f, season: 2 }, months: 2 }, NOW),
        (e: unknown) => e instanceof InputError && e.message.includes(`growth history ${f}, column "users": the ${method} fit`) && /not a finite number/.test(e.message),
        method,
      );
    }
  });

  it('a history row that is not a number names file and line', () => {
    assert.throws(() => parseHistoryCsv('month,users\n1,100\n2,lots\n', 'h.csv'), (e: unknown) => e instanceof InputError && /h\.csv:3: users "lots" is not a number/.test(e.message));
  });
});

describe('plan: files and output', () => {
  const dir = tempDir('scalepilot-plan-out-');
  before(async () => {
    await ensureBuilt();
  });
  after(() => dir.cleanup());

  it('-o json has the inputs, a row a month, summary, phases and limits', async () => {
    const r = await runBin(['plan', ...VOICEASSIST_FLAGS, '--start', '2025-11-21', '--max-replicas', '10', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    for (const k of ['inputs', 'growth', 'months', 'summary', 'setup', 'tier', 'phases', 'limits', 'quotas', 'notes']) assert.ok(k in j, `missing ${k}`);
    assert.equal(j.months.length, 7);
    assert.equal(j.summary + '\n', SCRIPT_OUTPUT);
    assert.equal(j.months[6].instances, 12);
    assert.equal(j.limits[0].limit, 'maxReplicas');
    assert.equal(j.inputs.start, '2025-11-21');
  });

  it('--report writes an HTML page with the projection charts', async () => {
    const html = join(dir.path, 'plan.html');
    const r = await runBin(['plan', ...VOICEASSIST_FLAGS, '--start', '2025-11-21', '--max-connections', '200', '--report', html]);
    assert.equal(r.code, 0, r.stderr);
    const page = readFileSync(html, 'utf8');
    const data = readReportData(page)!;
    assert.deepEqual(data.charts.map((c) => c.title), ['Users and requests per second', 'Instances and database connections', 'Storage and Redis memory']);
    assert.equal(data.charts[0]!.x.length, 7);
    assert.equal(data.charts[0]!.x[0], Date.parse('2025-11-21T00:00:00Z') / 1000);
    const instances = data.charts[1]!.series.find((s) => s.label === 'instances')!;
    assert.deepEqual(instances.values, [1, 2, 3, 4, 6, 8, 12]);
    assert.ok(data.charts[1]!.series.some((s) => s.label === 'usable max_connections' && s.values.every((v) => v === 140)));
    assert.match(page, /Primary \+ 2 read replicas \+ PgBouncer/);
  });

  const bad: Array<{ name: string; args: string[]; err: RegExp }> = [
    { name: 'missing inputs are named', args: ['plan', '--rps', '50'], err: /plan needs users \(--users 1000\), growth .*months/ },
    { name: 'a size that is not a size', args: ['plan', ...VOICEASSIST_FLAGS.slice(0, 4), '--storage', 'ten', '--growth', '1.5', '--months', '6'], err: /--storage: "ten" is not a size/ },
    { name: 'a months count that is not whole', args: ['plan', '--users', '1', '--rps', '1', '--growth', '1.5', '--months', '2.5'], err: /--months 2\.5: must be a whole number/ },
    { name: '--growth and --history together', args: ['plan', '--users', '1', '--rps', '1', '--growth', '1.5', '--history', 'x.csv', '--months', '2'], err: /--growth and --history both set the growth/ },
  ];
  for (const c of bad) {
    it(`bad input exits 2: ${c.name}`, async () => {
      const r = await runBin(c.args);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, c.err);
    });
  }
});

describe('plan file', () => {
  it('reads sizes, growth forms, limits, quotas and phases', () => {
    const p = parsePlanFile(
      [
        'users: 10', 'rps: 10', 'storage: 500MB', 'growth: {linear: 0.5}', 'months: 2',
        'limits: {maxReplicas: 20, storage: 1TB, redisMemory: 4Gi}',
        'quotas: [{name: a, tokensPerDay: 1440000, usedPerDay: 720000}, {name: b, tokensPerMinute: 100, usedPerMinute: 50}]',
        'phases: [{name: p6, multiplier: 1, cpuTarget: 70, memoryTarget: 75}]',
      ].join('\n'),
      'p.yaml',
    );
    assert.equal(p.storageGb, 0.5);
    assert.deepEqual(p.growth, { kind: 'linear', monthlyIncrease: 0.5 });
    assert.deepEqual(p.limits, { maxReplicas: 20, storageGb: 1000, redisGb: 4 * 1024 ** 3 / 1e9 });
    assert.deepEqual(p.quotas, [
      { name: 'a', quotaPerMinute: 1000, usedPerMinute: 500, unit: 'day' },
      { name: 'b', quotaPerMinute: 100, usedPerMinute: 50, unit: 'minute' },
    ]);
    assert.equal(p.phases![0]!.name, 'p6');
  });

  const bad: Array<[text: string, err: RegExp]> = [
    ['userz: 5', /unknown field "userz"/],
    ['users: many', /p\.yaml\.users: must be a number/],
    ['growth: {fit: cubic, history: h.csv}', /growth\.fit: "cubic" must be linear, exponential or holt-winters/],
    ['quotas: [{name: a, tokensPerDay: 5}]', /quotas\[0\]: give exactly one of usedPerDay or usedPerMinute/],
    ['phases: [{name: x, multiplier: 2, cpuTarget: 170, memoryTarget: 70}]', /phases\[0\]\.cpuTarget: must be at most 100/],
    // once: a RangeError from the date of month 2^53, and Infinity GB
    ['months: 9007199254740992', /p\.yaml\.months: must be at most 600/],
    ['start: 1e308', /start: 1e\+308 is not a date/],
    [`storage: ${'9'.repeat(400)}GB`, /storage: "9{400}GB" is not a size/],
    ['storage: 0.0000000001', /storage: 1e-10 is less than a byte/],
  ];
  for (const [text, err] of bad) {
    it(`rejects ${text}`, () => {
      assert.throws(() => parsePlanFile(text, 'p.yaml'), (e: unknown) => e instanceof InputError && err.test(e.message));
    });
  }

  const sizes: Array<[string, number]> = [['10GB', 10], ['10', 10], ['500 MB', 0.5], ['2TB', 2000], ['1Gi', 1.073741824]];
  for (const [text, gb] of sizes) {
    it(`size ${text} is ${gb} GB`, () => assert.ok(Math.abs(parseGb(text, 'x') - gb) < 1e-12));
  }
});
