// The `hpa evaluate` request JSON → a validated HpaInput: times to epoch ms, quantities to milli-units, the API
// server's defaults applied, and pod samples laid out per metric. Every rejection names the JSON path.
import { QuantityError, parseMilli } from '../quantity.js';
import { completeBehavior } from './behavior.js';
import { toleranceFloat } from './tolerance.js';
import { DEFAULT_KUBERNETES_MINOR, containerMissingIsPodMissing, kubernetesMinor as kubernetesMinor_, unsupportedKubernetesVersion } from './version.js';
import {
  DEFAULT_HPA_OPTIONS,
  POD_PHASES,
  type HpaHistory,
  type HpaInput,
  type HpaOptions,
  type LabelSelector,
  type MetricObservation,
  type MetricSourceType,
  type MetricSpec,
  type MetricTarget,
  type HpaBehavior,
  type PartialScalingRules,
  type PodTable,
  type ScaleEvent,
  type ScalingPolicy,
  type TimedRecommendation,
} from './types.js';

/** A request that does not parse or validate; the message starts with the JSON path of the problem. */
export class HpaInputError extends Error {
  override name = 'HpaInputError';
  constructor(readonly path: string, readonly problem: string) {
    super(`${path}: ${problem}`);
  }
}

type Json = unknown;
type Obj = Record<string, Json>;

function isObj(v: Json): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

function obj(v: Json, path: string): Obj {
  if (!isObj(v)) throw new HpaInputError(path || '(request)', 'must be a JSON object');
  return v;
}

function optObj(v: Json, path: string): Obj | null {
  if (v === undefined || v === null) return null;
  return obj(v, path);
}

function arr(v: Json, path: string): Json[] {
  if (!Array.isArray(v)) throw new HpaInputError(path, 'must be an array');
  return v;
}

function optArr(v: Json, path: string): Json[] {
  if (v === undefined || v === null) return [];
  return arr(v, path);
}

function str(v: Json, path: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new HpaInputError(path, 'must be a non-empty string');
  return v;
}

function int(v: Json, path: string, min: number, max = Number.MAX_SAFE_INTEGER, what = ''): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? (min === 1 ? 'an integer > 0' : `an integer >= ${min}`) : `an integer from ${min} to ${max}`;
    throw new HpaInputError(path, `must be ${range}${what}`);
  }
  return v;
}

function num(v: Json, path: string, min: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new HpaInputError(path, `must be a number >= ${min}`);
  return v;
}

function bool(v: Json, path: string, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new HpaInputError(path, 'must be true or false');
  return v;
}

/** RFC 3339 date-time → epoch ms (a number is taken as epoch ms already). */
function time(v: Json, path: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(v)) {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return t;
  }
  throw new HpaInputError(path, 'must be an RFC 3339 time like 2024-01-01T00:10:00Z');
}

function optTime(v: Json, path: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  return time(v, path);
}

/** A quantity (string, or number as Kubernetes accepts) → exact milli-units. */
function milli(v: Json, path: string): number {
  if (typeof v !== 'string' && typeof v !== 'number') throw new HpaInputError(path, 'must be a Kubernetes quantity such as "500m", "2", "1Gi"');
  try {
    return parseMilli(v);
  } catch (e) {
    if (e instanceof QuantityError) throw new HpaInputError(path, e.message);
    if (e instanceof RangeError) {
      throw new HpaInputError(path, `${JSON.stringify(v)} is too large; values up to ${Number.MAX_SAFE_INTEGER}m are evaluated exactly`);
    }
    throw e;
  }
}

function positiveMilli(v: Json, path: string): number {
  const m = milli(v, path);
  if (m <= 0) throw new HpaInputError(path, 'must be a positive quantity');
  return m;
}

function quantityMap(v: Json, path: string): Map<string, number> {
  const out = new Map<string, number>();
  const o = optObj(v, path);
  if (o === null) return out;
  for (const [k, q] of Object.entries(o)) out.set(k, milli(q, at(path, k)));
  return out;
}

