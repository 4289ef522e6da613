import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  addFractionalMonths,
  addMonths,
  CapacityError,
  formatCapacityProjection,
  projectCapacity,
  pyFixed,
  recommendSetup,
} from '../../../src/core/capacity/index.js';

const voiceAssist = { users: 1000, rps: 50, storageGb: 10, growth: 1.5, months: 6 };

describe('projectCapacity — VoiceAssist scaling runbook', () => {
  // month: multiplier 1.5^m; users, rps, storage × it; instances ceil(rps/50); connections ceil(users/1000×100);
  // Redis ceil(users/10000)
  const expected: Array<[number, number, number, number, number, number, number, number]> = [
    [0, 1, 1000, 50, 10, 1, 100, 1],
    [1, 1.5, 1500, 75, 15, 2, 150, 1],
    [2, 2.25, 2250, 112.5, 22.5, 3, 225, 1],
    [3, 3.375, 3375, 168.75, 33.75, 4, 338, 1],
    [4, 5.0625, 5062.5, 253.125, 50.625, 6, 507, 1],
    [5, 7.59375, 7593.75, 379.6875, 75.9375, 8, 760, 1],
    [6, 11.390625, 11390.625, 569.53125, 113.90625, 12, 1140, 2],
  ];
  const rows = projectCapacity({ ...voiceAssist, start: Date.UTC(2025, 0, 31) });
  for (const [month, multiplier, users, rps, storageGb, instances, dbConnections, redisGb] of expected) {
    it(`month ${month}: ${users} users, ${rps} rps → ${instances} instances, ${dbConnections} connections, ${redisGb} GB Redis`, () => {
      const r = rows[month]!;
      assert.deepEqual(
        [r.month, r.multiplier, r.users, r.rps, r.storageGb, r.instances, r.dbConnections, r.redisGb],
        [month, multiplier, users, rps, storageGb, instances, dbConnections, redisGb],
      );
    });
  }
  it('dates each month from the start, clamping to month ends', () => {
    assert.deepEqual(rows.map((r) => r.date), ['2025-01-31', '2025-02-28', '2025-03-31', '2025-04-30', '2025-05-31', '2025-06-30', '2025-07-31']);
  });

  it("prints the runbook script's report exactly", () => {
    assert.equal(
      formatCapacityProjection(voiceAssist),
      [
        'Capacity Projection for 6 months:',
        '==================================================',
        'Current Users: 1,000',
        'Projected Users: 11,391 (11.4x)',
        '',
        'Current RPS: 50',
        'Projected RPS: 570 (11.4x)',
        '',
        'Resource Requirements:',
        '  Application Instances: 12',
        '  Database Connections: 1140',
        '  Database Storage: 114 GB',
        '  Redis Memory: 2 GB',
        '',
        'Recommended Setup:',
        '  Application: 12 instances with auto-scaling',
        '  Database: Primary + 2 read replicas + PgBouncer',
        '  Redis: Single instance (2GB)',
      ].join('\n'),
    );
  });

  it('rounds exact ties to even as Python does (2 months: 2,250 users, 112.5 rps → 112, 22.5 GB → 22, 2.25x → 2.2x)', () => {
    const text = formatCapacityProjection({ ...voiceAssist, months: 2 });
    assert.match(text, /^Projected Users: 2,250 \(2\.2x\)$/m);
    assert.match(text, /^Projected RPS: 112 \(2\.2x\)$/m);
    assert.match(text, /^ {2}Database Storage: 22 GB$/m);
    assert.match(text, /^ {2}Application: 3 instances with load balancer$/m);
  });

  it('uses the configured ratios', () => {
    const [row] = projectCapacity({ users: 25_000, rps: 260, storageGb: 1, growth: 1, months: 0, rpsPerInstance: 100, dbConnectionsPer1000Users: 20, usersPerRedisGb: 5_000 });
    assert.deepEqual([row!.instances, row!.dbConnections, row!.redisGb], [3, 500, 5]);
  });

  it('accepts a linear growth model', () => {
    const rows2 = projectCapacity({ users: 1000, rps: 100, storageGb: 10, growth: { kind: 'linear', monthlyIncrease: 0.25 }, months: 4 });
    assert.deepEqual(rows2.map((r) => r.rps), [100, 125, 150, 175, 200]);
  });

  it('reports every bad field at once', () => {
    assert.throws(
      () => projectCapacity({ users: -1, rps: 50, storageGb: 10, growth: 0, months: 1.5 }),
      (e: unknown) =>
        e instanceof CapacityError &&
        /capacity\.users must be a number >= 0/.test(e.message) &&
        /capacity\.months must be a whole number/.test(e.message) &&
        /capacity\.growth 0 must be a monthly factor above 0/.test(e.message),
    );
  });
  it('a forecast path too short for the months asked is refused', () => {
    assert.throws(() => projectCapacity({ users: 1, rps: 1, storageGb: 1, growth: { kind: 'series', factors: [1, 1.1] }, months: 3 }), /does not reach month 2/);
  });
  it('inputs that overflow together are refused with the quantity and the month, never projected as Infinity or NaN', () => {
    assert.throws(() => projectCapacity({ users: 1e308, rps: 1, storageGb: 1, growth: 10, months: 3 }), /users grows out of range \(not a finite number\) by month 1; project at most 0 months/);
    assert.throws(() => projectCapacity({ users: 1, rps: 1e300, storageGb: 1, growth: 1e3, months: 10 }), /rps grows out of range .* by month 3;/);
    assert.throws(() => projectCapacity({ users: 1, rps: 10, storageGb: 1, growth: 1.5, months: 2, rpsPerInstance: 1e-320 }), /instances is out of range today/);
  });
});

