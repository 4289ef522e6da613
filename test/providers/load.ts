// Bounded load for provider tests: a fixed number of undici workers hitting a loopback URL for a fixed time,
// counting every failure (error or non-2xx) so scale changes can be checked for dropped requests.
import { Agent, request } from 'undici';

export interface LoadResult {
  ok: number;
  failures: Array<{ t: number; error: string }>;
  /** responses per replica pid (the sample service echoes pid=N) */
  byPid: Map<string, number>;
  /** epoch ms of the last successful response from each pid */
  lastSeen: Map<string, number>;
  /** every successful response: completion time (epoch ms) and pid */
  responses: Array<{ t: number; pid: string }>;
}

export interface LoadOptions {
  url: string;
  durationMs: number;
  concurrency: number;
  /** paths per worker, cycled, optionally with a method; e.g. ['/work?ms=2', 'POST /sleep?ms=200'] */
  paths: string[];
  /** ends the run early (durationMs stays the upper bound) */
  signal?: AbortSignal;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ connections: o.concurrency, keepAliveTimeout: 10_000 });
  const start = Date.now();
  const end = start + o.durationMs;
  const result: LoadResult = { ok: 0, failures: [], byPid: new Map(), lastSeen: new Map(), responses: [] };
  const worker = async (w: number) => {
    let i = 0;
    while (Date.now() < end && !o.signal?.aborted) {
      const entry = o.paths[(w + i++) % o.paths.length]!;
      const [method, path] = entry.includes(' ') ? (entry.split(' ', 2) as [string, string]) : ['GET', entry];
      try {
        // POST is not idempotent: neither proxy may retry it on another replica, so a cut request stays a failure.
        const res = await request(o.url + path, { method: method as 'GET', dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000, ...(method === 'POST' ? { body: 'x' } : {}) });
        const text = await res.body.text();
        if (res.statusCode >= 200 && res.statusCode < 300) {
          result.ok++;
          const pid = /pid=(\d+)/.exec(text)?.[1] ?? '?';
          result.byPid.set(pid, (result.byPid.get(pid) ?? 0) + 1);
          result.lastSeen.set(pid, Date.now());
          result.responses.push({ t: Date.now(), pid });
        } else {
          result.failures.push({ t: Date.now() - start, error: `HTTP ${res.statusCode}: ${text.trim().slice(0, 200)}` });
        }
      } catch (e) {
        result.failures.push({ t: Date.now() - start, error: `${(e as { code?: string }).code ?? ''} ${(e as Error).message}` });
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, w) => worker(w)));
  await agent.close();
  return result;
}
