// The compose provider: scales a Docker Compose service with `docker compose up --scale` (argv, never a shell) and
// reads replica state and health from the Docker Engine API (dockerode), by the labels Compose puts on containers.
// Resize uses `docker update`, which changes running containers only: Compose restores the file's limits the next
// time it recreates them, so put lasting changes in the compose file.
import { execFile } from 'node:child_process';
import { resolve as resolvePath } from 'node:path';
import type Docker from 'dockerode';
import { dockerode } from '../lazy.js';
import { parseMilli } from '../core/quantity.js';
import { ProviderError, type PodState, type Provider, type Resources, type ScaleOptions, type TargetRef, type TargetState } from './types.js';
import { durationMs, optString, ProviderSpecError, rejectUnknown, reqString, specObject, stringArray, requireReplicaCount } from './spec.js';

export interface ComposeSpec {
  project: string;
  files: string[];
  /** the Compose service (default: the scalepilot service name) */
  service?: string;
  /** docker CLI binary */
  dockerPath: string;
  /** Engine API over a unix socket ... */
  socketPath?: string;
  /** ... or TCP (http://127.0.0.1:2375) */
  host?: string;
  /** pin the Engine API version, e.g. 1.43 */
  apiVersion?: string;
  /** how long a docker CLI call may take */
  timeoutMs: number;
}

const COMPOSE_FIELDS = ['project', 'file', 'files', 'service', 'dockerPath', 'socketPath', 'host', 'apiVersion', 'timeout'] as const;

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
  return {
    project,
    files: files ?? [file!],
    ...(service ? { service } : {}),
    dockerPath: optString(o, 'dockerPath', path, 'docker') ?? 'docker',
    ...(socketPath ? { socketPath } : {}),
    ...(host ? { host } : {}),
    ...(apiVersion ? { apiVersion } : {}),
    timeoutMs: durationMs(o, 'timeout', path, '2m'),
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
}

export class ComposeProvider implements Provider {
  readonly kind = 'compose';
  private readonly engines = new Map<string, Docker>();

  constructor(private readonly options: ComposeOptions = {}) {}

  private spec(t: TargetRef): ComposeSpec & { service: string } {
    const s = parseComposeSpec(t.spec, `services.${t.service}.target`);
    const o = this.options;
    const endpoint = s.socketPath || s.host ? {} : { ...(o.host ? { host: o.host } : { socketPath: o.socketPath ?? '/var/run/docker.sock' }) };
    return {
      ...s,
      ...endpoint,
      service: s.service ?? t.service,
      dockerPath: t.spec.dockerPath ? s.dockerPath : (o.dockerPath ?? s.dockerPath),
      ...(s.apiVersion ?? o.apiVersion ? { apiVersion: s.apiVersion ?? o.apiVersion } : {}),
      files: s.files.map((f) => resolvePath(o.baseDir ?? '.', f)),
    };
  }

  private engine(s: ComposeSpec): Docker {
    const key = `${s.socketPath ?? s.host}|${s.apiVersion ?? ''}`;
    let d = this.engines.get(key);
    if (!d) {
      const version = s.apiVersion ? `v${s.apiVersion}` : undefined;
      if (s.host) {
        const u = new URL(s.host);
        d = new (dockerode())({ protocol: u.protocol.slice(0, -1) as 'http' | 'https', host: u.hostname, port: Number(u.port), version, timeout: 10_000 });
      } else {
        d = new (dockerode())({ socketPath: s.socketPath!, version, timeout: 10_000 });
      }
      this.engines.set(key, d);
    }
    return d;
  }

  async observe(t: TargetRef): Promise<TargetState> {
    const s = this.spec(t);
    const docker = this.engine(s);
    let listed: ListedContainer[];
    try {
      listed = (await docker.listContainers({
        all: true,
        filters: { label: [`com.docker.compose.project=${s.project}`, `com.docker.compose.service=${s.service}`, 'com.docker.compose.oneoff=False'] },
      })) as ListedContainer[];
    } catch (e) {
      throw engineError(e, `listing containers of ${s.project}/${s.service}`, s);
    }
    const inspected = await Promise.all(
      listed.map(async (c) => {
        try {
          return (await docker.getContainer(c.Id).inspect()) as InspectedContainer;
        } catch (e) {
          // Removed between list and inspect (a scale-down in progress): it is no longer a replica.
          if ((e as { statusCode?: number }).statusCode === 404) return undefined;
          throw engineError(e, `inspecting container ${c.Id.slice(0, 12)}`, s);
        }
      }),
    );
    const containers = inspected.filter((c): c is InspectedContainer => c !== undefined);
    const number = (c: InspectedContainer) => Number(listed.find((l) => l.Id === c.Id)?.Labels?.['com.docker.compose.container-number'] ?? 0);
    containers.sort((a, b) => number(a) - number(b));
    const pods = containers.map((c) => containerToPod(c, s.service));
    const first = containers[0];
    const resources = first ? hostConfigResources(first.HostConfig) : undefined;
    return {
      replicas: pods.length,
      readyReplicas: pods.filter((p) => p.ready).length,
      pods,
      ...(resources ? { resources } : {}),
    };
  }

