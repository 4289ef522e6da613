// The local provider: N replicas of a command, each on its own loopback port, behind a front proxy (nginx when
// installed, else the built-in one). New replicas join the proxy only after their health check passes; removed ones
// are drained (out of the proxy, in-flight requests finished) before SIGTERM, and SIGKILL only after a grace period.
// Crashed replicas are reported and restarted with back-off, the way a ReplicaSet keeps its count.
//
// Replicas run in process groups of their own and write straight to their log files, so they outlive a scalepilot
// that is killed (Node has no PR_SET_PDEATHSIG). Their pid, /proc start time and port are recorded in
// <stateDir>/<service>/state.json (written atomically) as soon as they start; the next scalepilot on that state dir
// adopts each one that is the same process and answers its health check, stops the ones that are not healthy or run
// an older spec, and stops the nginx front the dead one left behind before starting its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { undici } from '../lazy.js';
import { ProviderError, type PodState, type Provider, type ProviderEvent, type Resources, type ScaleOptions, type TargetRef, type TargetState } from './types.js';
import { durationMs, oneOf, optInt, optString, ProviderSpecError, rejectUnknown, reqString, specObject, stringArray, stringMap, requireReplicaCount } from './spec.js';
import { parseListen, type FrontProxy, type ListenAddress, type Upstream } from './local/front.js';
import { BuiltinProxy } from './local/proxy.js';
import { NginxProxy, stopStrayNginx } from './local/nginx.js';
import { groupMembers, processAlive, procStartTime, sameProcess, signalGroup, sleep, waitGroupGone } from './local/proc.js';
import { writeDurably } from '../durable-file.js';
import { makeDirs } from '../make-dirs.js';
import { readFileTail, readStreamBounded } from '../bounded-read.js';
import { probeStatus } from './local/probe.js';

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
  const restartBackoffMs = durationMs(o, 'restartBackoff', path, '1s', { min: 100, max: 3_600_000 });
  const maxRestartBackoffMs = durationMs(o, 'maxRestartBackoff', path, '30s', { min: 100, max: 3_600_000 });
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
    healthTimeoutMs: durationMs(o, 'healthTimeout', path, '10s', { min: 100, max: 3_600_000 }),
    stopGracePeriodMs: durationMs(o, 'stopGracePeriod', path, '10s', { max: 3_600_000 }),
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
  /** /proc start time of pid, so a reused pid is never taken for this replica */
  procStart?: number;
  /** started by an earlier scalepilot and adopted: no child handle, its exit is noticed by polling */
  adopted?: boolean;
  startTime?: number;
  readyTime?: number;
  restarts: number;
  /** consecutive failed starts, for back-off */
  failures: number;
  restartTimer?: NodeJS.Timeout;
  reason?: string;
  message?: string;
  exited?: Promise<void>;
  /** why the current process could not be executed (its 'error' event), if it could not */
  spawnError?: Error;
  /** set while scalepilot itself stops the process, so its exit is not a crash */
  stopping: boolean;
  inUpstream: boolean;
  /** size of the log file when the current process started, so failures quote only its own output */
  logOffset: number;
}

/** The replica runs another process than `child` now, or a scale-down removed it from the group. */
function replaced(g: Group, r: Replica, child: ChildProcess): boolean {
  return r.child !== child || g.replicas.get(r.index) !== r;
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
  /** why the front does not serve, while it does not */
  frontProblem?: string;
  /** why state.json could not be written the last time it was tried, until it can */
  stateError?: string;
  specHash: string;
}

export interface LocalOptions {
  /** where groups without a stateDir keep their files (default: a new temp dir per group) */
  stateDir?: string;
  /** directory relative paths in the spec (cwd, stateDir) are resolved against: the config file's directory */
  baseDir?: string;
  log?: (msg: string) => void;
  /** every event (replica crashed, front restarted, ...), for logging and counting */
  onEvent?: (e: ProviderEvent) => void;
  /**
   * Never start or stop anything: observe() reads the state file that the scalepilot process owning the replicas
   * keeps in the state dir (for dry runs, reports and rollbacks run from another command).
   */
  readOnly?: boolean;
}

