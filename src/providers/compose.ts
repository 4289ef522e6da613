// The compose provider: scales a Docker Compose service with `compose up --scale` (argv, never a shell; the docker
// compose plugin or the standalone docker-compose, whichever the machine has) and reads replica state and health from
// the Docker Engine API (dockerode), by the labels Compose puts on containers. A container that stopped (docker kill,
// a crash without a restart policy) is started again, the way a ReplicaSet keeps its count. With `front`, the
// provider also runs the front proxy (nginx or built-in) over the replicas' published loopback ports: new replicas
// join it once ready, removed ones leave it and finish their requests before they are stopped.
// Resize uses `docker update`, which changes running containers only: Compose restores the file's limits the next
// time it recreates them, so put lasting changes in the compose file.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import type Docker from 'dockerode';
import { withDeadline } from '../deadline.js';
import { dockerode } from '../lazy.js';
import { parseMilli } from '../core/quantity.js';
import { ProviderError, type PodState, type Provider, type ProviderEvent, type Resources, type ScaleOptions, type TargetRef, type TargetState } from './types.js';
import { durationMs, oneOf, optInt, optString, ProviderSpecError, rejectUnknown, reqString, specObject, stringArray, requireReplicaCount } from './spec.js';
import { ComposeCliNotFound, findComposeCli, type ComposeCli } from './compose-cli.js';
import { parseListen, type FrontProxy, type ListenAddress, type Upstream } from './local/front.js';
import { NginxProxy } from './local/nginx.js';
import { BuiltinProxy } from './local/proxy.js';
import { processAlive, sleep } from './local/proc.js';
import { probeStatus } from './local/probe.js';
import { makeDirs } from '../make-dirs.js';
import { EngineLease, LeaseHeldElsewhere } from './compose-lease.js';
import { LeaseKeeper } from './lease-keeper.js';

export interface ComposeSpec {
  project: string;
  files: string[];
  /** the Compose service (default: the scalepilot service name) */
  service?: string;
  /** docker CLI binary (`update`, and `<dockerPath> compose` when composeCommand is not set) */
  dockerPath: string;
  /** the Compose CLI argv prefix, e.g. ["docker-compose"] or ["docker", "compose"]; default: found automatically */
  composeCommand?: string[];
  /** the front proxy the provider runs over the replicas (only the `run` process that owns the target runs it) */
  front?: ComposeFront;
  /** Engine API over a unix socket ... */
  socketPath?: string;
  /** ... or TCP (http://127.0.0.1:2375) */
  host?: string;
  /** pin the Engine API version, e.g. 1.43 */
  apiVersion?: string;
  /** how long a docker CLI call may take */
  timeoutMs: number;
}

export interface ComposeFront {
  /** where clients reach the service */
  listen: ListenAddress;
  /** the container port the service listens on; the compose file publishes it on 127.0.0.1 (ports: ["127.0.0.1::8080"]) */
  port: number;
  proxy: 'auto' | 'nginx' | 'builtin';
  nginxPath: string;
  /** probed over the published port when the image has no HEALTHCHECK */
  healthPath: string;
  /** how long scale waits for new replicas to become ready and join the front */
  readyTimeoutMs: number;
}

const COMPOSE_FIELDS = ['project', 'file', 'files', 'service', 'dockerPath', 'composeCommand', 'front', 'socketPath', 'host', 'apiVersion', 'timeout'] as const;
const FRONT_FIELDS = ['listen', 'port', 'proxy', 'nginxPath', 'healthPath', 'readyTimeout'] as const;

function parseFront(raw: unknown, path: string): ComposeFront {
  const o = specObject(raw, path);
  rejectUnknown(o, path, FRONT_FIELDS);
  const listenRaw = typeof o.listen === 'number' ? String(o.listen) : reqString(o, 'listen', path, '127.0.0.1:8080');
  const listen = parseListen(listenRaw);
  if (!listen) throw new ProviderSpecError(`${path}.listen`, `"${listenRaw}" is not host:port`, 'write it like listen: 127.0.0.1:8080');
  const port = optInt(o, 'port', path, 1, 65535);
  if (port === undefined) throw new ProviderSpecError(`${path}.port`, 'is required', 'add port: 8080 (the container port the compose file publishes on 127.0.0.1)');
  const healthPath = optString(o, 'healthPath', path, '/healthz') ?? '/healthz';
  if (!healthPath.startsWith('/')) throw new ProviderSpecError(`${path}.healthPath`, `"${healthPath}" must start with /`, 'write it like healthPath: /healthz');
  return {
    listen,
    port,
    proxy: oneOf(o, 'proxy', path, ['auto', 'nginx', 'builtin'] as const, 'auto'),
    nginxPath: optString(o, 'nginxPath', path, '/usr/sbin/nginx') ?? '/usr/sbin/nginx',
    healthPath,
    readyTimeoutMs: durationMs(o, 'readyTimeout', path, '60s', { max: 3_600_000 }),
  };
}

function parseComposeCommand(o: Record<string, unknown>, path: string): string[] | undefined {
  const v = o.composeCommand;
  if (v === undefined || v === null) return undefined;
  // "docker compose" as one string is how people write it; split on spaces (no shell, no quoting).
  if (typeof v === 'string' && v.trim()) return v.trim().split(/\s+/);
  return stringArray(o, 'composeCommand', path, '["docker-compose"]');
}

