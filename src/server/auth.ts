// Who may steer: a bearer token compared in constant time. Without a configured token the API is read-only.
import { createHash, timingSafeEqual } from 'node:crypto';

export type SteeringVerdict = { ok: true } | { ok: false; status: 401 | 403; error: string };

export const STEERING_DISABLED =
  'steering is disabled: this server has no token. Start it with --token T (or the SCALEPILOT_TOKEN environment variable, or server.token in the config) and send "Authorization: Bearer T" to pause, resume, scale or roll back';
export const STEERING_READ_ONLY_STORE =
  'steering is disabled: this server only serves what the store holds (serve --read-only-store); steer through the server of the running controller (scalepilot run or serve without --read-only-store)';

/** Equal-length digests make the comparison independent of where (or whether) the strings differ. */
export function tokenMatches(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(given, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /^Bearer[ \t]+(\S.*)$/i.exec(authorization.trim());
  return m ? m[1]!.trim() : undefined;
}

export function checkSteering(o: { token?: string | undefined; readOnlyStore?: boolean | undefined }, authorization: string | undefined): SteeringVerdict {
  if (o.readOnlyStore) return { ok: false, status: 403, error: STEERING_READ_ONLY_STORE };
  if (!o.token) return { ok: false, status: 403, error: STEERING_DISABLED };
  const given = bearerToken(authorization);
  if (given === undefined) {
    return { ok: false, status: 401, error: authorization ? 'the Authorization header must be "Bearer <token>"' : 'missing token: send "Authorization: Bearer <token>" (the token the server was started with)' };
  }
  if (!tokenMatches(o.token, given)) return { ok: false, status: 401, error: 'wrong token: the bearer token does not match the one the server was started with' };
  return { ok: true };
}

/** Loopback hosts a server may bind without exposing the API to the network. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The host name of a Host header value (lowercase, no port, no trailing dot; IPv6 literals keep their brackets). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.replace(/:\d*$/, '');
  return name.replace(/\.$/, '');
}

/**
 * Whether a request's Host header names this server. A DNS-rebinding page reaches a loopback server under the
 * attacker's own host name, so names are accepted only when they are localhost, the listen host, or configured;
 * IP literals cannot be rebound and are always accepted. `allowed` entries are names, `*.example.com` for any
 * subdomain, or `*` for any host.
 */
export function hostAllowed(header: string | undefined, listenHost: string, allowed: readonly string[]): boolean {
  // HTTP/1.0 clients may omit Host; browsers never do
  if (header === undefined || header === '') return true;
  const name = hostName(header);
  if (IPV4.test(name) || name.startsWith('[')) return true;
  if (name === 'localhost' || name === hostName(listenHost)) return true;
  for (const a of allowed) {
    const entry = hostName(a);
    if (entry === '*' || entry === name) return true;
    if (entry.startsWith('*.') && name.endsWith(entry.slice(1)) && name.length > entry.length - 1) return true;
  }
  return false;
}
