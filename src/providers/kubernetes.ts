// The kubernetes provider (@kubernetes/client-node): reads and patches the scale subresource of a Deployment or
// StatefulSet, lists its pods by the selector the scale reports (as the HPA controller does), and resizes by a
// strategic-merge patch of the pod template's container resources. Dry runs go to the API server with dryRun=All,
// so admission and validation still answer. Each observation also reports what the cluster does on its own (pods
// restarting, failing to start, not scheduled, a stalled rollout) as provider events and degraded conditions.
import type { AppsV1Api, AutoscalingV2Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, V1Container, V1Pod } from '@kubernetes/client-node';
import { kubeCall, KubeTimeout, type KubeCallOptions } from '../kube-call.js';
import { kubeClient } from '../lazy.js';
import { resolve as resolvePath } from 'node:path';
import { ProviderError, type PodState, type Provider, type ProviderEvent, type Resources, type ScaleOptions, type TargetRef, type TargetState } from './types.js';
import { durationMs, oneOf, optString, ProviderSpecError, rejectUnknown, specObject, requireReplicaCount } from './spec.js';
import { WorkloadHeldElsewhere, WorkloadLease, workloadLeaseName } from './kube-lease.js';
import { LeaseKeeper } from './lease-keeper.js';
import { updatingVpas, vpaControls, vpaOverlap, type WorkloadVpa } from './kube-vpa.js';

export interface KubernetesSpec {
  kind: 'Deployment' | 'StatefulSet';
  /** workload name (default: the scalepilot service name) */
  name?: string;
  namespace: string;
  /** container resize changes (default: the first container) */
  container?: string;
  /** kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account) */
  kubeconfig?: string;
  context?: string;
  /** how long one API call may take before it fails (retryable) */
  timeoutMs: number;
}

const KUBERNETES_FIELDS = ['kind', 'name', 'namespace', 'container', 'kubeconfig', 'context', 'timeout'] as const;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function parseKubernetesSpec(raw: unknown, path: string): KubernetesSpec {
  const o = specObject(raw, path);
  rejectUnknown(o, path, KUBERNETES_FIELDS);
  const kind = oneOf(o, 'kind', path, ['Deployment', 'StatefulSet'] as const, 'Deployment');
  const name = optString(o, 'name', path, 'web');
  if (name !== undefined && (!DNS_SUBDOMAIN.test(name) || name.length > 253)) {
    throw new ProviderSpecError(`${path}.name`, `"${name}" is not a Kubernetes object name`, 'use lowercase letters, digits, - and ., as in kubectl get deploy');
  }
  const namespace = optString(o, 'namespace', path, 'default') ?? 'default';
  if (!DNS_LABEL.test(namespace) || namespace.length > 63) {
    throw new ProviderSpecError(`${path}.namespace`, `"${namespace}" is not a namespace name`, 'use lowercase letters, digits and -, as in kubectl get ns');
  }
  const container = optString(o, 'container', path, 'app');
  const kubeconfig = optString(o, 'kubeconfig', path, '~/.kube/config');
  const context = optString(o, 'context', path, 'prod-eu');
  const timeoutMs = durationMs(o, 'timeout', path, '10s', { min: 1000, max: 600_000 });
  return {
    kind,
    timeoutMs,
    ...(name ? { name } : {}),
    namespace,
    ...(container ? { container } : {}),
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(context ? { context } : {}),
  };
}

export interface KubernetesOptions {
  /** a ready KubeConfig (tests, embedding); otherwise each spec's kubeconfig/context, else the default loading rules */
  kubeConfig?: KubeConfig;
  /** directory relative kubeconfig paths are resolved against */
  baseDir?: string;
  /** recorded as the field manager of every write */
  fieldManager?: string;
  /** pods restarting, failing to start or not scheduled, and stalled rollouts, as the observations find them */
  onEvent?: (e: ProviderEvent) => void;
  /**
   * Observe only (dry runs, reports): a HorizontalPodAutoscaler on the same workload is reported as degraded instead
   * of refused, so scalepilot can shadow an HPA before it replaces it.
   */
  readOnly?: boolean;
  /** how long one list of a namespace's HPAs (and VerticalPodAutoscalers) is used for (default HPA_CHECK_MS) */
  hpaCheckMs?: number;
  /**
   * The acting process's Lease on each workload it drives (a `run`, or a `rollback` while it acts; kube-lease), so
   * that no other scalepilot drives it at the same time. Without it (reports, dry runs) none is taken.
   */
  lease?: { identity: string; durationMs?: number };
}