  /** The argv `scale` runs (also shown by dry runs and explanations). */
  scaleArgv(t: TargetRef, replicas: number, o: ScaleOptions): string[] {
    const s = this.spec(t);
    return [
      'compose',
      ...(o.dryRun ? ['--dry-run'] : []),
      '-p', s.project,
      ...s.files.flatMap((f) => ['-f', f]),
      'up', '-d',
      '--scale', `${s.service}=${replicas}`,
      '--no-recreate',
      // Compose stops removed replicas with SIGTERM and kills them after this many seconds: the drain window.
      '--timeout', String(Math.max(1, Math.ceil(o.drainMs / 1000))),
      s.service,
    ];
  }

  async scale(t: TargetRef, replicas: number, o: ScaleOptions): Promise<void> {
    requireReplicaCount(this.kind, t.service, replicas);
    const s = this.spec(t);
    await this.docker(s, this.scaleArgv(t, replicas, o));
  }

  async resize(t: TargetRef, r: Resources, o: { dryRun: boolean }): Promise<void> {
    const s = this.spec(t);
    const flags = updateFlags(r, t.service);
    if (!flags.length) throw new ProviderError(this.kind, `resize of ${t.service} names no cpu or memory; nothing to change`, false);
    const state = await this.observe(t);
    const ids = state.pods.map((p) => p.containerId!).filter(Boolean);
    if (!ids.length) throw new ProviderError(this.kind, `${s.project}/${s.service} has no containers to resize; scale it up first`, false);
    if (o.dryRun) return;
    await this.docker(s, ['update', ...flags, ...ids]);
  }

  async close(): Promise<void> {
    this.engines.clear();
  }

  private docker(s: ComposeSpec, argv: string[]): Promise<void> {
    const env = { ...process.env };
    if (s.socketPath) env.DOCKER_HOST = `unix://${s.socketPath}`;
    else if (s.host) env.DOCKER_HOST = s.host.replace(/^https?:/, 'tcp:').replace(/\/$/, '');
    return new Promise((resolve, reject) => {
      execFile(s.dockerPath, argv, { env, timeout: s.timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, _stdout, stderr) => {
        if (!err) return resolve();
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        if (e.code === 'ENOENT') {
          return reject(new ProviderError(this.kind, `${s.dockerPath} not found; install Docker with the compose plugin or set target.dockerPath`, false, { cause: err }));
        }
        if (e.killed) return reject(new ProviderError(this.kind, `${s.dockerPath} ${argv.slice(0, 2).join(' ')} took longer than ${s.timeoutMs} ms; raise target.timeout`, true, { cause: err }));
        const msg = String(stderr).trim().split('\n').slice(-5).join(' | ') || e.message;
        reject(new ProviderError(this.kind, `${s.dockerPath} ${argv.join(' ')} failed (exit ${e.code}): ${msg}`, true, { cause: err }));
      });
    });
  }
}

function engineError(e: unknown, doing: string, s: ComposeSpec): ProviderError {
  const err = e as { statusCode?: number; json?: { message?: string }; message?: string; code?: string };
  const where = s.host ?? `unix://${s.socketPath}`;
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
  if (r.limits?.memory !== undefined) flags.push('--memory', String(Math.ceil(milli(r.limits.memory, 'limits.memory') / 1000)));
  // Kubernetes turns a CPU request into cgroup shares the same way: 1 CPU = 1024 shares, minimum 2.
  if (r.requests?.cpu !== undefined) flags.push('--cpu-shares', String(Math.max(2, Math.round((milli(r.requests.cpu, 'requests.cpu') * 1024) / 1000))));
  if (r.requests?.memory !== undefined) flags.push('--memory-reservation', String(Math.ceil(milli(r.requests.memory, 'requests.memory') / 1000)));
  return flags;
}
