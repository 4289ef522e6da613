// What the API returns, assembled from a Runtime: the controller's last sync when it has one, else what the store
// holds (so `serve --read-only-store` and a freshly started controller show the same pages).
import type { Runtime } from '../controller/runtime.js';
import type { ServicePolicy } from '../config/load.js';
import type { Decision } from '../core/types.js';
import type { EventKind, Store, StoreEvent } from '../store/types.js';
import { describeCondition, describeStep } from '../core/rules/format.js';
import { formatDuration } from '../core/duration.js';
import { serviceStatus, utilization, type ServiceStatus, type Utilization } from './status.js';
import { deriveAlerts, ALERT_WINDOW_MS, type Alert } from './alerts.js';

export interface LastState {
  source: 'controller' | 'store' | 'none';
  /** epoch ms of the sync or stored decision shown */
  time: number | null;
  decision?: Decision;
  values: Record<string, number>;
  currentReplicas: number | null;
  readyReplicas: number | null;
  paused: boolean;
  /** the last sync failed before deciding */
  syncError?: string;
  /** the provider's degraded conditions at the last sync */
  degraded?: string[];
}

export interface DecisionSummary {
  time: number;
  action: Decision['action'];
  reason: string;
  reasonCode: string;
}

export interface ServiceSummary {
  service: string;
  status: ServiceStatus;
  statusReasons: string[];
  paused: boolean;
  provider: string;
  minReplicas: number;
  maxReplicas: number;
  currentReplicas: number | null;
  readyReplicas: number | null;
  desiredReplicas: number | null;
  values: Record<string, number>;
  metricErrors: string[];
  utilization: Utilization[];
  lastDecision: DecisionSummary | null;
  error: string | null;
  alerts: Alert[];
  /** where the numbers come from: the running controller, or the store (no sync yet, or a read-only server) */
  source: LastState['source'];
  updated: number | null;
}

const CHANGE_KINDS: readonly EventKind[] = ['scale', 'resize', 'rollback', 'error'];

async function lastStoredDecision(store: Store, service: string): Promise<StoreEvent | undefined> {
  const [e] = await store.history(service, 0, { kinds: ['decision'], limit: 1 });
  return e;
}

/** Without a live controller, the newest pause/resume event says whether the service is paused. */
async function storedPaused(store: Store, service: string, fallback: boolean): Promise<boolean> {
  const [e] = await store.history(service, 0, { kinds: ['pause', 'resume'], limit: 1 });
  return e ? e.kind === 'pause' : fallback;
}

export async function lastState(rt: Runtime, service: string): Promise<LastState> {
  const live = rt.controller.lastSync(service);
  const paused = rt.controller.isPaused(service);
  if (live?.decision) {
    return {
      ...(live.state?.degraded?.length ? { degraded: live.state.degraded } : {}),
      source: 'controller',
      time: live.time,
      decision: live.decision,
      values: live.values,
      currentReplicas: live.state?.replicas ?? live.decision.currentReplicas,
      readyReplicas: live.state?.readyReplicas ?? null,
      paused,
      // a sync can decide and still be degraded (the store cannot record, so it held)
      ...(live.error ? { syncError: live.error } : {}),
    };
  }
  // no decision from this controller yet (or the last sync failed): show the newest stored one
  const e = await lastStoredDecision(rt.store, service);
  const base: LastState = e?.decision
    ? {
        source: 'store',
        time: e.time,
        decision: e.decision,
        values: e.inputs?.values ?? {},
        currentReplicas: e.fromReplicas ?? e.decision.currentReplicas,
        readyReplicas: e.inputs?.readyReplicas ?? null,
        paused: live ? paused : await storedPaused(rt.store, service, paused || e.decision.action === 'paused'),
      }
    : { source: 'none', time: null, values: {}, currentReplicas: null, readyReplicas: null, paused: live ? paused : await storedPaused(rt.store, service, paused) };
  if (live?.state?.degraded?.length) base.degraded = live.state.degraded;
  if (live?.error) {
    base.syncError = live.error;
    base.time = live.time;
    if (live.state) {
      base.currentReplicas = live.state.replicas;
      base.readyReplicas = live.state.readyReplicas;
    }
  }
  return base;
}

export async function recentChanges(store: Store, service: string, now: number): Promise<StoreEvent[]> {
  return store.history(service, now - ALERT_WINDOW_MS, { kinds: CHANGE_KINDS });
}

