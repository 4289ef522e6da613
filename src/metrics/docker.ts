// Docker Engine source (dockerode): per-container CPU and memory, computed exactly as `docker stats` shows them.
//
// Queries: cpu (cores, = cpu_percent / 100), cpu_percent, memory (bytes, usage minus inactive file cache),
// memory_percent (memory / limit × 100). Containers are the ones in params.containers (ids or names, as the compose
// provider passes them), otherwise the running containers matching params.project / params.service (Compose labels)
// and params.labels.
import type Docker from 'dockerode';
import { dockerode } from '../lazy.js';
import { MetricConfigError, optDuration, optString, optStringList, readObject, readParams, typeName } from './config.js';
import { MetricError, type MetricQuery, type MetricSource, type Sample } from './types.js';

export interface DockerConfig {
  type: 'docker';
  /** Unix socket of the Engine (default: DOCKER_HOST when set, else /var/run/docker.sock) ... */
  socketPath?: string;
  /** ... or a TCP URL like http://127.0.0.1:2375. */
  host?: string;
  /** Pin the Engine API version ("1.43"); absent = unversioned paths (the Engine's own version). */
  apiVersion?: string;
  /** Default Compose project for queries that do not name one. */
  project?: string;
  timeoutMs: number;
}

const CONFIG_FIELDS = ['type', 'socketPath', 'host', 'apiVersion', 'project', 'timeout'] as const;
const QUERY_PARAMS = ['project', 'service', 'labels'] as const;
export const DOCKER_QUERIES = ['cpu', 'cpu_percent', 'memory', 'memory_percent'] as const;
export type DockerQueryKind = (typeof DOCKER_QUERIES)[number];

export function parseDockerConfig(raw: unknown, path: string): DockerConfig {
  const o = readObject(raw, path, CONFIG_FIELDS);
  const socketPath = optString(o, 'socketPath', path);
  const host = optString(o, 'host', path);
  if (socketPath && host) throw new MetricConfigError(path, 'set either socketPath or host, not both');
  if (host) {
    let u: URL | undefined;
    try {
      u = new URL(host);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || !u.port) {
      throw new MetricConfigError(`${path}.host`, `"${host}" must be a URL with a port like http://127.0.0.1:2375 (for a unix socket use socketPath)`);
    }
  }
  let apiVersion = optString(o, 'apiVersion', path);
  if (apiVersion !== undefined) {
    apiVersion = apiVersion.replace(/^v/, '');
    if (!/^\d+\.\d+$/.test(apiVersion)) throw new MetricConfigError(`${path}.apiVersion`, `"${apiVersion}" is not an Engine API version; write it like 1.43`);
  }
  // Neither set: the Engine DOCKER_HOST names, as the docker CLI would use, else the default socket.
  const env = socketPath || host ? undefined : engineFromEnv(process.env.DOCKER_HOST);
  return {
    type: 'docker',
    socketPath: socketPath ?? env?.socketPath ?? (host || env?.host ? undefined : '/var/run/docker.sock'),
    host: host ?? env?.host,
    apiVersion,
    project: optString(o, 'project', path),
    timeoutMs: optDuration(o, 'timeout', path, { min: 1, max: 600_000 }) ?? 10_000,
  };
}

function engineFromEnv(v: string | undefined): { socketPath?: string; host?: string } | undefined {
  if (v?.startsWith('unix://')) return { socketPath: v.slice('unix://'.length) };
  if (v?.startsWith('tcp://')) return { host: `http://${v.slice('tcp://'.length).replace(/\/$/, '')}` };
  return undefined;
}

export interface DockerQuery {
  kind: DockerQueryKind;
  containers?: string[];
  /** Label filters as the Engine takes them: "key=value" or "key". */
  labels: string[];
}

