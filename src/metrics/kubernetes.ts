// Kubernetes resource metrics source: pods' CPU (cores) and memory (bytes) from metrics.k8s.io/v1beta1 PodMetrics,
// as the HPA's Resource metrics read them (sum over the pod's containers, or one container).
import http from 'node:http';
import https from 'node:https';
import { isAbsolute, resolve } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeClient } from '../lazy.js';
import { MAX_ANSWER_BYTES, readFileBounded } from '../bounded-read.js';
import { MetricConfigError, optBool, optDuration, optSecret, optString, readObject, readParams, reqUrl, typeName } from './config.js';
import { MetricError, type MetricQuery, type MetricSource, type Sample } from './types.js';

/** A service-account token is a few kB; a token file past this is not one. */
const MAX_TOKEN_BYTES = 1024 * 1024;

export interface KubernetesMetricsConfig {
  type: 'kubernetes';
  /** kubeconfig file; absent = the usual lookup (KUBECONFIG, ~/.kube/config, in-cluster service account). */
  kubeconfig?: string;
  context?: string;
  /** Explicit API server URL instead of a kubeconfig. */
  server?: string;
  token?: string;
  tokenFile?: string;
  caFile?: string;
  insecureSkipTLSVerify: boolean;
  /** Namespace for queries that do not name one. */
  namespace?: string;
  timeoutMs: number;
}

const CONFIG_FIELDS = ['type', 'kubeconfig', 'context', 'server', 'token', 'tokenFile', 'caFile', 'insecureSkipTLSVerify', 'namespace', 'timeout'] as const;
const QUERY_PARAMS = ['namespace', 'labelSelector', 'container'] as const;

export function parseKubernetesMetricsConfig(raw: unknown, path: string, opts: { baseDir?: string } = {}): KubernetesMetricsConfig {
  const o = readObject(raw, path, CONFIG_FIELDS);
  const abs = (p: string | undefined) => (p === undefined || isAbsolute(p) ? p : resolve(opts.baseDir ?? '.', p));
  const server = o.server !== undefined ? reqUrl(o, 'server', path, 'https://127.0.0.1:6443').toString().replace(/\/+$/, '') : undefined;
  const cfg: KubernetesMetricsConfig = {
    type: 'kubernetes',
    kubeconfig: abs(optString(o, 'kubeconfig', path)),
    context: optString(o, 'context', path),
    server,
    token: optSecret(o, 'token', path),
    tokenFile: abs(optString(o, 'tokenFile', path)),
    caFile: abs(optString(o, 'caFile', path)),
    insecureSkipTLSVerify: optBool(o, 'insecureSkipTLSVerify', path) ?? false,
    namespace: optString(o, 'namespace', path),
    timeoutMs: optDuration(o, 'timeout', path, { min: 1, max: 600_000 }) ?? 10_000,
  };
  if (server && (cfg.kubeconfig || cfg.context)) {
    throw new MetricConfigError(path, 'set either server (with token/tokenFile/caFile) or kubeconfig/context, not both');
  }
  if (!server && (cfg.token || cfg.tokenFile || cfg.caFile || cfg.insecureSkipTLSVerify)) {
    throw new MetricConfigError(path, 'token, tokenFile, caFile and insecureSkipTLSVerify go with server; add server: https://HOST:6443 or use a kubeconfig');
  }
  if (cfg.token && cfg.tokenFile) throw new MetricConfigError(path, 'set either token or tokenFile, not both');
  return cfg;
}

export interface KubernetesMetricsQuery {
  resource: 'cpu' | 'memory';
  namespace?: string;
  labelSelector?: string;
  container?: string;
  /** Only these pods (names), when the controller passes the replicas it observed. */
  pods?: string[];
}

export function parseKubernetesMetricsQuery(q: MetricQuery, path: string): KubernetesMetricsQuery {
  const resource = q.query.trim();
  if (resource !== 'cpu' && resource !== 'memory') {
    throw new MetricConfigError(`${path}.query`, `"${q.query}" is not a pod resource metric; use cpu (cores) or memory (bytes)`);
  }
  const pp = `${path}.params`;
  const p = readParams(q.params, pp, QUERY_PARAMS);
  let labelSelector: string | undefined;
  const sel = p.labelSelector;
  if (typeof sel === 'string') labelSelector = sel.trim() || undefined;
  else if (sel && typeof sel === 'object' && !Array.isArray(sel)) {
    labelSelector = Object.entries(sel as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).join(',');
  } else if (sel !== undefined) {
    throw new MetricConfigError(`${pp}.labelSelector`, `must be a selector string like app=web,tier!=cache or a mapping {app: web}, got ${typeName(sel)}`);
  }
  let pods: string[] | undefined;
  if (Array.isArray(p.pods)) pods = p.pods.map(String);
  return {
    resource,
    namespace: optString(p, 'namespace', pp),
    labelSelector,
    container: optString(p, 'container', pp),
    pods,
  };
}

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** A Kubernetes quantity ("250m", "123456789n", "51200Ki", "1.5Gi", "1e3") as a plain number; NaN if malformed. */
export function quantityToNumber(q: string): number {
  const m = QUANTITY.exec(q.trim());
  if (!m) return Number.NaN;
  const base = Number(m[1]);
  if (m[3] !== undefined) return base * 10 ** Number(m[3]);
  return base * SUFFIX[m[2] ?? '']!;
}

