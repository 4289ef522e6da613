// Tuning finds a known optimum: a spike shorter than the start-up delay can only be met by replicas already
// running, so the cheapest policy with zero violation minutes is exactly minReplicas = the spike's need, with a
// target high enough that the spike (100 % utilization) stays within the HPA's tolerance and starts nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { resolveSetup, startReplicas } from '../../src/sim/setup.js';
import { STRICT_BELOW_MS, shortTuningNote, strictFor, tunePolicy, tuneParams } from '../../src/sim/tune.js';
import { simulateService } from '../../src/sim/engine.js';

/** The service these tests tune, with the given start-up delay. */
const webPolicy = (startupDelay: string) => parseConfig(`
sources:
  procs: { type: process }
services:
  web:
    target: { provider: dryrun }
    minReplicas: 1
    maxReplicas: 20
    resources: { requests: { cpu: "1" } }
    metrics:
      cpu: { source: procs, query: cpu, perPod: true }
    hpa:
      metrics:
        - type: Resource
          resource: { name: cpu, target: { type: Utilization, averageUtilization: 70 } }
    capacity: { rpsPerReplica: 100, startupDelay: ${startupDelay}, readinessDelay: 0s }
    slo: { maxUtilization: 100 }
`, 'tune.yaml').services.web!;
const policy = webPolicy('5m');

// three hours at 15 s: 100 rps, and 400 rps for two minutes at half past every hour
const values = new Float64Array(720);
for (let k = 0; k < values.length; k++) values[k] = k % 240 >= 120 && k % 240 < 128 ? 400 : 100;
const load = { start: Date.UTC(2024, 0, 1), stepMs: 15_000, values };
const { setup } = resolveSetup(policy, new Set(), { firstLoad: 100 });

test('the configured policy cannot meet the spike: the search has something to find', () => {
  const r = simulateService(policy, setup, load);
  assert.ok(r.score.violationMinutes > 0);
});

test('tuning finds minReplicas 4 with target 95: zero violations at exactly 4 replicas all along', async () => {
  const progress: number[] = [];
  const t = await tunePolicy(policy, setup, load, {
    workers: 2,
    budget: 300,
    maxUsefulMinReplicas: 4,
    initialReplicas: (p) => startReplicas(p, setup.workload, setup.slo, 100),
    onProgress: (done) => progress.push(done),
  });
  assert.equal(t.mode, 'coordinate');
  assert.ok(t.evaluated <= 300 && t.evaluated < t.space);
  assert.equal(t.meetsSlo, true);
  assert.equal(t.best.params['minReplicas'], '4');
  assert.equal(t.best.params['target (cpu averageUtilization)'], '95');
  assert.equal(t.best.result.score.violationMinutes, 0);
  assert.equal(t.best.result.score.replicaHours, 4 * 3);
  assert.equal(t.best.result.score.scaleUps, 0);
  assert.equal(t.best.policy.minReplicas, 4);
  assert.match(t.snippet, /minReplicas: 4/);
  assert.match(t.snippet, /averageUtilization: 95/);
  // the top list is ordered: nothing better than the winner, and the configured policy is worse
  for (const c of t.top) assert.ok(c.result.score.violationMinutes > 0 || c.result.score.replicaHours >= 12);
  assert.ok(t.configured.result.score.violationMinutes > 0);
  assert.equal(progress.length, t.evaluated);
});

test('when the cheapest safe candidates are all fragile, the robustness check goes on down the list to a robust one', async () => {
  // 95 rps on replicas of 100: one replica meets the SLO with 5% to spare, so every candidate that holds one is safe,
  // cheapest, and fails at 10% more demand; those are far more than four rounds of one
  const flat = { start: Date.UTC(2024, 0, 1), stepMs: 15_000, values: new Float64Array(480).fill(95) };
  const t = await tunePolicy(policy, setup, flat, { workers: 1, budget: 100, robustTop: 1, maxUsefulMinReplicas: 2, initialReplicas: (p) => startReplicas(p, setup.workload, setup.slo, 95) });
  const r = t.robustness!;
  assert.equal(r.robust, true, JSON.stringify(r));
  assert.ok(r.checked > 4, `checked ${r.checked}`);
  assert.ok(r.checked <= 25, `at most a quarter of the budget: ${r.checked}`);
  assert.ok(r.winnerViolationMinutes.length >= 3 && r.winnerViolationMinutes.every((m) => m === 0), JSON.stringify(r));
  assert.equal(t.best.result.score.meanReplicas, 2);
  assert.equal(t.best.result.score.violationMinutes, 0);
  // cheaper safe candidates (one replica) were passed over
  assert.ok(t.top.slice(1).some((c) => c.result.score.violationMinutes === 0 && c.result.score.meanReplicas === 1));
});

