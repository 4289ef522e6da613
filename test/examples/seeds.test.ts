// The five seed runbooks as configs: each validates, exports valid HPA / KEDA / alert objects, and its config,
// exports and plan carry the numbers written in its runbook (examples/seeds/README.md), so drift fails here.
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkService } from '../../src/capacity-report/check.js';
import { buildPlan } from '../../src/capacity-report/plan.js';
import { inputsFromService, mergePlanInputs, readPlanFile } from '../../src/capacity-report/plan-file.js';
import { parseConfig, type Config, type ServicePolicy } from '../../src/config/load.js';
import { alertGroups, runExport, toYamlDocuments, validateExport } from '../../src/export/index.js';
import type { AlertRule } from '../../src/export/prometheus.js';
import { tempDir } from '../helpers/env.js';
import { checkRules } from '../helpers/promtool.js';
import { ROOT } from '../fixtures/capacity-report/built-cli.js';

const SEEDS = ['somagent', 'voiceassist', 'open-forge', 'omni-quantum-elite', 'multi-llm-orchestrator'] as const;
const dir = (f: string) => join(ROOT, 'examples', 'seeds', f);
const load = (name: string): Config => parseConfig(readFileSync(dir(`${name}.yaml`), 'utf8'), dir(`${name}.yaml`));
type Json = Record<string, any>;

function hpaOf(c: Config, svc: string): Json {
  const r = runExport('hpa', c, [c.services[svc]!]);
  assert.equal(r.objects.length, 1);
  assert.deepEqual(validateExport(r.objects[0]!), [], `HPA for ${svc} is not a valid autoscaling/v2 object`);
  return r.objects[0]!.object as Json;
}

function cpuTarget(hpa: Json): number | undefined {
  return hpa.spec.metrics.find((m: Json) => m.type === 'Resource' && m.resource.name === 'cpu')?.resource.target.averageUtilization;
}

function memoryTarget(hpa: Json): number | undefined {
  return hpa.spec.metrics.find((m: Json) => m.type === 'Resource' && m.resource.name === 'memory')?.resource.target.averageUtilization;
}

function rule(p: ServicePolicy, name: string): { metric: string; op: string; threshold: number; forMs: number; severity: string; action: unknown } {
  const r = p.rules.find((x) => x.name === name);
  assert.ok(r, `services.${p.name} has no rule ${name}; rules: ${p.rules.map((x) => x.name).join(', ')}`);
  return { ...r.condition, forMs: r.forMs, severity: r.severity, action: r.action };
}

function alerts(c: Config, svc: string): AlertRule[] {
  return alertGroups(c, [c.services[svc]!]).groups.flatMap((g) => g.rules);
}

/** The alert `name` firing at `threshold` (expr "... > threshold") with this severity and for. */
function assertAlert(list: AlertRule[], name: string, threshold: number, severity: string, forText?: string): void {
  const a = list.find((x) => x.alert === name && x.labels.severity === severity && new RegExp(`> ${String(threshold).replace('.', '\\.')}$`).test(x.expr));
  assert.ok(a, `no ${name} alert at > ${threshold} (${severity}); have: ${list.filter((x) => x.alert === name).map((x) => `${x.expr} [${x.labels.severity}, ${x.for}]`).join('; ')}`);
  if (forText) assert.equal(a.for, forText);
}

const M = 60_000;