export function parseDockerQuery(q: MetricQuery, path: string, defaults: { project?: string }): DockerQuery {
  const kind = q.query.trim();
  if (!(DOCKER_QUERIES as readonly string[]).includes(kind)) {
    throw new MetricConfigError(`${path}.query`, `"${q.query}" is not a container metric; use ${DOCKER_QUERIES.join(', ')}`);
  }
  const pp = `${path}.params`;
  const p = readParams(q.params, pp, QUERY_PARAMS);
  const labels: string[] = [];
  const project = optString(p, 'project', pp) ?? defaults.project;
  const service = optString(p, 'service', pp);
  if (project) labels.push(`com.docker.compose.project=${project}`);
  if (service) labels.push(`com.docker.compose.service=${service}`);
  if (p.labels !== undefined) {
    if (Array.isArray(p.labels)) labels.push(...(optStringList(p, 'labels', pp) ?? []));
    else if (p.labels && typeof p.labels === 'object') {
      for (const [k, v] of Object.entries(p.labels as Record<string, unknown>)) labels.push(`${k}=${String(v)}`);
    } else {
      throw new MetricConfigError(`${pp}.labels`, `must be a list like ["app=web"] or a mapping {app: web}, got ${typeName(p.labels)}`);
    }
  }
  const containers = optStringList(p, 'containers', pp);
  return { kind: kind as DockerQueryKind, containers: containers && containers.length ? containers : undefined, labels };
}

/** The parts of a GET /containers/{id}/stats answer this source reads. */
export interface DockerStats {
  id?: string;
  name?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
}

/**
 * CPU % as `docker stats` prints it (docker/cli calculateCPUPercentUnix): (Δcontainer / Δsystem) × online CPUs × 100.
 * Returns a reason string when the answer holds no interval to compute over.
 */
