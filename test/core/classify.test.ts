import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { classifyBottleneck } from '../../src/core/classify.js';
import type { Bottleneck, ClassifyThresholds, ServiceSignals, Strategy } from '../../src/core/classify.js';

const MB = 1_000_000;

describe('classifyBottleneck', () => {
  const cases: Array<{
    name: string;
    signals: ServiceSignals;
    thresholds?: Partial<ClassifyThresholds>;
    bottleneck: Bottleneck;
    advice: Strategy[];
    severity?: 'ok' | 'warning' | 'critical';
    reason?: string | RegExp;
    also?: Bottleneck[];
  }> = [
    {
      name: 'busy cpu and slow → cpu-bound, add replicas',
      signals: { cpuUtilization: 92, memoryUtilization: 50, p95LatencyMs: 640, latencyTargetMs: 500 },
      bottleneck: 'cpu-bound',
      advice: ['horizontal'],
      severity: 'critical',
      reason: 'cpu-bound: cpu 92% >= 80%, p95 640ms > target 500ms → horizontal (add replicas)',
    },
    {
      name: 'busy cpu already at maxReplicas → vertical',
      signals: { cpuUtilization: 92, atMaxReplicas: true },
      bottleneck: 'cpu-bound',
      advice: ['vertical'],
      severity: 'warning',
    },
    {
      name: 'memory at 90% of limit → memory-bound, vertical',
      signals: { cpuUtilization: 40, memoryUtilization: 90, p95LatencyMs: 300, latencyTargetMs: 500 },
      bottleneck: 'memory-bound',
      advice: ['vertical'],
      severity: 'warning',
      reason: 'memory-bound: memory 90% of limit >= 85% → vertical (raise cpu/memory requests and limits)',
    },
    {
      name: 'slow with idle cpu and nothing saturated → io-bound, offload',
      signals: { cpuUtilization: 30, memoryUtilization: 40, p95LatencyMs: 2400, latencyTargetMs: 500 },
      bottleneck: 'io-bound',
      advice: ['offload'],
      severity: 'critical',
      reason: /^io-bound: p95 2400ms > target 500ms, cpu 30% < 60% \(waiting, not computing\) → offload/,
    },
    {
      name: 'slow with cpu in the busy zone (70%) but under 80% → cpu-bound',
      signals: { cpuUtilization: 70, p95LatencyMs: 900, latencyTargetMs: 500 },
      bottleneck: 'cpu-bound',
      advice: ['horizontal'],
      reason: /cpu 70% >= 60% \(busy computing\)/,
    },
    {
      name: 'database pool nearly exhausted with a poor cache → db-bound, caching first',
      signals: { cpuUtilization: 40, dbConnectionUtilization: 95, cacheHitRatio: 0.55, p95LatencyMs: 900, latencyTargetMs: 500 },
      bottleneck: 'db-bound',
      advice: ['caching', 'db-pool-or-read-replica'],
      severity: 'critical',
      reason:
        'db-bound: database connections 95% in use >= 80%, cache hit ratio 55% < 80%, p95 900ms > target 500ms → caching (cache hot reads), db-pool-or-read-replica (resize the connection pool (PgBouncer) or add a read replica)',
    },
    {
      name: 'database pool high with a good cache → pool or read replica only',
      signals: { dbConnectionUtilization: 85, cacheHitRatio: 0.95 },
      bottleneck: 'db-bound',
      advice: ['db-pool-or-read-replica'],
    },
    {
      name: 'network at 90% of the link → network-bound',
      signals: { cpuUtilization: 50, networkBytesPerSec: 90 * MB, networkLimitBytesPerSec: 100 * MB },
      bottleneck: 'network-bound',
      advice: ['load-balancing'],
      reason: 'network-bound: network 90% of the link >= 80% → load-balancing (spread traffic across more nodes/links)',
    },
    {
      name: 'I/O wait 35% → io-bound',
      signals: { cpuUtilization: 45, ioWaitPercent: 35 },
      bottleneck: 'io-bound',
      advice: ['offload'],
      reason: /I\/O wait 35% >= 20%/,
    },
    {
      name: 'backlog of 5000 → io-bound',
      signals: { queueDepth: 5000, cpuUtilization: 20 },
      bottleneck: 'io-bound',
      advice: ['offload'],
    },
    {
      name: 'cpu 85% (×1.06) and database 90% (×1.125): the database is primary, cpu reported too',
      signals: { cpuUtilization: 85, dbConnectionUtilization: 90 },
      bottleneck: 'db-bound',
      advice: ['db-pool-or-read-replica'],
      also: ['db-bound', 'cpu-bound'],
      reason: /; also cpu-bound \(cpu 85% >= 80%\)$/,
    },
    {
      name: 'equal pressure (cpu 80%, database 80%): database first',
      signals: { cpuUtilization: 80, dbConnectionUtilization: 80 },
      bottleneck: 'db-bound',
      advice: ['db-pool-or-read-replica'],
      also: ['db-bound', 'cpu-bound'],
    },
    {
      name: 'cpu 95% (×1.19) beats memory 88% (×1.035)',
      signals: { cpuUtilization: 95, memoryUtilization: 88 },
      bottleneck: 'cpu-bound',
      advice: ['horizontal'],
      also: ['cpu-bound', 'memory-bound'],
    },
    {
      name: 'nothing crossed → healthy, with what was checked',
      signals: { cpuUtilization: 40, memoryUtilization: 50, p95LatencyMs: 200, latencyTargetMs: 500 },
      bottleneck: 'healthy',
      advice: [],
      severity: 'ok',
      reason: 'healthy: cpu 40% < 80%, memory 50% < 85%, p95 200ms <= target 500ms',
    },
    {
      name: 'healthy but a poor cache → caching suggested',
      signals: { cpuUtilization: 40, cacheHitRatio: 0.5 },
      bottleneck: 'healthy',
      advice: ['caching'],
      reason: /cache hit ratio 50% < 80%: caching could cut load/,
    },
    {
      name: 'custom cpu threshold 70: 75% is cpu-bound',
      signals: { cpuUtilization: 75 },
      thresholds: { cpuHigh: 70 },
      bottleneck: 'cpu-bound',
      advice: ['horizontal'],
    },
    {
      name: 'slow without any cpu signal → unknown, asks for the missing signals',
      signals: { p95LatencyMs: 900, latencyTargetMs: 500 },
      bottleneck: 'unknown',
      advice: [],
      severity: 'critical',
      reason: /add cpuUtilization and ioWaitPercent/,
    },
    { name: 'no signals at all → unknown', signals: {}, bottleneck: 'unknown', advice: [], reason: /no signals were given/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = classifyBottleneck(c.signals, c.thresholds);
      assert.equal(r.bottleneck, c.bottleneck, r.reason);
      assert.deepEqual(r.advice, c.advice);
      if (c.severity) assert.equal(r.severity, c.severity);
      if (typeof c.reason === 'string') assert.equal(r.reason, c.reason);
      else if (c.reason) assert.match(r.reason, c.reason);
      if (c.also) assert.deepEqual(r.findings.map((f) => f.bottleneck), c.also);
    });
  }

  it('evidence carries the numbers and thresholds that decided', () => {
    const r = classifyBottleneck({ service: 'api', cpuUtilization: 92 });
    assert.equal(r.service, 'api');
    assert.deepEqual(r.evidence, [{ signal: 'cpuUtilization', value: 92, op: '>=', threshold: 80, text: 'cpu 92% >= 80%' }]);
    assert.ok(r.missing.includes('memoryUtilization'));
    assert.ok(r.missing.includes('p95LatencyMs/latencyTargetMs'));
    assert.ok(!r.missing.includes('cpuUtilization'));
  });
});
