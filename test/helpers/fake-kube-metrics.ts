// A fake Kubernetes API server for the resource metrics API (metrics.k8s.io/v1beta1), on a loopback HTTP port.
// Serves PodMetrics / PodMetricsList exactly as metrics-server does (label selectors included), v1 Status errors,
// bearer-token auth (401), a missing API group (404) and injected failures (500, 503).
//
//   const kube = await startFakeKubeMetrics({ token: 't0k3n', pods: [fakePodMetrics({ name: 'web-1', labels: { app: 'web' }, cpu: '250m', memory: '64Mi' })] });
//   kube.url  -> http://127.0.0.1:PORT (use as the cluster server); kube.pods is plain data the test may change
// With { tls: true } it serves HTTPS like a real API server, with a self-signed certificate made by openssl at start
// (kube.caFile, for a kubeconfig's certificate-authority).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { requireBinary, tempDir } from './env.js';

export interface FakePodMetrics {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** Usage as metrics-server writes it: cpu in nanocores ("12345678n"), memory in Ki ("51200Ki"). */
  containers: Array<{ name: string; cpu: string; memory: string }>;
  /** Sample time (ISO); default: a second ago. */
  timestamp?: string;
}

export function fakePodMetrics(o: { name: string; namespace?: string; labels?: Record<string, string>; cpu?: string; memory?: string; containers?: FakePodMetrics['containers'] }): FakePodMetrics {
  return {
    namespace: o.namespace ?? 'default',
    name: o.name,
    labels: o.labels ?? {},
    containers: o.containers ?? [{ name: 'app', cpu: o.cpu ?? '1000000n', memory: o.memory ?? '10240Ki' }],
  };
}

export interface FakeKubeMetrics {
  url: string;
  port: number;
  /** PEM file of the server's self-signed certificate (tls: true only). */
  caFile?: string;
  pods: FakePodMetrics[];
  /** Requests seen: method, path with query, and the Authorization header. */
  requests: Array<{ method: string; url: string; authorization?: string }>;
  /** When set, requests must carry "Authorization: Bearer <token>". */
  token?: string;
  /** false = the metrics.k8s.io group is not registered (metrics-server not installed): 404 everywhere. */
  apiAvailable: boolean;
  /** Makes every metrics request fail with this Status. */
  fail?: { code: number; reason: string; message: string };
  delayMs: number;
  stop(): Promise<void>;
}

function status(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

type Requirement = (labels: Record<string, string>) => boolean;

/** Kubernetes label selector syntax: a=b, a==b, a!=b, a in (x,y), a notin (x,y), a, !a; comma-separated. */
export function parseLabelSelector(sel: string): Requirement[] | string {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of sel) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  const key = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;
  const value = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
  const reqs: Requirement[] = [];
  for (const raw of parts) {
    const p = raw.trim();
    if (p === '') continue;
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p))) {
      const [, k, op, list] = m as unknown as [string, string, string, string];
      const vals = list.split(',').map((v) => v.trim());
      if (!key.test(k) || vals.some((v) => !value.test(v))) return `unable to parse requirement: ${p}`;
      reqs.push(op === 'in' ? (l) => k in l && vals.includes(l[k]!) : (l) => !(k in l) || !vals.includes(l[k]!));
    } else if ((m = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(p))) {
      const [, k, op, v] = m as unknown as [string, string, string, string];
      if (!key.test(k)) return `unable to parse requirement: <nil>: Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.'`;
      if (!value.test(v)) return `unable to parse requirement: values[0][${k}]: Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'`;
      reqs.push(op === '!=' ? (l) => l[k] !== v : (l) => l[k] === v);
    } else if ((m = /^!\s*(\S+)$/.exec(p))) {
      const k = m[1]!;
      reqs.push((l) => !(k in l));
    } else if (key.test(p)) {
      reqs.push((l) => p in l);
    } else {
      return `unable to parse requirement: found '${p}', expected: !, identifier, or 'end of string'`;
    }
  }
  return reqs;
}

