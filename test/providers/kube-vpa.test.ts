// Reading VerticalPodAutoscalers as the cluster serves them: which update a workload, and what of a container they
// control (updateMode, containerPolicies with '*', controlledResources, controlledValues), malformed items skipped.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { updatingVpas, vpaOverlap } from '../../src/providers/kube-vpa.js';

const vpa = (name: string, target: unknown, spec: Record<string, unknown> = {}) => ({ metadata: { name }, spec: { targetRef: target, ...spec } });
const dep = (name: string, apiVersion = 'apps/v1') => ({ apiVersion, kind: 'Deployment', name });

describe('updatingVpas', () => {
  it('keeps updating VPAs on apps/v1 workloads, by Kind/name, and skips what is malformed', () => {
    const m = updatingVpas({
      items: [
        vpa('a', dep('web')),
        vpa('b', dep('web'), { updatePolicy: { updateMode: 'Initial' } }),
        vpa('off', dep('web'), { updatePolicy: { updateMode: 'Off' } }),
        vpa('argo', dep('web', 'argoproj.io/v1alpha1')),
        vpa('noversion', { kind: 'StatefulSet', name: 'db' }),
        null, 'x', { metadata: {} }, { spec: {} }, vpa('', dep('web')), vpa('notarget', 'web'), vpa('badref', { kind: 7, name: 'web' }),
        vpa('badpolicies', dep('api'), { resourcePolicy: { containerPolicies: [null, { containerName: 3 }, { containerName: 'api', controlledResources: ['cpu', 5] }] } }),
      ],
    });
    assert.deepEqual([...m.keys()].sort(), ['Deployment/api', 'Deployment/web', 'StatefulSet/db']);
    assert.deepEqual(m.get('Deployment/web')!.map((v) => [v.name, v.mode]), [['a', 'Auto'], ['b', 'Initial']]);
    assert.deepEqual(m.get('Deployment/api')![0]!.containerPolicies, [{ containerName: 'api', controlledResources: ['cpu'] }]);
    for (const bad of [undefined, null, 'x', { items: 'x' }, { items: {} }]) assert.equal(updatingVpas(bad).size, 0);
  });
});

describe('vpaOverlap', () => {
  const of = (spec: Record<string, unknown>) => updatingVpas({ items: [vpa('v', dep('web'), spec)] }).get('Deployment/web')![0]!;
  const cases: Array<[string, Record<string, unknown>, string, Parameters<typeof vpaOverlap>[2], string[]]> = [
    ['default: cpu and memory, requests and limits', {}, 'web', { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2' } }, ['requests.cpu', 'requests.memory', 'limits.cpu']],
    ['RequestsOnly leaves limits alone', { resourcePolicy: { containerPolicies: [{ containerName: '*', controlledValues: 'RequestsOnly' }] } }, 'web', { requests: { cpu: '1' }, limits: { memory: '1Gi' } }, ['requests.cpu']],
    ['controlledResources memory only', { resourcePolicy: { containerPolicies: [{ containerName: 'web', controlledResources: ['memory'] }] } }, 'web', { requests: { cpu: '1', memory: '1Gi' } }, ['requests.memory']],
    ['mode Off for the container', { resourcePolicy: { containerPolicies: [{ containerName: 'web', mode: 'Off' }] } }, 'web', { requests: { cpu: '1' } }, []],
    ['the container policy wins over *', { resourcePolicy: { containerPolicies: [{ containerName: '*', mode: 'Off' }, { containerName: 'web', mode: 'Auto' }] } }, 'web', { requests: { cpu: '1' } }, ['requests.cpu']],
    ['* covers a container with no policy of its own', { resourcePolicy: { containerPolicies: [{ containerName: 'sidecar', mode: 'Off' }, { containerName: '*', mode: 'Off' }] } }, 'web', { requests: { cpu: '1' } }, []],
    ['a policy for another container leaves the default', { resourcePolicy: { containerPolicies: [{ containerName: 'sidecar', mode: 'Off' }] } }, 'web', { limits: { memory: '1Gi' } }, ['limits.memory']],
  ];
  for (const [name, spec, container, r, want] of cases) it(name, () => assert.deepEqual(vpaOverlap(of(spec), container, r), want));
});
