// The kubernetes provider through @kubernetes/client-node against a fake API server speaking real object shapes:
// scale subresource reads and merge patches, pods by the scale's selector, strategic-merge resize, dryRun=All,
// and the 403 / 404 / 409 / 5xx answers a real cluster gives.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { WorkloadLease } from '../../src/providers/kube-lease.js';
import { KubernetesProvider, parseKubernetesSpec } from '../../src/providers/kubernetes.js';
import { ProviderSpecError } from '../../src/providers/spec.js';
import { createProvider } from '../../src/providers/index.js';
import { ProviderError, type ProviderEvent, type TargetRef } from '../../src/providers/types.js';
import { FakeKube, parseSelector } from '../helpers/fake-kube.js';
import { tempDir } from '../helpers/env.js';

describe('parseKubernetesSpec', () => {
  const cases: Array<{ name: string; raw: unknown; path: string }> = [
    { name: 'unknown kind', raw: { kind: 'DaemonSet' }, path: 't.kind' },
    { name: 'bad name', raw: { name: 'Web_App' }, path: 't.name' },
    { name: 'bad namespace', raw: { namespace: 'prod.eu' }, path: 't.namespace' },
    { name: 'empty container', raw: { container: '' }, path: 't.container' },
    { name: 'typo field', raw: { namepsace: 'x' }, path: 't.namepsace' },
    { name: 'not a mapping', raw: ['web'], path: 't' },
    { name: 'a zero timeout', raw: { timeout: '0s' }, path: 't.timeout' },
    { name: 'a timeout past 10m', raw: { timeout: '1h' }, path: 't.timeout' },
  ];
  for (const c of cases) {
    it(`rejects ${c.name} naming ${c.path}`, () => {
      assert.throws(() => parseKubernetesSpec(c.raw, 't'), (e: unknown) => e instanceof ProviderSpecError && e.path === c.path && /fix: /.test(e.message));
    });
  }
  it('defaults to a Deployment in the default namespace', () => {
    assert.deepEqual(parseKubernetesSpec({ provider: 'kubernetes' }, 't'), { kind: 'Deployment', namespace: 'default', timeoutMs: 10_000 });
  });
});

describe('fake-kube label selectors', () => {
  const cases: Array<[string, Record<string, string>, boolean]> = [
    ['app=web', { app: 'web' }, true],
    ['app=web', { app: 'api' }, false],
    ['app==web,tier!=db', { app: 'web', tier: 'fe' }, true],
    ['app=web,tier in (fe,be)', { app: 'web', tier: 'be' }, true],
    ['tier notin (fe,be)', { tier: 'be' }, false],
    ['canary', { canary: 'x' }, true],
    ['!canary', { canary: 'x' }, false],
  ];
  for (const [sel, labels, want] of cases) it(`${sel} on ${JSON.stringify(labels)}`, () => assert.equal(parseSelector(sel)(labels), want));
});

