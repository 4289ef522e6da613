// Private real servers for tests (Redis, PostgreSQL, Prometheus): each on a free loopback port in its own temp dir.
//
//   const redis = await startRedis();              // redis.url = redis://127.0.0.1:PORT   ({ maxmemory: '64mb', port })
//   const pg = await startPostgres();              // pg.url = postgres://postgres@127.0.0.1:PORT/postgres, trust auth
//                                                  //   ({ maxConnections: 40 })
//   const prom = await startPrometheus({ scrapeTargets: ['127.0.0.1:9100'], scrapeInterval: '1s' });  // prom.url
//   await waitForPromQuery(prom.url, 'up', (r) => r.length > 0);   // until enough scrapes happened
//   ... finally: await x.stop();                   // stops the server and deletes its directory (safe twice)
//
// Every RunningService has url, host, port, dir, log() and stop(). Each start throws a clear error (never skips)
// if its Debian package is missing. Servers still running when the test process exits are killed, so a failed
// suite does not leave daemons behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, requireBinary, sleep, tempDir } from './env.js';

export interface RunningService {
  /** Connection URL: redis://..., postgres://..., http://... */
  url: string;
  host: string;
  port: number;
  /** The service's temp directory (data, config, logs). */
  dir: string;
  /** Output the server wrote so far (for failure messages). */
  log(): string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and deletes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

function launch(cmd: string, args: string[], opts: { cwd?: string; uid?: number; gid?: number } = {}): { child: ChildProcess; log: () => string } {
  const child = spawn(cmd, args, { cwd: opts.cwd, uid: opts.uid, gid: opts.gid, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 64_000) out = out.slice(-32_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', () => running.delete(child));
  return { child, log: () => out };
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

function service(child: ChildProcess, log: () => string, url: string, port: number, dir: { path: string; cleanup: () => void }, stopSignal: NodeJS.Signals = 'SIGTERM'): RunningService {
  let stopped: Promise<void> | undefined;
  return {
    url,
    host: '127.0.0.1',
    port,
    dir: dir.path,
    log,
    stop: () => (stopped ??= stopChild(child, stopSignal).then(() => dir.cleanup())),
  };
}

async function waitFor(what: string, child: ChildProcess, log: () => string, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${log().slice(-2000)}`);
    }
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} was not ready after ${timeoutMs} ms:\n${log().slice(-2000)}`);
    }
    await sleep(100);
  }
}

/** True when a Redis server answers PING on the port (a bare open port may be someone else's). */
function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const done = (ok: boolean) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(500, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

const PORT_TAKEN = /address already in use|could not bind|bind: address/i;

/**
 * Starts a server on a free port, trying another port when something else took the chosen one between freePort()
 * and the server's bind (suites run in parallel).
 */
async function onFreePort<T>(fixed: number | undefined, start: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = fixed ?? (await freePort());
    try {
      return await start(port);
    } catch (e) {
      if (fixed !== undefined || attempt >= 3 || !PORT_TAKEN.test((e as Error).message)) throw e;
    }
  }
}

/**
 * A private redis-server without persistence. `url` is redis://127.0.0.1:PORT. Pass `port` to start it again on
 * the port of one you stopped (reconnect tests).
 */
export async function startRedis(opts: { maxmemory?: string; port?: number } = {}): Promise<RunningService> {
  const bin = requireBinary('/usr/bin/redis-server', 'redis-server');
  const dir = tempDir('scalepilot-redis-');
  try {
    return await onFreePort(opts.port, async (port) => {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir.path, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];
      if (opts.maxmemory) args.push('--maxmemory', opts.maxmemory);
      const { child, log } = launch(bin, args);
      await waitFor('redis-server', child, log, 10_000, () => redisPing(port));
      return service(child, log, `redis://127.0.0.1:${port}`, port, dir);
    });
  } catch (e) {
    dir.cleanup();
    throw e;
  }
}

function postgresBinDir(): string {
  const root = requireBinary('/usr/lib/postgresql', 'postgresql');
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error(`${root} holds no PostgreSQL version; install Debian's postgresql`);
  return requireBinary(join(root, versions[0]!, 'bin'), 'postgresql');
}

/**
 * A private PostgreSQL cluster: initdb in a temp dir as the `postgres` OS user (the server refuses to run as root),
 * trust auth for 127.0.0.1, fsync off. `url` is postgres://postgres@127.0.0.1:PORT/postgres.
 */
