// The local provider: N replicas of a command, each on its own loopback port, behind a front proxy (nginx when
// installed, else the built-in one). New replicas join the proxy only after their health check passes; removed ones
// are drained (out of the proxy, in-flight requests finished) before SIGTERM, and SIGKILL only after a grace period.
// Crashed replicas are reported and restarted with back-off, the way a ReplicaSet keeps its count.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { undici } from '../lazy.js';
import { ProviderError, type PodState, type Provider, type Resources, type ScaleOptions, type TargetRef, type TargetState } from './types.js';
import { durationMs, oneOf, optInt, optString, ProviderSpecError, rejectUnknown, reqString, specObject, stringArray, stringMap, requireReplicaCount } from './spec.js';
import { parseListen, type FrontProxy, type ListenAddress, type Upstream } from './local/front.js';
import { BuiltinProxy } from './local/proxy.js';
import { NginxProxy } from './local/nginx.js';
import { processAlive, sleep } from './local/proc.js';

export const DEFAULT_NGINX_PATH = '/usr/sbin/nginx';

export interface LocalSpec {
  /** argv of one replica; it gets PORT=<port> in its environment (never run through a shell) */
  command: string[];
  cwd?: string;
  env: Record<string, string>;
  /** where the front proxy listens */
  listen: ListenAddress;
  /** replica i listens on portBase + i */
  portBase: number;
  /** replicas started when the target is first used */
  replicas: number;
  /** auto: nginx when installed, else builtin */
  proxy: 'auto' | 'nginx' | 'builtin';
  nginxPath: string;
  healthPath: string;
  healthTimeoutMs: number;
  /** SIGTERM → SIGKILL */
  stopGracePeriodMs: number;
  restartBackoffMs: number;
  maxRestartBackoffMs: number;
  /** a gauge on the replica's metricsPath that counts its in-flight requests; drain also waits for it to reach 0 */
  inFlightMetric?: string;
  metricsPath: string;
  /** nginx config, pid and replica logs; default a temp dir removed by close() */
  stateDir?: string;
}

const LOCAL_FIELDS = [
  'command', 'cwd', 'env', 'listen', 'portBase', 'replicas', 'proxy', 'nginxPath', 'healthPath', 'healthTimeout',
  'stopGracePeriod', 'restartBackoff', 'maxRestartBackoff', 'inFlightMetric', 'metricsPath', 'stateDir',
] as const;