describe('kubernetes provider against a fake API server', () => {
  const kube = new FakeKube({ token: 'sekret', podTerminationMs: 300 });
  let provider: KubernetesProvider;
  const web: TargetRef = { service: 'web', provider: 'kubernetes', spec: { namespace: 'shop' } };
  const db: TargetRef = { service: 'db', provider: 'kubernetes', spec: { kind: 'StatefulSet', namespace: 'shop' } };

  before(async () => {
    await kube.start();
    provider = new KubernetesProvider({ kubeConfig: kube.kubeConfig() });
  });
  after(async () => {
    await provider.close();
    await kube.close();
  });
  beforeEach(() => {
    kube.objects.clear();
    kube.requests.splice(0);
    kube.denials.splice(0);
    kube.vpaInstalled = false;
    kube.addWorkload('Deployment', 'shop', 'web', { replicas: 3, labels: { app: 'web', tier: 'fe' } });
    kube.addWorkload('Deployment', 'shop', 'web-canary', { replicas: 1, labels: { app: 'web-canary' } });
    kube.addWorkload('StatefulSet', 'shop', 'db', { replicas: 2, containers: [{ name: 'postgres', image: 'postgres:15' }, { name: 'exporter', image: 'exporter:1' }] });
  });

  it('observes replicas from the scale and pods from its selector', async () => {
    const s = await provider.observe(web);
    assert.equal(s.replicas, 3);
    assert.equal(s.readyReplicas, 3);
    assert.equal(s.pods.length, 3, 'the canary pods do not match the selector');
    for (const p of s.pods) {
      assert.match(p.name, /^web-[a-z0-9]+-[0-9a-f]{5}$/);
      assert.equal(p.phase, 'Running');
      assert.equal(p.ready, true);
      assert.ok(Math.abs(p.startTime! - Date.now()) < 5000);
      assert.ok(p.readyTransitionTime! >= p.startTime!);
      assert.deepEqual(p.containers, [{ name: 'web', resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } } }]);
    }
    assert.deepEqual(s.resources, { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } });
    const list = kube.requests.find((r) => r.path === '/api/v1/namespaces/shop/pods')!;
    assert.equal(list.query.get('labelSelector'), 'app=web,tier=fe');
    assert.ok(kube.requests.some((r) => r.method === 'GET' && r.path === '/apis/apps/v1/namespaces/shop/deployments/web/scale'));
  });

  it('scales through a merge patch of the scale subresource', async () => {
    await provider.scale(web, 5, { dryRun: false, drainMs: 0 });
    const patch = kube.requests.find((r) => r.method === 'PATCH')!;
    assert.equal(patch.path, '/apis/apps/v1/namespaces/shop/deployments/web/scale');
    assert.equal(patch.contentType, 'application/merge-patch+json');
    assert.deepEqual(patch.body, { spec: { replicas: 5 } });
    assert.equal(patch.query.get('fieldManager'), 'scalepilot');
    const s = await provider.observe(web);
    assert.equal(s.replicas, 5);
    assert.equal(s.pods.length, 5);
  });

  it('reports pods terminating after a scale-down as deleted', async () => {
    await provider.scale(web, 1, { dryRun: false, drainMs: 0 });
    const s = await provider.observe(web);
    assert.equal(s.replicas, 1);
    assert.equal(s.pods.filter((p) => p.deleted).length, 2);
    assert.equal(s.pods.find((p) => p.deleted)!.reason, 'Terminating');
    assert.equal(s.readyReplicas, 1, 'terminating pods are not counted ready');
  });

  it('dry-run scale and resize reach the API with dryRun=All and change nothing', async () => {
    await provider.scale(web, 9, { dryRun: true, drainMs: 0 });
    await provider.resize(web, { requests: { cpu: '1' } }, { dryRun: true });
    const writes = kube.requests.filter((r) => r.method === 'PATCH');
    assert.equal(writes.length, 2);
    for (const w of writes) assert.equal(w.query.get('dryRun'), 'All');
    assert.equal(kube.get('deployments', 'shop', 'web')!.spec.replicas, 3);
    assert.equal(kube.get('deployments', 'shop', 'web')!.spec.template.spec.containers[0].resources.requests.cpu, '250m');
  });

  it('resizes one container with a strategic-merge patch, keeping the others', async () => {
    await provider.resize(db, { requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '8Gi' } }, { dryRun: false });
    const patch = kube.requests.find((r) => r.method === 'PATCH')!;
    assert.equal(patch.path, '/apis/apps/v1/namespaces/shop/statefulsets/db');
    assert.equal(patch.contentType, 'application/strategic-merge-patch+json');
    const containers = kube.get('statefulsets', 'shop', 'db')!.spec.template.spec.containers;
    assert.deepEqual(containers.map((c: { name: string }) => c.name), ['postgres', 'exporter']);
    assert.deepEqual(containers[0].resources, { requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '8Gi' } });
    assert.equal(containers[1].resources, undefined);
    const s = await provider.observe(db);
    assert.deepEqual(s.resources, { requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '8Gi' } });
    assert.deepEqual(s.pods.map((p) => p.name), ['db-0', 'db-1']);
  });

  it('resizes the named container', async () => {
    const t: TargetRef = { ...db, spec: { ...db.spec, container: 'exporter' } };
    await provider.resize(t, { limits: { cpu: '100m' } }, { dryRun: false });
    const containers = kube.get('statefulsets', 'shop', 'db')!.spec.template.spec.containers;
    assert.deepEqual(containers[1].resources, { limits: { cpu: '100m' } });
    assert.equal(containers[0].resources, undefined);
  });

  it('explains RBAC denials with the verb and resource to grant', async () => {
    kube.deny({ verb: 'patch', resource: 'deployments/scale' });
    await assert.rejects(provider.scale(web, 4, { dryRun: false, drainMs: 0 }), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.retryable, false);
      assert.match(e.message, /cannot patch resource "deployments\/scale" in API group "apps"/);
      assert.match(e.message, /grant "patch" on "deployments\/scale"/);
      return true;
    });
    kube.deny({ verb: 'list', resource: 'pods' });
    await assert.rejects(provider.observe(web), /grant "list" on "pods"/);
  });

  it('names a missing workload and how to fix the target', async () => {
    const t: TargetRef = { service: 'nope', provider: 'kubernetes', spec: { namespace: 'shop' } };
    await assert.rejects(provider.observe(t), (e: unknown) => {
      assert.ok(e instanceof ProviderError && !e.retryable);
      assert.match(e.message, /Deployment shop\/nope not found \(deployments\.apps "nope" not found\); check target\.name/);
      return true;
    });
  });

  it('marks server errors retryable and validation errors not', async () => {
    kube.failNext('PATCH', /\/scale$/, 503);
    await assert.rejects(provider.scale(web, 4, { dryRun: false, drainMs: 0 }), (e: unknown) => e instanceof ProviderError && e.retryable && /HTTP 503/.test(e.message));
    await provider.scale(web, 4, { dryRun: false, drainMs: 0 });
    assert.equal(kube.get('deployments', 'shop', 'web')!.spec.replicas, 4);
    await assert.rejects(provider.scale(web, -1, { dryRun: false, drainMs: 0 }), /whole number/);
  });

  it('reports pods restarting, failing to start and unschedulable, and a stalled rollout, once each, as events and degraded conditions', async () => {
    const events: ProviderEvent[] = [];
    // through createProvider, as run builds it, so the events reach run's log and counters
    const p = createProvider('kubernetes', { kubernetes: { kubeConfig: kube.kubeConfig() }, onEvent: (e) => events.push(e) });
    try {
      const first = await p.observe(web);
      assert.equal(first.degraded, undefined, 'a healthy workload is not degraded');
      assert.equal(events.length, 0);
      const [a, b, c] = kube.list('pods', 'shop').filter((x) => x.metadata.labels.app === 'web');
      // the kubelet's view: a's container was OOM-killed and restarted, b's is crash-looping, c is not scheduled
      a!.status.containerStatuses[0].restartCount = 2;
      a!.status.containerStatuses[0].lastState = { terminated: { reason: 'OOMKilled', exitCode: 137 } };
      b!.status.containerStatuses[0].state = { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } };
      b!.status.containerStatuses[0].ready = false;
      c!.status.phase = 'Pending';
      c!.status.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }];
      const w = kube.get('deployments', 'shop', 'web')!;
      w.status.conditions = [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-1" has timed out progressing.' }];
      const s = await p.observe(web);
      assert.deepEqual(events.map((e) => [e.service, e.kind, e.level]), [
        ['web', 'replica-restarted', 'warn'],
        ['web', 'replica-failing', 'error'],
        ['web', 'replica-unschedulable', 'warn'],
        ['web', 'rollout-stalled', 'error'],
      ]);
      assert.match(events[0]!.message, new RegExp(`pod ${a!.metadata.name} restarted \\(2 restart\\(s\\) in all; last exit: OOMKilled \\(exit code 137\\)\\)`));
      assert.match(events[1]!.message, /container web: CrashLoopBackOff \(back-off 40s/);
      assert.match(events[2]!.message, /cannot be scheduled: 0\/3 nodes are available: 3 Insufficient cpu\./);
      assert.deepEqual(s.degraded, [
        '1 pod(s) cannot be scheduled (0/3 nodes are available: 3 Insufficient cpu.)',
        '1 pod(s) failing to start (1 CrashLoopBackOff)',
        'rollout stalled (ProgressDeadlineExceeded)',
      ]);
      assert.equal(s.readyReplicas, 2, 'the pod that is not scheduled is not ready');
      // nothing new: no event again, the conditions still hold
      const again = await p.observe(web);
      assert.equal(events.length, 4);
      assert.equal(again.degraded?.length, 3);
      // recovered: no conditions, and a further restart is a new event
      b!.status.containerStatuses[0].state = { running: {} };
      c!.status.conditions = [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }];
      w.status.conditions = [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }];
      a!.status.containerStatuses[0].restartCount = 3;
      const healed = await p.observe(web);
      assert.equal(healed.degraded, undefined);
      assert.deepEqual(events.slice(4).map((e) => e.kind), ['replica-restarted']);
      // another service's pods are tracked apart: a first look at db reports no old restarts
      kube.list('pods', 'shop').find((x) => x.metadata.name === 'db-0')!.status.containerStatuses[0].restartCount = 7;
      await p.observe(db);
      assert.equal(events.length, 5);
    } finally {
      await p.close?.();
    }
  });

  it('a hung API server fails each call at target.timeout, retryable, with the reason; the next call goes through', async () => {
    // the client has no deadline of its own: a server that took the request and never answered held observe forever
    const quick: TargetRef = { ...web, spec: { ...web.spec, timeout: '1s' } };
    kube.hangNext('GET', /\/scale$/);
    let t0 = Date.now();
    await assert.rejects(provider.observe(quick), (e: unknown) =>
      e instanceof ProviderError && e.retryable && /get deployments\/scale of Deployment shop\/web: the API server gave no answer within 1 s/.test(e.message));
    let took = Date.now() - t0;
    assert.ok(took >= 950 && took < 5000, `failed at the deadline (${took} ms)`);
    kube.hangNext('PATCH', /\/scale$/);
    t0 = Date.now();
    await assert.rejects(provider.scale(quick, 5, { dryRun: false, drainMs: 0 }), (e: unknown) =>
      e instanceof ProviderError && e.retryable && /patch deployments\/scale of Deployment shop\/web: the API server gave no answer within 1 s/.test(e.message));
    took = Date.now() - t0;
    assert.ok(took >= 950 && took < 5000, `failed at the deadline (${took} ms)`);
    // the merge patch's own header still goes with the deadline
    await provider.scale(quick, 5, { dryRun: false, drainMs: 0 });
    assert.equal(kube.requests.at(-1)?.contentType, 'application/merge-patch+json');
    assert.equal((await provider.observe(quick)).replicas, 5);
  });

  it('an HPA that also scales the workload: run holds with what to do, a dry run shadows it, other HPAs do not count', async () => {
    const events: ProviderEvent[] = [];
    const acting = new KubernetesProvider({ kubeConfig: kube.kubeConfig(), hpaCheckMs: 0, onEvent: (e) => events.push(e) });
    const shadow = new KubernetesProvider({ kubeConfig: kube.kubeConfig(), hpaCheckMs: 0, readOnly: true });
    try {
      // HPAs on another workload, on a StatefulSet of the same name, and on a non-apps kind of the same name
      kube.addHpa('shop', 'canary', { kind: 'Deployment', name: 'web-canary' });
      kube.addHpa('shop', 'db-web', { kind: 'StatefulSet', name: 'web' });
      kube.addHpa('shop', 'rollout', { kind: 'Deployment', name: 'web', apiVersion: 'argoproj.io/v1alpha1' });
      assert.equal((await acting.observe(web)).degraded, undefined);
      await acting.scale(web, 4, { dryRun: false, drainMs: 0 });

      kube.addHpa('shop', 'web-hpa', { kind: 'Deployment', name: 'web' });
      const conflict = /Deployment shop\/web is also scaled by HorizontalPodAutoscaler shop\/web-hpa; the two would set its replicas against each other, so scalepilot holds\. Delete the HPA \(kubectl delete hpa web-hpa -n shop\)/;
      await assert.rejects(acting.observe(web), (e: unknown) => e instanceof ProviderError && e.retryable && e.retryInMs === 1000 && conflict.test(e.message));
      const patches = kube.requests.filter((r) => r.method === 'PATCH').length;
      await assert.rejects(acting.scale(web, 6, { dryRun: false, drainMs: 0 }), conflict);
      assert.equal(kube.requests.filter((r) => r.method === 'PATCH').length, patches, 'nothing was patched');
      assert.equal((await shadow.observe(web)).replicas, 4);
      // a dry run (shadowing the HPA before replacing it) observes, reports the conflict as degraded and may dry-run
      const seen = await shadow.observe(web);
      assert.equal(seen.degraded?.length, 1);
      assert.match(seen.degraded![0]!, conflict);
      await shadow.scale(web, 6, { dryRun: true, drainMs: 0 });
      // the StatefulSet named in an HPA is refused the same way
      kube.addHpa('shop', 'db', { kind: 'StatefulSet', name: 'db' });
      await assert.rejects(acting.observe(db), /StatefulSet shop\/db is also scaled by HorizontalPodAutoscaler shop\/db/);

      // the HPA deleted: scalepilot drives the workload again
      kube.objects.delete(`horizontalpodautoscalers/shop/web-hpa`);
      assert.equal((await acting.observe(web)).replicas, 4);
      await acting.scale(web, 6, { dryRun: false, drainMs: 0 });
      assert.equal((await acting.observe(web)).replicas, 6);
      assert.deepEqual(events.filter((e) => e.kind === 'hpa-check-failed'), []);
    } finally {
      await acting.close();
      await shadow.close();
    }
  });

  it('a VerticalPodAutoscaler updating the workload: its resizes are refused with the fix, replicas still scale, and it is said once', async () => {
    const events: ProviderEvent[] = [];
    const p = new KubernetesProvider({ kubeConfig: kube.kubeConfig(), hpaCheckMs: 0, onEvent: (e) => events.push(e) });
    const patches = () => kube.requests.filter((r) => r.method === 'PATCH').length;
    try {
      // no VPA CRD in the cluster (the list is a 404): nothing to say, resizes go through
      await p.observe(web);
      await p.resize(web, { requests: { cpu: '300m' } }, { dryRun: false });
      assert.ok(kube.requests.some((r) => r.path === '/apis/autoscaling.k8s.io/v1/namespaces/shop/verticalpodautoscalers'), 'the VPAs were looked for');
      assert.deepEqual(events.filter((e) => /vpa/.test(e.kind)), []);

      // VPAs that do not update this workload: recommendations only, another workload, a non-apps kind of the same name
      kube.addVpa('shop', 'web-recommend', { kind: 'Deployment', name: 'web' }, { updatePolicy: { updateMode: 'Off' } });
      kube.addVpa('shop', 'canary', { kind: 'Deployment', name: 'web-canary' });
      kube.addVpa('shop', 'rollout', { kind: 'Deployment', name: 'web', apiVersion: 'argoproj.io/v1alpha1' });
      await p.observe(web);
      await p.resize(web, { requests: { cpu: '350m' } }, { dryRun: false });
      assert.equal(kube.get('deployments', 'shop', 'web')!.spec.template.spec.containers[0].resources.requests.cpu, '350m');
      assert.deepEqual(events.filter((e) => /vpa/.test(e.kind)), []);

      // one in Auto mode (updateMode unset reads as Auto)
      kube.addVpa('shop', 'web-vpa', { kind: 'Deployment', name: 'web' });
      const s = await p.observe(web);
      assert.equal(s.degraded, undefined, 'a VPA is not a degraded target: clients still reach it');
      await p.observe(web);
      const said = events.filter((e) => e.kind === 'vpa-present');
      assert.equal(said.length, 1, 'said once');
      assert.equal(said[0]!.level, 'warn');
      assert.match(said[0]!.message, /Deployment shop\/web: VerticalPodAutoscaler shop\/web-vpa \(updateMode Auto\) sets cpu and memory requests and limits of container web on its pods; scalepilot will not resize what it controls/);
      await p.scale(web, 4, { dryRun: false, drainMs: 0 });
      assert.equal((await p.observe(web)).replicas, 4);
      const before = patches();
      const conflict = (what: RegExp) => (e: unknown) =>
        e instanceof ProviderError && e.retryable && e.retryInMs === 1000 && what.test(e.message) &&
        /so scalepilot holds this change\. Set the VPA's spec\.updatePolicy\.updateMode to Off \(recommendations only\) or give container web mode: Off in its resourcePolicy/.test(e.message);
      await assert.rejects(p.resize(web, { requests: { cpu: '500m', memory: '1Gi' } }, { dryRun: false }), conflict(/VerticalPodAutoscaler shop\/web-vpa \(updateMode Auto\) controls requests\.cpu, requests\.memory of container web/));
      await assert.rejects(p.resize(web, { limits: { memory: '2Gi' } }, { dryRun: false }), conflict(/controls limits\.memory/));
      assert.equal(patches(), before, 'nothing was patched');
      assert.equal(kube.get('deployments', 'shop', 'web')!.spec.template.spec.containers[0].resources.requests.cpu, '350m');
      // a dry run still reaches the API (dryRun=All), as a dry-run scale does next to an HPA
      await p.resize(web, { requests: { cpu: '500m' } }, { dryRun: true });

      // its resource policy decides what it controls: memory requests only leaves cpu and limits to scalepilot
      kube.addVpa('shop', 'web-vpa', { kind: 'Deployment', name: 'web' }, {
        updatePolicy: { updateMode: 'Recreate' },
        resourcePolicy: { containerPolicies: [{ containerName: '*', controlledResources: ['memory'], controlledValues: 'RequestsOnly' }] },
      });
      await p.resize(web, { requests: { cpu: '450m' }, limits: { memory: '2Gi' } }, { dryRun: false });
      assert.equal(kube.get('deployments', 'shop', 'web')!.spec.template.spec.containers[0].resources.limits.memory, '2Gi');
      await assert.rejects(p.resize(web, { requests: { memory: '1Gi' } }, { dryRun: false }), conflict(/\(updateMode Recreate\) controls requests\.memory of container web/));
      // the container's own policy wins over '*'
      kube.addVpa('shop', 'web-vpa', { kind: 'Deployment', name: 'web' }, {
        resourcePolicy: { containerPolicies: [{ containerName: '*', mode: 'Auto' }, { containerName: 'web', mode: 'Off' }] },
      });
      await p.resize(web, { requests: { memory: '1Gi' } }, { dryRun: false });

      // deleted: resizes go through again, and a VPA that comes back is said again
      kube.addVpa('shop', 'web-vpa', { kind: 'Deployment', name: 'web' });
      await assert.rejects(p.resize(web, { requests: { cpu: '600m' } }, { dryRun: false }), conflict(/web-vpa/));
      kube.objects.delete('verticalpodautoscalers/shop/web-vpa');
      await p.observe(web);
      await p.resize(web, { requests: { cpu: '600m' } }, { dryRun: false });
      assert.equal(kube.get('deployments', 'shop', 'web')!.spec.template.spec.containers[0].resources.requests.cpu, '600m');
      kube.addVpa('shop', 'web-vpa', { kind: 'Deployment', name: 'web' });
      await p.observe(web);
      assert.equal(events.filter((e) => e.kind === 'vpa-present').length, 2);

      // a StatefulSet's named container: the VPA's policy for another container does not cover it
      kube.addVpa('shop', 'db', { kind: 'StatefulSet', name: 'db' }, { resourcePolicy: { containerPolicies: [{ containerName: 'postgres', mode: 'Off' }] } });
      await p.resize(db, { requests: { cpu: '2' } }, { dryRun: false });
      await assert.rejects(p.resize({ ...db, spec: { ...db.spec, container: 'exporter' } }, { requests: { cpu: '100m' } }, { dryRun: false }), /VerticalPodAutoscaler shop\/db \(updateMode Auto\) controls requests\.cpu of container exporter/);
    } finally {
      await p.close();
    }
  });

  it('VPAs that cannot be listed (RBAC without the grant) are said once and do not stop resizing', async () => {
    const events: ProviderEvent[] = [];
    const p = new KubernetesProvider({ kubeConfig: kube.kubeConfig(), hpaCheckMs: 0, onEvent: (e) => events.push(e) });
    try {
      kube.addVpa('shop', 'web-vpa', { kind: 'Deployment', name: 'web' });
      kube.deny({ verb: 'list', resource: 'verticalpodautoscalers', namespace: 'shop' });
      await p.observe(web);
      await p.resize(web, { requests: { cpu: '300m' } }, { dryRun: false });
      await p.observe(web);
      const said = events.filter((e) => e.kind === 'vpa-check-failed');
      assert.equal(said.length, 1, 'said once');
      assert.match(said[0]!.message, /cannot list the VerticalPodAutoscalers in namespace shop \(forbidden: grant list on verticalpodautoscalers\.autoscaling\.k8s\.io in this namespace \(deploy\/rbac\.yaml does\)\); a VPA also resizing Deployment shop\/web would go unnoticed/);
      assert.equal(kube.get('deployments', 'shop', 'web')!.spec.template.spec.containers[0].resources.requests.cpu, '300m');
    } finally {
      await p.close();
    }
  });

  it('HPAs that cannot be listed (RBAC without the grant) are said once and do not stop scaling', async () => {
    const events: ProviderEvent[] = [];
    const p = new KubernetesProvider({ kubeConfig: kube.kubeConfig(), hpaCheckMs: 0, onEvent: (e) => events.push(e) });
    try {
      kube.addHpa('shop', 'web-hpa', { kind: 'Deployment', name: 'web' });
      kube.deny({ verb: 'list', resource: 'horizontalpodautoscalers', namespace: 'shop' });
      assert.equal((await p.observe(web)).replicas, 3);
      await p.scale(web, 2, { dryRun: false, drainMs: 0 });
      await p.observe(web);
      const said = events.filter((e) => e.kind === 'hpa-check-failed');
      assert.equal(said.length, 1, 'said once');
      assert.match(said[0]!.message, /cannot list the HorizontalPodAutoscalers in namespace shop \(forbidden: grant list on horizontalpodautoscalers\.autoscaling in this namespace \(deploy\/rbac\.yaml does\)\); an HPA also scaling Deployment shop\/web would go unnoticed/);
    } finally {
      await p.close();
    }
  });

  it('a second scalepilot on the same workload is refused while the first holds its Lease, and takes over once it stops', async () => {
    const eventsA: ProviderEvent[] = [];
    const a = new KubernetesProvider({ kubeConfig: kube.kubeConfig(), lease: { identity: 'host-a:1:aaaa' }, onEvent: (e) => eventsA.push(e) });
    const b = new KubernetesProvider({ kubeConfig: kube.kubeConfig(), lease: { identity: 'laptop:4242:bbbb' } });
    try {
      await a.observe(web);
      await a.scale(web, 4, { dryRun: false, drainMs: 0 });
      const lease = kube.get('leases', 'shop', 'scalepilot-deployment-web')!;
      assert.equal(lease.spec.holderIdentity, 'host-a:1:aaaa');
      assert.equal(lease.spec.leaseDurationSeconds, 30);
      assert.ok(eventsA.some((e) => e.kind === 'lease-taken' && /Deployment shop\/web: this run now drives it \(Lease shop\/scalepilot-deployment-web\)/.test(e.message)));
      const refused = (e: unknown) => {
        assert.ok(e instanceof ProviderError && e.retryable && e.retryInMs === 30_000, String(e));
        assert.match(e.message, /Deployment shop\/web is driven by another scalepilot \(holder host-a:1:aaaa, Lease shop\/scalepilot-deployment-web renewed \d{4}-.*\); this run holds the workload until that one stops, or until its Lease goes 30 s without renewal\. Stop the other run/);
        return true;
      };
      await assert.rejects(b.observe(web), refused);
      const patches = kube.requests.filter((r) => r.method === 'PATCH').length;
      await assert.rejects(b.scale(web, 1, { dryRun: false, drainMs: 0 }), refused);
      await assert.rejects(b.resize(web, { requests: { cpu: '100m' } }, { dryRun: false }), refused);
      assert.equal(kube.requests.filter((r) => r.method === 'PATCH').length, patches, 'nothing was patched');
      await b.scale(web, 1, { dryRun: true, drainMs: 0 });
      assert.equal(kube.get('deployments', 'shop', 'web')!.spec.replicas, 4);
      // the StatefulSet has a Lease of its own
      await b.observe(db);

      await a.close();
      assert.equal(kube.get('leases', 'shop', 'scalepilot-deployment-web')!.spec.holderIdentity, '', 'given up on close');
      await b.scale(web, 2, { dryRun: false, drainMs: 0 });
      assert.equal(kube.get('leases', 'shop', 'scalepilot-deployment-web')!.spec.holderIdentity, 'laptop:4242:bbbb');
      assert.equal(kube.get('leases', 'shop', 'scalepilot-deployment-web')!.spec.leaseTransitions, 1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a live holder renews its Lease and is never taken over; one that stops renewing is, after the lease duration', async () => {
    const a = new KubernetesProvider({ kubeConfig: kube.kubeConfig(), lease: { identity: 'live', durationMs: 1500 } });
    const b = new KubernetesProvider({ kubeConfig: kube.kubeConfig(), lease: { identity: 'waiting', durationMs: 1500 } });
    try {
      await a.observe(web);
      const until = Date.now() + 3500;
      while (Date.now() < until) {
        await assert.rejects(b.observe(web), /driven by another scalepilot \(holder live,/);
        await new Promise((r) => setTimeout(r, 250));
      }
      await a.close();
      // a holder that died without giving the Lease up (its record left as it was)
      const lease = kube.get('leases', 'shop', 'scalepilot-deployment-web')!;
      lease.spec.holderIdentity = 'crashed';
      lease.spec.renewTime = new Date().toISOString().replace('Z', '000Z');
      const t0 = Date.now();
      await assert.rejects(b.observe(web), /holder crashed/);
      for (;;) {
        try {
          await b.observe(web);
          break;
        } catch (e) {
          assert.match((e as Error).message, /holder crashed/);
          assert.ok(Date.now() - t0 < 10_000);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      assert.ok(Date.now() - t0 >= 1400, `not before the lease duration (${Date.now() - t0} ms)`);
      assert.equal(kube.get('leases', 'shop', 'scalepilot-deployment-web')!.spec.holderIdentity, 'waiting');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a release while a renewal is being written waits for it, so the Lease is given up, not renewed after', async () => {
    const real = kube.kubeConfig().makeApiClient(CoordinationV1Api);
    // the renewal's read of the Lease reaches the API server only after the release's write
    let slowReads = false;
    const api = new Proxy(real, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop !== 'readNamespacedLease' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return async (...args: unknown[]) => {
          if (slowReads) await new Promise((r) => setTimeout(r, 300));
          return v.apply(target, args);
        };
      },
    });
    const lease = new WorkloadLease(api, { what: 'Deployment shop/web', namespace: 'shop', name: 'scalepilot-deployment-web', identity: 'closing', timeoutMs: 5000, durationMs: 1500 });
    await lease.hold();
    // past a third of the duration the next hold() renews: release at the same moment
    await new Promise((r) => setTimeout(r, 600));
    slowReads = true;
    const renewal = lease.hold();
    await new Promise((r) => setTimeout(r, 50));
    await lease.release();
    await renewal.catch(() => undefined);
    assert.equal(kube.get('leases', 'shop', 'scalepilot-deployment-web')!.spec.holderIdentity, '', 'given up after the renewal, not renewed after the release');
  });

  it('two runs writing the Lease at once: the API server refuses the stale write, so one holds', async () => {
    const runs = Array.from({ length: 4 }, (_, i) => new KubernetesProvider({ kubeConfig: kube.kubeConfig(), lease: { identity: `racer-${i}` } }));
    try {
      const results = await Promise.allSettled(runs.map((p) => p.observe(web)));
      const held = results.filter((r) => r.status === 'fulfilled').length;
      assert.equal(held, 1, JSON.stringify(results.map((r) => (r.status === 'fulfilled' ? 'held' : String(r.reason).slice(0, 120)))));
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      assert.equal(kube.get('leases', 'shop', 'scalepilot-deployment-web')!.spec.holderIdentity, `racer-${winner}`);
    } finally {
      for (const p of runs) await p.close();
    }
  });

  it('without RBAC for Leases the guard is skipped and said once; scaling goes on', async () => {
    const events: ProviderEvent[] = [];
    const p = new KubernetesProvider({ kubeConfig: kube.kubeConfig(), lease: { identity: 'no-grant' }, onEvent: (e) => events.push(e) });
    try {
      kube.deny({ verb: 'get', resource: 'leases', namespace: 'shop' });
      await p.observe(web);
      await p.scale(web, 2, { dryRun: false, drainMs: 0 });
      await p.observe(web);
      const said = events.filter((e) => e.kind === 'lease-check-failed');
      assert.equal(said.length, 1);
      assert.match(said[0]!.message, /cannot read or write Lease shop\/scalepilot-deployment-web \(forbidden: grant get, create and update on leases\.coordination\.k8s\.io in this namespace; deploy\/rbac\.yaml does\)/);
      assert.equal(kube.get('deployments', 'shop', 'web')!.spec.replicas, 2);
    } finally {
      await p.close();
    }
  });

  it('createProvider gives the acting run a Lease identity, none to a dry run or a report', async () => {
    const spec = { ...web, spec: { ...web.spec } };
    const opts = { kubernetes: { kubeConfig: kube.kubeConfig() } };
    const dry = createProvider(spec, { ...opts, stateDir: '/tmp/sp', dryRun: true });
    const report = createProvider(spec, { ...opts, readOnly: true });
    await dry.observe(spec);
    await report.observe(spec);
    assert.equal(kube.get('leases', 'shop', 'scalepilot-deployment-web'), undefined);
    const acting = createProvider(spec, { ...opts, stateDir: '/tmp/sp' });
    try {
      await acting.observe(spec);
      assert.match(kube.get('leases', 'shop', 'scalepilot-deployment-web')!.spec.holderIdentity, new RegExp(`:${process.pid}:[0-9a-f]{12}$`));
    } finally {
      for (const p of [acting, dry, report]) await p.close?.();
    }
  });

  it('a one-shot command that acts (rollback) takes the workload Lease while it acts and gives it up after; its dry run does not', async () => {
    const spec = { ...web, spec: { ...web.spec } };
    const opts = { kubernetes: { kubeConfig: kube.kubeConfig() } };
    const dry = createProvider(spec, { ...opts, dryRun: true, oneShot: 'scalepilot rollback' });
    const rollback = createProvider(spec, { ...opts, oneShot: 'scalepilot rollback' });
    try {
      await dry.observe(spec);
      assert.ok(!kube.get('leases', 'shop', 'scalepilot-deployment-web')?.spec.holderIdentity, 'a dry run holds no Lease');
      await rollback.observe(spec);
      assert.match(kube.get('leases', 'shop', 'scalepilot-deployment-web')!.spec.holderIdentity, new RegExp(`:${process.pid}:[0-9a-f]{12}$`));
    } finally {
      for (const p of [rollback, dry]) await p.close?.();
    }
    // given up on close, so a run takes the workload back at once
    assert.ok(!kube.get('leases', 'shop', 'scalepilot-deployment-web')!.spec.holderIdentity, 'given up');
  });

  it('loads a kubeconfig file and context from the spec', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'kubeconfig.yaml');
      writeFileSync(file, [
        'apiVersion: v1', 'kind: Config', 'current-context: other',
        'clusters:', `- name: fake`, `  cluster: { server: "${kube.url}", insecure-skip-tls-verify: true }`, `- name: other`, `  cluster: { server: "http://127.0.0.1:1", insecure-skip-tls-verify: true }`,
        'users:', '- name: u', '  user: { token: sekret }',
        'contexts:', '- name: fake', '  context: { cluster: fake, user: u }', '- name: other', '  context: { cluster: other, user: u }',
      ].join('\n'));
      const p = new KubernetesProvider({ baseDir: dir.path });
      const t: TargetRef = { ...web, spec: { ...web.spec, kubeconfig: 'kubeconfig.yaml', context: 'fake' } };
      assert.equal((await p.observe(t)).replicas, 3);
      const wrong: TargetRef = { ...web, spec: { ...web.spec, kubeconfig: 'kubeconfig.yaml', context: 'prod' } };
      await assert.rejects(p.observe(wrong), /context "prod" is not in the kubeconfig \(have: fake, other\)/);
      const badToken = new KubernetesProvider({ kubeConfig: kube.kubeConfig('wrong') });
      await assert.rejects(badToken.observe(web), /rejected the credentials \(401\)/);
    } finally {
      dir.cleanup();
    }
  });
});