export function parseComposeSpec(raw: unknown, path: string): ComposeSpec {
  const o = specObject(raw, path);
  rejectUnknown(o, path, COMPOSE_FIELDS);
  const project = reqString(o, 'project', path, 'shop');
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(project)) {
    throw new ProviderSpecError(`${path}.project`, `"${project}" is not a Compose project name`, 'use lowercase letters, digits, - and _, starting with a letter or digit');
  }
  const file = optString(o, 'file', path, 'compose.yaml');
  const files = stringArray(o, 'files', path, '["compose.yaml", "compose.prod.yaml"]');
  if (file && files) throw new ProviderSpecError(`${path}.files`, 'file and files are both set', 'keep one: file for a single compose file, files for several');
  if (!file && !files) throw new ProviderSpecError(`${path}.file`, 'is required', 'add file: compose.yaml (the file that defines the service)');
  const socketPath = optString(o, 'socketPath', path, '/var/run/docker.sock');
  const host = optString(o, 'host', path, 'http://127.0.0.1:2375');
  if (socketPath && host) throw new ProviderSpecError(`${path}.host`, 'socketPath and host are both set', 'keep socketPath for a unix socket or host for TCP');
  if (host && !/^https?:\/\/[^/:]+:\d+\/?$/.test(host)) {
    throw new ProviderSpecError(`${path}.host`, `"${host}" is not an http URL with a port`, 'write it like host: http://127.0.0.1:2375');
  }
  let apiVersion = optString(o, 'apiVersion', path, '1.43');
  if (apiVersion !== undefined) {
    apiVersion = apiVersion.replace(/^v/, '');
    if (!/^\d+\.\d+$/.test(apiVersion)) throw new ProviderSpecError(`${path}.apiVersion`, `"${apiVersion}" is not an Engine API version`, 'write it like apiVersion: "1.43"');
  }
  const service = optString(o, 'service', path, 'web');
  const composeCommand = parseComposeCommand(o, path);
  return {
    project,
    files: files ?? [file!],
    ...(service ? { service } : {}),
    dockerPath: optString(o, 'dockerPath', path, 'docker') ?? 'docker',
    ...(composeCommand ? { composeCommand } : {}),
    ...(o.front !== undefined && o.front !== null ? { front: parseFront(o.front, `${path}.front`) } : {}),
    ...(socketPath ? { socketPath } : {}),
    ...(host ? { host } : {}),
    ...(apiVersion ? { apiVersion } : {}),
    timeoutMs: durationMs(o, 'timeout', path, '2m', { min: 1000, max: 3_600_000 }),
  };
}

export interface ComposeOptions {
  /** directory relative compose files are resolved against (the config file's directory) */
  baseDir?: string;
  /** defaults for specs that do not set them (tests point these at a fake CLI and a fake Engine) */
  dockerPath?: string;
  socketPath?: string;
  host?: string;
  apiVersion?: string;
  /** only read: never start stopped containers (dry runs, reports) */
  readOnly?: boolean;
  /** where the front proxy keeps its files; without it no front is run (CLI commands other than `run`) */
  frontDir?: string;
  /**
   * The acting process's lease on each Compose service it drives (a `run`, or a `rollback` while it acts), kept in the
   * Docker Engine (compose-lease): while another scalepilot holds a service, observe and scale refuse it. Without it
   * (dry runs, reports) none is taken.
   */
  lease?: { identity: string; stateDir: string; durationMs?: number };
  log?: (msg: string) => void;
  /** every provider event (replica restarted, front started, drain overran, ...), for logging and counting */
  onEvent?: (e: ProviderEvent) => void;
}

/** The Engine endpoint DOCKER_HOST names (unix:// or tcp://), as the docker CLI itself would use it. */
export function endpointFromDockerHost(v: string | undefined): { socketPath: string } | { host: string } | undefined {
  if (!v) return undefined;
  if (v.startsWith('unix://')) return { socketPath: v.slice('unix://'.length) };
  if (v.startsWith('tcp://')) return { host: `http://${v.slice('tcp://'.length).replace(/\/$/, '')}` };
  return undefined;
}

interface ListedContainer {
  Id: string;
  Names?: string[];
  State?: string;
  Labels?: Record<string, string>;
}

interface InspectedContainer {
  Id: string;
  Name?: string;
  RestartCount?: number;
  State?: {
    Status?: string;
    Running?: boolean;
    Restarting?: boolean;
    Pid?: number;
    ExitCode?: number;
    Error?: string;
    OOMKilled?: boolean;
    StartedAt?: string;
    Health?: { Status?: string; Log?: Array<{ Start?: string; End?: string; ExitCode?: number }> };
  };
  HostConfig?: { NanoCpus?: number; Memory?: number; CpuShares?: number; MemoryReservation?: number };
  Config?: { Labels?: Record<string, string>; Healthcheck?: { Test?: string[] } };
  NetworkSettings?: { Ports?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> };
}

interface FrontState {
  proxy: FrontProxy;
  /** host ports now in the front, by container id */
  members: Map<string, number>;
  /** when each member joined the front (epoch ms) */
  joined: Map<string, number>;
  /** containers taken out of the front to be stopped */
  draining: Set<string>;
}

