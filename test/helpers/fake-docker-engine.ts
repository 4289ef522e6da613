// A fake Docker Engine for provider tests: a node:http server on a unix socket speaking the real Engine API shapes
// for the endpoints scalepilot uses (/_ping, /containers/json with label filters, /containers/{id}/json,
// /containers/{id}/update; with or without a /v1.xx prefix; JSON error bodies), plus a fake `docker` CLI script
// that records its argv, answers `compose version` as the v2 plugin would, and applies `compose up --scale`,
// `compose config --services` and `update` to the fake engine the way Docker would.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface FakeContainer {
  Id: string;
  name: string;
  project: string;
  service: string;
  number: number;
  oneoff: boolean;
  status: 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead';
  exitCode: number;
  pid: number;
  startedAt: string;
  created: number;
  restartCount: number;
  /** undefined = the image has no HEALTHCHECK */
  health?: 'starting' | 'healthy' | 'unhealthy';
  healthLog: Array<{ Start: string; End: string; ExitCode: number; Output: string }>;
  hostConfig: { NanoCpus: number; Memory: number; CpuShares: number; MemoryReservation: number; MemorySwap: number };
}

export interface ComposeServiceDef {
  image?: string;
  /** health state new containers start in (undefined: no healthcheck) */
  health?: 'starting' | 'healthy' | 'unhealthy';
}

let nextPid = 40000;

export class FakeDockerEngine {
  readonly containers: FakeContainer[] = [];
  /** method + path (without the version prefix) of every request, oldest first */
  readonly requests: Array<{ method: string; path: string; version?: string; query: URLSearchParams }> = [];
  /** compose services the fake knows, by "project/service" */
  readonly services = new Map<string, ComposeServiceDef>();
  /** answer every Engine request with this error (what a real Engine cannot be made to do on demand) */
  failWith?: { status: number; message: string };
  private server?: Server;

