// HorizontalPodAutoscaler (autoscaling/v2) from a service policy: the same target, bounds, metrics and behavior,
// so a service tuned with scalepilot can be handed to Kubernetes' own controller.
import type { Config, ServicePolicy } from '../config/load.js';
import { MANAGED_BY, k8sName, workloadRef, type ExportResult } from './types.js';
import { metricsOf, resourceOf, risingRules, isPercentUnit } from './signals.js';
import { honoursPerDirectionTolerance, kubernetesMinor } from '../core/hpa/version.js';

type Json = Record<string, unknown>;

/** Quantity fields must be strings in Kubernetes JSON; YAML numbers in the config are turned back into them. */
function quantitiesAsStrings(target: unknown): unknown {
  if (!target || typeof target !== 'object') return target;
  const t = { ...(target as Json) };
  for (const k of ['value', 'averageValue']) if (typeof t[k] === 'number') t[k] = String(t[k]);
  return t;
}

const SOURCE_KEY: Record<string, string> = { Resource: 'resource', ContainerResource: 'containerResource', Pods: 'pods', Object: 'object', External: 'external' };

/** A config MetricSpec as Kubernetes JSON (quantities as strings). */
export function metricSpec(m: Json): Json {
  const key = SOURCE_KEY[String(m.type)];
  if (!key || !m[key] || typeof m[key] !== 'object') return { ...m };
  const src = { ...(m[key] as Json) };
  if (src.target) src.target = quantitiesAsStrings(src.target);
  return { ...m, [key]: src };
}

/** Behavior as Kubernetes JSON; per-direction tolerance is a quantity (Kubernetes 1.33+). */
export function behaviorSpec(b: NonNullable<ServicePolicy['hpa']>['behavior']): Json | undefined {
  if (!b) return undefined;
  const out: Json = {};
  for (const dir of ['scaleUp', 'scaleDown'] as const) {
    const r = b[dir];
    if (!r) continue;
    out[dir] = { ...r, ...(r.tolerance !== undefined ? { tolerance: String(r.tolerance) } : {}) };
  }
  return out;
}

/**
 * Without an `hpa:` block, CPU and memory thresholds from bands and rules become Resource Utilization targets
 * (the threshold where the runbook scales up is where the HPA should hold utilization).
 */
function derivedMetrics(config: Config, p: ServicePolicy, warnings: string[]): Json[] {
  const out: Json[] = [];
  for (const m of metricsOf(config, p)) {
    const resource = resourceOf(m);
    if (!resource) continue;
    const percent = isPercentUnit(m) || (m.spec.perPod === true && (m.name === 'cpu' || m.name === 'memory'));
    const band = p.bands.find((b) => b.metric === m.name);
    const rule = risingRules(p, m.name).find((r) => r.action.kind === 'scale' && r.action.amount > 0);
    const threshold = band?.upper ?? rule?.condition.threshold;
    if (threshold === undefined) continue;
    if (!percent) {
      warnings.push(`services.${p.name}.metrics.${m.name}: its threshold ${threshold} is not a utilization percent (set perPod: true or unit: percent), so it was not turned into an HPA target`);
      continue;
    }
    out.push({ type: 'Resource', resource: { name: resource, target: { type: 'Utilization', averageUtilization: Math.max(1, Math.round(threshold)) } } });
  }
  return out;
}

export function exportHpa(config: Config, p: ServicePolicy): ExportResult {
  const warnings: string[] = [];
  const ref = workloadRef(p, warnings);
  let metrics = (p.hpa?.metrics ?? []).map((m) => metricSpec(m as Json));
  const custom = metrics.filter((m) => m.type === 'Pods' || m.type === 'Object' || m.type === 'External').map((m) => `${String(m.type)} ${String((((m[SOURCE_KEY[String(m.type)]!] as Json).metric ?? {}) as Json).name)}`);
  if (custom.length) warnings.push(`services.${p.name}.hpa.metrics: ${custom.join(', ')} must be served under these names by a metrics adapter (e.g. prometheus-adapter) for the HPA to read them`);
  if (metrics.length === 0) metrics = derivedMetrics(config, p, warnings);
  if (metrics.length === 0) {
    metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
    warnings.push(`services.${p.name}: no hpa.metrics and no cpu/memory band or rule to derive one from; using Kubernetes' default of 80% CPU${p.queue ? ' (the queue scaling is exported by `scalepilot export keda`)' : ''}`);
  }
  let minReplicas = p.minReplicas;
  if (minReplicas < 1) {
    minReplicas = 1;
    warnings.push(`services.${p.name}.minReplicas is 0: an HPA cannot scale to zero without the HPAScaleToZero feature gate, so minReplicas is 1 (use \`scalepilot export keda\` to scale to zero)`);
  }
  if (p.hpa?.tolerance !== undefined) {
    warnings.push(`services.${p.name}.hpa.tolerance is a kube-controller-manager flag (--horizontal-pod-autoscaler-tolerance), not an HPA field; set behavior.scaleUp/scaleDown.tolerance on Kubernetes 1.33+ instead`);
  }
  const version = p.hpa?.kubernetesVersion;
  const minor = version !== undefined ? kubernetesMinor(version) : null;
  const perDirection = (['scaleUp', 'scaleDown'] as const).filter((d) => p.hpa?.behavior?.[d]?.tolerance !== undefined);
  if (minor !== null && perDirection.length && !honoursPerDirectionTolerance(minor)) {
    warnings.push(`services.${p.name}.hpa.behavior: ${perDirection.map((d) => `${d}.tolerance`).join(' and ')} need Kubernetes 1.33+ (hpa.kubernetesVersion is ${version}); an older API server drops the field and the controller's global tolerance (0.1 by default) applies instead`);
  }
  if (p.paused) warnings.push(`services.${p.name} is paused in scalepilot, but an HPA acts as soon as it is applied`);
  const behavior = behaviorSpec(p.hpa?.behavior);
  const hpa = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: k8sName(ref.name), ...(ref.namespace ? { namespace: ref.namespace } : {}), labels: { ...MANAGED_BY, 'scalepilot.dev/service': p.name } },
    spec: {
      scaleTargetRef: { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name },
      minReplicas,
      maxReplicas: p.maxReplicas,
      metrics,
      ...(behavior ? { behavior } : {}),
    },
  };
  return { objects: [{ file: `hpa-${p.name}`, object: hpa }], warnings };
}
