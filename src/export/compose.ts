// A Compose override file (`docker compose -f compose.yaml -f compose.scalepilot.yaml up`) that sets each
// service's replica count and its CPU/memory limits and reservations from the policy.
import type { ServicePolicy } from '../config/load.js';
import type { Resources } from '../providers/types.js';
import type { ExportResult } from './types.js';
import { quantityNumber } from './signals.js';

export interface ComposeOptions {
  /** replicas to start with (default each service's minReplicas) */
  replicas?: number;
}

/** Compose memory: binary units (docker reads k/m/g as KiB/MiB/GiB), else exact bytes. */
export function composeMemory(bytes: number): string {
  const b = Math.round(bytes);
  for (const [unit, size] of [['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]] as const) {
    if (b >= size && b % size === 0) return `${b / size}${unit}`;
  }
  return `${b}b`;
}

export function composeCpus(cores: number): string {
  return String(Number(cores.toPrecision(6)));
}

function limits(r: Resources['limits'], where: string, warnings: string[]): Record<string, string> | undefined {
  if (!r) return undefined;
  const out: Record<string, string> = {};
  if (r.cpu !== undefined) {
    const c = quantityNumber(r.cpu);
    if (c === undefined) warnings.push(`${where}.cpu: "${r.cpu}" is not a quantity; left out`);
    else out.cpus = composeCpus(c);
  }
  if (r.memory !== undefined) {
    const m = quantityNumber(r.memory);
    if (m === undefined) warnings.push(`${where}.memory: "${r.memory}" is not a quantity; left out`);
    else out.memory = composeMemory(m);
  }
  return Object.keys(out).length ? out : undefined;
}

/** The Compose service a policy scales: the compose target's `service`, else the scalepilot service name. */
export function composeServiceName(p: ServicePolicy): string {
  const s = p.target.spec.service;
  return p.target.provider === 'compose' && typeof s === 'string' && s !== '' ? s : p.name;
}

export function exportCompose(services: ServicePolicy[], opts: ComposeOptions = {}): ExportResult {
  const warnings: string[] = [];
  const out: Record<string, unknown> = {};
  for (const p of services) {
    if (p.target.provider !== 'compose') warnings.push(`services.${p.name}.target uses the ${p.target.provider} provider; the override names Compose service ${composeServiceName(p)}`);
    const lim = limits(p.resources?.limits, `services.${p.name}.resources.limits`, warnings);
    const res = limits(p.resources?.requests, `services.${p.name}.resources.requests`, warnings);
    if (!lim && !res) warnings.push(`services.${p.name} has no resources; the override sets replicas only`);
    const replicas = Math.min(Math.max(opts.replicas ?? p.minReplicas, p.minReplicas), p.maxReplicas);
    if (opts.replicas !== undefined && replicas !== opts.replicas) warnings.push(`services.${p.name}: --replicas ${opts.replicas} is outside ${p.minReplicas}..${p.maxReplicas}; using ${replicas}`);
    out[composeServiceName(p)] = {
      deploy: {
        replicas,
        ...(lim || res ? { resources: { ...(lim ? { limits: lim } : {}), ...(res ? { reservations: res } : {}) } } : {}),
      },
    };
  }
  return { objects: [{ file: 'compose.scalepilot', object: { services: out } }], warnings };
}
