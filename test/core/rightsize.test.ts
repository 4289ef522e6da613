import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ceilMiB, ceilMillicores, rightsize, rightsizeAll } from '../../src/core/rightsize.js';
import type { RightsizeInput, UsageSample } from '../../src/core/rightsize.js';

const T0 = Date.UTC(2025, 0, 1);
const M = 60_000;
const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

/** n samples one minute apart; cpu(i) and memory(i) give the values. */
function usage(n: number, cpu: (i: number) => number | undefined, memory: (i: number) => number | undefined, step = M): UsageSample[] {
  return Array.from({ length: n }, (_, i) => {
    const s: UsageSample = { t: T0 + i * step };
    const c = cpu(i);
    const m = memory(i);
    if (c !== undefined) s.cpu = c;
    if (m !== undefined) s.memory = m;
    return s;
  });
}

describe('rightsize', () => {
  it('over-provisioned service: both seed rules lower, with cost change', () => {
    // cpu: 57 samples at 0.1 and 0.2, 0.3, 0.4 → sorted index 59 × 0.95 = 56.05 → 0.1 + 0.05 × 0.1 = 0.105 (p95)
    const cpuVals = [...Array(57).fill(0.1), 0.2, 0.3, 0.4];
    const input: RightsizeInput = {
      service: 'api',
      samples: usage(60, (i) => cpuVals[i], (i) => (i === 30 ? 300 * Mi : 200 * Mi)),
      current: { requests: { cpu: 1, memory: 1 * Gi }, limits: { cpu: 2, memory: 1 * Gi } },
      replicas: 3,
    };
    const r = rightsize(input, { prices: { cpuHour: 0.04, gibHour: 0.005 } });
    const rec = r.recommendation!;
    assert.ok(rec, r.why);
    // average = (57 × 0.1 + 0.9) / 60 = 0.11 = 11% of 1 core < 30% → lower to ceil(0.105 × 1.15 = 0.12075) = 0.121
    assert.equal(rec.cpu.action, 'lower');
    assert.equal(rec.cpu.to, 0.121);
    assert.ok(Math.abs(rec.cpu.average - 0.11) < 1e-12);
    assert.ok(Math.abs(rec.cpu.percentile - 0.105) < 1e-12);
    // memory peak 300Mi is 29.3% of 1Gi < 50% → limit 300 × 1.15 = 345Mi
    assert.equal(rec.memory.action, 'lower');
    assert.equal(rec.memory.to, 345 * Mi);
    assert.deepEqual(rec.requests, { cpu: 0.121, memory: 345 * Mi });
    assert.deepEqual(rec.limits, { cpu: 2, memory: 345 * Mi });
    // cost: now (1 × 0.04 + 1 × 0.005) × 3 = 0.135/h; after (0.121 × 0.04 + 345/1024 × 0.005) × 3 = 0.0195737109375/h
    const cost = rec.cost!;
    assert.ok(Math.abs(cost.currentPerHour - 0.135) < 1e-12);
    assert.ok(Math.abs(cost.recommendedPerHour - 0.0195737109375) < 1e-12);
    assert.ok(Math.abs(cost.deltaPerHour - -0.1154262890625) < 1e-12);
    assert.ok(Math.abs(cost.deltaPerMonth - -84.261191015625) < 1e-9);
    assert.match(r.why, /average cpu 0\.11 cores is 11% of the 1 cores request \(< 30%\): lower the request to 0\.121 cores \(p95 0\.105 cores × 1\.15\)/);
    assert.match(r.why, /memory peak 300Mi is 29\.3% of the 1024Mi limit \(< 50%\): lower the limit to 345Mi/);
  });

  it('under-provisioned service: raise cpu request and memory limit', () => {
    const r = rightsize({
      service: 'worker',
      samples: usage(60, () => 0.9, () => 600 * Mi),
      current: { requests: { cpu: 0.5, memory: 512 * Mi }, limits: { cpu: 0.8, memory: 512 * Mi } },
    });
    const rec = r.recommendation!;
    assert.equal(rec.cpu.action, 'raise');
    assert.equal(rec.cpu.to, 1.035); // 0.9 × 1.15
    assert.equal(rec.limits.cpu, 1.035); // a limit below the new request is lifted to it
    assert.equal(rec.memory.action, 'raise');
    assert.equal(rec.memory.to, 690 * Mi); // 600 × 1.15
    assert.match(r.why, /OOM risk/);
    assert.equal(rec.cost, undefined);
  });

  it('fitting service: keep both', () => {
    // cpu 0.4 mostly, a few 0.5: average well above 30% of 1 core; p95 0.5 × 1.15 = 0.575 below the request
    const r = rightsize({
      service: 'web',
      samples: usage(60, (i) => (i % 10 === 0 ? 0.5 : 0.4), () => 300 * Mi),
      current: { requests: { cpu: 1, memory: 512 * Mi }, limits: { memory: 512 * Mi } },
    });
    const rec = r.recommendation!;
    assert.equal(rec.cpu.action, 'keep');
    assert.equal(rec.cpu.to, 1);
    assert.equal(rec.memory.action, 'keep'); // 300/512 = 58.6% ≥ 50%
    assert.equal(rec.memory.to, 512 * Mi);
    assert.equal(rec.requests.memory, 345 * Mi);
    assert.equal(rec.limits.cpu, undefined);
  });

  it('spiky cpu: a low average does not lower the request when p95 needs more', () => {
    // 54 × 0.1 and 6 × 2.0: average 0.29 < 30% of 1 core, but index 56.05 falls in the 2.0s → p95 2.0 → 2.3
    const r = rightsize({
      service: 'batch',
      samples: usage(60, (i) => (i < 54 ? 0.1 : 2.0), () => 300 * Mi),
      current: { requests: { cpu: 1, memory: 512 * Mi }, limits: { memory: 512 * Mi } },
    });
    assert.equal(r.recommendation!.cpu.action, 'raise');
    assert.equal(r.recommendation!.cpu.to, 2.3);
  });

  it('percentile is configurable (p50 of 0.00..0.59 is 0.295 → 0.34)', () => {
    const r = rightsize(
      { service: 's', samples: usage(60, (i) => i / 100, () => 300 * Mi), current: {} },
      { cpuPercentile: 50 },
    );
    assert.equal(r.recommendation!.cpu.action, 'set');
    assert.equal(r.recommendation!.cpu.to, 0.34);
    assert.equal(r.recommendation!.memory.action, 'set');
  });

  it('floors at the minimums (25m cpu, 250Mi memory)', () => {
    const r = rightsize({ service: 'tiny', samples: usage(60, () => 0.001, () => 10 * Mi), current: {} });
    assert.equal(r.recommendation!.cpu.to, 0.025);
    assert.equal(r.recommendation!.memory.to, 250 * Mi);
  });

  it('cost needs current requests and says so', () => {
    const r = rightsize({ service: 's', samples: usage(60, () => 0.2, () => 300 * Mi), current: {} }, { prices: { cpuHour: 1, gibHour: 1 } });
    assert.equal(r.recommendation!.cost, undefined);
    assert.match(r.recommendation!.costNote!, /current cpu and memory requests are needed/);
  });

  const refusals: Array<[string, UsageSample[], string]> = [
    ['12 samples', usage(12, () => 0.2, () => 300 * Mi), 'only 12 samples; need 60 (1h at 1m)'],
    ['no samples', [], 'only 0 samples; need 60 (1h at 1m)'],
    ['30 of 60 with cpu', usage(60, (i) => (i % 2 ? 0.2 : undefined), () => 300 * Mi), 'only 30 cpu samples; need 60 (1h at 1m)'],
    ['memory missing', usage(60, () => 0.2, () => undefined), 'only 0 memory samples; need 60 (1h at 1m)'],
    ['60 samples 10s apart', usage(60, () => 0.2, () => 300 * Mi, 10_000), 'samples cover only 9m50s; need 1h of history'],
  ];
  for (const [name, samples, why] of refusals) {
    it(`never silently skips: ${name}`, () => {
      const r = rightsize({ service: 'api', samples, current: {} });
      assert.deepEqual(r, { service: 'api', recommendation: null, why });
    });
  }

  it('history requirement follows the options (2h at 30s → 240 samples)', () => {
    const r = rightsize({ service: 'a', samples: usage(100, () => 0.2, () => 300 * Mi), current: {} }, { minHistoryMs: 2 * 3_600_000, sampleIntervalMs: 30_000 });
    assert.equal(r.why, 'only 100 samples; need 240 (2h at 30s)');
  });

  it('rightsizeAll returns one result per service', () => {
    const rs = rightsizeAll([
      { service: 'a', samples: usage(60, () => 0.2, () => 300 * Mi), current: {} },
      { service: 'b', samples: [], current: {} },
    ]);
    assert.deepEqual(rs.map((r) => [r.service, r.recommendation === null]), [['a', false], ['b', true]]);
  });
});

describe('rounding', () => {
  const cpu: Array<[number, number]> = [[0.12075, 0.121], [0.105 * 1.15, 0.121], [0.9 * 1.15, 1.035], [0.5, 0.5], [0.1 + 0.2, 0.3]];
  for (const [v, want] of cpu) it(`ceilMillicores(${v}) = ${want}`, () => assert.equal(ceilMillicores(v), want));
  const mem: Array<[number, number]> = [[200 * Mi * 1.15, 230 * Mi], [230 * Mi + 1, 231 * Mi], [Mi, Mi]];
  for (const [v, want] of mem) it(`ceilMiB(${v}) = ${want / Mi}Mi`, () => assert.equal(ceilMiB(v), want));
});