function labelSelector(v: Json, path: string): LabelSelector | null {
  const o = optObj(v, path);
  if (o === null) return null;
  const matchLabels: Record<string, string> = {};
  const ml = optObj(o.matchLabels, at(path, 'matchLabels'));
  if (ml) for (const [k, val] of Object.entries(ml)) {
    if (typeof val !== 'string') throw new HpaInputError(at(at(path, 'matchLabels'), k), 'must be a string');
    matchLabels[k] = val;
  }
  const matchExpressions = optArr(o.matchExpressions, at(path, 'matchExpressions')).map((e, i) => {
    const p = at(at(path, 'matchExpressions'), i);
    const eo = obj(e, p);
    const operator = str(eo.operator, at(p, 'operator'));
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(operator)) throw new HpaInputError(at(p, 'operator'), 'must be In, NotIn, Exists or DoesNotExist');
    const values = optArr(eo.values, at(p, 'values')).map((s, j) => str(s, at(at(p, 'values'), j)));
    return { key: str(eo.key, at(p, 'key')), operator, values };
  });
  return { matchLabels, matchExpressions };
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

function sameSelector(a: LabelSelector | null, b: LabelSelector | null): boolean {
  const empty = (s: LabelSelector | null) => s === null || (Object.keys(s.matchLabels).length === 0 && s.matchExpressions.length === 0);
  if (empty(a) && empty(b)) return true;
  return canonicalJson(a) === canonicalJson(b);
}

const SOURCE_KEYS: Record<MetricSourceType, string> = {
  Resource: 'resource',
  ContainerResource: 'containerResource',
  Pods: 'pods',
  Object: 'object',
  External: 'external',
};

function metricTarget(v: Json, path: string): MetricTarget {
  const o = obj(v, path);
  const type = o.type;
  if (type !== 'Utilization' && type !== 'Value' && type !== 'AverageValue') {
    throw new HpaInputError(at(path, 'type'), 'must be Utilization, Value or AverageValue');
  }
  return {
    type,
    averageUtilization: o.averageUtilization == null ? null : int(o.averageUtilization, at(path, 'averageUtilization'), 1),
    valueMilli: o.value == null ? null : positiveMilli(o.value, at(path, 'value')),
    averageValueMilli: o.averageValue == null ? null : positiveMilli(o.averageValue, at(path, 'averageValue')),
  };
}

function metricSpec(v: Json, path: string): MetricSpec {
  const o = obj(v, path);
  const type = o.type as MetricSourceType;
  if (typeof type !== 'string' || !(type in SOURCE_KEYS)) {
    throw new HpaInputError(at(path, 'type'), 'must be Resource, ContainerResource, Pods, Object or External');
  }
  const key = SOURCE_KEYS[type];
  const sp = at(path, key);
  const src = obj(o[key], sp);
  const tp = at(sp, 'target');
  const target = metricTarget(src.target, tp);
  const spec: MetricSpec = { type, name: '', container: null, selector: null, describedObject: null, target };
  switch (type) {
    case 'Resource':
    case 'ContainerResource':
      spec.name = str(src.name, at(sp, 'name'));
      if (type === 'ContainerResource') spec.container = str(src.container, at(sp, 'container'));
      if (target.averageUtilization === null && target.averageValueMilli === null) {
        throw new HpaInputError(at(tp, 'averageUtilization'), 'must set either a target raw value (averageValue) or a target utilization (averageUtilization)');
      }
      if (target.averageUtilization !== null && target.averageValueMilli !== null) {
        throw new HpaInputError(at(tp, 'averageValue'), 'may not set both a target raw value and a target utilization');
      }
      break;
    case 'Pods': {
      const m = obj(src.metric, at(sp, 'metric'));
      spec.name = str(m.name, at(at(sp, 'metric'), 'name'));
      spec.selector = labelSelector(m.selector, at(at(sp, 'metric'), 'selector'));
      if (target.averageValueMilli === null) throw new HpaInputError(at(tp, 'averageValue'), 'must specify a positive target averageValue');
      break;
    }
    case 'Object':
    case 'External': {
      const m = obj(src.metric, at(sp, 'metric'));
      spec.name = str(m.name, at(at(sp, 'metric'), 'name'));
      spec.selector = labelSelector(m.selector, at(at(sp, 'metric'), 'selector'));
      if (type === 'Object') {
        const dp = at(sp, 'describedObject');
        const d = obj(src.describedObject, dp);
        spec.describedObject = { kind: str(d.kind, at(dp, 'kind')), name: str(d.name, at(dp, 'name')), apiVersion: typeof d.apiVersion === 'string' ? d.apiVersion : '' };
      }
      if (target.valueMilli === null && target.averageValueMilli === null) {
        throw new HpaInputError(at(tp, 'averageValue'), 'must set either a target value or averageValue');
      }
      break;
    }
  }
  return spec;
}

