// A metric source whose per-replica value swings between high and low, so an unhindered controller changes the
// replicas again and again (store fault and retention tests count those changes against the records).
import type { MetricQuery, MetricSource, Sample } from '../../src/metrics/types.js';

export class SwingingSource implements MetricSource {
  readonly kind = 'swing';
  private n = 0;

  /** `every`: how many reads each level lasts */
  constructor(private readonly o: { high?: number; low?: number; every?: number } = {}) {}

  async sample(q: MetricQuery, now: Date): Promise<Sample[]> {
    const high = Math.floor(this.n++ / (this.o.every ?? 1)) % 2 === 0;
    const v = high ? this.o.high ?? 40 : this.o.low ?? 4;
    return ((q.params?.pods as string[]) ?? []).map((pod) => ({ labels: { pod }, t: now.getTime(), value: v }));
  }
}
