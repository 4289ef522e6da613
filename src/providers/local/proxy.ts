// The built-in front proxy for local replicas (used when nginx is not installed or `proxy: builtin`): least-in-flight
// balancing over undici keep-alive pools, a failed connect retried on another replica, passive ejection like
// nginx's max_fails/fail_timeout, and exact per-replica in-flight counts so scale-down can drain precisely.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Pool } from 'undici';
import { undici } from '../../lazy.js';
import { hostForUrl, type FrontProxy, type ListenAddress, type Upstream } from './front.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'http2-settings']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** errors where the request never reached the replica, so any method may go to another one */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
/** errors where a reused connection died before a response: safe to repeat only for idempotent methods */
const SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const MAX_BODY = 8 * 1024 * 1024;
const MAX_FAILS = 3;
const FAIL_TIMEOUT_MS = 5000;

interface Backend {
  upstream: Upstream;
  pool: Pool;
  inFlight: number;
  active: boolean;
  failures: number[];
  ejectedUntil: number;
  idleWaiters: Array<() => void>;
}

export interface BuiltinProxyOptions {
  listen: ListenAddress;
  /** attempts per request across replicas (like nginx proxy_next_upstream_tries) */
  maxAttempts?: number;
  connectTimeoutMs?: number;
}

export class BuiltinProxy implements FrontProxy {
  readonly kind = 'builtin';
  readonly url: string;
  private readonly backends = new Map<number, Backend>();
  private server?: Server;
  private rr = 0;
  private readonly maxAttempts: number;
  private readonly connectTimeoutMs: number;

  constructor(private readonly opts: BuiltinProxyOptions) {
    this.url = `http://${hostForUrl(opts.listen.host)}:${opts.listen.port}`;
    this.maxAttempts = opts.maxAttempts ?? 3;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 2000;
  }

  async start(upstreams: Upstream[]): Promise<void> {
    await this.setUpstreams(upstreams);
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.listen.port, this.opts.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  async setUpstreams(upstreams: Upstream[]): Promise<void> {
    const wanted = new Set(upstreams.map((u) => u.port));
    for (const u of upstreams) {
      const b = this.backends.get(u.port);
      if (b) {
        b.active = true;
        b.upstream = u;
        continue;
      }
      this.backends.set(u.port, {
        upstream: u,
        pool: new (undici().Pool)(`http://127.0.0.1:${u.port}`, {
          connections: 128,
          pipelining: 1,
          connectTimeout: this.connectTimeoutMs,
          // Shorter than typical server keep-alive (Node's 5 s) so the pool drops idle sockets before the replica does.
          keepAliveTimeout: 4000,
          keepAliveMaxTimeout: 4000,
        }),
        inFlight: 0,
        active: true,
        failures: [],
        ejectedUntil: 0,
        idleWaiters: [],
      });
    }
    for (const [port, b] of this.backends) {
      if (wanted.has(port)) continue;
      b.active = false;
      if (b.inFlight === 0) this.retire(port, b);
    }
  }

  async waitIdle(port: number, timeoutMs: number): Promise<boolean> {
    const b = this.backends.get(port);
    if (!b || b.inFlight === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      b.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  inFlight(port: number): number | undefined {
    return this.backends.get(port)?.inFlight ?? 0;
  }

  async problem(): Promise<string | undefined> {
    return this.server?.listening ? undefined : 'the built-in proxy is not listening';
  }

  async restart(upstreams: Upstream[]): Promise<void> {
    await this.close();
    await this.start(upstreams);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await Promise.all([...this.backends.values()].map((b) => b.pool.destroy().catch(() => {})));
    this.backends.clear();
  }

  private retire(port: number, b: Backend): void {
    this.backends.delete(port);
    for (const w of b.idleWaiters.splice(0)) w();
    void b.pool.close().catch(() => {});
  }

  /** Least requests in flight among active, non-ejected replicas not tried yet; round-robin among ties. */
  private pick(tried: Set<Backend>): Backend | undefined {
    const now = Date.now();
    const candidates = [...this.backends.values()].filter((b) => b.active && !tried.has(b));
    const healthy = candidates.filter((b) => b.ejectedUntil <= now);
    // When every replica is ejected, trying one beats failing outright (nginx does the same).
    const pool = healthy.length ? healthy : candidates;
    if (!pool.length) return undefined;
    const start = this.rr++ % pool.length;
    let best: Backend | undefined;
    for (let i = 0; i < pool.length; i++) {
      const b = pool[(start + i) % pool.length]!;
      if (!best || b.inFlight < best.inFlight) best = b;
    }
    return best;
  }

  private fail(b: Backend): void {
    const now = Date.now();
    b.failures = b.failures.filter((t) => now - t < FAIL_TIMEOUT_MS);
    b.failures.push(now);
    if (b.failures.length >= MAX_FAILS) {
      b.ejectedUntil = now + FAIL_TIMEOUT_MS;
      b.failures = [];
    }
  }

  private release(b: Backend): void {
    b.inFlight--;
    if (b.inFlight === 0 && !b.active && this.backends.get(b.upstream.port) === b) this.retire(b.upstream.port, b);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    let body: Buffer | undefined;
    try {
      body = await readBody(req);
    } catch (e) {
      return plain(res, (e as { status?: number }).status ?? 400, (e as Error).message);
    }
    const headers = forwardHeaders(req);
    const aborted = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) aborted.abort();
    });
    const tried = new Set<Backend>();
    let lastError: unknown;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const b = this.pick(tried);
      if (!b) break;
      tried.add(b);
      b.inFlight++;
      try {
        const r = await b.pool.request({
          method: method as 'GET',
          path: req.url ?? '/',
          headers,
          body: body ?? null,
          signal: aborted.signal,
        });
        res.writeHead(r.statusCode, backHeaders(r.headers));
        await pipeline(r.body, res).catch(() => res.destroy());
        return;
      } catch (e) {
        lastError = e;
        if (aborted.signal.aborted || res.headersSent) {
          res.destroy();
          return;
        }
        const code = errorCode(e);
        const retry = CONNECT_ERRORS.has(code) || (SOCKET_ERRORS.has(code) && IDEMPOTENT.has(method));
        if (CONNECT_ERRORS.has(code)) this.fail(b);
        if (!retry) break;
      } finally {
        this.release(b);
      }
    }
    if (!tried.size) return plain(res, 503, 'no ready replicas behind this proxy\n');
    plain(res, 502, `bad gateway: ${lastError instanceof Error ? lastError.message : String(lastError)}\n`);
  }
}

function errorCode(e: unknown): string {
  const err = e as { code?: string; cause?: { code?: string } };
  return err?.code ?? err?.cause?.code ?? '';
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (!req.headers['transfer-encoding'] && !declared) {
    req.resume();
    return undefined;
  }
  if (declared > MAX_BODY) throw Object.assign(new Error(`request body over ${MAX_BODY} bytes\n`), { status: 413 });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw Object.assign(new Error(`request body over ${MAX_BODY} bytes\n`), { status: 413 });
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function forwardHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const drop = new Set(HOP_BY_HOP);
  for (const t of String(req.headers.connection ?? '').split(',')) if (t.trim()) drop.add(t.trim().toLowerCase());
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || drop.has(k) || k === 'content-length') continue;
    out[k] = v;
  }
  const peer = req.socket.remoteAddress ?? '';
  out['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${peer}` : peer;
  out['x-forwarded-proto'] = 'http';
  if (req.headers.host) out['x-forwarded-host'] = req.headers.host;
  return out;
}

function backHeaders(h: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

function plain(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
