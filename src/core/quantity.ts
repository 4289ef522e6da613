// Kubernetes resource quantities ("100m", "1.5", "2Gi", "1e3") parsed, compared and printed exactly as
// k8s.io/apimachinery resource.Quantity does, with exact milli arithmetic (BigInt when a value outgrows a double).

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

const ACCEPTED_FORMS =
  'write a number with an optional suffix, e.g. 100m, 1.5, 500Mi, 2Gi, 1k, 1M, 1e3 ' +
  '(decimal suffixes n u m k M G T P E, binary Ki Mi Gi Ti Pi Ei, or e<exponent>)';

/** A string that is not a Kubernetes quantity. `input` is the rejected text. */
export class QuantityError extends Error {
  override name = 'QuantityError';
  constructor(readonly input: string, readonly reason: string) {
    super(`${JSON.stringify(input)} is not a Kubernetes quantity: ${reason}; ${ACCEPTED_FORMS}`);
  }
}

// Kubernetes' three parse failures, worded for operators.
const ERR_FORMAT = 'it must look like <number><suffix>, with no spaces';
const ERR_NUMERIC = 'the numeric part cannot be read';
const ERR_SUFFIX = 'the suffix is not one Kubernetes knows';

const DECIMAL_SUFFIX_EXP: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX_EXP: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_EXP_SUFFIX: Record<number, string> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' };
const BINARY_EXP_SUFFIX: Record<number, string> = { 1: 'Ki', 2: 'Mi', 3: 'Gi', 4: 'Ti', 5: 'Pi', 6: 'Ei' };

const MAX_INT64 = (1n << 63n) - 1n;
const NANO = -9;

interface Scanned {
  positive: boolean;
  value: string;
  num: string;
  denom: string;
  suffix: string;
}

/** Mirrors apimachinery's parseQuantityString; returns null when the text is malformed. */
function scan(str: string): Scanned | null {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (pos < end) {
    const c = str[0];
    if (c === '-') { positive = false; pos++; } else if (c === '+') pos++;
  }
  // leading zeros; an all-zero remainder is zero whatever follows the sign
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, value: '0', num: '0', denom: '', suffix: '' };
    if (str[i] === '0') pos++;
    else break;
  }
  let num = '';
  let i = pos;
  for (; i < end && isDigit(str.charCodeAt(i)); i++);
  num = str.slice(pos, i);
  if (i >= end) return { positive, value: str, num: num === '' ? '0' : num, denom: '', suffix: '' };
  pos = i;
  if (num === '') num = '0';
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    let j = pos;
    for (; j < end && isDigit(str.charCodeAt(j)); j++);
    denom = str.slice(pos, j);
    if (j >= end) return { positive, value: str, num, denom, suffix: '' };
    pos = j;
  }
  const value = str.slice(0, pos);
  const suffixStart = pos;
  let k = pos;
  for (; k < end && 'eEinumkKMGTP'.includes(str[k]!); k++);
  if (k >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart) };
  pos = k;
  if (str[pos] === '-' || str[pos] === '+') pos++;
  for (let m = pos; ; m++) {
    if (m >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart) };
    if (!isDigit(str.charCodeAt(m))) return null;
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

interface Suffix {
  base: 10 | 2;
  exponent: number;
  format: QuantityFormat;
}

/** Mirrors apimachinery's suffixer.interpret. */
function interpretSuffix(s: string): Suffix | null {
  const d = DECIMAL_SUFFIX_EXP[s];
  if (d !== undefined && Object.hasOwn(DECIMAL_SUFFIX_EXP, s)) return { base: 10, exponent: d, format: 'DecimalSI' };
  const b = BINARY_SUFFIX_EXP[s];
  if (b !== undefined && Object.hasOwn(BINARY_SUFFIX_EXP, s)) return { base: 2, exponent: b, format: 'BinarySI' };
  if (s.length > 1 && (s[0] === 'e' || s[0] === 'E')) {
    const e = parseGoInt64(s.slice(1));
    if (e === null) return null;
    // Go stores the exponent in an int32, wrapping silently
    return { base: 10, exponent: Number(BigInt.asIntN(32, e)), format: 'DecimalExponent' };
  }
  return null;
}

/** strconv.ParseInt(s, 10, 64): optional sign, decimal digits, int64 range. */
function parseGoInt64(s: string): bigint | null {
  let i = 0;
  if (s[0] === '+' || s[0] === '-') i = 1;
  if (i >= s.length) return null;
  for (let j = i; j < s.length; j++) if (!isDigit(s.charCodeAt(j))) return null;
  const v = BigInt(s);
  if (v > MAX_INT64 || v < -MAX_INT64 - 1n) return null;
  return v;
}

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

