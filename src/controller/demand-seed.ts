// Seeds a seasonal forecaster's demand history from the store at start, so a restarted controller forecasts from
// the days it already recorded instead of falling back to reactive scaling until new history accumulates.
import type { ServicePolicy } from '../config/load.js';
import type { History } from '../core/types.js';
import { demandState, isSeasonal } from '../core/predict.js';
import { recordDemandSample } from '../core/forecast/seasonal.js';
import type { Store } from '../store/types.js';

/** Replays the demand metric recorded with past decisions (within the forecaster's lookback) into h.demand. */
export async function seedDemandHistory(store: Store, p: ServicePolicy, h: History, now: number): Promise<number> {
  if (!isSeasonal(p)) return 0;
  const state = demandState(h, p);
  const metric = p.predictive!.metric;
  const events = await store.history(p.name, now - state.opts.lookbackMs, { kinds: ['decision'] });
  let n = 0;
  for (const e of events) {
    const v = e.inputs?.values?.[metric];
    if (e.time > now || v === undefined || !Number.isFinite(v)) continue;
    recordDemandSample(state, e.time, v);
    n++;
  }
  return n;
}