export class ComposeProvider implements Provider {
  readonly kind = 'compose';
  private readonly engines = new Map<string, Docker>();
  private readonly clis = new Map<string, Promise<ComposeCli>>();
  private readonly fronts = new Map<string, FrontState>();
  /** when each stopped container was first seen stopped (epoch ms) */
  private readonly stoppedSince = new Map<string, number>();
  /** per container: the start time and Docker's RestartCount last seen, and starts Docker did not count */
  private readonly starts = new Map<string, { startedAt: string; restartCount: number; extra: number }>();
  /** one scale / repair at a time per target: a repair must never undo a scale-down in progress */
  private readonly busy = new Map<string, Promise<unknown>>();
  /** per Engine and Compose service: this run's lease on it, kept while it runs */
  private readonly leases = new Map<string, LeaseKeeper>();

  constructor(private readonly options: ComposeOptions = {}) {}

  /** Reports a provider event to `run` (logged and counted per service) and to the plain log. */
  private event(t: TargetRef, kind: string, level: ProviderEvent['level'], msg: string): void {
    this.options.log?.(msg);
    this.options.onEvent?.({ service: t.service, kind, level, message: msg });
  }

  private spec(t: TargetRef): ComposeSpec & { service: string } {
    const s = parseComposeSpec(t.spec, `services.${t.service}.target`);
    const o = this.options;
    const fromEnv = endpointFromDockerHost(process.env.DOCKER_HOST);
    const endpoint = s.socketPath || s.host ? {}
      : o.host ? { host: o.host }
      : o.socketPath ? { socketPath: o.socketPath }
      : fromEnv ?? { socketPath: '/var/run/docker.sock' };
    return {
      ...s,
      ...endpoint,
      service: s.service ?? t.service,
      dockerPath: t.spec.dockerPath ? s.dockerPath : (o.dockerPath ?? s.dockerPath),
      ...(s.apiVersion ?? o.apiVersion ? { apiVersion: s.apiVersion ?? o.apiVersion } : {}),
      files: s.files.map((f) => resolvePath(o.baseDir ?? '.', f)),
    };
  }

  private key(s: ComposeSpec & { service: string }): string {
    return `${s.project}/${s.service}`;
  }

  private engineKey(s: ComposeSpec): string {
    return `${s.socketPath ?? s.host}|${s.apiVersion ?? ''}`;
  }

  private engine(s: ComposeSpec): Docker {
    const key = this.engineKey(s);
    let d = this.engines.get(key);
    if (!d) {
      const version = s.apiVersion ? `v${s.apiVersion}` : undefined;
      if (s.host) {
        const u = new URL(s.host);
        d = new (dockerode())({ protocol: u.protocol.slice(0, -1) as 'http' | 'https', host: u.hostname, port: Number(u.port), version });
      } else {
        d = new (dockerode())({ socketPath: s.socketPath!, version });
      }
      this.engines.set(key, d);
    }
    return d;
  }

  private env(s: ComposeSpec): NodeJS.ProcessEnv {
    const env = { ...process.env };
    if (s.socketPath) env.DOCKER_HOST = `unix://${s.socketPath}`;
    else if (s.host) env.DOCKER_HOST = s.host.replace(/^https?:/, 'tcp:').replace(/\/$/, '');
    return env;
  }

  /** The Compose CLI for this target (found once per dockerPath / composeCommand). */
  async cli(t: TargetRef): Promise<ComposeCli> {
    const s = this.spec(t);
    const key = `${s.dockerPath}|${s.composeCommand?.join(' ') ?? ''}`;
    let p = this.clis.get(key);
    if (!p) {
      p = findComposeCli({ dockerPath: s.dockerPath, ...(s.composeCommand ? { composeCommand: s.composeCommand } : {}), env: this.env(s), timeoutMs: Math.min(s.timeoutMs, 30_000) });
      this.clis.set(key, p);
      // A failed search is not cached: the CLI may be installed while scalepilot runs.
      p.catch(() => this.clis.delete(key));
    }
    try {
      return await p;
    } catch (e) {
      if (e instanceof ComposeCliNotFound) throw new ProviderError(this.kind, e.message, false, { cause: e });
      throw e;
    }
  }

  private async list(s: ComposeSpec & { service: string }): Promise<Array<{ c: InspectedContainer; number: number }>> {
    const docker = this.engine(s);
    let listed: ListedContainer[];
    try {
      listed = (await engineCall(ENGINE_CALL_MS, (abortSignal) => docker.listContainers({
        all: true,
        filters: { label: [`com.docker.compose.project=${s.project}`, `com.docker.compose.service=${s.service}`, 'com.docker.compose.oneoff=False'] },
        abortSignal,
      }))) as ListedContainer[];
    } catch (e) {
      throw engineError(e, `listing containers of ${s.project}/${s.service}`, s);
    }
    const inspected = await Promise.all(
      listed.map(async (c) => {
        try {
          const i = (await engineCall(ENGINE_CALL_MS, (abortSignal) => docker.getContainer(c.Id).inspect({ abortSignal }))) as InspectedContainer;
          return { c: i, number: Number(c.Labels?.['com.docker.compose.container-number'] ?? 0) };
        } catch (e) {
          // Removed between list and inspect (a scale-down in progress): it is no longer a replica.
          if ((e as { statusCode?: number }).statusCode === 404) return undefined;
          throw engineError(e, `inspecting container ${c.Id.slice(0, 12)}`, s);
        }
      }),
    );
    return inspected.filter((x): x is { c: InspectedContainer; number: number } => x !== undefined).sort((a, b) => a.number - b.number);
  }

