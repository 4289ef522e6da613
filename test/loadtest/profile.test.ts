// Stages and arrival schedules: parsing, linear interpolation, and exact intended send times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArrivalSchedule, constantProfile, parseStages, profileDurationMs, scheduledArrivals, targetAt, type LoadProfile } from '../../src/loadtest/profile.js';
import { InputError } from '../../src/cli/output.js';

test('parseStages reads duration:target lists', () => {
  const cases: Array<[string, Array<[number, number]>]> = [
    ['30s:50,1m:50,30s:0', [[30_000, 50], [60_000, 50], [30_000, 0]]],
    [' 500ms:5 , 2s:10 ', [[500, 5], [2000, 10]]],
    ['1m30s:100', [[90_000, 100]]],
    ['10:7', [[10_000, 7]]],
  ];
  for (const [spec, want] of cases) {
    assert.deepEqual(parseStages(spec).map((s) => [s.durationMs, s.target]), want, spec);
  }
});

test('parseStages rejects bad stages naming the stage', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /at least one stage/],
    ['30s', /stage 1 "30s": write each stage as duration:target/],
    ['30s:50,1x:5', /stage 2 "1x:5".*not a duration/],
    ['30s:-1', /stage 1.*target "-1" must be a number >= 0/],
    ['0s:5', /stage 1.*above zero/],
    ['30s:abc', /stage 1.*target "abc"/],
  ];
  for (const [spec, re] of cases) {
    assert.throws(() => parseStages(spec), (e: unknown) => e instanceof InputError && re.test(e.message), spec);
  }
});

test('targetAt interpolates linearly within each stage, from the previous target', () => {
  const p: LoadProfile = { start: 0, stages: parseStages('10s:100,10s:100,5s:0') };
  const cases: Array<[number, number, number]> = [
    [0, 0, 0], [5_000, 0, 50], [9_999, 0, 99.99], [10_000, 1, 100], [15_000, 1, 100],
    [20_000, 2, 100], [22_500, 2, 50], [25_000, 2, 0], [99_000, 2, 0],
  ];
  for (const [ms, stage, target] of cases) {
    const got = targetAt(p, ms);
    assert.equal(got.stage, stage, `stage at ${ms}`);
    assert.ok(Math.abs(got.target - target) < 1e-9, `target at ${ms}: ${got.target} != ${target}`);
  }
  assert.equal(profileDurationMs(p), 25_000);
});

function allArrivals(p: LoadProfile): Array<{ atMs: number; stage: number }> {
  const s = new ArrivalSchedule(p);
  const out = [];
  for (let a = s.next(); a; a = s.next()) out.push(a);
  return out;
}

test('a constant rate schedules evenly spaced arrivals, rate × duration of them', () => {
  const cases: Array<[number, number]> = [[100, 1000], [7, 3000], [1000, 500], [0.5, 4000]];
  for (const [rate, ms] of cases) {
    const a = allArrivals(constantProfile(rate, ms));
    assert.equal(a.length, Math.round(rate * ms / 1000), `${rate} rps for ${ms} ms`);
    a.forEach((x, k) => assert.ok(Math.abs(x.atMs - (k * 1000) / rate) < 1e-6, `arrival ${k} at ${x.atMs}`));
  }
});

test('a linear ramp places arrival k where the integral of the rate reaches k', () => {
  // 0 -> 100 rps over 2 s: integral 25·t², so arrival k is due at sqrt(k/25) s and there are 100 in all
  const a = allArrivals({ start: 0, stages: [{ durationMs: 2000, target: 100 }] });
  assert.equal(a.length, 100);
  for (const k of [1, 4, 25, 50, 99]) assert.ok(Math.abs(a[k]!.atMs - Math.sqrt(k / 25) * 1000) < 1e-6, `arrival ${k}`);
  // ramp down 100 -> 0 over 2 s mirrors it
  const d = allArrivals({ start: 100, stages: [{ durationMs: 2000, target: 0 }] });
  assert.equal(d.length, 100);
  for (let k = 1; k < d.length; k++) assert.ok(d[k]!.atMs - d[k - 1]!.atMs > 0, 'increasing');
  assert.ok(d[99]!.atMs < 2000);
});

test('multi-stage schedules carry over between stages and label each arrival with its stage', () => {
  const p: LoadProfile = { start: 50, stages: parseStages('1s:50,1s:150,1s:0') };
  const a = allArrivals(p);
  assert.equal(a.length, Math.round(scheduledArrivals(p)));
  assert.equal(scheduledArrivals(p), 50 + 100 + 75);
  const perStage = [0, 0, 0];
  for (const x of a) perStage[x.stage]!++;
  assert.deepEqual(perStage, [50, 100, 75]);
  for (const x of a) assert.equal(x.stage, Math.min(2, Math.floor(x.atMs / 1000)), `arrival at ${x.atMs}`);
  for (let k = 1; k < a.length; k++) assert.ok(a[k]!.atMs >= a[k - 1]!.atMs);
});

test('a zero-rate stage schedules nothing and the schedule continues after it', () => {
  const a = allArrivals({ start: 0, stages: parseStages('1s:0,1s:10') });
  assert.equal(a.length, 5);
  assert.ok(a.every((x) => x.stage === 1 && x.atMs >= 1000));
});
