// VerticalPodAutoscalers (autoscaling.k8s.io/v1) on a workload scalepilot resizes. A VPA in an updating mode sets
// each new pod's requests (and, unless controlledValues is RequestsOnly, its limits in proportion) from its own
// recommendation, whatever the pod template says: a resize of the template would be overwritten pod by pod, and each
// of the two would roll the workload in turn. So a resize that touches what a VPA controls is refused with the fix,
// and a VPA is only noticed, not held against, when scalepilot changes replicas (the HPA+VPA caveat, scaling on the
// cpu or memory a VPA is changing, is said as a warning). The objects are read as the API server serves them; the
// VPA's CustomResourceDefinition need not be installed (a 404 on the list means no VPAs).
import type { Resources } from './types.js';

/** A VPA that updates pods (updateMode other than Off), as it applies to one workload. */
export interface WorkloadVpa {
  name: string;
  /** spec.updatePolicy.updateMode (Auto when unset, as the VPA's admission controller reads it) */
  mode: string;
  /** spec.resourcePolicy.containerPolicies, as read */
  containerPolicies: Array<{ containerName: string; mode?: string; controlledResources?: string[]; controlledValues?: string }>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The updating VPAs of a VerticalPodAutoscalerList, by the workload they target (`Kind/name`, apps/v1 kinds only:
 * a VPA on an Argo Rollout of the same name is not on this workload). A VPA with updateMode Off only recommends and is
 * left out. Malformed items are skipped: the list comes from the cluster, not from the operator.
 */
export function updatingVpas(list: unknown): Map<string, WorkloadVpa[]> {
  const out = new Map<string, WorkloadVpa[]>();
  const items = isObj(list) && Array.isArray(list.items) ? list.items : [];
  for (const item of items) {
    if (!isObj(item) || !isObj(item.metadata) || !isObj(item.spec)) continue;
    const name = str(item.metadata.name);
    const ref = isObj(item.spec.targetRef) ? item.spec.targetRef : undefined;
    const kind = str(ref?.kind);
    const target = str(ref?.name);
    const apiVersion = str(ref?.apiVersion);
    if (!name || !kind || !target || (apiVersion && !/^apps\//.test(apiVersion))) continue;
    const mode = (isObj(item.spec.updatePolicy) ? str(item.spec.updatePolicy.updateMode) : undefined) ?? 'Auto';
    if (mode === 'Off') continue;
    const policies = isObj(item.spec.resourcePolicy) && Array.isArray(item.spec.resourcePolicy.containerPolicies) ? item.spec.resourcePolicy.containerPolicies : [];
    const containerPolicies: WorkloadVpa['containerPolicies'] = [];
    for (const p of policies) {
      if (!isObj(p) || !str(p.containerName)) continue;
      const resources = Array.isArray(p.controlledResources) ? p.controlledResources.filter((r): r is string => typeof r === 'string') : undefined;
      containerPolicies.push({
        containerName: p.containerName as string,
        ...(str(p.mode) ? { mode: p.mode as string } : {}),
        ...(resources ? { controlledResources: resources } : {}),
        ...(str(p.controlledValues) ? { controlledValues: p.controlledValues as string } : {}),
      });
    }
    const key = `${kind}/${target}`;
    out.set(key, [...(out.get(key) ?? []), { name, mode, containerPolicies }]);
  }
  return out;
}

/** What a VPA controls of one container: the resources, and whether limits too; undefined when it leaves it alone. */
export function vpaControls(vpa: WorkloadVpa, container: string): { resources: string[]; limits: boolean } | undefined {
  // the container's own policy wins over the '*' default, as the VPA reads them
  const p = vpa.containerPolicies.find((x) => x.containerName === container) ?? vpa.containerPolicies.find((x) => x.containerName === '*');
  if (p?.mode === 'Off') return undefined;
  return { resources: p?.controlledResources ?? ['cpu', 'memory'], limits: p?.controlledValues !== 'RequestsOnly' };
}

/** The requests and limits of `r` that a VPA controls on `container` (e.g. ["requests.cpu"]); empty when none. */
export function vpaOverlap(vpa: WorkloadVpa, container: string, r: Resources): string[] {
  const c = vpaControls(vpa, container);
  if (!c) return [];
  const out: string[] = [];
  for (const k of Object.keys(r.requests ?? {})) if (c.resources.includes(k)) out.push(`requests.${k}`);
  if (c.limits) for (const k of Object.keys(r.limits ?? {})) if (c.resources.includes(k)) out.push(`limits.${k}`);
  return out;
}
