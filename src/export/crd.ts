// Structural checks for the custom resources scalepilot exports, transcribed from their CRDs' openAPIV3Schema
// (KEDA keda.sh_scaledobjects.yaml, prometheus-operator monitoring.coreos.com_prometheusrules.yaml) plus the
// admission checks KEDA's webhook adds. Unknown fields are errors: the API server would silently prune them.

type Schema =
  | { type: 'object'; properties?: Record<string, Schema>; required?: string[]; values?: Schema }
  | { type: 'array'; items: Schema; uniqueBy?: string }
  | { type: 'string'; pattern?: RegExp; enum?: readonly string[]; minLength?: number }
  | { type: 'integer'; int32?: boolean; minimum?: number; maximum?: number }
  | { type: 'boolean' }
  | { type: 'int-or-string' }
  | { type: 'any' };

const str: Schema = { type: 'string' };
const int32: Schema = { type: 'integer', int32: true };
const stringMap: Schema = { type: 'object', values: str };
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, required });

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const metadata = obj({ name: { type: 'string', pattern: DNS_SUBDOMAIN }, namespace: { type: 'string', pattern: DNS_SUBDOMAIN }, labels: stringMap, annotations: stringMap }, ['name']);

const scalingRules = obj({
  policies: { type: 'array', items: obj({ type: { type: 'string', enum: ['Pods', 'Percent'] }, value: { type: 'integer', int32: true, minimum: 1 }, periodSeconds: { type: 'integer', int32: true, minimum: 1, maximum: 1800 } }, ['type', 'value', 'periodSeconds']) },
  selectPolicy: { type: 'string', enum: ['Max', 'Min', 'Disabled'] },
  stabilizationWindowSeconds: { type: 'integer', int32: true, minimum: 0, maximum: 3600 },
  tolerance: { type: 'int-or-string' },
});

export const SCALED_OBJECT_SCHEMA: Schema = obj({
  apiVersion: { type: 'string', enum: ['keda.sh/v1alpha1'] },
  kind: { type: 'string', enum: ['ScaledObject'] },
  metadata,
  spec: obj({
    scaleTargetRef: obj({ apiVersion: str, kind: str, name: str, envSourceContainerName: str }, ['name']),
    pollingInterval: int32,
    cooldownPeriod: int32,
    initialCooldownPeriod: int32,
    idleReplicaCount: int32,
    minReplicaCount: int32,
    maxReplicaCount: int32,
    fallback: obj({ failureThreshold: int32, replicas: int32, behavior: str }, ['failureThreshold', 'replicas']),
    advanced: obj({
      restoreToOriginalReplicaCount: { type: 'boolean' },
      horizontalPodAutoscalerConfig: obj({ name: str, behavior: obj({ scaleUp: scalingRules, scaleDown: scalingRules }) }),
      scalingModifiers: obj({ formula: str, target: str, activationTarget: str, metricType: { type: 'string', enum: ['AverageValue', 'Value'] } }),
    }),
    triggers: {
      type: 'array',
      items: obj({
        type: str,
        name: str,
        metadata: stringMap,
        metricType: { type: 'string', enum: ['AverageValue', 'Value', 'Utilization'] },
        useCachedMetrics: { type: 'boolean' },
        authenticationRef: obj({ name: str, kind: str }, ['name']),
      }, ['type', 'metadata']),
    },
  }, ['scaleTargetRef', 'triggers']),
}, ['apiVersion', 'kind', 'metadata', 'spec']);

const PROM_DURATION = /^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$/;
const duration: Schema = { type: 'string', pattern: PROM_DURATION };

const ruleSchema = obj({
  alert: str,
  record: str,
  expr: { type: 'int-or-string' },
  for: duration,
  keep_firing_for: { type: 'string', pattern: PROM_DURATION, minLength: 1 },
  labels: stringMap,
  annotations: stringMap,
}, ['expr']);

const groupSchema = obj({
  name: { type: 'string', minLength: 1 },
  interval: duration,
  limit: { type: 'integer' },
  partial_response_strategy: { type: 'string', pattern: /^(abort|warn)?$/i },
  query_offset: duration,
  labels: stringMap,
  rules: { type: 'array', items: ruleSchema },
}, ['name']);

