// Seeds a seasonal forecaster's demand history from the store at start, so a restarted controller forecasts from
// the days it already recorded instead of falling back to reactive scaling until new history accumulates. The
// forecaster's own checkpoint (saved every few minutes) is restored first and only the decisions after it are fed;
// without a usable checkpoint the whole lookback is rebuilt from the decisions' recorded demand.
import type { ServicePolicy } from '../config/load.js';
import type { History } from '../core/types.js';
import { demandState, isSeasonal } from '../core/predict.js';
import { recordDemandSample } from '../core/forecast/seasonal.js';
import type { Store } from '../store/types.js';
import { decodeForecast, encodeForecast } from './forecast-checkpoint.js';

/** The name of the forecaster's checkpoint in the store's state table. */
export const FORECAST_CHECKPOINT = 'forecast';
/** How often a service's forecaster is checkpointed. */
export const CHECKPOINT_INTERVAL_MS = 10 * 60_000;

export interface SeedResult {
  /** where the history came from: a checkpoint (and the decisions after it), the decisions alone, or nothing */
  from: 'checkpoint' | 'decisions' | 'none';
  /** samples fed from the decisions (bucket peaks when the store computes them) */
  samples: number;
  /** why a checkpoint that was found was not used */
  checkpointRefused?: string;
}

/** Replays the demand recorded with past decisions (within the forecaster's lookback) into h.demand. */
export async function seedDemandHistory(store: Store, p: ServicePolicy, h: History, now: number): Promise<SeedResult> {
  if (!isSeasonal(p)) return { from: 'none', samples: 0 };
  let state = demandState(h, p);
  const metric = p.predictive!.metric;
  let since = now - state.opts.lookbackMs;
  let from: SeedResult['from'] = 'decisions';
  let checkpointRefused: string | undefined;
  const cp = store.loadState ? await store.loadState(p.name, FORECAST_CHECKPOINT) : undefined;
  if (cp) {
    const d = decodeForecast(cp.data, state.opts);
    const bucketMs = state.opts.bucketMs;
    if ('error' in d) checkpointRefused = d.error;
    else if (d.last < 0) checkpointRefused = 'empty';
    else if (d.last * bucketMs > now) checkpointRefused = `its newest demand (${new Date(d.last * bucketMs).toISOString()}) is later than now`;
    else if ((d.last + 1) * bucketMs <= since) checkpointRefused = `older than the lookback (${new Date(cp.time).toISOString()})`;
    else {
      h.demand = state = d;
      from = 'checkpoint';
      // the newest bucket may have been partial when saved: its peak is fed again (a peak is kept, not added)
      since = d.last * bucketMs;
    }
  }
  let n = 0;
  if (store.metricSeries) {
    // the database reduces the decisions to one peak per bucket, which is all the forecaster keeps of them
    for (const { t, v } of await store.metricSeries(p.name, metric, since, state.opts.bucketMs)) {
      if (t > now || !Number.isFinite(v)) continue;
      recordDemandSample(state, Math.max(t, since), v);
      n++;
    }
  } else {
    for (const e of await store.history(p.name, since, { kinds: ['decision'] })) {
      const v = e.inputs?.values?.[metric];
      if (e.time > now || v === undefined || !Number.isFinite(v)) continue;
      recordDemandSample(state, e.time, v);
      n++;
    }
  }
  return { from, samples: n, ...(checkpointRefused !== undefined ? { checkpointRefused } : {}) };
}

/** Saves the forecaster's state (when there is one to save) as the service's checkpoint. */
export async function checkpointDemandHistory(store: Store, p: ServicePolicy, h: History, now: number): Promise<boolean> {
  if (!isSeasonal(p) || !h.demand || h.demand.last < 0 || !store.saveState) return false;
  await store.saveState(p.name, FORECAST_CHECKPOINT, now, encodeForecast(h.demand));
  return true;
}
