import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  exponentialForecast,
  fitHoltWinters,
  forecast,
  ForecastError,
  holtWinters,
  linearForecast,
} from '../../../src/core/forecast/index.js';

function close(actual: number, expected: number, eps = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= eps, `${actual} is not ${expected} (±${eps})`);
}

describe('linearForecast', () => {
  it('fits y = 2.8 + 0.6x through [2, 4, 5, 4, 5] and extends it', () => {
    // x̄ = 2, ȳ = 4, Sxy = 6, Sxx = 10 → slope 0.6, intercept 4 − 1.2 = 2.8
    const f = linearForecast([2, 4, 5, 4, 5], 3);
    close(f.slope, 0.6);
    close(f.intercept, 2.8);
    assert.equal(f.values.length, 3);
    [5.8, 6.4, 7.0].forEach((v, i) => close(f.values[i]!, v));
    // residuals −0.8, 0.6, 1.0, −0.6, −0.2 → sqrt(2.4 / 5)
    close(f.rmse, Math.sqrt(2.4 / 5));
  });
  it('accepts {t, v} samples in any order', () => {
    const f = linearForecast([{ t: 3, v: 7 }, { t: 1, v: 3 }, { t: 2, v: 5 }], 1);
    close(f.values[0]!, 9);
  });
  it('needs two values', () => assert.throws(() => linearForecast([1], 1), /at least 2 values; got 1/));
  it('rejects NaN with its position', () => assert.throws(() => linearForecast([1, Number.NaN, 3], 1), /position 1 is NaN/));
  it('rejects a fractional horizon', () => assert.throws(() => linearForecast([1, 2], 1.5), ForecastError));
});

describe('exponentialForecast', () => {
  it('recovers ×1.5 per step from 100, 150, 225, 337.5', () => {
    const f = exponentialForecast([100, 150, 225, 337.5], 2);
    close(f.growthPerStep, 1.5, 1e-12);
    close(f.initial, 100, 1e-9);
    close(f.values[0]!, 506.25, 1e-9);
    close(f.values[1]!, 759.375, 1e-9);
    close(f.rmse, 0, 1e-9);
  });
  it('fits the geometric mean growth of noisy data: [100, 200, 400, 400] → ln-slope', () => {
    // ln y = ln100 + ln2·[0, 1, 2, 2]; x̄ = 1.5; Sxy = ln2·(−0.5·1 + 0.5·2 + 1.5·2) = 3.5·ln2; Sxx = 5
    const f = exponentialForecast([100, 200, 400, 400], 0);
    close(Math.log(f.growthPerStep), (3.5 * Math.log(2)) / 5, 1e-12);
  });
  it('refuses values at or below zero', () => assert.throws(() => exponentialForecast([5, 0, 3], 1), /above 0; value at position 1 is 0/));
});

describe('holtWinters (additive)', () => {
  it('matches the hand-computed smoothing of [1, 3, 2, 4, 4, 5], m = 2, α = β = γ = 0.5', () => {
    // init: mean 2, trend 0.5, level 2.25, season [−0.75, 0.75]
    // t=2: fit 2.0, level 2.75, trend 0.5, s −0.75 | t=3: fit 4.0, level 3.25, trend 0.5, s 0.75
    // t=4: fit 3.0, level 4.25, trend 0.75, s −0.5 | t=5: fit 5.75, level 4.625, trend 0.5625, s 0.5625
    const f = holtWinters([1, 3, 2, 4, 4, 5], { alpha: 0.5, beta: 0.5, gamma: 0.5, seasonLength: 2 }, 4);
    assert.deepEqual(f.fitted, [undefined, undefined, 2, 4, 3, 5.75]);
    assert.equal(f.level, 4.625);
    assert.equal(f.trend, 0.5625);
    assert.deepEqual(f.season, [-0.5, 0.5625]);
    assert.deepEqual(f.values, [4.6875, 6.3125, 5.8125, 7.4375]);
    assert.equal(f.rmse, 0.625); // errors 0, 0, 1, −0.75
  });

  it('forecasts a noiseless trend + season exactly, whatever the smoothing', () => {
    const pattern = [5, -2, -4, 1];
    const y = Array.from({ length: 16 }, (_, t) => 100 + 3 * t + pattern[t % 4]!);
    for (const [alpha, beta, gamma] of [[0.2, 0.1, 0.3], [0.9, 0.9, 0.9], [0.5, 0, 1]] as const) {
      const f = holtWinters(y, { alpha, beta, gamma, seasonLength: 4 }, 6);
      f.values.forEach((v, k) => close(v, 100 + 3 * (16 + k) + pattern[(16 + k) % 4]!, 1e-9));
    }
  });

  it('α = β = γ = 0 keeps the initial model', () => {
    const f = holtWinters([1, 3, 2, 4, 4, 5], { alpha: 0, beta: 0, gamma: 0, seasonLength: 2 }, 2);
    // level advances by the trend only: 2.25 + 4 × 0.5 = 4.25; season stays [−0.75, 0.75]
    assert.equal(f.level, 4.25);
    assert.deepEqual(f.values, [4.25 + 0.5 - 0.75, 4.25 + 1 + 0.75]);
  });

  it('needs two full seasons', () => {
    assert.throws(() => holtWinters([1, 2, 3, 4, 5], { alpha: 0.5, beta: 0.5, gamma: 0.5, seasonLength: 3 }, 1), /two seasons \(6 values for seasonLength 3\); got 5/);
  });
  it('rejects smoothing outside 0..1', () => {
    assert.throws(() => holtWinters([1, 2, 3, 4], { alpha: 1.5, beta: 0.5, gamma: 0.5, seasonLength: 2 }, 1), /alpha 1.5 must be between 0 and 1/);
  });

  it('fitHoltWinters picks the grid point with the smallest error', () => {
    const pattern = [10, -10, 0];
    const y = Array.from({ length: 18 }, (_, t) => 50 + t + pattern[t % 3]! + (t === 9 ? 6 : 0));
    const best = fitHoltWinters(y, 3, 3);
    for (const alpha of [0.1, 0.5, 0.9]) {
      for (const gamma of [0.1, 0.9]) {
        const other = holtWinters(y, { alpha, beta: 0.3, gamma, seasonLength: 3 }, 3);
        assert.ok(best.rmse <= other.rmse, `${best.rmse} > ${other.rmse} at α=${alpha} γ=${gamma}`);
      }
    }
  });
});

describe('forecast()', () => {
  it('defaults to linear', () => assert.equal(forecast([1, 2, 3], 1).method, 'linear'));
  it('dispatches exponential', () => close(forecast([1, 2, 4], 1, { method: 'exponential' }).values[0]!, 8, 1e-9));
  it('dispatches holt-winters with given parameters', () => {
    const f = forecast([1, 3, 2, 4, 4, 5], 1, { method: 'holt-winters', seasonLength: 2, alpha: 0.5, beta: 0.5, gamma: 0.5 });
    assert.deepEqual(f.values, [4.6875]);
  });
  it('refuses a partial parameter set', () => {
    assert.throws(() => forecast([1, 3, 2, 4], 1, { method: 'holt-winters', seasonLength: 2, alpha: 0.5 }), /all of alpha, beta and gamma, or none/);
  });
  it('refuses an unknown method', () => {
    assert.throws(() => forecast([1, 2], 1, { method: 'arima' } as never), /method "arima" must be linear, exponential or holt-winters/);
  });
});
