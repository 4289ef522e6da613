// Verify-after-act, the pure part: a table of changes and what was observed after them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VerifyPolicy } from '../../src/config/load.js';
import { applyCoolOff, evaluateVerification, startVerification, type VerifyObservation } from '../../src/core/verify.js';
import type { Decision } from '../../src/core/types.js';

const spec: VerifyPolicy = { windowMs: 120_000, startupAllowanceMs: 60_000, coolOffMs: 600_000, errorRate: { metric: 'errors', margin: { absolute: 0.01 } }, p95: { metric: 'p95', margin: { relative: 0.2 } } };
const before = { errors: 0.001, p95: 0.2 };
const T = 1_000_000;

const rows: Array<{ name: string; to?: number; at: number; o: Partial<VerifyObservation>; spec?: VerifyPolicy; dry?: boolean; status: string; reason?: RegExp }> = [
  { name: 'replicas still starting inside the allowance', at: 30_000, o: { readyReplicas: 3 }, status: 'pending' },
  { name: 'replicas not ready after the allowance', at: 61_000, o: { readyReplicas: 3 }, status: 'failed', reason: /^3 of 5 replicas ready 1m1s after the change 3 → 5 \(start-up allowance 1m\)$/ },
  { name: 'ready, metrics compared only at the end of the window', at: 61_000, o: { values: { errors: 0.5, p95: 9 } }, status: 'pending' },
  { name: 'error rate up by more than 0.01', at: 120_000, o: { values: { errors: 0.02, p95: 0.2 } }, status: 'failed', reason: /^error rate \(errors\) rose from 0\.001 to 0\.02, more than the 0\.01 margin after the change 3 → 5$/ },
  { name: 'p95 up 25% against a 20% margin', at: 120_000, o: { values: { errors: 0, p95: 0.25 } }, status: 'failed', reason: /p95 \(p95\) rose from 0\.2 to 0\.25, more than the 20% margin/ },
  { name: 'p95 up exactly 20% passes', at: 120_000, o: { values: { errors: 0.011, p95: 0.24 } }, status: 'passed' },
  { name: 'p95 unreadable at the end: inconclusive, never a pass', at: 120_000, o: { values: { errors: 0 }, failures: { p95: 'timeout' } }, status: 'inconclusive', reason: /p95 \(p95\) cannot be read now \(timeout\)/ },
  { name: 'someone else changed the replicas', at: 30_000, o: { replicas: 7 }, status: 'superseded' },
  { name: 'readiness only: passes once ready', at: 5_000, o: {}, spec: { windowMs: 120_000, startupAllowanceMs: 60_000, coolOffMs: 1 }, status: 'passed' },
  { name: 'dry run: readiness is not checked, metrics are', at: 120_000, o: { replicas: 3, readyReplicas: 3, values: { errors: 0.3, p95: 0.2 } }, dry: true, status: 'failed' },
];

for (const r of rows) {
  test(`verify table: ${r.name}`, () => {
    const s = r.spec ?? spec;
    const v = startVerification(s, 3, r.to ?? 5, T, before, r.dry ?? false);
    const o: VerifyObservation = { replicas: r.to ?? 5, readyReplicas: r.to ?? 5, values: { ...before }, failures: {}, ...r.o };
    const out = evaluateVerification(s, v, o, T + r.at);
    assert.equal(out.status, r.status, out.reason);
    if (r.reason) assert.match(out.reason, r.reason);
  });
}

test('cool-off: the failed direction holds until it ends; the other direction is free', () => {
  const d = { currentReplicas: 5, desiredReplicas: 8, action: 'scale-up', reason: 'x', reasonCode: 'SucceededRescale' } as Decision;
  const c = { direction: 'up' as const, until: T + 600_000, reason: 'boom' };
  const held = applyCoolOff(d, c, T);
  assert.equal(held.desiredReplicas, 5);
  assert.equal(held.reasonCode, 'VerificationCoolOff');
  assert.equal(applyCoolOff(d, c, T + 600_000).desiredReplicas, 8);
  assert.equal(applyCoolOff({ ...d, desiredReplicas: 3, action: 'scale-down' }, c, T).desiredReplicas, 3);
});