export async function serviceSummary(rt: Runtime, service: string, now: number): Promise<ServiceSummary> {
  const p = rt.controller.policy(service)!;
  const s = await lastState(rt, service);
  const d = s.decision;
  const st = serviceStatus({ decision: d, rules: p.rules, syncError: s.syncError, degraded: s.degraded });
  const events = await recentChanges(rt.store, service, now);
  return {
    service,
    status: st.status,
    statusReasons: st.reasons,
    paused: s.paused,
    provider: p.target.provider,
    minReplicas: p.minReplicas,
    maxReplicas: p.maxReplicas,
    currentReplicas: s.currentReplicas,
    readyReplicas: s.readyReplicas,
    desiredReplicas: d?.desiredReplicas ?? null,
    values: s.values,
    metricErrors: (d?.errors ?? []).filter((e) => !/^(scale|resize): /.test(e)),
    utilization: utilization(p, s.values, s.currentReplicas),
    lastDecision: d ? { time: d.time, action: d.action, reason: d.reason, reasonCode: d.reasonCode } : null,
    error: s.syncError ?? null,
    alerts: deriveAlerts({ service, now, decision: d, syncError: s.syncError, degraded: s.degraded, storeBlocked: rt.controller.storeBlocked(), events }),
    source: s.source,
    updated: s.time,
  };
}

export interface PolicyView {
  provider: string;
  syncPeriodSeconds: number;
  drainSeconds: number;
  minReplicas: number;
  maxReplicas: number;
  metrics: Array<{ name: string; source: string; query: string; perPod: boolean }>;
  hpaMetrics: Array<{ name: string; type: string; target: string }>;
  rules: Array<{ name: string; when: string; then: string; severity: string }>;
  bands: Array<{ metric: string; upper: number; lower: number; for: string; step: number }>;
  queue: { metric: string; targetPerReplica: number } | null;
  schedules: Array<{ name: string; cron: string; minReplicas: number | null; maxReplicas: number | null }>;
}

function ruleThen(a: ServicePolicy['rules'][number]['action']): string {
  if (a.kind === 'scale') return describeStep(a);
  const amt = typeof a.amount === 'number' ? `${a.amount >= 0 ? '+' : ''}${a.amount}${a.mode === 'percent' ? '%' : ''}` : a.mode === 'set' ? `=${a.amount}` : a.amount;
  return `${a.resource} ${a.field} ${amt}${a.max ? ` max ${a.max}` : ''}`;
}

export function policyView(p: ServicePolicy): PolicyView {
  return {
    provider: p.target.provider,
    syncPeriodSeconds: p.syncPeriodMs / 1000,
    drainSeconds: p.drainMs / 1000,
    minReplicas: p.minReplicas,
    maxReplicas: p.maxReplicas,
    metrics: Object.entries(p.metrics).map(([name, m]) => ({ name, source: m.source, query: m.query, perPod: Boolean(m.perPod) })),
    hpaMetrics: utilization(p, {}, null)
      .filter((u) => u.kind !== 'queue')
      .map((u) => ({ name: u.metric, type: u.kind, target: `${u.target}${u.unit}${u.unit === '%' ? ' of request' : u.perReplica ? ' per replica' : ''}` })),
    rules: p.rules.map((r) => ({
      name: r.name,
      when: describeCondition({ metric: r.condition.metric, op: r.condition.op, threshold: r.condition.threshold, forMs: r.forMs }),
      then: ruleThen(r.action),
      severity: r.severity,
    })),
    bands: p.bands.map((b) => ({ metric: b.metric, upper: b.upper, lower: b.lower, for: formatDuration(b.for), step: b.step })),
    queue: p.queue ? { metric: p.queue.metric, targetPerReplica: p.queue.targetPerReplica } : null,
    schedules: p.schedules.map((s) => ({ name: s.name ?? s.cron, cron: s.cron, minReplicas: s.minReplicas ?? null, maxReplicas: s.maxReplicas ?? null })),
  };
}

export interface EventView {
  id: number;
  time: number;
  kind: EventKind;
  fromReplicas: number | null;
  toReplicas: number | null;
  result: StoreEvent['result'];
  message: string | null;
  error: string | null;
  resources: StoreEvent['resources'] | null;
}

export function eventView(e: StoreEvent): EventView {
  return {
    id: e.id!,
    time: e.time,
    kind: e.kind,
    fromReplicas: e.fromReplicas ?? null,
    toReplicas: e.toReplicas ?? null,
    result: e.result,
    message: e.message ?? null,
    error: e.error ?? null,
    resources: e.resources ?? null,
  };
}

export interface DecisionView {
  id: number;
  time: number;
  action: Decision['action'] | null;
  fromReplicas: number | null;
  toReplicas: number | null;
  reason: string;
  reasonCode: string | null;
  result: StoreEvent['result'];
  values: Record<string, number>;
  failures: Record<string, string>;
  errors: string[];
  proposals: Decision['proposals'];
  proposed: number | null;
  minReplicas: number | null;
  maxReplicas: number | null;
}

