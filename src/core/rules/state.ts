// Prometheus `for:` semantics over a sample series: inactive, pending from the first breaching sample, firing
// once an unbroken run of breaching samples covers the whole window.
import { formatDuration } from '../duration.js';
import type { TimedValue } from '../types.js';
import { sampleList, type SampleWindow } from '../samples.js';
import { clock, describeCondition, negate, num } from './format.js';
import type { ComparisonOp, RuleState, SustainedRule } from './types.js';

/** Prometheus' default lookback delta: a sample older than this no longer describes "now". */
export const DEFAULT_STALE_AFTER_MS = 5 * 60_000;

export function breaches(op: ComparisonOp, value: number, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

/** Samples at or before now with finite values, oldest first; the input is not modified. */
export function usableSamples(samples: readonly TimedValue[] | SampleWindow | undefined, now: number): TimedValue[] {
  const list = sampleList(samples);
  if (!list) return [];
  return list
    .filter((s) => s && Number.isFinite(s.t) && Number.isFinite(s.v) && s.t <= now)
    .slice()
    .sort((a, b) => a.t - b.t);
}

/**
 * The state of one rule at `now`. A breach run is broken by a sample that does not breach or by a gap longer
 * than `staleAfterMs`; the rule fires when the current run started at least `forMs` before now.
 */
export function ruleState(
  rule: Pick<SustainedRule, 'metric' | 'op' | 'threshold' | 'forMs'>,
  samples: readonly TimedValue[] | SampleWindow | undefined,
  now: number,
  staleAfterMs: number = DEFAULT_STALE_AFTER_MS,
): RuleState {
  const s = usableSamples(samples, now);
  const windowStart = now - rule.forMs;
  const samplesInWindow = s.filter((x) => x.t >= windowStart).length;
  if (s.length === 0) {
    return { state: 'inactive', samplesInWindow: 0, detail: `no samples of ${rule.metric}` };
  }
  const last = s[s.length - 1]!;
  const base = { samplesInWindow, lastValue: last.v, lastSampleAt: last.t };
  if (now - last.t > staleAfterMs) {
    return {
      state: 'inactive',
      ...base,
      detail: `newest sample of ${rule.metric} is ${formatDuration(now - last.t)} old (stale after ${formatDuration(staleAfterMs)})`,
    };
  }
  if (!breaches(rule.op, last.v, rule.threshold)) {
    return { state: 'inactive', ...base, detail: `latest ${num(last.v)} ${negate(rule.op)} ${num(rule.threshold)}` };
  }
  let i = s.length - 1;
  let brokenByGap = false;
  while (i > 0) {
    const prev = s[i - 1]!;
    if (!breaches(rule.op, prev.v, rule.threshold)) break;
    if (s[i]!.t - prev.t > staleAfterMs) {
      brokenByGap = true;
      break;
    }
    i--;
  }
  const activeSince = s[i]!.t;
  const runFor = now - activeSince;
  if (runFor >= rule.forMs) {
    return {
      state: 'firing',
      activeSince,
      ...base,
      detail:
        rule.forMs > 0
          ? `firing since ${clock(activeSince + rule.forMs)} (breaching since ${clock(activeSince)}; every sample of ${samplesInWindow} breached; latest ${num(last.v)})`
          : `firing (latest ${num(last.v)})`,
    };
  }
  const gap = brokenByGap ? '; an earlier run was broken by a gap in the samples' : '';
  return {
    state: 'pending',
    activeSince,
    ...base,
    detail: `pending since ${clock(activeSince)} (${formatDuration(runFor)} of ${formatDuration(rule.forMs)}; latest ${num(last.v)})${gap}`,
  };
}

export function describeRuleState(rule: SustainedRule, st: RuleState): string {
  return `${describeCondition(rule)}: ${st.detail}`;
}
