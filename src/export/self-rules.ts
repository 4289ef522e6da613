// Alerts on scalepilot's own health, so a controller that fails closed (holds) is noticed: a degraded front, a store
// that cannot record (every service held), lost records, crash-looping replicas, a sync loop that stopped.
// They read what `run` exports on /metrics (server/metrics.ts, store/journal.ts); metric-read failures, scale errors
// and a silent controller are already per-service alerts in prometheus.ts.
import type { ServicePolicy } from '../config/load.js';
import { formatDuration } from '../core/duration.js';
import { METRIC_NAMES as N } from '../core/metric-names.js';
import type { AlertRule, RuleGroup } from './prometheus.js';

const lit = (v: string) => JSON.stringify(v);

/** Provider events that mean a replica died or never came up (local provider; restarted with back-off). */
export const CRASH_EVENTS = ['replica-crashed', 'replica-start-failed'] as const;
/** Crashes within CRASH_WINDOW that count as a crash loop (one OOM kill does not). */
export const CRASH_LOOP_COUNT = 3;
const CRASH_WINDOW = '15m';
/** No completed sync for this many sync periods (at least 2m) means the loop is stuck. */
export const STALL_PERIODS = 5;
const MIN_STALL_S = 120;

export function stallSeconds(p: ServicePolicy): number {
  return Math.max(MIN_STALL_S, Math.ceil((STALL_PERIODS * p.syncPeriodMs) / 1000));
}

function serviceHealth(p: ServicePolicy): AlertRule[] {
  const svc = `service=${lit(p.name)}`;
  const stall = stallSeconds(p);
  return [
    {
      alert: 'ScalepilotTargetDegraded',
      expr: `max by (service) (${N.targetDegraded}{${svc}}) == 1`,
      for: '1m',
      labels: { severity: 'critical', service: p.name },
      annotations: {
        summary: `${p.name}: the target is degraded besides its replicas (front proxy down)`,
        description: 'Clients cannot reach the replicas through the front. scalepilot restarts it every sync and holds scaling; `scalepilot status` and the log (front-down, front-restart-failed) say why.',
      },
    },
    {
      alert: 'ScalepilotReplicaCrashLooping',
      expr: `sum by (service) (increase(${N.providerEventsTotal}{${svc},event=~${lit(CRASH_EVENTS.join('|'))}}[${CRASH_WINDOW}])) >= ${CRASH_LOOP_COUNT}`,
      for: '5m',
      labels: { severity: 'warning', service: p.name },
      annotations: {
        summary: `${p.name}: {{ $value | printf "%.0f" }} replica crashes or failed starts in ${CRASH_WINDOW}`,
        description: 'Replicas keep dying and are restarted with back-off, so fewer are ready than the count scalepilot set. Adding replicas does not help; read the replica logs (replica-crashed, replica-start-failed events).',
      },
    },
    {
      alert: 'ScalepilotSyncStalled',
      expr: `time() - max by (service) (${N.lastSyncTimestampSeconds}{${svc}}) > ${stall}`,
      for: '1m',
      labels: { severity: 'critical', service: p.name },
      annotations: {
        summary: `${p.name}: no sync has completed for {{ $value | humanizeDuration }} (sync period ${formatDuration(p.syncPeriodMs)})`,
        description: `The controller is up but its loop for this service is stuck (a hung provider or metric call), so nothing scales it. Check the log and \`scalepilot status\`; restart \`scalepilot run\` if it stays stuck.`,
      },
    },
  ];
}

const storeRules: AlertRule[] = [
  {
    alert: 'ScalepilotStoreBlocked',
    expr: `${N.storeBlocked} == 1`,
    for: '1m',
    labels: { severity: 'critical' },
    annotations: {
      summary: 'scalepilot holds every service: the store cannot record changes',
      description: 'Nothing scales until the waiting records are written (scalepilot_store_pending_records). Check the store\'s disk space and permissions, the database, or whether another `scalepilot run` took the writer lock.',
    },
  },
  {
    alert: 'ScalepilotStoreWritesFailing',
    expr: `rate(${N.storeWriteFailuresTotal}[5m]) > 0`,
    for: '10m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'writes to the scalepilot store keep failing',
      description: 'Each failed write is kept and retried, and acting stops while one waits. Check the store\'s disk and database before it blocks for good.',
    },
  },
  {
    alert: 'ScalepilotRecordsDropped',
    expr: `increase(${N.storeRecordsDroppedTotal}[30m]) > 0`,
    labels: { severity: 'warning' },
    annotations: {
      summary: 'scalepilot gave up {{ $value | humanize }} per-sync records in 30m',
      description: 'Too many records waited for the store, so the oldest per-sync records were dropped: history and replay have a gap. Scaling changes themselves are never dropped.',
    },
  },
];

/** One group: the store's alerts once, then each service's health alerts. */
export function selfGroup(services: ServicePolicy[]): RuleGroup {
  return { name: 'scalepilot.controller', rules: [...storeRules, ...services.flatMap(serviceHealth)] };
}
