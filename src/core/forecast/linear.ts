// Least-squares line through the series (simple-statistics), extended over the horizon.
import { linearRegression, linearRegressionLine } from 'simple-statistics';
import { checkHorizon, ForecastError, rmse, toValues, type SeriesInput } from './series.js';

export interface LinearForecast {
  method: 'linear';
  /** forecast for steps n, n+1, ... (step 0 is the first input value) */
  values: number[];
  slope: number;
  intercept: number;
  /** in-sample fitted values */
  fitted: number[];
  rmse: number;
}

export function linearForecast(series: SeriesInput, horizonSteps: number): LinearForecast {
  const y = toValues(series);
  checkHorizon(horizonSteps);
  if (y.length < 2) throw new ForecastError(`a linear forecast needs at least 2 values; got ${y.length}`);
  const { m, b } = linearRegression(y.map((v, i) => [i, v]));
  const line = linearRegressionLine({ m, b });
  const fitted = y.map((_, i) => line(i));
  const values = Array.from({ length: horizonSteps }, (_, h) => line(y.length + h));
  return { method: 'linear', values, slope: m, intercept: b, fitted, rmse: rmse(y, fitted) };
}