export function decisionView(e: StoreEvent): DecisionView {
  const d = e.decision;
  return {
    id: e.id!,
    time: e.time,
    action: d?.action ?? null,
    fromReplicas: e.fromReplicas ?? d?.currentReplicas ?? null,
    toReplicas: e.toReplicas ?? d?.desiredReplicas ?? null,
    reason: d?.reason ?? e.message ?? '',
    reasonCode: d?.reasonCode ?? null,
    result: e.result,
    values: e.inputs?.values ?? {},
    failures: e.inputs?.failures ?? {},
    errors: d?.errors ?? [],
    proposals: d?.proposals ?? [],
    proposed: d?.proposed ?? null,
    minReplicas: d?.minReplicas ?? null,
    maxReplicas: d?.maxReplicas ?? null,
  };
}

export interface PageRequest {
  kinds: readonly EventKind[];
  since: number;
  limit: number;
  /** only events with a smaller id (the `next` cursor of the previous page) */
  before?: number | undefined;
  filter?: ((e: StoreEvent) => boolean) | undefined;
}

/** One page of a service's events, newest first, with the cursor of the next (older) page. */
export async function pageEvents(store: Store, service: string, r: PageRequest): Promise<{ items: StoreEvent[]; nextBefore: number | null }> {
  let newestFirst: StoreEvent[];
  let more: boolean;
  if (r.before === undefined && !r.filter) {
    // the common first page: let the store cut it (one more tells whether there is an older page)
    const got = await store.history(service, r.since, { kinds: r.kinds, limit: r.limit + 1 });
    more = got.length > r.limit;
    newestFirst = got.slice(more ? 1 : 0).reverse();
  } else {
    const all = await store.history(service, r.since, { kinds: r.kinds });
    const kept = all.filter((e) => (r.before === undefined || e.id! < r.before) && (!r.filter || r.filter(e)));
    more = kept.length > r.limit;
    newestFirst = kept.slice(Math.max(0, kept.length - r.limit)).reverse();
  }
  const oldest = newestFirst[newestFirst.length - 1];
  return { items: newestFirst, nextBefore: more && oldest ? oldest.id! : null };
}

export interface Timeline {
  service: string;
  since: number;
  /** epoch seconds of each stored decision */
  t: number[];
  currentReplicas: Array<number | null>;
  desiredReplicas: Array<number | null>;
  readyReplicas: Array<number | null>;
  /** the largest proposal before bounds, stabilization and rate limits: what the metrics asked for */
  proposedReplicas: Array<number | null>;
  values: Record<string, Array<number | null>>;
  /** targets a metric's plotted value can be read against directly (utilization %, per-replica values, Value targets) */
  targets: Record<string, number>;
  changes: EventView[];
  /** decisions were merged into buckets of this many to keep the chart light (1 = every decision) */
  bucket: number;
}

export const MAX_TIMELINE_POINTS = 1500;

export async function timeline(rt: Runtime, service: string, since: number): Promise<Timeline> {
  const p = rt.controller.policy(service)!;
  const events = await rt.store.history(service, since, { kinds: ['decision', 'scale', 'rollback', 'pause', 'resume'] });
  const decisions = events.filter((e) => e.kind === 'decision');
  const names = new Set<string>(Object.keys(p.metrics));
  for (const e of decisions) for (const k of Object.keys(e.inputs?.values ?? {})) names.add(k);
  const bucket = Math.max(1, Math.ceil(decisions.length / MAX_TIMELINE_POINTS));
  const out: Timeline = { service, since, t: [], currentReplicas: [], desiredReplicas: [], readyReplicas: [], proposedReplicas: [], values: {}, targets: {}, changes: [], bucket };
  for (const n of names) out.values[n] = [];
  const maxOf = (xs: Array<number | undefined>) => {
    const v = xs.filter((x): x is number => x !== undefined);
    return v.length ? Math.max(...v) : null;
  };
  for (let i = 0; i < decisions.length; i += bucket) {
    const b = decisions.slice(i, i + bucket);
    const last = b[b.length - 1]!;
    out.t.push(last.time / 1000);
    // replica counts keep their peaks (a short scale-up must stay visible), ready its dips
    out.currentReplicas.push(maxOf(b.map((e) => e.fromReplicas ?? e.decision?.currentReplicas)));
    out.desiredReplicas.push(maxOf(b.map((e) => e.toReplicas ?? e.decision?.desiredReplicas)));
    const ready = b.map((e) => e.inputs?.readyReplicas).filter((x): x is number => x !== undefined);
    out.readyReplicas.push(ready.length ? Math.min(...ready) : null);
    out.proposedReplicas.push(maxOf(b.map((e) => e.decision?.proposed)));
    for (const n of names) out.values[n]!.push(last.inputs?.values[n] ?? null);
  }
  for (const u of utilization(p, {}, null)) {
    if (u.unit === '%' || u.kind === 'Pods' || (u.perReplica && p.metrics[u.metric]?.perPod) || (!u.perReplica && u.kind !== 'queue')) out.targets[u.metric] = u.target;
  }
  out.changes = events.filter((e) => e.kind !== 'decision').map(eventView);
  return out;
}
