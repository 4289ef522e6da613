// The HTTP server inside `run` and `serve`: /healthz, /metrics, the JSON API (api.ts) and the dashboard.
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Runtime } from '../controller/runtime.js';
import type { Logger } from '../controller/controller.js';
import { registerApi, HttpError } from './api.js';
import { registerDashboard } from './dashboard.js';
import { isLoopback, hostAllowed } from './auth.js';
import { hostname } from 'node:os';
import { InputError } from '../errors.js';
import { Admission, DEFAULT_ADMISSION, type AdmissionOptions } from './admission.js';

export interface ServerOptions {
  runtime: Runtime;
  /** host:port; binds to 127.0.0.1 unless told otherwise */
  listen: string;
  /** bearer token that allows steering; without one the API is read-only */
  token?: string;
  log?: Logger;
  /** directory of simulation and load-test reports (JSON/HTML) to list and serve */
  reportsDir?: string;
  /** the runtime only reads the store (no controller loop): steering is refused */
  readOnlyStore?: boolean;
  /** the controller runs with --dry-run: rollbacks through the API are recorded, not applied */
  dryRun?: boolean;
  /** host names accepted in the Host header besides localhost, IP literals and the listen host (default: server.allowedHosts) */
  allowedHosts?: string[];
  /** how many requests run at once and per loop turn, so the sync loop keeps its timing (default DEFAULT_ADMISSION) */
  admission?: Partial<AdmissionOptions>;
  /** open connections accepted; more are closed at once, so the API cannot use up the file descriptors metric sources and the store need (default 1024) */
  maxConnections?: number;
}

export interface RegisteredRoute {
  method: string;
  /** fastify form, e.g. /api/v1/services/:service */
  url: string;
  /** false for the dashboard's page and assets, which are not part of the API */
  api: boolean;
}

export interface BuiltServer {
  app: FastifyInstance;
  routes: RegisteredRoute[];
}

export interface RunningServer extends BuiltServer {
  address: string;
  close(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`listen address "${listen}" must be host:port, e.g. 127.0.0.1:9464`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** What to warn about when binding `host`: off loopback the API is reachable from the network. */
export function bindWarning(host: string, hasToken: boolean): string | undefined {
  if (isLoopback(host)) return undefined;
  if (!hasToken) return 'serving on a non-loopback address without a token: anyone who can reach it can read every service, decision and report (steering stays disabled); bind 127.0.0.1 or set --token';
  return 'serving on a non-loopback address over plain HTTP: the steering token travels unencrypted; put a TLS proxy in front';
}

/** A bind failure as bad input naming the port and how to choose another; other errors pass through. */
export function listenError(e: unknown, listen: string, port: number): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    EADDRINUSE: `port ${port} is already in use (another scalepilot, or another program)`,
    EACCES: `port ${port} needs privileges this process does not have`,
    EADDRNOTAVAIL: `the address in ${listen} is not one of this machine's`,
  };
  if (!code || !why[code]) return e;
  return new InputError(`cannot serve the API on ${listen}: ${why[code]} (${code}); pass --listen HOST:PORT or set server.listen in the config`);
}

/** The server with every route registered, not listening (tests call app.inject). */
export async function buildServer(o: ServerOptions): Promise<BuiltServer> {
  // requestTimeout: a client that trickles its request (slowloris) holds a connection for 30 s at most
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, requestTimeout: 30_000 });
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const m of methods) {
      // fastify adds a HEAD route for every GET
      if (m === 'HEAD') continue;
      routes.push({ method: m, url: r.url ?? r.path, api: (r.config as { api?: boolean } | undefined)?.api !== false });
    }
  });
  const listenHost = (() => {
    try {
      return parseListen(o.listen).host;
    } catch {
      return '127.0.0.1';
    }
  })();
  const machineName = isLoopback(listenHost) ? [] : [hostname()];
  app.addHook('onRequest', async (req, reply) => {
    const allowed = [...machineName, ...(o.allowedHosts ?? o.runtime.config.server?.allowedHosts ?? [])];
    if (hostAllowed(req.headers.host, listenHost, allowed)) return;
    return reply.code(403).send({
      error: `Host ${JSON.stringify(req.headers.host)} is not a name of this server; it answers to localhost, IP addresses${machineName.length ? `, ${machineName[0]}` : ''} and the names in server.allowedHosts (add this name there if it is yours; the check stops DNS-rebinding pages from reading the API)`,
      statusCode: 403,
    });
  });
  const admission = new Admission({ ...DEFAULT_ADMISSION, ...o.admission });
  const admittedAt = new WeakMap<object, number>();
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0];
    const urgent = path === '/metrics' || path === '/healthz';
    const a = await admission.enter(urgent);
    if (!a.ok) {
      reply.header('retry-after', '1');
      return reply.code(503).send({ error: `server busy, request not started: ${a.reason}; the control loop is served first, retry shortly`, statusCode: 503 });
    }
    // the slot is free once the response is handed to the socket ('finish'), or the client went away ('close');
    // a client slow to read does not hold it
    reply.raw.once('finish', a.release);
    reply.raw.once('close', a.release);
    if (!urgent) admittedAt.set(req, performance.now());
  });
  app.addHook('onSend', async (req) => {
    const at = admittedAt.get(req);
    if (at !== undefined) admission.noteServiceTime(performance.now() - at);
  });
  app.setErrorHandler((e: FastifyError | HttpError, _req, reply) => {
    const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
    if (status >= 500 && !(e instanceof HttpError)) o.log?.error({ err: e.message }, 'API request failed');
    void reply.code(status).send({ error: e.message, statusCode: status });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}; see /api/v1/openapi.json`, statusCode: 404 });
  });
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', o.runtime.metrics.registry.contentType);
    return o.runtime.metrics.registry.metrics();
  });
  await registerApi(app, o);
  await registerDashboard(app);
  return { app, routes };
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const { host, port } = parseListen(o.listen);
  const built = await buildServer(o);
  const { app } = built;
  app.server.maxConnections = o.maxConnections ?? 1024;
  try {
    // a deep accept queue: when hundreds of clients connect at once, a scrape's SYN is not dropped (and retried
    // 1 s, 3 s, 7 s later) behind them
    await app.listen({ host, port, backlog: 4096 });
  } catch (e) {
    await app.close().catch(() => {});
    throw listenError(e, o.listen, port);
  }
  const a = app.server.address();
  const address = typeof a === 'object' && a ? `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}` : o.listen;
  const warning = bindWarning(host, Boolean(o.token));
  if (warning) {
    if (o.log) o.log.warn({ listen: address }, warning);
    else process.stderr.write(`scalepilot: warning: ${warning} (${address})\n`);
  }
  return { ...built, address, close: () => app.close() };
}
