#!/usr/bin/env node
// The bundled sample HTTP service for the demo and the end-to-end tests: CPU rises with load, it exposes
// Prometheus metrics, and it drains cleanly on SIGTERM. Plain Node, no dependencies beyond node:*.
//
//   PORT=18001 node examples/sample-service/server.mjs
//
// Environment: PORT (default 8080), HOST (default 127.0.0.1), WORK_MS (default CPU per request, 5),
// STARTUP_DELAY_MS (a slow start: until this has passed, /healthz and every request answer 503, default 0),
// DRAIN_TIMEOUT_MS (exit even if requests are still running after this long, default 30000).
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const defaultWorkMs = Number(process.env.WORK_MS ?? 5);
const startupDelayMs = Number(process.env.STARTUP_DELAY_MS ?? 0);
const drainTimeoutMs = Number(process.env.DRAIN_TIMEOUT_MS ?? 30000);
const MAX_MS = 10_000;

if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write(`sample-service: PORT=${process.env.PORT} is not a TCP port; set PORT to 1-65535\n`);
  process.exit(2);
}

const startedAt = Date.now();
let draining = false;
let inFlight = 0;
const requestsByCode = new Map();
const bucketBounds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const bucketCounts = new Array(bucketBounds.length).fill(0);
let durationSum = 0;
let durationCount = 0;

/** Keeps the CPU busy for about `ms` milliseconds (the point of the service: CPU follows load). */
function burn(ms) {
  const end = process.hrtime.bigint() + BigInt(Math.round(ms * 1e6));
  let x = 0;
  while (process.hrtime.bigint() < end) x += Math.sqrt(x + 1);
  return x;
}

function msParam(url, fallback) {
  const v = url.searchParams.get('ms');
  if (v === null) return fallback;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, MAX_MS) : fallback;
}

function record(code, seconds) {
  requestsByCode.set(code, (requestsByCode.get(code) ?? 0) + 1);
  for (let i = 0; i < bucketBounds.length; i++) if (seconds <= bucketBounds[i]) bucketCounts[i]++;
  durationSum += seconds;
  durationCount++;
}

function metricsText() {
  const cpu = process.cpuUsage();
  const lines = [
    '# HELP http_requests_total Requests served, by status code.',
    '# TYPE http_requests_total counter',
  ];
  for (const [code, n] of [...requestsByCode].sort()) lines.push(`http_requests_total{code="${code}"} ${n}`);
  lines.push(
    '# HELP http_request_duration_seconds Time to serve a request.',
    '# TYPE http_request_duration_seconds histogram',
  );
  bucketBounds.forEach((le, i) => lines.push(`http_request_duration_seconds_bucket{le="${le}"} ${bucketCounts[i]}`));
  lines.push(
    `http_request_duration_seconds_bucket{le="+Inf"} ${durationCount}`,
    `http_request_duration_seconds_sum ${durationSum}`,
    `http_request_duration_seconds_count ${durationCount}`,
    '# HELP http_requests_in_flight Requests being served now (excluding /metrics and /healthz).',
    '# TYPE http_requests_in_flight gauge',
    `http_requests_in_flight ${inFlight}`,
    '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
    '# TYPE process_cpu_seconds_total counter',
    `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    `process_resident_memory_bytes ${process.memoryUsage().rss}`,
    '# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.',
    '# TYPE process_start_time_seconds gauge',
    `process_start_time_seconds ${startedAt / 1000}`,
  );
  return lines.join('\n') + '\n';
}

function send(res, code, body, type = 'text/plain; charset=utf-8') {
  // While draining, tell keep-alive clients (the proxy) not to reuse this connection.
  if (draining) res.setHeader('Connection', 'close');
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') {
    const ready = !draining && Date.now() - startedAt >= startupDelayMs;
    return send(res, ready ? 200 : 503, ready ? 'ok\n' : draining ? 'draining\n' : 'starting\n');
  }
  if (url.pathname === '/metrics') return send(res, 200, metricsText(), 'text/plain; version=0.0.4; charset=utf-8');

  if (Date.now() - startedAt < startupDelayMs) return send(res, 503, 'warming up\n');
  const t0 = process.hrtime.bigint();
  inFlight++;
  const finish = (code, body) => {
    inFlight--;
    send(res, code, body);
    record(code, Number(process.hrtime.bigint() - t0) / 1e9);
  };
  // Exit only once the last response has left, never by cutting one short.
  res.on('close', () => { if (draining) maybeExit(); });
  if (url.pathname === '/' || url.pathname === '/work') {
    const ms = msParam(url, defaultWorkMs);
    burn(ms);
    return finish(200, `ok pid=${process.pid} port=${port} work_ms=${ms}\n`);
  }
  if (url.pathname === '/sleep') {
    // Waits without using CPU: a long request that is in flight while the service drains.
    const ms = msParam(url, 100);
    setTimeout(() => finish(200, `ok pid=${process.pid} port=${port} slept_ms=${ms}\n`), ms);
    return;
  }
  finish(404, 'not found; try /, /work?ms=N, /sleep?ms=N, /healthz, /metrics\n');
});

server.keepAliveTimeout = 5000;
server.on('error', (err) => {
  process.stderr.write(`sample-service: cannot listen on ${host}:${port}: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, host, () => {
  process.stdout.write(`sample-service listening on http://${host}:${port} pid=${process.pid}\n`);
});

let closed = false;
function maybeExit() {
  if (closed && inFlight === 0) process.exit(0);
  // Connections that just finished a response become idle; close them so server.close() can complete.
  server.closeIdleConnections();
}

function drain(signal) {
  if (draining) return;
  draining = true;
  process.stdout.write(`sample-service: ${signal}, draining ${inFlight} in-flight request(s)\n`);
  server.close(() => {
    closed = true;
    maybeExit();
  });
  server.closeIdleConnections();
  if (inFlight === 0) {
    // Nothing running: no need to wait for lingering keep-alive sockets.
    closed = true;
    maybeExit();
  }
  setTimeout(() => {
    process.stderr.write(`sample-service: drain timeout after ${drainTimeoutMs} ms with ${inFlight} in flight\n`);
    process.exit(0);
  }, drainTimeoutMs).unref();
}

process.on('SIGTERM', () => drain('SIGTERM'));
process.on('SIGINT', () => drain('SIGINT'));