/** How long one list of a namespace's HorizontalPodAutoscalers is used for (one list per namespace, not per sync). */
const HPA_CHECK_MS = 30_000;

/** Container waiting reasons that mean the pod will not serve until someone fixes something. */
const FAILING_REASONS = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/** What the last observation of a workload saw, so each event is reported once, when it starts. */
interface Seen {
  pods: Map<string, { restarts: number; failing: string; unschedulable: boolean }>;
  stalled: boolean;
}

interface Clients {
  apps: AppsV1Api;
  core: CoreV1Api;
  autoscaling: AutoscalingV2Api;
  coordination: CoordinationV1Api;
  custom: CustomObjectsApi;
}

type Spec = KubernetesSpec & { name: string };

export class KubernetesProvider implements Provider {
  readonly kind = 'kubernetes';
  private readonly clients = new Map<string, Clients>();
  private readonly fieldManager: string;
  private readonly seen = new Map<string, Seen>();
  /** per cluster and namespace: the HPAs' targets (kind/name → HPA name), listed at most every HPA_CHECK_MS */
  private readonly hpas = new Map<string, { at: number; targets: Promise<Map<string, string>> }>();
  /** services already told that HPAs cannot be listed (said once) */
  private readonly hpaUnchecked = new Set<string>();
  /** per cluster and namespace: the updating VPAs by the workload they target, listed at most every HPA_CHECK_MS */
  private readonly vpas = new Map<string, { at: number; targets: Promise<Map<string, WorkloadVpa[]>> }>();
  /** services already told that VPAs cannot be listed, and service|VPA pairs already said (each said once) */
  private readonly vpaSaid = new Set<string>();
  /** per cluster and workload: this run's Lease on it, kept while it runs (forbidden: RBAC has no grant) */
  private readonly leases = new Map<string, { keeper: LeaseKeeper; forbidden?: boolean }>();

  /** how long one list of a namespace's HPAs is used for, and how soon a refusal for an HPA is looked at again */
  private readonly hpaCheckMs: number;

  constructor(private readonly options: KubernetesOptions = {}) {
    this.fieldManager = options.fieldManager ?? 'scalepilot';
    this.hpaCheckMs = options.hpaCheckMs ?? HPA_CHECK_MS;
  }

  private spec(t: TargetRef): Spec {
    const s = parseKubernetesSpec(t.spec, `services.${t.service}.target`);
    return { ...s, name: s.name ?? t.service };
  }

  private api(s: Spec): Clients {
    const key = `${s.kubeconfig ?? ''}|${s.context ?? ''}`;
    let c = this.clients.get(key);
    if (!c) {
      let kc = this.options.kubeConfig;
      if (!kc || s.kubeconfig || s.context) {
        kc = new (kubeClient().KubeConfig)();
        try {
          if (s.kubeconfig) kc.loadFromFile(resolvePath(this.options.baseDir ?? '.', s.kubeconfig.replace(/^~(?=\/)/, process.env.HOME ?? '~')));
          else if (this.options.kubeConfig) kc.loadFromString(this.options.kubeConfig.exportConfig());
          else kc.loadFromDefault();
          if (s.context) {
            if (!kc.getContextObject(s.context)) throw new Error(`context "${s.context}" is not in the kubeconfig (have: ${kc.getContexts().map((x) => x.name).join(', ') || 'none'})`);
            kc.setCurrentContext(s.context);
          }
        } catch (e) {
          throw new ProviderError(this.kind, `cannot load the kubeconfig: ${(e as Error).message}; set target.kubeconfig / target.context or KUBECONFIG`, false, { cause: e });
        }
      }
      if (!kc.getCurrentCluster()) {
        throw new ProviderError(this.kind, 'no Kubernetes cluster configured: set KUBECONFIG, target.kubeconfig, or run inside a cluster', false);
      }
      c = { apps: kc.makeApiClient(kubeClient().AppsV1Api), core: kc.makeApiClient(kubeClient().CoreV1Api), autoscaling: kc.makeApiClient(kubeClient().AutoscalingV2Api), coordination: kc.makeApiClient(kubeClient().CoordinationV1Api), custom: kc.makeApiClient(kubeClient().CustomObjectsApi) };
      this.clients.set(key, c);
    }
    return c;
  }

