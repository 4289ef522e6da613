#!/usr/bin/env node
// A test replica that holds a real PostgreSQL connection pool, as the runbooks' services do (DB_POOL_SIZE per
// replica). It opens POOL connections before it reports healthy and serves /work with a query on one of them.
//
// Environment: PORT, SERVICE (label on its metrics), PG_URL and POOL (connections to hold; 0 = no database),
// BROKEN_FLAG (a file: when it exists at start-up, /healthz answers 503 for the replica's whole life — a bad release).
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import pg from 'pg';

const port = Number(process.env.PORT);
const service = process.env.SERVICE ?? 'app';
const poolSize = Number(process.env.POOL ?? 0);
const broken = Boolean(process.env.BROKEN_FLAG && existsSync(process.env.BROKEN_FLAG));
const clients = [];
let ready = false;
let served = 0;
let next = 0;

async function connectAll() {
  for (let i = 0; i < poolSize; i++) {
    const c = new pg.Client({ connectionString: process.env.PG_URL, application_name: `${service}-${port}` });
    c.on('error', () => {});
    // a refused connection ("too many clients") ends the replica: it never becomes ready
    await c.connect();
    clients.push(c);
  }
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') {
    res.writeHead(ready && !broken ? 200 : 503).end(ready && !broken ? 'ok\n' : broken ? 'broken\n' : 'starting\n');
    return;
  }
  if (url.pathname === '/metrics') {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE http_requests_total counter\nhttp_requests_total{service="${service}"} ${served}\n# TYPE pool_connections gauge\npool_connections{service="${service}"} ${clients.length}\n`);
    return;
  }
  try {
    if (clients.length) await clients[next++ % clients.length].query('SELECT 1');
    served++;
    res.writeHead(200).end(`ok ${service} ${port}\n`);
  } catch (e) {
    res.writeHead(500).end(`${e.message}\n`);
  }
});

async function shutdown() {
  server.close();
  await Promise.allSettled(clients.map((c) => c.end()));
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

connectAll().then(
  () => {
    ready = true;
  },
  (e) => {
    process.stderr.write(`pool-server ${service}:${port}: ${e.message}\n`);
    process.exit(1);
  },
);
server.listen(port, '127.0.0.1');
