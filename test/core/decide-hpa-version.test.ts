// The config's hpa block reaches decide() the way `hpa evaluate` requests reach the engine: behavior tolerances
// written as quantities are converted as Kubernetes converts them, and hpa.kubernetesVersion picks the release.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type ServicePolicy } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import { decide } from '../../src/core/decide.js';
import { emptyHistory, type Observation, type ObservedPod } from '../../src/core/types.js';

const T0 = Date.parse('2024-01-01T12:00:00Z');

function policy(hpaExtra: string): ServicePolicy {
  const text = [
    'sources: { p: { type: prometheus, url: "http://127.0.0.1:9" } }',
    'services:',
    '  api:',
    '    target: { provider: dryrun }',
    '    minReplicas: 1',
    '    maxReplicas: 20',
    '    metrics: { cpu: { source: p, query: cpu, perPod: true } }',
    '    hpa:',
    '      metrics:',
    '        - type: Resource',
    '          resource: { name: cpu, target: { type: Utilization, averageUtilization: 50 } }',
    ...hpaExtra.split('\n').filter((l) => l !== '').map((l) => `      ${l}`),
  ].join('\n');
  return Object.values(parseConfig(text, 'decide.yaml').services)[0]!;
}

function observation(n: number, cpuMilli: number): Observation {
  const pods: ObservedPod[] = Array.from({ length: n }, (_, i) => ({
    name: `p${i}`, phase: 'Running' as const, ready: true, startTime: T0 - 3600_000, readyTransitionTime: T0 - 3500_000,
    requests: { cpu: 1000 }, usage: { cpu: cpuMilli },
  }));
  return { currentReplicas: n, pods, values: {}, failures: {} };
}

test('a behavior tolerance written as a quantity string is a number to the engine', () => {
  // 4 pods at 75% against 50%: ratio 1.5, outside a 40% scale-up tolerance → ceil(1.5 × 4) = 6
  // (taken as the text "0.4", 1 + tolerance would be "10.4" and every ratio below 10.4 would hold)
  const d = decide(policy('behavior:\n  scaleUp: { tolerance: "0.4" }'), observation(4, 750), emptyHistory(), T0);
  assert.equal(d.desiredReplicas, 6);
});

test('hpa.kubernetesVersion: before 1.33 a ratio of exactly 1.1 is outside the default tolerance', () => {
  // 55% against 50%
  assert.equal(decide(policy(''), observation(4, 550), emptyHistory(), T0).desiredReplicas, 4);
  assert.equal(decide(policy('kubernetesVersion: "1.32"'), observation(4, 550), emptyHistory(), T0).desiredReplicas, 5);
});

test('an unsupported hpa.kubernetesVersion is a config error naming the path', () => {
  assert.throws(() => policy('kubernetesVersion: "1.40"'), (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.match(e.message, /services\.api\.hpa\.kubernetesVersion: must be a Kubernetes version from "1\.23" to "1\.38"/);
    return true;
  });
});
