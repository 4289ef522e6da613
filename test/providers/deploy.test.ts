// deploy/: every manifest validates against the Kubernetes schemas (kubernetes-models), hangs together (names,
// ports, config path), and its RBAC is exactly enough: the provider and leader election succeed against a fake API
// server that authorizes with nothing but deploy/rbac.yaml, and fail outside the bound namespace.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { parseConfig } from '../../src/config/load.js';
import { KubernetesProvider } from '../../src/providers/kubernetes.js';
import type { ProviderEvent } from '../../src/providers/types.js';
import { LeaderElector, LeaseLock } from '../../src/controller/leader.js';
import { FakeKube } from '../helpers/fake-kube.js';

type Obj = Record<string, any>;
const DIR = 'deploy';

const MODELS: Record<string, new (o: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

function load(): Array<{ file: string; obj: Obj }> {
  const out: Array<{ file: string; obj: Obj }> = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))) {
      assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
      const obj = doc.toJS() as Obj | null;
      if (obj) out.push({ file, obj });
    }
  }
  return out;
}

const objects = load();
const find = (kind: string, name?: string) => objects.map((o) => o.obj).filter((o) => o.kind === kind && (!name || o.metadata.name === name));
const one = (kind: string, name?: string) => {
  const all = find(kind, name);
  assert.equal(all.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, found ${all.length}`);
  return all[0]!;
};

describe('deploy/ manifests', () => {
  it('lists every manifest in kustomization.yaml', () => {
    const k = parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as Obj;
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
    assert.deepEqual([...k.resources].sort(), files);
  });

  for (const { file, obj } of objects) {
    it(`${file}: ${obj.kind} ${obj.metadata?.name} validates against the Kubernetes schema`, () => {
      const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
      assert.ok(Model, `no schema for ${obj.apiVersion} ${obj.kind}`);
      new Model(structuredClone(obj)).validate();
    });
  }

  it('the schema check is live: a broken Deployment fails validation', () => {
    const d = structuredClone(one('Deployment'));
    d.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    assert.throws(() => new Deployment(d).validate());
    const r = structuredClone(one('Role'));
    r.rules[0].verbs = 'create';
    assert.throws(() => new Role(r).validate());
  });

  it('runs two replicas with leader election, probes on /healthz, limits and a non-root read-only container', () => {
    const d = one('Deployment', 'scalepilot');
    assert.equal(d.spec.replicas, 2);
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    assert.deepEqual(c.args, ['run', '--config', '/etc/scalepilot/scalepilot.yaml', '--leader-elect']);
    const port = c.ports.find((p: Obj) => p.name === 'http');
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      assert.equal(probe.httpGet.path, '/healthz');
      assert.ok(probe.httpGet.port === 'http' || probe.httpGet.port === port.containerPort);
    }
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.ok(pod.securityContext.runAsUser > 0);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
    const env = Object.fromEntries(c.env.map((e: Obj) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
    assert.deepEqual(env, { POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace' });
    // Names line up: service account, config map and its mount, the service's target port.
    assert.equal(pod.serviceAccountName, one('ServiceAccount').metadata.name);
    const cfgVol = pod.volumes.find((v: Obj) => v.configMap);
    assert.equal(cfgVol.configMap.name, one('ConfigMap').metadata.name);
    assert.equal(c.volumeMounts.find((m: Obj) => m.name === cfgVol.name).mountPath, '/etc/scalepilot');
    assert.equal(one('Service').spec.ports[0].targetPort, 'http');
    assert.deepEqual(one('Service').spec.selector, d.spec.selector.matchLabels);
  });

  it('ships a scalepilot.yaml that loads, listening where the probes look', () => {
    const text = one('ConfigMap').data['scalepilot.yaml'];
    const config = parseConfig(text, 'deploy/configmap.yaml#scalepilot.yaml');
    assert.equal(config.services.web!.target.provider, 'kubernetes');
    const port = one('Deployment').spec.template.spec.containers[0].ports[0].containerPort;
    assert.equal(config.server?.listen, `0.0.0.0:${port}`);
    assert.match(config.store, /^sqlite:\/var\/lib\/scalepilot\//, 'the store is on the writable state volume');
  });

  it('grants exactly the least-privilege rules, with no wildcards', () => {
    const flat = (rules: Obj[]) =>
      rules.flatMap((r) => r.apiGroups.flatMap((g: string) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${g}/${res}:${v}${r.resourceNames ? `@${r.resourceNames.join('+')}` : ''}`)))).sort();
    assert.deepEqual(flat(one('ClusterRole').rules), [
      'apps/deployments/scale:get', 'apps/deployments/scale:patch', 'apps/deployments/scale:update',
      'apps/deployments:get', 'apps/deployments:patch',
      'apps/statefulsets/scale:get', 'apps/statefulsets/scale:patch', 'apps/statefulsets/scale:update',
      'apps/statefulsets:get', 'apps/statefulsets:patch',
      'metrics.k8s.io/pods:get', 'metrics.k8s.io/pods:list',
      'autoscaling/horizontalpodautoscalers:list',
      'autoscaling.k8s.io/verticalpodautoscalers:list',
      'coordination.k8s.io/leases:get', 'coordination.k8s.io/leases:create', 'coordination.k8s.io/leases:update',
      '/pods:get', '/pods:list',
    ].sort());
    assert.deepEqual(flat(one('Role').rules), ['coordination.k8s.io/leases:create', 'coordination.k8s.io/leases:get@scalepilot', 'coordination.k8s.io/leases:update@scalepilot'].sort());
    assert.equal(find('ClusterRoleBinding').length, 0, 'nothing is granted cluster-wide');
  });
});