export function parseLocalSpec(raw: unknown, path: string): LocalSpec {
  const o = specObject(raw, path);
  rejectUnknown(o, path, LOCAL_FIELDS);
  if (typeof o.command === 'string') {
    throw new ProviderSpecError(`${path}.command`, 'must be a list of arguments, not a shell string', `write it like command: ["node", "server.mjs"]`);
  }
  const command = stringArray(o, 'command', path, '["node", "examples/sample-service/server.mjs"]');
  if (!command) throw new ProviderSpecError(`${path}.command`, 'is required', 'add command: ["node", "examples/sample-service/server.mjs"]');
  const listenRaw = typeof o.listen === 'number' ? String(o.listen) : reqString(o, 'listen', path, '127.0.0.1:8080');
  const listen = parseListen(listenRaw);
  if (!listen) throw new ProviderSpecError(`${path}.listen`, `"${listenRaw}" is not host:port`, 'write it like listen: 127.0.0.1:8080');
  const portBase = optInt(o, 'portBase', path, 1024, 65535);
  if (portBase === undefined) throw new ProviderSpecError(`${path}.portBase`, 'is required', 'add portBase: 18001 (replica i listens on portBase + i)');
  const healthPath = optString(o, 'healthPath', path, '/healthz') ?? '/healthz';
  if (!healthPath.startsWith('/')) throw new ProviderSpecError(`${path}.healthPath`, `"${healthPath}" must start with /`, 'write it like healthPath: /healthz');
  const metricsPath = optString(o, 'metricsPath', path, '/metrics') ?? '/metrics';
  if (!metricsPath.startsWith('/')) throw new ProviderSpecError(`${path}.metricsPath`, `"${metricsPath}" must start with /`, 'write it like metricsPath: /metrics');
  const replicas = optInt(o, 'replicas', path, 0, 1000) ?? 1;
  if (portBase + Math.max(replicas, 1) - 1 > 65535) {
    throw new ProviderSpecError(`${path}.portBase`, `portBase ${portBase} leaves no room for ${replicas} replicas`, 'pick a lower portBase');
  }
  if (listen.port >= portBase && listen.port < portBase + Math.max(replicas, 1) && /^(127\.|localhost$|0\.0\.0\.0$|::)/.test(listen.host)) {
    throw new ProviderSpecError(`${path}.listen`, `port ${listen.port} collides with the replica ports starting at portBase ${portBase}`, 'move listen or portBase apart');
  }
  const restartBackoffMs = durationMs(o, 'restartBackoff', path, '1s');
  const maxRestartBackoffMs = durationMs(o, 'maxRestartBackoff', path, '30s');
  if (maxRestartBackoffMs < restartBackoffMs) {
    throw new ProviderSpecError(`${path}.maxRestartBackoff`, 'is shorter than restartBackoff', 'make maxRestartBackoff >= restartBackoff');
  }
  const cwd = optString(o, 'cwd', path, '.');
  const stateDir = optString(o, 'stateDir', path, '.scalepilot/local');
  const inFlightMetric = optString(o, 'inFlightMetric', path, 'http_requests_in_flight');
  return {
    command,
    ...(cwd ? { cwd } : {}),
    env: stringMap(o, 'env', path, '{ WORK_MS: "5" }') ?? {},
    listen,
    portBase,
    replicas,
    proxy: oneOf(o, 'proxy', path, ['auto', 'nginx', 'builtin'] as const, 'auto'),
    nginxPath: optString(o, 'nginxPath', path, DEFAULT_NGINX_PATH) ?? DEFAULT_NGINX_PATH,
    healthPath,
    healthTimeoutMs: durationMs(o, 'healthTimeout', path, '10s'),
    stopGracePeriodMs: durationMs(o, 'stopGracePeriod', path, '10s'),
    restartBackoffMs,
    maxRestartBackoffMs,
    ...(inFlightMetric ? { inFlightMetric } : {}),
    metricsPath,
    ...(stateDir ? { stateDir } : {}),
  };
}

type ReplicaState = 'starting' | 'ready' | 'draining' | 'crashed';

interface Replica {
  index: number;
  name: string;
  port: number;
  state: ReplicaState;
  child?: ChildProcess;
  pid?: number;
  startTime?: number;
  readyTime?: number;
  restarts: number;
  /** consecutive failed starts, for back-off */
  failures: number;
  restartTimer?: NodeJS.Timeout;
  reason?: string;
  message?: string;
  exited?: Promise<void>;
  /** set while scalepilot itself stops the process, so its exit is not a crash */
  stopping: boolean;
  inUpstream: boolean;
  logTail: string[];
  log?: WriteStream;
}

interface Group {
  service: string;
  spec: LocalSpec;
  dir: string;
  ownsDir: boolean;
  proxy: FrontProxy;
  desired: number;
  replicas: Map<number, Replica>;
  /** serializes scale, crash handling and restarts for the group */
  lock: Promise<unknown>;
  /** the first scale, started when the group is created */
  initial: Promise<void>;
  closed: boolean;
}

export interface LocalOptions {
  /** where groups without a stateDir keep their files (default: a new temp dir per group) */
  stateDir?: string;
  /** directory relative paths in the spec (cwd, stateDir) are resolved against: the config file's directory */
  baseDir?: string;
  log?: (msg: string) => void;
  /**
   * Never start or stop anything: observe() reads the state file that the scalepilot process owning the replicas
   * keeps in the state dir (for dry runs, reports and rollbacks run from another command).
   */
  readOnly?: boolean;
}