test('when nothing in the space meets the SLO, the fewest violations win and it says so', async () => {
  const tight = { ...policy, maxReplicas: 3 };
  const t = await tunePolicy(tight, setup, load, { workers: 1, budget: 40, maxUsefulMinReplicas: 3, initialReplicas: (p) => startReplicas(p, setup.workload, setup.slo, 100) });
  assert.equal(t.meetsSlo, false);
  assert.ok(t.best.result.score.violationMinutes > 0);
  assert.ok(t.top.every((c) => c.result.score.violationMinutes >= t.best.result.score.violationMinutes));
});

test('a service without an hpa block cannot be tuned, and the message says what to add', () => {
  assert.throws(() => tuneParams({ ...policy, hpa: undefined } as typeof policy, 4), /no hpa block/);
});

test('the surprise stress makes every rise of demand 10% sharper and leaves falls and gaps alone', async () => {
  const { sharperRises } = await import('../../src/sim/tune.js');
  const out = sharperRises({ start: 0, stepMs: 1000, values: Float64Array.from([100, 200, 150, Number.NaN, 300, 310]) }, 1.1);
  assert.deepEqual([...out.values].map((v) => (Number.isNaN(v) ? 'gap' : Math.round(v * 1000) / 1000)), [100, 210, 150, 'gap', 300, 311]);
});

