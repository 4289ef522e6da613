// Input handling shared by the forecasters: equally spaced values, oldest first, and the error they throw.
import type { TimedValue } from '../types.js';

/** Thrown when a series cannot be forecast; the message says what is missing. */
export class ForecastError extends Error {
  override name = 'ForecastError';
}

export type SeriesInput = readonly number[] | readonly TimedValue[];

/** Values oldest first. Timed samples are ordered by t and assumed equally spaced (one step each). */
export function toValues(series: SeriesInput): number[] {
  if (!Array.isArray(series)) throw new ForecastError('series must be an array of numbers or {t, v} samples');
  const values =
    series.length > 0 && typeof series[0] === 'object'
      ? (series as readonly TimedValue[]).slice().sort((a, b) => a.t - b.t).map((s) => s.v)
      : (series as readonly number[]).slice();
  const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) throw new ForecastError(`series value at position ${bad} is ${String(values[bad])}, not a number`);
  return values;
}

export function checkHorizon(horizonSteps: number): void {
  if (!Number.isInteger(horizonSteps) || horizonSteps < 0) {
    throw new ForecastError(`horizon ${horizonSteps} must be a whole number of steps >= 0`);
  }
}

/** Root mean squared error of fitted against actual, over the pairs where both exist. */
export function rmse(actual: readonly number[], fitted: readonly (number | undefined)[]): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < actual.length; i++) {
    const f = fitted[i];
    if (f === undefined) continue;
    sum += (actual[i]! - f) ** 2;
    n++;
  }
  return n === 0 ? Number.NaN : Math.sqrt(sum / n);
}