function scalingRules(v: Json, path: string): PartialScalingRules | null {
  const o = optObj(v, path);
  if (o === null) return null;
  const r: PartialScalingRules = {};
  if (o.stabilizationWindowSeconds != null) r.stabilizationWindowSeconds = int(o.stabilizationWindowSeconds, at(path, 'stabilizationWindowSeconds'), 0, 3600);
  if (o.selectPolicy != null) {
    if (o.selectPolicy !== 'Max' && o.selectPolicy !== 'Min' && o.selectPolicy !== 'Disabled') {
      throw new HpaInputError(at(path, 'selectPolicy'), 'must be Max, Min or Disabled');
    }
    r.selectPolicy = o.selectPolicy;
  }
  if (o.policies != null) {
    const pp = at(path, 'policies');
    const list = arr(o.policies, pp);
    if (list.length === 0) throw new HpaInputError(pp, 'must specify at least one policy');
    r.policies = list.map((p, i): ScalingPolicy => {
      const ip = at(pp, i);
      const po = obj(p, ip);
      if (po.type !== 'Pods' && po.type !== 'Percent') throw new HpaInputError(at(ip, 'type'), 'must be Pods or Percent');
      return { type: po.type, value: int(po.value, at(ip, 'value'), 1), periodSeconds: int(po.periodSeconds, at(ip, 'periodSeconds'), 1, 1800) };
    });
  }
  if (o.tolerance != null) {
    const tp = at(path, 'tolerance');
    if (typeof o.tolerance !== 'string' && typeof o.tolerance !== 'number') throw new HpaInputError(tp, 'must be a quantity such as "0.05"');
    let t: number;
    try {
      t = toleranceFloat(o.tolerance);
    } catch (e) {
      if (e instanceof QuantityError) throw new HpaInputError(tp, e.message);
      throw e;
    }
    if (t < 0) throw new HpaInputError(tp, 'must be greater than or equal to zero');
    r.tolerance = t;
  }
  return r;
}

function podsTable(list: Json[], path: string): { table: PodTable; raw: RawPod[] } {
  const n = list.length;
  const table: PodTable = {
    count: n,
    names: new Array<string>(n),
    phase: new Uint8Array(n),
    ready: new Int8Array(n),
    startTime: new Float64Array(n),
    readyTransitionTime: new Float64Array(n),
    deleted: new Uint8Array(n),
    metricTime: new Float64Array(n),
  };
  const raw: RawPod[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const p = at(path, i);
    const o = obj(list[i], p);
    const name = o.name == null ? `pod-${i}` : str(o.name, at(p, 'name'));
    if (seen.has(name)) throw new HpaInputError(at(p, 'name'), `duplicate pod name ${JSON.stringify(name)}`);
    seen.add(name);
    table.names[i] = name;
    const phase = o.phase == null ? 'Running' : o.phase;
    const code = POD_PHASES.indexOf(phase as (typeof POD_PHASES)[number]);
    if (code < 0) throw new HpaInputError(at(p, 'phase'), 'must be Pending, Running, Succeeded, Failed or Unknown');
    table.phase[i] = code;
    // null: the pod has no Ready condition at all
    table.ready[i] = o.ready === null ? -1 : bool(o.ready, at(p, 'ready'), true) ? 1 : 0;
    table.startTime[i] = optTime(o.startTime, at(p, 'startTime'), NaN);
    table.readyTransitionTime[i] = optTime(o.readyTransitionTime, at(p, 'readyTransitionTime'), -Infinity);
    table.deleted[i] = bool(o.deleted, at(p, 'deleted'), false) ? 1 : 0;
    table.metricTime[i] = optTime(o.metricTime, at(p, 'metricTime'), NaN);
    const containers = o.containers == null ? null : arr(o.containers, at(p, 'containers')).map((c, j) => {
      const cp = at(at(p, 'containers'), j);
      const co = obj(c, cp);
      return {
        name: str(co.name, at(cp, 'name')),
        requests: quantityMap(co.requests, at(cp, 'requests')),
        usage: co.usage == null ? null : quantityMap(co.usage, at(cp, 'usage')),
      };
    });
    raw.push({
      name,
      requests: quantityMap(o.requests, at(p, 'requests')),
      usage: o.usage == null ? null : quantityMap(o.usage, at(p, 'usage')),
      metrics: quantityMap(o.metrics, at(p, 'metrics')),
      containers,
    });
  }
  return { table, raw };
}