test('with a demand metric, the forecast\'s method, error model and error window are searched too', () => {
  const names = tuneParams(policy, 20, 'rps').map((p) => p.name);
  for (const n of ['predictive', 'predictive headroomQuantile', 'predictive errorModel', 'predictive method', 'predictive errorWindow']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  const q = structuredClone(policy);
  const params = tuneParams(policy, 20, 'rps');
  for (const [name, label] of [['predictive', 'seasonal'], ['predictive method', 'change'], ['predictive errorModel', 'sqrt'], ['predictive errorWindow', '7d'], ['predictive headroomQuantile', '0.9999']]) {
    params.find((p) => p.name === name)!.values.find((v) => v.label === label)!.apply!(q);
  }
  assert.deepEqual(q.predictive, { metric: 'rps', model: 'seasonal', method: 'change', errorModel: 'sqrt', errorWindow: 7 * 86_400_000, headroomQuantile: 0.9999 });
});

test('the search also starts led by the forecast: HPA target at the top of its grid, no scale-down stabilization', async () => {
  const { searchStarts } = await import('../../src/sim/tune.js');
  const params = tuneParams(policy, 20, 'rps');
  const configured = params.map(() => 0);
  const { starts, led, ledTarget } = searchStarts(params, configured);
  const labels = (idx: number[]) => Object.fromEntries(idx.map((v, i) => [params[i]!.name, params[i]!.values[v]!.label]));
  assert.equal(starts.length, 4);
  assert.deepEqual(starts[0], configured);
  assert.equal(labels(starts[1]!).predictive, 'seasonal');
  assert.equal(labels(starts[2]!)['predictive method'], 'change');
  const l = labels(starts[led!]!);
  const targets = params[ledTarget!]!.values.map((v) => Number(v.label));
  assert.equal(params[ledTarget!]!.name, 'target (cpu averageUtilization)');
  assert.equal(Number(l['target (cpu averageUtilization)']), Math.max(...targets));
  assert.equal(l['scaleDown stabilizationWindowSeconds'], '0');
  // the forecast's other settings are those of the change-method start
  assert.equal(l.predictive, 'seasonal');
  assert.equal(l['predictive method'], 'change');
  assert.equal(l.minReplicas, labels(configured).minReplicas);
  // without a demand metric there is nothing to lead: the configured policy is the only start
  const plain = tuneParams(policy, 20);
  assert.deepEqual(searchStarts(plain, plain.map(() => 0)), { starts: [plain.map(() => 0)] });
});

test('once a margin is calibrated, the forecast targets that keep it (and the next two levels) are searched too', async () => {
  const { marginTargets } = await import('../../src/sim/tune.js');
  const params = tuneParams(policy, 20, 'rps');
  const param = params.find((p) => p.name === 'predictive targetUtilization')!;
  const before = param.values.map((v) => v.label);
  // slo.maxUtilization 100: the levels 1.1, 1.15 and 1.2 fill a replica to 90, 86 and 83%; 90 is in the grid already
  marginTargets(params, policy, 'rps', 1.1);
  const after = param.values.map((v) => v.label);
  assert.deepEqual(after.slice(0, before.length), before, 'existing values keep their indices');
  assert.deepEqual(after.slice(before.length), ['86', '83']);
  assert.ok(before.includes('90'));
  const q = structuredClone(policy);
  params.find((p) => p.name === 'predictive')!.values.find((v) => v.label === 'seasonal')!.apply!(q);
  param.values.find((v) => v.label === '83')!.apply!(q);
  assert.equal(q.predictive!.targetUtilization, 83);
  // asking again adds nothing
  marginTargets(params, policy, 'rps', 1.1);
  assert.equal(param.values.length, after.length);
  // without forecasting in the space there is nothing to add to
  const plain = tuneParams(policy, 20);
  marginTargets(plain, policy, 'rps', 1.2);
  assert.deepEqual(plain.map((p) => p.values.length), tuneParams(policy, 20).map((p) => p.values.length));
});

test('the snippet writes the forecast\'s durations as durations, so it reads back as the policy it came from', async () => {
  const { serviceSnippet } = await import('../../src/sim/tune.js');
  const q = structuredClone(policy);
  q.predictive = { metric: 'rps', model: 'seasonal', method: 'change', errorModel: 'sqrt', errorWindow: 7 * 86_400_000, lookback: 15 * 86_400_000, headroomQuantile: 0.9999, dropHold: 30 * 60_000 };
  const snippet = serviceSnippet(q);
  assert.match(snippet, /errorWindow: 7d/);
  assert.match(snippet, /dropHold: 30m/);
  const back = parseConfig(`sources:\n  procs: { type: process }\n${snippet.replace('services:\n  web:\n', 'services:\n  web:\n    target: { provider: dryrun }\n    metrics:\n      cpu: { source: procs, query: cpu, perPod: true }\n      rps: { source: procs, query: cpu }\n')}`, 'snippet.yaml').services.web!;
  assert.deepEqual(back.predictive, q.predictive);
});

/** A candidate for calibrateSlack: one part per block with its replica-steps, least spare capacity and violations. */
const blockCandidate = (name: string, cost: number[], slack: number[], viol: number[]) => ({
  params: { name },
  result: {
    service: 'web', policy: name, decisionErrors: { count: 0, atNoData: 0 }, resizes: 0,
    score: { steps: 0, scoredSteps: 0, noDataSteps: 0, violationMinutes: viol.reduce((a, b) => a + b, 0), overCapacityMinutes: 0, latencyMinutes: 0, replicaHours: cost.reduce((a, b) => a + b, 0) / 60, cost: null, scaleUps: 0, scaleDowns: 0, reversals: 0, minutesAtMax: 0, peakReplicas: 0, meanReplicas: 0, meanUtilization: 0, maxUtilization: 0 },
    parts: cost.map((c, k) => ({ scoredSteps: 10, violationSteps: viol[k]!, replicaSteps: c, minSlack: slack[k]! })),
  },
});

test('the margin is calibrated walk-forward: a choice on the first three quarters that fails the last quarter raises it, though the half-way check passes', async () => {
  const { calibrateSlack } = await import('../../src/sim/tune.js');
  // x is the cheapest on the first quarter and on the first half, and safe after both; y, cheaper over the first
  // three quarters, misses in the last one
  const x = blockCandidate('x', [9, 9, 9, 9], [1, 1, 1, 1], [0, 0, 0, 0]);
  const y = blockCandidate('y', [10, 10, 1, 1], [1.01, 1.01, 1.01, 0.9], [0, 0, 0, 2]);
  const z = blockCandidate('z', [12, 12, 12, 12], [1.06, 1.06, 1.06, 1.06], [0, 0, 0, 0]);
  const m = calibrateSlack([x, y, z], 60_000);
  assert.deepEqual(m.checks.map((c) => [c.slack, c.candidate, c.laterViolationMinutes]), [[1, 'name=y', 2], [1.02, 'name=z', 0]]);
  assert.equal(m.required, 1.02);
  assert.equal(m.kept, 1);
  // the same candidates cut only in halves: the half-way check alone passes x, and no margin is required
  const halves = (c: ReturnType<typeof blockCandidate>) => ({ ...c, result: { ...c.result, parts: [0, 2].map((k) => ({ scoredSteps: 20, violationSteps: c.result.parts[k]!.violationSteps + c.result.parts[k + 1]!.violationSteps, replicaSteps: c.result.parts[k]!.replicaSteps + c.result.parts[k + 1]!.replicaSteps, minSlack: Math.min(c.result.parts[k]!.minSlack, c.result.parts[k + 1]!.minSlack) })) } });
  assert.equal(calibrateSlack([x, y, z].map(halves), 60_000).required, 1);
});

test('strict: the winner also keeps the most spare capacity a checked choice lost on the traffic after it', async () => {
  const { calibrateSlack } = await import('../../src/sim/tune.js');
  // y, chosen on the first three quarters with 1% spare, came out of the last one with 10% too little: a fall of
  // ×1.01/0.9; the choices x and z lost nothing
  const x = blockCandidate('x', [9, 9, 9, 9], [1, 1, 1, 1], [0, 0, 0, 0]);
  const y = blockCandidate('y', [10, 10, 1, 1], [1.01, 1.01, 1.01, 0.9], [0, 0, 0, 2]);
  const z = blockCandidate('z', [12, 12, 12, 12], [1.06, 1.06, 1.06, 1.06], [0, 0, 0, 0]);
  const w = blockCandidate('w', [15, 15, 15, 15], [1.2, 1.2, 1.2, 1.2], [0, 0, 0, 0]);
  const plain = calibrateSlack([x, y, z, w], 60_000);
  assert.equal(plain.required, 1.02);
  assert.ok(Math.abs(plain.shrink - 1.01 / 0.9) < 1e-12, String(plain.shrink));
  assert.equal(plain.strict, false);
  assert.equal(plain.kept, 2);
  // strict keeps the fall as well, rounded up to the grid: 15% spare, which only w keeps
  const strict = calibrateSlack([x, y, z, w], 60_000, true);
  assert.deepEqual(strict.checks, plain.checks);
  assert.equal(strict.required, 1.15);
  assert.equal(strict.strict, true);
  assert.equal(strict.kept, 1);
  // no choice lost spare: strict asks for nothing more
  const calm = calibrateSlack([x, z, w], 60_000, true);
  assert.equal(calm.shrink, 1);
  assert.equal(calm.required, 1);
  // a fall past the grid keeps the grid's top level
  const v = blockCandidate('v', [1, 1, 1, 1], [1.5, 1.5, 1.5, 0.5], [0, 0, 0, 1]);
  assert.equal(calibrateSlack([v, z], 60_000).required, 1.5);
  assert.equal(calibrateSlack([v, z], 60_000, true).required, 2);
});

test('a walk-forward fold whose earlier blocks no candidate got through safely is left out, not the whole calibration', async () => {
  const { calibrateSlack } = await import('../../src/sim/tune.js');
  // every candidate misses in the third block, so the fold choosing on the first three has nothing to check; the
  // folds choosing on the first block and on the first two still calibrate: p, cheapest there, misses after them
  const p = blockCandidate('p', [5, 5, 5, 5], [1, 1, 0.8, 0.9], [0, 0, 1, 1]);
  const q = blockCandidate('q', [8, 8, 8, 8], [1.03, 1.03, 0.95, 1.03], [0, 0, 1, 0]);
  const m = calibrateSlack([p, q], 60_000);
  assert.deepEqual(m.checks.map((c) => [c.slack, c.candidate, c.laterViolationMinutes]), [[1, 'name=p', 4], [1.02, 'name=q', 2]]);
  assert.equal(m.required, 1.02);
  assert.equal(m.kept, 0);
});

test('the margin is calibrated: the cheapest choice on the first half at each spare level, checked on the second', async () => {
  const { calibrateSlack } = await import('../../src/sim/tune.js');
  const cands = [
    blockCandidate('a', [100, 100], [1.01, 0.8], [0, 3]),
    blockCandidate('b', [110, 105], [1.06, 0.95], [0, 1]),
    blockCandidate('c', [120, 118], [1.12, 1.08], [0, 0]),
    blockCandidate('d', [130, 131], [1.3, 1.25], [0, 0]),
    blockCandidate('e', [90, 90], [0.7, 0.9], [2, 1]), // cheapest, but not safe on the first half: never chosen
  ];
  const m = calibrateSlack(cands, 60_000);
  assert.deepEqual(m.checks.map((c) => [c.slack, c.candidate, c.laterViolationMinutes]), [[1, 'name=a', 3], [1.02, 'name=b', 1], [1.05, 'name=b', 1], [1.1, 'name=c', 0]]);
  assert.equal(m.required, 1.1);
  // c dipped to 8% spare on the second half: only d kept 10% over the whole tuning part
  assert.equal(m.kept, 1);
  // when the cheapest choice is safe on the second half already, no margin is required
  const easy = calibrateSlack([blockCandidate('x', [100, 100], [1.0, 1.0], [0, 0]), blockCandidate('y', [130, 131], [1.3, 1.25], [0, 0])], 60_000);
  assert.equal(easy.required, 1);
  assert.equal(easy.kept, 2);
});

test('a churn limit: the cheapest policy scales with the ramps; with at most 0 scale-ups a day the winner holds a floor instead', async () => {
  const { scaleUpsPerDay } = await import('../../src/sim/tune.js');
  const ramps = webPolicy('60s');
  // eight hours at 15 s: 100 rps, a 40-minute ramp to 500, an hour there, a ramp back, an hour at 100
  const v = new Float64Array(8 * 240);
  for (let k = 0; k < v.length; k++) {
    const m = (k / 4) % 240;
    v[k] = m < 60 ? 100 : m < 100 ? 100 + (400 * (m - 60)) / 40 : m < 160 ? 500 : m < 200 ? 500 - (400 * (m - 160)) / 40 : 100;
  }
  const l = { start: Date.UTC(2024, 0, 1), stepMs: 15_000, values: v };
  const { setup: s } = resolveSetup(ramps, new Set(), { firstLoad: 100 });
  const opts = { workers: 2, budget: 300, maxUsefulMinReplicas: 5, initialReplicas: (p: typeof ramps) => startReplicas(p, s.workload, s.slo, 100) };
  const free = await tunePolicy(ramps, s, l, opts);
  assert.equal(free.best.result.score.violationMinutes, 0);
  assert.ok(free.best.result.score.scaleUps > 0, 'following the ramps is cheapest');
  // without a limit the churn is still reported, the winner's next to the configured policy's
  assert.equal(free.churn.maxScaleUpsPerDay, undefined);
  assert.equal(free.churn.kept, true);
  assert.equal(free.churn.winnerScaleUpsPerDay, scaleUpsPerDay(free.best.result, l.stepMs));
  assert.ok(free.churn.winnerScaleUpsPerDay > 0);
  const held = await tunePolicy(ramps, s, l, { ...opts, maxScaleUpsPerDay: 0 });
  assert.equal(held.best.result.score.scaleUps, 0);
  assert.equal(held.best.result.score.violationMinutes, 0);
  // the limit costs replica-hours: 5 replicas all along, against following the ramps
  assert.equal(held.best.params.minReplicas, '5');
  assert.ok(held.best.result.score.replicaHours > free.best.result.score.replicaHours);
  assert.deepEqual(held.churn, { maxScaleUpsPerDay: 0, winnerScaleUpsPerDay: 0, configuredScaleUpsPerDay: scaleUpsPerDay(held.configured.result, l.stepMs), kept: true });
  // the rate is per day of scored steps
  assert.equal(scaleUpsPerDay(free.best.result, l.stepMs), (free.best.result.score.scaleUps * 86_400_000) / (free.best.result.score.scoredSteps * 15_000));
});

test('the surge stress multiplies demand at evenly spread points, capped by what maxReplicas serve, and skips a trace too short or too full', async () => {
  const { surged } = await import('../../src/sim/tune.js');
  const flat = { start: 0, stepMs: 60_000, values: new Float64Array(100).fill(10) };
  flat.values[50] = -1; // a gap stays a gap
  const out = surged(flat, 20, 1.5, 5, 2, 1000, 1.1)!;
  // 80 steps from 20: surges centred at 20 + 20 and 20 + 60, five steps each
  const raised = [...out.values.keys()].filter((i) => out.values[i] !== flat.values[i]);
  assert.deepEqual(raised, [38, 39, 40, 41, 42, 78, 79, 80, 81, 82]);
  assert.ok(raised.every((i) => out.values[i] === 15));
  assert.equal(out.values[50], -1);
  // capped: only 12 fits, so the surge is ×1.2
  assert.equal(surged(flat, 20, 1.5, 5, 2, 12, 1.1)!.values[40], 12);
  // less than ×1.1 fits: not replayed
  assert.equal(surged(flat, 20, 1.5, 5, 2, 10.5, 1.1), undefined);
  // too few steps to keep the surges apart
  assert.equal(surged(flat, 90, 1.5, 5, 2, 1000, 1.1), undefined);
});

test('a calm trace cannot tell a slow scale-up from a fast one; the surge stress can, and the winner follows a flash crowd', async () => {
  // 2000 rps flat on replicas of 100: policies that differ only in how fast they scale up tie on the trace, and the
  // configured one (1 pod a minute) comes first; a surge to 3000 rps needs several more pods, a minute each at that rate
  const slow = { ...webPolicy('60s'), maxReplicas: 40 };
  slow.hpa = { ...slow.hpa!, behavior: { scaleUp: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } } };
  const s = resolveSetup(slow, new Set(), { firstLoad: 2000 }).setup;
  const calm = { start: Date.UTC(2024, 0, 1), stepMs: 60_000, values: new Float64Array(600).fill(2000) };
  const init = (p: typeof slow) => startReplicas(p, s.workload, s.slo, 2000);
  const t = await tunePolicy(slow, s, calm, { workers: 1, budget: 150, robustTop: 40, maxUsefulMinReplicas: 25, initialReplicas: init });
  const r = t.robustness!;
  const at = r.stresses.findIndex((x) => x.startsWith('surge'));
  assert.ok(at >= 0, r.stresses.join(', '));
  assert.equal(r.robust, true, JSON.stringify(r));
  assert.equal(r.winnerViolationMinutes[at], 0);
  // two surges, each allowed its onset step and the step until a replica asked for then is ready
  assert.equal(r.allowedMinutes[at], 4);
  // replayed under the surges (from the middle of each half, scored apart): the winner misses no more than the
  // allowance in either half, while a candidate it passed over, as safe on the calm trace and no dearer, misses more
  const { surged } = await import('../../src/sim/tune.js');
  const surge = surged(calm, 0, 1.5, 30, 2, 40 * 100, 1.1)!;
  const misses = (p: typeof slow) => simulateService(p, { ...s, initialReplicas: init(p) }, surge, { splitAt: [300] }).parts!.map((x) => x.violationSteps);
  assert.ok(misses(t.best.policy).every((n) => n <= 2), String(misses(t.best.policy)));
  const passed = t.top.filter((c) => c !== t.best && c.result.score.violationMinutes === 0 && c.result.score.replicaHours <= t.best.result.score.replicaHours);
  assert.ok(passed.length > 0);
  assert.ok(passed.some((c) => misses(c.policy).some((n) => n > 2)));
});