describe('every seed', () => {
  const tmp = tempDir('scalepilot-seeds-');
  after(() => tmp.cleanup());
  for (const name of SEEDS) {
    it(`${name}: validates, names its source runbook, exports valid objects and alert rules promtool accepts`, () => {
      const text = readFileSync(dir(`${name}.yaml`), 'utf8');
      assert.match(text.split('\n').slice(0, 3).join('\n'), /# Source: [\w.-]+\/[\w.-]+, [\w./-]+\.md/);
      const c = load(name);
      const services = Object.values(c.services);
      const k8s = services.filter((p) => p.target.provider === 'kubernetes');
      for (const p of k8s) hpaOf(c, p.name);
      const keda = runExport('keda', c, services.filter((p) => p.queue));
      for (const o of keda.objects) assert.deepEqual(validateExport(o), []);
      const prule = runExport('prometheusrule', c, services);
      for (const o of prule.objects) assert.deepEqual(validateExport(o), []);
      const file = join(tmp.path, `${name}-rules.yaml`);
      writeFileSync(file, toYamlDocuments(runExport('rules', c, services).objects.map((o) => o.object)));
      const r = checkRules(file);
      assert.ok(r.ok, r.output);
    });
  }

  it('README names every seed\'s source', () => {
    const readme = readFileSync(dir('README.md'), 'utf8');
    for (const src of ['somatechlat/SomaAgentHub', 'mohammednazmy/VoiceAssist', '18bravo/open-forge', 'brndngln/PLACE-HOLDER---OQEACS', 'm85qurashi/1-Blocks']) {
      assert.ok(readme.includes(src), src);
    }
  });
});

describe('SomaGent (somatechlat/SomaAgentHub docs/runbooks/scaling_procedures.md)', () => {
  const c = load('somagent');
  // Service Scaling Matrix
  const matrix: Array<[service: string, min: number, max: number, cpu: number, memoryLimit: string]> = [
    ['gateway-api', 3, 20, 70, '2Gi'],
    ['orchestrator', 2, 10, 60, '4Gi'],
    ['mao-service', 2, 15, 70, '3Gi'],
    ['tool-service', 3, 25, 70, '2Gi'],
    ['kamachiq-service', 2, 10, 60, '8Gi'],
    ['memory-gateway', 2, 8, 60, '16Gi'],
    ['constitution-service', 2, 5, 50, '1Gi'],
    ['policy-engine', 2, 5, 50, '1Gi'],
    ['billing-service', 1, 3, 50, '1Gi'],
    ['marketplace-service', 1, 5, 50, '2Gi'],
    ['evolution-engine', 1, 3, 50, '4Gi'],
    ['voice-interface', 1, 10, 70, '4Gi'],
  ];
  it('has exactly the matrix\'s twelve services', () => assert.deepEqual(Object.keys(c.services).sort(), matrix.map((m) => m[0]).sort()));
  for (const [svc, min, max, cpu, mem] of matrix) {
    it(`${svc}: ${min}-${max} replicas at ${cpu}% CPU, memory limit ${mem}, the decision framework`, () => {
      const p = c.services[svc]!;
      const hpa = hpaOf(c, svc);
      assert.equal(hpa.spec.minReplicas, min);
      assert.equal(hpa.spec.maxReplicas, max);
      assert.equal(cpuTarget(hpa), cpu);
      assert.equal(p.resources?.limits?.memory, mem);
      assert.deepEqual(rule(p, 'cpu-high'), { metric: 'cpu', op: '>', threshold: 70, forMs: 10 * M, severity: 'warning', action: { kind: 'scale', mode: 'add', amount: 1 } });
      assert.deepEqual(rule(p, 'memory-high'), { metric: 'memory', op: '>', threshold: 80, forMs: 10 * M, severity: 'warning', action: { kind: 'scale', mode: 'add', amount: 1 } });
      assert.deepEqual(rule(p, 'cpu-low'), { metric: 'cpu', op: '<', threshold: 30, forMs: 60 * M, severity: 'warning', action: { kind: 'scale', mode: 'add', amount: -1 } });
      assert.deepEqual(rule(p, 'memory-low'), { metric: 'memory', op: '<', threshold: 50, forMs: 60 * M, severity: 'warning', action: { kind: 'scale', mode: 'add', amount: -1 } });
    });
  }
  it('gateway-api: custom-metrics HPA at 1000 req/s and 50 queued workflows per pod, with the runbook behavior', () => {
    const hpa = hpaOf(c, 'gateway-api');
    const pods = Object.fromEntries(hpa.spec.metrics.filter((m: Json) => m.type === 'Pods').map((m: Json) => [m.pods.metric.name, m.pods.target]));
    assert.deepEqual(pods, { http_requests_per_second: { type: 'AverageValue', averageValue: '1000' }, workflow_queue_depth: { type: 'AverageValue', averageValue: '50' } });
    assert.deepEqual(hpa.spec.behavior, {
      scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] },
      scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    });
    assert.equal(hpa.metadata.namespace, 'somagent-production');
  });
  it('gateway-api: max_connections 500, queue depth > 100, MaxReplicasReached at 20', () => {
    const p = c.services['gateway-api']!;
    assert.equal(p.limits?.maxConnections, 500);
    assert.equal(rule(p, 'queue-deep').threshold, 100);
    const a = alerts(c, 'gateway-api');
    assert.ok(a.some((x) => x.alert === 'ScalepilotMaxReplicasReached'));
    assert.equal(p.maxReplicas, 20);
    assertAlert(a, 'ScalepilotHighCPU', 70, 'warning', '10m');
    assertAlert(a, 'ScalepilotHighMemory', 80, 'warning', '10m');
  });
});

