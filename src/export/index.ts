// The exporters by name, as `scalepilot export KIND` and the library call them, each output checked against
// its schema before it leaves (an HPA with kubernetes-models, the CRDs with their structural schemas).
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { Config, ServicePolicy } from '../config/load.js';
import { exportCompose, type ComposeOptions } from './compose.js';
import { validatePrometheusRule, validateScaledObject } from './crd.js';
import { exportHpa } from './hpa.js';
import { exportKeda } from './keda.js';
import { exportNginx, renderUpstream, type NginxOptions, type NginxUpstream } from './nginx.js';
import { exportPrometheusRule, exportRuleFile, type AlertOptions } from './prometheus.js';
import { toJson, toYamlDocuments, type ExportObject, type ExportResult } from './types.js';

export * from './types.js';
export { exportHpa } from './hpa.js';
export { exportKeda } from './keda.js';
export { exportRuleFile, exportPrometheusRule, alertGroups, ALERT_DEFAULTS } from './prometheus.js';
export { exportCompose } from './compose.js';
export { exportNginx, renderUpstream } from './nginx.js';
export { validateScaledObject, validatePrometheusRule } from './crd.js';

export const EXPORT_KINDS = ['hpa', 'keda', 'rules', 'prometheusrule', 'compose', 'nginx'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export type ExportOptions = AlertOptions & ComposeOptions & NginxOptions;

const perService = (services: ServicePolicy[], one: (p: ServicePolicy) => ExportResult): ExportResult => {
  const results = services.map(one);
  return { objects: results.flatMap((r) => r.objects), warnings: results.flatMap((r) => r.warnings) };
};

export function runExport(kind: ExportKind, config: Config, services: ServicePolicy[], opts: ExportOptions = {}): ExportResult {
  switch (kind) {
    case 'hpa': return perService(services, (p) => exportHpa(config, p));
    case 'keda': return perService(services, (p) => exportKeda(config, p));
    case 'rules': return exportRuleFile(config, services, opts);
    case 'prometheusrule': return exportPrometheusRule(config, services, opts);
    case 'compose': return exportCompose(services, opts);
    case 'nginx': return exportNginx(services, opts);
  }
}

/** Schema problems of one exported object ("path: problem"); empty when it is valid. */
export function validateExport(o: ExportObject): string[] {
  const kind = (o.object as { kind?: string }).kind;
  if (kind === 'HorizontalPodAutoscaler') {
    try {
      new HorizontalPodAutoscaler(o.object as ConstructorParameters<typeof HorizontalPodAutoscaler>[0]).validate();
      return [];
    } catch (e) {
      return String((e as Error).message).split(', ').map((m) => m.replace(/^data\//, '').replaceAll('/', '.'));
    }
  }
  if (kind === 'ScaledObject') return validateScaledObject(o.object);
  if (kind === 'PrometheusRule') return validatePrometheusRule(o.object);
  return [];
}

/** Text of the objects in the chosen format; nginx upstreams default to nginx configuration. */
export function renderExport(kind: ExportKind, objects: ExportObject[], format: 'yaml' | 'json' | 'conf'): string {
  if (format === 'conf') {
    if (kind !== 'nginx') throw new Error(`-o conf is for nginx only`);
    return objects.map((o) => renderUpstream(o.object as unknown as NginxUpstream)).join('\n');
  }
  const plain = objects.map((o) => o.object);
  return format === 'json' ? toJson(plain) : toYamlDocuments(plain);
}