  async observe(t: TargetRef): Promise<TargetState> {
    const s = this.spec(t);
    const { apps, core } = this.api(s);
    const ref = { name: s.name, namespace: s.namespace };
    await this.claim(t.service, s);
    const [scale, workload, hpa, vpas] = await Promise.all([
      call(s, 'get', 'scale', (o) => (s.kind === 'Deployment' ? apps.readNamespacedDeploymentScale(ref, o) : apps.readNamespacedStatefulSetScale(ref, o))),
      call(s, 'get', '', (o) => (s.kind === 'Deployment' ? apps.readNamespacedDeployment(ref, o) : apps.readNamespacedStatefulSet(ref, o))),
      this.competingHpa(t.service, s),
      this.workloadVpas(t.service, s),
    ]);
    if (hpa && !this.options.readOnly) throw hpaConflict(s, hpa, this.hpaCheckMs);
    const selector = scale.status?.selector;
    if (!selector) {
      throw new ProviderError(this.kind, `${s.kind} ${s.namespace}/${s.name} reports no selector on its scale subresource; check the workload's spec.selector`, false);
    }
    const pods = await call(s, 'list', 'pods', (o) => core.listNamespacedPod({ namespace: s.namespace, labelSelector: selector }, o));
    const states = pods.items.map(podState).sort((a, b) => a.name.localeCompare(b.name));
    const containers = workload.spec?.template?.spec?.containers ?? [];
    const target = s.container ? containers.find((c) => c.name === s.container) : containers[0];
    const resources = target ? containerResources(target) : undefined;
    if (target?.name) this.noticeVpas(t.service, s, target.name, vpas);
    const progressing = (workload.status?.conditions ?? []).find((c) => c.type === 'Progressing');
    const degraded = this.notice(t.service, s, pods.items, progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded' ? progressing.message ?? '' : undefined);
    if (hpa) degraded.push(hpaConflict(s, hpa, this.hpaCheckMs).message);
    return {
      replicas: scale.spec?.replicas ?? 0,
      readyReplicas: states.filter((p) => p.ready && !p.deleted).length,
      pods: states,
      ...(resources ? { resources } : {}),
      ...(degraded.length ? { degraded } : {}),
    };
  }

  /**
   * Compares the pods with the last observation: a restart, a container failing to start or a pod the scheduler
   * cannot place is an event when it starts (a restart only once the pod has been seen, so a first observation
   * does not report old restarts); what still holds is a degraded condition. Replicas asked for that cannot be
   * scheduled or cannot start add no capacity, which the operator must know while the autoscaler asks for more.
   */
  private notice(service: string, s: Spec, pods: V1Pod[], stalled: string | undefined): string[] {
    const what = `${s.kind} ${s.namespace}/${s.name}`;
    const prev = this.seen.get(service);
    const next: Seen = { pods: new Map(), stalled: stalled !== undefined };
    const event = (kind: string, level: ProviderEvent['level'], message: string) => this.options.onEvent?.({ service, kind, level, message });
    let failing = 0;
    let unschedulable = 0;
    let schedulerSays = '';
    const reasons = new Map<string, number>();
    for (const p of pods) {
      if (p.metadata?.deletionTimestamp) continue;
      const name = p.metadata?.name ?? '';
      const statuses = p.status?.containerStatuses ?? [];
      const restarts = statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0);
      const bad = statuses.find((c) => FAILING_REASONS.has(c.state?.waiting?.reason ?? ''));
      const failingNow = bad ? `${bad.name}: ${bad.state!.waiting!.reason}` : '';
      const sched = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
      const unsched = sched?.status === 'False' && sched.reason === 'Unschedulable';
      const before = prev?.pods.get(name);
      if (before && restarts > before.restarts) {
        const last = statuses.map((c) => c.lastState?.terminated).find((x) => x);
        const why = last ? `; last exit: ${last.reason ?? 'terminated'}${last.exitCode !== undefined ? ` (exit code ${last.exitCode})` : ''}` : '';
        event('replica-restarted', 'warn', `kubernetes: ${what}: pod ${name} restarted (${restarts} restart(s) in all${why})`);
      }
      if (failingNow && failingNow !== (before?.failing ?? '')) {
        const msg = bad!.state!.waiting!.message;
        event('replica-failing', 'error', `kubernetes: ${what}: pod ${name} container ${failingNow}${msg ? ` (${msg})` : ''}; it adds no capacity until this is fixed`);
      }
      if (unsched && !before?.unschedulable) {
        event('replica-unschedulable', 'warn', `kubernetes: ${what}: pod ${name} cannot be scheduled${sched.message ? `: ${sched.message}` : ''}; it adds no capacity until the cluster has room`);
      }
      if (failingNow) { failing++; const r = bad!.state!.waiting!.reason!; reasons.set(r, (reasons.get(r) ?? 0) + 1); }
      if (unsched) { unschedulable++; schedulerSays ||= sched.message ?? ''; }
      next.pods.set(name, { restarts, failing: failingNow, unschedulable: unsched });
    }
    if (stalled !== undefined && !prev?.stalled) event('rollout-stalled', 'error', `kubernetes: ${what}: rollout stalled (ProgressDeadlineExceeded${stalled ? `: ${stalled}` : ''})`);
    this.seen.set(service, next);
    const degraded: string[] = [];
    if (unschedulable) degraded.push(`${unschedulable} pod(s) cannot be scheduled${schedulerSays ? ` (${schedulerSays})` : ''}`);
    if (failing) degraded.push(`${failing} pod(s) failing to start (${[...reasons].map(([r, n]) => `${n} ${r}`).join(', ')})`);
    if (stalled !== undefined) degraded.push(`rollout stalled (ProgressDeadlineExceeded)`);
    return degraded;
  }

