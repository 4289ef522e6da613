// Trace parsing (CSV/JSON tables with bad rows and gaps) and the trace source's step lookup.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MetricConfigError } from '../../src/metrics/config.js';
import { parseTraceConfig, parseTraceCsv, parseTraceJson, traceValueAt, TraceSource } from '../../src/metrics/trace.js';
import { MetricError } from '../../src/metrics/types.js';
import { tempDir } from '../helpers/env.js';

function points(text: string, series = 'value') {
  const t = parseTraceCsv(text, 't.csv');
  const s = t.series.get(series);
  return { trace: t, pts: s ? [...s.t].map((x, i) => [x / 1000, s.values[i]]) : undefined };
}

describe('parseTraceCsv', () => {
  const cases: Array<{ name: string; csv: string; series: Record<string, Array<[number, number]>>; problems: Array<[number, 'row' | 'gap', RegExp]> }> = [
    { name: 'header, one series', csv: 't_seconds,value\n0,1\n60,2\n120,3\n', series: { value: [[0, 1], [60, 2], [120, 3]] }, problems: [] },
    { name: 'no header, comments, blank lines, CRLF', csv: '# recorded 2024-05-01\r\n\r\n0,1.5\r\n# mid comment\r\n15,2.5\r\n30,-1e2\r\n', series: { value: [[0, 1.5], [15, 2.5], [30, -100]] }, problems: [] },
    { name: 'wide, one series per column', csv: 't,web,worker\n0,10,1\n10,20,2\n', series: { web: [[0, 10], [10, 20]], worker: [[0, 1], [10, 2]] }, problems: [] },
    { name: 'wide without header', csv: '0,1,2\n5,3,4\n', series: { value1: [[0, 1], [5, 3]], value2: [[0, 2], [5, 4]] }, problems: [] },
    { name: 'long format', csv: 't_seconds,service,value\n0,web,1\n0,db,5\n30,web,2\n30,db,6\n', series: { web: [[0, 1], [30, 2]], db: [[0, 5], [30, 6]] }, problems: [] },
    {
      name: 'bad rows are reported with their line and left out',
      csv: 't_seconds,value\n0,1\n10,abc\n20,3\n30\n40,NaN\nfoo,5\n50,6\n60,7,8\n70,8\n',
      series: { value: [[0, 1], [20, 3], [50, 6], [70, 8]] },
      problems: [[3, 'row', /not a finite number/], [5, 'row', /2 fields|has 1 fields/], [6, 'row', /"NaN" is not a finite/], [7, 'row', /time "foo"/], [9, 'row', /has 3 fields/]],
    },
    {
      name: 'times out of order or repeated',
      csv: '0,1\n10,2\n10,3\n5,4\n20,5\n',
      series: { value: [[0, 1], [10, 2], [20, 5]] },
      problems: [[3, 'row', /repeats/], [4, 'row', /is before/]],
    },
    {
      name: 'a gap is reported at the row after it',
      csv: 't,value\n0,1\n60,2\n120,3\n480,4\n540,5\n',
      series: { value: [[0, 1], [60, 2], [120, 3], [480, 4], [540, 5]] },
      problems: [[5, 'gap', /gap of 360 s between t=120 and t=480/]],
    },
    {
      name: 'a bad value in one column of a wide row keeps the other columns',
      csv: 't,a,b\n0,1,1\n10,x,2\n20,3,3\n',
      series: { a: [[0, 1], [20, 3]], b: [[0, 1], [10, 2], [20, 3]] },
      problems: [[3, 'row', /series a: value "x"/]],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const t = parseTraceCsv(c.csv, 't.csv');
      assert.deepEqual([...t.series.keys()].sort(), Object.keys(c.series).sort());
      for (const [name, want] of Object.entries(c.series)) {
        const s = t.series.get(name)!;
        assert.deepEqual([...s.t].map((x, i) => [x / 1000, s.values[i]]), want, name);
      }
      assert.equal(t.problems.length, c.problems.length, JSON.stringify(t.problems));
      c.problems.forEach(([line, kind, re], i) => {
        assert.equal(t.problems[i]!.line, line, JSON.stringify(t.problems[i]));
        assert.equal(t.problems[i]!.kind, kind);
        assert.match(t.problems[i]!.problem, re);
      });
    });
  }

  test('files without data or with a broken header fail naming the file and line', () => {
    assert.throws(() => parseTraceCsv('# only comments\n\n', 'empty.csv'), (e: unknown) => e instanceof MetricConfigError && /empty\.csv: holds no data rows/.test(e.message));
    assert.throws(() => parseTraceCsv('t\n0\n', 'x.csv'), /x\.csv:1: the header has only a time column/);
    assert.throws(() => parseTraceCsv('t,a,a\n0,1,2\n', 'x.csv'), /x\.csv:1: the header names column a twice/);
  });

  test('no value is held across a bad row: its interval answers a miss', () => {
    const t = parseTraceCsv('t,a,b\n0,1,1\n10,x,2\n20,3,3\n', 't.csv');
    const a = t.series.get('a')!;
    const b = t.series.get('b')!;
    assert.deepEqual(traceValueAt(a, 0), { value: 1, index: 0 });
    assert.match((traceValueAt(a, 15_000) as { miss: string }).miss, /gap/);
    assert.deepEqual(traceValueAt(a, 20_000), { value: 3, index: 1 });
    assert.deepEqual(traceValueAt(b, 15_000), { value: 2, index: 1 });
  });

  test('step is the median spacing, so one late sample is not a gap', () => {
    const { trace } = points('0,1\n15,1\n31,1\n45,1\n60,1\n');
    assert.equal(trace.series.get('value')!.stepMs, 15_000);
    assert.deepEqual(trace.problems, []);
  });
});

