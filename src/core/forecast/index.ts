// Forecasting: linear trend, exponential growth and additive Holt-Winters behind one forecast() call.
import { exponentialForecast, type ExponentialForecast } from './exponential.js';
import { fitHoltWinters, holtWinters, type HoltWintersForecast, type HoltWintersParams } from './holt-winters.js';
import { linearForecast, type LinearForecast } from './linear.js';
import { ForecastError, type SeriesInput } from './series.js';

export { exponentialForecast, fitHoltWinters, holtWinters, linearForecast, ForecastError };
export type { ExponentialForecast, HoltWintersForecast, HoltWintersParams, LinearForecast, SeriesInput };

export type ForecastOptions =
  | { method?: 'linear' }
  | { method: 'exponential' }
  /** alpha/beta/gamma chosen on a grid when not given */
  | { method: 'holt-winters'; seasonLength: number; alpha?: number; beta?: number; gamma?: number };

export type Forecast = LinearForecast | ExponentialForecast | HoltWintersForecast;

/** Forecasts `horizonSteps` values past the end of an equally spaced series (linear unless told otherwise). */
export function forecast(series: SeriesInput, horizonSteps: number, options: ForecastOptions = {}): Forecast {
  switch (options.method) {
    case undefined:
    case 'linear':
      return linearForecast(series, horizonSteps);
    case 'exponential':
      return exponentialForecast(series, horizonSteps);
    case 'holt-winters': {
      const { alpha, beta, gamma, seasonLength } = options;
      if (alpha === undefined && beta === undefined && gamma === undefined) return fitHoltWinters(series, seasonLength, horizonSteps);
      if (alpha === undefined || beta === undefined || gamma === undefined) {
        throw new ForecastError('holt-winters takes all of alpha, beta and gamma, or none of them (then they are fitted)');
      }
      return holtWinters(series, { alpha, beta, gamma, seasonLength }, horizonSteps);
    }
    default:
      throw new ForecastError(`forecast method "${String((options as { method: unknown }).method)}" must be linear, exponential or holt-winters`);
  }
}