  /**
   * The HorizontalPodAutoscaler that scales this workload too, if any (Kubernetes' own controller would set its
   * replicas against scalepilot's every 15 s; KEDA's ScaledObjects show up here as the HPAs they create). A namespace
   * whose HPAs cannot be listed (RBAC without the grant, an API error) is said once and not checked.
   */
  private async competingHpa(service: string, s: Spec): Promise<string | undefined> {
    const { autoscaling } = this.api(s);
    const key = `${s.kubeconfig ?? ''}|${s.context ?? ''}|${s.namespace}`;
    const now = Date.now();
    let entry = this.hpas.get(key);
    if (!entry || now - entry.at >= this.hpaCheckMs) {
      const targets = kubeCall(s.timeoutMs, (o) => autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: s.namespace }, o)).then((list) => {
        const m = new Map<string, string>();
        for (const h of list.items ?? []) {
          const r = h.spec?.scaleTargetRef;
          if (!r?.name || !h.metadata?.name) continue;
          // an HPA names its target by kind, name and apiVersion; apps/v1 (or none) is the workload scalepilot scales
          if (r.apiVersion && !/^apps\//.test(r.apiVersion)) continue;
          m.set(`${r.kind}/${r.name}`, h.metadata.name);
        }
        return m;
      });
      entry = { at: now, targets };
      this.hpas.set(key, entry);
      // a failed list is not kept: the next sync lists again
      targets.catch(() => { if (this.hpas.get(key) === entry) this.hpas.delete(key); });
    }
    try {
      const name = (await entry.targets).get(`${s.kind}/${s.name}`);
      this.hpaUnchecked.delete(service);
      return name;
    } catch (e) {
      if (!this.hpaUnchecked.has(service)) {
        this.hpaUnchecked.add(service);
        const code = (e as { code?: unknown }).code;
        const why = code === 403 ? 'forbidden: grant list on horizontalpodautoscalers.autoscaling in this namespace (deploy/rbac.yaml does)' : e instanceof KubeTimeout ? e.message : (e as Error).message;
        this.options.onEvent?.({ service, kind: 'hpa-check-failed', level: 'warn', message: `kubernetes: cannot list the HorizontalPodAutoscalers in namespace ${s.namespace} (${why}); an HPA also scaling ${s.kind} ${s.namespace}/${s.name} would go unnoticed` });
      }
      return undefined;
    }
  }

  /**
   * The VerticalPodAutoscalers that update this workload's pods (kube-vpa), listed per namespace at most every
   * hpaCheckMs like the HPAs. A cluster without the VPA's CustomResourceDefinition answers 404: no VPAs. A list that
   * fails otherwise (RBAC without the grant, an API error) is said once and counts as none.
   */
  private async workloadVpas(service: string, s: Spec): Promise<WorkloadVpa[]> {
    const { custom } = this.api(s);
    const key = `${s.kubeconfig ?? ''}|${s.context ?? ''}|${s.namespace}`;
    const now = Date.now();
    let entry = this.vpas.get(key);
    if (!entry || now - entry.at >= this.hpaCheckMs) {
      const targets = kubeCall(s.timeoutMs, (o) => custom.listNamespacedCustomObject({ group: 'autoscaling.k8s.io', version: 'v1', namespace: s.namespace, plural: 'verticalpodautoscalers' }, o))
        .then(updatingVpas, (e: unknown) => {
          if ((e as { code?: unknown }).code === 404) return new Map<string, WorkloadVpa[]>();
          throw e;
        });
      entry = { at: now, targets };
      this.vpas.set(key, entry);
      targets.catch(() => { if (this.vpas.get(key) === entry) this.vpas.delete(key); });
    }
    try {
      const found = (await entry.targets).get(`${s.kind}/${s.name}`) ?? [];
      this.vpaSaid.delete(`${service}|unchecked`);
      return found;
    } catch (e) {
      if (!this.vpaSaid.has(`${service}|unchecked`)) {
        this.vpaSaid.add(`${service}|unchecked`);
        const code = (e as { code?: unknown }).code;
        const why = code === 403 ? 'forbidden: grant list on verticalpodautoscalers.autoscaling.k8s.io in this namespace (deploy/rbac.yaml does)' : e instanceof KubeTimeout ? e.message : (e as Error).message;
        this.options.onEvent?.({ service, kind: 'vpa-check-failed', level: 'warn', message: `kubernetes: cannot list the VerticalPodAutoscalers in namespace ${s.namespace} (${why}); a VPA also resizing ${s.kind} ${s.namespace}/${s.name} would go unnoticed` });
      }
      return [];
    }
  }

  /**
   * Says once per VPA that one updates the container scalepilot watches: its resizes are refused while it does, and
   * replicas scaled on cpu or memory utilization follow requests the VPA keeps changing. Said again if it comes back.
   */
  private noticeVpas(service: string, s: Spec, container: string, vpas: WorkloadVpa[]): void {
    const now = new Set<string>();
    for (const v of vpas) {
      const c = vpaControls(v, container);
      if (!c) continue;
      const k = `${service}|vpa|${v.name}`;
      now.add(k);
      if (this.vpaSaid.has(k)) continue;
      this.vpaSaid.add(k);
      this.options.onEvent?.({
        service,
        kind: 'vpa-present',
        level: 'warn',
        message:
          `kubernetes: ${s.kind} ${s.namespace}/${s.name}: VerticalPodAutoscaler ${s.namespace}/${v.name} (updateMode ${v.mode}) sets ` +
          `${c.resources.join(' and ')} ${c.limits ? 'requests and limits' : 'requests'} of container ${container} on its pods; scalepilot will not resize ` +
          'what it controls, and replicas scaled on cpu or memory utilization follow requests the VPA keeps changing: scale on ' +
          "rps, latency or queue metrics, or set the VPA's updateMode to Off (recommendations only)",
      });
    }
    for (const k of [...this.vpaSaid]) if (k.startsWith(`${service}|vpa|`) && !now.has(k)) this.vpaSaid.delete(k);
  }

  /**
   * Takes or renews this run's Lease on the workload before it acts on it. Another live scalepilot holding it is a
   * failure to retry within a lease duration: this run holds the workload and says who drives it. Without the RBAC
   * grant for Leases the guard is skipped and said once.
   */
  private async claim(service: string, s: Spec): Promise<void> {
    const o = this.options.lease;
    if (!o || this.options.readOnly) return;
    const key = `${s.kubeconfig ?? ''}|${s.context ?? ''}|${s.namespace}|${s.kind}|${s.name}`;
    const name = workloadLeaseName(s.kind, s.name);
    let e = this.leases.get(key);
    if (!e) {
      const { coordination } = this.api(s);
      const lease = new WorkloadLease(coordination, { what: `${s.kind} ${s.namespace}/${s.name}`, namespace: s.namespace, name, identity: o.identity, timeoutMs: s.timeoutMs, ...(o.durationMs ? { durationMs: o.durationMs } : {}) });
      e = {
        keeper: new LeaseKeeper(lease, {
          what: `kubernetes: ${s.kind} ${s.namespace}/${s.name}`,
          prefix: 'kubernetes: ',
          keptAs: `Lease ${s.namespace}/${name}`,
          heldElsewhere: (x) => x instanceof WorkloadHeldElsewhere,
          event: (kind, level, message) => this.options.onEvent?.({ service, kind, level, message }),
        }),
      };
      this.leases.set(key, e);
    }
    if (e.forbidden) return;
    try {
      await e.keeper.claim();
    } catch (err) {
      if (err instanceof WorkloadHeldElsewhere) throw new ProviderError(this.kind, err.message, true, { cause: err, retryInMs: e.keeper.lease.durationMs });
      if ((err as { code?: unknown }).code === 403) {
        e.forbidden = true;
        this.options.onEvent?.({ service, kind: 'lease-check-failed', level: 'warn', message: `kubernetes: cannot read or write Lease ${s.namespace}/${name} (forbidden: grant get, create and update on leases.coordination.k8s.io in this namespace; deploy/rbac.yaml does); another scalepilot driving ${s.kind} ${s.namespace}/${s.name} would go unnoticed` });
        return;
      }
      throw callError(err, s, 'write', 'leases');
    }
  }

  async scale(t: TargetRef, replicas: number, o: ScaleOptions): Promise<void> {
    requireReplicaCount(this.kind, t.service, replicas);
    const s = this.spec(t);
    const { apps } = this.api(s);
    if (!o.dryRun) {
      await this.claim(t.service, s);
      const hpa = await this.competingHpa(t.service, s);
      if (hpa) throw hpaConflict(s, hpa, this.hpaCheckMs);
    }
    const param = {
      name: s.name,
      namespace: s.namespace,
      body: { spec: { replicas } },
      fieldManager: this.fieldManager,
      ...(o.dryRun ? { dryRun: 'All' } : {}),
    };
    // Kubernetes stops removed pods itself: preStop hooks and terminationGracePeriodSeconds are the drain here.
    const { setHeaderOptions, PatchStrategy } = kubeClient();
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    await call(s, 'patch', 'scale', (o) =>
      s.kind === 'Deployment' ? apps.patchNamespacedDeploymentScale(param, o) : apps.patchNamespacedStatefulSetScale(param, o),
    merge);
  }

  async resize(t: TargetRef, r: Resources, o: { dryRun: boolean }): Promise<void> {
    const s = this.spec(t);
    const { apps } = this.api(s);
    const ref = { name: s.name, namespace: s.namespace };
    let container = s.container;
    if (!container) {
      const w = await call(s, 'get', '', (o) => (s.kind === 'Deployment' ? apps.readNamespacedDeployment(ref, o) : apps.readNamespacedStatefulSet(ref, o)));
      container = w.spec?.template?.spec?.containers?.[0]?.name;
      if (!container) throw new ProviderError(this.kind, `${s.kind} ${s.namespace}/${s.name} has no containers to resize`, false);
    }
    const resources: Record<string, Record<string, string>> = {};
    if (r.requests && Object.keys(r.requests).length) resources.requests = { ...r.requests } as Record<string, string>;
    if (r.limits && Object.keys(r.limits).length) resources.limits = { ...r.limits } as Record<string, string>;
    if (!Object.keys(resources).length) throw new ProviderError(this.kind, `resize of ${t.service} names no requests or limits; nothing to change`, false);
    const param = {
      ...ref,
      // Strategic merge keys containers by name: only this container's resources change, the rest of the template stays.
      body: { spec: { template: { spec: { containers: [{ name: container, resources }] } } } },
      fieldManager: this.fieldManager,
      ...(o.dryRun ? { dryRun: 'All' } : {}),
    };
    if (!o.dryRun) {
      await this.claim(t.service, s);
      for (const v of await this.workloadVpas(t.service, s)) {
        const overlap = vpaOverlap(v, container, r);
        if (overlap.length) throw vpaConflict(s, v, container, overlap, this.hpaCheckMs);
      }
    }
    const { setHeaderOptions, PatchStrategy } = kubeClient();
    const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
    await call(s, 'patch', '', (o) =>
      s.kind === 'Deployment' ? apps.patchNamespacedDeployment(param, o) : apps.patchNamespacedStatefulSet(param, o),
    strategic);
  }

  /** Gives up this run's Leases (another run may take the workloads at once); the workloads keep their replicas. */
  async close(): Promise<void> {
    const leases = [...this.leases.values()];
    this.leases.clear();
    await Promise.all(leases.map((l) => l.keeper.close()));
    this.clients.clear();
    this.seen.clear();
  }
}