interface RawContainer {
  name: string;
  requests: Map<string, number>;
  usage: Map<string, number> | null;
}

interface RawPod {
  name: string;
  requests: Map<string, number>;
  usage: Map<string, number> | null;
  metrics: Map<string, number>;
  containers: RawContainer[] | null;
}

function emptyObservation(): MetricObservation {
  return { values: null, requests: null, requestError: null, fetchError: null, objectValue: null, externalValues: null };
}

/** Whether the resource metrics API has an entry for the pod at all. */
function inResourceApi(p: RawPod): boolean {
  return p.usage !== null || (p.containers !== null && p.containers.some((c) => c.usage !== null));
}

function podResourceUsage(p: RawPod, resource: string): number {
  const direct = p.usage?.get(resource);
  if (direct !== undefined) return direct;
  if (p.containers === null || p.containers.length === 0) return NaN;
  let sum = 0;
  for (const c of p.containers) {
    const u = c.usage?.get(resource);
    if (u === undefined) return NaN;
    sum += u;
  }
  return sum;
}

function podResourceRequest(p: RawPod, resource: string): number | string {
  const direct = p.requests.get(resource);
  if (direct !== undefined) return direct;
  if (p.containers === null || p.containers.length === 0) return `missing request for ${resource} in Pod ${p.name}`;
  let sum = 0;
  for (const c of p.containers) {
    const r = c.requests.get(resource);
    if (r === undefined) return `missing request for ${resource} in container ${c.name} of Pod ${p.name}`;
    sum += r;
  }
  return sum;
}

function observe(spec: MetricSpec, pods: RawPod[], namespace: string, objectMetrics: ObjectEntry[], externalMetrics: ExternalEntry[], minor: number): MetricObservation {
  const obs = emptyObservation();
  const n = pods.length;
  if (spec.type === 'Resource' || spec.type === 'ContainerResource') {
    const values = new Float64Array(n);
    const requests = new Float64Array(n);
    let anyInApi = false;
    for (let i = 0; i < n; i++) {
      const p = pods[i]!;
      const listed = inResourceApi(p);
      anyInApi ||= listed;
      if (spec.type === 'Resource') {
        values[i] = listed ? podResourceUsage(p, spec.name) : NaN;
        const r = podResourceRequest(p, spec.name);
        if (typeof r === 'string') { requests[i] = NaN; obs.requestError ??= r; } else requests[i] = r;
      } else {
        const c = p.containers?.find((x) => x.name === spec.container);
        // before v1.32 one pod whose metrics lack the container fails the whole metric; since then it is missing
        if (listed && obs.fetchError === null && (c === undefined || c.usage === null) && !containerMissingIsPodMissing(minor)) {
          obs.fetchError = `failed to get container metrics: container ${spec.container} not present in metrics for pod ${namespace}/${p.name}`;
        }
        const u = c?.usage?.get(spec.name);
        values[i] = listed && u !== undefined ? u : NaN;
        const r = c?.requests.get(spec.name);
        if (r === undefined) {
          requests[i] = NaN;
          obs.requestError ??= c === undefined ? `container ${spec.container} not found in Pod ${p.name}` : `missing request for ${spec.name} in container ${spec.container} of Pod ${p.name}`;
        } else requests[i] = r;
      }
    }
    if (!anyInApi) obs.fetchError = 'no metrics returned from resource metrics API';
    obs.values = values;
    obs.requests = requests;
  } else if (spec.type === 'Pods') {
    const values = new Float64Array(n);
    let any = false;
    for (let i = 0; i < n; i++) {
      const v = pods[i]!.metrics.get(spec.name);
      values[i] = v === undefined ? NaN : v;
      any ||= v !== undefined;
    }
    if (!any) obs.fetchError = 'no metrics returned from custom metrics API';
    obs.values = values;
  } else if (spec.type === 'Object') {
    const d = spec.describedObject!;
    const hit = objectMetrics.find((e) =>
      e.kind === d.kind && e.name === d.name && e.metric === spec.name &&
      (e.apiVersion === '' || d.apiVersion === '' || e.apiVersion === d.apiVersion) &&
      (e.selector === null || sameSelector(e.selector, spec.selector)));
    if (hit === undefined) obs.fetchError = `unable to fetch metrics from custom metrics API: the server could not find the metric ${spec.name} for ${d.kind} ${d.name}`;
    else obs.objectValue = hit.value;
  } else {
    const hit = externalMetrics.find((e) => e.metric === spec.name && (e.selector === null || sameSelector(e.selector, spec.selector)));
    if (hit === undefined || hit.values.length === 0) obs.fetchError = 'no metrics returned from external metrics API';
    else obs.externalValues = Float64Array.from(hit.values);
  }
  return obs;
}

