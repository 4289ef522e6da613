// A fake Kubernetes API server for provider and leader-election tests: real object shapes (apps/v1 Deployment and
// StatefulSet, autoscaling/v1 Scale, v1 PodList, coordination.k8s.io/v1 Lease, autoscaling/v2 HPA and, once installed,
// the autoscaling.k8s.io/v1 VPA custom resource, v1 Status errors), resourceVersion
// optimistic concurrency (409 on stale updates), RBAC denials (403), 404, dryRun=All, the three patch content types,
// and a tiny workload controller that keeps pods in line with spec.replicas.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';

type Obj = Record<string, any>;

export interface FakeKubeOptions {
  /** bearer token clients must send (401 otherwise) */
  token?: string;
  /** new pods report Ready only after this long */
  podReadyDelayMs?: number;
  /** pods removed by a scale-down keep a deletionTimestamp this long before they disappear */
  podTerminationMs?: number;
  /** identity named in 403 messages */
  user?: string;
  /** RBAC: when set, only requests it allows get through (e.g. built from deploy/rbac.yaml) */
  authorize?: (a: { verb: Denial['verb']; group: string; resource: string; namespace: string; name?: string }) => boolean;
}

export interface Denial {
  verb: 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete';
  /** resource with subresource, e.g. deployments/scale, leases */
  resource: string;
  namespace?: string;
}

interface Kind {
  group: string;
  version: string;
  kind: string;
  resource: string;
}