/** What an owning process records in <state dir>/state.json so other scalepilot commands can observe its replicas. */
interface StateFile {
  service: string;
  /** the scalepilot process that owns the replicas, and its /proc start time */
  ownerPid: number;
  ownerStart?: number;
  /** pgid: the nginx front's process group, for cleaning up after an owner that died */
  proxy: { kind: string; url: string; pgid?: number };
  desired: number;
  updatedAt: number;
  /** hash of the spec fields that shape a replica process (command, cwd, env, portBase) */
  specHash?: string;
  /** what a restarted owner needs to adopt each replica process */
  processes?: Array<{ index: number; port: number; pid: number; procStart?: number; startTime?: number; restarts: number }>;
  pods: PodState[];
}

export class LocalProvider implements Provider {
  readonly kind = 'local';
  private readonly groups = new Map<string, Promise<Group>>();
  /** process group of every live replica (started or adopted), so an exiting scalepilot can take them down synchronously */
  private readonly running = new Set<number>();
  private readonly proxies = new Set<FrontProxy>();
  private readonly onExit = () => {
    for (const pgid of this.running) signalGroup(pgid, 'SIGKILL');
    for (const p of this.proxies) p.killNow?.();
  };
  private static readonly ownerStart = procStartTime(process.pid);

  constructor(private readonly options: LocalOptions = {}) {
    process.once('exit', this.onExit);
  }

  get ownsWorkloads(): boolean {
    return !this.options.readOnly;
  }

