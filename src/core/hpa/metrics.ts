// computeReplicasForMetrics: one proposal per spec.metrics entry (computeReplicasForMetric and its
// computeStatusFor* helpers), their maximum, and the ScalingActive condition — with Kubernetes' own messages.
import { tolerancesFor, type Tolerances } from './behavior.js';
import {
  averageValueTargetReplicas,
  externalTotal,
  plainMetricReplicas,
  resourceUtilizationReplicas,
  valueTargetReplicas,
  type CalcResult,
  type PodTiming,
} from './calc.js';
import type { HpaCondition, HpaInput, LabelSelector, MetricProposal, MetricProposals, MetricSpec, MetricObservation } from './types.js';
import { DEFAULT_KUBERNETES_MINOR, honoursPerDirectionTolerance, ignoresSucceededPods } from './version.js';

/** Go's %+v of a *metav1.LabelSelector (its generated String()), as Kubernetes prints it in messages. */
export function formatLabelSelector(sel: LabelSelector | null): string {
  if (sel === null) return '<nil>';
  const keys = Object.keys(sel.matchLabels).sort();
  let labels = 'map[string]string{';
  for (const k of keys) labels += `${k}: ${sel.matchLabels[k]},`;
  labels += '}';
  let exprs = '[]LabelSelectorRequirement{';
  for (const e of sel.matchExpressions) exprs += `LabelSelectorRequirement{Key:${e.key},Operator:${e.operator},Values:[${e.values.join(' ')}],},`;
  exprs += '}';
  return `&LabelSelector{MatchLabels:${labels},MatchExpressions:${exprs},}`;
}

const descriptions = new WeakMap<MetricSpec, string>();

/** The metric name Kubernetes reports for a spec (metricNameProposal). */
export function describeMetric(spec: MetricSpec): string {
  let d = descriptions.get(spec);
  if (d === undefined) {
    d = metricDescription(spec);
    descriptions.set(spec, d);
  }
  return d;
}

function metricDescription(spec: MetricSpec): string {
  switch (spec.type) {
    case 'Resource':
      return spec.target.averageValueMilli !== null ? `${spec.name} resource` : `${spec.name} resource utilization (percentage of request)`;
    case 'ContainerResource':
      return spec.target.averageValueMilli !== null ? `${spec.name} resource` : `${spec.name} container resource utilization (percentage of request)`;
    case 'Pods':
      return `pods metric ${spec.name}`;
    case 'Object':
      // Kubernetes labels per-pod object metrics as external ones
      return spec.target.type === 'Value' ? `${spec.describedObject!.kind} metric ${spec.name}` : `external metric ${spec.name}(${formatLabelSelector(spec.selector)})`;
    case 'External':
      return `external metric ${spec.name}(${formatLabelSelector(spec.selector)})`;
  }
}

const calc: CalcResult = { replicas: 0, utilization: null, valueMilli: null, error: null };
const timing: PodTiming = { now: 0, cpuInitializationPeriodMs: 0, delayOfInitialReadinessStatusMs: 0, metricWindowMs: 0 };

function unableCondition(reason: string, error: string): HpaCondition {
  return { type: 'ScalingActive', status: 'False', reason, message: `the HPA was unable to compute the replica count: ${error}` };
}

/**
 * The observation, or a failed fetch when a value in it is infinite (a sample overflowed on its way here): a metric
 * with no usable value fails like one the API did not return, so the sync holds or scales on the other metrics
 * rather than computing from it. NaN stays what it means here, a pod without a sample.
 */
function finiteOrFailed(obs: MetricObservation): MetricObservation {
  if (obs.fetchError !== null) return obs;
  const what = hasInfinite(obs.values) ? 'a pod sample' : hasInfinite(obs.requests) ? 'a pod request'
    : obs.objectValue === Infinity || obs.objectValue === -Infinity ? 'the object value' : hasInfinite(obs.externalValues) ? 'an external value' : null;
  return what === null ? obs : { ...obs, fetchError: `${what} is out of range (not a finite number)` };
}

function hasInfinite(a: Float64Array | null): boolean {
  if (a === null) return false;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v === Infinity || v === -Infinity) return true;
  }
  return false;
}