/** A HorizontalPodAutoscaler also scales the workload: refused with what to do. */
function hpaConflict(s: Spec, hpa: string, recheckMs: number): ProviderError {
  return new ProviderError(
    'kubernetes',
    `${s.kind} ${s.namespace}/${s.name} is also scaled by HorizontalPodAutoscaler ${s.namespace}/${hpa}; the two would set its replicas against each other, so scalepilot holds. Delete the HPA (kubectl delete hpa ${hpa} -n ${s.namespace}) once scalepilot is to take over, or point this service at another workload`,
    true,
    // looked at again as often as the HPAs are listed: scalepilot takes over soon after the HPA is deleted
    { retryInMs: Math.max(1000, recheckMs) },
  );
}

/** A VerticalPodAutoscaler updates what a resize would change: refused with what to do. */
function vpaConflict(s: Spec, v: WorkloadVpa, container: string, overlap: string[], recheckMs: number): ProviderError {
  return new ProviderError(
    'kubernetes',
    `${s.kind} ${s.namespace}/${s.name}: VerticalPodAutoscaler ${s.namespace}/${v.name} (updateMode ${v.mode}) controls ${overlap.join(', ')} of container ${container}; ` +
      'a resize of the pod template would be overwritten on every new pod and the two would roll the workload against each other, so scalepilot holds this change. ' +
      `Set the VPA's spec.updatePolicy.updateMode to Off (recommendations only) or give container ${container} mode: Off in its resourcePolicy, or drop this service's vertical steps`,
    true,
    // looked at again as often as the VPAs are listed
    { retryInMs: Math.max(1000, recheckMs) },
  );
}

