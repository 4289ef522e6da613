// behavior.scaleUp/scaleDown.tolerance as the HPA controller reads it. The API server stores the quantity in its
// printed form; the controller parses that text again and calls Quantity.AsApproximateFloat64(), i.e. mantissa ×
// math.Pow10(exponent) of the parsed amount. Tolerances sit exactly on ratio boundaries (1 ± tolerance), so the
// conversion has to round the way Go does, last bit included.
import { QuantityError, parseQuantity } from '../quantity.js';

const NANO = -9;
const MAX_INT64 = (1n << 63n) - 1n;

// Go's math.Pow10 tables: exact powers up to 1e22, correctly rounded literals beyond.
const POW10_TAB = Array.from({ length: 32 }, (_, i) => Number(`1e${i}`));
const POW10_POS32 = Array.from({ length: 10 }, (_, i) => Number(`1e${i * 32}`));
const POW10_NEG32 = Array.from({ length: 11 }, (_, i) => Number(`1e-${i * 32}`));

/** math.Pow10(n) exactly as Go computes it (a table product or quotient, not a correctly rounded 10^n). */
export function goPow10(n: number): number {
  if (n >= 0 && n <= 308) return POW10_POS32[Math.trunc(n / 32)]! * POW10_TAB[n % 32]!;
  if (n < 0 && n >= -323) return POW10_NEG32[Math.trunc(-n / 32)]! / POW10_TAB[-n % 32]!;
  return n > 0 ? Infinity : 0;
}

const DECIMAL_EXP: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_EXP: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/**
 * AsApproximateFloat64 of the Quantity that resource.ParseQuantity builds from `text`, a string the API server
 * printed (canonical form, or the original text when Kubernetes kept it). The int64 fast path stores
 * (digits, exponent − fraction length); everything else goes through inf.Dec rounded up to nano units.
 */
export function approximateFloat64(text: string): number {
  const m = /^([+-]?)0*(\d*)(?:\.(\d*))?([a-zA-Z]*)([+-]?\d*)$/.exec(text);
  if (m === null) throw new QuantityError(text, 'it must look like <number><suffix>, with no spaces');
  const negative = m[1] === '-';
  const num = m[2] === '' ? '0' : m[2]!;
  const denom = m[3] ?? '';
  const letters = m[4]!;
  const digits = num + denom;
  let exponent: number;
  let binary = false;
  if (Object.hasOwn(DECIMAL_EXP, letters) && m[5] === '') exponent = DECIMAL_EXP[letters]!;
  else if (Object.hasOwn(BINARY_EXP, letters) && m[5] === '') {
    exponent = BINARY_EXP[letters]!;
    binary = true;
  } else if ((letters === 'e' || letters === 'E') && m[5] !== '') exponent = Number(m[5]);
  else throw new QuantityError(text, 'the suffix is not one Kubernetes knows');

  let precision: number;
  let mantissa = 1n;
  let scale: number;
  if (!binary) {
    precision = 18 - digits.length;
    scale = exponent - denom.length;
  } else if (denom.length === 0) {
    mantissa = 1n << BigInt(exponent);
    precision = 15 - num.length - Math.trunc(Math.fround(exponent) * 3 / 10) - 1;
    scale = 0;
  } else {
    precision = -1;
    scale = 0;
  }
  if (precision >= 0 && scale >= NANO) {
    const value = BigInt(digits);
    const result = value * mantissa;
    if (value <= MAX_INT64 && result <= MAX_INT64) {
      const base = Number(negative ? -result : result);
      return scale === 0 ? base : base * goPow10(scale);
    }
  }
  // inf.Dec path: the exact amount, rounded up (away from zero) to a whole number of nano units
  let unscaled = BigInt(digits);
  let decScale = denom.length - (binary ? 0 : exponent);
  if (binary) unscaled <<= BigInt(exponent);
  if (unscaled !== 0n) {
    if (decScale > 9) {
      const p = 10n ** BigInt(decScale - 9);
      const q = unscaled / p;
      unscaled = q * p === unscaled ? q : q + 1n;
    } else unscaled *= 10n ** BigInt(9 - decScale);
    decScale = 9;
  }
  if (binary && unscaled > MAX_INT64 * 10n ** 9n) unscaled = MAX_INT64 * 10n ** 9n;
  const base = Number(negative ? -unscaled : unscaled);
  return decScale === 0 ? base : base * goPow10(-decScale);
}

/**
 * A behavior tolerance (quantity string, or JSON number as Kubernetes accepts it) → the float64 the controller
 * compares ratios with: the API server's printed form of the quantity, parsed again and read with
 * AsApproximateFloat64. "0.3" is stored as "300m" and becomes 300 × Pow10(-3); "500u" stays 500 × Pow10(-6).
 */
export function toleranceFloat(input: string | number): number {
  return approximateFloat64(parseQuantity(input).toString());
}
