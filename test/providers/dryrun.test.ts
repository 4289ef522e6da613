// The dry-run provider: records what it was asked, reports the last applied count back, never acts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DryRunProvider, parseDryRunSpec } from '../../src/providers/dryrun.js';
import { ProviderSpecError } from '../../src/providers/spec.js';
import type { TargetRef } from '../../src/providers/types.js';

const t: TargetRef = { service: 'api', provider: 'dryrun', spec: { replicas: 2 } };

describe('dry-run provider', () => {
  it('parses its spec loudly', () => {
    assert.deepEqual(parseDryRunSpec({}, 't'), { replicas: 1 });
    assert.throws(() => parseDryRunSpec({ replicas: -1 }, 't'), (e: unknown) => e instanceof ProviderSpecError && e.path === 't.replicas');
    assert.throws(() => parseDryRunSpec({ replicas: 2, command: ['x'] }, 't'), (e: unknown) => e instanceof ProviderSpecError && e.path === 't.command');
  });

  it('starts at the spec count and reports each applied scale back', async () => {
    let now = 1000;
    const p = new DryRunProvider({ now: () => now });
    assert.deepEqual(await p.observe(t), {
      replicas: 2,
      readyReplicas: 2,
      pods: [
        { name: 'api-0', phase: 'Running', ready: true },
        { name: 'api-1', phase: 'Running', ready: true },
      ],
    });
    const steps = [5, 3, 0, 7];
    for (const n of steps) {
      now += 15_000;
      await p.scale(t, n, { dryRun: false, drainMs: 0 });
      const s = await p.observe(t);
      assert.equal(s.replicas, n);
      assert.equal(s.pods.length, n);
    }
    assert.deepEqual(p.scales.map((x) => [x.t, x.from, x.replicas]), [[16000, 2, 5], [31000, 5, 3], [46000, 3, 0], [61000, 0, 7]]);
  });

  it('records but does not apply a scale requested as a dry run', async () => {
    const p = new DryRunProvider();
    await p.scale(t, 9, { dryRun: true, drainMs: 0 });
    assert.equal((await p.observe(t)).replicas, 2);
    assert.deepEqual(p.scales.map((x) => [x.replicas, x.dryRun]), [[9, true]]);
    await assert.rejects(p.scale(t, -2, { dryRun: false, drainMs: 0 }), /whole number/);
  });

  it('keeps only the most recent records, so a long dry run does not grow without bound', async () => {
    const p = new DryRunProvider({ keep: 3 });
    for (let n = 1; n <= 10; n++) await p.scale(t, n, { dryRun: true, drainMs: 0 });
    for (let n = 1; n <= 5; n++) await p.resize(t, { requests: { cpu: `${n}` } }, { dryRun: true });
    assert.deepEqual(p.scales.map((x) => x.replicas), [8, 9, 10]);
    assert.deepEqual(p.resizes.map((x) => x.resources.requests?.cpu), ['3', '4', '5']);
    const d = new DryRunProvider();
    for (let n = 0; n < 1000; n++) await d.scale(t, 3, { dryRun: true, drainMs: 0 });
    assert.equal(d.scales.length, 256, 'the default bound');
  });

  it('merges resizes field by field and shows them on every pod', async () => {
    const p = new DryRunProvider();
    await p.resize(t, { requests: { cpu: '250m', memory: '256Mi' } }, { dryRun: false });
    await p.resize(t, { requests: { cpu: '500m' }, limits: { memory: '1Gi' } }, { dryRun: false });
    await p.resize(t, { limits: { cpu: '4' } }, { dryRun: true });
    const s = await p.observe(t);
    assert.deepEqual(s.resources, { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '1Gi' } });
    assert.deepEqual(s.pods[1]!.containers, [{ name: 'api', resources: s.resources }]);
    assert.equal(p.resizes.length, 3);
  });

  it('keeps targets apart', async () => {
    const p = new DryRunProvider();
    const other: TargetRef = { service: 'worker', provider: 'dryrun', spec: {} };
    await p.scale(other, 4, { dryRun: false, drainMs: 0 });
    assert.equal((await p.observe(t)).replicas, 2);
    assert.equal((await p.observe(other)).replicas, 4);
  });
});