describe('VoiceAssist (mohammednazmy/VoiceAssist docs/operations/runbooks/SCALING.md)', () => {
  const c = load('voiceassist');
  const p = c.services['voiceassist-server']!;
  it('va-autoscale: 2-10 instances, every 60s, +1 above 70% CPU, -1 below 30%', () => {
    assert.equal(p.minReplicas, 2);
    assert.equal(p.maxReplicas, 10);
    assert.equal(p.syncPeriodMs, 60_000);
    assert.deepEqual(rule(p, 'scale-up'), { metric: 'cpu', op: '>', threshold: 70, forMs: 0, severity: 'warning', action: { kind: 'scale', mode: 'add', amount: 1 } });
    assert.deepEqual(rule(p, 'scale-down'), { metric: 'cpu', op: '<', threshold: 30, forMs: 0, severity: 'warning', action: { kind: 'scale', mode: 'add', amount: -1 } });
    assert.equal(cpuTarget(hpaOf(c, 'voiceassist-server')), 70);
  });
  const immediate: Array<[rule: string, metric: string, threshold: number, forMs: number]> = [
    ['cpu-immediate', 'cpu', 80, 10 * M],
    ['memory-immediate', 'memory_utilization', 85, 0],
    ['latency-immediate', 'p95_latency', 2, 0],
    ['errors-immediate', 'error_rate', 5, 0],
    ['queue-immediate', 'queue_depth', 1000, 0],
    ['db-connections-immediate', 'db_connection_ratio', 0.8, 0],
  ];
  for (const [name, metric, threshold, forMs] of immediate) {
    it(`scale immediately: ${metric} > ${threshold} is critical`, () => {
      const r = rule(p, name);
      assert.deepEqual([r.metric, r.op, r.threshold, r.forMs, r.severity], [metric, '>', threshold, forMs, 'critical']);
    });
  }
  it('capacity check: memory > 70% is SOON; limits 2 / 2G, reservations 1 / 1G; drain 30s; max_connections 200', () => {
    assert.deepEqual([rule(p, 'memory-soon').threshold, rule(p, 'memory-soon').severity], [70, 'warning']);
    assert.deepEqual(p.resources, { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } });
    assert.equal(p.drainMs, 30_000);
    assert.equal(p.limits?.maxConnections, 200);
  });
  it('read replicas: up to 5, one more above 150 connections', () => {
    const r = c.services['postgres-replica']!;
    assert.deepEqual([r.minReplicas, r.maxReplicas], [0, 5]);
    assert.deepEqual([rule(r, 'add-read-replica').metric, rule(r, 'add-read-replica').threshold], ['db_connections', 150]);
  });
  it('va-capacity-check verdicts: 75% CPU → SOON, 85% for 10m → IMMEDIATE, DB at 85% → IMMEDIATE', () => {
    const now = Date.parse('2025-11-21T12:00:00Z');
    const w = (v: number) => Array.from({ length: 12 }, (_, i) => ({ t: now - (11 - i) * M, v }));
    const base = { memory_utilization: w(40), p95_latency: w(0.3), error_rate: w(0.1), queue_depth: w(10), db_connection_ratio: w(0.3) };
    const status = (series: Record<string, Array<{ t: number; v: number }>>) => checkService(p, { series: { ...base, ...series }, failures: {}, replicas: 4 }, now, { sources: c.sources }).status;
    assert.equal(status({ cpu: w(75) }), 'SOON');
    assert.equal(status({ cpu: w(85) }), 'IMMEDIATE');
    assert.equal(status({ cpu: w(50), db_connection_ratio: w(0.85) }), 'IMMEDIATE');
    assert.equal(status({ cpu: w(50) }), 'OK');
  });
  it('growth plan: the runbook script\'s numbers, and when 10 replicas and 200 connections run out', () => {
    const plan = buildPlan(mergePlanInputs(inputsFromService(p), readPlanFile(dir('voiceassist.plan.yaml'))), Date.now());
    assert.equal(plan.summary + '\n', readFileSync(join(ROOT, 'test/fixtures/capacity-report/voiceassist_capacity_projection.out'), 'utf8'));
    const last = plan.months[6]!;
    assert.deepEqual([last.instances, last.dbConnections, Math.round(last.storageGb), last.redisGb], [12, 1140, 114, 2]);
    const by = Object.fromEntries(plan.limits.map((l) => [l.limit, l]));
    assert.equal(by.maxReplicas!.value, 10);
    assert.equal(by.maxConnections!.value, 200);
    assert.equal(by.maxConnections!.usable, 140);
    assert.equal(by.redisMemory!.value, 3);
    assert.ok(by.maxConnections!.month! < 1, 'the runbook\'s 200 connections are outgrown within a month at ×1.5');
  });
});