  /**
   * Takes or renews this run's lease on the Compose service before it acts on it (observe starts stopped replicas and
   * the front, so it acts too). Another live scalepilot holding it is a failure to retry: this run holds the service
   * and says who drives it, until that one stops or its lease expires.
   */
  private async claim(t: TargetRef, s: ComposeSpec & { service: string }): Promise<void> {
    const o = this.options.lease;
    if (!o || this.options.readOnly) return;
    const key = `${this.engineKey(s)}|${this.key(s)}`;
    let keeper = this.leases.get(key);
    if (!keeper) {
      const what = `compose service ${this.key(s)} on ${s.host ?? `unix://${s.socketPath}`}`;
      const call = <T>(doing: string, fn: (signal: AbortSignal) => Promise<T>) => engineCall(ENGINE_CALL_MS, fn).catch((e: unknown) => {
        throw engineError(e, doing, s);
      });
      const lease = new EngineLease(this.engine(s), call, { what, project: s.project, service: s.service, identity: o.identity, stateDir: o.stateDir, ...(o.durationMs ? { durationMs: o.durationMs } : {}) });
      keeper = new LeaseKeeper(lease, {
        what: `compose: ${this.key(s)}`,
        prefix: 'compose: ',
        keptAs: `its lease is kept in the Docker Engine as volumes labelled io.scalepilot.lease=${lease.key}`,
        heldElsewhere: (e) => e instanceof LeaseHeldElsewhere,
        event: (kind, level, message) => this.event(t, kind, level, message),
      });
      this.leases.set(key, keeper);
    }
    try {
      await keeper.claim();
    } catch (err) {
      // looked at again within a lease duration: the holder may stop (and give the lease up) at any moment
      if (err instanceof LeaseHeldElsewhere) throw new ProviderError(this.kind, err.message, true, { cause: err, retryInMs: keeper.lease.durationMs });
      throw err;
    }
  }

  async observe(t: TargetRef): Promise<TargetState> {
    const s = this.spec(t);
    await this.claim(t, s);
    let containers = await this.list(s);
    const key = this.key(s);
    const stopped = this.options.readOnly || this.busy.has(key) ? [] : this.stoppedReplicas(containers);
    if (stopped.length) {
      await this.exclusive(key, () => this.repair(t, s, stopped, containers.length));
      containers = await this.list(s);
    }
    const front = await this.syncFront(t, s, containers);
    const pods = containers.map(({ c }) => {
      const pod = containerToPod(c, s.service);
      pod.restarts = (pod.restarts ?? 0) + this.countStart(c);
      const port = publishedPort(c, s.front?.port);
      if (port) pod.endpoint = `http://127.0.0.1:${port}`;
      if (front?.draining.has(c.Id)) {
        pod.ready = false;
        pod.reason = 'Draining';
        delete pod.readyTransitionTime;
      } else if (front) {
        // With a front, ready means serving: answering its health check and in the front.
        const joined = front.joined.get(c.Id);
        pod.ready = joined !== undefined;
        if (joined !== undefined) pod.readyTransitionTime = joined;
        else {
          delete pod.readyTransitionTime;
          if (pod.phase === 'Running') pod.reason ??= 'Starting';
        }
      }
      return pod;
    });
    const first = containers[0]?.c;
    const resources = first ? hostConfigResources(first.HostConfig) : undefined;
    return {
      replicas: pods.length,
      readyReplicas: pods.filter((p) => p.ready).length,
      pods,
      ...(resources ? { resources } : {}),
    };
  }

  /**
   * Replicas that stopped without being asked to: seen stopped on two observations at least a second apart. A
   * container Compose is removing (stop, then remove, a scale-down by another process) is never seen twice.
   */
  private stoppedReplicas(containers: Array<{ c: InspectedContainer }>, now = Date.now()): InspectedContainer[] {
    const out: InspectedContainer[] = [];
    const stopped = new Set<string>();
    for (const { c } of containers) {
      if (c.State?.Status !== 'exited' && c.State?.Status !== 'dead') continue;
      stopped.add(c.Id);
      const since = this.stoppedSince.get(c.Id);
      if (since === undefined) this.stoppedSince.set(c.Id, now);
      else if (now - since >= 1000) out.push(c);
    }
    for (const id of this.stoppedSince.keys()) if (!stopped.has(id)) this.stoppedSince.delete(id);
    return out;
  }

  private async repair(t: TargetRef, s: ComposeSpec & { service: string }, stopped: InspectedContainer[], replicas: number): Promise<void> {
    const what = stopped.map((c) => `${(c.Name ?? c.Id).replace(/^\//, '')} ${c.State?.OOMKilled ? 'was OOM-killed' : `exited (${c.State?.ExitCode ?? '?'})`}`).join(', ');
    this.event(t, 'replica-restarted', 'warn', `compose: ${s.project}/${s.service}: ${what}; starting it again with compose up`);
    // `up --no-recreate` at the current count starts stopped containers and leaves running ones alone.
    await this.compose(t, s, this.upArgs(s, replicas, 10_000));
    for (const c of stopped) this.stoppedSince.delete(c.Id);
  }

