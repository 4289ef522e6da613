// A service's status badge (OK / SOON / IMMEDIATE) and its utilization against target, both read from the last
// decision: the one place the dashboard, the API and any alert text get these from.
import type { RulePolicy, ServicePolicy } from '../config/load.js';
import type { Decision, Proposal } from '../core/types.js';
import { describeCondition } from '../core/rules/format.js';
import { parseMetricSpecs } from '../core/hpa/parse.js';
import type { MetricSpec } from '../core/hpa/types.js';

export const SERVICE_STATUSES = ['OK', 'SOON', 'DEGRADED', 'IMMEDIATE'] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

export interface StatusInput {
  /** the last decision (live, or the newest one in the store) */
  decision?: Decision | undefined;
  /** the policy's rules, for their severity and direction; rules no longer in the config still count */
  rules?: readonly RulePolicy[];
  /** the last sync failed before deciding (target unreachable, store down) */
  syncError?: string | undefined;
  /** what the provider reports broken besides the replicas (the front proxy is down) */
  degraded?: string[] | undefined;
}

export interface StatusResult {
  status: ServiceStatus;
  /** one clause per cause, most urgent first; empty when OK */
  reasons: string[];
}

export type RuleRunState = 'inactive' | 'pending' | 'firing';

/**
 * The state a rule proposal reports. decide() writes a rule's detail as "<condition>[ [critical]]: <state detail>",
 * where the state detail starts with "firing" or "pending"; the prefix is rebuilt from the rule so a metric name
 * containing ": " cannot be misread.
 */
export function ruleRunState(p: Pick<Proposal, 'detail'>, rule?: RulePolicy): RuleRunState {
  let rest: string | undefined;
  if (rule) {
    const prefix = `${describeCondition({ metric: rule.condition.metric, op: rule.condition.op, threshold: rule.condition.threshold, forMs: rule.forMs })}${rule.severity === 'critical' ? ' [critical]' : ''}: `;
    if (p.detail.startsWith(prefix)) rest = p.detail.slice(prefix.length);
  }
  if (rest === undefined) {
    const m = /: (firing|pending)\b/.exec(p.detail);
    return m ? (m[1] as RuleRunState) : 'inactive';
  }
  return rest.startsWith('firing') ? 'firing' : rest.startsWith('pending') ? 'pending' : 'inactive';
}

/** Whether acting on a rule adds capacity. Scale-down rules firing are the quiet end of a day, not a warning. */
export function ruleAddsCapacity(rule: RulePolicy | undefined, currentReplicas: number): boolean {
  if (!rule) return true;
  const a = rule.action;
  if (a.kind === 'scale') {
    switch (a.mode) {
      case 'add':
      case 'percent':
        return a.amount > 0;
      case 'multiply':
        return a.amount > 1;
      case 'set':
        return a.amount > currentReplicas;
    }
  }
  // a resize "set" cannot be judged without the current request; count it, it changes capacity
  if (a.mode === 'set') return true;
  return typeof a.amount === 'string' ? !a.amount.trim().startsWith('-') : a.amount > 0;
}

/**
 * IMMEDIATE: at max replicas while the metrics/rules propose more (capacity has run out).
 * DEGRADED: the target serves worse than its replicas could (its front proxy is down).
 * SOON: a capacity-adding rule is pending or firing, a metric cannot be read, or the last sync failed.
 * OK otherwise, including before the first decision.
 */
export function serviceStatus(i: StatusInput): StatusResult {
  const d = i.decision;
  const immediate: string[] = [];
  const soon: string[] = [];
  if (d) {
    if (d.currentReplicas >= d.maxReplicas && d.proposed > d.currentReplicas) {
      const winner = d.proposals.reduce<Proposal | undefined>((w, p) => (p.replicas !== null && (w === undefined || p.replicas > (w.replicas ?? -1)) ? p : w), undefined);
      immediate.push(`at maxReplicas ${d.maxReplicas} while ${winner ? `${winner.source} ${winner.name}` : 'the decision'} proposes ${d.proposed}`);
    }
    const byName = new Map((i.rules ?? []).map((r) => [r.name, r]));
    for (const p of d.proposals) {
      if (p.source !== 'rule') continue;
      const rule = byName.get(p.name);
      const state = ruleRunState(p, rule);
      if (state === 'inactive' || !ruleAddsCapacity(rule, d.currentReplicas)) continue;
      soon.push(`${rule?.severity ?? 'warning'} rule ${p.name} is ${state}`);
    }
    const metricErrors = d.errors.filter((e) => !/^(scale|resize): /.test(e));
    if (metricErrors.length) soon.push(`metric errors: ${metricErrors.join('; ')}`);
  }
  if (i.syncError) soon.push(`last sync failed: ${i.syncError}`);
  const degraded = (i.degraded ?? []).map((d) => `degraded: ${d}`);
  if (immediate.length) return { status: 'IMMEDIATE', reasons: [...immediate, ...degraded, ...soon] };
  if (degraded.length) return { status: 'DEGRADED', reasons: [...degraded, ...soon] };
  if (soon.length) return { status: 'SOON', reasons: soon };
  return { status: 'OK', reasons: [] };
}

