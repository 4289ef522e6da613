// Alerts on scalepilot's own health (degraded front, blocked store, dropped records, crash-looping replicas, stalled
// sync, failing metric reads): every metric they read is one `run` really exports, promtool accepts them, and each
// fires in a promtool unit test on failure series and stays silent on healthy ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { runExport, toYamlDocuments } from '../../src/export/index.js';
import { selfGroup, stallSeconds } from '../../src/export/self-rules.js';
import type { AlertRule, RuleGroup } from '../../src/export/prometheus.js';
import { createControllerMetrics } from '../../src/server/metrics.js';
import { RecordJournal } from '../../src/store/journal.js';
import { openStore } from '../../src/store/index.js';
import { checkRules, testRules } from '../helpers/promtool.js';
import { tempDir } from '../helpers/env.js';

const config = parseConfig(`
syncPeriod: 15s
services:
  api: { target: { provider: dryrun }, maxReplicas: 10, metrics: { rps: { source: self, query: rps } } }
  worker: { target: { provider: dryrun }, maxReplicas: 4, syncPeriod: 1m }
sources: { self: { type: prometheus, url: 'http://127.0.0.1:9090' } }
`, 's.yaml');
const services = Object.values(config.services);

test('stalled means 5 sync periods without a completed sync, at least 2m', () => {
  assert.deepEqual(services.map(stallSeconds), [120, 300]);
});

test('self-monitoring alerts read only metrics the controller and the store journal export', async () => {
  const metrics = createControllerMetrics(false);
  const store = await openStore('sqlite::memory:');
  try {
    new RecordJournal(store, { registry: metrics.registry });
    const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    const read = new Set(selfGroup(services).rules.flatMap((r) => r.expr.match(/scalepilot_[a-z_]+/g) ?? []));
    assert.ok(read.size >= 6, [...read].join(' '));
    for (const name of read) assert.ok(exported.has(name), `${name} is not on /metrics (exported: ${[...exported].join(' ')})`);
  } finally {
    await store.close();
  }
});

/** exp_alerts entry: the rule's own description, the summary spelled out (it carries the value). */
function fired(rules: AlertRule[], alert: string, labels: Record<string, string>, summary: string): string {
  const r = rules.find((x) => x.alert === alert && (labels.service === undefined || x.labels.service === labels.service));
  assert.ok(r, `no ${alert} rule for ${JSON.stringify(labels)}`);
  return JSON.stringify({ exp_labels: { ...r.labels, ...labels }, exp_annotations: { summary, description: r.annotations.description } });
}

