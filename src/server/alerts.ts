// Active alerts, derived (never stored): pinned at max, a metric source failing, flapping, failed scaling, a
// degraded target (front down) and a store that cannot record (the controller holds).
// Pure: the caller passes the last decision and the recent events; the dashboard and /api/v1/alerts show the result.
import type { Decision } from '../core/types.js';
import type { StoreEvent } from '../store/types.js';
import { formatDuration } from '../core/duration.js';

export const ALERT_KINDS = ['pinned-at-max', 'metric-source-failing', 'flapping', 'scale-errors', 'target-degraded', 'store-blocked'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface Alert {
  service: string;
  kind: AlertKind;
  severity: 'warning' | 'critical';
  /** epoch ms of the first evidence inside the window (or of the decision) */
  since: number;
  message: string;
}

/** How far back flapping and failures are looked for. */
export const ALERT_WINDOW_MS = 10 * 60_000;
/** Direction reversals within the window that count as flapping. */
export const FLAP_REVERSALS = 3;

export interface AlertInput {
  service: string;
  now: number;
  /** the last decision, live or from the store */
  decision?: Decision | undefined;
  /** the last sync failed before deciding (observe, store) */
  syncError?: string | undefined;
  /** what the provider reported wrong with the target besides its replicas at the last sync (e.g. front down) */
  degraded?: readonly string[] | undefined;
  /** why the controller holds every service because of the store (Controller.storeBlocked()), when it does */
  storeBlocked?: string | undefined;
  /** this service's scale, resize, rollback and error events; older than the window are ignored */
  events: readonly StoreEvent[];
  windowMs?: number;
}

const APPLIED = new Set(['ok', 'dry-run']);

/** Changes of direction among applied replica changes (up then down is one reversal), oldest first. */
export function directionReversals(events: readonly StoreEvent[]): { reversals: number; since?: number; path: string } {
  let reversals = 0;
  let last = 0;
  let since: number | undefined;
  const steps: string[] = [];
  for (const e of [...events].sort((a, b) => a.time - b.time || (a.id ?? 0) - (b.id ?? 0))) {
    if ((e.kind !== 'scale' && e.kind !== 'rollback') || !APPLIED.has(e.result)) continue;
    if (e.fromReplicas === undefined || e.toReplicas === undefined) continue;
    const dir = Math.sign(e.toReplicas - e.fromReplicas);
    if (dir === 0) continue;
    if (since === undefined) {
      since = e.time;
      steps.push(String(e.fromReplicas));
    }
    if (last !== 0 && dir !== last) reversals++;
    last = dir;
    steps.push(String(e.toReplicas));
  }
  return { reversals, ...(since !== undefined ? { since } : {}), path: steps.join('→') };
}

export function deriveAlerts(i: AlertInput): Alert[] {
  const windowMs = i.windowMs ?? ALERT_WINDOW_MS;
  const from = i.now - windowMs;
  const recent = i.events.filter((e) => e.service === i.service && e.time >= from && e.time <= i.now);
  const out: Alert[] = [];
  const d = i.decision;
  const svc = i.service;

  // failing closed is only safe when someone hears of it: both hold the service, so both are critical
  const storeWhy = i.storeBlocked ?? (i.syncError !== undefined && /^store: /.test(i.syncError) ? i.syncError.slice('store: '.length) : undefined);
  if (storeWhy !== undefined) {
    out.push({ service: svc, kind: 'store-blocked', severity: 'critical', since: d?.time ?? i.now, message: `${svc} is held: the store cannot record changes (${storeWhy}); nothing scales until the waiting records are written` });
  }
  if (i.degraded?.length) {
    out.push({ service: svc, kind: 'target-degraded', severity: 'critical', since: d?.time ?? i.now, message: `${svc} is degraded besides its replicas: ${i.degraded.join('; ')}; clients may not reach it whatever the replica count` });
  }

  if (d && d.currentReplicas >= d.maxReplicas && d.proposed > d.currentReplicas) {
    out.push({ service: svc, kind: 'pinned-at-max', severity: 'critical', since: d.time, message: `${svc} is pinned at maxReplicas ${d.maxReplicas}: the last decision asked for ${d.proposed}; raise maxReplicas or add capacity per replica` });
  }

  const metricErrors = (d?.errors ?? []).filter((e) => !/^(scale|resize): /.test(e));
  if (metricErrors.length) {
    out.push({ service: svc, kind: 'metric-source-failing', severity: 'warning', since: d!.time, message: `${svc}: ${metricErrors.length === 1 ? 'a metric cannot' : `${metricErrors.length} metrics cannot`} be read (${metricErrors.join('; ')}); scale-down is held while a metric is invalid` });
  }

  const flap = directionReversals(recent);
  if (flap.reversals >= FLAP_REVERSALS) {
    out.push({ service: svc, kind: 'flapping', severity: 'warning', since: flap.since!, message: `${svc} is flapping: ${flap.reversals} direction reversals in ${formatDuration(windowMs)} (${flap.path}); lengthen the scale-down stabilization window or widen the band` });
  }

  const failed = recent.filter((e) => e.result === 'failed' && (e.kind === 'scale' || e.kind === 'resize' || e.kind === 'rollback' || e.kind === 'error'));
  const targetDown = i.syncError !== undefined && /^(observe|target):/.test(i.syncError);
  if (failed.length || targetDown) {
    const lastFail = failed[failed.length - 1];
    const lastMsg = i.syncError && targetDown ? i.syncError : `${lastFail!.kind}: ${lastFail!.error ?? lastFail!.message ?? 'failed'}`;
    out.push({ service: svc, kind: 'scale-errors', severity: 'critical', since: failed[0]?.time ?? i.now, message: `${svc}: ${failed.length} failed observe/scale/resize call${failed.length === 1 ? '' : 's'} in ${formatDuration(windowMs)}; last: ${lastMsg}` });
  }
  return out;
}
