// A fake Docker Engine for tests: a node:http server on a unix socket (or TCP) answering the Engine API endpoints
// scalepilot reads, with the Engine's JSON shapes (cgroup v1 and v2 stats), version prefixes and error bodies.
//
//   const docker = await startFakeDocker({ containers: [fakeContainer({ name: 'shop-web-1', project: 'shop', service: 'web' })] });
//   new Docker({ socketPath: docker.socketPath })   // or { host: '127.0.0.1', port: docker.port } with { tcp: true }
//   docker.containers[0].cpu.total += 5e8;          // state is plain data the test changes between reads
//   await docker.stop();
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { tempDir } from './env.js';

/** Engine API versions this fake speaks (Docker 24). */
export const MAX_API_VERSION = '1.43';
const MIN_API_VERSION = '1.12';

export interface FakeContainer {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  state: 'running' | 'exited' | 'paused';
  cgroup: 'v1' | 'v2';
  /** CPU counters in nanoseconds: this reading and the Engine's previous one (precpu_stats). */
  cpu: { total: number; system: number; preTotal: number; preSystem: number; onlineCpus: number; noPrecpu?: boolean };
  /** Memory in bytes: cgroup usage (includes page cache), inactive file cache, limit. */
  memory: { usage: number; inactiveFile: number; limit: number };
}

/** A running container with Compose labels; numbers default to an idle container on a 4-CPU host. */
export function fakeContainer(o: Partial<FakeContainer> & { name: string; project?: string; service?: string; number?: number }): FakeContainer {
  const labels: Record<string, string> = { ...(o.labels ?? {}) };
  if (o.project) {
    labels['com.docker.compose.project'] = o.project;
    labels['com.docker.compose.config-hash'] = randomBytes(32).toString('hex');
    labels['com.docker.compose.oneoff'] = 'False';
    labels['com.docker.compose.version'] = '2.24.5';
  }
  if (o.service) labels['com.docker.compose.service'] = o.service;
  if (o.service) labels['com.docker.compose.container-number'] = String(o.number ?? 1);
  return {
    id: o.id ?? randomBytes(32).toString('hex'),
    name: o.name,
    image: o.image ?? 'nginx:1.25',
    labels,
    state: o.state ?? 'running',
    cgroup: o.cgroup ?? 'v2',
    cpu: o.cpu ?? { total: 59_371_000, system: 283_140_000_000_000, preTotal: 59_371_000, preSystem: 283_136_000_000_000, onlineCpus: 4 },
    memory: o.memory ?? { usage: 9_379_840, inactiveFile: 1_130_496, limit: 8_232_525_824 },
  };
}