test('the growth stress raises demand steadily to its factor at the last step, lowered so that no step goes beyond capacity', async () => {
  const { grown } = await import('../../src/sim/tune.js');
  const flat = { start: 0, stepMs: 60_000, values: Float64Array.from([10, 10, 10, 10, 10, -1, 10]) };
  // from step 1: ×1 there, ×1.5 at the last step, a gap left alone
  const out = grown(flat, 1, 1.5, 1000, 1.1)!;
  assert.deepEqual([...out.values].map((v) => Math.round(v * 1000) / 1000), [10, 10, 11, 12, 13, -1, 15]);
  // a step at 20 in the middle: the growth is lowered until it stays within 22, and the last step does not pass 22
  const bump = { start: 0, stepMs: 60_000, values: Float64Array.from([10, 10, 20, 10, 10]) };
  const capped = grown(bump, 0, 1.5, 22, 1.1)!;
  assert.ok(Math.max(...capped.values) <= 22 + 1e-9, String([...capped.values]));
  assert.ok(Math.abs(capped.values[2]! - 22) < 1e-9);
  // no room for ×1.1: not replayed
  assert.equal(grown(bump, 0, 1.5, 20.5, 1.1), undefined);
});

test('a floor sized to a flat trace, or an HPA tolerance band past the SLO, passes ±10% demand but not growth: the winner keeps up with it', async () => {
  // 1000 rps flat on replicas of 100 with the SLO at 100% utilization: 11 replicas held at target 95 pass 1100 rps,
  // but as demand grows past 1100 the HPA at 95 only acts beyond 104.5% (its 10% tolerance), a step too late
  const p = webPolicy('60s');
  const s = resolveSetup(p, new Set(), { firstLoad: 1000 }).setup;
  const flat = { start: Date.UTC(2024, 0, 1), stepMs: 60_000, values: new Float64Array(600).fill(1000) };
  const init = (q: typeof p, first = 1000) => startReplicas(q, s.workload, s.slo, first);
  const t = await tunePolicy({ ...p, maxReplicas: 40 }, s, flat, { workers: 1, budget: 150, robustTop: 40, maxUsefulMinReplicas: 12, initialReplicas: init });
  const r = t.robustness!;
  const at = r.stresses.findIndex((x) => x.startsWith('growth'));
  assert.ok(at >= 0, r.stresses.join(', '));
  assert.equal(r.robust, true, JSON.stringify({ r, best: t.best.params, top: t.top.map((c) => [c.params, c.result.score.violationMinutes, c.result.score.replicaHours]) }));
  const { grown } = await import('../../src/sim/tune.js');
  const growth = grown(flat, 0, 1.5, 40 * 100, 1.1)!;
  const under = (q: typeof p) => simulateService(q, { ...s, initialReplicas: init(q) }, growth).score.violationMinutes;
  assert.equal(under(t.best.policy), 0);
  // a candidate it passed over, as safe on the flat trace and under ±10%, no dearer, misses under growth
  const passed = t.top.filter((c) => c !== t.best && c.result.score.violationMinutes === 0 && c.result.score.replicaHours <= t.best.result.score.replicaHours);
  assert.ok(passed.some((c) => under(c.policy) > 0), JSON.stringify(passed.map((c) => c.params)));
});

