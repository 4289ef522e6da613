// Errors and small numeric checks shared by the capacity modules; messages name each field and the fix.
export class CapacityError extends Error {
  override name = 'CapacityError';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

export function positive(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

export function nonNegative(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/**
 * ceil for non-negative quantities computed in floating point: 2016 / 0.7 is 2880.0000000000005 and must stay 2880,
 * and 0 must not become -0.
 */
export function ceilCount(x: number): number {
  return Math.max(0, Math.ceil(x - 1e-9));
}