interface PodMetrics {
  metadata?: { name?: string; namespace?: string };
  timestamp?: string;
  window?: string;
  containers?: Array<{ name?: string; usage?: Record<string, string> }>;
}

/** Turns a PodMetricsList into one sample per pod. Exported for tests and for tools reading saved lists. */
export function podMetricsToSamples(list: unknown, q: KubernetesMetricsQuery, fallbackT: number): { samples: Sample[]; skipped: string[] } {
  const l = list as { kind?: string; items?: unknown };
  if (!l || l.kind !== 'PodMetricsList' || !Array.isArray(l.items)) {
    throw new Error(`expected a PodMetricsList, got ${JSON.stringify(list).slice(0, 120)}`);
  }
  const wanted = q.pods && q.pods.length ? new Set(q.pods) : undefined;
  const samples: Sample[] = [];
  const skipped: string[] = [];
  for (const item of l.items as PodMetrics[]) {
    const pod = item.metadata?.name ?? '';
    const namespace = item.metadata?.namespace ?? '';
    if (wanted && !wanted.has(pod)) continue;
    const containers = (item.containers ?? []).filter((c) => !q.container || c.name === q.container);
    if (containers.length === 0) {
      skipped.push(`${pod}: ${q.container ? `no container ${q.container}` : 'no containers reported'}`);
      continue;
    }
    let total = 0;
    let bad: string | undefined;
    for (const c of containers) {
      const raw = c.usage?.[q.resource];
      const v = raw === undefined ? Number.NaN : quantityToNumber(raw);
      if (!Number.isFinite(v)) bad = `${pod}/${c.name}: ${q.resource} usage ${JSON.stringify(raw)} is not a quantity`;
      total += v;
    }
    if (bad) {
      skipped.push(bad);
      continue;
    }
    const t = item.timestamp ? Date.parse(item.timestamp) : Number.NaN;
    samples.push({ labels: { namespace, pod }, t: Number.isFinite(t) ? t : fallbackT, value: total });
  }
  return { samples, skipped };
}

export class KubernetesMetricsSource implements MetricSource {
  readonly kind = 'kubernetes';
  private readonly kc: KubeConfig;
  private readonly server: string;
  private readonly defaultNamespace: string;

  constructor(readonly name: string, readonly config: KubernetesMetricsConfig, path = name) {
    this.kc = new (kubeClient().KubeConfig)();
    try {
      if (config.server) {
        // A plain-http server written out explicitly (kubectl proxy) has no TLS to verify; the client library only
        // accepts http with skipTLSVerify set.
        const plainHttp = config.server.startsWith('http:');
        this.kc.loadFromClusterAndUser(
          { name: 'scalepilot', server: config.server, caFile: config.caFile, skipTLSVerify: config.insecureSkipTLSVerify || plainHttp },
          { name: 'scalepilot', token: config.token },
        );
      } else if (config.kubeconfig) {
        this.kc.loadFromFile(config.kubeconfig);
      } else {
        this.kc.loadFromDefault();
      }
      if (config.context) this.kc.setCurrentContext(config.context);
    } catch (e) {
      throw new MetricConfigError(path, `cannot load the Kubernetes client config: ${(e as Error).message}`);
    }
    if (config.context && !this.kc.getContexts().some((c) => c.name === config.context)) {
      throw new MetricConfigError(`${path}.context`, `no context ${config.context} in the kubeconfig; known: ${this.kc.getContexts().map((c) => c.name).join(', ') || 'none'}`);
    }
    const cluster = this.kc.getCurrentCluster();
    if (!cluster?.server) {
      throw new MetricConfigError(path, 'no Kubernetes cluster is configured: set server, kubeconfig or KUBECONFIG, or run inside a cluster');
    }
    this.server = cluster.server.replace(/\/+$/, '');
    this.defaultNamespace = config.namespace ?? this.kc.getContextObject(this.kc.getCurrentContext())?.namespace ?? 'default';
  }