test('a stressed replay starts sized for its own first demand: 10% more demand from the first step is no violation there', async () => {
  // 1000 rps flat, no warm-up: a candidate started for 1000 rps would miss the first step of the ×1.1 replay
  const p = webPolicy('60s');
  const s = resolveSetup(p, new Set(), { firstLoad: 1000 }).setup;
  const flat = { start: Date.UTC(2024, 0, 1), stepMs: 60_000, values: new Float64Array(120).fill(1000) };
  const firsts: Array<number | undefined> = [];
  const t = await tunePolicy(p, s, flat, { workers: 1, budget: 60, initialReplicas: (q, first) => { firsts.push(first); return startReplicas(q, s.workload, s.slo, first); } });
  assert.ok(firsts.includes(1000) && firsts.some((f) => f !== undefined && Math.abs(f - 1100) < 1e-9), String([...new Set(firsts)]));
  const r = t.robustness!;
  // the cheapest safe candidate stays safe under every stress: the check's first round is that one candidate alone,
  // and it stops there instead of replaying a full round of robustTop
  assert.equal(r.checked, 1);
  assert.equal(r.winnerViolationMinutes[r.stresses.indexOf('demand ×1.1')], 0, JSON.stringify(r));
  assert.equal(r.robust, true);
});

test('a tuning part too short to show a daily or weekly cycle is said to be, with how long it is', () => {
  const h = 3_600_000;
  assert.match(shortTuningNote(12 * h)!, /^--tune chose on 12h of traffic, under two days: a daily cycle cannot be found in it .*bursts that come once a day or less often/);
  assert.match(shortTuningNote(48 * h - 60_000)!, /^--tune chose on 1d23h59m of traffic, under two days/);
  assert.match(shortTuningNote(48 * h)!, /^--tune chose on 2d of traffic, under two weeks: a weekly cycle \(weekends\) cannot be found/);
  assert.match(shortTuningNote(5.5 * 24 * h)!, /^--tune chose on 5d12h of traffic, under two weeks/);
  assert.equal(shortTuningNote(14 * 24 * h), undefined);
  assert.equal(shortTuningNote(31 * 24 * h), undefined);
  // a few seconds of traffic still reads as a duration
  assert.match(shortTuningNote(200)!, /^--tune chose on 1s of traffic/);
});