describe('parseTraceJson', () => {
  test('series object, bare list, and point objects', () => {
    const a = parseTraceJson('{"series": {"web": [[0, 1], [10, 2]], "db": [{"t": 0, "value": 3}, {"t": 10, "value": "4"}]}}');
    assert.deepEqual([...a.series.get('web')!.values], [1, 2]);
    assert.deepEqual([...a.series.get('db')!.values], [3, 4]);
    const b = parseTraceJson('[[0, 5], [1, 6]]');
    assert.deepEqual([...b.series.get('value')!.t], [0, 1000]);
    const c = parseTraceJson('{"web": [[0, 1], [5, null], [10, 3]]}');
    assert.deepEqual([...c.series.get('web')!.values], [1, 3]);
    assert.equal(c.problems.length, 1);
    assert.equal(c.problems[0]!.where, 'web[1]');
    assert.match(c.problems[0]!.problem, /value null is not a finite number/);
  });

  test('a saved Prometheus query_range answer, named by a label, NaN points reported', () => {
    const prom = JSON.stringify({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          { metric: { service: 'web' }, values: [[1714557600, '1'], [1714557615, 'NaN'], [1714557630, '3']] },
          { metric: { service: 'db' }, values: [[1714557600, '7'], [1714557615, '8']] },
        ],
      },
    });
    const t = parseTraceJson(prom, 'p.json', { seriesLabel: 'service' });
    assert.deepEqual([...t.series.get('web')!.values], [1, 3]);
    assert.equal(t.series.get('web')!.t[0], 1714557600_000);
    assert.match((traceValueAt(t.series.get('web')!, 1714557620_000) as { miss: string }).miss, /gap/);
    assert.deepEqual([...t.series.get('db')!.values], [7, 8]);
    assert.equal(t.problems.filter((p) => p.kind === 'row').length, 1);
    assert.equal(t.problems[0]!.where, 'data.result[0].values[1]');
    const unnamed = parseTraceJson(prom, 'p.json');
    assert.deepEqual([...unnamed.series.keys()], ['{service="web"}', '{service="db"}']);
  });

  test('not JSON fails naming the file', () => {
    assert.throws(() => parseTraceJson('{', 'bad.json'), /bad\.json: is not JSON/);
  });
});

describe('traceValueAt (step interpolation, no extrapolation)', () => {
  const { trace } = points('0,10\n60,20\n120,30\n480,40\n540,50\n');
  const s = trace.series.get('value')!;
  const cases: Array<[number, number | RegExp]> = [
    [0, 10], [59.999, 10], [60, 20], [119, 20], [120, 30], [120.5, /gap/], [300, /gap/], [480, 40], [540, 50],
    [-1, /before the trace starts/], [540.001, /after the trace ends/],
  ];
  for (const [tSec, want] of cases) {
    test(`t=${tSec}`, () => {
      for (const hint of [0, 2, 4, 99]) {
        const r = traceValueAt(s, tSec * 1000, hint);
        if (typeof want === 'number') assert.deepEqual('value' in r ? r.value : r.miss, want, `hint ${hint}`);
        else assert.match('miss' in r ? r.miss : String(r.value), want, `hint ${hint}`);
      }
    });
  }
});