const KINDS: Record<string, Kind> = {
  deployments: { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments' },
  statefulsets: { group: 'apps', version: 'v1', kind: 'StatefulSet', resource: 'statefulsets' },
  pods: { group: '', version: 'v1', kind: 'Pod', resource: 'pods' },
  leases: { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', resource: 'leases' },
  horizontalpodautoscalers: { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', resource: 'horizontalpodautoscalers' },
  // a CustomResourceDefinition's kind: served only once installed (installVpa), as a cluster without the VPA answers 404
  verticalpodautoscalers: { group: 'autoscaling.k8s.io', version: 'v1', kind: 'VerticalPodAutoscaler', resource: 'verticalpodautoscalers' },
};

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType?: string;
  body?: unknown;
}

export class FakeKube {
  readonly requests: RecordedRequest[] = [];
  readonly denials: Denial[] = [];
  /** objects by resource/namespace/name */
  readonly objects = new Map<string, Obj>();
  private rv = 1000;
  /** whether the VerticalPodAutoscaler CRD is installed (its API answers 404 until then) */
  vpaInstalled = false;
  private server?: Server;
  private timers = new Set<NodeJS.Timeout>();
  private failures: Array<{ method: string; path: RegExp; status: number; times: number }> = [];
  url = '';

  constructor(readonly options: FakeKubeOptions = {}) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e) => status(res, 500, 'InternalError', String((e as Error).stack)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const a = server.address();
    this.url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    this.server = server;
    return this.url;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); });
  }

  /** A KubeConfig pointing at this server, as a user's kubeconfig would. */
  kubeConfig(token = this.options.token ?? 'test-token'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'scalepilot', token }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'scalepilot', namespace: 'default' }],
      currentContext: 'fake',
    });
    return kc;
  }

  deny(d: Denial): void {
    this.denials.push(d);
  }

  /** The next `times` requests matching method and path answer `status` (500: etcd trouble, 429: throttling). */
  failNext(method: string, path: RegExp, statusCode: number, times = 1): void {
    this.failures.push({ method, path, status: statusCode, times });
  }

  /** The next `times` requests matching method and path get no answer at all (an API server that is up but hung). */
  hangNext(method: string, path: RegExp, times = 1): void {
    this.failures.push({ method, path, status: 0, times });
  }

  addWorkload(
    kind: 'Deployment' | 'StatefulSet',
    namespace: string,
    name: string,
    o: { replicas: number; labels?: Record<string, string>; containers?: Obj[]; matchExpressions?: Obj[] },
  ): Obj {
    const labels = o.labels ?? { app: name };
    const resource = kind === 'Deployment' ? 'deployments' : 'statefulsets';
    const obj: Obj = {
      apiVersion: 'apps/v1',
      kind,
      metadata: { name, namespace, uid: randomUUID(), resourceVersion: this.nextRv(), generation: 1, creationTimestamp: time(), labels },
      spec: {
        replicas: o.replicas,
        selector: { matchLabels: labels, ...(o.matchExpressions ? { matchExpressions: o.matchExpressions } : {}) },
        template: {
          metadata: { labels },
          spec: { containers: o.containers ?? [{ name, image: `${name}:1`, resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } } }] },
        },
        ...(kind === 'Deployment' ? { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } } : { serviceName: name }),
      },
      status: { observedGeneration: 1, replicas: 0 },
    };
    this.objects.set(key(resource, namespace, name), obj);
    this.reconcile(resource, obj);
    return obj;
  }

  /** A HorizontalPodAutoscaler (autoscaling/v2) whose scaleTargetRef names the given workload. */
  addHpa(namespace: string, name: string, target: { kind: string; name: string; apiVersion?: string }): Obj {
    const obj: Obj = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name, namespace, uid: `uid-hpa-${name}`, resourceVersion: this.nextRv(), creationTimestamp: time() },
      spec: { scaleTargetRef: { apiVersion: target.apiVersion ?? 'apps/v1', kind: target.kind, name: target.name }, minReplicas: 1, maxReplicas: 10 },
    };
    this.objects.set(key('horizontalpodautoscalers', namespace, name), obj);
    return obj;
  }

  /** Installs the VerticalPodAutoscaler CustomResourceDefinition: until then its API answers 404, as a cluster's does. */
  installVpa(): void {
    this.vpaInstalled = true;
  }

  /** A VerticalPodAutoscaler (autoscaling.k8s.io/v1) on the given workload; installs its CRD. */
  addVpa(namespace: string, name: string, target: { kind: string; name: string; apiVersion?: string }, spec: Obj = {}): Obj {
    this.installVpa();
    const obj: Obj = {
      apiVersion: 'autoscaling.k8s.io/v1',
      kind: 'VerticalPodAutoscaler',
      metadata: { name, namespace, uid: `uid-vpa-${name}`, resourceVersion: this.nextRv(), creationTimestamp: time() },
      spec: { targetRef: { apiVersion: target.apiVersion ?? 'apps/v1', kind: target.kind, name: target.name }, ...spec },
    };
    this.objects.set(key('verticalpodautoscalers', namespace, name), obj);
    return obj;
  }

  get(resource: string, namespace: string, name: string): Obj | undefined {
    return this.objects.get(key(resource, namespace, name));
  }

  list(resource: string, namespace: string): Obj[] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith(`${resource}/${namespace}/`)).map(([, v]) => v);
  }

  private nextRv(): string {
    return String(++this.rv);
  }

  // ---- the tiny controller: pods follow spec.replicas and the pod template ----

  private reconcile(resource: string, w: Obj): void {
    const ns = w.metadata.namespace as string;
    const name = w.metadata.name as string;
    const hash = templateHash(w.spec.template);
    const owned = this.list('pods', ns).filter((p) => p.metadata.ownerReferences?.[0]?.uid === w.metadata.uid);
    const live = owned.filter((p) => !p.metadata.deletionTimestamp);
    // A changed template rolls every pod (simplified rollout: replace all at once).
    for (const p of live) if (p.metadata.labels['pod-template-hash'] !== hash) this.deletePod(p);
    const current = live.filter((p) => p.metadata.labels['pod-template-hash'] === hash);
    const want = w.spec.replicas as number;
    for (const p of current.slice(want).reverse()) this.deletePod(p);
    for (let i = current.length; i < want; i++) {
      const podName = resource === 'statefulsets' ? `${name}-${i}` : `${name}-${hash}-${randomBytes(3).toString('hex').slice(0, 5)}`;
      const delay = this.options.podReadyDelayMs ?? 0;
      const pod: Obj = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: podName,
          namespace: ns,
          uid: randomUUID(),
          resourceVersion: this.nextRv(),
          creationTimestamp: time(),
          labels: { ...w.spec.template.metadata.labels, 'pod-template-hash': hash },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: resource === 'statefulsets' ? 'StatefulSet' : 'ReplicaSet', name, uid: w.metadata.uid, controller: true }],
        },
        spec: structuredClone(w.spec.template.spec),
        status: {
          phase: delay ? 'Pending' : 'Running',
          startTime: time(),
          conditions: [
            { type: 'PodScheduled', status: 'True', lastTransitionTime: time() },
            { type: 'Ready', status: delay ? 'False' : 'True', lastTransitionTime: time() },
          ],
          containerStatuses: (w.spec.template.spec.containers as Obj[]).map((c) => ({ name: c.name, ready: !delay, restartCount: 0, image: c.image })),
        },
      };
      this.objects.set(key('pods', ns, podName), pod);
      if (delay) {
        const t = setTimeout(() => {
          this.timers.delete(t);
          pod.status.phase = 'Running';
          pod.status.conditions[1] = { type: 'Ready', status: 'True', lastTransitionTime: time() };
          for (const cs of pod.status.containerStatuses) cs.ready = true;
          pod.metadata.resourceVersion = this.nextRv();
          this.updateStatus(w);
        }, delay);
        this.timers.add(t);
      }
    }
    this.updateStatus(w);
  }

  private deletePod(p: Obj): void {
    const k = key('pods', p.metadata.namespace, p.metadata.name);
    const grace = this.options.podTerminationMs ?? 0;
    if (!grace) {
      this.objects.delete(k);
      return;
    }
    p.metadata.deletionTimestamp = time();
    p.metadata.deletionGracePeriodSeconds = Math.ceil(grace / 1000);
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.objects.delete(k);
    }, grace);
    this.timers.add(t);
  }

  private updateStatus(w: Obj): void {
    const pods = this.list('pods', w.metadata.namespace).filter((p) => p.metadata.ownerReferences?.[0]?.uid === w.metadata.uid && !p.metadata.deletionTimestamp);
    const ready = pods.filter((p) => p.status.conditions.some((c: Obj) => c.type === 'Ready' && c.status === 'True')).length;
    w.status = {
      observedGeneration: w.metadata.generation,
      replicas: pods.length,
      readyReplicas: ready,
      ...(w.kind === 'Deployment' ? { updatedReplicas: pods.length, availableReplicas: ready } : { currentReplicas: pods.length }),
    };
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://kube');
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    let body: unknown;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return status(res, 400, 'BadRequest', `the body of the request could not be decoded as JSON`);
      }
    }
    this.requests.push({ method, path: url.pathname, query: url.searchParams, ...(contentType ? { contentType } : {}), ...(body !== undefined ? { body } : {}) });

    if (this.options.token && req.headers.authorization !== `Bearer ${this.options.token}`) {
      return status(res, 401, 'Unauthorized', 'Unauthorized');
    }
    const inject = this.failures.find((f) => f.method === method && f.path.test(url.pathname) && f.times > 0);
    if (inject) {
      inject.times--;
      // hung: the request stays open until the client gives up or the server closes
      if (inject.status === 0) return;
      return status(res, inject.status, inject.status === 429 ? 'TooManyRequests' : 'InternalError', `injected failure ${inject.status}`);
    }

    const m = /^\/(?:api\/v1|apis\/([^/]+)\/(v\d+))\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const [, group = '', version = 'v1', ns, resource, name, sub] = m as unknown as [string, string | undefined, string | undefined, string, string, string | undefined, string | undefined];
    const kind = KINDS[resource];
    if (!kind || kind.group !== group || kind.version !== version) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    if (sub && !(sub === 'scale' && (resource === 'deployments' || resource === 'statefulsets'))) {
      return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    }
    const verbs: Record<string, Denial['verb']> = { GET: name ? 'get' : 'list', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
    const verb = verbs[method];
    if (!verb) return status(res, 405, 'MethodNotAllowed', `method ${method} not allowed`);
    const full = sub ? `${resource}/${sub}` : resource;
    const qualified = kind.group ? `${resource}.${kind.group}` : resource;
    const allowed = this.options.authorize?.({ verb, group: kind.group, resource: full, namespace: ns, ...(name ? { name } : {}) }) ?? true;
    if (!allowed || this.denials.some((d) => d.verb === verb && d.resource === full && (!d.namespace || d.namespace === ns))) {
      const user = this.options.user ?? 'system:serviceaccount:scalepilot:scalepilot';
      const what = name ? `${qualified} "${name}" is forbidden` : `${qualified} is forbidden`;
      return status(res, 403, 'Forbidden', `${what}: User "${user}" cannot ${verb} resource "${full}" in API group "${kind.group}" in the namespace "${ns}"`, {
        ...(name ? { name } : {}), group: kind.group, kind: resource,
      });
    }
    // (authorization comes first, as in the API server's filter chain: without the grant a resource no CRD serves
    // is 403, with it 404)
    if (resource === 'verticalpodautoscalers' && !this.vpaInstalled) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const dryRun = url.searchParams.getAll('dryRun');
    if (dryRun.some((d) => d !== 'All')) {
      return status(res, 400, 'BadRequest', `dryRun: Unsupported value: "${dryRun.find((d) => d !== 'All')}": supported values: "All"`);
    }
    const persist = dryRun.length === 0;

    if (verb === 'list') {
      const selector = url.searchParams.get('labelSelector');
      let match: (labels: Record<string, string>) => boolean;
      try {
        match = selector ? parseSelector(selector) : () => true;
      } catch (e) {
        return status(res, 400, 'BadRequest', `unable to parse requirement: ${(e as Error).message}`);
      }
      const items = this.list(resource, ns).filter((o) => match(o.metadata.labels ?? {}));
      return json(res, 200, { kind: `${kind.kind}List`, apiVersion: kind.group ? `${kind.group}/${kind.version}` : kind.version, metadata: { resourceVersion: String(this.rv) }, items });
    }
    if (verb === 'create') {
      const obj = body as Obj;
      if (!obj?.metadata?.name) return status(res, 422, 'Invalid', `${kind.kind}.${kind.group} "" is invalid: metadata.name: Required value: name or generateName is required`);
      if (this.get(resource, ns, obj.metadata.name)) {
        return status(res, 409, 'AlreadyExists', `${qualified} "${obj.metadata.name}" already exists`, { name: obj.metadata.name, group: kind.group, kind: resource });
      }
      const invalid = resource === 'leases' ? validateLease(obj) : undefined;
      if (invalid) return status(res, 422, 'Invalid', `Lease.coordination.k8s.io "${obj.metadata.name}" is invalid: ${invalid}`);
      const created: Obj = {
        ...obj,
        apiVersion: kind.group ? `${kind.group}/${kind.version}` : kind.version,
        kind: kind.kind,
        metadata: { ...obj.metadata, namespace: ns, uid: randomUUID(), resourceVersion: persist ? this.nextRv() : String(this.rv), creationTimestamp: time() },
      };
      if (persist) this.objects.set(key(resource, ns, obj.metadata.name), created);
      return json(res, 201, created);
    }

    const existing = this.get(resource, ns, name!);
    if (!existing) {
      return status(res, 404, 'NotFound', `${qualified} "${name}" not found`, { name: name!, group: kind.group, kind: resource });
    }
    if (verb === 'delete') {
      if (persist) this.objects.delete(key(resource, ns, name!));
      return status(res, 200, undefined, undefined, { name: name!, group: kind.group, kind: resource, uid: existing.metadata.uid }, 'Success');
    }

    // get / update / patch, on the object or its scale subresource
    const view = sub === 'scale' ? toScale(existing) : existing;
    if (verb === 'get') return json(res, 200, view);

    let next: Obj;
    if (verb === 'update') {
      next = body as Obj;
    } else {
      try {
        next = applyPatch(view, body, contentType);
      } catch (e) {
        const err = e as { status?: number; message: string };
        return status(res, err.status ?? 422, err.status === 415 ? 'UnsupportedMediaType' : 'Invalid', err.message);
      }
    }
    const sentRv = next?.metadata?.resourceVersion;
    if (sentRv !== undefined && sentRv !== view.metadata.resourceVersion) {
      return status(res, 409, 'Conflict', `Operation cannot be fulfilled on ${qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`, {
        name: name!, group: kind.group, kind: resource,
      });
    }
    if (sub === 'scale') {
      const replicas = next?.spec?.replicas;
      if (!Number.isInteger(replicas) || replicas < 0) {
        return status(res, 422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`);
      }
      const updated = structuredClone(existing);
      if (updated.spec.replicas !== replicas) {
        updated.spec.replicas = replicas;
        updated.metadata.generation++;
      }
      if (!persist) return json(res, 200, toScale(updated));
      updated.metadata.resourceVersion = this.nextRv();
      this.objects.set(key(resource, ns, name!), updated);
      this.reconcile(resource, updated);
      return json(res, 200, toScale(updated));
    }
    const invalid = resource === 'leases' ? validateLease(next) : undefined;
    if (invalid) return status(res, 422, 'Invalid', `Lease.coordination.k8s.io "${name}" is invalid: ${invalid}`);
    const updated: Obj = {
      ...next,
      apiVersion: existing.apiVersion,
      kind: existing.kind,
      metadata: { ...next.metadata, name, namespace: ns, uid: existing.metadata.uid, creationTimestamp: existing.metadata.creationTimestamp },
      ...(existing.status ? { status: existing.status } : {}),
    };
    if (JSON.stringify(updated.spec) !== JSON.stringify(existing.spec) && existing.metadata.generation !== undefined) {
      updated.metadata.generation = existing.metadata.generation + 1;
    }
    if (!persist) return json(res, 200, { ...updated, metadata: { ...updated.metadata, resourceVersion: existing.metadata.resourceVersion } });
    updated.metadata.resourceVersion = this.nextRv();
    this.objects.set(key(resource, ns, name!), updated);
    if (resource === 'deployments' || resource === 'statefulsets') this.reconcile(resource, updated);
    return json(res, 200, updated);
  }
}

function key(resource: string, ns: string, name: string): string {
  return `${resource}/${ns}/${name}`;
}

function time(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function templateHash(t: Obj): string {
  let h = 2166136261;
  for (const ch of JSON.stringify(t)) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h.toString(36).slice(0, 10);
}

/** metav1.FormatLabelSelector: requirements sorted by key. */
function formatSelector(sel: Obj): string {
  const reqs: Array<[string, string]> = [];
  for (const [k, v] of Object.entries((sel.matchLabels ?? {}) as Record<string, string>)) reqs.push([k, `${k}=${v}`]);
  for (const e of (sel.matchExpressions ?? []) as Obj[]) {
    const values = [...(e.values ?? [])].sort().join(',');
    const op = e.operator as string;
    reqs.push([e.key, op === 'In' ? `${e.key} in (${values})` : op === 'NotIn' ? `${e.key} notin (${values})` : op === 'Exists' ? e.key : `!${e.key}`]);
  }
  return reqs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((r) => r[1]).join(',');
}

function toScale(w: Obj): Obj {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: w.metadata.name, namespace: w.metadata.namespace, uid: w.metadata.uid, resourceVersion: w.metadata.resourceVersion, creationTimestamp: w.metadata.creationTimestamp },
    spec: { replicas: w.spec.replicas },
    status: { replicas: w.status?.replicas ?? 0, selector: formatSelector(w.spec.selector) },
  };
}

/** Label selector text as the API server reads it: k=v, k==v, k!=v, k in (a,b), k notin (a,b), k, !k. */
export function parseSelector(s: string): (labels: Record<string, string>) => boolean {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  const tests = parts.map((p) => {
    const t = p.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t))) {
      const values = m[3]!.split(',').map((v) => v.trim());
      const [k, op] = [m[1]!, m[2]!];
      return (l: Record<string, string>) => (op === 'in' ? k in l && values.includes(l[k]!) : !(k in l) || !values.includes(l[k]!));
    }
    if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(t))) {
      const [k, op, v] = [m[1]!, m[2]!, m[3]!];
      return (l: Record<string, string>) => (op === '!=' ? l[k] !== v : l[k] === v);
    }
    if ((m = /^!([\w./-]+)$/.exec(t))) {
      const k = m[1]!;
      return (l: Record<string, string>) => !(k in l);
    }
    if ((m = /^([\w./-]+)$/.exec(t))) {
      const k = m[1]!;
      return (l: Record<string, string>) => k in l;
    }
    throw new Error(`"${t}" is not a valid label selector requirement`);
  });
  return (labels) => tests.every((f) => f(labels));
}

function validateLease(o: Obj): string | undefined {
  const spec = o?.spec ?? {};
  for (const f of ['acquireTime', 'renewTime']) {
    const v = spec[f];
    if (v !== undefined && v !== null && (typeof v !== 'string' || !MICRO_TIME.test(v))) {
      // What the API server's MicroTime decoder says about a time without six fractional digits.
      return `spec.${f}: parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse as ".000000"`;
    }
  }
  const d = spec.leaseDurationSeconds;
  if (d !== undefined && d !== null && (!Number.isInteger(d) || d <= 0)) return `spec.leaseDurationSeconds: Invalid value: ${d}: must be greater than 0`;
  const tr = spec.leaseTransitions;
  if (tr !== undefined && tr !== null && (!Number.isInteger(tr) || tr < 0)) return `spec.leaseTransitions: Invalid value: ${tr}: must be greater than or equal to 0`;
  return undefined;
}

// ---- patches ----

const MERGE_BY_NAME = new Set(['containers', 'initContainers', 'env', 'volumes', 'volumeMounts', 'ephemeralContainers']);

function applyPatch(target: Obj, patch: unknown, contentType: string): Obj {
  switch (contentType) {
    case 'application/merge-patch+json':
      return mergePatch(structuredClone(target), patch, false) as Obj;
    case 'application/strategic-merge-patch+json':
      return mergePatch(structuredClone(target), patch, true) as Obj;
    case 'application/json-patch+json':
      return jsonPatch(structuredClone(target), patch);
    default:
      throw Object.assign(new Error(`the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`), { status: 415 });
  }
}

/** RFC 7386 merge patch; strategic mode merges the lists Kubernetes keys by name (containers, env, ...). */
function mergePatch(target: unknown, patch: unknown, strategic: boolean, field = ''): unknown {
  if (patch === null || typeof patch !== 'object') return patch;
  if (Array.isArray(patch)) {
    if (strategic && MERGE_BY_NAME.has(field) && Array.isArray(target)) {
      const out = (target as Obj[]).map((x) => structuredClone(x));
      for (const item of patch as Obj[]) {
        const i = out.findIndex((x) => x.name === item.name);
        if (i >= 0) out[i] = mergePatch(out[i], item, true) as Obj;
        else out.push(item);
      }
      return out;
    }
    return patch;
  }
  const out: Obj = target && typeof target === 'object' && !Array.isArray(target) ? (target as Obj) : {};
  for (const [k, v] of Object.entries(patch as Obj)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v, strategic, k);
  }
  return out;
}

function jsonPatch(doc: Obj, ops: unknown): Obj {
  if (!Array.isArray(ops)) throw Object.assign(new Error('json patch must be an array of operations'), { status: 400 });
  for (const op of ops as Obj[]) {
    const path = String(op.path ?? '').split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = path.pop()!;
    let parent: any = doc;
    for (const p of path) {
      parent = parent?.[p];
      if (parent === undefined) throw Object.assign(new Error(`jsonpatch ${op.op} operation does not apply: doc is missing path: ${op.path}`), { status: 422 });
    }
    if (op.op === 'test') {
      if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw Object.assign(new Error(`the server rejected our request due to an error in our request`), { status: 422 });
    } else if (op.op === 'remove') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (op.op === 'add' || op.op === 'replace') {
      if (Array.isArray(parent) && op.op === 'add') parent.splice(last === '-' ? parent.length : Number(last), 0, op.value);
      else parent[last] = op.value;
    } else {
      throw Object.assign(new Error(`unexpected jsonpatch operation: ${op.op}`), { status: 422 });
    }
  }
  return doc;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s) });
  res.end(s);
}

function status(res: ServerResponse, code: number, reason: string | undefined, message: string | undefined, details?: Obj, st: 'Failure' | 'Success' = 'Failure'): void {
  json(res, code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: st,
    ...(message ? { message } : {}),
    ...(reason ? { reason } : {}),
    ...(details ? { details } : {}),
    code,
  });
}
