// Additive Holt-Winters (triple exponential smoothing): level, trend and a repeating season of fixed length.
import { checkHorizon, ForecastError, rmse, toValues, type SeriesInput } from './series.js';

export interface HoltWintersParams {
  /** level smoothing, 0..1 */
  alpha: number;
  /** trend smoothing, 0..1 */
  beta: number;
  /** season smoothing, 0..1 */
  gamma: number;
  /** steps per season (24 for hourly data with a daily cycle) */
  seasonLength: number;
}

export interface HoltWintersForecast {
  method: 'holt-winters';
  values: number[];
  params: HoltWintersParams;
  level: number;
  trend: number;
  /** the last seasonLength seasonal components, in the order they next apply */
  season: number[];
  /** one-step-ahead predictions; undefined for the first season, which initialises the model */
  fitted: Array<number | undefined>;
  rmse: number;
}

function checkParams(p: HoltWintersParams): void {
  for (const k of ['alpha', 'beta', 'gamma'] as const) {
    const v = p[k];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new ForecastError(`holt-winters ${k} ${String(v)} must be between 0 and 1`);
  }
  if (!Number.isInteger(p.seasonLength) || p.seasonLength < 1) {
    throw new ForecastError(`holt-winters seasonLength ${String(p.seasonLength)} must be a whole number of steps >= 1`);
  }
}

/**
 * Initialisation from the first two seasons: trend = mean per-step change between them; the first season's mean
 * sits at its middle step, so level = mean + trend·(m−1)/2 (the level at the season's last step) and
 * season[i] = y[i] − (mean + trend·(i − (m−1)/2)). A series that is exactly trend plus season is then forecast
 * exactly. Smoothing runs from the start of the second season:
 *   level_t  = α(y_t − s_{t−m}) + (1−α)(level_{t−1} + trend_{t−1})
 *   trend_t  = β(level_t − level_{t−1}) + (1−β)trend_{t−1}
 *   s_t      = γ(y_t − level_t) + (1−γ)s_{t−m}
 * and the forecast h steps past the last value is level + h·trend + s of the matching position in the season.
 */
export function holtWinters(series: SeriesInput, params: HoltWintersParams, horizonSteps: number): HoltWintersForecast {
  const y = toValues(series);
  checkHorizon(horizonSteps);
  checkParams(params);
  const { alpha, beta, gamma, seasonLength: m } = params;
  if (y.length < 2 * m) {
    throw new ForecastError(`holt-winters needs at least two seasons (${2 * m} values for seasonLength ${m}); got ${y.length}`);
  }
  let mean = 0;
  for (let i = 0; i < m; i++) mean += y[i]!;
  mean /= m;
  let trend = 0;
  for (let i = 0; i < m; i++) trend += (y[m + i]! - y[i]!) / m;
  trend /= m;
  const mid = (m - 1) / 2;
  let level = mean + trend * mid;
  const s: number[] = [];
  for (let i = 0; i < m; i++) s.push(y[i]! - (mean + trend * (i - mid)));
  const fitted: Array<number | undefined> = Array(m).fill(undefined);
  for (let t = m; t < y.length; t++) {
    const seasonal = s[t - m]!;
    fitted.push(level + trend + seasonal);
    const prevLevel = level;
    level = alpha * (y[t]! - seasonal) + (1 - alpha) * (level + trend);
    trend = beta * (level - prevLevel) + (1 - beta) * trend;
    s.push(gamma * (y[t]! - level) + (1 - gamma) * seasonal);
  }
  const n = y.length;
  const season = s.slice(n - m);
  const values = Array.from({ length: horizonSteps }, (_, k) => level + (k + 1) * trend + season[k % m]!);
  return { method: 'holt-winters', values, params: { ...params }, level, trend, season, fitted, rmse: rmse(y, fitted) };
}

/**
 * Picks alpha, beta and gamma on a 0.1 grid (0.1..0.9) by the smallest one-step-ahead squared error, then forecasts.
 * Deterministic: ties keep the first (smallest) parameters.
 */
export function fitHoltWinters(series: SeriesInput, seasonLength: number, horizonSteps: number): HoltWintersForecast {
  const grid = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
  let best: HoltWintersForecast | undefined;
  for (const alpha of grid) {
    for (const beta of grid) {
      for (const gamma of grid) {
        const f = holtWinters(series, { alpha, beta, gamma, seasonLength }, horizonSteps);
        if (!best || f.rmse < best.rmse) best = f;
      }
    }
  }
  return best!;
}
