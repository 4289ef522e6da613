// One HTTP health probe of a replica on a loopback port, shared by the local and compose providers.
import { undici } from '../../lazy.js';

/** The most of a probe's answer body read (and dropped). */
const MAX_PROBE_BODY_BYTES = 128 * 1024;

/**
 * The status GET `path` on a loopback port answers, within `timeoutMs` for the whole exchange: the idle timeouts
 * (`idleMs` each, default the whole deadline) alone let a replica that trickles bytes hold the caller forever. An
 * answer still unfinished at the deadline counts as none, as a Kubernetes probe would count it. Undefined when there
 * is no answer (not listening yet, refused, too slow).
 */
export async function probeStatus(port: number, path: string, o: { timeoutMs: number; idleMs?: number; reset?: boolean }): Promise<number | undefined> {
  try {
    const signal = AbortSignal.timeout(o.timeoutMs);
    const idle = o.idleMs ?? o.timeoutMs;
    const res = await undici().request(`http://127.0.0.1:${port}${path}`, { headersTimeout: idle, bodyTimeout: idle, ...(o.reset ? { reset: true } : {}), signal });
    await res.body.dump({ limit: MAX_PROBE_BODY_BYTES, signal });
    return res.statusCode;
  } catch {
    return undefined;
  }
}
