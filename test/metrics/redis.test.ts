// Redis source against a private redis-server: queue depth as items are pushed, streams, INFO fields, failures.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { parseRedisConfig, parseRedisInfo, parseRedisQuery, RedisSource } from '../../src/metrics/redis.js';
import { MetricError } from '../../src/metrics/types.js';
import { startRedis, type RunningService } from '../helpers/services.js';

describe('parseRedisConfig / parseRedisQuery', () => {
  test('config defaults and checks', () => {
    assert.deepEqual(parseRedisConfig({ type: 'redis', url: 'redis://127.0.0.1:6379/2' }, 'sources.r'), { type: 'redis', url: 'redis://127.0.0.1:6379/2', password: undefined, db: undefined, timeoutMs: 5000 });
    assert.throws(() => parseRedisConfig({ type: 'redis' }, 'sources.r'), /sources\.r\.url: is required; add e\.g\. url: redis:\/\/127\.0\.0\.1:6379\/0/);
    assert.throws(() => parseRedisConfig({ type: 'redis', url: 'http://x:6379' }, 'sources.r'), /sources\.r\.url: "http:\/\/x:6379" must use redis or rediss/);
    assert.throws(() => parseRedisConfig({ type: 'redis', url: 'redis://x', db: 1.5 }, 'sources.r'), /sources\.r\.db: must be a whole number/);
  });
  const queries: Array<[string, unknown]> = [
    ['llen jobs', { kind: 'llen', keys: ['jobs'] }],
    ['LLEN high low', { kind: 'llen', keys: ['high', 'low'] }],
    ['xlen events', { kind: 'xlen', key: 'events' }],
    ['xpending events workers', { kind: 'xpending', key: 'events', group: 'workers' }],
    ['used_memory', { kind: 'info', field: 'used_memory' }],
    ['connected_clients', { kind: 'info', field: 'connected_clients' }],
    ['memory_ratio', { kind: 'memory_ratio' }],
    ['info used_memory_rss', { kind: 'info', field: 'used_memory_rss' }],
  ];
  for (const [q, want] of queries) test(`query ${q}`, () => assert.deepEqual(parseRedisQuery({ name: 'm', query: q }, 'p'), want));
  const bad: Array<[string, RegExp]> = [
    ['llen', /llen needs at least one list key/],
    ['xpending events', /xpending needs a stream key and a consumer group/],
    ['get jobs', /unknown command get; use llen <key>/],
    ['', /empty query/],
  ];
  for (const [q, re] of bad) test(`refuses ${JSON.stringify(q)}`, () => assert.throws(() => parseRedisQuery({ name: 'm', query: q }, 'services.w.metrics.queue'), (e: unknown) => /^services\.w\.metrics\.queue\.query: /.test((e as Error).message) && re.test((e as Error).message)));
  test('INFO parsing', () => {
    const info = parseRedisInfo('# Memory\r\nused_memory:1024\r\nmaxmemory:0\r\nmaxmemory_policy:noeviction\r\n\r\n# Clients\r\nconnected_clients:3\r\n');
    assert.equal(info.get('used_memory'), '1024');
    assert.equal(info.get('connected_clients'), '3');
    assert.equal(info.get('maxmemory_policy'), 'noeviction');
  });
});