/** computeReplicasForMetric for spec `i`: the proposal, or the error and condition Kubernetes would produce. */
export function computeMetricProposal(input: HpaInput, i: number, tolerances: Tolerances): MetricProposal {
  const obs = input.observations[i]!;
  // the scalars are checked up front; per-pod columns are summed exactly (BigInt past 2^53), which refuses an infinite
  // value with a RangeError, and only then is the column scanned: a pass over every pod at every sync costs a tenth
  // of a replay's time
  const object = obs.objectValue === Infinity || obs.objectValue === -Infinity || hasInfinite(obs.externalValues);
  if (object) return proposalFor(input, i, finiteOrFailed(obs), tolerances);
  try {
    return proposalFor(input, i, obs, tolerances);
  } catch (e) {
    const failed = finiteOrFailed(obs);
    if (!(e instanceof RangeError) || failed === obs) throw e;
    calc.error = null;
    return proposalFor(input, i, failed, tolerances);
  }
}

function proposalFor(input: HpaInput, i: number, obs: MetricObservation, tolerances: Tolerances): MetricProposal {
  const spec = input.metrics[i]!;
  const specReplicas = input.currentReplicas;
  const t = spec.target;
  const p: MetricProposal = {
    type: spec.type,
    name: spec.name,
    replicas: null,
    utilization: null,
    valueMilli: null,
    error: null,
    description: describeMetric(spec),
    failureReason: null,
    failureMessage: null,
  };
  let reason: string;
  let conditionError: string | null = null;
  let error: string | null = null;

  switch (spec.type) {
    case 'Resource':
    case 'ContainerResource': {
      const container = spec.type === 'ContainerResource';
      reason = container ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric';
      if (t.averageValueMilli !== null) {
        if (obs.fetchError !== null) calc.error = `unable to get metrics for resource ${spec.name}: ${obs.fetchError}`;
        else plainMetricReplicas(input.pods, obs.values!, spec.name === 'cpu', specReplicas, t.averageValueMilli, tolerances, timing, calc);
        if (calc.error !== null || obs.fetchError !== null) conditionError = `failed to get ${spec.name} usage: ${calc.error}`;
      } else if (t.averageUtilization === null) {
        conditionError = 'invalid resource metric source: neither an average utilization target nor an average value (usage) target was set';
      } else {
        resourceUtilizationReplicas(input.pods, obs, spec.name, specReplicas, t.averageUtilization, tolerances, timing, calc);
        if (calc.error !== null) conditionError = `failed to get ${spec.name} utilization: ${calc.error}`;
      }
      if (conditionError !== null) {
        error = container
          ? `failed to get ${spec.container} container metric value: ${conditionError}`
          : `failed to get ${spec.name} resource metric value: ${conditionError}`;
      }
      break;
    }
    case 'Pods': {
      reason = 'FailedGetPodsMetric';
      if (obs.fetchError !== null) calc.error = `unable to get metric ${spec.name}: ${obs.fetchError}`;
      else plainMetricReplicas(input.pods, obs.values!, false, specReplicas, t.averageValueMilli!, tolerances, timing, calc);
      if (calc.error !== null || obs.fetchError !== null) {
        conditionError = calc.error;
        error = `failed to get pods metric value: ${conditionError}`;
      }
      break;
    }
    case 'Object': {
      reason = 'FailedGetObjectMetric';
      const obj = spec.describedObject!;
      // Kubernetes' own format string, argument order included
      const fetchError = obs.fetchError !== null ? `unable to get metric ${spec.name}: ${obj.kind} on ${input.namespace} ${obj.name}/${obs.fetchError}` : null;
      if (t.type === 'Value' && t.valueMilli !== null) {
        if (fetchError !== null) conditionError = fetchError;
        else {
          valueTargetReplicas(input.pods, specReplicas, obs.objectValue!, t.valueMilli, tolerances, calc);
          if (calc.error !== null) conditionError = calc.error;
        }
        if (conditionError !== null) error = `failed to get object metric value: ${conditionError}`;
      } else if (t.type === 'AverageValue' && t.averageValueMilli !== null) {
        if (fetchError !== null) {
          conditionError = fetchError;
          error = `failed to get object metric value: failed to get ${spec.name} object metric: ${fetchError}`;
        } else averageValueTargetReplicas(input.statusReplicas, obs.objectValue!, t.averageValueMilli, tolerances, calc);
      } else {
        conditionError = 'invalid object metric source: neither a value target nor an average value target was set';
        error = `failed to get object metric value: ${conditionError}`;
      }
      break;
    }
    case 'External': {
      reason = 'FailedGetExternalMetric';
      const fetchError = obs.fetchError !== null
        ? `unable to get external metric ${input.namespace}/${spec.name}/${formatLabelSelector(spec.selector)}: ${obs.fetchError}`
        : null;
      if (t.averageValueMilli !== null) {
        if (fetchError !== null) {
          conditionError = fetchError;
          error = `failed to get ${spec.name} external metric value: failed to get ${spec.name} external metric: ${fetchError}`;
        } else averageValueTargetReplicas(input.statusReplicas, externalTotal(obs.externalValues!), t.averageValueMilli, tolerances, calc);
      } else if (t.valueMilli !== null) {
        if (fetchError !== null) conditionError = fetchError;
        else {
          valueTargetReplicas(input.pods, specReplicas, externalTotal(obs.externalValues!), t.valueMilli, tolerances, calc);
          if (calc.error !== null) conditionError = calc.error;
        }
        if (conditionError !== null) error = `failed to get ${spec.name} external metric value: failed to get external metric ${spec.name}: ${conditionError}`;
      } else {
        conditionError = 'invalid external metric source: neither a value target nor an average value target was set';
        error = `failed to get ${spec.name} external metric value: ${conditionError}`;
      }
      break;
    }
  }

  if (error !== null) {
    p.error = error;
    p.failureReason = reason;
    p.failureMessage = unableCondition(reason, conditionError!).message;
  } else {
    p.replicas = calc.replicas;
    p.utilization = calc.utilization;
    p.valueMilli = calc.valueMilli;
  }
  calc.error = null;
  return p;
}

