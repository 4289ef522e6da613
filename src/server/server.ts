// The HTTP server inside `run` and `serve`: /healthz, /metrics and the JSON API (see api.ts).
import Fastify, { type FastifyInstance } from 'fastify';
import type { Runtime } from '../controller/runtime.js';
import type { Logger } from '../controller/controller.js';
import { registerApi } from './api.js';

export interface ServerOptions {
  runtime: Runtime;
  /** host:port; binds to 127.0.0.1 unless told otherwise */
  listen: string;
  /** bearer token that allows steering; without one the API is read-only */
  token?: string;
  log?: Logger;
}

export interface RunningServer {
  app: FastifyInstance;
  address: string;
  close(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen.trim());
  if (!m) throw new Error(`listen address "${listen}" must be host:port, e.g. 127.0.0.1:9464`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', o.runtime.metrics.registry.contentType);
    return o.runtime.metrics.registry.metrics();
  });
  await registerApi(app, o);
  const { host, port } = parseListen(o.listen);
  await app.listen({ host, port });
  const a = app.server.address();
  const address = typeof a === 'object' && a ? `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}` : o.listen;
  return { app, address, close: () => app.close() };
}