/** What an owning process records in <state dir>/state.json so other scalepilot commands can observe its replicas. */
interface StateFile {
  service: string;
  /** the scalepilot process that owns the replicas */
  ownerPid: number;
  proxy: { kind: string; url: string };
  desired: number;
  updatedAt: number;
  pods: PodState[];
}

export class LocalProvider implements Provider {
  readonly kind = 'local';
  private readonly groups = new Map<string, Promise<Group>>();
  /** every live child, so an exiting scalepilot can take them down synchronously */
  private readonly children = new Set<ChildProcess>();
  private readonly proxies = new Set<FrontProxy>();
  private readonly onExit = () => {
    for (const c of this.children) c.kill('SIGKILL');
    for (const p of this.proxies) p.killNow?.();
  };

  constructor(private readonly options: LocalOptions = {}) {
    process.once('exit', this.onExit);
  }

  async observe(t: TargetRef): Promise<TargetState> {
    if (this.options.readOnly) return this.observeStateFile(t);
    const { g } = await this.group(t);
    // A failed first start shows up as Failed pods with a reason; observe reports state, it does not throw for it.
    await g.initial.catch(() => {});
    const pods: PodState[] = [...g.replicas.values()].sort((a, b) => a.index - b.index).map((r) => podState(g, r));
    return { replicas: g.desired, readyReplicas: pods.filter((p) => p.ready && !p.deleted).length, pods };
  }

  async scale(t: TargetRef, replicas: number, o: ScaleOptions): Promise<void> {
    requireReplicaCount(this.kind, t.service, replicas);
    const spec = parseLocalSpec(t.spec, `services.${t.service}.target`);
    if (spec.portBase + Math.max(replicas, 1) - 1 > 65535) {
      throw new ProviderError(this.kind, `cannot scale ${t.service} to ${replicas}: ports from ${spec.portBase} run past 65535; lower target.portBase`, false);
    }
    if (o.dryRun) return;
    if (this.options.readOnly) {
      throw new ProviderError(this.kind, `cannot scale ${t.service} from a read-only provider: local replicas belong to the scalepilot process that started them; scale through its API or run it without --dry-run`, false);
    }
    const { g, created } = await this.group(t, replicas);
    if (created) return g.initial;
    await g.initial.catch(() => {});
    await this.locked(g, () => this.scaleTo(g, replicas, o.drainMs));
  }

  async resize(t: TargetRef, _r: Resources): Promise<void> {
    throw new ProviderError(
      this.kind,
      `cannot resize ${t.service}: local replicas are plain processes without CPU or memory limits to change; ` +
        'scale horizontally instead, or run the service under the compose or kubernetes provider to resize it',
      false,
    );
  }

  async close(): Promise<void> {
    process.off('exit', this.onExit);
    const groups = await Promise.allSettled([...this.groups.values()]);
    this.groups.clear();
    await Promise.all(
      groups.map(async (r) => {
        if (r.status !== 'fulfilled') return;
        const g = r.value;
        g.closed = true;
        await g.lock.catch(() => {});
        await Promise.all([...g.replicas.values()].map((rep) => this.stop(g, rep)));
        g.replicas.clear();
        await g.proxy.close();
        this.proxies.delete(g.proxy);
        rmSync(join(g.dir, 'state.json'), { force: true });
        if (g.ownsDir) rmSync(g.dir, { recursive: true, force: true });
      }),
    );
  }

  /** The proxy URL clients should use for a target (starts the target if needed). */
  async url(t: TargetRef): Promise<string> {
    return (await this.group(t)).g.proxy.url;
  }

  private async group(t: TargetRef, initial?: number): Promise<{ g: Group; created: boolean }> {
    const existing = this.groups.get(t.service);
    if (existing) return { g: await existing, created: false };
    const g = this.startGroup(t, initial);
    this.groups.set(t.service, g);
    g.catch(() => this.groups.delete(t.service));
    return { g: await g, created: true };
  }