/**
 * The tolerances a sync of Kubernetes minor `minor` compares usage ratios with: behavior's per-direction ones where
 * that minor honours them, otherwise the controller flag in the older absolute form.
 */
export function metricTolerances(behavior: HpaInput['behavior'], flag: number, minor: number): Tolerances {
  return honoursPerDirectionTolerance(minor) ? tolerancesFor(behavior, flag) : { ...tolerancesFor(null, flag), absolute: true };
}

/**
 * computeReplicasForMetrics: the largest proposal. When every metric fails, or some fail and the rest would
 * scale down, Kubernetes does not scale (replicas −1) and reports the first failure.
 */
export function computeMetricProposals(input: HpaInput): MetricProposals {
  const minor = input.kubernetesMinor ?? DEFAULT_KUBERNETES_MINOR;
  const tol = metricTolerances(input.behavior, input.options.tolerance, minor);
  timing.ignoreSucceeded = ignoresSucceededPods(minor);
  timing.now = input.now;
  timing.cpuInitializationPeriodMs = input.options.cpuInitializationPeriodSeconds * 1000;
  timing.delayOfInitialReadinessStatusMs = input.options.delayOfInitialReadinessStatusSeconds * 1000;
  timing.metricWindowMs = input.options.metricWindowSeconds * 1000;

  const n = input.metrics.length;
  const proposals: MetricProposal[] = new Array(n);
  let replicas = 0;
  let metric = '';
  let invalid = 0;
  let first: MetricProposal | null = null;
  for (let i = 0; i < n; i++) {
    const p = computeMetricProposal(input, i, tol);
    proposals[i] = p;
    if (p.error !== null) {
      if (invalid === 0) first = p;
      invalid++;
      continue;
    }
    if (replicas === 0 || p.replicas! > replicas) {
      replicas = p.replicas!;
      metric = p.description;
    }
  }
  const error = first !== null ? `invalid metrics (${invalid} invalid out of ${n}), first error is: ${first.error}` : null;
  if (invalid >= n || (invalid > 0 && replicas < input.currentReplicas)) {
    return {
      proposals,
      replicas: -1,
      metric: '',
      invalidCount: invalid,
      error,
      condition: { type: 'ScalingActive', status: 'False', reason: first!.failureReason!, message: first!.failureMessage! },
    };
  }
  return {
    proposals,
    replicas,
    metric,
    invalidCount: invalid,
    error,
    condition: {
      type: 'ScalingActive',
      status: 'True',
      reason: 'ValidMetricFound',
      message: `the HPA was able to successfully calculate a replica count from ${metric}`,
    },
  };
}
