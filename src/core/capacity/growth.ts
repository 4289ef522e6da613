// Growth over months as a multiplier of today's value: compound (×1.5 a month), linear, or a forecast's own path;
// given by the operator or fitted from monthly history.
import { exponentialForecast } from '../forecast/exponential.js';
import { holtWinters, fitHoltWinters } from '../forecast/holt-winters.js';
import { linearForecast } from '../forecast/linear.js';
import { CapacityError, positive } from './errors.js';

export type GrowthModel =
  /** value × monthlyFactor^month */
  | { kind: 'compound'; monthlyFactor: number }
  /** value × (1 + monthlyIncrease × month): a fixed amount a month, as a share of today's value */
  | { kind: 'linear'; monthlyIncrease: number }
  /** value × factors[month] (factors[0] = 1), e.g. a Holt-Winters forecast divided by today's value */
  | { kind: 'series'; factors: number[] };

/** Multiplier at a (possibly fractional) month; a series is interpolated and ends at its last month. */
export function growthMultiplier(model: GrowthModel, month: number): number {
  switch (model.kind) {
    case 'compound':
      return model.monthlyFactor ** month;
    case 'linear':
      return 1 + model.monthlyIncrease * month;
    case 'series': {
      const f = model.factors;
      if (month <= 0) return f[0] ?? 1;
      if (month >= f.length - 1) return month === f.length - 1 ? f[f.length - 1]! : Number.NaN;
      const i = Math.floor(month);
      return f[i]! + (f[i + 1]! - f[i]!) * (month - i);
    }
  }
}

/**
 * First month (fractional) at which the multiplier reaches k, or null when it never does (no growth, or beyond
 * the end of a series). k <= 1 is reached at month 0.
 */
export function monthsUntilMultiplier(model: GrowthModel, k: number): number | null {
  if (!(k > 1)) return 0;
  switch (model.kind) {
    case 'compound':
      return model.monthlyFactor > 1 ? Math.log(k) / Math.log(model.monthlyFactor) : null;
    case 'linear':
      return model.monthlyIncrease > 0 ? (k - 1) / model.monthlyIncrease : null;
    case 'series': {
      const f = model.factors;
      for (let i = 1; i < f.length; i++) {
        if (f[i]! >= k) {
          const prev = f[i - 1]!;
          return prev >= k ? i - 1 : i - 1 + (k - prev) / (f[i]! - prev);
        }
      }
      return null;
    }
  }
}

export function describeGrowth(model: GrowthModel): string {
  switch (model.kind) {
    case 'compound':
      return `×${Number(model.monthlyFactor.toPrecision(4))} per month`;
    case 'linear':
      return `+${Number((model.monthlyIncrease * 100).toPrecision(3))}% of today's value per month`;
    case 'series':
      return `forecast path over ${model.factors.length - 1} months`;
  }
}

export function validateGrowth(model: GrowthModel | number, at = 'growth'): string[] {
  if (typeof model === 'number') return positive(model) ? [] : [`${at} ${model} must be a monthly factor above 0 (1.5 = +50% a month)`];
  if (!model || typeof model !== 'object') return [`${at} must be a monthly factor or a growth model`];
  switch (model.kind) {
    case 'compound':
      return positive(model.monthlyFactor) ? [] : [`${at}.monthlyFactor must be above 0 (1.5 = +50% a month)`];
    case 'linear':
      return Number.isFinite(model.monthlyIncrease) ? [] : [`${at}.monthlyIncrease must be a number (0.2 = +20% of today's value a month)`];
    case 'series':
      return Array.isArray(model.factors) && model.factors.length > 0 && model.factors.every((f) => Number.isFinite(f))
        ? []
        : [`${at}.factors must be a non-empty list of numbers`];
    default:
      return [`${at}.kind "${String((model as { kind: unknown }).kind)}" must be compound, linear or series`];
  }
}

export function toGrowthModel(growth: GrowthModel | number): GrowthModel {
  return typeof growth === 'number' ? { kind: 'compound', monthlyFactor: growth } : growth;
}

export interface FittedGrowth {
  model: GrowthModel;
  method: 'linear' | 'exponential' | 'holt-winters';
  /** the value month 0 of a projection starts from: the latest observation */
  base: number;
  /** in-sample error of the fit, in the metric's units */
  rmse: number;
  description: string;
}

/**
 * Fits monthly growth from history (oldest first, one value a month). The projection starts at the latest
 * observation: exponential keeps the fitted monthly factor, linear the fitted monthly increase as a share of it,
 * Holt-Winters its own forecast path for `horizonMonths` (season in months, alpha/beta/gamma fitted on a grid).
 */
export function fitGrowth(
  history: readonly number[],
  method: 'linear' | 'exponential' | 'holt-winters',
  options: { seasonLength?: number; horizonMonths?: number; alpha?: number; beta?: number; gamma?: number } = {},
): FittedGrowth {
  const problems: string[] = [];
  if (!Array.isArray(history) || history.length < 2) problems.push(`growth history needs at least 2 monthly values; got ${history?.length ?? 0}`);
  else if (!history.every((v) => Number.isFinite(v))) problems.push('growth history must hold numbers only');
  else if (!positive(history[history.length - 1])) problems.push('the latest value in the growth history must be above 0');
  if (problems.length > 0) throw new CapacityError(problems);
  const base = history[history.length - 1]!;
  const fitted = fitByMethod(history, method, base, options);
  // values near the largest number overflow the fit's sums: its growth comes out infinite or not a number
  if (validateGrowth(fitted.model).length > 0 || !Number.isFinite(fitted.rmse)) {
    throw new CapacityError([`the ${method} fit of this growth history is not a finite number (values too large to fit); check the history for a value out of scale`]);
  }
  return fitted;
}

function fitByMethod(
  history: readonly number[],
  method: 'linear' | 'exponential' | 'holt-winters',
  base: number,
  options: { seasonLength?: number; horizonMonths?: number; alpha?: number; beta?: number; gamma?: number },
): FittedGrowth {
  try {
    switch (method) {
      case 'exponential': {
        const f = exponentialForecast(history, 0);
        const model: GrowthModel = { kind: 'compound', monthlyFactor: f.growthPerStep };
        return { model, method, base, rmse: f.rmse, description: `exponential fit: ${describeGrowth(model)}` };
      }
      case 'linear': {
        const f = linearForecast(history, 0);
        const model: GrowthModel = { kind: 'linear', monthlyIncrease: f.slope / base };
        return { model, method, base, rmse: f.rmse, description: `linear fit: +${Number(f.slope.toPrecision(4))} a month (${describeGrowth(model)})` };
      }
      case 'holt-winters': {
        const seasonLength = options.seasonLength ?? 12;
        const horizon = options.horizonMonths ?? 12;
        const { alpha, beta, gamma } = options;
        const f =
          alpha !== undefined && beta !== undefined && gamma !== undefined
            ? holtWinters(history, { alpha, beta, gamma, seasonLength }, horizon)
            : fitHoltWinters(history, seasonLength, horizon);
        const model: GrowthModel = { kind: 'series', factors: [1, ...f.values.map((v) => v / base)] };
        return { model, method, base, rmse: f.rmse, description: `holt-winters (season ${seasonLength} months): ${describeGrowth(model)}` };
      }
      default:
        throw new CapacityError([`growth method "${String(method)}" must be linear, exponential or holt-winters`]);
    }
  } catch (e) {
    if (e instanceof CapacityError) throw e;
    throw new CapacityError([`cannot fit ${method} growth: ${(e as Error).message}`]);
  }
}