  constructor(readonly socketPath: string) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e) => json(res, 500, { message: String((e as Error).message) }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); });
  }

  defineService(project: string, service: string, def: ComposeServiceDef = {}): void {
    this.services.set(`${project}/${service}`, def);
  }

  /** What `docker compose up -d --scale service=n` does to the container set: add or remove the highest numbers. */
  composeScale(project: string, service: string, n: number): void {
    const def = this.services.get(`${project}/${service}`);
    if (!def) throw new Error(`no such service: ${service}`);
    const mine = this.list(project, service).sort((a, b) => a.number - b.number);
    for (const c of mine.slice(n)) this.containers.splice(this.containers.indexOf(c), 1);
    for (let num = 1; this.list(project, service).length < n; num++) {
      if (mine.some((c) => c.number === num)) continue;
      const now = new Date();
      const c: FakeContainer = {
        Id: randomBytes(32).toString('hex'),
        name: `${project}-${service}-${num}`,
        project,
        service,
        number: num,
        oneoff: false,
        status: 'running',
        exitCode: 0,
        pid: nextPid++,
        // The Engine reports nanoseconds.
        startedAt: now.toISOString().replace(/\.(\d{3})Z$/, '.$1456789Z'),
        created: Math.floor(now.getTime() / 1000),
        restartCount: 0,
        healthLog: [],
        hostConfig: { NanoCpus: 0, Memory: 0, CpuShares: 0, MemoryReservation: 0, MemorySwap: 0 },
        ...(def.health ? { health: def.health } : {}),
      };
      if (def.health === 'healthy') c.healthLog.push({ Start: now.toISOString(), End: now.toISOString(), ExitCode: 0, Output: 'ok' });
      this.containers.push(c);
      mine.push(c);
    }
  }

  list(project: string, service: string): FakeContainer[] {
    return this.containers.filter((c) => c.project === project && c.service === service);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://docker');
    const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
    const version = m?.[1];
    const path = m ? m[2]! : url.pathname;
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    this.requests.push({ method, path, ...(version ? { version } : {}), query: url.searchParams });
    if (this.failWith && !path.startsWith('/_fake/')) return json(res, this.failWith.status, { message: this.failWith.message });
    if (version && Number(version) < 1.24) {
      return json(res, 400, { message: `client version ${version} is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version` });
    }
    if (method === 'GET' && path === '/_ping') return text(res, 200, 'OK');
    if (method === 'GET' && path === '/version') return json(res, 200, { Version: '24.0.7', ApiVersion: '1.43', MinAPIVersion: '1.12', Os: 'linux', Arch: 'amd64' });
    if (method === 'GET' && path === '/containers/json') return this.listContainers(res, url.searchParams);
    // Control endpoint for the fake CLI only (the real CLI talks Compose's own protocol to the Engine).
    if (method === 'POST' && path === '/_fake/compose/scale') {
      const { project, service, replicas } = JSON.parse(body) as { project: string; service: string; replicas: number };
      try {
        this.composeScale(project, service, replicas);
      } catch (e) {
        return json(res, 404, { message: (e as Error).message });
      }
      return json(res, 200, {});
    }
    const cm = /^\/containers\/([^/]+)\/(json|update)$/.exec(path);
    if (cm) {
      const c = this.find(decodeURIComponent(cm[1]!));
      if (!c) return json(res, 404, { message: `No such container: ${decodeURIComponent(cm[1]!)}` });
      if (method === 'GET' && cm[2] === 'json') return json(res, 200, inspect(c));
      if (method === 'POST' && cm[2] === 'update') {
        let u: Record<string, unknown>;
        try {
          u = JSON.parse(body || '{}') as Record<string, unknown>;
        } catch {
          return json(res, 400, { message: 'invalid JSON body' });
        }
        const memory = Number(u.Memory ?? c.hostConfig.Memory);
        if (u.Memory !== undefined && memory > 0 && memory < 6 * 1024 * 1024) {
          return json(res, 400, { message: 'Minimum memory limit allowed is 6MB' });
        }
        for (const k of ['NanoCpus', 'Memory', 'CpuShares', 'MemoryReservation', 'MemorySwap'] as const) {
          if (u[k] !== undefined) c.hostConfig[k] = Number(u[k]);
        }
        return json(res, 200, { Warnings: [] });
      }
    }
    json(res, 404, { message: `page not found` });
  }

  private find(idOrName: string): FakeContainer | undefined {
    return this.containers.find((c) => c.Id === idOrName || c.name === idOrName.replace(/^\//, '') || (idOrName.length >= 12 && c.Id.startsWith(idOrName)));
  }

  private listContainers(res: ServerResponse, q: URLSearchParams): void {
    const all = q.get('all') === '1' || q.get('all') === 'true';
    let labels: string[] = [];
    const raw = q.get('filters');
    if (raw) {
      let f: Record<string, unknown>;
      try {
        f = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return json(res, 400, { message: `invalid filter '${raw}'` });
      }
      for (const key of Object.keys(f)) {
        if (key !== 'label') return json(res, 400, { message: `invalid filter '${key}'` });
      }
      // The Engine accepts both {"label": ["a=b"]} and {"label": {"a=b": true}}.
      const l = f.label;
      labels = Array.isArray(l) ? (l as string[]) : l && typeof l === 'object' ? Object.keys(l) : [];
    }
    const out = this.containers
      .filter((c) => all || c.status === 'running')
      .filter((c) => labels.every((sel) => {
        const [k, v] = sel.split('=', 2) as [string, string | undefined];
        const have = containerLabels(c)[k];
        return v === undefined ? have !== undefined : have === v;
      }))
      .map((c) => ({
        Id: c.Id,
        Names: [`/${c.name}`],
        Image: this.services.get(`${c.project}/${c.service}`)?.image ?? `${c.project}-${c.service}`,
        ImageID: `sha256:${'0'.repeat(64)}`,
        Command: 'node server.mjs',
        Created: c.created,
        Ports: [],
        Labels: containerLabels(c),
        State: c.status,
        Status: c.status === 'running' ? `Up 5 seconds${c.health ? ` (${c.health})` : ''}` : `Exited (${c.exitCode}) 3 seconds ago`,
        HostConfig: { NetworkMode: `${c.project}_default` },
        NetworkSettings: { Networks: {} },
        Mounts: [],
      }));
    json(res, 200, out);
  }
}

function containerLabels(c: FakeContainer): Record<string, string> {
  return {
    'com.docker.compose.project': c.project,
    'com.docker.compose.service': c.service,
    'com.docker.compose.container-number': String(c.number),
    'com.docker.compose.oneoff': c.oneoff ? 'True' : 'False',
    'com.docker.compose.version': '2.24.0',
  };
}

function inspect(c: FakeContainer): Record<string, unknown> {
  const running = c.status === 'running';
  return {
    Id: c.Id,
    Created: new Date(c.created * 1000).toISOString(),
    Path: 'node',
    Args: ['server.mjs'],
    State: {
      Status: c.status,
      Running: running || c.status === 'paused',
      Paused: c.status === 'paused',
      Restarting: c.status === 'restarting',
      OOMKilled: false,
      Dead: c.status === 'dead',
      Pid: running ? c.pid : 0,
      ExitCode: c.exitCode,
      Error: '',
      StartedAt: c.startedAt,
      FinishedAt: running ? '0001-01-01T00:00:00Z' : new Date().toISOString(),
      ...(c.health ? { Health: { Status: c.health, FailingStreak: c.health === 'unhealthy' ? 3 : 0, Log: c.healthLog } } : {}),
    },
    Image: `sha256:${'0'.repeat(64)}`,
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    HostConfig: { ...c.hostConfig, NetworkMode: `${c.project}_default`, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } },
    Config: { Hostname: c.Id.slice(0, 12), Image: `${c.project}-${c.service}`, Labels: containerLabels(c) },
    NetworkSettings: { Networks: {} },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.43', 'Content-Length': Buffer.byteLength(s) });
  res.end(s);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Api-Version': '1.43', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Writes a fake `docker` CLI into dir and returns its path. It appends its argv (one JSON array per line) to
 * dir/docker-argv.jsonl, reads DOCKER_HOST (unix://...) like the real CLI, and:
 *  - `compose [--dry-run] -p P -f F... up -d --scale S=N ... S`: checks the files exist, then (unless --dry-run)
 *    asks the fake engine to converge S to N containers; an unknown service fails like Compose ("no such service");
 *  - `update --cpus --memory --cpu-shares --memory-reservation ID...`: POSTs /v1.43/containers/ID/update with the
 *    Engine's field names, exactly as the real CLI does.
 * Anything else exits 1 with "unknown command".
 */
/** `composeVersion` is what `docker compose version` answers (the v2 plugin; 2.20+ has --dry-run). */
export function writeFakeDockerCli(dir: string, o: { composeVersion?: string } = {}): { path: string; argvLog: string; calls: () => string[][] } {
  const path = join(dir, 'docker');
  const argvLog = join(dir, 'docker-argv.jsonl');
  const script = `#!${process.execPath}
const fs = require('node:fs');
const http = require('node:http');
const argv = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(argvLog)}, JSON.stringify(argv) + '\\n');
const host = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
if (!host.startsWith('unix://')) { console.error('fake docker: only unix:// DOCKER_HOST is supported'); process.exit(1); }
const socketPath = host.slice('unix://'.length);
function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path, method, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode, body: data ? JSON.parse(data) : {} }));
    });
    req.on('error', (e) => reject(new Error('Cannot connect to the Docker daemon at ' + host + '. Is the docker daemon running? (' + e.code + ')')));
    req.end(body ? JSON.stringify(body) : undefined);
  });
}
function bytes(v) {
  const m = /^(\\d+(?:\\.\\d+)?)([bkmg]?)$/i.exec(v);
  if (!m) { console.error('invalid size: ' + JSON.stringify(v)); process.exit(1); }
  return Math.round(Number(m[1]) * { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()]);
}
(async () => {
  if (argv[0] === 'compose' && argv[1] === 'version') { console.log('Docker Compose version v${o.composeVersion ?? '2.29.1'}'); return; }
  if (argv[0] === 'compose') {
    let i = 1, dryRun = false, project, files = [], scale, service;
    const rest = [];
    for (; i < argv.length; i++) {
      const a = argv[i];
      if (a === '--dry-run') dryRun = true;
      else if (a === '-p') project = argv[++i];
      else if (a === '-f') files.push(argv[++i]);
      else if (a === '--scale') scale = argv[++i];
      else if (a === '--timeout' || a === '-t') i++;
      else rest.push(a);
    }
    if (rest[0] === 'config' && rest[1] === '--services') {
      for (const f of files) {
        if (!fs.existsSync(f)) { console.error('open ' + f + ': no such file or directory'); process.exit(14); }
        for (const m of fs.readFileSync(f, 'utf8').matchAll(/^  ([A-Za-z0-9_.-]+):/gm)) console.log(m[1]);
      }
      return;
    }
    if (rest[0] !== 'up') { console.error('fake docker: only compose up and config --services are supported'); process.exit(1); }
    for (const f of files) if (!fs.existsSync(f)) { console.error('open ' + f + ': no such file or directory'); process.exit(14); }
    service = rest.filter((a) => !a.startsWith('-')).slice(1)[0];
    const [svc, n] = scale.split('=');
    if (svc !== service) { console.error('fake docker: --scale names ' + svc + ' but up targets ' + service); process.exit(1); }
    if (dryRun) { console.log('DRY-RUN MODE -  Container ' + project + '-' + svc + '  Running'); return; }
    const r = await call('POST', '/_fake/compose/scale', { project, service: svc, replicas: Number(n) });
    if (r.status !== 200) { console.error(r.body.message); process.exit(1); }
    return;
  }
  if (argv[0] === 'update') {
    const body = {};
    const ids = [];
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i];
      if (a === '--cpus') body.NanoCpus = Math.round(Number(argv[++i]) * 1e9);
      else if (a === '--memory' || a === '-m') body.Memory = bytes(argv[++i]);
      else if (a === '--memory-swap') body.MemorySwap = bytes(argv[++i]);
      else if (a === '--cpu-shares' || a === '-c') body.CpuShares = Number(argv[++i]);
      else if (a === '--memory-reservation') body.MemoryReservation = bytes(argv[++i]);
      else if (a.startsWith('-')) { console.error('unknown flag: ' + a); process.exit(125); }
      else ids.push(a);
    }
    for (const id of ids) {
      const r = await call('POST', '/v1.43/containers/' + id + '/update', body);
      if (r.status !== 200) { console.error('Error response from daemon: ' + r.body.message); process.exit(1); }
      console.log(id);
    }
    return;
  }
  console.error('docker: unknown command: docker ' + argv[0]);
  process.exit(1);
})().catch((e) => { console.error(e.message); process.exit(1); });
`;
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return {
    path,
    argvLog,
    calls: () => (existsSync(argvLog) ? readFileSync(argvLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]) : []),
  };
}
