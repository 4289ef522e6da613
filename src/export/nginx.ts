// An nginx upstream block for a service's replicas (least_conn, passive health checks), for running a local or
// Compose service behind your own nginx.
import type { ServicePolicy } from '../config/load.js';
import { composeServiceName } from './compose.js';
import type { ExportResult } from './types.js';

export interface NginxOptions {
  /** local: replica slots to list (default maxReplicas: stopped slots are marked down by max_fails and skipped) */
  replicas?: number;
  /** container port of a Compose service (the compose target does not name one) */
  port?: number;
  maxFails?: number;
  /** seconds */
  failTimeout?: number;
  keepalive?: number;
}

export interface NginxUpstream {
  kind: 'NginxUpstream';
  service: string;
  name: string;
  balance: 'least_conn';
  servers: Array<{ address: string; maxFails: number; failTimeout: string }>;
  keepalive: number;
  /** one sentence for the config comment */
  note: string;
}

/** nginx upstream names: letters, digits and _ only. */
const upstreamName = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');

function slots(p: ServicePolicy, o: NginxOptions, warnings: string[]): string[] | undefined {
  const spec = p.target.spec;
  if (p.target.provider === 'local') {
    const base = spec.portBase;
    if (typeof base !== 'number') {
      warnings.push(`services.${p.name}.target.portBase is missing; no upstream written`);
      return undefined;
    }
    const n = o.replicas ?? p.maxReplicas;
    if (n < 1) {
      warnings.push(`services.${p.name}: an upstream needs at least one replica slot; no upstream written`);
      return undefined;
    }
    return Array.from({ length: n }, (_, i) => `127.0.0.1:${base + i}`);
  }
  if (p.target.provider === 'compose') {
    const port = o.port;
    if (port === undefined) {
      warnings.push(`services.${p.name}: the Compose container port is unknown; pass --port`);
      return undefined;
    }
    // the name lands in nginx syntax; the config loader refuses such names, this keeps a library caller's out too
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(composeServiceName(p))) {
      warnings.push(`services.${p.name}: ${JSON.stringify(composeServiceName(p))} is not a Compose service name; no upstream written`);
      return undefined;
    }
    // Docker's DNS answers the service name with every replica's address and nginx adds each as a server, so one
    // line covers any count; listing replica containers by name would stop nginx from starting when one is absent.
    return [`${composeServiceName(p)}:${port}`];
  }
  warnings.push(`services.${p.name} uses the ${p.target.provider} provider; an nginx upstream applies to local and compose services only`);
  return undefined;
}

export function exportNginx(services: ServicePolicy[], opts: NginxOptions = {}): ExportResult {
  const warnings: string[] = [];
  const objects: ExportResult['objects'] = [];
  for (const p of services) {
    const addrs = slots(p, opts, warnings);
    if (!addrs) continue;
    const upstream: NginxUpstream = {
      kind: 'NginxUpstream',
      service: p.name,
      name: upstreamName(p.name),
      balance: 'least_conn',
      servers: addrs.map((address) => ({ address, maxFails: opts.maxFails ?? 3, failTimeout: `${opts.failTimeout ?? 5}s` })),
      keepalive: opts.keepalive ?? 32,
      note: p.target.provider === 'compose'
        ? `Compose service ${composeServiceName(p)}: Docker DNS gives one server per replica; reload nginx after scaling, and run it on the project's network`
        : `local replicas on ports ${addrs[0]!.split(':')[1]}..${addrs[addrs.length - 1]!.split(':')[1]}; slots without a running replica are skipped after max_fails`,
    };
    objects.push({ file: `upstream-${p.name}`, object: upstream as unknown as Record<string, unknown> });
  }
  return { objects, warnings };
}

/** The upstream as nginx configuration text (goes inside `http { }`). */
export function renderUpstream(u: NginxUpstream): string {
  return [
    `# scalepilot: ${u.service}: ${u.note}`,
    `upstream ${u.name} {`,
    `    ${u.balance};`,
    ...u.servers.map((s) => `    server ${s.address} max_fails=${s.maxFails} fail_timeout=${s.failTimeout};`),
    `    keepalive ${u.keepalive};`,
    '}',
    '',
  ].join('\n');
}
