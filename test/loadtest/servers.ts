// Real HTTP servers for the load-test suites, each on a free loopback port, recording what they saw from their own side
// (arrival times, concurrency, methods, headers, bodies) so tests compare the load generator against the receiving end.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  /** ms since the server started */
  at: number;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The client's port: one per keep-alive connection, so distinct ports count connections (VUs). */
  remotePort: number;
}

export interface TestServer {
  url: string;
  port: number;
  seen: Seen[];
  /** Requests being handled right now. */
  inFlight(): number;
  /** [ms since start, requests in flight] sampled every 50 ms. */
  concurrency: Array<[number, number]>;
  startedAt: number;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, ctx: { n: number; elapsedMs: number }) => void;

/** Starts a server whose behaviour is `handler`; every request is recorded before the handler runs. */
export async function startServer(handler: Handler, opts: { recordBodies?: boolean } = {}): Promise<TestServer> {
  const seen: Seen[] = [];
  const concurrency: Array<[number, number]> = [];
  let inFlight = 0;
  let n = 0;
  const startedAt = performance.now();
  const server = createServer((req, res) => {
    const at = performance.now() - startedAt;
    inFlight++;
    res.on('close', () => { inFlight--; });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => { if (opts.recordBodies) chunks.push(c); });
    req.on('end', () => {
      seen.push({
        at, method: req.method ?? '', url: req.url ?? '', headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'), remotePort: req.socket.remotePort ?? 0,
      });
      handler(req, res, { n: n++, elapsedMs: at });
    });
  });
  server.keepAliveTimeout = 30_000;
  const sampler = setInterval(() => concurrency.push([performance.now() - startedAt, inFlight]), 50);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    seen,
    inFlight: () => inFlight,
    concurrency,
    startedAt,
    close: () => new Promise<void>((resolve) => {
      clearInterval(sampler);
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const ok = (res: ServerResponse, body = 'ok') => { res.setHeader('content-type', 'text/plain'); res.end(body); };

/** Answers at once. */
export const fastServer = () => startServer((_q, res) => ok(res));

/** Answers 500 for every `every`-th request (every = 20 gives exactly 5% errors), 200 otherwise. */
export const errorServer = (every: number) => startServer((_q, res, { n }) => {
  if (n % every === every - 1) res.statusCode = 500;
  ok(res);
});

/** Gets slower the longer it runs: `perSecondMs` more latency for each second since start. */
export const slowingServer = (perSecondMs: number) => startServer((_q, res, { elapsedMs }) => {
  setTimeout(() => ok(res), (elapsedMs / 1000) * perSecondMs);
});

/** Answers after a fixed delay. */
export const delayServer = (ms: number) => startServer((_q, res) => { setTimeout(() => ok(res), ms); });

/** Answers at once, except that everything arriving in [fromMs, fromMs + forMs) is held until the stall ends. */
export const stallServer = (fromMs: number, forMs: number) => startServer((_q, res, { elapsedMs }) => {
  if (elapsedMs >= fromMs && elapsedMs < fromMs + forMs) setTimeout(() => ok(res), fromMs + forMs - elapsedMs);
  else ok(res);
});

/**
 * A service with a known capacity: it answers in ~1 ms while it has received at most `limitRps` requests per second
 * over the last second, and takes `slowMs` per answer above that, like a service whose latency jumps past saturation.
 * The knee is sharp on purpose, so a probe's answer can be checked within a tolerance on a busy machine; the window is a
 * whole second so that a client stalled by a busy machine and catching up does not look like a rate above the limit.
 * A probe must rest at least that window between steps (the probe's default cooldown is 1 s) or it sees the last step.
 */
export const kneeServer = (limitRps: number, slowMs = 400) => {
  const windowMs = 1_000;
  const arrivals: number[] = [];
  let head = 0;
  return startServer((_q, res) => {
    const now = performance.now();
    arrivals.push(now);
    while (arrivals[head]! < now - windowMs) head++;
    const rate = ((arrivals.length - head) * 1000) / windowMs;
    if (rate > limitRps) setTimeout(() => ok(res), slowMs);
    else ok(res);
  });
};

/** Runs `fn` with a started server and always closes it. */
export async function withServer<T>(start: Promise<TestServer>, fn: (s: TestServer) => Promise<T>): Promise<T> {
  const s = await start;
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** Never answers (until closed). */
export const hangingServer = () => startServer(() => {});