export function dockerCpuPercent(s: DockerStats): number | string {
  const cur = s.cpu_stats;
  const pre = s.precpu_stats;
  if (!cur?.cpu_usage || cur.system_cpu_usage === undefined) return 'no cpu_stats (is the container running?)';
  if (!pre?.cpu_usage || !pre.system_cpu_usage) return 'no precpu_stats: the Engine has only one reading of this container yet';
  const cpuDelta = (cur.cpu_usage.total_usage ?? 0) - (pre.cpu_usage.total_usage ?? 0);
  const systemDelta = cur.system_cpu_usage - pre.system_cpu_usage;
  let online = cur.online_cpus ?? 0;
  if (!online) online = cur.cpu_usage.percpu_usage?.length ?? 0;
  if (!online) return 'the Engine reported neither online_cpus nor percpu_usage';
  if (systemDelta <= 0) return 'the system CPU counter did not advance between the two readings';
  // docker stats shows 0 when the container's counter did not advance.
  return cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/** Memory as `docker stats` shows it: usage minus inactive file cache (cgroup v1 total_inactive_file, v2 inactive_file). */
export function dockerMemoryUsage(s: DockerStats): number | string {
  const m = s.memory_stats;
  if (!m || m.usage === undefined) return 'no memory_stats (is the container running?)';
  const st = m.stats ?? {};
  const v1 = st.total_inactive_file;
  if (v1 !== undefined && v1 < m.usage) return m.usage - v1;
  const v2 = st.inactive_file;
  if (v2 !== undefined && v2 < m.usage) return m.usage - v2;
  return m.usage;
}

export function dockerMemoryPercent(s: DockerStats): number | string {
  const used = dockerMemoryUsage(s);
  if (typeof used === 'string') return used;
  const limit = s.memory_stats?.limit;
  if (!limit) return 'the Engine reported no memory limit';
  return (used / limit) * 100;
}

function valueOf(kind: DockerQueryKind, s: DockerStats): number | string {
  switch (kind) {
    case 'cpu_percent': return dockerCpuPercent(s);
    case 'cpu': {
      const p = dockerCpuPercent(s);
      return typeof p === 'number' ? p / 100 : p;
    }
    case 'memory': return dockerMemoryUsage(s);
    case 'memory_percent': return dockerMemoryPercent(s);
  }
}

interface ListedContainer {
  Id: string;
  Names?: string[];
  Labels?: Record<string, string>;
}

export class DockerSource implements MetricSource {
  readonly kind = 'docker';
  private readonly docker: Docker;

  constructor(readonly name: string, readonly config: DockerConfig) {
    const version = config.apiVersion ? `v${config.apiVersion}` : undefined;
    // The deadline is an AbortSignal per sample (below), which also covers reading the answer.
    if (config.host) {
      const u = new URL(config.host);
      this.docker = new (dockerode())({ protocol: u.protocol.slice(0, -1) as 'http' | 'https', host: u.hostname, port: Number(u.port), version });
    } else {
      this.docker = new (dockerode())({ socketPath: config.socketPath, version });
    }
  }

  checkQuery(q: MetricQuery, path: string): void {
    parseDockerQuery(q, path, this.config);
  }

  async sample(q: MetricQuery, now: Date): Promise<Sample[]> {
    if (q.range) throw new MetricError(this.name, q.query, 'docker stats are read live; range reads are not supported', false);
    let dq: DockerQuery;
    try {
      dq = parseDockerQuery(q, q.name, this.config);
    } catch (e) {
      throw new MetricError(this.name, q.query, (e as Error).message, false);
    }
    const signal = AbortSignal.timeout(this.config.timeoutMs);
    let targets: Array<{ id: string; labels: Record<string, string> }>;
    if (dq.containers) {
      targets = dq.containers.map((id) => ({ id, labels: {} }));
    } else {
      if (dq.labels.length === 0) {
        throw new MetricError(this.name, q.query, 'no containers to read: set params.project/service or params.labels (or a project on the source)', false);
      }
      let listed: ListedContainer[];
      try {
        listed = (await this.docker.listContainers({ filters: { label: dq.labels }, abortSignal: signal } as Docker.ContainerListOptions)) as ListedContainer[];
      } catch (e) {
        throw this.engineError(e, q.query, 'GET /containers/json');
      }
      if (!Array.isArray(listed)) throw new MetricError(this.name, q.query, 'GET /containers/json did not answer a list', false);
      if (listed.length === 0) {
        throw new MetricError(this.name, q.query, `no running container has labels ${dq.labels.join(', ')}`, true);
      }
      targets = listed.map((c) => ({ id: c.Id, labels: c.Labels ?? {} }));
    }
    const results = await Promise.all(targets.map(async (c) => {
      try {
        const stats = (await this.docker.getContainer(c.id).stats({ stream: false, abortSignal: signal } as { stream: false })) as unknown as DockerStats;
        return { c, stats };
      } catch (e) {
        return { c, error: this.engineError(e, q.query, `GET /containers/${c.id}/stats`) };
      }
    }));
    const samples: Sample[] = [];
    const misses: string[] = [];
    let firstError: MetricError | undefined;
    for (const r of results) {
      if (r.error) {
        firstError ??= r.error;
        misses.push(r.error.message);
        continue;
      }
      const s = r.stats!;
      if (!s || typeof s !== 'object') {
        misses.push(`${r.c.id}: stats answer is not JSON`);
        continue;
      }
      const v = valueOf(dq.kind, s);
      const containerName = (s.name ?? '').replace(/^\//, '') || r.c.id;
      if (typeof v === 'string') {
        misses.push(`${containerName}: ${v}`);
        continue;
      }
      const labels: Record<string, string> = { container: containerName, container_id: s.id ?? r.c.id };
      const service = r.c.labels['com.docker.compose.service'];
      const project = r.c.labels['com.docker.compose.project'];
      if (service) labels.service = service;
      if (project) labels.project = project;
      samples.push({ labels, t: now.getTime(), value: v });
    }
    if (samples.length === 0) {
      if (firstError && misses.length === 1) throw firstError;
      throw new MetricError(this.name, q.query, `no value for any container (${misses.join('; ')})`, firstError ? firstError.retryable : true);
    }
    return samples;
  }

  private engineError(e: unknown, query: string, what: string): MetricError {
    const err = e as Error & { statusCode?: number; json?: { message?: string }; code?: string; name?: string };
    const where = this.config.host ?? this.config.socketPath;
    if (err.name === 'AbortError' || err.name === 'TimeoutError' || err.code === 'ABORT_ERR' || /timeout/i.test(err.message ?? '')) {
      return new MetricError(this.name, query, `${where}: ${what}: no answer within ${this.config.timeoutMs} ms (timeout)`, true, { cause: e });
    }
    if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT' || err.code === 'EACCES') {
      const why = err.code === 'ENOENT' ? 'no Docker socket there (is the Engine running?)'
        : err.code === 'EACCES' ? 'permission denied on the socket (add the user to the docker group)'
        : 'connection refused (is the Engine listening there?)';
      return new MetricError(this.name, query, `${where}: ${why}`, err.code !== 'EACCES', { cause: e });
    }
    if (err.statusCode) {
      const message = err.json?.message ?? err.message;
      return new MetricError(this.name, query, `${what}: HTTP ${err.statusCode}: ${message}`, err.statusCode >= 500, { cause: e });
    }
    return new MetricError(this.name, query, `${where}: ${what}: ${err.message ?? String(e)}`, true, { cause: e });
  }
}