  async observe(t: TargetRef): Promise<TargetState> {
    if (this.options.readOnly) return this.observeStateFile(t);
    const { g } = await this.group(t);
    // A failed first start shows up as Failed pods with a reason; observe reports state, it does not throw for it.
    await g.initial.catch(() => {});
    // every sync checks the front and the adopted replicas, which have no exit event
    await this.locked(g, () => this.supervise(g));
    const pods: PodState[] = [...g.replicas.values()].sort((a, b) => a.index - b.index).map((r) => podState(g, r));
    return {
      replicas: g.desired,
      readyReplicas: pods.filter((p) => p.ready && !p.deleted).length,
      pods,
      ...(g.frontProblem || g.stateError
        ? { degraded: [...(g.frontProblem ? [`front proxy: ${g.frontProblem}`] : []), ...(g.stateError ? [`state: ${g.stateError}; no replica is started until it can be`] : [])] }
        : {}),
    };
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
    await this.scaleGroup(g, replicas, o.drainMs);
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

  /**
   * Records the group in state.json for the next run and for read-only observers (written, fsynced, renamed); false
   * when it cannot be written (a state-write-failed event when that starts, state-write-recovered when it ends).
   */
  private persist(g: Group): boolean {
    if (g.closed) return true;
    const reps = [...g.replicas.values()].sort((a, b) => a.index - b.index);
    const st: StateFile = {
      service: g.service,
      ownerPid: process.pid,
      ...(LocalProvider.ownerStart !== undefined ? { ownerStart: LocalProvider.ownerStart } : {}),
      proxy: { kind: g.proxy.kind, url: g.proxy.url, ...(g.proxy.pgid ? { pgid: g.proxy.pgid } : {}) },
      desired: g.desired,
      updatedAt: Date.now(),
      specHash: g.specHash,
      processes: reps
        .filter((r) => r.pid !== undefined && r.state !== 'crashed')
        .map((r) => ({ index: r.index, port: r.port, pid: r.pid!, ...(r.procStart !== undefined ? { procStart: r.procStart } : {}), ...(r.startTime !== undefined ? { startTime: r.startTime } : {}), restarts: r.restarts })),
      pods: reps.map((r) => podState(g, r)),
    };
    const file = join(g.dir, 'state.json');
    try {
      // write, fsync, rename: a crash leaves the old file or the new one, never half of one
      writeDurably(`${file}.tmp`, JSON.stringify(st, null, 2), 'w');
      renameSync(`${file}.tmp`, file);
      if (g.stateError !== undefined) this.event(g.service, 'state-write-recovered', 'info', `replicas are recorded in ${file} again`);
      g.stateError = undefined;
      return true;
    } catch (e) {
      if (g.stateError === undefined) {
        this.event(g.service, 'state-write-failed', 'error', `cannot record state in ${file}: ${(e as Error).message}; a restarted scalepilot may not find these replicas, and none is started until it can be`);
      }
      g.stateError = `cannot record replicas in ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
      try {
        rmSync(`${file}.tmp`, { force: true });
      } catch {
        // what is left of it is replaced by the next write
      }
      return false;
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
    makeDirs(dir);
    const g: Group = {
      service: t.service, spec, dir, ownsDir: !fixed, proxy: undefined as unknown as FrontProxy, desired: 0, replicas: new Map(),
      lock: Promise.resolve(), initial: Promise.resolve(), closed: false, specHash: specHash(spec),
    };
    const prev = fixed ? await this.recover(g) : undefined;
    const proxy: FrontProxy = useNginx
      ? new NginxProxy({
          nginxPath: spec.nginxPath, dir: join(dir, 'nginx'), listen: spec.listen, service: t.service,
          // a dead master is restarted at once rather than at the next sync
          onExit: (how) => {
            if (g.closed) return;
            this.event(g.service, 'front-exited', 'error', `${how}; restarting it`);
            void this.locked(g, () => this.supervise(g)).catch(() => {});
          },
        })
      : new BuiltinProxy({ listen: spec.listen });
    g.proxy = proxy;
    const adopted = readyUpstreams(g);
    try {
      await proxy.start(adopted);
    } catch (e) {
      // adopted replicas stay running and recorded in state.json for the next attempt to adopt again
      g.closed = true;
      for (const r of g.replicas.values()) if (r.pid !== undefined) this.running.delete(r.pid);
      await proxy.close().catch(() => {});
      if (!fixed) rmSync(dir, { recursive: true, force: true });
      const msg = (e as { code?: string }).code === 'EADDRINUSE'
        ? `${spec.listen.host}:${spec.listen.port} is already in use; pick another services.${t.service}.target.listen`
        : (e as Error).message;
      throw new ProviderError(this.kind, `cannot start the ${proxy.kind} proxy for ${t.service}: ${msg}`, false, { cause: e });
    }
    for (const r of g.replicas.values()) r.inUpstream = r.state === 'ready';
    this.proxies.add(proxy);
    this.event(t.service, 'front-started', 'info', `${proxy.kind} proxy on ${proxy.url}${adopted.length ? ` serving ${adopted.length} adopted replica(s)` : ''}`);
    g.initial = this.scaleGroup(g, initial ?? prev?.desired ?? spec.replicas, 0);
    g.initial.catch(() => {});
    return g;
  }

  /**
   * Takes over what a scalepilot that died (kill -9, OOM, power loss of the process) left in the state dir: its nginx
   * is stopped, its replicas adopted when they are the recorded process (pid + /proc start time), run the current spec
   * and answer their health check, and stopped otherwise. A pid now used by another program is left alone.
   */
  private async recover(g: Group): Promise<StateFile | undefined> {
    const file = join(g.dir, 'state.json');
    if (!existsSync(file)) {
      // a front from a run that never wrote its state (killed during its first start)
      const n = await stopStrayNginx(join(g.dir, 'nginx'));
      if (n) this.event(g.service, 'stray-front-stopped', 'warn', `stopped ${n} nginx process(es) left running in ${g.dir}`);
      return undefined;
    }
    let prev: StateFile;
    try {
      prev = JSON.parse(readFileSync(file, 'utf8')) as StateFile;
    } catch (e) {
      this.event(g.service, 'state-unreadable', 'error', `cannot read ${file} (${(e as Error).message}); replicas it recorded cannot be adopted`);
      return undefined;
    }
    const ownerAlive = prev.ownerStart !== undefined ? sameProcess(prev.ownerPid, prev.ownerStart) : prev.ownerPid !== process.pid && processAlive(prev.ownerPid);
    if (ownerAlive) {
      throw new ProviderError(
        this.kind,
        `${g.service}'s replicas in ${g.dir} belong to scalepilot pid ${prev.ownerPid}, which is still running; stop it first, or give this run another --state-dir`,
        false,
      );
    }
    const strays = await stopStrayNginx(join(g.dir, 'nginx'), prev.proxy?.pgid);
    if (strays) this.event(g.service, 'stray-front-stopped', 'warn', `stopped ${strays} nginx process(es) the previous scalepilot (pid ${prev.ownerPid}) left running`);
    const maxIndex = 1000;
    await Promise.all(
      (prev.processes ?? []).map(async (rec) => {
        const name = `${g.service}-${rec.index}`;
        if (!processAlive(rec.pid)) return;
        if (!sameProcess(rec.pid, rec.procStart)) {
          this.event(g.service, 'pid-reused', 'info', `pid ${rec.pid} recorded for ${name} now belongs to another program; left alone`);
          return;
        }
        const current = prev.specHash === g.specHash && rec.port === g.spec.portBase + rec.index && rec.index < maxIndex && !g.replicas.has(rec.index);
        if (current && (await healthy(rec.port, g.spec.healthPath, 2000))) {
          const r = newReplica(g, rec.index);
          Object.assign(r, { state: 'ready', adopted: true, pid: rec.pid, procStart: rec.procStart, startTime: rec.startTime, readyTime: Date.now(), restarts: rec.restarts, logOffset: logSize(g, r) });
          g.replicas.set(rec.index, r);
          this.running.add(rec.pid);
          this.event(g.service, 'replica-adopted', 'info', `adopted ${name} (pid ${rec.pid}, port ${rec.port}) from the previous scalepilot (pid ${prev.ownerPid})`);
          return;
        }
        const why = current ? `did not answer GET ${g.spec.healthPath} on port ${rec.port}` : 'runs an older target spec';
        await stopProcessGroup(rec.pid, rec.procStart, g.spec.stopGracePeriodMs);
        this.event(g.service, 'stale-replica-stopped', 'warn', `stopped ${name} (pid ${rec.pid}) left by the previous scalepilot: it ${why}`);
      }),
    );
    return prev;
  }

