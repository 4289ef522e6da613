// Alerts for guarded changes, checked by promtool: the budget alerts fire on the gauges `run` exports when a budget
// binds or is exceeded, and the verification alert fires while a service cools off after a rollback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { runExport, toYamlDocuments } from '../../src/export/index.js';
import { checkRules, testRules } from '../helpers/promtool.js';
import { tempDir } from '../helpers/env.js';

const config = parseConfig(`
budgets: { maindb: { limit: 100, headroom: 20% }, unused: { limit: 5 } }
verify: { window: 2m }
services:
  api: { target: { provider: dryrun }, maxReplicas: 10, uses: { maindb: 10 } }
  worker: { target: { provider: dryrun }, maxReplicas: 10, uses: { maindb: 5 }, verify: false }
`, 'g.yaml');

test('budget and verification alerts: promtool accepts them, and they fire exactly when they should', () => {
  const dir = tempDir();
  try {
    const rules = join(dir.path, 'rules.yaml');
    const objects = runExport('rules', config, Object.values(config.services)).objects;
    writeFileSync(rules, toYamlDocuments(objects.map((o) => o.object)));
    const groups = (objects[0]!.object as { groups: Array<{ name: string; rules: Array<{ alert: string }> }> }).groups;
    assert.deepEqual(groups.find((g) => g.name === 'scalepilot.budgets')!.rules.map((r) => r.alert), ['ScalepilotBudgetBinding', 'ScalepilotBudgetExceeded'], 'only budgets a service uses');
    assert.ok(groups.find((g) => g.name === 'scalepilot.api')!.rules.some((r) => r.alert === 'ScalepilotVerificationFailed'));
    assert.ok(!groups.find((g) => g.name === 'scalepilot.worker')!.rules.some((r) => r.alert === 'ScalepilotVerificationFailed'), 'verify: false has no verification alert');
    const c = checkRules(rules);
    assert.ok(c.ok, c.output);
    const t = join(dir.path, 'test.yaml');
    writeFileSync(t, `rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - { series: 'scalepilot_budget_used_percent{budget="maindb"}', values: '100x15' }
      - { series: 'scalepilot_budget_used{budget="maindb"}', values: '80x3 120x5' }
      - { series: 'scalepilot_budget_limit{budget="maindb"}', values: '100x10' }
      - { series: 'scalepilot_verification_failed{service="api"}', values: '0 1 1 0' }
    alert_rule_test:
      - { eval_time: 5m, alertname: ScalepilotBudgetBinding, exp_alerts: [] }
      - eval_time: 11m
        alertname: ScalepilotBudgetBinding
        exp_alerts:
          - exp_labels: { severity: warning, budget: maindb }
            exp_annotations:
              summary: "budget maindb at 100% of its usable part for 10m: api, worker cannot grow"
              description: "The connections the services hold have reached the limit less 20% headroom. For a database: a pooler such as PgBouncer, a smaller pool per replica, or read replicas."
      - { eval_time: 3m, alertname: ScalepilotBudgetExceeded, exp_alerts: [] }
      - eval_time: 6m
        alertname: ScalepilotBudgetExceeded
        exp_alerts:
          - exp_labels: { severity: critical, budget: maindb }
            exp_annotations:
              summary: "budget maindb: 120 held, more than the limit itself"
              description: "More connections are held than maindb allows (the limit was lowered, or replicas were added by hand). New connections or requests will be refused."
      - { eval_time: 0m, alertname: ScalepilotVerificationFailed, exp_alerts: [] }
      - eval_time: 2m
        alertname: ScalepilotVerificationFailed
        exp_alerts:
          - exp_labels: { severity: critical, service: api }
            exp_annotations:
              summary: "api: a scaling change failed its verification and was rolled back"
              description: "New replicas did not get ready within their start-up allowance, or error rate / p95 got worse than the margin. The change was rolled back and that direction is held for the cool-off; see \`scalepilot history\` for the reason."
      - { eval_time: 3m, alertname: ScalepilotVerificationFailed, exp_alerts: [] }
`);
    const r = testRules(t);
    assert.ok(r.ok, r.output);
  } finally {
    dir.cleanup();
  }
});