export const PROMETHEUS_RULE_SCHEMA: Schema = obj({
  apiVersion: { type: 'string', enum: ['monitoring.coreos.com/v1'] },
  kind: { type: 'string', enum: ['PrometheusRule'] },
  metadata,
  spec: obj({ groups: { type: 'array', items: groupSchema, uniqueBy: 'name' } }),
}, ['apiVersion', 'kind', 'metadata', 'spec']);

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Every structural problem as "path: problem". */
export function checkSchema(value: unknown, s: Schema, path = ''): string[] {
  const at = path || '(root)';
  const errs: string[] = [];
  switch (s.type) {
    case 'any':
      return errs;
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${at}: must be an object`];
      const o = value as Record<string, unknown>;
      for (const r of s.required ?? []) if (o[r] === undefined) errs.push(`${path ? `${path}.` : ''}${r}: is required`);
      for (const [k, v] of Object.entries(o)) {
        const sub = s.properties?.[k] ?? s.values;
        const p = `${path ? `${path}.` : ''}${k}`;
        if (!sub) errs.push(`${p}: unknown field (the API server would drop it)`);
        else if (v !== undefined) errs.push(...checkSchema(v, sub, p));
      }
      return errs;
    }
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: must be a list`];
      value.forEach((v, i) => errs.push(...checkSchema(v, s.items, `${path}[${i}]`)));
      if (s.uniqueBy) {
        const seen = new Set<unknown>();
        value.forEach((v, i) => {
          const key = (v as Record<string, unknown> | null)?.[s.uniqueBy!];
          if (seen.has(key)) errs.push(`${path}[${i}].${s.uniqueBy}: duplicate ${JSON.stringify(key)}`);
          seen.add(key);
        });
      }
      return errs;
    }
    case 'string':
      if (typeof value !== 'string') return [`${at}: must be a string, got ${JSON.stringify(value)}`];
      if (s.enum && !s.enum.includes(value)) errs.push(`${at}: must be one of ${s.enum.join(', ')}, got ${JSON.stringify(value)}`);
      if (s.pattern && !s.pattern.test(value)) errs.push(`${at}: ${JSON.stringify(value)} does not match ${s.pattern.source}`);
      if (s.minLength !== undefined && value.length < s.minLength) errs.push(`${at}: must not be empty`);
      return errs;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return [`${at}: must be an integer, got ${JSON.stringify(value)}`];
      if (s.int32 && (value < INT32_MIN || value > INT32_MAX)) errs.push(`${at}: ${value} does not fit int32`);
      if (s.minimum !== undefined && value < s.minimum) errs.push(`${at}: must be >= ${s.minimum}, got ${value}`);
      if (s.maximum !== undefined && value > s.maximum) errs.push(`${at}: must be <= ${s.maximum}, got ${value}`);
      return errs;
    case 'boolean':
      return typeof value === 'boolean' ? errs : [`${at}: must be true or false`];
    case 'int-or-string':
      return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)) ? errs : [`${at}: must be an integer or a string`];
  }
}

/** The CRD schema plus KEDA's admission checks. */
export function validateScaledObject(o: unknown): string[] {
  const errs = checkSchema(o, SCALED_OBJECT_SCHEMA);
  if (errs.length) return errs;
  const spec = (o as { spec: Record<string, unknown> & { triggers: unknown[] } }).spec;
  const min = (spec.minReplicaCount as number | undefined) ?? 0;
  const max = (spec.maxReplicaCount as number | undefined) ?? 100;
  if (min > max) errs.push(`spec.minReplicaCount: ${min} must be <= maxReplicaCount ${max}`);
  const idle = spec.idleReplicaCount as number | undefined;
  if (idle !== undefined && idle >= min) errs.push(`spec.idleReplicaCount: ${idle} must be below minReplicaCount ${min}`);
  if (spec.triggers.length === 0) errs.push('spec.triggers: at least one trigger is required');
  spec.triggers.forEach((t, i) => {
    const tr = t as { type: string; metricType?: string };
    if ((tr.type === 'cpu' || tr.type === 'memory') && !tr.metricType) errs.push(`spec.triggers[${i}].metricType: the ${tr.type} scaler needs Utilization or AverageValue`);
    if (tr.type !== 'cpu' && tr.type !== 'memory' && tr.metricType === 'Utilization') errs.push(`spec.triggers[${i}].metricType: Utilization is only for the cpu and memory scalers`);
  });
  return errs;
}

/** The CRD schema plus the one-of alert/record rule. */
export function validatePrometheusRule(o: unknown): string[] {
  const errs = checkSchema(o, PROMETHEUS_RULE_SCHEMA);
  if (errs.length) return errs;
  const groups = ((o as { spec: { groups?: Array<{ rules?: Array<Record<string, unknown>> }> } }).spec.groups ?? []);
  groups.forEach((g, gi) =>
    (g.rules ?? []).forEach((r, ri) => {
      if ((r.alert === undefined) === (r.record === undefined)) errs.push(`spec.groups[${gi}].rules[${ri}]: exactly one of alert and record must be set`);
      if (r.record !== undefined && (r.for !== undefined || r.annotations !== undefined)) errs.push(`spec.groups[${gi}].rules[${ri}]: for and annotations apply to alerting rules only`);
    }),
  );
  return errs;
}
