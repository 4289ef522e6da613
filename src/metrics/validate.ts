// Which sample values a decision may use: finite, within what a Kubernetes quantity can hold, and not negative for
// quantities that cannot be (usage, utilization, rates, queue lengths). Anything else fails the read with its reason
// instead of reaching the replica arithmetic.
import type { ServicePolicy } from '../config/load.js';
import type { Sample } from './types.js';

/** The largest value whose milli-units fit a Kubernetes quantity (int64), as the HPA arithmetic needs. */
export const MAX_METRIC_VALUE = 9_223_372_036_854_775;

function where(s: Sample): string {
  const l = Object.entries(s.labels);
  return l.length ? ` for {${l.map(([k, v]) => `${k}="${v}"`).join(',')}}` : '';
}

/** The first unusable value among the samples, as a reason; undefined when all are usable. */
export function invalidSample(samples: readonly Sample[], nonNegative?: string): string | undefined {
  for (const s of samples) {
    if (!Number.isFinite(s.value)) return `value ${s.value}${where(s)} is not a finite number`;
    if (Math.abs(s.value) > MAX_METRIC_VALUE) return `value ${s.value}${where(s)} is out of range (beyond ±${MAX_METRIC_VALUE.toExponential(2)}, the largest a Kubernetes quantity holds)`;
    if (nonNegative && s.value < 0) return `value ${s.value}${where(s)} is negative, which a ${nonNegative} cannot be`;
  }
  return undefined;
}

/** PromQL whose value is a rate or increase with no subtraction anywhere (brackets, braces and strings aside). */
export function isRateQuery(q: string): boolean {
  if (!/\b(?:i?rate|increase)\s*\(/.test(q)) return false;
  const bare = q.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '').replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '');
  return !/-/.test(bare);
}

/**
 * What kind of quantity a metric is, when it can never be negative: cpu/memory usage or utilization, a queue
 * length, a Prometheus rate. Undefined for anything else (a temperature, a difference, a lag can be below zero).
 */
export function nonNegativeKind(p: ServicePolicy, metric: string, sourceKind: string, query: string): string | undefined {
  if (metric === 'cpu' || metric === 'memory') return `${metric} usage or utilization`;
  if (p.queue?.metric === metric) return 'queue length';
  for (const m of p.hpa?.metrics ?? []) {
    const r = (m as { resource?: { name?: string }; containerResource?: { name?: string } });
    if ((m.type === 'Resource' && r.resource?.name === metric) || (m.type === 'ContainerResource' && r.containerResource?.name === metric)) return 'resource utilization';
  }
  if (sourceKind === 'prometheus' && isRateQuery(query)) return 'rate';
  return undefined;
}