function cpuStats(c: FakeContainer, pre: boolean) {
  const total = pre ? c.cpu.preTotal : c.cpu.total;
  if (pre && c.cpu.noPrecpu) {
    // What the Engine sends before it has a previous reading (or with one-shot=true).
    return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  }
  const usage: Record<string, unknown> = {
    total_usage: total,
    usage_in_kernelmode: Math.round(total * 0.3),
    usage_in_usermode: total - Math.round(total * 0.3),
  };
  if (c.cgroup === 'v1') {
    const per = Math.floor(total / c.cpu.onlineCpus);
    usage.percpu_usage = Array.from({ length: c.cpu.onlineCpus }, (_, i) => (i === 0 ? total - per * (c.cpu.onlineCpus - 1) : per));
  }
  return {
    cpu_usage: usage,
    system_cpu_usage: pre ? c.cpu.preSystem : c.cpu.system,
    online_cpus: c.cpu.onlineCpus,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

function memoryStats(c: FakeContainer) {
  const m = c.memory;
  if (c.cgroup === 'v2') {
    const file = m.inactiveFile + 2_445_312;
    return {
      usage: m.usage,
      stats: {
        active_anon: 4096, active_file: 2_445_312, anon: Math.max(0, m.usage - file), anon_thp: 0, file, file_dirty: 0,
        file_mapped: 2_154_496, file_writeback: 0, inactive_anon: 5_083_136, inactive_file: m.inactiveFile, kernel_stack: 114_688,
        pgactivate: 597, pgdeactivate: 0, pgfault: 2772, pglazyfree: 0, pglazyfreed: 0, pgmajfault: 16, pgrefill: 0, pgscan: 0,
        pgsteal: 0, shmem: 0, slab: 418_024, slab_reclaimable: 171_736, slab_unreclaimable: 246_288, sock: 0,
        thp_collapse_alloc: 0, thp_fault_alloc: 0, unevictable: 0, workingset_activate: 0, workingset_nodereclaim: 0,
        workingset_refault: 0,
      },
      limit: m.limit,
    };
  }
  const cache = m.inactiveFile + 1_200_000;
  return {
    usage: m.usage,
    max_usage: m.usage + 4_096_000,
    stats: {
      active_anon: 0, active_file: 1_200_000, cache, dirty: 0, hierarchical_memory_limit: 9_223_372_036_854_771_712,
      hierarchical_memsw_limit: 9_223_372_036_854_771_712, inactive_anon: 2_801_664, inactive_file: m.inactiveFile,
      mapped_file: 1_081_344, pgfault: 4_466, pgmajfault: 6, pgpgin: 3_773, pgpgout: 1_338, rss: Math.max(0, m.usage - cache),
      rss_huge: 0, total_active_anon: 0, total_active_file: 1_200_000, total_cache: cache, total_dirty: 0,
      total_inactive_anon: 2_801_664, total_inactive_file: m.inactiveFile, total_mapped_file: 1_081_344, total_pgfault: 4_466,
      total_pgmajfault: 6, total_pgpgin: 3_773, total_pgpgout: 1_338, total_rss: Math.max(0, m.usage - cache), total_rss_huge: 0,
      total_unevictable: 0, total_writeback: 0, unevictable: 0, writeback: 0,
    },
    failcnt: 0,
    limit: m.limit,
  };
}

/** GET /containers/{id}/stats?stream=false as the Engine answers it. */
export function statsJson(c: FakeContainer, now = new Date()): Record<string, unknown> {
  if (c.state !== 'running') {
    // A stopped container: zero times, empty memory stats.
    return {
      read: '0001-01-01T00:00:00Z', preread: '0001-01-01T00:00:00Z', pids_stats: {}, blkio_stats: {}, num_procs: 0, storage_stats: {},
      cpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
      precpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
      memory_stats: {}, name: `/${c.name}`, id: c.id,
    };
  }
  return {
    read: now.toISOString(),
    preread: new Date(now.getTime() - 1000).toISOString(),
    pids_stats: { current: 7, limit: 18_446_744_073_709_551_615 },
    blkio_stats: {
      io_service_bytes_recursive: [{ major: 8, minor: 0, op: 'read', value: 1_175_552 }, { major: 8, minor: 0, op: 'write', value: 0 }],
      io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null,
      io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(c, false),
    precpu_stats: cpuStats(c, true),
    memory_stats: memoryStats(c),
    name: `/${c.name}`,
    id: c.id,
    networks: { eth0: { rx_bytes: 1006, rx_packets: 11, rx_errors: 0, rx_dropped: 0, tx_bytes: 0, tx_packets: 0, tx_errors: 0, tx_dropped: 0 } },
  };
}

/** One entry of GET /containers/json. */
export function listEntry(c: FakeContainer): Record<string, unknown> {
  const project = c.labels['com.docker.compose.project'];
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.image,
    ImageID: `sha256:${'a'.repeat(64)}`,
    Command: '/docker-entrypoint.sh nginx -g \'daemon off;\'',
    Created: 1_714_557_600,
    Ports: [{ PrivatePort: 80, Type: 'tcp' }],
    Labels: c.labels,
    State: c.state,
    Status: c.state === 'running' ? 'Up 5 minutes' : 'Exited (0) 2 minutes ago',
    HostConfig: { NetworkMode: project ? `${project}_default` : 'bridge' },
    NetworkSettings: { Networks: { [project ? `${project}_default` : 'bridge']: { IPAddress: '172.18.0.2', Gateway: '172.18.0.1', MacAddress: '02:42:ac:12:00:02' } } },
    Mounts: [],
  };
}

export interface FakeDocker {
  /** Unix socket path (when started on a socket). */
  socketPath?: string;
  /** TCP port (when started with tcp: true). */
  port?: number;
  containers: FakeContainer[];
  /** Every request line seen, e.g. "GET /v1.43/containers/json?filters=...". */
  requests: string[];
  /** Makes matching requests answer this status and {"message"}. */
  fail?: { path: RegExp; status: number; message: string };
  /** Delays every answer (for timeout tests). */
  delayMs: number;
  stop(): Promise<void>;
}

function versionCmp(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number) as [number, number];
  const [b1, b2] = b.split('.').map(Number) as [number, number];
  return a1 - b1 || a2 - b2;
}

function matchesFilters(c: FakeContainer, filters: Record<string, string[]>): boolean {
  for (const l of filters.label ?? []) {
    const i = l.indexOf('=');
    if (i < 0 ? !(l in c.labels) : c.labels[l.slice(0, i)] !== l.slice(i + 1)) return false;
  }
  if (filters.status && !filters.status.includes(c.state)) return false;
  if (filters.name && !filters.name.some((n) => c.name.includes(n.replace(/^\//, '')))) return false;
  if (filters.id && !filters.id.some((id) => c.id.startsWith(id))) return false;
  return true;
}

/** Docker accepts filters as {"label": ["a=b"]} or the older {"label": {"a=b": true}}. */
function parseFilters(raw: string | null): Record<string, string[]> | string {
  if (!raw) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    return `invalid filter: ${raw}`;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return 'invalid filter: not an object';
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (!['label', 'status', 'name', 'id'].includes(k)) return `invalid filter '${k}'`;
    if (Array.isArray(v)) out[k] = v.map(String);
    else if (v && typeof v === 'object') out[k] = Object.keys(v);
    else return `invalid filter '${k}'`;
  }
  return out;
}

export async function startFakeDocker(opts: { containers?: FakeContainer[]; tcp?: boolean } = {}): Promise<FakeDocker> {
  const dir = opts.tcp ? undefined : tempDir('scalepilot-fake-docker-');
  const state: FakeDocker = {
    containers: opts.containers ?? [],
    requests: [],
    delayMs: 0,
    stop: async () => {},
  };
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body) + '\n';
    res.writeHead(status, {
      'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
      'Api-Version': MAX_API_VERSION,
      'Docker-Experimental': 'false',
      Ostype: 'linux',
      Server: 'Docker/24.0.7 (linux)',
    });
    res.end(text);
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    state.requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://docker');
    const m = /^(?:\/v(\d+\.\d+))?(\/.*)$/.exec(url.pathname);
    const version = m?.[1];
    const path = m?.[2] ?? url.pathname;
    if (version && versionCmp(version, MAX_API_VERSION) > 0) {
      return send(res, 400, { message: `client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}` });
    }
    if (version && versionCmp(version, MIN_API_VERSION) < 0) {
      return send(res, 400, { message: `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version` });
    }
    if (state.fail && state.fail.path.test(path)) return send(res, state.fail.status, { message: state.fail.message });
    if (req.method !== 'GET') return send(res, 404, { message: 'page not found' });
    if (path === '/_ping') return send(res, 200, 'OK');
    if (path === '/version') {
      return send(res, 200, { Version: '24.0.7', ApiVersion: MAX_API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: 'amd64', KernelVersion: '6.1.0' });
    }
    if (path === '/containers/json') {
      const filters = parseFilters(url.searchParams.get('filters'));
      if (typeof filters === 'string') return send(res, 400, { message: filters });
      const all = ['1', 'true', 'True'].includes(url.searchParams.get('all') ?? '');
      const list = state.containers.filter((c) => (all || c.state === 'running') && matchesFilters(c, filters));
      return send(res, 200, list.map(listEntry));
    }
    const sm = /^\/containers\/([^/]+)\/stats$/.exec(path);
    if (sm) {
      const ref = decodeURIComponent(sm[1]!);
      const c = state.containers.find((x) => x.id === ref || x.name === ref.replace(/^\//, ''))
        ?? (state.containers.filter((x) => x.id.startsWith(ref)).length === 1 ? state.containers.find((x) => x.id.startsWith(ref)) : undefined);
      if (!c) return send(res, 404, { message: `No such container: ${ref}` });
      const stream = !['0', 'false', 'False'].includes(url.searchParams.get('stream') ?? '1');
      if (stream) {
        // The streaming form sends one JSON document per second; two are enough for any client here.
        res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': MAX_API_VERSION });
        res.write(JSON.stringify(statsJson(c)) + '\n');
        res.end(JSON.stringify(statsJson(c)) + '\n');
        return;
      }
      return send(res, 200, statsJson(c));
    }
    return send(res, 404, { message: 'page not found' });
  };
  const server = createServer((req, res) => {
    if (state.delayMs > 0) setTimeout(() => handle(req, res), state.delayMs);
    else handle(req, res);
  });
  if (opts.tcp) {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    state.port = typeof a === 'object' && a ? a.port : 0;
  } else {
    state.socketPath = join(dir!.path, 'docker.sock');
    await new Promise<void>((r) => server.listen(state.socketPath, () => r()));
  }
  state.stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    dir?.cleanup();
  };
  return state;
}