describe('recommendSetup thresholds', () => {
  const cases: Array<[number, number, number, string, string, string]> = [
    [5, 150, 4, '5 instances with load balancer', 'Primary + PgBouncer', 'Single instance (4GB)'],
    [6, 151, 5, '6 instances with auto-scaling', 'Primary + 2 read replicas + PgBouncer', '3-node cluster'],
  ];
  for (const [instances, dbConnections, redisGb, app, db, redis] of cases) {
    it(`${instances} instances, ${dbConnections} connections, ${redisGb} GB`, () => {
      assert.deepEqual(recommendSetup({ instances, dbConnections, redisGb }), { application: app, database: db, redis });
    });
  }
  it('custom thresholds', () => {
    assert.equal(recommendSetup({ instances: 6, dbConnections: 1, redisGb: 1 }, { loadBalancerUpToInstances: 10 }).application, '6 instances with load balancer');
  });
});

describe("pyFixed (Python's format)", () => {
  const cases: Array<[number, number, boolean, string]> = [
    [2.25, 1, false, '2.2'], // exact tie → even
    [2.35, 1, false, '2.4'], // 2.35 is stored as 2.35000000000000008…, above the tie
    [0.5, 0, false, '0'],
    [1.5, 0, false, '2'],
    [2.5, 0, false, '2'],
    [112.5, 0, false, '112'],
    [0.125, 2, false, '0.12'],
    [0.375, 2, false, '0.38'],
    [11390.625, 0, true, '11,391'],
    [1234567.891, 2, true, '1,234,567.89'],
    [999.5, 0, true, '1,000'],
    [1e21, 0, true, '1,000,000,000,000,000,000,000'],
    [-0.4, 0, false, '-0'],
    [-2.5, 0, false, '-2'],
    [5e-324, 3, false, '0.000'],
    [Number.NaN, 1, false, 'nan'],
  ];
  for (const [x, d, g, want] of cases) it(`${x} .${d}f${g ? ' grouped' : ''} → ${want}`, () => assert.equal(pyFixed(x, d, g), want));
});

describe('calendar months', () => {
  it('adds whole months clamping the day', () => {
    assert.equal(new Date(addMonths(Date.UTC(2024, 0, 31), 1)).toISOString(), '2024-02-29T00:00:00.000Z');
    assert.equal(new Date(addMonths(Date.UTC(2024, 10, 15), 3)).toISOString(), '2025-02-15T00:00:00.000Z');
  });
  it('adds a fraction of the following month', () => {
    // 1.5 months from Jan 1 2025: Feb 1 + half of February's 28 days = Feb 15
    assert.equal(new Date(addFractionalMonths(Date.UTC(2025, 0, 1), 1.5)).toISOString(), '2025-02-15T00:00:00.000Z');
  });
});