  /**
   * Starts of a container Docker's RestartCount leaves out (it counts restart-policy restarts only; a container
   * started again by `compose up` after a kill keeps its id and gets a new StartedAt).
   */
  private countStart(c: InspectedContainer): number {
    const startedAt = c.State?.StartedAt ?? '';
    const restartCount = c.RestartCount ?? 0;
    const seen = this.starts.get(c.Id);
    if (!seen) {
      this.starts.set(c.Id, { startedAt, restartCount, extra: 0 });
      return 0;
    }
    if (startedAt !== seen.startedAt && restartCount === seen.restartCount && !ZERO_TIME.test(startedAt)) seen.extra++;
    seen.startedAt = startedAt;
    seen.restartCount = restartCount;
    return seen.extra;
  }

  private async exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    while (this.busy.has(key)) await this.busy.get(key)!.catch(() => undefined);
    const p = fn();
    this.busy.set(key, p);
    try {
      return await p;
    } finally {
      this.busy.delete(key);
    }
  }

  private upArgs(s: ComposeSpec & { service: string }, replicas: number, drainMs: number): string[] {
    return [
      'up', '-d',
      '--scale', `${s.service}=${replicas}`,
      '--no-recreate',
      // Compose stops removed replicas with SIGTERM and kills them after this many seconds: the drain window.
      '--timeout', String(Math.max(1, Math.ceil(drainMs / 1000))),
      s.service,
    ];
  }

  private projectArgs(s: ComposeSpec): string[] {
    return ['-p', s.project, ...s.files.flatMap((f) => ['-f', f])];
  }

  /** The argv `scale` runs with a given Compose CLI (also shown by dry runs and explanations). */
  scaleArgv(t: TargetRef, replicas: number, o: ScaleOptions, cli: ComposeCli): string[] {
    const s = this.spec(t);
    if (o.dryRun && !cli.dryRun) {
      // Compose v1 and v2 before 2.20 have no --dry-run: check the files and the service instead of acting.
      return [...cli.command, ...this.projectArgs(s), 'config', '--services'];
    }
    return [...cli.command, ...(o.dryRun ? ['--dry-run'] : []), ...this.projectArgs(s), ...this.upArgs(s, replicas, o.drainMs)];
  }

  async scale(t: TargetRef, replicas: number, o: ScaleOptions): Promise<void> {
    requireReplicaCount(this.kind, t.service, replicas);
    const s = this.spec(t);
    const cli = await this.cli(t);
    if (o.dryRun) {
      const out = await this.run(s, this.scaleArgv(t, replicas, o, cli));
      if (!cli.dryRun && !out.split('\n').map((l) => l.trim()).includes(s.service)) {
        throw new ProviderError(this.kind, `no such service: ${s.service} in ${s.files.join(', ')}`, false);
      }
      return;
    }
    await this.claim(t, s);
    await this.exclusive(this.key(s), async () => {
      const front = s.front ? this.fronts.get(this.key(s)) : undefined;
      if (front) await this.drainFor(t, s, front, replicas, o.drainMs);
      // Compose waits up to the drain for each replica it stops, on top of its own work
      await this.run(s, this.scaleArgv(t, replicas, o, cli), o.drainMs);
    });
    if (s.front && this.options.frontDir) await this.waitReady(t, s, replicas);
  }

  /**
   * Takes the replicas a scale-down removes out of the front, waits for the requests they hold, then stops and
   * removes them with the drain as their stop timeout, so that Compose (which picks its own victims) has nothing
   * left to remove.
   */
  private async drainFor(t: TargetRef, s: ComposeSpec & { service: string }, front: FrontState, replicas: number, drainMs: number): Promise<void> {
    const containers = await this.list(s);
    if (containers.length <= replicas) return;
    const victims = containers.slice(replicas).map(({ c }) => c);
    for (const v of victims) front.draining.add(v.Id);
    try {
      await this.syncFront(t, s, containers);
      const deadline = Date.now() + drainMs;
      for (const v of victims) {
        const port = publishedPort(v, s.front!.port);
        if (port && !(await front.proxy.waitIdle(port, Math.max(0, deadline - Date.now())))) {
          this.event(t, 'drain-overran', 'warn', `compose: ${s.project}/${s.service}: ${(v.Name ?? v.Id).replace(/^\//, '')} still had requests after the ${drainMs} ms drain`);
        }
      }
      const docker = this.engine(s);
      const stopSeconds = Math.max(1, Math.ceil(drainMs / 1000));
      await Promise.all(victims.map(async (v) => {
        try {
          // the Engine answers a stop only once the container is gone: up to the stop timeout, then the kill
          await engineCall(stopSeconds * 1000 + ENGINE_CALL_MS, (abortSignal) => docker.getContainer(v.Id).stop({ t: stopSeconds, abortSignal }));
        } catch (e) {
          // 304: already stopped; 404: already gone
          const code = (e as { statusCode?: number }).statusCode;
          if (code !== 304 && code !== 404) throw engineError(e, `stopping ${v.Id.slice(0, 12)}`, s);
        }
        try {
          await engineCall(ENGINE_CALL_MS, (abortSignal) => docker.getContainer(v.Id).remove({ v: true, abortSignal }));
        } catch (e) {
          if ((e as { statusCode?: number }).statusCode !== 404) throw engineError(e, `removing ${v.Id.slice(0, 12)}`, s);
        }
      }));
    } finally {
      for (const v of victims) front.draining.delete(v.Id);
    }
  }

  /** After a scale-up, waits (up to front.readyTimeout) until the new replicas are ready and in the front. */
  private async waitReady(t: TargetRef, s: ComposeSpec & { service: string }, replicas: number): Promise<void> {
    const deadline = Date.now() + s.front!.readyTimeoutMs;
    for (;;) {
      const containers = await this.list(s);
      const front = await this.syncFront(t, s, containers);
      if ((front?.members.size ?? 0) >= Math.min(replicas, containers.length)) return;
      if (Date.now() > deadline) {
        this.event(t, 'replicas-not-ready', 'warn', `compose: ${s.project}/${s.service}: ${front?.members.size ?? 0} of ${replicas} replicas ready after ${s.front!.readyTimeoutMs} ms; the rest join the front when ready`);
        return;
      }
      await sleep(200);
    }
  }

  /** Puts exactly the ready, published, not-draining replicas into the front (starting it on first use). */
  private async syncFront(t: TargetRef, s: ComposeSpec & { service: string }, containers: Array<{ c: InspectedContainer }>): Promise<FrontState | undefined> {
    if (!s.front || !this.options.frontDir) return undefined;
    const key = this.key(s);
    let front = this.fronts.get(key);
    if (!front) {
      front = { proxy: await this.startFront(t, s), members: new Map(), joined: new Map(), draining: new Set() };
      this.fronts.set(key, front);
    }
    const next = new Map<string, number>();
    await Promise.all(containers.map(async ({ c }) => {
      if (front!.draining.has(c.Id) || c.State?.Status !== 'running') return;
      const port = publishedPort(c, s.front!.port);
      if (!port) return;
      const health = c.State.Health?.Status;
      const hasCheck = health !== undefined;
      const ready = hasCheck ? health === 'healthy' : await httpReady(port, s.front!.healthPath);
      if (ready) next.set(c.Id, port);
    }));
    const same = next.size === front.members.size && [...next].every(([id, p]) => front!.members.get(id) === p);
    if (!same) {
      const upstreams: Upstream[] = containers.filter(({ c }) => next.has(c.Id)).map(({ c }) => ({ name: (c.Name ?? c.Id).replace(/^\//, ''), port: next.get(c.Id)! }));
      await front.proxy.setUpstreams(upstreams);
      const now = Date.now();
      for (const id of next.keys()) if (front.members.get(id) !== next.get(id)) front.joined.set(id, now);
      for (const id of front.joined.keys()) if (!next.has(id)) front.joined.delete(id);
      front.members = next;
    }
    return front;
  }

  private async startFront(t: TargetRef, s: ComposeSpec & { service: string }): Promise<FrontProxy> {
    const f = s.front!;
    if (f.proxy === 'nginx' && !existsSync(f.nginxPath)) {
      throw new ProviderError(this.kind, `services.${t.service}.target.front.proxy is nginx but ${f.nginxPath} does not exist; install nginx or set proxy: builtin`, false);
    }
    const useNginx = f.proxy === 'nginx' || (f.proxy === 'auto' && existsSync(f.nginxPath));
    const dir = join(this.options.frontDir!, t.service.replace(/[^A-Za-z0-9_.-]/g, '_'));
    makeDirs(dir);
    if (useNginx) await this.retireStaleNginx(t, s, join(dir, 'nginx'));
    const proxy: FrontProxy = useNginx
      ? new NginxProxy({ nginxPath: f.nginxPath, dir: join(dir, 'nginx'), listen: f.listen, service: t.service })
      : new BuiltinProxy({ listen: f.listen });
    try {
      await proxy.start([]);
    } catch (e) {
      const msg = (e as { code?: string }).code === 'EADDRINUSE'
        ? `${f.listen.host}:${f.listen.port} is already in use; pick another services.${t.service}.target.front.listen`
        : (e as Error).message;
      throw new ProviderError(this.kind, `cannot start the ${proxy.kind} front for ${t.service}: ${msg}`, false, { cause: e });
    }
    this.event(t, 'front-started', 'info', `compose: ${s.project}/${s.service}: ${proxy.kind} front on ${proxy.url}`);
    return proxy;
  }

  /**
   * A `run` killed with SIGKILL leaves its nginx front running (nginx is its own process group's master) and holding
   * the listen port. The next `run` finds it by the pid file in the same state dir and stops it gracefully (SIGQUIT:
   * requests it holds finish), so the new front can take the port.
   */
  private async retireStaleNginx(t: TargetRef, s: ComposeSpec & { service: string }, dir: string): Promise<void> {
    let pid: number;
    try {
      pid = Number(readFileSync(join(dir, 'nginx.pid'), 'utf8').trim());
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 1 || !processAlive(pid)) return;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      return;
    }
    // Only an nginx master started on this very config; a reused pid is someone else's process.
    if (!/nginx/.test(cmdline) || !cmdline.includes(join(dir, 'nginx.conf'))) return;
    this.event(t, 'stale-front-stopped', 'warn', `compose: ${s.project}/${s.service}: stopping the front nginx (pid ${pid}) a previous run left behind`);
    process.kill(pid, 'SIGQUIT');
    const deadline = Date.now() + 10_000;
    while (processAlive(pid) && Date.now() < deadline) await sleep(50);
    if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    while (processAlive(pid) && Date.now() < deadline + 2000) await sleep(50);
  }

  /** where the front listens for a target, when the provider runs one */
  frontUrl(t: TargetRef): string | undefined {
    return this.fronts.get(this.key(this.spec(t)))?.proxy.url;
  }

  async resize(t: TargetRef, r: Resources, o: { dryRun: boolean }): Promise<void> {
    const s = this.spec(t);
    const flags = updateFlags(r, t.service);
    if (!flags.length) throw new ProviderError(this.kind, `resize of ${t.service} names no cpu or memory; nothing to change`, false);
    const state = await this.observe(t);
    const ids = state.pods.map((p) => p.containerId!).filter(Boolean);
    if (!ids.length) throw new ProviderError(this.kind, `${s.project}/${s.service} has no containers to resize; scale it up first`, false);
    if (o.dryRun) return;
    await this.claim(t, s);
    await this.run(s, [s.dockerPath, 'update', ...flags, ...ids]);
  }

  /**
   * Stops the fronts this provider runs and gives up its leases; the containers keep running (they belong to Compose,
   * not to this process).
   */
  async close(): Promise<void> {
    const fronts = [...this.fronts.values()];
    this.fronts.clear();
    await Promise.all(fronts.map((f) => f.proxy.close().catch(() => undefined)));
    // the leases go last, once the fronts are down: another run may take the services at once
    const leases = [...this.leases.values()];
    this.leases.clear();
    await Promise.all(leases.map((l) => l.close()));
    this.engines.clear();
  }

  private async compose(t: TargetRef, s: ComposeSpec & { service: string }, args: string[]): Promise<string> {
    const cli = await this.cli(t);
    return this.run(s, [...cli.command, ...this.projectArgs(s), ...args]);
  }

  /** Runs a docker or Compose CLI call; it may take target.timeout, plus `drainMs` when it stops replicas. */
  private run(s: ComposeSpec, argv: string[], drainMs = 0): Promise<string> {
    const [cmd, ...args] = argv as [string, ...string[]];
    const timeoutMs = s.timeoutMs + Math.max(0, drainMs);
    return new Promise((resolve, reject) => {
      execFile(cmd, args, { env: this.env(s), timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) return resolve(String(stdout));
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        if (e.code === 'ENOENT') {
          return reject(new ProviderError(this.kind, `${cmd} not found; install Docker (with the compose plugin or docker-compose) or set target.dockerPath / target.composeCommand`, false, { cause: err }));
        }
        if (e.killed) return reject(new ProviderError(this.kind, `${argv.slice(0, 3).join(' ')} took longer than ${timeoutMs} ms${drainMs > 0 ? ` (target.timeout ${s.timeoutMs} ms and the ${drainMs} ms drain)` : ''}; raise target.timeout`, true, { cause: err }));
        const msg = String(stderr).trim().split('\n').slice(-5).join(' | ') || e.message;
        reject(new ProviderError(this.kind, `${argv.join(' ')} failed (exit ${e.code}): ${msg}`, true, { cause: err }));
      });
    });
  }
}

/** The host port a container publishes its port on, on loopback (or all addresses). */
function publishedPort(c: InspectedContainer, containerPort: number | undefined): number | undefined {
  if (!containerPort) return undefined;
  const bindings = c.NetworkSettings?.Ports?.[`${containerPort}/tcp`];
  const b = bindings?.find((x) => x.HostIp === '127.0.0.1' || x.HostIp === '0.0.0.0' || x.HostIp === '' || x.HostIp === undefined);
  const port = Number(b?.HostPort);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** A replica without a Docker HEALTHCHECK is ready once its health path answers 2xx through its published port. */
async function httpReady(port: number, path: string): Promise<boolean> {
  const status = await probeStatus(port, path, { timeoutMs: 1500, idleMs: 1000 });
  return status !== undefined && status >= 200 && status < 300;
}

/** How long one Engine API call (list, inspect, remove) may take; a stop gets its stop timeout on top. */
export const ENGINE_CALL_MS = 10_000;

/** An Engine that gave no answer within an engineCall's deadline (it is up but hung, or overloaded). */
class EngineTimeout extends Error {
  constructor(readonly ms: number) {
    super(`gave no answer within ${ms / 1000} s`);
  }
}

/**
 * One Engine API call with its own deadline: the request is aborted when it passes. A deadline per call, not an idle
 * timeout on the connection, because a stop is answered only after the container is gone, which may be the whole
 * stop timeout (the drain) later.
 */
function engineCall<T>(ms: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return withDeadline(ms, call, () => new EngineTimeout(ms));
}

function engineError(e: unknown, doing: string, s: ComposeSpec): ProviderError {
  const err = e as { statusCode?: number; json?: { message?: string }; message?: string; code?: string };
  const where = s.host ?? `unix://${s.socketPath}`;
  if (e instanceof EngineTimeout) {
    return new ProviderError('compose', `${doing}: the Docker Engine at ${where} ${e.message}; it is up but not answering (hung or overloaded)`, true, { cause: e });
  }
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'EACCES') {
    const fix = err.code === 'EACCES' ? 'add the user to the docker group' : 'start Docker or set target.socketPath / target.host';
    return new ProviderError('compose', `${doing}: cannot reach the Docker Engine at ${where} (${err.code}); ${fix}`, err.code !== 'EACCES', { cause: e });
  }
  const detail = err.json?.message ?? err.message ?? String(e);
  return new ProviderError('compose', `${doing}: Docker Engine at ${where} answered ${err.statusCode ?? 'an error'}: ${detail}`, (err.statusCode ?? 500) >= 500, { cause: e });
}

const ZERO_TIME = /^0001-01-01/;

function containerToPod(c: InspectedContainer, service: string): PodState {
  const st = c.State ?? {};
  const status = st.Status ?? 'unknown';
  const health = st.Health?.Status;
  const phase: PodState['phase'] =
    status === 'running' || status === 'paused' ? 'Running'
    : status === 'created' || status === 'restarting' ? 'Pending'
    : status === 'exited' ? (st.ExitCode === 0 ? 'Succeeded' : 'Failed')
    : status === 'dead' ? 'Failed'
    : 'Unknown';
  const ready = status === 'running' && (health === undefined || health === 'healthy');
  const started = st.StartedAt && !ZERO_TIME.test(st.StartedAt) ? Date.parse(st.StartedAt) : undefined;
  const reason =
    status === 'restarting' ? 'CrashLoopBackOff'
    : st.OOMKilled ? 'OOMKilled'
    : status === 'exited' || status === 'dead' ? (st.Error || `Exited(${st.ExitCode ?? '?'})`)
    : status === 'paused' ? 'Paused'
    : health === 'starting' ? 'Starting'
    : health === 'unhealthy' ? 'Unhealthy'
    : undefined;
  const resources = hostConfigResources(c.HostConfig);
  return {
    name: (c.Name ?? c.Id).replace(/^\//, ''),
    phase,
    ready,
    ...(started !== undefined && Number.isFinite(started) ? { startTime: started } : {}),
    ...(ready ? { readyTransitionTime: readySince(c, started) } : {}),
    containerId: c.Id,
    ...(st.Pid ? { pid: st.Pid } : {}),
    restarts: c.RestartCount ?? 0,
    ...(reason ? { reason } : {}),
    ...(resources ? { containers: [{ name: service, resources }] } : {}),
  };
}

/** When the container last became ready: the first of the trailing passing health checks, else its start. */
function readySince(c: InspectedContainer, started: number | undefined): number | undefined {
  const log = c.State?.Health?.Log;
  if (!log?.length) return started;
  let since: number | undefined;
  for (let i = log.length - 1; i >= 0; i--) {
    if (log[i]!.ExitCode !== 0) break;
    const end = Date.parse(log[i]!.End ?? '');
    if (Number.isFinite(end)) since = end;
  }
  return since ?? started;
}

/** Docker's HostConfig limits in Kubernetes terms: NanoCpus/Memory are limits, CpuShares/MemoryReservation requests. */
function hostConfigResources(h: InspectedContainer['HostConfig']): Resources | undefined {
  if (!h) return undefined;
  const limits: { cpu?: string; memory?: string } = {};
  const requests: { cpu?: string; memory?: string } = {};
  if (h.NanoCpus) limits.cpu = `${Math.round(h.NanoCpus / 1e6)}m`;
  if (h.Memory) limits.memory = String(h.Memory);
  // Docker's default weight (1024, or 0 meaning unset) is not a request anyone made.
  if (h.CpuShares && h.CpuShares !== 1024) requests.cpu = `${Math.round((h.CpuShares * 1000) / 1024)}m`;
  if (h.MemoryReservation) requests.memory = String(h.MemoryReservation);
  const out: Resources = {};
  if (Object.keys(limits).length) out.limits = limits;
  if (Object.keys(requests).length) out.requests = requests;
  return Object.keys(out).length ? out : undefined;
}

/** `docker update` flags for Kubernetes-style resources: limits → --cpus/--memory, requests → --cpu-shares/--memory-reservation. */
export function updateFlags(r: Resources, service: string): string[] {
  const flags: string[] = [];
  const milli = (v: string, field: string) => {
    try {
      return parseMilli(v);
    } catch (e) {
      throw new ProviderError('compose', `resize ${service}: ${field} "${v}" is not a quantity (${(e as Error).message}); write it like 500m or 512Mi`, false);
    }
  };
  if (r.limits?.cpu !== undefined) flags.push('--cpus', String(milli(r.limits.cpu, 'limits.cpu') / 1000));
  if (r.limits?.memory !== undefined) {
    const bytes = String(Math.ceil(milli(r.limits.memory, 'limits.memory') / 1000));
    // The Engine refuses a memory limit above the container's current swap limit unless both change together;
    // memory+swap equal to the limit means no swap, as on a Kubernetes node.
    flags.push('--memory', bytes, '--memory-swap', bytes);
  }
  // Kubernetes turns a CPU request into cgroup shares the same way: 1 CPU = 1024 shares, minimum 2.
  if (r.requests?.cpu !== undefined) flags.push('--cpu-shares', String(Math.max(2, Math.round((milli(r.requests.cpu, 'requests.cpu') * 1024) / 1000))));
  if (r.requests?.memory !== undefined) flags.push('--memory-reservation', String(Math.ceil(milli(r.requests.memory, 'requests.memory') / 1000)));
  return flags;
}