export interface Utilization {
  /** metric name as in the config */
  metric: string;
  /** where the target comes from */
  kind: 'Resource' | 'ContainerResource' | 'Pods' | 'Object' | 'External' | 'queue';
  /** the value compared with the target (percent of request for Utilization targets, per replica for AverageValue) */
  current: number | null;
  target: number;
  /** current / target; > 1 means above target */
  ratio: number | null;
  /** '%' for utilization targets */
  unit: string;
  perReplica: boolean;
}

const specCache = new WeakMap<ServicePolicy, MetricSpec[]>();

function hpaSpecs(p: ServicePolicy): MetricSpec[] {
  let s = specCache.get(p);
  if (!s) {
    try {
      s = p.hpa?.metrics.length ? parseMetricSpecs(p.hpa.metrics, `services.${p.name}.hpa.metrics`) : [];
    } catch {
      // the config loader already rejected bad specs; a policy that slips through shows no targets rather than failing
      s = [];
    }
    specCache.set(p, s);
  }
  return s;
}

/**
 * Each HPA metric and the queue target next to the value last read. Values are the controller's aggregate per metric:
 * percent of request for cpu/memory with requests, the per-replica mean for other per-replica metrics, the total
 * for aggregate ones (divided by replicas here when the target is per replica).
 */
export function utilization(p: ServicePolicy, values: Record<string, number>, replicas: number | null): Utilization[] {
  const out: Utilization[] = [];
  const ratio = (c: number | null, t: number) => (c === null || !(t > 0) ? null : c / t);
  for (const s of hpaSpecs(p)) {
    const v = values[s.name];
    const has = v !== undefined && Number.isFinite(v);
    const t = s.target;
    if (t.type === 'Utilization' && t.averageUtilization !== null) {
      const current = has ? v : null;
      out.push({ metric: s.name, kind: s.type, current, target: t.averageUtilization, ratio: ratio(current, t.averageUtilization), unit: '%', perReplica: true });
    } else if (t.type === 'AverageValue' && t.averageValueMilli !== null) {
      const target = t.averageValueMilli / 1000;
      // per-replica metrics are already means; aggregate ones (External, Object) are spread over the replicas
      const perPod = p.metrics[s.name]?.perPod ?? (s.type === 'Pods' || s.type === 'Resource' || s.type === 'ContainerResource');
      // cpu/memory with a request are read as percent of it, which an absolute target cannot be compared with
      const asPercent = (s.type === 'Resource' || s.type === 'ContainerResource') && p.resources?.requests?.[s.name as 'cpu' | 'memory'] !== undefined;
      const current = !has || asPercent ? null : perPod ? v : replicas ? v / replicas : null;
      out.push({ metric: s.name, kind: s.type, current, target, ratio: ratio(current, target), unit: '', perReplica: true });
    } else if (t.type === 'Value' && t.valueMilli !== null) {
      const target = t.valueMilli / 1000;
      const current = has ? v : null;
      out.push({ metric: s.name, kind: s.type, current, target, ratio: ratio(current, target), unit: '', perReplica: false });
    }
  }
  if (p.queue) {
    const v = values[p.queue.metric];
    const current = v === undefined || !Number.isFinite(v) || !replicas ? null : v / replicas;
    out.push({ metric: p.queue.metric, kind: 'queue', current, target: p.queue.targetPerReplica, ratio: ratio(current, p.queue.targetPerReplica), unit: '', perReplica: true });
  }
  return out;
}
