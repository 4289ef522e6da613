// Redis source (ioredis): queue depth (LLEN, XLEN, XPENDING), memory use against maxmemory, connected clients.
//
// Queries, as an operator would type them:
//   llen jobs [other ...]       list length per key (labels.key); a missing key is an empty queue (0)
//   xlen events                 stream length
//   xpending events workers     entries delivered to consumer group "workers" and not yet acknowledged
//   used_memory                 bytes (INFO memory)
//   memory_ratio                used_memory / maxmemory; fails when maxmemory is 0 (no limit set)
//   connected_clients           INFO clients
//   info <field>                any numeric INFO field, e.g. info used_memory_rss
import type { Redis } from 'ioredis';
import { ioredis } from '../lazy.js';
import { MetricConfigError, optDuration, optNumber, optSecret, readObject, readParams, redactUrl, reqUrl } from './config.js';
import { MetricError, type MetricQuery, type MetricSource, type Sample } from './types.js';

export interface RedisConfig {
  type: 'redis';
  /** redis://[user:password@]host:port[/db] or rediss:// for TLS */
  url: string;
  password?: string;
  db?: number;
  /** Connect and per-command deadline (ms). */
  timeoutMs: number;
}

const CONFIG_FIELDS = ['type', 'url', 'password', 'db', 'timeout'] as const;

export function parseRedisConfig(raw: unknown, path: string): RedisConfig {
  const o = readObject(raw, path, CONFIG_FIELDS);
  const url = reqUrl(o, 'url', path, 'redis://127.0.0.1:6379/0', ['redis:', 'rediss:']);
  return {
    type: 'redis',
    url: url.toString(),
    password: optSecret(o, 'password', path),
    db: optNumber(o, 'db', path, { min: 0, integer: true }),
    timeoutMs: optDuration(o, 'timeout', path, { min: 1, max: 600_000 }) ?? 5000,
  };
}

export type RedisQuery =
  | { kind: 'llen'; keys: string[] }
  | { kind: 'xlen'; key: string }
  | { kind: 'xpending'; key: string; group: string }
  | { kind: 'info'; field: string }
  | { kind: 'memory_ratio' };

const USAGE = 'use llen <key>, xlen <stream>, xpending <stream> <group>, used_memory, memory_ratio, connected_clients or info <field>';

export function parseRedisQuery(q: MetricQuery, path: string): RedisQuery {
  readParams(q.params, `${path}.params`, []);
  const words = q.query.trim().split(/\s+/).filter(Boolean);
  const cmd = (words[0] ?? '').toLowerCase();
  const args = words.slice(1);
  const bad = (why: string) => new MetricConfigError(`${path}.query`, `"${q.query}": ${why}; ${USAGE}`);
  switch (cmd) {
    case 'llen':
      if (args.length === 0) throw bad('llen needs at least one list key');
      return { kind: 'llen', keys: args };
    case 'xlen':
      if (args.length !== 1) throw bad('xlen needs exactly one stream key');
      return { kind: 'xlen', key: args[0]! };
    case 'xpending':
      if (args.length !== 2) throw bad('xpending needs a stream key and a consumer group');
      return { kind: 'xpending', key: args[0]!, group: args[1]! };
    case 'used_memory':
    case 'connected_clients':
      if (args.length) throw bad(`${cmd} takes no arguments`);
      return { kind: 'info', field: cmd };
    case 'memory_ratio':
      if (args.length) throw bad('memory_ratio takes no arguments');
      return { kind: 'memory_ratio' };
    case 'info':
      if (args.length !== 1) throw bad('info needs one field name');
      return { kind: 'info', field: args[0]! };
    default:
      throw bad(cmd ? `unknown command ${cmd}` : 'empty query');
  }
}

/** Parses INFO output ("field:value" lines, "# Section" headers) into a map. */
export function parseRedisInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

/** Reply errors that later attempts can outlive (server loading data, busy script, failover). */
const RETRYABLE_REPLY = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|CLUSTERDOWN)/;

export class RedisSource implements MetricSource {
  readonly kind = 'redis';
  private client?: Redis;
  private connecting?: Promise<Redis>;

  constructor(readonly name: string, readonly config: RedisConfig) {}

  checkQuery(q: MetricQuery, path: string): void {
    parseRedisQuery(q, path);
  }

