// Shared bits for provider suites: the sample service, process liveness, polling.
import { resolve } from 'node:path';
import { processAlive } from '../../src/providers/local/proc.js';

export const SAMPLE_SERVER = resolve('examples/sample-service/server.mjs');

/** Whether a replica's process still runs (zombies count as gone). */
export const alive = processAlive;

/** Polls fn until it returns a truthy value, or throws after timeoutMs with the last value in the message. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