test('strict by default below two days of tuning traffic, and as asked otherwise', () => {
  const day = 86_400_000;
  assert.equal(STRICT_BELOW_MS, 2 * day);
  const short = strictFor(undefined, 12 * 3_600_000);
  assert.equal(short.strict, true);
  assert.match(short.because!, /^the tuning part, 12h, is under two days: it has not shown what comes once or twice a day; --no-tune-strict turns this off$/);
  assert.deepEqual(strictFor(undefined, 2 * day), { strict: false });
  assert.deepEqual(strictFor(undefined, 30 * day), { strict: false });
  assert.deepEqual(strictFor(false, 3_600_000), { strict: false });
  assert.deepEqual(strictFor(true, 30 * day), { strict: true, because: '--tune-strict' });
});

test('a search on three hours of traffic keeps the strict margin unless told not to, and says why', async () => {
  const opts = { workers: 1, budget: 40, robustTop: 1, maxUsefulMinReplicas: 4, initialReplicas: (p: typeof policy) => startReplicas(p, setup.workload, setup.slo, 100) };
  const auto = await tunePolicy(policy, setup, load, opts);
  assert.equal(auto.margin!.strict, true);
  assert.match(auto.margin!.strictBecause!, /under two days/);
  const off = await tunePolicy(policy, setup, load, { ...opts, strict: false });
  assert.equal(off.margin!.strict, false);
  assert.equal(off.margin!.strictBecause, undefined);
  // the same calibration otherwise: strict only ever raises what is required
  assert.deepEqual(off.margin!.checks.map((c) => c.slack), auto.margin!.checks.map((c) => c.slack));
  assert.ok(auto.margin!.required >= off.margin!.required);
});

test('the margin line says how far the checked choices fell on later traffic, and whether the winner keeps that', async () => {
  const { shrinkNote } = await import('../../src/sim/report.js');
  const base = { required: 1.02, checks: [{ slack: 1, candidate: 'x', laterViolationMinutes: 2 }], kept: 3 };
  assert.equal(shrinkNote({ ...base, shrink: 1, strict: false }), '');
  assert.equal(shrinkNote({ ...base, shrink: 1.1222, strict: false }), "; on the traffic after them the checked choices' spare capacity fell by up to ×1.122: --tune-strict keeps that as well, for more replica-hours");
  assert.equal(shrinkNote({ ...base, required: 1.15, shrink: 1.1222, strict: true }), "; on the traffic after them the checked choices' spare capacity fell by up to ×1.122, and the winner keeps that as well (--tune-strict)");
  assert.equal(shrinkNote({ ...base, required: 1.15, shrink: 1.1222, strict: true, strictBecause: 'the tuning part, 12h, is under two days' }), "; on the traffic after them the checked choices' spare capacity fell by up to ×1.122, and the winner keeps that as well (the tuning part, 12h, is under two days)");
});
