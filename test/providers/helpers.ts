// Shared bits for provider suites: consecutive free loopback ports, process liveness, polling.
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { processAlive } from '../../src/providers/local/proc.js';

export const SAMPLE_SERVER = resolve('examples/sample-service/server.mjs');

function free(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = createServer();
    s.once('error', () => r(false));
    s.listen(port, '127.0.0.1', () => s.close(() => r(true)));
  });
}

/** A base port such that base .. base+n-1 are all free on 127.0.0.1. */
export async function freePortRange(n: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    // Below the kernel's ephemeral range (32768+), so outgoing connections never take a replica's port.
    const base = 10000 + Math.floor(Math.random() * 22000);
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await free(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports found`);
}

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