  /** The directory a target's files live in, when it is a fixed one (a spec or provider stateDir). */
  private fixedDir(t: TargetRef, spec: LocalSpec): string | undefined {
    const base = spec.stateDir ? resolvePath(this.options.baseDir ?? '.', spec.stateDir) : this.options.stateDir;
    return base ? resolvePath(base, t.service) : undefined;
  }

  private observeStateFile(t: TargetRef): TargetState {
    const spec = parseLocalSpec(t.spec, `services.${t.service}.target`);
    const dir = this.fixedDir(t, spec);
    const where = dir ?? 'a temporary directory';
    const file = dir ? join(dir, 'state.json') : undefined;
    if (!file || !existsSync(file)) {
      throw new ProviderError(
        this.kind,
        `no running replicas of ${t.service} are recorded in ${where}: start them with \`scalepilot run\` (or demo) using the same ` +
          `state dir, and set services.${t.service}.target.stateDir (or --state-dir) so other commands can find them`,
        false,
      );
    }
    let st: StateFile;
    try {
      st = JSON.parse(readFileSync(file, 'utf8')) as StateFile;
    } catch (e) {
      throw new ProviderError(this.kind, `cannot read ${file}: ${(e as Error).message}`, true);
    }
    const ownerAlive = processAlive(st.ownerPid);
    // A replica whose process is gone is reported as such, whatever the file last said.
    const pods = st.pods.map((p): PodState => {
      if (p.pid !== undefined && processAlive(p.pid)) return p;
      if (p.phase === 'Failed') return p;
      const { pid: _pid, inFlight: _f, ...rest } = p;
      return { ...rest, phase: 'Failed', ready: false, reason: 'NotRunning' };
    });
    return {
      replicas: ownerAlive ? st.desired : 0,
      readyReplicas: pods.filter((p) => p.ready && !p.deleted).length,
      pods: ownerAlive ? pods : pods.filter((p) => p.ready),
    };
  }

  /** Records the group's state for read-only observers (atomic: write then rename). */
  private persist(g: Group): void {
    if (g.closed) return;
    const st: StateFile = {
      service: g.service,
      ownerPid: process.pid,
      proxy: { kind: g.proxy.kind, url: g.proxy.url },
      desired: g.desired,
      updatedAt: Date.now(),
      pods: [...g.replicas.values()].sort((a, b) => a.index - b.index).map((r) => podState(g, r)),
    };
    try {
      const file = join(g.dir, 'state.json');
      writeFileSync(`${file}.tmp`, JSON.stringify(st, null, 2));
      renameSync(`${file}.tmp`, file);
    } catch (e) {
      this.log(`${g.service}: cannot record state in ${g.dir}: ${(e as Error).message}`);
    }
  }

  private async startGroup(t: TargetRef, initial?: number): Promise<Group> {
    const spec = parseLocalSpec(t.spec, `services.${t.service}.target`);
    if (spec.proxy === 'nginx' && !existsSync(spec.nginxPath)) {
      throw new ProviderError(this.kind, `services.${t.service}.target.proxy is nginx but ${spec.nginxPath} does not exist; install nginx or set proxy: builtin`, false);
    }
    const useNginx = spec.proxy === 'nginx' || (spec.proxy === 'auto' && existsSync(spec.nginxPath));
    const fixed = this.fixedDir(t, spec);
    const dir = fixed ?? mkdtempSync(join(tmpdir(), `scalepilot-local-${t.service}-`));
    mkdirSync(dir, { recursive: true });
    const proxy: FrontProxy = useNginx
      ? new NginxProxy({ nginxPath: spec.nginxPath, dir: join(dir, 'nginx'), listen: spec.listen, service: t.service })
      : new BuiltinProxy({ listen: spec.listen });
    try {
      await proxy.start([]);
    } catch (e) {
      if (!fixed) rmSync(dir, { recursive: true, force: true });
      const msg = (e as { code?: string }).code === 'EADDRINUSE'
        ? `${spec.listen.host}:${spec.listen.port} is already in use; pick another services.${t.service}.target.listen`
        : (e as Error).message;
      throw new ProviderError(this.kind, `cannot start the ${proxy.kind} proxy for ${t.service}: ${msg}`, false, { cause: e });
    }
    this.proxies.add(proxy);
    const g: Group = {
      service: t.service, spec, dir, ownsDir: !fixed, proxy, desired: 0, replicas: new Map(),
      lock: Promise.resolve(), initial: Promise.resolve(), closed: false,
    };
    this.log(`${t.service}: ${proxy.kind} proxy on ${proxy.url}`);
    g.initial = this.locked(g, () => this.scaleTo(g, initial ?? spec.replicas, 0));
    g.initial.catch(() => {});
    return g;
  }

