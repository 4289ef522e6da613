// Trace alignment: gaps are held for at most one trace interval, then reported as no-data; bad rows are listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTraceCsv } from '../../src/metrics/trace.js';
import { alignTrace, describeProblem } from '../../src/sim/align.js';

function align(csv: string, stepMs = 15_000) {
  const trace = parseTraceCsv(csv, 'web.csv');
  const series = [...trace.series.values()][0]!;
  const problems = trace.problems.filter((p) => p.kind === 'row').map((p) => describeProblem(trace.file, p));
  return alignTrace(series, { stepMs, source: 'web.csv', problems });
}

const values = (v: Float64Array) => Array.from(v, (x) => (Number.isNaN(x) ? null : x));

test('a clean trace at the simulation step replays value for value', () => {
  const { series, report } = align('t_seconds,value\n0,10\n15,20\n30,30\n45,40\n');
  assert.deepEqual(values(series.values), [10, 20, 30, 40]);
  assert.equal(series.start, 0);
  assert.equal(report.intervalMs, 15_000);
  assert.deepEqual([report.heldSteps, report.noDataSteps, report.gaps.length, report.problems.length], [0, 0, 0, 0]);
});

test('a coarser trace holds each sample for its own interval (not a gap)', () => {
  const { series, report } = align('0,10\n60,20\n120,30\n');
  assert.deepEqual(values(series.values), [10, 10, 10, 10, 20, 20, 20, 20, 30, 30, 30, 30]);
  assert.equal(report.heldSteps, 0);
  assert.equal(report.gaps.length, 0);
});

test('a finer trace: each step is the mean of the samples in it, not the one at its start, and the report says so', () => {
  // 5 s samples at a 15 s step: a 5 s burst (the second sample) counts for its third of the step
  const { series, report } = align('t_seconds,value\n0,10\n5,40\n10,10\n15,20\n20,20\n25,50\n30,30\n', 15_000);
  assert.deepEqual(values(series.values), [20, 30, 30]);
  assert.equal(report.intervalMs, 5_000);
  assert.equal(report.averagedSteps, 3);
  assert.deepEqual([report.heldSteps, report.noDataSteps, report.gaps.length], [0, 0, 0]);
  // a gap in a finer trace is still a gap: the last value is held for one interval, then no data
  const gap = align('t_seconds,value\n0,10\n5,20\n10,30\n60,40\n65,50\n70,60\n', 15_000);
  assert.deepEqual(values(gap.series.values), [20, 30, null, null, 50]);
  assert.equal(gap.report.noDataSteps, 2);
  // a trace at the step or coarser is not averaged (and says nothing about it)
  assert.equal(align('0,10\n60,20\n').report.averagedSteps, undefined);
});

const gapCases: Array<{ name: string; csv: string; expect: Array<number | null>; held: number; noData: number; missing: number }> = [
  {
    name: 'one missing sample: held for one interval, nothing unscored',
    csv: '0,10\n15,20\n45,40\n60,50\n',
    expect: [10, 20, 20, 40, 50],
    held: 1,
    noData: 0,
    missing: 1,
  },
  {
    name: 'three missing samples: one held, two no-data',
    csv: '0,10\n15,20\n75,60\n90,70\n',
    expect: [10, 20, 20, null, null, 60, 70],
    held: 1,
    noData: 2,
    missing: 3,
  },
];

for (const c of gapCases) {
  test(`gap: ${c.name}`, () => {
    const { series, report } = align(c.csv);
    assert.deepEqual(values(series.values), c.expect);
    assert.equal(report.heldSteps, c.held);
    assert.equal(report.noDataSteps, c.noData);
    assert.equal(report.gaps.length, 1);
    assert.deepEqual({ ...report.gaps[0]! }, { after: 15, before: c.csv.includes('75,') ? 75 : 45, missingSamples: c.missing, heldSteps: c.held, noDataSteps: c.noData });
    assert.match(report.treatment, /held for at most one more interval/);
  });
}

test('bad rows are reported with their line and left out (the hole they leave is a gap)', () => {
  const csv = ['t_seconds,value', '0,10', '15,abc', '30,30', '45', '60,-5', '75,60', '90,70'].join('\n');
  const { series, report } = align(csv);
  // the trace's interval is 15 s: t=15 is held from t=0; t=45 is held from t=30; t=60 (negative) is a second
  // missing sample in a row, so it is no-data rather than a guess
  assert.deepEqual(values(series.values), [10, 10, 30, 30, null, 60, 70]);
  assert.deepEqual([report.heldSteps, report.noDataSteps, report.gaps.length], [2, 1, 2]);
  const where = report.problems.map((p) => p.where);
  assert.deepEqual(where.slice(0, 2), ['web.csv:3', 'web.csv:5']);
  assert.match(report.problems[0]!.problem, /value "abc" is not a finite number/);
  assert.match(report.problems[1]!.problem, /has 1 fields, expected 2/);
  assert.match(report.problems[2]!.problem, /value -5 is negative/);
  assert.equal(report.problems.length, 3);
});

test('an all-bad trace fails with the reason instead of simulating nothing', () => {
  assert.throws(() => align('0,-1\n15,-2\n'), /no usable samples/);
});

test('cropping to a range keeps the grid on the requested start', () => {
  const trace = parseTraceCsv('0,1\n15,2\n30,3\n45,4\n60,5\n', 'x.csv');
  const s = trace.series.get('value')!;
  const { series } = alignTrace(s, { stepMs: 15_000, source: 'x.csv', start: 15_000, end: 60_000 });
  assert.deepEqual(values(series.values), [2, 3, 4]);
  assert.equal(series.start, 15_000);
});

test('a time past any date is a bad row, and one wild time that makes the span too long is named as the cause', () => {
  // once: t=1e308 was a point, and the span "Infinityd" asked for --step Infinityd
  const past = parseTraceCsv('t_seconds,value\n0,10\n60,20\n1e308,30\n', 'web.csv');
  assert.deepEqual([...past.series.values()][0]!.values.length, 2);
  const d = describeProblem('web.csv', past.problems[0]!);
  assert.equal(d.where, 'web.csv:4');
  assert.match(d.problem, /time 1e\+308 is past any date/);
  // t=1e12 is a date (in the year 33658), but the jump to it is almost all of the span
  assert.throws(() => align('t_seconds,value\n0,10\n60,20\n120,30\n1000000000000,40\n'), /most of that is one jump from t=120 to t=1000000000000 s, so check the trace's time column there/);
  // a long trace without a wild jump gets only the --step advice
  assert.throws(() => align('t_seconds,value\n0,10\n1000000000,20\n2000000000,30\n3000000000,40\n'), (e: Error) => /use --step/.test(e.message) && !/one jump/.test(e.message));
});