describe('Open Forge (18bravo/open-forge docs/runbooks/scaling.md)', () => {
  const c = load('open-forge');
  const api = c.services.api!;
  it('api HPA: 3-20 replicas, 70% CPU, 80% memory, the runbook behavior, its requests and limits', () => {
    const hpa = hpaOf(c, 'api');
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas, cpuTarget(hpa), memoryTarget(hpa)], [3, 20, 70, 80]);
    assert.deepEqual(hpa.spec.behavior, {
      scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] },
      scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    });
    assert.deepEqual(api.resources, { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '2Gi' } });
  });
  const levels: Array<[metric: string, warning: number, critical: number]> = [
    ['cpu', 70, 85],
    ['memory_utilization', 75, 90],
    ['p99_latency', 0.5, 2],
    ['db_connection_ratio', 0.8, 0.95],
  ];
  for (const [metric, warning, critical] of levels) {
    it(`When to Scale: ${metric} warning > ${warning}, critical > ${critical}`, () => {
      const mine = api.rules.filter((r) => r.condition.metric === metric);
      assert.deepEqual(mine.map((r) => [r.severity, r.condition.op, r.condition.threshold]).sort(), [['critical', '>', critical], ['warning', '>', warning]]);
    });
  }
  it('alerts: HighCPU > 70 for 10m, HighAPILatency p99 > 2s for 10m, HighQueueDepth > 1000 for 5m', () => {
    assertAlert(alerts(c, 'api'), 'ScalepilotHighCPU', 70, 'warning', '10m');
    assertAlert(alerts(c, 'api'), 'ScalepilotHighLatency', 2, 'critical', '10m');
    assertAlert(alerts(c, 'agent-worker'), 'ScalepilotQueueBacklog', 1000, 'warning', '5m');
    assertAlert(alerts(c, 'agent-worker'), 'ScalepilotQueueBacklog', 5000, 'critical', '5m');
  });
  it('memory is scaled vertically up to 4G', () => {
    assert.deepEqual(rule(api, 'memory-warning').action, { kind: 'resize', resource: 'memory', field: 'limits', mode: 'add', amount: '1Gi', max: '4Gi' });
  });
  it('agent-worker KEDA ScaledObject: 1-100 replicas, 10 tasks per replica on agent:tasks:pending', () => {
    const r = runExport('keda', c, [c.services['agent-worker']!]);
    const o = r.objects[0]!.object as Json;
    assert.deepEqual(validateExport(r.objects[0]!), []);
    assert.deepEqual([o.spec.minReplicaCount, o.spec.maxReplicaCount], [1, 100]);
    const t = o.spec.triggers.find((x: Json) => x.type === 'redis');
    assert.equal(t.metadata.listName, 'agent:tasks:pending');
    assert.equal(t.metadata.listLength, '10');
    assert.equal(o.metadata.namespace, 'open-forge');
  });
  it('max_connections 200, DB warning at 80% of it', () => {
    assert.equal(api.limits?.maxConnections, 200);
    assert.equal(1 - api.limits!.connectionsHeadroom, rule(api, 'db-pool-warning').threshold);
  });
  // Sizing Guidelines: small < 50 users, medium 50-200, large 200-1000, enterprise 1000+
  const tiers: Array<[users: number, tier: string]> = [[49, 'small'], [50, 'medium'], [199, 'medium'], [200, 'large'], [999, 'large'], [1000, 'enterprise']];
  for (const [users, tier] of tiers) {
    it(`sizing tier: ${users} users is ${tier}`, () => {
      const inputs = readPlanFile(dir('open-forge.plan.yaml'));
      const plan = buildPlan({ ...inputs, users, rps: 1000, months: 0 }, Date.now());
      assert.equal(plan.months[0]!.tier, tier);
      assert.equal(plan.tier.tier, tier);
    });
  }
  it('enterprise sizing: 20+ API replicas, 50+ workers, clusters', () => {
    const plan = buildPlan({ ...readPlanFile(dir('open-forge.plan.yaml')), users: 5000, months: 0 }, Date.now());
    assert.equal(plan.tier.setup, '20+ API replicas, 50+ workers, PostgreSQL cluster, Redis cluster');
  });
});

