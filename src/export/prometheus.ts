// Prometheus alerting rules from the policy: the runbooks' alerts (CPU, memory, latency, queue depth, DB
// connections, max replicas, rapid scaling, HPA unable to scale) with thresholds from the service's rules and SLO,
// plus alerts the policy itself implies (pinned at max, flapping, metric source missing, controller silent) and
// scalepilot's own health (self-rules.ts).
// Written as a plain rule file (`groups:`) and as a prometheus-operator PrometheusRule.
import type { Config, ServicePolicy } from '../config/load.js';
import { formatDuration } from '../core/duration.js';
import { METRIC_NAMES } from '../core/metric-names.js';
import { MANAGED_BY, k8sName, plainNumber, workloadRef, type ExportResult } from './types.js';
import {
  connectionsOf, isPercentUnit, isQueueMetric, latencyPercentile, metricsOf, quantityNumber, resourceOf, risingRules, secondsToUnit,
  type NamedMetric,
} from './signals.js';
import { budgetGroup, verificationRules } from './guard-rules.js';
import { selfGroup } from './self-rules.js';

export type Severity = 'info' | 'warning' | 'critical';

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

export interface AlertOptions {
  /** replica changes within 10m that count as rapid scaling (default 5) */
  rapidScalingChanges?: number;
  /** scale-ups and scale-downs each within 30m that count as flapping (default 2) */
  flappingReversals?: number;
}

/** Runbook defaults where a service's rules and SLO say nothing. */
export const ALERT_DEFAULTS = {
  cpu: [{ severity: 'warning', threshold: 80, forMs: 5 * 60_000 }, { severity: 'critical', threshold: 90, forMs: 5 * 60_000 }],
  memory: [{ severity: 'warning', threshold: 85, forMs: 5 * 60_000 }],
  /** seconds, for p99 (other percentiles alert only from rules or the SLO) */
  p99Latency: { severity: 'warning', threshold: 2, forMs: 5 * 60_000 },
  queueForMs: 10 * 60_000,
  connectionsPercent: { severity: 'warning', threshold: 90, forMs: 5 * 60_000 },
  maxReplicasForMs: 5 * 60_000,
  pinnedAtMaxForMs: 15 * 60_000,
  rapidScalingChanges: 5,
  flappingReversals: 2,
} as const;

interface Level {
  severity: Severity;
  threshold: number;
  forMs: number;
  /** 'rule NAME', 'slo.p95', or 'runbook default' */
  from: string;
}

/** PromQL string literal. */
const lit = (s: string) => JSON.stringify(s);
const sel = (metric: string, labels: Record<string, string>) => `${metric}{${Object.entries(labels).map(([k, v]) => `${k}=${lit(v)}`).join(',')}}`;
const num = plainNumber;
const dur = (ms: number) => formatDuration(ms);

function valueOf(p: ServicePolicy, metric: string): string {
  return sel(METRIC_NAMES.metricValue, { service: p.name, metric });
}

/** Rule levels on the metric (lowest threshold per severity), then defaults for severities above them. */
function levels(p: ServicePolicy, metric: string, defaults: ReadonlyArray<Omit<Level, 'from'>>): { rule: Level[]; fallback: Level[] } {
  const bySeverity = new Map<Severity, Level>();
  for (const r of risingRules(p, metric)) {
    const prev = bySeverity.get(r.severity);
    if (!prev || r.condition.threshold < prev.threshold) bySeverity.set(r.severity, { severity: r.severity, threshold: r.condition.threshold, forMs: r.forMs, from: `rule ${r.name}` });
  }
  const rule = [...bySeverity.values()];
  const highest = Math.max(-Infinity, ...rule.map((l) => l.threshold));
  const fallback = defaults.filter((d) => !bySeverity.has(d.severity) && d.threshold > highest).map((d) => ({ ...d, from: 'runbook default' }));
  return { rule, fallback };
}

/**
 * The metric as utilization percent, when that can be known: a percent unit, the controller's per-replica
 * cpu/memory (it reports percent of requests when requests are known), or per-replica cores/bytes over the
 * configured request (or limit).
 */
