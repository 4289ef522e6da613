// `simulate --tune --holdout 50%`: tuning sees only the first half; every row and the bound score only the second
// half, replayed with the first half's history; the tuned winner is replayed the same way; the -o json fields the
// issue names are there; bad --holdout values are input errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runSimulation } from '../../src/sim/run.js';
import { renderText, toMachine } from '../../src/sim/report.js';
import { requestFromOptions } from '../../src/cli/simulate.js';
import { clairvoyantBound } from '../../src/sim/bound.js';
import { simulateService } from '../../src/sim/engine.js';
import { resolveSetup, startReplicas } from '../../src/sim/setup.js';
import { parseConfig } from '../../src/config/load.js';
import { CALIBRATION_BLOCKS, SLACK_GRID } from '../../src/sim/tune.js';
import { tempDir } from '../helpers/env.js';

test('tune on the first half, score on the second: rows, bound and the tuned winner all cover the held-out part', async () => {
  const dir = tempDir();
  try {
    // four days at 1 minute: 200 rps at night, a 10-minute ramp to 1600 at 08:00, back at 20:00
    const rows = ['t_seconds,value'];
    for (let k = 0; k < 4 * 1440; k++) {
      const m = k % 1440;
      rows.push(`${k * 60},${m < 480 || m >= 1200 ? 200 : m < 490 ? 200 + 140 * (m - 479) : 1600}`);
    }
    const trace = join(dir.path, 'daily.csv');
    writeFileSync(trace, rows.join('\n') + '\n');
    const configFile = join(dir.path, 'scalepilot.yaml');
    const yaml = `
syncPeriod: 60s
sources:
  traffic: { type: trace, file: daily.csv }
  procs: { type: process }
services:
  web:
    target: { provider: dryrun }
    minReplicas: 1
    maxReplicas: 40
    resources: { requests: { cpu: 500m } }
    metrics:
      rps: { source: traffic, query: value }
      cpu: { source: procs, query: cpu, perPod: true }
    hpa:
      metrics:
        - type: Resource
          resource: { name: cpu, target: { type: Utilization, averageUtilization: 70 } }
    capacity: { rpsPerReplica: 80, startupDelay: 45s, readinessDelay: 15s }
    slo: { maxUtilization: 90 }
`;
    writeFileSync(configFile, yaml);
    const report = await runSimulation({ configFile, trace: { kind: 'file', file: trace }, tune: { budget: 60 }, holdout: 0.5, workers: 1 });
    const out = toMachine(report) as { services: Array<Record<string, any>> };
    const s = out.services[0]!;
    assert.deepEqual(s.holdout, { fraction: 0.5, fromStep: 2880, from: 2880 * 60, tunedOnSteps: 2880 });
    assert.deepEqual(s.results.map((r: { policy: string }) => r.policy), ['scalepilot.yaml', 'tuned (held out)']);
    for (const r of s.results) {
      assert.equal(typeof r.score.violationMinutes, 'number');
      assert.equal(typeof r.score.replicaHours, 'number');
      assert.equal(r.score.steps, 2880);
    }
    // the bound is the second half's own
    const policy = parseConfig(yaml, configFile).services.web!;
    const { setup } = resolveSetup(policy, new Set(['traffic']), { firstLoad: 200 });
    const values = Float64Array.from(rows.slice(1), (l) => Number(l.split(',')[1]));
    const second = { start: 2880 * 60_000, stepMs: 60_000, values: values.slice(2880) };
    assert.equal(s.bound.replicaHours, clairvoyantBound(second, setup, 40).replicaHours);
    // the tuning searched the forecast and the JSON carries what the issue asks for
    assert.ok('predictive' in s.tune.best.params);
    assert.ok(s.tune.robustness);
    // the margin was calibrated walk-forward on the tuning part's blocks, and the winner keeps the margin it calls for
    const margin = report.services[0]!.tune!.margin!;
    assert.ok(margin.checks.length >= 1 && margin.checks[0]!.slack === 1);
    const wp = report.services[0]!.tune!.best.result.parts!;
    assert.equal(wp.length, CALIBRATION_BLOCKS);
    const least = Math.min(...wp.map((p) => p.minSlack));
    if (margin.kept > 0) assert.ok(least >= margin.required, `winner's least spare ${least} vs ${margin.required}`);
    // how close the winner came is reported: its least spare capacity over all parts, at least enough (no violation)
    assert.equal(s.tune.closestSlack, least);
    assert.ok(s.tune.closestSlack >= 1);
    // and how often it starts replicas, next to the configured policy, with no limit unless asked
    assert.equal(s.tune.churn.maxScaleUpsPerDay, undefined);
    assert.ok(s.tune.churn.configuredScaleUpsPerDay > 0, 'the reactive policy scales with the ramps');
    assert.equal(typeof s.tune.churn.winnerScaleUpsPerDay, 'number');
    const text = renderText(report);
    // two days tuned on: a daily cycle can be found in it, a weekly one cannot, and the report says so
    assert.ok(s.notes.some((n: string) => /^--tune chose on 2d of traffic, under two weeks: a weekly cycle/.test(n)), JSON.stringify(s.notes));
    assert.match(text, /note: --tune chose on 2d of traffic, under two weeks/);
    assert.match(text, /closest call: at its tightest scored step the winner had \d+(\.\d)?% spare capacity/);
    assert.match(text, /churn: the winner makes [\d.]+ scale-ups a day \(configured: [\d.]+\); --tune-max-scale-ups N/);
    const snippet = parseYaml(s.tune.snippet);
    assert.ok(snippet.services.web.hpa);
    // the tuned row is the winner replayed over the whole trace and scored from the second half
    const best = report.services[0]!.tune!.best.policy;
    const replay = simulateService(best, { ...setup, initialReplicas: startReplicas(best, setup.workload, setup.slo, 200) }, { start: 0, stepMs: 60_000, values }, { scoreFrom: 2880 });
    assert.deepEqual(s.results[1].score, JSON.parse(JSON.stringify(replay.score)));
    // the configured reactive policy misses the ramps of the held-out days; the tuned one, which saw two of them, does not
    assert.ok(s.results[0].score.violationMinutes > 0);
    assert.equal(s.results[1].score.violationMinutes, 0);
    // --tune-strict reaches the calibration: the margin says so and covers the fall of spare capacity it measured
    assert.equal(margin.strict, false);
    assert.equal(s.tune.margin.shrink, margin.shrink);
    const strict = (await runSimulation({ configFile, trace: { kind: 'file', file: trace }, tune: { budget: 60, strict: true }, holdout: 0.5, workers: 1 })).services[0]!.tune!.margin!;
    assert.equal(strict.strict, true);
    assert.ok(strict.required >= margin.required && strict.required >= Math.min(strict.shrink, SLACK_GRID[SLACK_GRID.length - 1]!), JSON.stringify(strict));
  } finally {
    dir.cleanup();
  }
});

test('--tune-strict and --no-tune-strict reach the search as strict true and false; neither leaves it to the tuning part\'s length', () => {
  const base = { config: 'c.yaml', trace: 't.csv', traceKind: 'rps', tuneBudget: '400', metric: [], output: 'table', tune: true };
  assert.equal(requestFromOptions({ ...base, tuneStrict: true }).tune!.strict, true);
  assert.equal(requestFromOptions({ ...base, tuneStrict: false }).tune!.strict, false);
  assert.equal('strict' in requestFromOptions(base).tune!, false);
});

test('--holdout takes a share of the trace; anything else is an input error naming the flag', () => {
  const base = { config: 'c.yaml', trace: 't.csv', traceKind: 'rps', tuneBudget: '400', metric: [], output: 'table' };
  assert.equal(requestFromOptions({ ...base, holdout: '50%' }).holdout, 0.5);
  assert.equal(requestFromOptions({ ...base, holdout: '0.25' }).holdout, 0.25);
  for (const bad of ['0', '100%', '150%', 'half', '-10%']) {
    assert.throws(() => requestFromOptions({ ...base, holdout: bad }), /--holdout .*: give the held-out share of the trace, e\.g\. 50% or 0\.5/);
  }
});
