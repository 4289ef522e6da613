// Number formatting for capacity reports, matching Python's format() so the runbook's projection script output
// is reproduced character for character (round half to even on the exact binary value, "," grouping).

/** Inserts "," every three digits of an unsigned integer string. */
export function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Python's f"{x:.{digits}f}" (and f"{x:,.{digits}f}" with grouping). JavaScript's toFixed rounds exact ties up
 * (2.25 → "2.3") where Python rounds them to even ("2.2"), so this rounds the exact value of the double itself.
 */
export function pyFixed(x: number, digits: number, grouping = false): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const negative = x < 0 || Object.is(x, -0);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (expBits === 0) {
    exp = -1074;
  } else {
    mantissa |= 1n << 52n;
    exp = expBits - 1075;
  }
  // |x| = mantissa × 2^exp exactly; scale by 10^digits and round half to even.
  const scaledNum = mantissa * 10n ** BigInt(digits);
  let q: bigint;
  if (exp >= 0) {
    q = scaledNum << BigInt(exp);
  } else {
    const den = 1n << BigInt(-exp);
    q = scaledNum / den;
    const twice = (scaledNum % den) * 2n;
    if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  }
  let s = q.toString().padStart(digits + 1, '0');
  let intPart = digits > 0 ? s.slice(0, -digits) : s;
  const frac = digits > 0 ? s.slice(-digits) : '';
  if (grouping) intPart = groupThousands(intPart);
  s = frac ? `${intPart}.${frac}` : intPart;
  return negative ? `-${s}` : s;
}