  private locked<T>(g: Group, fn: () => Promise<T>): Promise<T> {
    // Every change to the group runs under the lock; record the outcome for read-only observers either way.
    const run = () => fn().finally(() => this.persist(g));
    const next = g.lock.then(run, run);
    g.lock = next.catch(() => {});
    return next;
  }

  /**
   * Scales the group. Processes are started and stopped under the group's lock; the new replicas' health checks are
   * waited for outside it, so a sync, a scale-down or a rollback is not held up by replicas that are slow to get
   * ready or never do. Each new replica joins the proxy as soon as it answers. Resolves once every replica this call
   * started is ready or was removed meanwhile by a later scale-down; throws naming the ones that never got ready.
   */
  private async scaleGroup(g: Group, n: number, drainMs: number): Promise<void> {
    const started = await this.locked(g, () => this.scaleTo(g, n, drainMs));
    const outcomes = await Promise.all(
      started.map(async ({ r, child }) => {
        const ready = child !== false && (await this.awaitReady(g, r, child));
        if (ready) await this.locked(g, () => this.syncProxy(g));
        // removed meanwhile (a later scale-down, close): superseded, not failed
        const gone = g.closed || r.state === 'draining' || g.replicas.get(r.index) !== r;
        return ready || gone ? undefined : `${r.name} ${r.message ?? 'did not become ready'}`;
      }),
    );
    const failed = outcomes.filter((m): m is string => m !== undefined);
    if (failed.length) throw new ProviderError(this.kind, `${g.service}: ${failed.join('; ')}`);
  }