function abs(v: bigint): bigint {
  return v < 0n ? -v : v;
}

/** Divides by 10^shift rounding away from zero (shift >= 0). */
function divPow10Away(v: bigint, shift: number): bigint {
  if (shift === 0 || v === 0n) return v;
  const neg = v < 0n;
  const a = neg ? -v : v;
  // a < 10^shift whenever shift exceeds its digit count: the quotient is 0 and rounds away to 1
  if (shift > a.toString().length) return neg ? -1n : 1n;
  const p = pow10(shift);
  let q = a / p;
  if (q * p !== a) q += 1n;
  return neg ? -q : q;
}

/**
 * An exact Kubernetes quantity: value = unscaled × 10^exponent, printed in `format`.
 * Immutable; arithmetic returns new quantities.
 */
export class Quantity {
  private constructor(
    readonly unscaled: bigint,
    readonly exponent: number,
    readonly format: QuantityFormat,
    /** Kubernetes keeps the original text when it is already canonical (even "+1" or "01"). */
    private readonly cached: string | null,
  ) {}

  /** Parses like resource.ParseQuantity; throws QuantityError naming the text and the accepted forms. */
  static parse(input: string): Quantity {
    if (typeof input !== 'string') throw new QuantityError(String(input), 'a quantity is a string');
    if (input.length === 0) throw new QuantityError(input, 'it is empty');
    if (input === '0') return new Quantity(0n, 0, 'DecimalSI', '0');
    const sc = scan(input);
    if (sc === null) throw new QuantityError(input, ERR_FORMAT);
    const suf = interpretSuffix(sc.suffix);
    if (suf === null) throw new QuantityError(input, ERR_SUFFIX);
    const digits = sc.num + sc.denom;
    if (digits.length === 0) throw new QuantityError(input, ERR_NUMERIC);

    let unscaled = BigInt(digits);
    let exponent: number;
    if (suf.base === 10) exponent = suf.exponent - sc.denom.length;
    else {
      unscaled <<= BigInt(suf.exponent);
      exponent = -sc.denom.length;
    }
    if (!sc.positive) unscaled = -unscaled;

    const cached = fastPathCache(input, sc, suf);
    let format = suf.format;
    // The big-decimal path: round up to a nano, cap binary values at 2^63-1, sub-unit binary values print decimal.
    if (unscaled !== 0n && exponent < NANO) {
      unscaled = divPow10Away(unscaled, NANO - exponent);
      exponent = NANO;
    }
    if (format === 'BinarySI' && unscaled !== 0n) {
      const mag = abs(unscaled);
      if (cmpScaled(mag, exponent, MAX_INT64, 0) > 0) {
        unscaled = unscaled < 0n ? -MAX_INT64 : MAX_INT64;
        exponent = 0;
      } else if (cmpScaled(mag, exponent, 1n, 0) < 0) {
        format = 'DecimalSI';
      }
    }
    return new Quantity(unscaled, exponent, format, cached);
  }

  /** resource.NewMilliQuantity(value, format). */
  static fromMilli(milli: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(toBig(milli), -3, format, null);
  }

  /** resource.NewScaledQuantity(value, scale): value × 10^scale, DecimalSI. */
  static fromScaled(value: number | bigint, scale: number): Quantity {
    return new Quantity(toBig(value), scale, 'DecimalSI', null);
  }

  /** resource.NewQuantity(value, format). */
  static fromValue(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(toBig(value), 0, format, null);
  }

  sign(): -1 | 0 | 1 {
    return this.unscaled === 0n ? 0 : this.unscaled < 0n ? -1 : 1;
  }

  isZero(): boolean {
    return this.unscaled === 0n;
  }

  /** ceil(q / 10^scale), rounding away from zero like Kubernetes' int64 path, exact as a BigInt. */
  scaledValueBig(scale: number): bigint {
    if (this.unscaled === 0n) return 0n;
    const d = this.exponent - scale;
    if (d >= 0) return this.unscaled * pow10(d);
    return divPow10Away(this.unscaled, -d);
  }

  /** MilliValue as an exact BigInt. */
  milliValueBig(): bigint {
    return this.scaledValueBig(-3);
  }