describe('deploy/rbac.yaml is enough for what scalepilot calls', () => {
  // An authorizer that knows only the Roles and RoleBindings in deploy/.
  const sa = one('ServiceAccount');
  const grants: Array<{ namespace: string; rules: Obj[] }> = find('RoleBinding')
    .filter((b) => b.subjects.some((s: Obj) => s.kind === 'ServiceAccount' && s.name === sa.metadata.name && s.namespace === sa.metadata.namespace))
    .map((b) => ({ namespace: b.metadata.namespace, rules: one(b.roleRef.kind, b.roleRef.name).rules }));
  const kube = new FakeKube({
    user: `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`,
    authorize: (a) =>
      grants.some((g) => g.namespace === a.namespace && g.rules.some((r) =>
        r.apiGroups.includes(a.group) && r.resources.includes(a.resource) && r.verbs.includes(a.verb) &&
        (!r.resourceNames || (a.name !== undefined && r.resourceNames.includes(a.name))))),
  });
  before(() => kube.start());
  after(() => kube.close());

  it('lets the kubernetes provider observe, scale and resize in the bound namespace only', async () => {
    kube.addWorkload('Deployment', 'default', 'web', { replicas: 2 });
    kube.addWorkload('Deployment', 'shop', 'web', { replicas: 2 });
    const events: ProviderEvent[] = [];
    const p = new KubernetesProvider({ kubeConfig: kube.kubeConfig(), hpaCheckMs: 0, onEvent: (e) => events.push(e), lease: { identity: 'in-cluster' } });
    const web = { service: 'web', provider: 'kubernetes' as const, spec: { namespace: 'default' } };
    assert.equal((await p.observe(web)).pods.length, 2);
    await p.scale(web, 3, { dryRun: false, drainMs: 0 });
    await p.resize(web, { requests: { cpu: '300m' } }, { dryRun: false });
    assert.equal(kube.get('deployments', 'default', 'web')!.spec.replicas, 3);
    await assert.rejects(p.observe({ ...web, spec: { namespace: 'shop' } }), /forbidden/);
    // the HPAs and VPAs of the namespace can be listed (the VPA's CRD is not installed: a 404, not a 403), and the
    // workload's Lease written
    assert.deepEqual(events.filter((e) => e.kind === 'hpa-check-failed' || e.kind === 'vpa-check-failed' || e.kind === 'lease-check-failed').map((e) => e.message).filter((m) => /namespace default|Lease default\//.test(m)), []);
    assert.equal(kube.get('leases', 'default', 'scalepilot-deployment-web')?.spec.holderIdentity, 'in-cluster');
    // a VPA on the Deployment is seen through the grant: its resizes are refused
    kube.addVpa('default', 'web', { kind: 'Deployment', name: 'web' });
    await assert.rejects(p.resize(web, { requests: { cpu: '400m' } }, { dryRun: false }), /VerticalPodAutoscaler default\/web \(updateMode Auto\) controls requests\.cpu/);
    kube.addHpa('default', 'web', { kind: 'Deployment', name: 'web' });
    await assert.rejects(p.observe(web), /also scaled by HorizontalPodAutoscaler default\/web/);
    await p.close();
    assert.equal(kube.get('leases', 'default', 'scalepilot-deployment-web')?.spec.holderIdentity, '', 'given up on close');
  });

  it('lets leader election create, renew and release the scalepilot Lease, and nothing else', async () => {
    const d = one('Deployment');
    const ns = d.metadata.namespace;
    const lockFor = (name: string) => LeaseLock.fromKubeConfig(kube.kubeConfig(), { namespace: ns, name, identity: 'scalepilot-0' });
    const e = new LeaderElector({ lock: lockFor('scalepilot'), callbacks: { onStartedLeading: () => {}, onStoppedLeading: () => {} } });
    assert.equal(await e.tryAcquireOrRenew(), true);
    assert.equal(await e.tryAcquireOrRenew(), true);
    assert.equal(await e.release(), true);
    assert.equal(kube.get('leases', ns, 'scalepilot')!.spec.holderIdentity, '');
    const other = new LeaderElector({ lock: lockFor('someone-elses-lease'), callbacks: { onStartedLeading: () => {}, onStoppedLeading: () => {} } });
    kube.objects.set(`leases/${ns}/someone-elses-lease`, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'someone-elses-lease', namespace: ns, resourceVersion: '1' }, spec: {} });
    assert.equal(await other.tryAcquireOrRenew(), false, 'get/update are limited to the scalepilot Lease');
  });
});