  /** Sets the group's size under its lock: returns the replicas it started (their processes, not yet ready). */
  private async scaleTo(g: Group, n: number, drainMs: number): Promise<Array<{ r: Replica; child: ChildProcess | false }>> {
    const all = [...g.replicas.values()];
    // No replica it cannot record: one started while state.json cannot be written (a full disk) is a process a
    // restarted scalepilot would neither adopt nor stop. The state is written before any is started; scale-downs
    // go ahead.
    if (all.length < n && !this.persist(g)) {
      throw new ProviderError(this.kind, `${g.service}: ${g.stateError}: not starting replicas a restarted scalepilot could not find or stop; free space there and the next sync starts them`);
    }
    g.desired = n;
    if (all.length < n) {
      const started: Replica[] = [];
      for (let i = 0; started.length < n - all.length; i++) {
        if (g.replicas.has(i)) continue;
        const r = newReplica(g, i);
        g.replicas.set(i, r);
        started.push(r);
      }
      const children = await Promise.all(started.map((r) => this.spawnReplica(g, r)));
      return started.map((r, i) => ({ r, child: children[i]! }));
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
          if (!idle) this.event(g.service, 'drain-timeout', 'warn', `${v.name} still had requests in flight after ${drainMs} ms; stopping it anyway`);
          await this.stop(g, v);
          g.replicas.delete(v.index);
          this.event(g.service, 'replica-stopped', 'info', `stopped ${v.name} (scaled to ${n})`);
        }),
      );
    }
    return [];
  }

  /** Starts one replica's process; false (and a scheduled restart) if it could not be started. */
  private async spawnReplica(g: Group, r: Replica): Promise<ChildProcess | false> {
    const { spec } = g;
    r.state = 'starting';
    r.reason = 'ContainerCreating';
    r.message = undefined;
    r.readyTime = undefined;
    r.stopping = false;
    r.adopted = false;
    r.pid = undefined;
    r.procStart = undefined;
    if (!(await portFree(r.port))) {
      return this.failed(g, r, 'PortInUse', `port ${r.port} is already in use by another program; pick another services.${g.service}.target.portBase`);
    }
    // The replica writes to its log file itself: a pipe to scalepilot would break (EPIPE) when scalepilot dies.
    const logPath = join(g.dir, `${r.name}.log`);
    let out: number | 'ignore' = 'ignore';
    try {
      out = openSync(logPath, 'a');
    } catch (e) {
      this.event(g.service, 'replica-log-unwritable', 'warn', `cannot open ${logPath} (${(e as Error).message}); ${r.name}'s output is discarded`);
    }
    r.logOffset = logSize(g, r);
    let child: ChildProcess;
    try {
      child = spawn(spec.command[0]!, spec.command.slice(1), {
        cwd: resolvePath(this.options.baseDir ?? '.', spec.cwd ?? '.'),
        env: { ...process.env, ...spec.env, PORT: String(r.port) },
        stdio: ['ignore', out, out],
        // its own process group: stopped as a whole, and not hit by a terminal's ^C meant for scalepilot
        detached: true,
      });
    } catch (e) {
      return this.failed(g, r, 'StartError', `cannot start ${JSON.stringify(spec.command)}: ${(e as Error).message}`);
    } finally {
      if (typeof out === 'number') closeSync(out);
    }
    r.child = child;
    r.pid = child.pid;
    r.startTime = Date.now();
    r.spawnError = undefined;
    child.once('error', (e) => {
      if (r.child === child) r.spawnError = e;
    });
    // A command that cannot be executed has no pid; its 'error' event follows on the next tick.
    if (child.pid === undefined) await new Promise((r) => setImmediate(r));
    if (child.pid !== undefined) {
      const pid = child.pid;
      r.procStart = procStartTime(pid);
      this.running.add(pid);
      child.once('exit', () => this.running.delete(pid));
      // recorded before it is ready, so a scalepilot killed right now still leaves its pid for the next one
      this.persist(g);
    }
    r.exited = new Promise((resolve) => child.once('close', () => resolve()));
    child.once('exit', (code, signal) => this.exited(g, r, child, code, signal));
    return child;
  }

  /**
   * Waits for a started replica's health check: true once it answers, false (and a scheduled restart) if it never
   * does. A replica a scale-down removed meanwhile, or one whose group is closing, ends the wait quietly: it is no
   * failure, and it is not restarted.
   */
  private async awaitReady(g: Group, r: Replica, child: ChildProcess): Promise<boolean> {
    const { spec } = g;
    const healthy = await this.waitHealthy(g, r, child);
    // close() stops it with the rest of the group
    if (g.closed || r.stopping || replaced(g, r, child)) return false;
    const spawnError = r.spawnError;
    if (healthy) {
      r.state = 'ready';
      r.reason = undefined;
      r.readyTime = Date.now();
      this.event(g.service, 'replica-started', 'info', `${r.name} (pid ${r.pid}) is ready on port ${r.port}${r.restarts ? ` after ${r.restarts} restart(s)` : ''}`);
      return true;
    }
    if (spawnError || child.pid === undefined) {
      const hint = (spawnError as { code?: string } | undefined)?.code === 'ENOENT' ? `; check services.${g.service}.target.command` : '';
      return this.failed(g, r, 'StartError', `cannot start ${JSON.stringify(spec.command)}: ${spawnError?.message ?? 'no process'}${hint}`);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      return this.failed(g, r, 'CrashLoopBackOff', `exited with ${child.exitCode ?? child.signalCode} before it was ready${this.tailText(g, r)}`);
    }
    r.stopping = true;
    await this.kill(g, r);
    if (r.state !== 'starting' || replaced(g, r, child)) return false;
    return this.failed(g, r, 'Unhealthy', `GET ${spec.healthPath} on port ${r.port} did not answer 200 within ${spec.healthTimeoutMs} ms${this.tailText(g, r)}`);
  }

  private async waitHealthy(g: Group, r: Replica, child: ChildProcess): Promise<boolean> {
    const deadline = Date.now() + g.spec.healthTimeoutMs;
    while (Date.now() < deadline && !g.closed && !r.stopping && !replaced(g, r, child)) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return false;
      const status = await probeStatus(r.port, g.spec.healthPath, { timeoutMs: Math.max(1, Math.min(2000, deadline - Date.now())), idleMs: 1000, reset: true });
      if (status === 200) return child.exitCode === null;
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
    const kind = reason === 'CrashLoopBackOff' && r.readyTime !== undefined ? 'replica-crashed' : reason === 'Unhealthy' ? 'replica-unhealthy' : 'replica-start-failed';
    this.event(g.service, kind, 'error', `${r.name} ${message} (${reason}; restarting with back-off)`);
    this.persist(g);
    this.scheduleRestart(g, r);
    return false;
  }

  private scheduleRestart(g: Group, r: Replica): void {
    if (g.closed) return;
    const delay = Math.min(g.spec.maxRestartBackoffMs, g.spec.restartBackoffMs * 2 ** Math.max(0, r.failures - 1));
    clearTimeout(r.restartTimer);
    r.restartTimer = setTimeout(() => {
      // The process starts under the group's lock; its health check is waited for outside it, so a scale-down (a
      // rollback of a release whose replicas never get healthy) is not held up by the restart of a broken replica,
      // and removes it instead.
      void this.locked(g, async () => {
        if (g.closed || g.replicas.get(r.index) !== r || r.state !== 'crashed') return false;
        // as for a scale-up: not while the new process could not be recorded; tried again after the same back-off
        if (!this.persist(g)) {
          r.message = `not restarted: ${g.stateError}`;
          this.scheduleRestart(g, r);
          return false;
        }
        r.restarts++;
        return this.spawnReplica(g, r);
      })
        .then(async (child) => {
          if (child && (await this.awaitReady(g, r, child))) await this.locked(g, () => this.syncProxy(g));
        })
        .catch((e) => this.event(g.service, 'replica-restart-failed', 'error', `restarting ${r.name} failed: ${(e as Error).message}`));
    }, delay);
    r.restartTimer.unref();
  }

  /** A replica process ended: expected while stopping, a crash otherwise. */
  private exited(g: Group, r: Replica, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (r.child !== child || r.stopping || g.closed) return;
    if (r.state === 'starting') return; // awaitReady() sees the exit and reports it
    if (r.state !== 'ready') return;
    // A replica that stayed up a minute earned a fresh back-off.
    if (r.readyTime && Date.now() - r.readyTime > 60_000) r.failures = 0;
    this.failed(g, r, 'CrashLoopBackOff', `exited unexpectedly with ${code ?? signal}${this.tailText(g, r)}`);
    void this.locked(g, () => this.syncProxy(g)).catch((e) => this.event(g.service, 'front-update-failed', 'error', `proxy update after a crash failed: ${(e as Error).message}`));
  }

  /** Checks what has no exit event: adopted replicas (polled against /proc) and the front (restarted when down). */
  private async supervise(g: Group): Promise<void> {
    if (g.closed) return;
    let lost = false;
    for (const r of g.replicas.values()) {
      if (!r.adopted || r.state !== 'ready' || r.pid === undefined || sameProcess(r.pid, r.procStart)) continue;
      this.running.delete(r.pid);
      if (r.readyTime && Date.now() - r.readyTime > 60_000) r.failures = 0;
      this.failed(g, r, 'CrashLoopBackOff', `(adopted, pid ${r.pid}) exited unexpectedly${this.tailText(g, r)}`);
      lost = true;
    }
    const problem = await g.proxy.problem();
    if (!problem) {
      if (g.frontProblem) this.event(g.service, 'front-recovered', 'info', `${g.proxy.kind} front on ${g.proxy.url} serves again`);
      g.frontProblem = undefined;
      if (lost) await this.syncProxy(g).catch((e) => this.event(g.service, 'front-update-failed', 'error', `proxy update failed: ${(e as Error).message}`));
      return;
    }
    if (!g.frontProblem) this.event(g.service, 'front-down', 'error', `${g.proxy.kind} front on ${g.proxy.url} is down: ${problem}; restarting it`);
    const ups = readyUpstreams(g);
    try {
      await g.proxy.restart(ups);
      for (const r of g.replicas.values()) r.inUpstream = r.state === 'ready';
      g.frontProblem = undefined;
      this.event(g.service, 'front-restarted', 'warn', `restarted the ${g.proxy.kind} front on ${g.proxy.url} with ${ups.length} ready replica(s)`);
    } catch (e) {
      g.frontProblem = `${problem}; restart failed: ${(e as Error).message}`;
      this.event(g.service, 'front-restart-failed', 'error', `cannot restart the ${g.proxy.kind} front on ${g.proxy.url}: ${(e as Error).message}; the service is degraded, retrying every sync`);
    }
  }

  /** Puts exactly the ready replicas in the proxy. */
  private async syncProxy(g: Group): Promise<void> {
    if (g.closed) return;
    const ready = [...g.replicas.values()].filter((r) => r.state === 'ready').sort((a, b) => a.index - b.index);
    const changed = [...g.replicas.values()].some((r) => r.inUpstream !== (r.state === 'ready'));
    if (!changed) return;
    const ups: Upstream[] = ready.map((r) => ({ name: r.name, port: r.port }));
    await g.proxy.setUpstreams(ups);
    // marked from what was written: a replica that got ready while the proxy reloaded is added by its own sync
    const written = new Set(ready);
    for (const r of g.replicas.values()) r.inUpstream = written.has(r);
  }

  private async waitGaugeZero(g: Group, r: Replica, deadline: number): Promise<void> {
    const metric = g.spec.inFlightMetric!;
    while (Date.now() < deadline) {
      try {
        const signal = AbortSignal.timeout(Math.max(1, Math.min(2000, deadline - Date.now())));
        const res = await undici().request(`http://127.0.0.1:${r.port}${g.spec.metricsPath}`, { headersTimeout: 1000, bodyTimeout: 1000, reset: true, signal });
        const text = await readStreamBounded(res.body, MAX_METRICS_BYTES, `${r.name} ${g.spec.metricsPath}`);
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
  }

  /** SIGTERM to the replica's process group, SIGKILL after the grace period; anything left in the group goes too. */
  private async kill(g: Group, r: Replica): Promise<void> {
    const pid = r.pid;
    if (pid === undefined) return;
    const child = r.child;
    if (r.adopted || !child) {
      if (await stopProcessGroup(pid, r.procStart, g.spec.stopGracePeriodMs)) {
        this.event(g.service, 'replica-killed', 'warn', `${r.name} did not exit within ${g.spec.stopGracePeriodMs} ms of SIGTERM; sent SIGKILL`);
      }
      this.running.delete(pid);
      return;
    }
    if (child.exitCode === null && child.signalCode === null) {
      if (!signalGroup(pid, 'SIGTERM')) child.kill('SIGTERM');
      const done = await Promise.race([r.exited!.then(() => true), sleep(g.spec.stopGracePeriodMs).then(() => false)]);
      if (!done) {
        this.event(g.service, 'replica-killed', 'warn', `${r.name} did not exit within ${g.spec.stopGracePeriodMs} ms of SIGTERM; sent SIGKILL`);
        if (!signalGroup(pid, 'SIGKILL')) child.kill('SIGKILL');
        await r.exited;
      }
    }
    // children the replica started and left behind would hold its port
    if (groupMembers(pid).length) {
      signalGroup(pid, 'SIGKILL');
      await waitGroupGone(pid, 5000);
    }
  }

  private tailText(g: Group, r: Replica): string {
    const lines = readTail(join(g.dir, `${r.name}.log`), r.logOffset);
    return lines.length ? `; last output: ${lines.slice(-3).join(' | ')}` : '';
  }

  private event(service: string, kind: string, level: ProviderEvent['level'], message: string): void {
    this.options.onEvent?.({ service, kind, level, message });
    this.options.log?.(`${service}: ${message}`);
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
    logOffset: 0,
  };
}

function readyUpstreams(g: Group): Upstream[] {
  return [...g.replicas.values()].filter((r) => r.state === 'ready').sort((a, b) => a.index - b.index).map((r) => ({ name: r.name, port: r.port }));
}

/** What shapes a replica process; replicas recorded under another hash are not adopted. */
function specHash(s: LocalSpec): string {
  return createHash('sha256').update(JSON.stringify([s.command, s.cwd ?? null, s.env, s.portBase])).digest('hex').slice(0, 16);
}

function logSize(g: Group, r: Replica): number {
  try {
    return statSync(join(g.dir, `${r.name}.log`)).size;
  } catch {
    return 0;
  }
}

/** The last lines a replica wrote since offset (at most 4 KiB of them). */
function readTail(file: string, offset: number): string[] {
  try {
    return readFileTail(file, 4096, offset).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** The most of a replica's metrics page read while it drains (a page past it is not a gauge worth waiting on). */
const MAX_METRICS_BYTES = 4 * 1024 * 1024;

/** GET healthPath on a loopback port answers 200 within timeoutMs (the whole exchange, not only each wait for bytes). */
async function healthy(port: number, path: string, timeoutMs: number): Promise<boolean> {
  return (await probeStatus(port, path, { timeoutMs, reset: true })) === 200;
}

/**
 * Stops a process that is not our child, with its process group, if it still is the recorded process: SIGTERM, then
 * SIGKILL after graceMs. True when SIGKILL was needed.
 */
async function stopProcessGroup(pid: number, procStart: number | undefined, graceMs: number): Promise<boolean> {
  if (!sameProcess(pid, procStart)) return false;
  // the replica leads its group when it was started detached; signal only the pid otherwise
  const leads = groupMembers(pid).includes(pid);
  const signal = (sig: NodeJS.Signals) => (leads ? signalGroup(pid, sig) : (() => { try { process.kill(pid, sig); } catch { /* gone */ } })());
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (sameProcess(pid, procStart) && Date.now() < deadline) await sleep(25);
  let killed = false;
  if (sameProcess(pid, procStart)) {
    signal('SIGKILL');
    killed = true;
  }
  if (leads) {
    if (groupMembers(pid).length) signalGroup(pid, 'SIGKILL');
    await waitGroupGone(pid, 5000);
  } else {
    while (sameProcess(pid, procStart) && Date.now() < deadline + 5000) await sleep(25);
  }
  return killed;
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

/** Replicas and a front that a dead scalepilot left running for a service the config no longer has. */
export interface LeftoverService {
  service: string;
  dir: string;
  pids: number[];
}

/**
 * Services under a provider state dir (<stateDir>/local) that are not in the config but whose state file records
 * processes still running after their owner died. With stop, those processes and the service's nginx are stopped
 * and the state file removed.
 */
export async function leftoverServices(localDir: string, known: ReadonlySet<string>, o: { stop: boolean; graceMs?: number }): Promise<LeftoverService[]> {
  let names: string[];
  try {
    names = readdirSync(localDir);
  } catch {
    return [];
  }
  const out: LeftoverService[] = [];
  for (const service of names) {
    if (known.has(service)) continue;
    const dir = join(localDir, service);
    let st: StateFile;
    try {
      st = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as StateFile;
    } catch {
      continue;
    }
    if (st.ownerStart !== undefined ? sameProcess(st.ownerPid, st.ownerStart) : processAlive(st.ownerPid)) continue;
    const live = (st.processes ?? []).filter((p) => sameProcess(p.pid, p.procStart));
    const front = st.proxy?.pgid && groupMembers(st.proxy.pgid).length ? groupMembers(st.proxy.pgid) : [];
    if (!live.length && !front.length) continue;
    out.push({ service, dir, pids: [...live.map((p) => p.pid), ...front] });
    if (!o.stop) continue;
    await Promise.all(live.map((p) => stopProcessGroup(p.pid, p.procStart, o.graceMs ?? 10_000)));
    await stopStrayNginx(join(dir, 'nginx'), st.proxy?.pgid);
    rmSync(join(dir, 'state.json'), { force: true });
  }
  return out;
}
