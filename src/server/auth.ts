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