interface ObjectEntry {
  kind: string;
  name: string;
  apiVersion: string;
  metric: string;
  selector: LabelSelector | null;
  value: number;
}

interface ExternalEntry {
  metric: string;
  selector: LabelSelector | null;
  values: number[];
}

function history(v: Json, path: string): HpaHistory {
  const o = optObj(v, path);
  const recPath = at(path, 'recommendations');
  // No recommendations is what a real controller sees on its first sync of an HPA: it records the current replica
  // count at `now` first (recordInitialRecommendation), which holds a scale-down for the window. `firstSync: false`
  // (or an empty list) asks for a controller that remembers nothing at all instead.
  const given = o !== null && o.recommendations != null;
  const firstSync = bool(o?.firstSync, at(path, 'firstSync'), !given);
  if (firstSync && given) throw new HpaInputError(at(path, 'firstSync'), 'a first sync has no recommendations; drop one of the two');
  const recommendations: TimedRecommendation[] | null = firstSync ? null : o === null || o.recommendations == null ? [] : arr(o.recommendations, recPath).map((r, i) => {
    const p = at(recPath, i);
    const ro = obj(r, p);
    return { time: time(ro.time, at(p, 'time')), replicas: int(ro.replicas, at(p, 'replicas'), 0) };
  });
  const events = (key: string): ScaleEvent[] => {
    const ep = at(path, key);
    return optArr(o?.[key], ep).map((e, i) => {
      const p = at(ep, i);
      const eo = obj(e, p);
      return { time: time(eo.time, at(p, 'time')), change: int(eo.change, at(p, 'change'), 0) };
    });
  };
  return { recommendations, scaleUpEvents: events('scaleUpEvents'), scaleDownEvents: events('scaleDownEvents') };
}

function options(v: Json, path: string): HpaOptions {
  const o = optObj(v, path);
  const out: HpaOptions = { ...DEFAULT_HPA_OPTIONS };
  if (o === null) return out;
  if (o.tolerance != null) out.tolerance = num(o.tolerance, at(path, 'tolerance'), 0);
  for (const k of ['cpuInitializationPeriodSeconds', 'delayOfInitialReadinessStatusSeconds', 'downscaleStabilizationSeconds', 'metricWindowSeconds'] as const) {
    if (o[k] != null) out[k] = num(o[k], at(path, k), 0);
  }
  return out;
}

/** The default metric of an autoscaling/v2 HPA without metrics: CPU at 80% of requests. */
function defaultMetrics(): MetricSpec[] {
  return [{ type: 'Resource', name: 'cpu', container: null, selector: null, describedObject: null, target: { type: 'Utilization', averageUtilization: 80, valueMilli: null, averageValueMilli: null } }];
}

/**
 * Parses an autoscaling/v2 `metrics` list (as in an HPA spec or a scalepilot config) into MetricSpecs; `path` is
 * the list's JSON path for errors. An empty or missing list is the API default: CPU at 80% of requests.
 */
export function parseMetricSpecs(raw: unknown, path: string): MetricSpec[] {
  const list = optArr(raw, path);
  return list.length === 0 ? defaultMetrics() : list.map((m, i) => metricSpec(m, at(path, i)));
}

/**
 * Parses an autoscaling/v2 `behavior` object and completes it with the API server's defaults; null or missing
 * stays null (the controller's legacy path).
 */
export function parseBehavior(raw: unknown, path: string): HpaBehavior | null {
  const b = optObj(raw, path);
  if (b === null) return null;
  return completeBehavior({ scaleUp: scalingRules(b.scaleUp, at(path, 'scaleUp')), scaleDown: scalingRules(b.scaleDown, at(path, 'scaleDown')) });
}

/**
 * Parses and validates an `hpa evaluate` request (see contracts/hpa-evaluate.md). `hpa` may also be a whole
 * HorizontalPodAutoscaler object, in which case its `spec` is read. Throws HpaInputError naming the JSON path.
 */