  checkQuery(q: MetricQuery, path: string): void {
    parseKubernetesMetricsQuery(q, path);
  }

  async sample(q: MetricQuery, now: Date): Promise<Sample[]> {
    if (q.range) throw new MetricError(this.name, q.query, 'the metrics API has only current usage; range reads are not supported', false);
    let kq: KubernetesMetricsQuery;
    try {
      kq = parseKubernetesMetricsQuery(q, q.name);
    } catch (e) {
      throw new MetricError(this.name, q.query, (e as Error).message, false);
    }
    const ns = kq.namespace ?? this.defaultNamespace;
    let path = `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(ns)}/pods`;
    if (kq.labelSelector) path += `?labelSelector=${encodeURIComponent(kq.labelSelector)}`;
    const { status, body } = await this.get(path, q.query);
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      doc = undefined;
    }
    if (status !== 200) {
      const st = doc as { kind?: string; message?: string; reason?: string } | undefined;
      const detail = st?.kind === 'Status' ? `${st.reason ?? ''}: ${st.message ?? ''}` : body.trim().slice(0, 200);
      const hint = status === 401 ? ' (the credentials were refused: check the token or client certificate)'
        : status === 403 ? ' (RBAC: allow get/list on pods.metrics.k8s.io in this namespace)'
        : status === 404 ? ' (is metrics-server installed? kubectl get apiservice v1beta1.metrics.k8s.io)'
        : status === 503 ? ' (metrics-server is not answering)' : '';
      const retryable = status >= 500 || status === 429;
      throw new MetricError(this.name, q.query, `GET ${path}: HTTP ${status} ${detail}${hint}`, retryable);
    }
    let out: { samples: Sample[]; skipped: string[] };
    try {
      out = podMetricsToSamples(doc, kq, now.getTime());
    } catch (e) {
      throw new MetricError(this.name, q.query, `GET ${path}: ${(e as Error).message}`, false);
    }
    if (out.samples.length === 0) {
      const why = out.skipped.length ? ` (${out.skipped.join('; ')})` : '';
      throw new MetricError(this.name, q.query, `no pod metrics in namespace ${ns}${kq.labelSelector ? ` for ${kq.labelSelector}` : ''}${why}: pods may be starting, or metrics-server has not scraped them yet`, true);
    }
    return out.samples;
  }

  private async get(path: string, query: string): Promise<{ status: number; body: string }> {
    const url = new URL(this.server + path);
    const opts: https.RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
    try {
      await this.kc.applyToHTTPSOptions(opts);
      if (this.config.tokenFile) {
        // Projected service-account tokens rotate, so the file is read on every request.
        // (bounded: a token is a few kB; a path that never ends, such as /dev/zero, is refused instead of read)
        const token = readFileBounded(this.config.tokenFile, MAX_TOKEN_BYTES).trim();
        opts.headers = { ...opts.headers, authorization: `Bearer ${token}` };
      }
    } catch (e) {
      const msg = (e as Error).message;
      const hint = /HTTP protocol is not allowed/.test(msg) ? ' (the kubeconfig points at an http:// server: use https, or write it as server: in the source config)' : '';
      throw new MetricError(this.name, query, `cannot prepare credentials: ${msg}${hint}`, false, { cause: e });
    }
    const timeoutMs = this.config.timeoutMs;
    return new Promise((resolvePromise, reject) => {
      const fail = (e: Error) => {
        const code = (e as NodeJS.ErrnoException).code;
        const why = e.message === 'timeout' ? `no answer within ${timeoutMs} ms (timeout)`
          : code === 'ECONNREFUSED' ? 'connection refused (is the API server address right?)'
          : code ? `${code} (${e.message})` : e.message;
        const tls = /certificate|self.signed|SSL|TLS/i.test(e.message);
        reject(new MetricError(this.name, query, `${url.origin}: ${why}${tls ? ' (set caFile, or insecureSkipTLSVerify for a test cluster)' : ''}`, !tls, { cause: e }));
      };
      const client = url.protocol === 'https:' ? https : http;
      const req = client.request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          // a list past this is not one workload's pods: refused rather than held in memory
          if (size > MAX_ANSWER_BYTES) {
            clearTimeout(timer);
            req.destroy();
            reject(new MetricError(this.name, query, `${url.origin}: the answer is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB; narrow the query (namespace and label selector)`, false));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => { clearTimeout(timer); fail(e); });
        res.on('close', () => {
          clearTimeout(timer);
          if (!res.complete) fail(new Error('the connection closed before the answer was complete'));
        });
      });
      const timer = setTimeout(() => req.destroy(new Error('timeout')), timeoutMs);
      req.on('error', (e) => { clearTimeout(timer); fail(e); });
      req.end();
    });
  }
}
