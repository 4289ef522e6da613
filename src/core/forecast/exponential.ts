// Exponential growth y = a·g^step, fitted as a straight line through ln(y) (log-linear regression).
import { linearRegression } from 'simple-statistics';
import { checkHorizon, ForecastError, rmse, toValues, type SeriesInput } from './series.js';

export interface ExponentialForecast {
  method: 'exponential';
  values: number[];
  /** fitted value at step 0 */
  initial: number;
  /** multiplier per step (1.5 = +50% per step) */
  growthPerStep: number;
  fitted: number[];
  rmse: number;
}

export function exponentialForecast(series: SeriesInput, horizonSteps: number): ExponentialForecast {
  const y = toValues(series);
  checkHorizon(horizonSteps);
  if (y.length < 2) throw new ForecastError(`an exponential fit needs at least 2 values; got ${y.length}`);
  const nonPositive = y.findIndex((v) => v <= 0);
  if (nonPositive >= 0) {
    throw new ForecastError(`an exponential fit needs values above 0; value at position ${nonPositive} is ${y[nonPositive]}`);
  }
  const { m, b } = linearRegression(y.map((v, i) => [i, Math.log(v)]));
  const at = (i: number) => Math.exp(b + m * i);
  const fitted = y.map((_, i) => at(i));
  const values = Array.from({ length: horizonSteps }, (_, h) => at(y.length + h));
  return { method: 'exponential', values, initial: Math.exp(b), growthPerStep: Math.exp(m), fitted, rmse: rmse(y, fitted) };
}
