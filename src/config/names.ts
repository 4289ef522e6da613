// Names that leave scalepilot — in file names, generated nginx/Compose/Kubernetes objects, docker argv and label
// values — are checked at load against the rules of the system that receives them, so no later step has to
// escape them. Also refuses `__proto__` keys, which a plain object cannot hold and would silently drop.
import type { ConfigValidator } from './validators.js';

/** Service keys: lowercase DNS-1123 label characters plus `_` (a valid Compose service and label value). */
export const SERVICE_NAME = /^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$/;
export const SERVICE_NAME_MAX = 63;
/** A Compose service name (compose-spec: [a-zA-Z0-9._-]+), starting with a letter or digit so argv never reads it as an option. */
export const COMPOSE_SERVICE = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;
/** A Kubernetes container name: DNS-1123 label. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `name` is not a usable service name, or undefined when it is. */
export function serviceNameProblem(name: string): string | undefined {
  if (name.length > SERVICE_NAME_MAX) return `service name is ${name.length} characters; at most ${SERVICE_NAME_MAX} fit a Kubernetes label value and a DNS name`;
  if (!SERVICE_NAME.test(name)) return `service name ${JSON.stringify(name)} is not allowed: use lowercase letters, digits, - and _, starting and ending with a letter or digit`;
  return undefined;
}

/** Paths of every `__proto__` key in parsed YAML/JSON data (YAML keeps it as an own property; zod would drop it). */
export function protoKeyPaths(data: unknown, path: Array<string | number> = [], out: Array<Array<string | number>> = [], depth = 0): Array<Array<string | number>> {
  if (depth > 64 || data === null || typeof data !== 'object') return out;
  if (Array.isArray(data)) {
    data.forEach((v, i) => protoKeyPaths(v, [...path, i], out, depth + 1));
    return out;
  }
  for (const k of Object.keys(data)) {
    if (k === '__proto__') out.push([...path, k]);
    else protoKeyPaths((data as Record<string, unknown>)[k], [...path, k], out, depth + 1);
  }
  return out;
}

export const namesCheck: ConfigValidator = (config, _raw, report) => {
  for (const p of Object.values(config.services)) {
    const base = ['services', p.name, 'target'];
    const spec = p.target.spec;
    if (p.target.provider === 'compose' && typeof spec.service === 'string' && (!COMPOSE_SERVICE.test(spec.service) || spec.service.length > 253)) {
      report([...base, 'service'], `${JSON.stringify(spec.service)} is not a Compose service name`, 'use letters, digits, ., - and _, starting with a letter or digit, as under services: in the compose file');
    }
    if (p.target.provider === 'kubernetes' && typeof spec.container === 'string' && (!DNS_LABEL.test(spec.container) || spec.container.length > 63)) {
      report([...base, 'container'], `${JSON.stringify(spec.container)} is not a Kubernetes container name`, 'use lowercase letters, digits and -, at most 63 characters, as in the pod spec');
    }
  }
};