describe('Omni Quantum Elite (brndngln/PLACE-HOLDER---OQEACS .../runbooks/scaling.md)', () => {
  const c = load('omni-quantum-elite');
  it('GraphRAG API HPA: 2-8 replicas at 70% CPU and 80% memory', () => {
    const hpa = hpaOf(c, 'graphrag-api');
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas, cpuTarget(hpa), memoryTarget(hpa)], [2, 8, 70, 80]);
  });
  const levels: Array<[metric: string, warning: number, critical: number]> = [
    ['p50_latency', 0.05, 0.2],
    ['p99_latency', 0.5, 2],
    ['error_rate', 0.1, 1],
  ];
  for (const [metric, warning, critical] of levels) {
    it(`load-test levels: ${metric} warning > ${warning}, critical > ${critical}`, () => {
      const mine = c.services['graphrag-api']!.rules.filter((r) => r.condition.metric === metric);
      assert.deepEqual(mine.map((r) => [r.severity, r.condition.threshold]).sort(), [['critical', critical], ['warning', warning]]);
    });
  }
  it('LiteLLM and the Knowledge Ingestor scale to 2; LiteLLM at 100 LLM requests/min', () => {
    assert.equal(c.services.litellm!.maxReplicas, 2);
    assert.equal(c.services['knowledge-ingestor']!.maxReplicas, 2);
    const r = rule(c.services.litellm!, 'llm-requests-2-replicas');
    assert.deepEqual([r.threshold, r.action], [100, { kind: 'scale', mode: 'set', amount: 2 }]);
  });
  it('PostgreSQL max_connections 200; Neo4j memory limit 4g raised up to 8g', () => {
    assert.equal(c.services.litellm!.limits?.maxConnections, 200);
    const neo = c.services.neo4j!;
    assert.equal(neo.resources?.limits?.memory, '4Gi');
    assert.equal((rule(neo, 'memory-bound').action as { max: string }).max, '8Gi');
  });
  it('growth plan reproduces the growth table: connections 50 → 75 → 100, LiteLLM 1 → 1 → 2 replicas', () => {
    const plan = buildPlan(mergePlanInputs(inputsFromService(c.services.litellm!), readPlanFile(dir('omni-quantum-elite.plan.yaml'))), Date.now());
    assert.deepEqual(plan.months.map((r) => r.dbConnections), [50, 75, 100]);
    assert.deepEqual(plan.months.map((r) => Math.round(r.rps * 60)), [50, 75, 100]);
    assert.deepEqual(plan.months.map((r) => r.instances), [1, 1, 2]);
    // with max_connections 100 the 30% headroom (70) is gone before +50%; the runbook's 200 lasts past +100%
    const at100 = buildPlan(mergePlanInputs(readPlanFile(dir('omni-quantum-elite.plan.yaml')), { limits: { maxConnections: 100 }, quotas: [] }), Date.now());
    assert.ok(at100.limits[0]!.month! < 1);
    assert.ok(plan.limits.find((l) => l.limit === 'maxConnections')!.month! > 2);
  });
});