  async sample(q: MetricQuery, now: Date): Promise<Sample[]> {
    if (q.range) throw new MetricError(this.name, q.query, 'Redis values are read live; range reads are not supported', false);
    let rq: RedisQuery;
    try {
      rq = parseRedisQuery(q, q.name);
    } catch (e) {
      throw new MetricError(this.name, q.query, (e as Error).message, false);
    }
    const t = now.getTime();
    const c = await this.connection(q.query);
    try {
      switch (rq.kind) {
        case 'llen': {
          const lens = await Promise.all(rq.keys.map((k) => c.llen(k)));
          return rq.keys.map((key, i) => ({ labels: { key }, t, value: lens[i]! }));
        }
        case 'xlen':
          return [{ labels: { key: rq.key }, t, value: await c.xlen(rq.key) }];
        case 'xpending': {
          const r = (await c.xpending(rq.key, rq.group)) as unknown[];
          const count = Number(r?.[0]);
          if (!Number.isFinite(count)) throw new MetricError(this.name, q.query, `XPENDING answered ${JSON.stringify(r)}, not a count`, false);
          return [{ labels: { key: rq.key, group: rq.group }, t, value: count }];
        }
        case 'info': {
          const info = parseRedisInfo(await c.info());
          return [{ labels: {}, t, value: this.infoNumber(info, rq.field, q.query) }];
        }
        case 'memory_ratio': {
          const info = parseRedisInfo(await c.info('memory'));
          const used = this.infoNumber(info, 'used_memory', q.query);
          const max = this.infoNumber(info, 'maxmemory', q.query);
          if (max <= 0) {
            throw new MetricError(this.name, q.query, 'maxmemory is 0 (no limit), so there is no ratio; set maxmemory on the server or use used_memory', false);
          }
          return [{ labels: {}, t, value: used / max }];
        }
      }
    } catch (e) {
      if (e instanceof MetricError) throw e;
      throw this.commandError(e, q.query);
    }
  }

  private infoNumber(info: Map<string, string>, field: string, query: string): number {
    const raw = info.get(field);
    if (raw === undefined) throw new MetricError(this.name, query, `INFO has no field ${field}; check the name in the output of redis-cli INFO`, false);
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v)) throw new MetricError(this.name, query, `INFO field ${field} is "${raw}", not a number`, false);
    return v;
  }

  private commandError(e: unknown, query: string): MetricError {
    const err = e as Error;
    const msg = err?.message ?? String(e);
    if (err?.name === 'ReplyError') {
      const hint = msg.startsWith('WRONGTYPE') ? ' (the key holds another type: llen needs a list, xlen/xpending a stream)'
        : msg.startsWith('NOGROUP') ? ' (create the consumer group, or check the stream and group names)'
        : /^(NOAUTH|WRONGPASS)/.test(msg) ? ' (check the password in the url or password field)' : '';
      return new MetricError(this.name, query, `Redis refused: ${msg}${hint}`, RETRYABLE_REPLY.test(msg), { cause: e });
    }
    // Timeouts and dropped connections: reconnect on the next sample.
    this.drop();
    const timedOut = /timed out/i.test(msg);
    return new MetricError(this.name, query, timedOut ? `no answer within ${this.config.timeoutMs} ms (timeout)` : msg, true, { cause: e });
  }

  private drop(): void {
    this.client?.disconnect();
    this.client = undefined;
  }

  /** One connection, made on first use and re-made after a failure; ioredis' own reconnect loop is off. */
  private async connection(query: string): Promise<Redis> {
    if (this.client?.status === 'ready') return this.client;
    if (this.connecting) return this.connecting;
    this.drop();
    const c = new (ioredis().Redis)(this.config.url, {
      lazyConnect: true,
      password: this.config.password,
      db: this.config.db,
      connectTimeout: this.config.timeoutMs,
      commandTimeout: this.config.timeoutMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      autoResubscribe: false,
      connectionName: 'scalepilot',
    });
    let lastError: Error | undefined;
    c.on('error', (e: Error) => { lastError = e; });
    this.connecting = (async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          c.connect(),
          new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), this.config.timeoutMs); }),
        ]);
        this.client = c;
        return c;
      } catch (e) {
        c.disconnect();
        const err = lastError ?? (e as Error);
        const code = (err as NodeJS.ErrnoException).code;
        const why = (e as Error).message === 'timeout' ? `no answer within ${this.config.timeoutMs} ms (timeout)`
          : code === 'ECONNREFUSED' ? 'connection refused (is redis-server running on this address and port?)'
          : err.message;
        const authFailed = /NOAUTH|WRONGPASS|invalid password/i.test(err.message);
        throw new MetricError(this.name, query, `${redactUrl(this.config.url)}: ${why}`, !authFailed, { cause: err });
      } finally {
        clearTimeout(timer);
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.quit().catch(() => c.disconnect());
  }
}