function podJson(p: FakePodMetrics) {
  return {
    metadata: { name: p.name, namespace: p.namespace, creationTimestamp: new Date().toISOString(), labels: p.labels },
    timestamp: p.timestamp ?? new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    window: '10.044s',
    containers: p.containers.map((c) => ({ name: c.name, usage: { cpu: c.cpu, memory: c.memory } })),
  };
}

/** A self-signed certificate for 127.0.0.1, valid from now (so it suits any machine's clock). */
function selfSignedCert(dir: string): { cert: string; key: string } {
  const openssl = requireBinary('/usr/bin/openssl', 'openssl');
  const cert = join(dir, 'apiserver.crt');
  const key = join(dir, 'apiserver.key');
  const r = spawnSync(openssl, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=fake-kube-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-addext', 'basicConstraints=critical,CA:TRUE',
  ], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`openssl could not make a test certificate: ${r.stderr}`);
  return { cert, key };
}

export async function startFakeKubeMetrics(opts: { pods?: FakePodMetrics[]; token?: string; tls?: boolean } = {}): Promise<FakeKubeMetrics> {
  const state: FakeKubeMetrics = {
    url: '',
    port: 0,
    pods: opts.pods ?? [],
    requests: [],
    token: opts.token,
    apiAvailable: true,
    delayMs: 0,
    stop: async () => {},
  };
  const send = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'X-Kubernetes-Pf-Flowschema-Uid': 'fake' });
    res.end(JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const auth = req.headers.authorization;
    state.requests.push({ method: req.method ?? '', url: req.url ?? '', ...(auth ? { authorization: auth } : {}) });
    if (state.token !== undefined && auth !== `Bearer ${state.token}`) {
      return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    }
    const url = new URL(req.url ?? '/', 'http://kube');
    const path = url.pathname.replace(/\/+$/, '');
    const group = '/apis/metrics.k8s.io/v1beta1';
    if (!path.startsWith(group) || !state.apiAvailable) {
      return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource', {}));
    }
    if (req.method !== 'GET') return send(res, 405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
    if (state.fail) return send(res, state.fail.code, status(state.fail.code, state.fail.reason, state.fail.message));
    if (path === group) {
      return send(res, 200, {
        kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'metrics.k8s.io/v1beta1',
        resources: [
          { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
          { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
        ],
      });
    }
    const list = /^\/apis\/metrics\.k8s\.io\/v1beta1(?:\/namespaces\/([^/]+))?\/pods(?:\/([^/]+))?$/.exec(path);
    if (!list) return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource', {}));
    const ns = list[1] ? decodeURIComponent(list[1]) : undefined;
    const name = list[2] ? decodeURIComponent(list[2]) : undefined;
    if (name) {
      const p = state.pods.find((x) => x.name === name && x.namespace === ns);
      if (!p) return send(res, 404, status(404, 'NotFound', `podmetrics.metrics.k8s.io "${name}" not found`, { name, group: 'metrics.k8s.io', kind: 'pods' }));
      return send(res, 200, { kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', ...podJson(p) });
    }
    const sel = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
    if (typeof sel === 'string') return send(res, 400, status(400, 'BadRequest', sel));
    const items = state.pods.filter((p) => (ns === undefined || p.namespace === ns) && sel.every((r) => r(p.labels)));
    return send(res, 200, { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items: items.map(podJson) });
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (state.delayMs > 0) setTimeout(() => handle(req, res), state.delayMs);
    else handle(req, res);
  };
  const dir = opts.tls ? tempDir('scalepilot-fake-kube-') : undefined;
  let server;
  if (dir) {
    const files = selfSignedCert(dir.path);
    state.caFile = files.cert;
    server = createHttpsServer({ cert: readFileSync(files.cert), key: readFileSync(files.key) }, onRequest);
  } else {
    server = createServer(onRequest);
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  state.port = typeof a === 'object' && a ? a.port : 0;
  state.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${state.port}`;
  state.stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    dir?.cleanup();
  };
  return state;
}
