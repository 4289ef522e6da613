// Load-test and capacity results rendered as text and as HTML reports, the latter drawn in headless Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLoadTest } from '../../src/loadtest/engine.js';
import { parseGates } from '../../src/loadtest/gates.js';
import { parseStages } from '../../src/loadtest/profile.js';
import { capacityReport, formatCapacity, formatLoadTest, loadTestReport } from '../../src/loadtest/report.js';
import { readReportData, renderHtmlReport } from '../../src/report/html.js';
import type { CapacityFile } from '../../src/loadtest/capacity.js';
import { withReportInChromium } from '../report/chromium.js';
import { errorServer } from './servers.js';

test('a real load test renders as text and as an HTML report with charts over time, drawn in Chromium', async () => {
  const s = await errorServer(50);
  let r;
  try {
    r = await runLoadTest({
      url: s.url, model: 'closed', profile: { start: 0, stages: parseStages('1s:8,1s:8,1s:2') },
      endpoints: [{ path: '/a', weight: 2 }, { path: '/b' }], gates: parseGates(['p95<500ms', 'errors<1%']),
    });
  } finally {
    await s.close();
  }
  const text = formatLoadTest(r);
  assert.match(text, /closed model \(virtual users\)/);
  assert.match(text, /FAILED errors<1% \(was (1\.9\d|2|2\.0\d)%\)/);
  assert.match(text, /GET \/a\s+2\s+\d+/);
  assert.match(text, /status codes: 200: \d+, 500: \d+/);

  const html = renderHtmlReport(loadTestReport(r));
  const data = readReportData(html)!;
  assert.deepEqual(data.charts.map((c) => c.title), ['Throughput', 'Latency', 'Errors', 'Virtual users']);
  assert.deepEqual(data.charts[0]!.x, r.timeline.map((p) => p.t));
  assert.deepEqual(data.charts[0]!.series[0]!.values, r.timeline.map((p) => p.rps));
  assert.deepEqual(data.charts[3]!.series[1]!.values, [8, 8, 2]);
  assert.ok(html.includes('FAILED'));

  await withReportInChromium(html, 'loadtest-report.png', async ({ page, errors, requests }) => {
    await page.waitForSelector('body[data-charts-rendered="4"]', { timeout: 5000 });
    assert.equal(await page.locator('#charts canvas').count(), 4);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
  });
});

test('capacity results render as a step table and a chart', () => {
  const c: CapacityFile = {
    url: 'http://127.0.0.1:1/', sustainableRps: 200, rpsPerReplica: 100, replicas: 2, gates: ['p95<100ms'], measuredAt: '2025-01-01T00:00:00.000Z',
    steps: [
      { phase: 'ramp', targetRps: 100, achievedRps: 100, requests: 100, p50: 1, p95: 2, p99: 3, errorRate: 0, passed: true, failed: [], startedAt: '2025-01-01T00:00:00.000Z', durationMs: 1000 },
      { phase: 'ramp', targetRps: 400, achievedRps: 390, requests: 390, p50: 300, p95: 400, p99: 410, errorRate: 0, passed: false, failed: ['p95<100ms (was 400ms)'], startedAt: '2025-01-01T00:00:02.000Z', durationMs: 1000 },
    ],
  };
  const text = formatCapacity(c);
  assert.match(text, /sustainable: 200 rps under p95<100ms across 2 replicas = 100 rps per replica/);
  assert.match(text, /broke: p95<100ms \(was 400ms\)/);
  const data = readReportData(renderHtmlReport(capacityReport(c)))!;
  assert.deepEqual(data.charts[0]!.x, [1735689600, 1735689602]);
  assert.deepEqual(data.charts[0]!.series.map((x) => x.values), [[100, 400], [100, 390], [2, 400]]);
});