describe('Multi-LLM Orchestrator (m85qurashi/1-Blocks planning/60_launch/runbooks/capacity_scaling.md)', () => {
  const c = load('multi-llm-orchestrator');
  const p = c.services.flowengine!;
  it('Phase 6 HPA: 5-20 replicas, 70% CPU, 75% memory, scale up 50%/60s, down 1 pod/120s', () => {
    const hpa = hpaOf(c, 'flowengine');
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas, cpuTarget(hpa), memoryTarget(hpa)], [5, 20, 70, 75]);
    assert.deepEqual(hpa.spec.behavior, {
      scaleUp: { stabilizationWindowSeconds: 60, policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] },
      scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }] },
    });
    assert.equal(hpa.metadata.namespace, 'production');
    assert.deepEqual(p.resources, { requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '2', memory: '4Gi' } });
  });
  it('alerts: CPU > 85% for 10m (warning), DB pool > 90% for 5m (critical), HPA unable to scale', () => {
    const a = alerts(c, 'flowengine');
    assertAlert(a, 'ScalepilotHighCPU', 85, 'warning', '10m');
    assertAlert(a, 'ScalepilotDBConnectionsHigh', 0.9, 'critical', '5m');
    assert.ok(a.some((x) => x.alert === 'KubernetesHPAUnableToScale'));
  });
  it('max_connections 300 with 30% headroom; P95 flow target 120s', () => {
    assert.deepEqual([p.limits?.maxConnections, p.limits?.connectionsHeadroom], [300, 0.3]);
    assert.equal(p.slo?.p95, 120_000);
  });
  const plan = buildPlan(mergePlanInputs(inputsFromService(p), readPlanFile(dir('multi-llm-orchestrator.plan.yaml'))), Date.now());
  it('phases: Phase 6 → Phase 7 at 5× the load, CPU target 70%, memory 75%; Phase 6 runs 5-20 replicas', () => {
    assert.deepEqual(plan.phases.map((ph) => [ph.name, ph.multiplier, ph.cpuTarget, ph.memoryTarget]), [['phase-6', 1, 70, 75], ['phase-7', 5, 70, 75]]);
    assert.deepEqual([plan.phases[0]!.replicas, plan.phases[0]!.minReplicas, plan.phases[0]!.maxReplicas], [5, 5, 20]);
    // Phase 7 runs 10-50 replicas in the runbook
    assert.ok(plan.phases[1]!.replicas >= 10 && plan.phases[1]!.replicas <= 50, String(plan.phases[1]!.replicas));
    assert.equal(plan.months[0]!.dbConnections, 200, 'the Phase 6 connection pool');
  });
  // Phase 6 quotas and use; Phase 7 requests (tokens/day)
  const quotas: Array<[name: string, quota: number, used: number, phase7Request: number]> = [
    ['anthropic', 2_000_000, 1_500_000, 10_000_000],
    ['openai', 1_500_000, 1_100_000, 7_500_000],
    ['google', 1_000_000, 700_000, 5_000_000],
  ];
  for (const [name, quota, used, request] of quotas) {
    it(`${name}: ${used} of ${quota} tokens/day is under the 85% ceiling, and the ${request} Phase 7 request covers 5× with it`, () => {
      const q = plan.quotas.find((x) => x.name === name)!;
      assert.equal(q.ceiling, 0.85);
      assert.equal(q.unit, 'day');
      assert.ok(Math.abs(q.quota - quota) < 1e-6 && Math.abs(q.used - used) < 1e-6);
      assert.equal(q.ok, true);
      const phase7 = q.phases.find((ph) => ph.name === 'phase-7')!.requiredQuota;
      assert.equal(phase7, Math.ceil((used * 5) / 0.85));
      assert.ok(phase7 <= request, `${phase7} > ${request}`);
      // at 5× a month, the Phase 6 quota's ceiling comes before Phase 7 starts (2025-12-09)
      assert.ok(q.reached.date! < '2025-12-09', q.reached.date!);
    });
  }
});

describe('shared budgets where the runbooks state the limits', () => {
  // seed → the runbook's max_connections and the share it keeps free
  const stated = { somagent: [500, 0.3], voiceassist: [200, 0.2], 'open-forge': [200, 0.2], 'multi-llm-orchestrator': [300, 0.3] } as const;
  for (const [name, [limit, headroom]] of Object.entries(stated)) {
    it(`${name}: maindb budget of ${limit} with ${headroom * 100}% headroom; the floors fit and the ceilings do not, so the budget binds`, () => {
      const c = load(name);
      const b = c.budgets?.maindb;
      assert.ok(b, 'a maindb budget');
      assert.equal(b.limit, limit);
      assert.equal(b.headroom, headroom);
      const users = Object.values(c.services).filter((p) => p.uses?.maindb);
      assert.ok(users.length >= 1);
      const usable = Math.floor(limit * (1 - headroom));
      assert.ok(users.reduce((a, p) => a + p.minReplicas * p.uses!.maindb!, 0) <= usable);
      assert.ok(users.reduce((a, p) => a + p.maxReplicas * p.uses!.maindb!, 0) > usable, 'at maxReplicas the services would exceed the usable connections');
    });
  }
});
