// A metric's recent samples as the controller remembers them: times and values in two Float64Arrays that slide
// (appended at the end, trimmed at the front), 16-37 bytes a sample where an array of { t, v } objects costs ~80
// (object, two boxed doubles, the array's slot). A thousand services keep a window each, for hours when they forecast.
import type { TimedValue } from './types.js';

const INITIAL_CAPACITY = 16;

export class SampleWindow {
  private ts: Float64Array;
  private vs: Float64Array;
  private start = 0;
  private end = 0;

  constructor(capacity = INITIAL_CAPACITY) {
    this.ts = new Float64Array(Math.max(1, capacity));
    this.vs = new Float64Array(Math.max(1, capacity));
  }

  /** A window holding these samples, in the order given. */
  static from(samples: readonly TimedValue[]): SampleWindow {
    const w = new SampleWindow(Math.max(INITIAL_CAPACITY, samples.length));
    for (const s of samples) w.push(s.t, s.v);
    return w;
  }

  get length(): number {
    return this.end - this.start;
  }

  /** Time (epoch ms) of the i-th sample, oldest first. */
  t(i: number): number {
    return this.ts[this.start + i]!;
  }

  /** Value of the i-th sample, oldest first. */
  v(i: number): number {
    return this.vs[this.start + i]!;
  }

  push(t: number, v: number): void {
    if (this.end === this.ts.length) this.makeRoom();
    this.ts[this.end] = t;
    this.vs[this.end] = v;
    this.end++;
  }

  /** Drops the samples older than `horizon` from the front (samples are appended in time order). */
  trimBefore(horizon: number): void {
    while (this.start < this.end && this.ts[this.start]! < horizon) this.start++;
    if (this.start === this.end) this.start = this.end = 0;
  }

  /** The values, oldest first, as a view (valid until the next push). */
  values(): Float64Array {
    return this.vs.subarray(this.start, this.end);
  }

  /** The samples from index `from` on, as objects (for code that reads { t, v } lists). */
  toArray(from = 0): TimedValue[] {
    const out: TimedValue[] = [];
    for (let i = this.start + Math.max(0, from); i < this.end; i++) out.push({ t: this.ts[i]!, v: this.vs[i]! });
    return out;
  }

  /** JSON (API, snapshots) shows the samples as the { t, v } list they are. */
  toJSON(): TimedValue[] {
    return this.toArray();
  }

  /**
   * At the end of the arrays: slide the samples to the front when they fill at most three quarters of them (then at
   * least a quarter of pushes go by before the next slide: at most 3 moved samples a push), otherwise double them.
   */
  private makeRoom(): void {
    const n = this.length;
    if (n <= (this.ts.length * 3) >> 2) {
      this.ts.copyWithin(0, this.start, this.end);
      this.vs.copyWithin(0, this.start, this.end);
    } else {
      const ts = new Float64Array(this.ts.length * 2);
      const vs = new Float64Array(this.vs.length * 2);
      ts.set(this.ts.subarray(this.start, this.end));
      vs.set(this.vs.subarray(this.start, this.end));
      this.ts = ts;
      this.vs = vs;
    }
    this.start = 0;
    this.end = n;
  }
}

/** Either form of a sample list, as the { t, v } list rule evaluation and reports read. */
export function sampleList(s: readonly TimedValue[] | SampleWindow | undefined): readonly TimedValue[] | undefined {
  return s instanceof SampleWindow ? s.toArray() : s;
}