  /** MilliValue (ceil(q × 1000)); throws RangeError when it is beyond exact double range (use milliValueBig). */
  milliValue(): number {
    const v = this.milliValueBig();
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new RangeError(`quantity ${this.toString()} is too large for exact milli arithmetic in a double`);
    }
    return Number(v);
  }

  /** Value (ceil to a whole unit) as an exact BigInt. */
  valueBig(): bigint {
    return this.scaledValueBig(0);
  }

  /** AsApproximateFloat64. */
  toNumber(): number {
    if (this.exponent === 0) return Number(this.unscaled);
    return Number(this.unscaled) * 10 ** this.exponent;
  }

  cmp(other: Quantity): -1 | 0 | 1 {
    const c = cmpScaled(this.unscaled, this.exponent, other.unscaled, other.exponent);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }

  equals(other: Quantity): boolean {
    return this.cmp(other) === 0;
  }

  /** Sum; a zero receiver takes the other's format, as Kubernetes' Add does. */
  add(other: Quantity): Quantity {
    const e = Math.min(this.exponent, other.exponent);
    const u = this.unscaled * pow10(this.exponent - e) + other.unscaled * pow10(other.exponent - e);
    return new Quantity(u, e, this.unscaled === 0n ? other.format : this.format, null);
  }

  /** Difference; a zero receiver takes the other's format, as Kubernetes' Sub does. */
  sub(other: Quantity): Quantity {
    return this.add(other.neg());
  }

  neg(): Quantity {
    return new Quantity(-this.unscaled, this.exponent, this.format, null);
  }

  mul(factor: number | bigint): Quantity {
    return new Quantity(this.unscaled * toBig(factor), this.exponent, this.format, null);
  }

  withFormat(format: QuantityFormat): Quantity {
    return format === this.format ? this : new Quantity(this.unscaled, this.exponent, format, null);
  }

  /** Canonical form, as Quantity.String(). */
  toString(): string {
    if (this.cached !== null) return this.cached;
    return canonical(this.unscaled, this.exponent, this.format);
  }

  toJSON(): string {
    return this.toString();
  }
}

function toBig(v: number | bigint): bigint {
  if (typeof v === 'bigint') return v;
  if (!Number.isSafeInteger(v)) throw new RangeError(`${v} is not an integer that can be represented exactly`);
  return BigInt(v);
}

/** Compares a×10^ea with b×10^eb exactly. */
function cmpScaled(a: bigint, ea: number, b: bigint, eb: number): number {
  if (a === 0n || b === 0n || (a < 0n) !== (b < 0n)) return a < b ? -1 : a > b ? 1 : 0;
  // same sign: compare magnitudes by decimal length first so huge exponents never expand
  const neg = a < 0n;
  const ma = neg ? -a : a;
  const mb = neg ? -b : b;
  const la = ma.toString().length + ea;
  const lb = mb.toString().length + eb;
  let c: number;
  if (la !== lb) c = la < lb ? -1 : 1;
  else {
    const e = Math.min(ea, eb);
    const xa = ma * pow10(ea - e);
    const xb = mb * pow10(eb - e);
    c = xa < xb ? -1 : xa > xb ? 1 : 0;
  }
  return neg ? -c : c;
}

/** Whether Kubernetes' int64 fast path keeps the original text as the printed form. */
function fastPathCache(input: string, sc: Scanned, suf: Suffix): string | null {
  const digits = sc.num.length + sc.denom.length;
  if (suf.format === 'BinarySI') {
    if (suf.exponent < 0 || sc.denom.length !== 0) return null;
    const precision = 15 - sc.num.length - Math.trunc(Math.fround(suf.exponent) * 3 / 10) - 1;
    if (precision < 0) return null;
    const value = BigInt(sc.num);
    if (value * (1n << BigInt(suf.exponent)) > MAX_INT64) return null;
    return suf.exponent % 10 === 0 && (value & 7n) !== 0n ? input : null;
  }
  if (18 - digits < 0) return null;
  const scale = suf.exponent - sc.denom.length;
  if (scale < NANO) return null;
  const shifted = sc.num + sc.denom;
  return scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0' ? input : null;
}