function percentExpr(p: ServicePolicy, m: NamedMetric, resource: 'cpu' | 'memory'): string | undefined {
  const v = valueOf(p, m.name);
  if (isPercentUnit(m)) return v;
  const q = m.spec.query.trim().toLowerCase();
  if (q === 'cpu_percent' || q === 'memory_percent') return v;
  const capacity = quantityNumber(p.resources?.requests?.[resource]) ?? quantityNumber(p.resources?.limits?.[resource]);
  if (m.spec.perPod && (m.name === 'cpu' || m.name === 'memory') && p.resources?.requests?.[resource]) return v;
  if (m.spec.perPod && capacity) return `${v} / ${num(capacity)} * 100`;
  return undefined;
}

function thresholdAlerts(
  alert: string,
  p: ServicePolicy,
  m: NamedMetric,
  lv: { rule: Level[]; fallback: Level[] },
  fallbackExpr: string | undefined,
  text: (l: Level) => { summary: string; description: string },
  warnings: string[],
): AlertRule[] {
  const out: AlertRule[] = [];
  const emit = (expr: string, l: Level) =>
    out.push({
      alert,
      expr: `${expr} > ${num(l.threshold)}`,
      for: dur(l.forMs),
      labels: { severity: l.severity, service: p.name },
      annotations: text(l),
    });
  for (const l of lv.rule) emit(valueOf(p, m.name), l);
  if (lv.fallback.length && !fallbackExpr) {
    warnings.push(`services.${p.name}.metrics.${m.name}: the unit is not a utilization percent (set unit: percent, or perPod with resources.requests), so ${alert} uses only the service's own rules`);
  } else {
    for (const l of lv.fallback) emit(fallbackExpr!, l);
  }
  return out;
}

