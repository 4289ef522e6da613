// What a load test hits: the target URL (loopback only unless remote load is explicitly allowed), its weighted
// endpoints, and the deterministic weighted choice between them.
import { isIP } from 'node:net';
import { InputError } from '../errors.js';

export interface Endpoint {
  name: string;
  method: string;
  /** Path and query on the target's origin. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  weight: number;
}

export interface EndpointInput {
  name?: string;
  method?: string;
  /** A path (`/users?id=1`, resolved against the target URL) or a full URL on the same origin. */
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  weight?: number;
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/**
 * Parses the target URL. Load is refused for anything but loopback unless allowRemote is set, because sending load
 * to someone else's service by accident is the mistake this tool must not make easy.
 */
export function parseTarget(url: string, allowRemote: boolean): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError(`target "${url}" is not a URL; write it like http://127.0.0.1:8080/path`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new InputError(`target "${url}": only http and https are supported`);
  }
  if (!allowRemote && !isLoopbackHost(u.hostname)) {
    throw new InputError(`target "${url}" is not on this machine (loopback); pass --allow-remote to send load to ${u.hostname} on purpose`);
  }
  return u;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Turns endpoint inputs into endpoints on the target's origin; `where` names the source in errors. */
export function resolveEndpoints(target: URL, inputs: readonly EndpointInput[], where = 'endpoints'): Endpoint[] {
  const list = inputs.length ? inputs : [{}];
  return list.map((e, i) => {
    const at = `${where}[${i}]`;
    // like curl -d, a body without a method means POST
    const method = (e.method ?? (e.body !== undefined ? 'POST' : 'GET')).toUpperCase();
    if (!METHODS.has(method)) throw new InputError(`${at}.method "${e.method}": use one of ${[...METHODS].join(', ')}`);
    let u: URL;
    try {
      u = e.path ? new URL(e.path, target) : target;
    } catch {
      throw new InputError(`${at}.path "${e.path}" is not a path or URL`);
    }
    if (u.origin !== target.origin) {
      throw new InputError(`${at}.path "${e.path}" is on ${u.origin}, not the target ${target.origin}; endpoints share the target's origin`);
    }
    const weight = e.weight ?? 1;
    if (!Number.isFinite(weight) || weight <= 0) throw new InputError(`${at}.weight ${weight}: must be a number above 0`);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(e.headers ?? {})) {
      // checked here so a bad header is one clear error, not the same failure on every request of the run
      if (!HEADER_NAME.test(k)) throw new InputError(`${at}.headers: "${k}" is not a valid header name`);
      if (/[\r\n\0]/.test(String(v))) throw new InputError(`${at}.headers.${k}: the value contains a line break or NUL`);
      headers[k.toLowerCase()] = String(v);
    }
    if (e.body !== undefined && method !== 'GET' && method !== 'HEAD' && !headers['content-type']) {
      headers['content-type'] = looksLikeJson(e.body) ? 'application/json' : 'text/plain';
    }
    const path = u.pathname + u.search;
    return { name: e.name ?? `${method} ${path}`, method, path, headers, ...(e.body !== undefined ? { body: e.body } : {}), weight };
  });
}

function looksLikeJson(s: string): boolean {
  const t = s.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return false;
  try { JSON.parse(t); return true; } catch { return false; }
}

/** Parses `-H 'name: value'` flags. */
export function parseHeaderFlags(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of flags) {
    const i = f.indexOf(':');
    if (i <= 0) throw new InputError(`-H "${f}": write headers as 'name: value'`);
    out[f.slice(0, i).trim().toLowerCase()] = f.slice(i + 1).trim();
  }
  return out;
}

/**
 * Smooth weighted round-robin (as nginx balances upstreams): over any window the endpoints are chosen in proportion to
 * their weights and evenly interleaved, with no randomness, so runs are repeatable.
 */
export class WeightedPicker {
  private readonly current: number[];
  private readonly total: number;

  constructor(private readonly weights: readonly number[]) {
    this.current = weights.map(() => 0);
    this.total = weights.reduce((a, b) => a + b, 0);
  }

  next(): number {
    if (this.weights.length === 1) return 0;
    let best = 0;
    for (let i = 0; i < this.weights.length; i++) {
      this.current[i]! += this.weights[i]!;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= this.total;
    return best;
  }
}