export function parseHpaRequest(json: unknown): HpaInput {
  const root = obj(json, '');
  let hpaPath = 'hpa';
  let hpa = obj(root.hpa, hpaPath);
  // a whole HorizontalPodAutoscaler object: its status says whether the controller scaled the target to zero
  const statusScaledToZero = isObj(hpa.spec) && isObj(hpa.status) && Array.isArray(hpa.status.conditions) &&
    hpa.status.conditions.some((c) => isObj(c) && c.type === 'ScaledToZero' && c.status === 'True');
  if (isObj(hpa.spec)) {
    hpaPath = 'hpa.spec';
    hpa = hpa.spec;
  }
  let kubernetesMinor = DEFAULT_KUBERNETES_MINOR;
  if (root.kubernetesVersion != null) {
    const problem = unsupportedKubernetesVersion(root.kubernetesVersion);
    if (problem !== null) throw new HpaInputError('kubernetesVersion', problem);
    kubernetesMinor = kubernetesMinor_(root.kubernetesVersion as string)!;
  }
  const scaledToZero = bool(root.scaledToZero, 'scaledToZero', statusScaledToZero);
  const maxReplicas = int(hpa.maxReplicas, at(hpaPath, 'maxReplicas'), 1);
  const metrics = parseMetricSpecs(hpa.metrics, at(hpaPath, 'metrics'));
  const minReplicas = hpa.minReplicas == null ? 1 : int(hpa.minReplicas, at(hpaPath, 'minReplicas'), 0);
  if (minReplicas > maxReplicas) throw new HpaInputError(at(hpaPath, 'minReplicas'), `must be less than or equal to maxReplicas (${maxReplicas})`);
  if (minReplicas === 0 && !metrics.some((m) => m.type === 'Object' || m.type === 'External')) {
    throw new HpaInputError(at(hpaPath, 'minReplicas'), 'must be >= 1; 0 is allowed only with an Object or External metric');
  }
  const behavior = parseBehavior(hpa.behavior, at(hpaPath, 'behavior'));

  const currentReplicas = int(root.currentReplicas, 'currentReplicas', 0);
  const statusReplicas = root.statusReplicas == null ? currentReplicas : int(root.statusReplicas, 'statusReplicas', 0);
  const now = time(root.now, 'now');
  const namespace = root.namespace == null ? 'default' : str(root.namespace, 'namespace');
  const { table, raw } = podsTable(optArr(root.pods, 'pods'), 'pods');

  const objectMetrics = optArr(root.objectMetrics, 'objectMetrics').map((e, i): ObjectEntry => {
    const p = at('objectMetrics', i);
    const o = obj(e, p);
    const d = obj(o.describedObject, at(p, 'describedObject'));
    const m = obj(o.metric, at(p, 'metric'));
    return {
      kind: str(d.kind, at(at(p, 'describedObject'), 'kind')),
      name: str(d.name, at(at(p, 'describedObject'), 'name')),
      apiVersion: typeof d.apiVersion === 'string' ? d.apiVersion : '',
      metric: str(m.name, at(at(p, 'metric'), 'name')),
      selector: labelSelector(m.selector, at(at(p, 'metric'), 'selector')),
      value: milli(o.value, at(p, 'value')),
    };
  });
  const externalMetrics = optArr(root.externalMetrics, 'externalMetrics').map((e, i): ExternalEntry => {
    const p = at('externalMetrics', i);
    const o = obj(e, p);
    const m = obj(o.metric, at(p, 'metric'));
    const values = o.values === undefined && o.value !== undefined ? [milli(o.value, at(p, 'value'))] : arr(o.values, at(p, 'values')).map((v, j) => milli(v, at(at(p, 'values'), j)));
    return { metric: str(m.name, at(at(p, 'metric'), 'name')), selector: labelSelector(m.selector, at(at(p, 'metric'), 'selector')), values };
  });

  return {
    minReplicas,
    maxReplicas,
    metrics,
    behavior,
    currentReplicas,
    statusReplicas,
    now,
    namespace,
    pods: table,
    observations: metrics.map((m) => observe(m, raw, namespace, objectMetrics, externalMetrics, kubernetesMinor)),
    history: history(root.history, 'history'),
    options: options(root.options, 'options'),
    kubernetesMinor,
    scaledToZero,
  };
}