describe('TraceSource', () => {
  test('answers at now relative to start; errors past the end; range reads step through', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'web.csv');
      writeFileSync(file, 't_seconds,web,db\n0,1,100\n30,2,200\n60,3,300\n');
      const cfg = parseTraceConfig({ type: 'trace', file: 'web.csv', start: '2024-05-01T00:00:00Z' }, 'sources.trace', { baseDir: dir.path });
      const src = TraceSource.fromConfig('trace', cfg);
      const start = Date.parse('2024-05-01T00:00:00Z');
      const at = (s: number) => new Date(start + s * 1000);
      assert.deepEqual(await src.sample({ name: 'rps', query: 'web' }, at(45)), [{ labels: { series: 'web' }, t: start + 45_000, value: 2 }]);
      assert.equal((await src.sample({ name: 'rps', query: 'db' }, at(60)))[0]!.value, 300);
      await assert.rejects(src.sample({ name: 'rps', query: 'web' }, at(61)), (e: unknown) => e instanceof MetricError && !e.retryable && /after the trace ends/.test(e.message));
      await assert.rejects(src.sample({ name: 'rps', query: 'nope' }, at(0)), /no series "nope"/);
      const range = await src.sample({ name: 'rps', query: 'web', range: { start: at(0), end: at(60), stepSeconds: 15 } }, at(60));
      assert.deepEqual(range.map((r) => r.value), [1, 1, 2, 2, 3]);
      assert.throws(() => src.checkQuery({ name: 'rps', query: 'api' }, 'services.x.metrics.rps'), /services\.x\.metrics\.rps\.query: the trace .* has no series "api"; it has web, db/);
    } finally {
      dir.cleanup();
    }
  });

  test('strict loading refuses bad rows with file:line; strict: false keeps them as problems', async () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir.path, 'bad.csv'), '0,1\n10,x\n20,3\n');
      const strict = parseTraceConfig({ type: 'trace', file: 'bad.csv' }, 'sources.t', { baseDir: dir.path });
      assert.throws(() => TraceSource.fromConfig('t', strict, 'sources.t'), (e: unknown) => e instanceof MetricConfigError && /sources\.t\.file: 1 bad row/.test(e.message) && /bad\.csv:2: series value: value "x"/.test(e.message));
      const loose = parseTraceConfig({ type: 'trace', file: 'bad.csv', strict: false }, 'sources.t', { baseDir: dir.path });
      const src = TraceSource.fromConfig('t', loose);
      assert.deepEqual(src.problems.map((p) => [p.line, p.kind]), [[2, 'row']]);
      await assert.rejects(src.sample({ name: 'v', query: 'value' }, new Date(12_000)), /gap/);
    } finally {
      dir.cleanup();
    }
  });

  const configCases: Array<[string, unknown, RegExp]> = [
    ['file missing', { type: 'trace' }, /sources\.t\.file: is required; add e\.g\. file: traces\/web\.csv/],
    ['bad start', { type: 'trace', file: 'x.csv', start: 'yesterday' }, /sources\.t\.start: must be a date-time/],
    ['bad format', { type: 'trace', file: 'x.csv', format: 'xml' }, /sources\.t\.format: must be one of csv, json/],
    ['bad maxGap', { type: 'trace', file: 'x.csv', maxGap: 'soon' }, /sources\.t\.maxGap: "soon" is not a duration/],
    ['unknown field', { type: 'trace', file: 'x.csv', loop: true }, /sources\.t\.loop: unknown field; known fields here are/],
  ];
  for (const [name, raw, re] of configCases) {
    test(`config: ${name}`, () => assert.throws(() => parseTraceConfig(raw, 'sources.t'), re));
  }
  test('config: missing file is a config error', () => {
    const cfg = parseTraceConfig({ type: 'trace', file: '/nonexistent/x.csv' }, 'sources.t');
    assert.throws(() => TraceSource.fromConfig('t', cfg), /cannot read the trace: ENOENT/);
  });

  test('1,000 series sampled 100 times each stays cheap (bounded, not timed)', () => {
    const rows: string[] = ['t_seconds,series,value'];
    for (let t = 0; t <= 3600; t += 15) for (let s = 0; s < 1000; s++) rows.push(`${t},svc${s},${(t + s) % 97}`);
    const trace = parseTraceCsv(rows.join('\n'), 'big.csv');
    assert.equal(trace.series.size, 1000);
    const src = new TraceSource('big', trace);
    let sum = 0;
    for (let i = 0; i < 100; i++) {
      for (let s = 0; s < 1000; s++) sum += src.sampleSync({ name: 'x', query: `svc${s}` }, new Date(i * 30_000))[0]!.value;
    }
    // value at t is (floor(t/15)*15 + s) % 97; recompute independently
    let want = 0;
    for (let i = 0; i < 100; i++) for (let s = 0; s < 1000; s++) want += (Math.floor((i * 30) / 15) * 15 + s) % 97;
    assert.equal(sum, want);
  });
});