describe('RedisSource against redis-server', () => {
  let redis: RunningService;
  let client: Redis;
  let src: RedisSource;
  before(async () => {
    redis = await startRedis({ maxmemory: '64mb' });
    client = new Redis(redis.url);
    src = new RedisSource('redis', parseRedisConfig({ type: 'redis', url: redis.url, timeout: '2s' }, 'sources.redis'));
  });
  after(async () => {
    await src?.close();
    client?.disconnect();
    await redis?.stop();
  });
  const read = (query: string) => src.sample({ name: 'q', query }, new Date(5000));

  test('LLEN follows pushes and pops; a missing list is an empty queue', async () => {
    assert.deepEqual(await read('llen jobs'), [{ labels: { key: 'jobs' }, t: 5000, value: 0 }]);
    await client.rpush('jobs', ...Array.from({ length: 25 }, (_, i) => `job-${i}`));
    assert.equal((await read('llen jobs'))[0]!.value, 25);
    await client.lpop('jobs', 10);
    await client.rpush('urgent', 'a', 'b');
    assert.deepEqual((await read('llen jobs urgent')).map((s) => [s.labels.key, s.value]), [['jobs', 15], ['urgent', 2]]);
  });

  test('XLEN and XPENDING for a stream consumer group', async () => {
    for (let i = 0; i < 12; i++) await client.xadd('events', '*', 'n', String(i));
    await client.xgroup('CREATE', 'events', 'workers', '0');
    await client.xreadgroup('GROUP', 'workers', 'w1', 'COUNT', 5, 'STREAMS', 'events', '>');
    assert.equal((await read('xlen events'))[0]!.value, 12);
    assert.deepEqual(await read('xpending events workers'), [{ labels: { key: 'events', group: 'workers' }, t: 5000, value: 5 }]);
    await assert.rejects(read('xpending events nobody'), (e: unknown) => e instanceof MetricError && !e.retryable && /NOGROUP/.test(e.message));
    await assert.rejects(read('llen events'), (e: unknown) => e instanceof MetricError && !e.retryable && /WRONGTYPE.*llen needs a list/.test(e.message));
  });

  test('memory and clients from INFO', async () => {
    const info = parseRedisInfo(await client.info());
    const used = (await read('used_memory'))[0]!.value;
    assert.ok(Math.abs(used - Number(info.get('used_memory'))) < 5e6, `${used}`);
    const ratio = (await read('memory_ratio'))[0]!.value;
    assert.ok(Math.abs(ratio - used / (64 * 2 ** 20)) < 0.05, `${ratio}`);
    const extra = [new Redis(redis.url), new Redis(redis.url), new Redis(redis.url)];
    await Promise.all(extra.map((c) => c.ping()));
    const before = (await read('connected_clients'))[0]!.value;
    extra.forEach((c) => c.disconnect());
    await new Promise((r) => setTimeout(r, 200));
    const afterward = (await read('connected_clients'))[0]!.value;
    assert.equal(before - afterward, 3);
    await assert.rejects(read('info no_such_field'), /INFO has no field no_such_field/);
    await client.config('SET', 'maxmemory', '0');
    await assert.rejects(read('memory_ratio'), (e: unknown) => e instanceof MetricError && !e.retryable && /maxmemory is 0/.test(e.message));
  });

  test('server stopped: retryable error; back up: values again (reconnects)', async () => {
    let other = await startRedis();
    const s = new RedisSource('r2', parseRedisConfig({ type: 'redis', url: other.url, timeout: '1s' }, 's'));
    try {
      assert.equal((await s.sample({ name: 'q', query: 'llen x' }, new Date()))[0]!.value, 0);
      await other.stop();
      await assert.rejects(s.sample({ name: 'q', query: 'llen x' }, new Date()), (e: unknown) => e instanceof MetricError && e.retryable);
      await assert.rejects(s.sample({ name: 'q', query: 'llen x' }, new Date()), (e: unknown) => e instanceof MetricError && e.retryable && /connection refused/.test(e.message));
      other = await startRedis({ port: other.port });
      const c = new Redis(other.url);
      await c.rpush('x', '1', '2');
      c.disconnect();
      assert.equal((await s.sample({ name: 'q', query: 'llen x' }, new Date()))[0]!.value, 2);
    } finally {
      await s.close();
      await other.stop();
    }
  });

  test('a server that accepts but never answers: timeout, bounded', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent: Server = createServer((c) => { sockets.push(c); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const s = new RedisSource('r3', parseRedisConfig({ type: 'redis', url: `redis://127.0.0.1:${port}`, timeout: '300ms' }, 's'));
    const started = Date.now();
    try {
      await assert.rejects(s.sample({ name: 'q', query: 'llen x' }, new Date()), (e: unknown) => e instanceof MetricError && e.retryable && /timeout/.test(e.message));
      assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
    } finally {
      await s.close();
      sockets.forEach((c) => c.destroy());
      silent.close();
    }
  });
});