  private locked<T>(g: Group, fn: () => Promise<T>): Promise<T> {
    // Every change to the group runs under the lock; record the outcome for read-only observers either way.
    const run = () => fn().finally(() => this.persist(g));
    const next = g.lock.then(run, run);
    g.lock = next.catch(() => {});
    return next;
  }

  private async scaleTo(g: Group, n: number, drainMs: number): Promise<void> {
    g.desired = n;
    const all = [...g.replicas.values()];
    if (all.length < n) {
      const started: Replica[] = [];
      for (let i = 0; started.length < n - all.length; i++) {
        if (g.replicas.has(i)) continue;
        const r = newReplica(g, i);
        g.replicas.set(i, r);
        started.push(r);
      }
      const results = await Promise.all(started.map((r) => this.launch(g, r)));
      await this.syncProxy(g);
      const failed = started.filter((_, i) => !results[i]);
      if (failed.length) {
        throw new ProviderError(this.kind, `${g.service}: ${failed.map((r) => `${r.name} ${r.message ?? 'did not become ready'}`).join('; ')}`);
      }
      return;
    }
    if (all.length > n) {
      // Like a ReplicaSet: remove replicas that are not ready first, then the newest (highest index).
      const victims = all
        .sort((a, b) => Number(a.state === 'ready') - Number(b.state === 'ready') || b.index - a.index)
        .slice(0, all.length - n);
      for (const v of victims) {
        clearTimeout(v.restartTimer);
        v.state = 'draining';
        v.reason = 'Draining';
      }
      await this.syncProxy(g);
      await Promise.all(
        victims.map(async (v) => {
          const deadline = Date.now() + drainMs;
          const idle = await g.proxy.waitIdle(v.port, drainMs);
          if (idle && g.spec.inFlightMetric) await this.waitGaugeZero(g, v, deadline);
          if (!idle) this.log(`${g.service}: ${v.name} still had requests in flight after ${drainMs} ms; stopping it anyway`);
          await this.stop(g, v);
          g.replicas.delete(v.index);
        }),
      );
    }
  }