function serviceRules(config: Config, p: ServicePolicy, o: Required<AlertOptions>, warnings: string[]): AlertRule[] {
  const rules: AlertRule[] = [];
  const svc = { service: p.name };
  const maxBy = (expr: string) => `max by (service) (${expr})`;
  const metrics = metricsOf(config, p);

  for (const m of metrics) {
    const resource = resourceOf(m);
    // the runbook defaults are percentages; rule thresholds are in the metric's own unit
    const pctOf = (l: Level, r: 'cpu' | 'memory') => (l.from === 'runbook default' || percentExpr(p, m, r) === valueOf(p, m.name) ? '%' : '');
    if (resource === 'cpu') {
      rules.push(...thresholdAlerts('ScalepilotHighCPU', p, m, levels(p, m.name, ALERT_DEFAULTS.cpu), percentExpr(p, m, 'cpu'), (l) => ({
        summary: `${p.name}: CPU {{ $value | humanize }}${pctOf(l, 'cpu')} above ${num(l.threshold)}${pctOf(l, 'cpu')} for ${dur(l.forMs)}`,
        description: `${m.name} has stayed above ${num(l.threshold)} (${l.from}). If replicas are already at max, raise maxReplicas or CPU requests; otherwise check that scaling keeps up.`,
      }), warnings));
    } else if (resource === 'memory') {
      rules.push(...thresholdAlerts('ScalepilotHighMemory', p, m, levels(p, m.name, ALERT_DEFAULTS.memory), percentExpr(p, m, 'memory'), (l) => ({
        summary: `${p.name}: memory {{ $value | humanize }}${pctOf(l, 'memory')} above ${num(l.threshold)}${pctOf(l, 'memory')} for ${dur(l.forMs)}`,
        description: `${m.name} has stayed above ${num(l.threshold)} (${l.from}). Memory does not fall when replicas are added if it leaks; check for OOM kills and raise memory limits (scalepilot rightsize).`,
      }), warnings));
    }

    const pct = latencyPercentile(m);
    if (pct !== undefined) {
      const k = secondsToUnit(m);
      const defaults: Array<Omit<Level, 'from'>> = [];
      const sloMs = pct === 95 ? p.slo?.p95 : undefined;
      if (sloMs !== undefined) defaults.push({ severity: 'warning', threshold: (sloMs / 1000) * k, forMs: ALERT_DEFAULTS.p99Latency.forMs });
      else if (pct === 99) defaults.push({ ...ALERT_DEFAULTS.p99Latency, threshold: ALERT_DEFAULTS.p99Latency.threshold * k });
      const lv = levels(p, m.name, defaults);
      const from = sloMs !== undefined ? 'slo.p95' : 'runbook default';
      rules.push(...thresholdAlerts('ScalepilotHighLatency', p, m, { rule: lv.rule, fallback: lv.fallback.map((l) => ({ ...l, from })) }, valueOf(p, m.name), (l) => ({
        summary: `${p.name}: p${pct} latency {{ $value | humanize }} above ${num(l.threshold)} for ${dur(l.forMs)}`,
        description: `${m.name} has stayed above ${num(l.threshold)} (${l.from}). Check saturation (CPU, connections, queue) before adding replicas; latency from a slow dependency does not improve with more of them.`,
      }), warnings));
    }

    if (isQueueMetric(p, m)) {
      const defaults: Array<Omit<Level, 'from'>> = [];
      if (p.queue?.metric === m.name) defaults.push({ severity: 'warning', threshold: p.queue.targetPerReplica * p.maxReplicas, forMs: ALERT_DEFAULTS.queueForMs });
      const lv = levels(p, m.name, defaults);
      rules.push(...thresholdAlerts('ScalepilotQueueBacklog', p, m, { rule: lv.rule, fallback: lv.fallback.map((l) => ({ ...l, from: `queue.targetPerReplica × maxReplicas` })) }, valueOf(p, m.name), (l) => ({
        summary: `${p.name}: ${m.name} backlog at {{ $value | humanize }}, above ${num(l.threshold)} for ${dur(l.forMs)}`,
        description: `The backlog is more than the workers can drain at their target (${l.from}). Check consumer errors and whether maxReplicas is reached.`,
      }), warnings));
    }

    const conn = connectionsOf(m);
    if (conn === 'ratio' || conn === 'count') {
      const maxMetric = metrics.find((x) => connectionsOf(x) === 'max');
      const limit = p.limits?.maxConnections;
      const expr = conn === 'ratio'
        ? `${valueOf(p, m.name)} * 100`
        : limit ? `100 * ${valueOf(p, m.name)} / ${limit}`
        : maxMetric ? `${valueOf(p, m.name)} / ignoring(metric) ${valueOf(p, maxMetric.name)} * 100` : undefined;
      const lv = levels(p, m.name, [ALERT_DEFAULTS.connectionsPercent]);
      const fallbackText = conn === 'ratio' ? 'of max_connections' : limit ? `of limits.maxConnections (${limit})` : 'of max_connections';
      rules.push(...thresholdAlerts('ScalepilotDBConnectionsHigh', p, m, lv, expr, (l) => ({
        summary: `${p.name}: database connections at {{ $value | humanize }}${l.from === 'runbook default' ? `% ${fallbackText}` : ''}, above ${num(l.threshold)} for ${dur(l.forMs)}`,
        description: `The connection pool is nearly exhausted (${l.from}). Adding replicas adds connections: cap per-replica pools or add a pooler (PgBouncer) before scaling out.`,
      }), warnings));
    }
  }

  rules.push({
    alert: 'ScalepilotMaxReplicasReached',
    expr: `${maxBy(sel(METRIC_NAMES.currentReplicas, svc))} >= ${maxBy(sel(METRIC_NAMES.maxReplicas, svc))}`,
    for: dur(ALERT_DEFAULTS.maxReplicasForMs),
    labels: { severity: 'warning', service: p.name },
    annotations: {
      summary: `${p.name}: running at maxReplicas ({{ $value }}) for ${dur(ALERT_DEFAULTS.maxReplicasForMs)}`,
      description: 'No headroom is left to scale out. Check whether load is expected; raise maxReplicas if capacity (quotas, database connections) allows.',
    },
  });
  rules.push({
    alert: 'ScalepilotPinnedAtMax',
    expr: `${maxBy(sel(METRIC_NAMES.desiredReplicas, svc))} >= ${maxBy(sel(METRIC_NAMES.maxReplicas, svc))}`,
    for: dur(ALERT_DEFAULTS.pinnedAtMaxForMs),
    labels: { severity: 'critical', service: p.name },
    annotations: {
      summary: `${p.name}: scalepilot has wanted maxReplicas ({{ $value }}) or more for ${dur(ALERT_DEFAULTS.pinnedAtMaxForMs)}`,
      description: 'Demand is above what the policy allows, so the service is under-provisioned. Raise maxReplicas, make replicas bigger, or shed load.',
    },
  });
  rules.push({
    alert: 'ScalepilotRapidScaling',
    expr: `${maxBy(`changes(${sel(METRIC_NAMES.currentReplicas, svc)}[10m])`)} > ${o.rapidScalingChanges}`,
    labels: { severity: 'warning', service: p.name },
    annotations: {
      summary: `${p.name}: replica count changed {{ $value }} times in 10m (more than ${o.rapidScalingChanges})`,
      description: 'Scaling this often costs cold starts and cache warm-up. Lengthen the stabilization window or rule cooldowns.',
    },
  });
  const dec = (action: string) => `sum by (service) (increase(${sel(METRIC_NAMES.decisionsTotal, { ...svc, action })}[30m]))`;
  rules.push({
    alert: 'ScalepilotFlapping',
    expr: `${dec('scale-up')} >= ${o.flappingReversals} and ${dec('scale-down')} >= ${o.flappingReversals}`,
    labels: { severity: 'warning', service: p.name },
    annotations: {
      summary: `${p.name}: scaled both up and down at least ${o.flappingReversals} times each in 30m`,
      description: 'Direction reversals mean the thresholds are too close together. Widen the band between scale-up and scale-down, or lengthen the scale-down stabilization window.',
    },
  });
  rules.push({
    alert: 'ScalepilotMetricErrors',
    expr: `sum by (service, metric) (rate(${sel(METRIC_NAMES.metricErrorsTotal, svc)}[5m])) > 0`,
    for: '10m',
    labels: { severity: 'warning', service: p.name },
    annotations: {
      summary: `${p.name}: reading metric {{ $labels.metric }} keeps failing`,
      description: 'Decisions that need this metric hold the current replica count (failed reads never count as zero). Check the source in `scalepilot check` output.',
    },
  });
  if (metrics.length) {
    rules.push({
      alert: 'ScalepilotMetricMissing',
      expr: metrics.map((m) => `absent(${valueOf(p, m.name)})`).join(' or '),
      for: '10m',
      labels: { severity: 'warning', service: p.name },
      annotations: {
        summary: `${p.name}: metric {{ $labels.metric }} has no value`,
        description: 'scalepilot has not published this metric: the source never answered, or the controller is not running.',
      },
    });
  }
  rules.push({
    alert: 'ScalepilotScaleErrors',
    expr: `sum by (service) (rate(${sel(METRIC_NAMES.scaleErrorsTotal, svc)}[5m])) > 0`,
    for: '10m',
    labels: { severity: 'critical', service: p.name },
    annotations: {
      summary: `${p.name}: scaling or observing the target keeps failing`,
      description: 'The replica count cannot be changed. Check the provider error in `scalepilot history --kind error,scale`.',
    },
  });
  rules.push({
    alert: 'ScalepilotNotReporting',
    expr: `absent(${sel(METRIC_NAMES.currentReplicas, svc)})`,
    for: '5m',
    labels: { severity: 'critical', service: p.name },
    annotations: {
      summary: `${p.name}: scalepilot reports no replica count`,
      description: 'The controller is down, not scraped, or cannot observe the target: nothing is autoscaling this service.',
    },
  });
  rules.push({
    alert: 'ScalepilotSyncSlow',
    expr: `histogram_quantile(0.99, sum by (service, le) (rate(${sel(`${METRIC_NAMES.syncDurationSeconds}_bucket`, svc)}[5m]))) > ${num(p.syncPeriodMs / 1000)}`,
    for: '10m',
    labels: { severity: 'warning', service: p.name },
    annotations: {
      summary: `${p.name}: p99 sync takes {{ $value | humanizeDuration }}, longer than the ${dur(p.syncPeriodMs)} sync period`,
      description: 'Slow metric sources or provider calls delay every decision. Check source timeouts.',
    },
  });

  if (p.target.provider === 'kubernetes') {
    const ref = workloadRef(p, []);
    const hpaSel = { ...(ref.namespace ? { namespace: ref.namespace } : {}), horizontalpodautoscaler: k8sName(ref.name) };
    rules.push({
      alert: 'KubernetesHPAUnableToScale',
      expr: `${sel('kube_horizontalpodautoscaler_status_condition', { ...hpaSel, condition: 'AbleToScale', status: 'false' })} == 1`,
      for: '5m',
      labels: { severity: 'warning', service: p.name },
      annotations: {
        summary: `${p.name}: HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} is unable to scale`,
        description: 'The HPA cannot read or update the scale subresource (RBAC, a missing target, or a failed update). See `kubectl describe hpa`.',
      },
    });
    rules.push({
      alert: 'KubernetesHPAMaxedOut',
      expr: `${sel('kube_horizontalpodautoscaler_status_current_replicas', hpaSel)} >= ${sel('kube_horizontalpodautoscaler_spec_max_replicas', hpaSel)}`,
      for: dur(ALERT_DEFAULTS.pinnedAtMaxForMs),
      labels: { severity: 'warning', service: p.name },
      annotations: {
        summary: `${p.name}: HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has run at max replicas for ${dur(ALERT_DEFAULTS.pinnedAtMaxForMs)}`,
        description: 'When Kubernetes scales this service (exported HPA), this is the same signal as ScalepilotPinnedAtMax.',
      },
    });
  }
  return rules;
}