export async function startPostgres(opts: { maxConnections?: number } = {}): Promise<RunningService> {
  const bin = postgresBinDir();
  const runuser = requireBinary('/usr/sbin/runuser', 'util-linux');
  const dir = tempDir('scalepilot-pg-');
  const pgUser = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const pgGroup = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (pgUser.status !== 0) {
    dir.cleanup();
    throw new Error('the postgres OS user is missing; install Debian\'s postgresql (it creates the user)');
  }
  const uid = Number(pgUser.stdout.trim());
  const gid = Number(pgGroup.stdout.trim());
  chownSync(dir.path, uid, gid);
  const data = join(dir.path, 'data');
  const init = spawnSync(runuser, ['-u', 'postgres', '--', join(bin, 'initdb'), '-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'], { encoding: 'utf8', timeout: 60_000 });
  if (init.status !== 0) {
    dir.cleanup();
    throw new Error(`initdb failed (${init.status ?? init.signal}):\n${init.stdout}\n${init.stderr}`);
  }
  try {
    return await onFreePort(undefined, async (port) => {
      // The server runs as the postgres user directly (not under runuser) so stop signals reach it.
      const { child, log } = launch(join(bin, 'postgres'), [
        '-D', data, '-p', String(port), '-k', dir.path,
        '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
        '-c', `max_connections=${opts.maxConnections ?? 100}`, '-c', 'shared_buffers=16MB',
      ], { cwd: dir.path, uid, gid });
      // Ready on its own unix socket (so it is this server, not another suite's on a reused port), then on TCP.
      const ready = (host: string) => spawnSync(join(bin, 'pg_isready'), ['-h', host, '-p', String(port), '-U', 'postgres', '-t', '1'], { timeout: 3000 }).status === 0;
      await waitFor('postgres', child, log, 30_000, async () => ready(dir.path) && ready('127.0.0.1'));
      // SIGINT is PostgreSQL's "fast shutdown": disconnects clients instead of waiting for them.
      return service(child, log, `postgres://postgres@127.0.0.1:${port}/postgres`, port, dir, 'SIGINT');
    });
  } catch (e) {
    dir.cleanup();
    throw e;
  }
}

export interface PrometheusOptions {
  /** host:port targets scraped at /metrics (job "targets"). */
  scrapeTargets: string[];
  /** Prometheus duration, default "1s". */
  scrapeInterval?: string;
  /** Extra rule-file contents (YAML), loaded as rules.yml. */
  rules?: string;
}

/** A private Prometheus with its own config and TSDB dir; resolves once /-/ready answers 200. */
export async function startPrometheus(opts: PrometheusOptions): Promise<RunningService> {
  const bin = requireBinary('/usr/bin/prometheus', 'prometheus');
  const dir = tempDir('scalepilot-prom-');
  const interval = opts.scrapeInterval ?? '1s';
  const config = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    ...(opts.rules ? ['rule_files:', `  - ${join(dir.path, 'rules.yml')}`] : []),
    'scrape_configs:',
    '  - job_name: targets',
    '    static_configs:',
    `      - targets: [${opts.scrapeTargets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
  writeFileSync(join(dir.path, 'prometheus.yml'), config);
  if (opts.rules) writeFileSync(join(dir.path, 'rules.yml'), opts.rules);
  try {
    return await onFreePort(undefined, async (port) => {
      const url = `http://127.0.0.1:${port}`;
      const { child, log } = launch(bin, [
        `--config.file=${join(dir.path, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir.path, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-lifecycle',
        '--log.level=warn',
      ], { cwd: dir.path });
      await waitFor('prometheus', child, log, 30_000, async () => {
        const r = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
        return r.status === 200;
      });
      return service(child, log, url, port, dir);
    });
  } catch (e) {
    dir.cleanup();
    throw e;
  }
}

/**
 * Polls a Prometheus instant query until `ok(result)` holds (e.g. enough scrapes happened), or throws after
 * timeoutMs with the last answer. Returns the data.result that satisfied it.
 */
export async function waitForPromQuery(promUrl: string, query: string, ok: (result: unknown[]) => boolean, timeoutMs = 20_000): Promise<unknown[]> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(2000) });
      const body = (await r.json()) as { data?: { result?: unknown[] } };
      last = JSON.stringify(body).slice(0, 500);
      const result = body.data?.result ?? [];
      if (ok(result)) return result;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > deadline) throw new Error(`Prometheus query ${query} did not reach the expected state in ${timeoutMs} ms; last answer: ${last}`);
    await sleep(250);
  }
}
