// Event fixtures shared by the store suites: one event of every kind with every field a kind can carry.
import type { Decision } from '../../src/core/types.js';
import type { StoreEvent } from '../../src/store/types.js';

export function decision(service: string, time: number, over: Partial<Decision> = {}): Decision {
  return {
    service,
    time,
    currentReplicas: 3,
    desiredReplicas: 5,
    action: 'scale-up',
    reason: 'cpu 92% > target 60% on 3 replicas → 5 (limited by scaleUp policy 2 pods / 60s)',
    reasonCode: 'ScaleUpLimit',
    proposals: [
      { source: 'hpa', name: 'cpu', replicas: 5, detail: 'average utilization 92% of requests vs 60%: ceil(3 × 1.533) = 5' },
      { source: 'rule', name: 'queue-backlog', replicas: null, detail: 'queue 12 < 100 (inactive)' },
    ],
    proposed: 5,
    recommendation: 5,
    minReplicas: 2,
    maxReplicas: 10,
    conditions: [
      { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: 'the HPA controller was able to update the target scale to 5' },
      { type: 'ScalingLimited', status: 'True', reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' },
    ],
    errors: [],
    lastFired: { 'cpu-high': time - 60_000 },
    queue: { lastActiveTime: time - 5_000, consecutiveFailures: 0 },
    ...over,
  };
}

/** One event of every kind; unicode and quotes in text fields catch escaping bugs. */
export function everyKind(service: string, t0: number): StoreEvent[] {
  return [
    {
      service, time: t0, kind: 'decision', fromReplicas: 3, toReplicas: 5, decision: decision(service, t0),
      inputs: { values: { cpu: 92.5, queue: 12 }, failures: { p99: 'prometheus: HTTP 503' }, readyReplicas: 3 },
      message: 'scale up "fast" — 3→5', result: 'ok',
    },
    { service, time: t0 + 1, kind: 'scale', fromReplicas: 3, toReplicas: 5, message: 'cpu high', result: 'ok' },
    {
      service, time: t0 + 2, kind: 'resize',
      resources: { before: { requests: { cpu: '500m', memory: '512Mi' } }, after: { requests: { cpu: '750m', memory: '512Mi' }, limits: { memory: '1Gi' } } },
      message: 'cpu requests +50%', result: 'dry-run',
    },
    { service, time: t0 + 3, kind: 'error', message: 'observe failed', result: 'failed', error: 'kubernetes: 403 Forbidden: deployments.apps "api" is forbidden' },
    { service, time: t0 + 4, kind: 'rollback', fromReplicas: 5, toReplicas: 3, message: 'rolled back event #2', result: 'ok' },
    { service, time: t0 + 5, kind: 'config', message: 'config reloaded: maxReplicas 10 → 12', result: 'ok' },
    { service, time: t0 + 6, kind: 'pause', message: 'paused by cli', result: 'ok' },
    { service, time: t0 + 7, kind: 'resume', result: 'ok' },
  ];
}
