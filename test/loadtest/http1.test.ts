// The lean HTTP/1.1 client against a raw TCP server that answers with hand-written responses, delivered in pieces down
// to one byte per read: every framing (length, chunked, HEAD, 204/304, interim 1xx, read-until-close, Connection: close)
// ends the response at the right byte and leaves the connection usable, and broken servers become errors of the right kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Http1Pool, type ResponseSink, leanEligible, serialiseRequest } from '../../src/loadtest/http1.js';
import { errorKind, runLoadTest } from '../../src/loadtest/engine.js';
import { constantProfile } from '../../src/loadtest/profile.js';
import { resolveEndpoints } from '../../src/loadtest/target.js';
import { sleep } from '../helpers/env.js';

/** A server answering each request with `respond(path, method)`, written in pieces of `piece` bytes with a pause between. */
async function rawServer(respond: (path: string, method: string) => string | null, piece: number): Promise<{ url: URL; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.setNoDelay(true);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = '';
    s.on('data', async (d) => {
      buf += d.toString('latin1');
      for (let at = buf.indexOf('\r\n\r\n'); at >= 0; at = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, at);
        const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < at + 4 + len) return;
        requests.push(buf.slice(0, at + 4 + len));
        buf = buf.slice(at + 4 + len);
        const [method, path] = head.split(' ') as [string, string];
        const out = respond(path, method);
        if (out === null) continue;
        for (let i = 0; i < out.length; i += piece) {
          s.write(Buffer.from(out.slice(i, i + piece), 'latin1'));
          if (piece < out.length) await sleep(2);
        }
        if (/connection: close|^HTTP\/1\.0/i.test(out) && !/keep-alive/i.test(out)) s.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`),
    requests,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

/** Sends `paths` one after another on connection 0 and collects [status or error kind, body bytes] for each. */
async function exchange(url: URL, paths: Array<[string, string]>, timeoutMs = 5000): Promise<Array<[number | string, number]>> {
  const out: Array<[number | string, number]> = [];
  let body = 0;
  let resolveOne!: () => void;
  const sink: ResponseSink = {
    onResponse: (_s, status) => { out.push([status, body]); resolveOne(); },
    onError: (_s, err) => { out.push([errorKind(err), body]); resolveOne(); },
    onBody: (n) => { body += n; },
  };
  const pool = new Http1Pool(url, timeoutMs, sink);
  try {
    for (const [method, path] of paths) {
      body = 0;
      const done = new Promise<void>((r) => { resolveOne = r; });
      const [e] = resolveEndpoints(url, [{ method, path }]);
      pool.send(0, serialiseRequest(url, e!), method === 'HEAD', performance.now());
      await done;
    }
  } finally {
    pool.close();
  }
  return out;
}

const RESPONSES: Record<string, string> = {
  '/length': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCONTENT-LENGTH:  11 \r\n\r\nhello world',
  '/chunked': 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n',
  '/empty': 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n',
  '/not-modified': 'HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n',
  '/continue': 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope',
  '/close': 'HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbusy',
  '/until-close': 'HTTP/1.0 200 OK\r\n\r\nbody until the end',
};

for (const piece of [1, 7, 4096]) {
  test(`every framing ends the response at the right byte (${piece}-byte reads)`, async () => {
    const srv = await rawServer((path, method) => {
      // a HEAD answer carries the GET's headers and no body
      if (method === 'HEAD') return RESPONSES['/length']!.replace('hello world', '');
      return RESPONSES[path] ?? null;
    }, piece);
    try {
      const got = await exchange(srv.url, [
        ['GET', '/length'], ['GET', '/chunked'], ['HEAD', '/length'], ['GET', '/length'], ['GET', '/empty'],
        ['GET', '/not-modified'], ['GET', '/continue'], ['GET', '/close'], ['GET', '/length'], ['GET', '/until-close'], ['GET', '/chunked'],
      ]);
      assert.deepEqual(got, [[200, 11], [201, 15], [200, 0], [200, 11], [204, 0], [304, 0], [404, 4], [503, 4], [200, 11], [200, 18], [201, 15]]);
      assert.equal(srv.requests.length, 11);
    } finally {
      await srv.close();
    }
  });
}

test('broken servers are errors of the kind an operator searches for, and the next request reconnects', async () => {
  const srv = await rawServer((path) => {
    if (path === '/cut') return 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nonly part';
    if (path === '/garbage') return 'SSH-2.0-OpenSSH\r\n\r\n';
    if (path === '/hang') return null;
    return RESPONSES['/length']!;
  }, 4096);
  try {
    const t = performance.now();
    const got = await exchange(srv.url, [['GET', '/cut'], ['GET', '/ok'], ['GET', '/garbage'], ['GET', '/ok'], ['GET', '/hang'], ['GET', '/ok']], 400);
    assert.deepEqual(got.map((g) => g[0]), ['connection reset', 200, 'HPE_INVALID_CONSTANT', 200, 'timeout', 200]);
    assert.ok(performance.now() - t < 4000, 'the timeout fired near its 400 ms');
  } finally {
    await srv.close();
  }
});

test('requests are sent as configured: host, headers, body with its length', async () => {
  const srv = await rawServer(() => RESPONSES['/length']!, 4096);
  try {
    const url = srv.url;
    const [e] = resolveEndpoints(url, [{ method: 'POST', path: '/p?q=1', body: '{"é":1}', headers: { 'X-A': 'b' } }]);
    assert.equal(serialiseRequest(url, e!).toString('utf8'),
      `POST /p?q=1 HTTP/1.1\r\nhost: ${url.host}\r\nx-a: b\r\ncontent-type: application/json\r\ncontent-length: 8\r\n\r\n{"é":1}`);
    const r = await runLoadTest({ url: url.href, model: 'closed', profile: constantProfile(2, 10_000), maxRequests: 50, endpoints: [{ method: 'POST', path: '/p?q=1', body: '{"é":1}', headers: { 'X-A': 'b' } }] });
    assert.equal(r.requests, 50);
    assert.deepEqual(r.statusCodes, { 200: 50 });
    assert.equal(r.bytesRead, 50 * 11);
    assert.ok(srv.requests.every((q) => Buffer.from(q, 'latin1').toString('utf8').endsWith('{"é":1}') && q.includes('x-a: b\r\n')));
  } finally {
    await srv.close();
  }
});

test('HTTPS and headers the lean client does not implement go through undici', () => {
  const http = new URL('http://127.0.0.1:1/');
  assert.equal(leanEligible(http, resolveEndpoints(http, [{}])), true);
  assert.equal(leanEligible(new URL('https://127.0.0.1:1/'), resolveEndpoints(new URL('https://127.0.0.1:1/'), [{}])), false);
  assert.equal(leanEligible(http, resolveEndpoints(http, [{ headers: { Connection: 'close' } }])), false);
  assert.equal(leanEligible(http, resolveEndpoints(http, [{ headers: { Expect: '100-continue' } }])), false);
});

test('a run whose requests the lean client does not cover still goes out, through undici', async () => {
  const srv = await rawServer(() => RESPONSES['/length']!, 4096);
  try {
    const endpoints = [{ method: 'POST', path: '/u', body: 'abc', headers: { 'Content-Length': '3' } }];
    assert.equal(leanEligible(srv.url, resolveEndpoints(srv.url, endpoints)), false);
    const r = await runLoadTest({ url: srv.url.href, model: 'closed', profile: constantProfile(2, 10_000), maxRequests: 20, endpoints });
    assert.deepEqual(r.statusCodes, { 200: 20 });
    assert.equal(srv.requests.length, 20);
    assert.ok(srv.requests.every((q) => q.startsWith('POST /u HTTP/1.1') && q.endsWith('\r\n\r\nabc')));
  } finally {
    await srv.close();
  }
});