/** CanonicalizeBytes: the largest suffix that loses no precision and prints no fraction. */
function canonical(unscaled: bigint, exponent: number, format: QuantityFormat): string {
  if (unscaled === 0n) return '0';
  let fmt = format;
  let integer = 0n;
  if (fmt === 'BinarySI') {
    if (cmpScaled(unscaled, exponent, -1024n, 0) > 0 && cmpScaled(unscaled, exponent, 1024n, 0) < 0) fmt = 'DecimalSI';
    else {
      // round up to a whole number; a fraction would be lost, so print decimal instead
      integer = exponent >= 0 ? unscaled * pow10(exponent) : divPow10Away(unscaled, -exponent);
      if (cmpScaled(integer, 0, unscaled, exponent) !== 0) fmt = 'DecimalSI';
    }
  }
  if (fmt === 'BinarySI') {
    let m = integer;
    let e = 0;
    while (abs(m) >= 1024n && m % 1024n === 0n) {
      m /= 1024n;
      e++;
    }
    return m.toString() + (BINARY_EXP_SUFFIX[e] ?? '');
  }
  let m = unscaled;
  let e = exponent;
  while (abs(m) >= 10n && m % 10n === 0n) {
    m /= 10n;
    e++;
  }
  const r = ((e % 3) + 3) % 3;
  if (r !== 0) {
    m *= r === 1 ? 10n : 100n;
    e -= r;
  }
  if (fmt === 'DecimalSI') {
    const s = DECIMAL_EXP_SUFFIX[e];
    // DecimalSI has no suffix past E; Kubernetes falls back to exponent notation rather than drop the magnitude
    if (s !== undefined) return m.toString() + s;
  }
  return m.toString() + (e === 0 ? '' : `e${e}`);
}

/** Parses a quantity (string, or a JSON number as Kubernetes accepts) into a Quantity. */
export function parseQuantity(input: string | number): Quantity {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new QuantityError(String(input), 'it is not a finite number');
    return Quantity.parse(numberText(input));
  }
  return Quantity.parse(input);
}

/** A JSON number's text as Go would hand it to Quantity.UnmarshalJSON. */
function numberText(n: number): string {
  // JSON numbers like 1e21 print as "1e+21" in JS; Kubernetes reads the raw token, which never needs "+"
  return String(n).replace('e+', 'e');
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * MilliValue of a quantity string, with a number-only fast path for the common forms ("250m", "1.5", "2Gi")
 * and the exact BigInt parser for everything else. Throws QuantityError or RangeError (beyond 2^53 milli).
 */
export function parseMilli(input: string | number): number {
  if (typeof input === 'string') {
    const fast = fastMilli(input);
    if (fast !== undefined) return fast;
  }
  return parseQuantity(input).milliValue();
}

function fastMilli(s: string): number | undefined {
  const n = s.length;
  if (n === 0 || n > 24) return undefined;
  let i = 0;
  let neg = false;
  const c0 = s.charCodeAt(0);
  if (c0 === 45) { neg = true; i = 1; } else if (c0 === 43) i = 1;
  let d = 0;
  let nd = 0;
  let frac = 0;
  let sawDigit = false;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    sawDigit = true;
    if (d !== 0 || c !== 48) { d = d * 10 + (c - 48); nd++; }
  }
  if (i < n && s.charCodeAt(i) === 46) {
    for (i++; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      sawDigit = true;
      d = d * 10 + (c - 48);
      frac++;
      if (d !== 0) nd++;
    }
  }
  if (!sawDigit || nd > 15) return undefined;
  const rest = n - i;
  let exp = 0;
  let bin = -1;
  if (rest === 1) {
    const e = DECIMAL_SUFFIX_EXP[s[i]!];
    if (e === undefined) return undefined;
    exp = e;
  } else if (rest === 2 && s.charCodeAt(i + 1) === 105) {
    const b = BINARY_SUFFIX_EXP[s.slice(i)];
    if (b === undefined) return undefined;
    bin = b;
  } else if (rest !== 0) return undefined;
  let milli: number;
  if (bin >= 0) {
    if (frac !== 0) return undefined;
    milli = d * 1000 * 2 ** bin;
  } else {
    const shift = exp - frac + 3;
    if (shift >= 0) milli = d * POW10[shift]!;
    else if (-shift > 15) milli = d === 0 ? 0 : 1;
    else {
      const p = POW10[-shift]!;
      const r = d % p;
      milli = (d - r) / p + (r === 0 ? 0 : 1);
    }
  }
  if (!Number.isSafeInteger(milli)) return undefined;
  return neg && milli !== 0 ? -milli : milli;
}

/** NewMilliQuantity(milli, DecimalSI).String() without BigInt for values a double holds exactly. */
export function formatMilli(milli: number | bigint): string {
  if (typeof milli === 'bigint') return canonical(milli, -3, 'DecimalSI');
  if (!Number.isSafeInteger(milli)) return canonical(BigInt(Math.trunc(milli)), -3, 'DecimalSI');
  if (milli === 0) return '0';
  let m = milli;
  let e = -3;
  while (m % 10 === 0) {
    m /= 10;
    e++;
  }
  const r = ((e % 3) + 3) % 3;
  if (r !== 0) {
    m *= r === 1 ? 10 : 100;
    e -= r;
  }
  const s = DECIMAL_EXP_SUFFIX[e];
  return String(m) + (s !== undefined ? s : `e${e}`);
}
