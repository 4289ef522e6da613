// Capacity probe against a server with a known capacity, and the capacity file simulate/plan read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/cli/output.js';
import { findCapacity, readCapacityFile, writeCapacityFile, type CapacityFile } from '../../src/loadtest/capacity.js';
import { parseGates } from '../../src/loadtest/gates.js';
import { tempDir } from '../helpers/env.js';
import { fastServer, kneeServer } from './servers.js';

test('the probe finds the capacity of a server whose latency jumps above 200 rps', async () => {
  const s = await kneeServer(200);
  const d = tempDir();
  try {
    const t = performance.now();
    const c = await findCapacity({
      url: s.url, gates: parseGates(['p95<100ms', 'errors<1%']), replicas: 2,
      startRps: 100, growth: 2, stepDurationMs: 1500, cooldownMs: 1000, precision: 0.1, maxSteps: 10,
    });
    const took = performance.now() - t;
    assert.ok(c.sustainableRps >= 170 && c.sustainableRps <= 230, `sustainable ${c.sustainableRps}; steps ${JSON.stringify(c.steps.map((x) => [x.targetRps, x.passed, x.p95]))}`);
    assert.equal(c.rpsPerReplica, Math.round((c.sustainableRps / 2) * 100) / 100);
    assert.equal(c.replicas, 2);
    assert.deepEqual(c.gates, ['p95<100ms', 'errors<1%']);
    // ramp 100, 200, 400 (400 breaks; 200 sits on the knee and may go either way), then bisection
    assert.deepEqual(c.steps.slice(0, 2).map((x) => [x.phase, x.targetRps, x.passed]), [['ramp', 100, true], ['ramp', 200, c.steps[1]!.passed]]);
    const ramp = c.steps.filter((x) => x.phase === 'ramp');
    assert.equal(ramp.at(-1)!.passed, false);
    assert.ok(ramp.at(-1)!.targetRps === 200 || ramp.at(-1)!.targetRps === 400);
    assert.ok(c.steps.slice(ramp.length).every((x) => x.phase === 'bisect' && x.targetRps > 100 && x.targetRps < 400));
    const firstBad = Math.min(...c.steps.filter((x) => !x.passed).map((x) => x.targetRps));
    assert.ok(firstBad - c.sustainableRps <= 0.1 * c.sustainableRps + 1e-9, 'bisection narrowed to the precision');
    assert.ok(c.steps.every((x) => x.passed === (x.targetRps <= c.sustainableRps)), 'every rate at or below the answer passed');
    assert.equal(c.note, undefined);
    assert.ok(took < 30_000, `probe took ${took} ms`);
    // the saved file reads back as what simulate/plan consume
    const file = join(d.path, 'capacity.json');
    writeCapacityFile(file, c);
    const back = readCapacityFile(file);
    assert.equal(back.rpsPerReplica, c.rpsPerReplica);
    assert.equal(back.url, s.url);
    assert.equal(back.steps.length, c.steps.length);
    assert.ok(!Number.isNaN(Date.parse(back.measuredAt)));
  } finally {
    await s.close();
    d.cleanup();
  }
});

test('when nothing breaks up to the max rate the probe says so and stops', async () => {
  const s = await fastServer();
  try {
    const c = await findCapacity({ url: s.url, startRps: 20, maxRps: 60, growth: 2, stepDurationMs: 500, cooldownMs: 0 });
    assert.deepEqual(c.steps.map((x) => x.targetRps), [20, 40, 60]);
    assert.equal(c.sustainableRps, 60);
    assert.match(c.note ?? '', /no gate broke up to 60 rps/);
    assert.deepEqual(c.gates, ['p95<500ms', 'errors<1%']);
  } finally {
    await s.close();
  }
});

test('when the first step already breaks a gate the sustainable rate is 0 with advice', async () => {
  const s = await kneeServer(20);
  try {
    const c = await findCapacity({ url: s.url, gates: parseGates(['p95<50ms']), startRps: 100, stepDurationMs: 600, cooldownMs: 0 });
    assert.equal(c.steps.length, 1);
    assert.equal(c.sustainableRps, 0);
    assert.match(c.note ?? '', /start lower with --start-rate/);
  } finally {
    await s.close();
  }
});

test('readCapacityFile explains what is wrong with a file', () => {
  const d = tempDir();
  const good: CapacityFile = {
    url: 'http://127.0.0.1:1/', sustainableRps: 300, rpsPerReplica: 150, replicas: 2, gates: ['p95<300ms'],
    measuredAt: '2025-01-01T00:00:00.000Z', steps: [],
  };
  const write = (name: string, content: string) => { const p = join(d.path, name); writeFileSync(p, content); return p; };
  try {
    assert.equal(readCapacityFile(write('ok.json', JSON.stringify(good))).rpsPerReplica, 150);
    const { replicas: _r, ...old } = good;
    assert.equal(readCapacityFile(write('noreplicas.json', JSON.stringify(old))).replicas, 1);
    const cases: Array<[string, string | undefined, RegExp]> = [
      ['missing.json', undefined, /missing\.json: cannot read it \(ENOENT\); create it with scalepilot loadtest --find-capacity/],
      ['bad.json', '{ not json', /bad\.json: not JSON/],
      ['zero.json', JSON.stringify({ ...good, sustainableRps: 0, rpsPerReplica: 0 }), /zero\.json: rpsPerReplica: must be above 0; the probe found no sustainable rate/],
      ['nofield.json', JSON.stringify({ ...good, rpsPerReplica: undefined }), /nofield\.json: rpsPerReplica: /],
      ['date.json', JSON.stringify({ ...good, measuredAt: 'yesterday' }), /date\.json: measuredAt: must be an ISO date-time/],
      ['steps.json', JSON.stringify({ ...good, steps: [{ phase: 'ramp' }] }), /steps\.json: steps\.0\.targetRps/],
    ];
    for (const [name, content, re] of cases) {
      const p = content === undefined ? join(d.path, name) : write(name, content);
      assert.throws(() => readCapacityFile(p), (e: unknown) => e instanceof InputError && re.test(e.message), name);
    }
  } finally {
    d.cleanup();
  }
});