  /** Starts one replica and waits for its health check; false (and a scheduled restart) if it never got ready. */
  private async launch(g: Group, r: Replica): Promise<boolean> {
    const { spec } = g;
    r.state = 'starting';
    r.reason = 'ContainerCreating';
    r.message = undefined;
    r.readyTime = undefined;
    r.stopping = false;
    if (!(await portFree(r.port))) {
      return this.failed(g, r, 'PortInUse', `port ${r.port} is already in use by another program; pick another services.${g.service}.target.portBase`);
    }
    if (!r.log) {
      r.log = createWriteStream(join(g.dir, `${r.name}.log`), { flags: 'a' });
      // A log that cannot be written must not take the replica (or scalepilot) down.
      r.log.on('error', () => {});
    }
    let child: ChildProcess;
    try {
      child = spawn(spec.command[0]!, spec.command.slice(1), {
        cwd: resolvePath(this.options.baseDir ?? '.', spec.cwd ?? '.'),
        env: { ...process.env, ...spec.env, PORT: String(r.port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      return this.failed(g, r, 'StartError', `cannot start ${JSON.stringify(spec.command)}: ${(e as Error).message}`);
    }
    r.child = child;
    r.pid = child.pid;
    this.children.add(child);
    r.startTime = Date.now();
    const tail = (d: Buffer) => {
      r.log?.write(d);
      r.logTail.push(...d.toString().split('\n').filter(Boolean));
      if (r.logTail.length > 20) r.logTail.splice(0, r.logTail.length - 20);
    };
    child.stdout?.on('data', tail);
    child.stderr?.on('data', tail);
    let spawnError: Error | undefined;
    child.once('error', (e) => {
      spawnError = e;
    });
    // A command that cannot be executed has no pid; its 'error' event follows on the next tick.
    if (child.pid === undefined) await new Promise((r) => setImmediate(r));
    r.exited = new Promise((resolve) =>
      child.once('close', () => {
        this.children.delete(child);
        resolve();
      }),
    );
    child.once('exit', (code, signal) => this.exited(g, r, child, code, signal));

    const healthy = await this.waitHealthy(g, r, child);
    if (healthy) {
      r.state = 'ready';
      r.reason = undefined;
      r.readyTime = Date.now();
      return true;
    }
    if (spawnError || child.pid === undefined) {
      const hint = (spawnError as { code?: string }).code === 'ENOENT' ? `; check services.${g.service}.target.command` : '';
      return this.failed(g, r, 'StartError', `cannot start ${JSON.stringify(spec.command)}: ${spawnError?.message ?? 'no process'}${hint}`);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      return this.failed(g, r, 'CrashLoopBackOff', `exited with ${child.exitCode ?? child.signalCode} before it was ready${this.tailText(r)}`);
    }
    r.stopping = true;
    await this.kill(g, r);
    return this.failed(g, r, 'Unhealthy', `GET ${spec.healthPath} on port ${r.port} did not answer 200 within ${spec.healthTimeoutMs} ms${this.tailText(r)}`);
  }

  private async waitHealthy(g: Group, r: Replica, child: ChildProcess): Promise<boolean> {
    const deadline = Date.now() + g.spec.healthTimeoutMs;
    while (Date.now() < deadline && !g.closed) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return false;
      try {
        const res = await undici().request(`http://127.0.0.1:${r.port}${g.spec.healthPath}`, {
          headersTimeout: 1000,
          bodyTimeout: 1000,
          reset: true,
        });
        await res.body.dump();
        if (res.statusCode === 200) return child.exitCode === null;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    return false;
  }

  /** Records a failed start and schedules a restart with exponential back-off. */
  private failed(g: Group, r: Replica, reason: string, message: string): false {
    r.state = 'crashed';
    r.reason = reason;
    r.message = message;
    r.failures++;
    this.log(`${g.service}: ${r.name} ${message}`);
    this.persist(g);
    this.scheduleRestart(g, r);
    return false;
  }

  private scheduleRestart(g: Group, r: Replica): void {
    if (g.closed) return;
    const delay = Math.min(g.spec.maxRestartBackoffMs, g.spec.restartBackoffMs * 2 ** Math.max(0, r.failures - 1));
    clearTimeout(r.restartTimer);
    r.restartTimer = setTimeout(() => {
      void this.locked(g, async () => {
        if (g.closed || g.replicas.get(r.index) !== r || r.state !== 'crashed') return;
        r.restarts++;
        if (await this.launch(g, r)) await this.syncProxy(g);
      }).catch((e) => this.log(`${g.service}: restarting ${r.name} failed: ${(e as Error).message}`));
    }, delay);
    r.restartTimer.unref();
  }

  /** A replica process ended: expected while stopping, a crash otherwise. */
  private exited(g: Group, r: Replica, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (r.child !== child || r.stopping || g.closed) return;
    if (r.state === 'starting') return; // launch() sees the exit and reports it
    if (r.state !== 'ready') return;
    // A replica that stayed up a minute earned a fresh back-off.
    if (r.readyTime && Date.now() - r.readyTime > 60_000) r.failures = 0;
    this.failed(g, r, 'CrashLoopBackOff', `exited unexpectedly with ${code ?? signal}${this.tailText(r)}`);
    void this.locked(g, () => this.syncProxy(g)).catch((e) => this.log(`${g.service}: proxy update after crash failed: ${(e as Error).message}`));
  }

  /** Puts exactly the ready replicas in the proxy. */
  private async syncProxy(g: Group): Promise<void> {
    if (g.closed) return;
    const ready = [...g.replicas.values()].filter((r) => r.state === 'ready').sort((a, b) => a.index - b.index);
    const changed = [...g.replicas.values()].some((r) => r.inUpstream !== (r.state === 'ready'));
    if (!changed) return;
    const ups: Upstream[] = ready.map((r) => ({ name: r.name, port: r.port }));
    await g.proxy.setUpstreams(ups);
    for (const r of g.replicas.values()) r.inUpstream = r.state === 'ready';
  }

  private async waitGaugeZero(g: Group, r: Replica, deadline: number): Promise<void> {
    const metric = g.spec.inFlightMetric!;
    while (Date.now() < deadline) {
      try {
        const res = await undici().request(`http://127.0.0.1:${r.port}${g.spec.metricsPath}`, { headersTimeout: 1000, bodyTimeout: 1000, reset: true });
        const text = await res.body.text();
        const value = gaugeValue(text, metric);
        if (value === undefined || value <= 0) return;
      } catch {
        return; // not answering: nothing more to wait for
      }
      await sleep(50);
    }
  }

  /** Stops a replica: SIGTERM, then SIGKILL after the grace period. */
  private async stop(g: Group, r: Replica): Promise<void> {
    clearTimeout(r.restartTimer);
    r.stopping = true;
    await this.kill(g, r);
    r.log?.end();
    r.log = undefined;
  }

  private async kill(g: Group, r: Replica): Promise<void> {
    const child = r.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const done = await Promise.race([r.exited!.then(() => true), sleep(g.spec.stopGracePeriodMs).then(() => false)]);
    if (!done) {
      this.log(`${g.service}: ${r.name} did not exit within ${g.spec.stopGracePeriodMs} ms of SIGTERM; sending SIGKILL`);
      child.kill('SIGKILL');
      await r.exited;
    }
  }

  private tailText(r: Replica): string {
    return r.logTail.length ? `; last output: ${r.logTail.slice(-3).join(' | ')}` : '';
  }

  private log(msg: string): void {
    this.options.log?.(msg);
  }
}

function newReplica(g: Group, index: number): Replica {
  return {
    index,
    name: `${g.service}-${index}`,
    port: g.spec.portBase + index,
    state: 'starting',
    restarts: 0,
    failures: 0,
    stopping: false,
    inUpstream: false,
    logTail: [],
  };
}

function podState(g: Group, r: Replica): PodState {
  const phase: PodState['phase'] = r.state === 'starting' ? 'Pending' : r.state === 'crashed' ? 'Failed' : 'Running';
  const inFlight = g.proxy.inFlight(r.port);
  return {
    name: r.name,
    phase,
    ready: r.state === 'ready',
    ...(r.startTime !== undefined ? { startTime: r.startTime } : {}),
    ...(r.readyTime !== undefined ? { readyTransitionTime: r.readyTime } : {}),
    ...(r.state === 'draining' ? { deleted: true } : {}),
    endpoint: `http://127.0.0.1:${r.port}`,
    ...(r.pid !== undefined && r.state !== 'crashed' ? { pid: r.pid } : {}),
    restarts: r.restarts,
    ...(r.reason ? { reason: r.reason } : {}),
    ...(inFlight !== undefined ? { inFlight } : {}),
  };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Sum of a gauge's samples in Prometheus text format; undefined when the replica does not export it. */
export function gaugeValue(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) sum = (sum ?? 0) + v;
  }
  return sum;
}
