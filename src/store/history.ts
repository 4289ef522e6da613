// Rebuilds the controller's memory (core History) from the event log, so a restarted controller continues its
// stabilization windows, rate limits, `for:` windows and rule cooldowns exactly where the previous one stopped.
import { emptyHistory, type History } from '../core/types.js';
import { SampleWindow } from '../core/samples.js';
import type { Store } from './types.js';

/**
 * History as the controller would hold it at `now` after running through [now - lookbackMs, now]:
 * - recommendations: every recorded decision (dry runs too: the controller remembers recommendations either way)
 * - scaleUpEvents / scaleDownEvents: scale events that were applied (result ok), as the HPA counts its own changes
 * - series: the metric values recorded with each decision
 * - lastFired / queue: the state the latest decision handed on
 */
export async function loadControllerHistory(store: Store, service: string, now: number, lookbackMs: number): Promise<History> {
  const h = emptyHistory();
  const events = await store.history(service, now - lookbackMs, { kinds: ['decision', 'scale'] });
  for (const e of events) {
    if (e.time > now) continue;
    if (e.kind === 'scale') {
      if (e.result !== 'ok' || e.fromReplicas === undefined || e.toReplicas === undefined) continue;
      const change = e.toReplicas - e.fromReplicas;
      if (change > 0) h.scaleUpEvents.push({ t: e.time, change });
      else if (change < 0) h.scaleDownEvents.push({ t: e.time, change: -change });
      continue;
    }
    const d = e.decision;
    if (!d) continue;
    if (d.initialRecommendation !== undefined) h.recommendations.push({ time: e.time, replicas: d.initialRecommendation });
    h.recommendations.push({ time: e.time, replicas: d.recommendation });
    h.lastFired = { ...d.lastFired };
    if (d.queue) h.queue = { ...d.queue };
    for (const [name, v] of Object.entries(e.inputs?.values ?? {})) {
      if (Number.isFinite(v)) (h.series[name] ??= new SampleWindow()).push(e.time, v);
    }
  }
  return h;
}