function resourceName(s: Spec, sub: string): string {
  if (sub === 'pods' || sub === 'leases') return sub;
  const base = s.kind === 'Deployment' ? 'deployments' : 'statefulsets';
  return sub ? `${base}/${sub}` : base;
}

/**
 * Runs one API call within target.timeout and turns its failure into a ProviderError that says what to do. An API
 * server that takes the connection and never answers would otherwise hold the sync (and every later one) forever.
 */
async function call<T>(s: Spec, verb: string, sub: string, fn: (options: KubeCallOptions) => Promise<T>, base?: KubeCallOptions): Promise<T> {
  try {
    return await kubeCall(s.timeoutMs, fn, base);
  } catch (e) {
    throw callError(e, s, verb, sub);
  }
}

/** A failed kubeCall as a ProviderError: the deadline, or what the API server said. */
function callError(e: unknown, s: Spec, verb: string, sub: string): ProviderError {
  if (e instanceof KubeTimeout) {
    return new ProviderError('kubernetes', `${verb} ${resourceName(s, sub)} of ${s.kind} ${s.namespace}/${s.name}: ${e.message}; it is up but not answering (overloaded or hung), or raise target.timeout`, true, { cause: e });
  }
  return apiError(e, s, verb, sub);
}

function apiError(e: unknown, s: Spec, verb: string, sub: string): ProviderError {
  const err = e as { code?: number | string; body?: unknown; message?: string };
  const code = typeof err.code === 'number' ? err.code : undefined;
  const resource = resourceName(s, sub);
  const what = `${s.kind} ${s.namespace}/${s.name}`;
  let message = err.message ?? String(e);
  if (typeof err.body === 'string') {
    try {
      message = (JSON.parse(err.body) as { message?: string }).message ?? message;
    } catch {
      // not a Status object
    }
  } else if (err.body && typeof err.body === 'object' && 'message' in err.body) {
    message = String((err.body as { message: unknown }).message);
  }
  const group = resource === 'pods' ? '""' : 'apps';
  switch (code) {
    case 401:
      return new ProviderError('kubernetes', `${verb} ${resource} of ${what}: the API server rejected the credentials (401); refresh the kubeconfig token`, false, { cause: e });
    case 403:
      return new ProviderError('kubernetes', `${verb} ${resource} of ${what} forbidden: ${message}; grant "${verb}" on "${resource}" (apiGroup ${group}) to scalepilot's ServiceAccount, see deploy/rbac.yaml`, false, { cause: e });
    case 404:
      return new ProviderError('kubernetes', `${what} not found (${message}); check target.name, target.namespace and target.kind`, false, { cause: e });
    case 409:
      return new ProviderError('kubernetes', `${verb} ${resource} of ${what} conflicted with another writer (${message}); the next sync retries`, true, { cause: e });
    case 422:
    case 400:
      return new ProviderError('kubernetes', `${verb} ${resource} of ${what} was rejected as invalid: ${message}`, false, { cause: e });
    case undefined: {
      const net = (err as { cause?: { code?: string } }).cause?.code ?? (typeof err.code === 'string' ? err.code : undefined);
      return new ProviderError('kubernetes', `${verb} ${resource} of ${what}: cannot reach the API server${net ? ` (${net})` : ''}: ${message}`, true, { cause: e });
    }
    default:
      return new ProviderError('kubernetes', `${verb} ${resource} of ${what} failed with HTTP ${code}: ${message}`, code >= 500 || code === 429, { cause: e });
  }
}

