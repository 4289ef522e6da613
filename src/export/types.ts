// What every exporter returns: plain objects (one per output file) plus warnings, and their YAML/JSON text.
import { stringify } from 'yaml';
import type { ServicePolicy } from '../config/load.js';
import { parseKubernetesSpec } from '../providers/kubernetes.js';

export interface ExportObject {
  /** file name without extension, unique within one export (`--out DIR` writes DIR/<file>.yaml) */
  file: string;
  object: Record<string, unknown>;
}

export interface ExportResult {
  objects: ExportObject[];
  /** what was left out or guessed, one sentence each, naming the config path */
  warnings: string[];
}

/** Multi-document YAML, `---` between objects; long PromQL and SQL stay on one line. */
export function toYamlDocuments(objects: ReadonlyArray<Record<string, unknown>>): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

/** One object as itself; several Kubernetes objects as a v1 List (so `kubectl apply -f -` takes them), others as an array. */
export function toJson(objects: ReadonlyArray<Record<string, unknown>>): string {
  const k8s = objects.every((o) => typeof o.apiVersion === 'string' && typeof o.kind === 'string');
  const doc = objects.length === 1 ? objects[0] : k8s ? { apiVersion: 'v1', kind: 'List', items: objects } : objects;
  return JSON.stringify(doc, null, 2) + '\n';
}

/** Where a Kubernetes object for this service points: the kubernetes target's workload, else a Deployment named after the service. */
export interface WorkloadRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export function workloadRef(p: ServicePolicy, warnings: string[]): WorkloadRef {
  if (p.target.provider !== 'kubernetes') {
    warnings.push(`services.${p.name}.target uses the ${p.target.provider} provider; the exported object targets Deployment ${p.name}`);
    return { apiVersion: 'apps/v1', kind: 'Deployment', name: p.name };
  }
  // the provider's own parse step, so defaults (kind Deployment, namespace default, name = service) match what it scales
  const spec = parseKubernetesSpec({ ...p.target.spec, provider: 'kubernetes' }, `services.${p.name}.target`);
  return { apiVersion: 'apps/v1', kind: spec.kind, name: spec.name ?? p.name, namespace: spec.namespace };
}

/** Kubernetes object names: lowercase RFC 1123 subdomain. */
export function k8sName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'scalepilot';
}

/** A number as plain decimal text for configs and PromQL, without float noise (0.1 + 0.2 → "0.3"). */
export const plainNumber = (n: number) => String(Number(n.toPrecision(12)));

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'scalepilot' } as const;