export function alertGroups(config: Config, services: ServicePolicy[], opts: AlertOptions = {}): { groups: RuleGroup[]; warnings: string[] } {
  const o: Required<AlertOptions> = {
    rapidScalingChanges: opts.rapidScalingChanges ?? ALERT_DEFAULTS.rapidScalingChanges,
    flappingReversals: opts.flappingReversals ?? ALERT_DEFAULTS.flappingReversals,
  };
  const warnings: string[] = [];
  const groups = services.map((p) => ({ name: `scalepilot.${p.name}`, rules: [...serviceRules(config, p, o, warnings), ...verificationRules(p)] }));
  const budgets = budgetGroup(config, services);
  if (budgets) groups.push(budgets);
  if (services.length) groups.push(selfGroup(services));
  return { groups, warnings };
}

/** A plain Prometheus rule file (`rule_files:` entry). */
export function exportRuleFile(config: Config, services: ServicePolicy[], opts: AlertOptions = {}): ExportResult {
  const { groups, warnings } = alertGroups(config, services, opts);
  return { objects: [{ file: 'scalepilot-rules', object: { groups } }], warnings };
}

/** The same groups as a prometheus-operator PrometheusRule. */
export function exportPrometheusRule(config: Config, services: ServicePolicy[], opts: AlertOptions = {}): ExportResult {
  const { groups, warnings } = alertGroups(config, services, opts);
  const one = services.length === 1 ? services[0]! : undefined;
  const ns = one?.target.provider === 'kubernetes' ? workloadRef(one, []).namespace : undefined;
  const name = one ? `scalepilot-${k8sName(one.name)}` : 'scalepilot';
  const object = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name, ...(ns ? { namespace: ns } : {}), labels: { ...MANAGED_BY, 'app.kubernetes.io/part-of': 'scalepilot' } },
    spec: { groups },
  };
  return { objects: [{ file: `prometheusrule-${one ? one.name : 'scalepilot'}`, object }], warnings };
}

