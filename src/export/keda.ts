// KEDA ScaledObject (keda.sh/v1alpha1) from a service policy: the queue becomes a redis / redis-streams /
// postgresql / prometheus trigger with the same per-replica target and activation; HPA metrics become triggers too.
import type { Config, ServicePolicy } from '../config/load.js';
import { parsePostgresQuery } from '../metrics/postgres.js';
import { parseRedisQuery } from '../metrics/redis.js';
import { behaviorSpec } from './hpa.js';
import { MANAGED_BY, k8sName, plainNumber, workloadRef, type ExportResult } from './types.js';
import { metricOf, type NamedMetric } from './signals.js';

type Json = Record<string, unknown>;

export interface KedaTrigger {
  type: string;
  name?: string;
  metricType?: 'AverageValue' | 'Value' | 'Utilization';
  /** CRD: every metadata value is a string */
  metadata: Record<string, string>;
}

const num = plainNumber;

interface TriggerTarget {
  /** per replica (AverageValue) or total (Value) */
  value: number;
  activation?: number;
  metricType: 'AverageValue' | 'Value';
}

function redisAddress(source: Json): { address: string; db?: string; tls: boolean; password: boolean } | undefined {
  if (typeof source.url !== 'string') return undefined;
  let u: URL;
  try {
    u = new URL(source.url);
  } catch {
    return undefined;
  }
  const db = typeof source.db === 'number' ? String(source.db) : u.pathname.replace(/^\//, '') || undefined;
  return { address: `${u.hostname}:${u.port || '6379'}`, ...(db ? { db } : {}), tls: u.protocol === 'rediss:', password: Boolean(u.password || source.password) };
}

function triggerFor(m: NamedMetric, t: TriggerTarget, p: ServicePolicy, warnings: string[]): KedaTrigger | undefined {
  const where = `services.${p.name}.metrics.${m.name}`;
  const base = { name: m.name, ...(t.metricType === 'Value' ? { metricType: 'Value' as const } : {}) };
  switch (m.sourceType) {
    case 'prometheus': {
      if (typeof m.source.url !== 'string') break;
      // KEDA wants one number; per-replica series are summed and KEDA's AverageValue divides by replicas again
      const query = m.spec.perPod ? `sum(${m.spec.query})` : m.spec.query;
      return { type: 'prometheus', ...base, metadata: { serverAddress: m.source.url, query, threshold: num(t.value), ...(t.activation ? { activationThreshold: num(t.activation) } : {}) } };
    }
    case 'redis': {
      const a = redisAddress(m.source);
      if (!a) break;
      let q;
      try {
        q = parseRedisQuery({ name: m.name, query: m.spec.query }, where);
      } catch (e) {
        warnings.push(`${where}: ${(e as Error).message}`);
        return undefined;
      }
      const conn: Record<string, string> = {
        address: a.address,
        ...(a.db ? { databaseIndex: a.db } : {}),
        ...(a.tls ? { enableTLS: 'true' } : {}),
        ...(a.password ? { passwordFromEnv: 'REDIS_PASSWORD' } : {}),
      };
      if (a.password) warnings.push(`${where}: the redis password is not exported; the trigger reads it from REDIS_PASSWORD in the workload (or use a TriggerAuthentication)`);
      if (q.kind === 'llen' && q.keys.length === 1) {
        return { type: 'redis', ...base, metadata: { ...conn, listName: q.keys[0]!, listLength: num(t.value), ...(t.activation ? { activationListLength: num(t.activation) } : {}) } };
      }
      if (q.kind === 'xpending' || q.kind === 'xlen') {
        if (t.activation) warnings.push(`${where}: redis-streams has no activation threshold for ${q.kind}; activationThreshold ${t.activation} is left out`);
        return {
          type: 'redis-streams',
          ...base,
          metadata: q.kind === 'xpending'
            ? { ...conn, stream: q.key, consumerGroup: q.group, pendingEntriesCount: num(t.value) }
            : { ...conn, stream: q.key, streamLength: num(t.value) },
        };
      }
      warnings.push(`${where}: "${m.spec.query}" has no KEDA redis trigger (one list key with llen, xlen or xpending has); left out`);
      return undefined;
    }
    case 'postgres': {
      let q;
      try {
        q = parsePostgresQuery({ name: m.name, query: m.spec.query, ...(m.spec.params ? { params: m.spec.params } : {}) }, where);
      } catch (e) {
        warnings.push(`${where}: ${(e as Error).message}`);
        return undefined;
      }
      if (q.kind !== 'sql' || typeof m.source.url !== 'string') {
        warnings.push(`${where}: only SQL queries map to KEDA's postgresql trigger; "${m.spec.query}" is left out`);
        return undefined;
      }
      const u = new URL(m.source.url);
      const password = Boolean(u.password || m.source.password);
      if (password) warnings.push(`${where}: the postgres password is not exported; the trigger reads it from PG_PASSWORD in the workload (or use a TriggerAuthentication)`);
      return {
        type: 'postgresql',
        ...base,
        metadata: {
          host: u.hostname,
          port: u.port || '5432',
          ...(u.username ? { userName: decodeURIComponent(u.username) } : {}),
          dbName: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
          sslmode: u.searchParams.get('sslmode') ?? 'disable',
          ...(password ? { passwordFromEnv: 'PG_PASSWORD' } : {}),
          query: q.sql,
          targetQueryValue: num(t.value),
          ...(t.activation ? { activationTargetQueryValue: num(t.activation) } : {}),
        },
      };
    }
  }
  warnings.push(`${where}: a ${m.sourceType} source has no KEDA trigger here; left out`);
  return undefined;
}

/** An HPA MetricSpec as a KEDA trigger: cpu/memory scalers for Resource metrics, the metric's source otherwise. */
function triggerForHpaMetric(config: Config, p: ServicePolicy, spec: Json, warnings: string[]): KedaTrigger | undefined {
  const type = String(spec.type);
  if (type === 'Resource' || type === 'ContainerResource') {
    const src = (spec.resource ?? spec.containerResource) as Json;
    const target = (src.target ?? {}) as Json;
    const utilization = target.type === 'Utilization';
    const value = utilization ? target.averageUtilization : target.averageValue;
    return {
      type: String(src.name),
      metricType: utilization ? 'Utilization' : 'AverageValue',
      metadata: { value: String(value), ...(type === 'ContainerResource' ? { containerName: String(src.container) } : {}) },
    };
  }
  const key = type === 'Pods' ? 'pods' : type === 'Object' ? 'object' : 'external';
  const src = (spec[key] ?? {}) as Json;
  const name = String(((src.metric ?? {}) as Json).name ?? '');
  const target = (src.target ?? {}) as Json;
  const m = metricOf(config, p, name);
  if (!m) {
    warnings.push(`services.${p.name}.hpa.metrics: ${type} metric "${name}" is not one of this service's metrics, so it has no source to become a KEDA trigger; left out`);
    return undefined;
  }
  const raw = target.type === 'Value' ? target.value : target.averageValue;
  const value = Number(raw);
  if (!Number.isFinite(value)) {
    warnings.push(`services.${p.name}.hpa.metrics: ${type} metric "${name}" target ${String(raw)} is not a plain number; left out`);
    return undefined;
  }
  return triggerFor(m, { value, metricType: target.type === 'Value' ? 'Value' : 'AverageValue' }, p, warnings);
}

export function exportKeda(config: Config, p: ServicePolicy): ExportResult {
  const warnings: string[] = [];
  const ref = workloadRef(p, warnings);
  const triggers: KedaTrigger[] = [];
  const q = p.queue;
  if (q) {
    const m = metricOf(config, p, q.metric);
    const t = m && triggerFor(m, { value: q.targetPerReplica, activation: q.activationThreshold, metricType: 'AverageValue' }, p, warnings);
    if (t) triggers.push(t);
  }
  for (const spec of p.hpa?.metrics ?? []) {
    const t = triggerForHpaMetric(config, p, spec as Json, warnings);
    if (t && !triggers.some((x) => x.name !== undefined && x.name === t.name)) triggers.push(t);
  }
  if (triggers.length === 0) {
    warnings.push(`services.${p.name}: no queue or HPA metric maps to a KEDA trigger, so no ScaledObject was written`);
    return { objects: [], warnings };
  }
  const minReplicaCount = q?.minReplicas ?? p.minReplicas;
  if (q?.idleReplicas !== undefined && (q.idleReplicas !== 0 || q.idleReplicas >= minReplicaCount)) {
    warnings.push(`services.${p.name}.queue.idleReplicas: KEDA supports only 0, and it must be below minReplicaCount (${minReplicaCount})`);
  }
  const behavior = behaviorSpec(p.hpa?.behavior);
  const spec: Json = {
    scaleTargetRef: { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name },
    pollingInterval: Math.max(1, Math.round(p.syncPeriodMs / 1000)),
    ...(q ? { cooldownPeriod: Math.round(q.cooldownPeriod / 1000) } : {}),
    ...(q?.idleReplicas !== undefined ? { idleReplicaCount: q.idleReplicas } : {}),
    minReplicaCount,
    maxReplicaCount: p.maxReplicas,
    ...(q?.fallback ? { fallback: { failureThreshold: q.fallback.failureThreshold, replicas: q.fallback.replicas } } : {}),
    ...(behavior ? { advanced: { horizontalPodAutoscalerConfig: { behavior } } } : {}),
    triggers,
  };
  const object = {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: {
      name: k8sName(ref.name),
      ...(ref.namespace ? { namespace: ref.namespace } : {}),
      labels: { ...MANAGED_BY, 'scalepilot.dev/service': p.name },
      ...(p.paused ? { annotations: { 'autoscaling.keda.sh/paused': 'true' } } : {}),
    },
    spec,
  };
  return { objects: [{ file: `scaledobject-${p.name}`, object }], warnings };
}
