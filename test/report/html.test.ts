// The HTML report renderer: self-contained output, safe escaping, data round-trip, and real rendering in Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderHtmlReport, readReportData, jsonForScript, escapeHtml, uplotAssets, type Report } from '../../src/report/html.js';
import { withReportInChromium } from './chromium.js';

const t0 = 1_700_000_000;
const x = Array.from({ length: 60 }, (_, i) => t0 + i);
const sample: Report = {
  title: 'Load test <script>alert(1)</script> & "quotes"',
  subtitle: 'GET http://127.0.0.1:8080/ for 60s',
  summary: [['requests', '6000'], ['p99', '<b>12 ms</b>']],
  tables: [{ title: 'Latency <by> endpoint', header: ['endpoint', 'p50 ms'], rows: [['/a</td>', 1.5], ['/b', 2]] }],
  charts: [
    {
      title: 'Throughput',
      x,
      series: [
        { label: 'rps', values: x.map((_, i) => 100 + i), unit: 'req/s' },
        { label: 'VUs', values: x.map((_, i) => (i < 30 ? i : null)), axis: 'right', step: true },
      ],
    },
    {
      title: 'Latency </script><script>window.pwned=1</script>',
      x,
      series: [{ label: 'p99 </script>', values: x.map((_, i) => i * 0.5), unit: 'ms' }],
    },
  ],
  notes: ['coordinated omission <corrected>'],
};

test('output is self-contained: no external scripts, styles or fetches', () => {
  const html = renderHtmlReport(sample);
  assert.doesNotMatch(html, /<script[^>]+src=/i);
  assert.doesNotMatch(html, /<link[^>]+href=/i);
  assert.doesNotMatch(html, /@import/i);
  assert.doesNotMatch(html, /\b(src|href)\s*=\s*["']?https?:/i);
  assert.doesNotMatch(html, /\bfetch\(/);
  // uPlot itself is inlined
  assert.ok(html.includes(uplotAssets().js.slice(0, 200)), 'uPlot JS inlined');
  assert.ok(html.includes('.uplot'), 'uPlot CSS inlined');
});

test('titles, table cells, summary and notes are escaped', () => {
  const html = renderHtmlReport(sample);
  assert.ok(!html.includes('<script>alert(1)</script>'));
  assert.ok(html.includes('Load test &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;'));
  assert.ok(html.includes('&lt;b&gt;12 ms&lt;/b&gt;'));
  assert.ok(html.includes('/a&lt;/td&gt;'));
  assert.ok(html.includes('coordinated omission &lt;corrected&gt;'));
  // the only </script> occurrences are the ones the renderer wrote itself
  const closes = html.match(/<\/script>/gi)?.length ?? 0;
  const opens = html.match(/<script[\s>]/gi)?.length ?? 0;
  assert.equal(closes, opens);
  assert.ok(!html.includes('window.pwned=1</script>'));
});

test('chart data round-trips exactly through the embedded JSON', () => {
  const html = renderHtmlReport(sample);
  const data = readReportData(html);
  assert.deepEqual(data, { charts: sample.charts });
});

test('jsonForScript escapes every character that could end the element, and parses back', () => {
  const cases: unknown[] = ['</script>', '<!--', ']]>', 'a&b', '\u2028\u2029', { k: '</SCRIPT >' }, [1, null, 'é']];
  for (const c of cases) {
    const s = jsonForScript(c);
    assert.doesNotMatch(s, /[<>&\u2028\u2029]/);
    assert.deepEqual(JSON.parse(s), c);
  }
});

test('escapeHtml covers the five special characters', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});

test('a series with the wrong number of values is refused with a clear message', () => {
  assert.throws(
    () => renderHtmlReport({ title: 't', charts: [{ title: 'c', x: [1, 2, 3], series: [{ label: 's', values: [1] }] }] }),
    /chart 1 "c": series "s" has 1 values for 3 x points/,
  );
});

test('renders in headless Chromium: a canvas per chart, no console errors, no network', () =>
  withReportInChromium(renderHtmlReport(sample), 'report-html.png', async ({ page, errors, requests }) => {
    await page.waitForSelector('body[data-charts-rendered="2"]', { timeout: 5000 });
    assert.equal(await page.locator('#charts canvas').count(), 2);
    const legend = await page.locator('.u-legend').first().textContent();
    assert.match(legend ?? '', /rps/);
    // the test config has no DOM types; globalThis is the window in the page
    assert.equal(await page.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined);
    assert.equal(await page.title(), sample.title);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
  }));
