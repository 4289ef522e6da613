import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { applyResize, applyScale, describeQuantity, expandBand, validateBand, validateRule } from '../../../src/core/rules/index.js';
import type { ResizeAction, ScaleAction, SustainedRule } from '../../../src/core/rules/index.js';

const Mi = 1024 * 1024;

describe('applyScale', () => {
  const cases: Array<[ScaleAction['mode'], number, number, number]> = [
    // mode, amount, current, expected
    ['add', 1, 3, 4],
    ['add', -1, 3, 2],
    ['add', -5, 3, 0],
    ['add', 2, 0, 2],
    ['percent', 50, 3, 5], // 4.5 rounds up
    ['percent', 50, 4, 6],
    ['percent', -50, 3, 2], // 1.5 rounds up: scale-down stays cautious
    ['percent', 10, 10, 11],
    ['percent', 10, 100, 110], // 100 × 1.1 = 110.00000000000001 must not become 111
    ['percent', 10, 3, 4], // 3.3 → 4
    ['percent', -10, 3, 2], // 2.7 would round to 3 (no change); at least one replica moves
    ['percent', 100, 0, 1], // nothing to grow from: at least one replica
    ['multiply', 2, 3, 6],
    ['multiply', 2, 0, 1],
    ['multiply', 0.5, 5, 3], // 2.5 → 3
    ['multiply', 0.7, 10, 7],
    ['multiply', 1.1, 100, 110], // same float hazard through multiply
    ['multiply', 1.5, 1, 2],
    ['set', 7, 3, 7],
    ['set', 0, 3, 0],
  ];
  for (const [mode, amount, current, expected] of cases) {
    it(`${mode} ${amount} from ${current} → ${expected}`, () => {
      assert.equal(applyScale({ kind: 'scale', mode, amount }, current), expected);
    });
  }
});

describe('applyResize', () => {
  const cpu = (mode: ResizeAction['mode'], amount: number, extra: Partial<ResizeAction> = {}): ResizeAction => ({
    kind: 'resize',
    resource: 'cpu',
    field: 'requests',
    mode,
    amount,
    ...extra,
  });
  const mem = (mode: ResizeAction['mode'], amount: number, extra: Partial<ResizeAction> = {}): ResizeAction => ({
    kind: 'resize',
    resource: 'memory',
    field: 'limits',
    mode,
    amount,
    ...extra,
  });
  const cases: Array<[string, ResizeAction, number, number]> = [
    ['cpu +50%', cpu('percent', 50), 0.5, 0.75],
    ['cpu +0.5 capped at 1.2', cpu('add', 0.5, { max: 1.2 }), 1, 1.2],
    ['cpu x1.1 rounds to millicores', cpu('multiply', 1.1), 0.333, 0.366],
    ['cpu -50% floored at 0.25', cpu('percent', -50, { min: 0.25 }), 0.4, 0.25],
    ['cpu already above max is not lowered by a raise', cpu('add', 0.5, { max: 1 }), 2, 2],
    ['memory x2 capped at 768Mi', mem('multiply', 2, { max: 768 * Mi }), 512 * Mi, 768 * Mi],
    ['memory +25%', mem('percent', 25), 512 * Mi, 640 * Mi],
    ['memory at max stays', mem('percent', 25, { max: 512 * Mi }), 512 * Mi, 512 * Mi],
    ['memory set', mem('set', 1024 * Mi), 512 * Mi, 1024 * Mi],
  ];
  for (const [name, action, from, expected] of cases) {
    it(name, () => assert.equal(applyResize(action, from), expected));
  }
});

describe('validateRule / validateBand', () => {
  const good: SustainedRule = {
    name: 'cpu-high',
    metric: 'cpu',
    op: '>',
    threshold: 70,
    forMs: 600_000,
    severity: 'warning',
    action: { kind: 'scale', mode: 'add', amount: 1 },
    cooldownMs: 300_000,
  };
  it('accepts a well-formed rule', () => assert.deepEqual(validateRule(good), []));
  const bad: Array<[string, Partial<SustainedRule> | Record<string, unknown>, RegExp]> = [
    ['op', { op: '=>' }, /rules\.cpu-high\.op "=>" must be one of/],
    ['threshold', { threshold: Number.NaN }, /threshold must be a number/],
    ['for', { forMs: -1 }, /\.for must be a duration/],
    ['severity', { severity: 'page' }, /severity "page" must be warning or critical/],
    ['fractional add', { action: { kind: 'scale', mode: 'add', amount: 1.5 } }, /whole number of replicas/],
    ['multiply 0', { action: { kind: 'scale', mode: 'multiply', amount: 0 } }, /must be above 0/],
    ['percent -100', { action: { kind: 'scale', mode: 'percent', amount: -100 } }, /above -100/],
    ['mode', { action: { kind: 'scale', mode: 'double', amount: 2 } }, /mode "double" must be one of/],
    [
      'resize min > max',
      { action: { kind: 'resize', resource: 'cpu', field: 'requests', mode: 'add', amount: 1, min: 2, max: 1 } },
      /min 2 is above max 1/,
    ],
  ];
  for (const [name, patch, re] of bad) {
    it(`rejects bad ${name}`, () => {
      const problems = validateRule({ ...good, ...patch } as SustainedRule);
      assert.ok(problems.some((p) => re.test(p)), problems.join('\n'));
    });
  }
  const band = {
    name: 'cpu',
    metric: 'cpu',
    upper: 70,
    lower: 30,
    upForMs: 600_000,
    downForMs: 3_600_000,
    up: { kind: 'scale' as const, mode: 'add' as const, amount: 1 },
    down: { kind: 'scale' as const, mode: 'add' as const, amount: -1 },
    upCooldownMs: 300_000,
    downCooldownMs: 600_000,
  };
  it('expands a band into an up rule above upper and a down rule below lower', () => {
    const [up, down] = expandBand(band);
    assert.deepEqual([up.name, up.op, up.threshold, up.forMs, up.cooldownMs], ['cpu/up', '>', 70, 600_000, 300_000]);
    assert.deepEqual([down.name, down.op, down.threshold, down.forMs, down.cooldownMs], ['cpu/down', '<', 30, 3_600_000, 600_000]);
    assert.deepEqual(validateBand(band), []);
  });
  it('rejects a band whose lower edge is not below its upper edge', () => {
    assert.match(validateBand({ ...band, lower: 70 }).join('\n'), /lower 70 must be below upper 70/);
  });
  it('rejects a band whose up step does not add replicas', () => {
    assert.match(validateBand({ ...band, up: { kind: 'scale', mode: 'add', amount: -1 } }).join('\n'), /up must add replicas/);
  });
});

describe('describeQuantity', () => {
  const cases: Array<['cpu' | 'memory', number, string]> = [
    ['cpu', 0.25, '250m'],
    ['cpu', 2, '2'],
    ['cpu', 1.5, '1500m'],
    ['memory', 512 * Mi, '512Mi'],
    ['memory', 1024 * Mi, '1Gi'],
    ['memory', 1536 * Mi, '1536Mi'],
    ['memory', 2048, '2Ki'],
    ['memory', 1000, '1000'],
  ];
  for (const [r, v, want] of cases) it(`${r} ${v} → ${want}`, () => assert.equal(describeQuantity(r, v), want));
});