test('self-monitoring alerts: promtool accepts them; each fires on failure and stays silent when healthy', () => {
  const dir = tempDir();
  try {
    const objects = runExport('rules', config, services).objects;
    writeFileSync(join(dir.path, 'rules.yaml'), toYamlDocuments(objects.map((o) => o.object)));
    const groups = (objects[0]!.object as { groups: RuleGroup[] }).groups;
    const self = groups.find((g) => g.name === 'scalepilot.controller');
    assert.ok(self, groups.map((g) => g.name).join(', '));
    assert.deepEqual([...new Set(self.rules.map((r) => r.alert))], [
      'ScalepilotStoreBlocked', 'ScalepilotStoreWritesFailing', 'ScalepilotRecordsDropped',
      'ScalepilotTargetDegraded', 'ScalepilotReplicaCrashLooping', 'ScalepilotSyncStalled',
    ]);
    const c = checkRules(join(dir.path, 'rules.yaml'));
    assert.ok(c.ok, c.output);

    const rules = groups.flatMap((g) => g.rules);
    const inst = { instance: '127.0.0.1:9102', job: 'scalepilot' };
    const at = (min: number, alertname: string, ...alerts: string[]) => `      - { eval_time: ${min}m, alertname: ${alertname}, exp_alerts: [${alerts.join(', ')}] }\n`;
    const t = join(dir.path, 'test.yaml');
    writeFileSync(t, `rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  # the front goes down at 2m and comes back at 6m; worker's stays up
  - interval: 1m
    input_series:
      - { series: 'scalepilot_target_degraded{service="api"}', values: '0 0 1 1 1 1 0 0' }
      - { series: 'scalepilot_target_degraded{service="worker"}', values: '0x8' }
    alert_rule_test:
${at(1, 'ScalepilotTargetDegraded')}${at(2, 'ScalepilotTargetDegraded')}${at(3, 'ScalepilotTargetDegraded', fired(rules, 'ScalepilotTargetDegraded', { service: 'api' }, 'api: the target is degraded besides its replicas (front proxy down)'))}${at(7, 'ScalepilotTargetDegraded')}
  # api: a replica crashes every minute from 2m to 12m (the series appears with the first crash): 3 crashes by
  # 4m, firing after 5 more minutes; then it runs, and the 15m window empties.
  # worker: one crash (an OOM kill is not a loop) and many ordinary starts
  - interval: 1m
    input_series:
      - { series: 'scalepilot_provider_events_total{service="api",event="replica-crashed"}', values: '_ _ 1+1x10 11x30' }
      - { series: 'scalepilot_provider_events_total{service="api",event="replica-started"}', values: '_ _ 1+1x10 11x30' }
      - { series: 'scalepilot_provider_events_total{service="worker",event="replica-crashed"}', values: '_x5 1x35' }
      - { series: 'scalepilot_provider_events_total{service="worker",event="replica-started"}', values: '0+5x40' }
    alert_rule_test:
${at(3, 'ScalepilotReplicaCrashLooping')}${at(8, 'ScalepilotReplicaCrashLooping')}${at(9, 'ScalepilotReplicaCrashLooping', fired(rules, 'ScalepilotReplicaCrashLooping', { service: 'api' }, 'api: 8 replica crashes or failed starts in 15m'))}${at(35, 'ScalepilotReplicaCrashLooping')}
  # api's sync loop stops completing at 5m (the gauge stays at 300s); worker's keeps completing
  - interval: 1m
    input_series:
      - { series: 'scalepilot_last_sync_timestamp_seconds{service="api"}', values: '0+60x5 300x10' }
      - { series: 'scalepilot_last_sync_timestamp_seconds{service="worker"}', values: '0+60x15' }
    alert_rule_test:
${at(8, 'ScalepilotSyncStalled')}${at(9, 'ScalepilotSyncStalled', fired(rules, 'ScalepilotSyncStalled', { service: 'api' }, 'api: no sync has completed for 4m 0s (sync period 15s)'))}
  # the store blocks from 2m to 4m; writes fail every minute from 2m to 14m; 5 records are dropped at 3m
  - interval: 1m
    input_series:
      - { series: 'scalepilot_store_blocked{instance="${inst.instance}",job="${inst.job}"}', values: '0 0 1 1 1 0x30' }
      - { series: 'scalepilot_store_write_failures_total{instance="${inst.instance}",job="${inst.job}"}', values: '0 0 1+1x12 13x25' }
      - { series: 'scalepilot_store_records_dropped_total{instance="${inst.instance}",job="${inst.job}"}', values: '0 0 0 5x40' }
    alert_rule_test:
${at(2, 'ScalepilotStoreBlocked')}${at(3, 'ScalepilotStoreBlocked', fired(rules, 'ScalepilotStoreBlocked', inst, 'scalepilot holds every service: the store cannot record changes'))}${at(5, 'ScalepilotStoreBlocked')}${at(11, 'ScalepilotStoreWritesFailing')}${at(12, 'ScalepilotStoreWritesFailing', fired(rules, 'ScalepilotStoreWritesFailing', inst, 'writes to the scalepilot store keep failing'))}${at(21, 'ScalepilotStoreWritesFailing')}${at(2, 'ScalepilotRecordsDropped')}${at(3, 'ScalepilotRecordsDropped', fired(rules, 'ScalepilotRecordsDropped', inst, 'scalepilot gave up 5 per-sync records in 30m'))}${at(34, 'ScalepilotRecordsDropped')}
  # one failed write is retried and does not page
  - interval: 1m
    input_series:
      - { series: 'scalepilot_store_write_failures_total', values: '0 0 1x30' }
    alert_rule_test:
${[3, 10, 20].map((m) => at(m, 'ScalepilotStoreWritesFailing')).join('')}
  # api's rps reads fail every minute; worker has no metric to read
  - interval: 1m
    input_series:
      - { series: 'scalepilot_metric_errors_total{service="api",metric="rps"}', values: '0 0 1+1x20' }
    alert_rule_test:
${at(11, 'ScalepilotMetricErrors')}${at(12, 'ScalepilotMetricErrors', fired(rules, 'ScalepilotMetricErrors', { service: 'api', metric: 'rps' }, 'api: reading metric rps keeps failing'))}
  # a healthy controller: nothing of the above fires at any point
  - interval: 1m
    input_series:
      - { series: 'scalepilot_target_degraded{service="api"}', values: '0x40' }
      - { series: 'scalepilot_target_degraded{service="worker"}', values: '0x40' }
      - { series: 'scalepilot_provider_events_total{service="api",event="replica-started"}', values: '0+1x40' }
      - { series: 'scalepilot_provider_events_total{service="api",event="replica-stopped"}', values: '0+1x40' }
      - { series: 'scalepilot_last_sync_timestamp_seconds{service="api"}', values: '0+60x40' }
      - { series: 'scalepilot_last_sync_timestamp_seconds{service="worker"}', values: '0+60x40' }
      - { series: 'scalepilot_store_blocked', values: '0x40' }
      - { series: 'scalepilot_store_write_failures_total', values: '0x40' }
      - { series: 'scalepilot_store_records_dropped_total', values: '0x40' }
      - { series: 'scalepilot_metric_errors_total{service="api",metric="rps"}', values: '0x40' }
    alert_rule_test:
${[5, 20, 40].flatMap((m) => ['ScalepilotTargetDegraded', 'ScalepilotReplicaCrashLooping', 'ScalepilotSyncStalled', 'ScalepilotStoreBlocked', 'ScalepilotStoreWritesFailing', 'ScalepilotRecordsDropped', 'ScalepilotMetricErrors'].map((a) => at(m, a))).join('')}`);
    const r = testRules(t);
    assert.ok(r.ok, `${r.output}\n--- test file ---\n${readFileSync(t, 'utf8')}`);
  } finally {
    dir.cleanup();
  }
});