function ms(d: Date | string | undefined): number | undefined {
  if (d === undefined || d === null) return undefined;
  const v = d instanceof Date ? d.getTime() : Date.parse(d);
  return Number.isFinite(v) ? v : undefined;
}

const PHASES = new Set(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']);

function podState(p: V1Pod): PodState {
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
  const phase = (PHASES.has(p.status?.phase ?? '') ? p.status!.phase : 'Unknown') as PodState['phase'];
  const startTime = ms(p.status?.startTime);
  const readyTransitionTime = ms(ready?.lastTransitionTime);
  const restarts = (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const waiting = p.status?.containerStatuses?.find((c) => c.state?.waiting?.reason)?.state?.waiting?.reason;
  const reason = p.metadata?.deletionTimestamp ? 'Terminating' : (waiting ?? p.status?.reason);
  return {
    name: p.metadata?.name ?? '',
    phase,
    ready: ready?.status === 'True',
    ...(startTime !== undefined ? { startTime } : {}),
    ...(readyTransitionTime !== undefined ? { readyTransitionTime } : {}),
    ...(p.metadata?.deletionTimestamp ? { deleted: true } : {}),
    restarts,
    ...(reason ? { reason } : {}),
    containers: (p.spec?.containers ?? []).map((c) => {
      const resources = containerResources(c);
      return { name: c.name, ...(resources ? { resources } : {}) };
    }),
  };
}

function containerResources(c: V1Container): Resources | undefined {
  const pick = (m: Record<string, string> | undefined) => {
    if (!m) return undefined;
    const out: { cpu?: string; memory?: string } = {};
    if (m.cpu !== undefined) out.cpu = String(m.cpu);
    if (m.memory !== undefined) out.memory = String(m.memory);
    return Object.keys(out).length ? out : undefined;
  };
  const requests = pick(c.resources?.requests as Record<string, string> | undefined);
  const limits = pick(c.resources?.limits as Record<string, string> | undefined);
  if (!requests && !limits) return undefined;
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}
