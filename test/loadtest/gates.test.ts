// Thresholds as gates, and the good / warning / critical reading of a result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateGates, interpret, parseGate, parseGates, INTERPRETATION, type GateInput } from '../../src/loadtest/gates.js';
import { InputError } from '../../src/cli/output.js';

test('parseGate accepts the documented forms', () => {
  const cases: Array<[string, string, string, number, number | undefined]> = [
    // text, normalised, metric, value (ms | fraction | rps), percentile
    ['p95<500ms', 'p95<500ms', 'latency', 500, 95],
    ['p99<2s', 'p99<2s', 'latency', 2000, 99],
    ['p50<=100ms', 'p50<=100ms', 'latency', 100, 50],
    ['p99.9 < 1.5s', 'p99.9<1.5s', 'latency', 1500, 99.9],
    ['p90<250', 'p90<250ms', 'latency', 250, 90],
    ['max<5s', 'max<5s', 'latency', 5000, 100],
    ['avg<20ms', 'mean<20ms', 'latency', 20, -1],
    ['errors<1%', 'errors<1%', 'errors', 0.01, undefined],
    ['errors<=0.5%', 'errors<=0.5%', 'errors', 0.005, undefined],
    ['errors<0.07', 'errors<7%', 'errors', 0.07, undefined],
    ['error_rate<2%', 'errors<2%', 'errors', 0.02, undefined],
    ['rps>100', 'rps>100', 'rps', 100, undefined],
    ['rps>=250rps', 'rps>=250', 'rps', 250, undefined],
    ['P95<300MS', 'p95<300ms', 'latency', 300, 95],
  ];
  for (const [text, norm, metric, value, percentile] of cases) {
    const g = parseGate(text);
    assert.equal(g.text, norm, text);
    assert.equal(g.metric, metric, text);
    assert.ok(Math.abs(g.value - value) < 1e-12, `${text}: ${g.value}`);
    assert.equal(g.percentile, percentile, text);
  }
});

test('bad thresholds are InputErrors that name the threshold', () => {
  const cases: Array<[string, RegExp]> = [
    ['p95 500ms', /not understood/],
    ['latency<5s', /not understood/],
    ['p95<500kg', /"kg" is not a latency unit/],
    ['p0<1s', /percentile 0 must be between/],
    ['p101<1s', /percentile 101/],
    ['errors<150%', /cannot exceed 100%/],
    ['errors<5', /did you mean errors<5%/],
    ['errors<1ms', /not an error-rate unit/],
    ['rps>100ms', /not a throughput unit/],
    ['p95<', /not understood/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseGate(text), (e: unknown) => e instanceof InputError && e.message.includes(`"${text}"`) && re.test(e.message), text);
  }
});

test('parseGates splits comma-separated lists from one flag', () => {
  assert.deepEqual(parseGates(['p95<500ms, errors<1%', 'rps>10']).map((g) => g.text), ['p95<500ms', 'errors<1%', 'rps>10']);
});

const figures = (o: { p: Record<number, number>; mean?: number; max?: number; errorRate?: number; rps?: number }): GateInput => ({
  latency: { mean: o.mean ?? 0, max: o.max ?? 0, percentile: (p) => o.p[p] ?? NaN },
  errorRate: o.errorRate ?? 0,
  rps: o.rps ?? 0,
});

test('evaluateGates compares each gate with its figure, including the boundary', () => {
  const r = figures({ p: { 50: 100, 95: 499, 99: 2000 }, max: 5000, mean: 30, errorRate: 0.01, rps: 100 });
  const cases: Array<[string, boolean]> = [
    ['p50<=100ms', true], ['p50<100ms', false], ['p95<500ms', true], ['p99<2s', false], ['p99<=2s', true],
    ['max<5s', false], ['mean<31ms', true], ['errors<1%', false], ['errors<=1%', true], ['rps>100', false], ['rps>=100', true],
  ];
  for (const [gate, passed] of cases) assert.equal(evaluateGates([parseGate(gate)], r)[0]!.passed, passed, gate);
  assert.equal(evaluateGates([parseGate('errors<5%')], r)[0]!.actualText, '1%');
  assert.equal(evaluateGates([parseGate('p99<5s')], r)[0]!.actualText, '2s');
});

test('with nothing measured, latency and error gates fail rather than pass on empty data', () => {
  const empty: GateInput = { latency: { mean: NaN, max: NaN, percentile: () => NaN }, errorRate: NaN, rps: 0 };
  for (const g of ['p95<500ms', 'max<5s', 'errors<1%', 'rps>0']) assert.equal(evaluateGates([parseGate(g)], empty)[0]!.passed, false, g);
});

test('interpretation table: good / warning / critical for p50, p99, errors and throughput', () => {
  const level = (metric: string, r: GateInput, target?: number) => interpret(r, target).find((x) => x.metric === metric)?.level;
  const cases: Array<[string, GateInput, number | undefined, string | undefined]> = [
    ['p50', figures({ p: { 50: 99, 99: 1 } }), undefined, 'good'],
    ['p50', figures({ p: { 50: 100, 99: 1 } }), undefined, 'warning'],
    ['p50', figures({ p: { 50: 299, 99: 1 } }), undefined, 'warning'],
    ['p50', figures({ p: { 50: 300, 99: 1 } }), undefined, 'critical'],
    ['p99', figures({ p: { 50: 1, 99: 499 } }), undefined, 'good'],
    ['p99', figures({ p: { 50: 1, 99: 1999 } }), undefined, 'warning'],
    ['p99', figures({ p: { 50: 1, 99: 2000 } }), undefined, 'critical'],
    ['errors', figures({ p: { 50: 1, 99: 1 }, errorRate: 0.0009 }), undefined, 'good'],
    ['errors', figures({ p: { 50: 1, 99: 1 }, errorRate: 0.005 }), undefined, 'warning'],
    ['errors', figures({ p: { 50: 1, 99: 1 }, errorRate: 0.01 }), undefined, 'critical'],
    ['throughput', figures({ p: { 50: 1, 99: 1 }, rps: 96 }), 100, 'good'],
    ['throughput', figures({ p: { 50: 1, 99: 1 }, rps: 80 }), 100, 'warning'],
    ['throughput', figures({ p: { 50: 1, 99: 1 }, rps: 79 }), 100, 'critical'],
    ['throughput', figures({ p: { 50: 1, 99: 1 }, rps: 79 }), undefined, undefined],
  ];
  for (const [metric, r, target, want] of cases) assert.equal(level(metric, r, target), want, `${metric} ${JSON.stringify(r)} target ${target}`);
  // the table is data that documents itself
  assert.deepEqual(INTERPRETATION.map((r) => r.metric), ['p50', 'p99', 'errors', 'throughput']);
});
