// Self-contained HTML reports: summary, tables and uPlot charts in one file that opens offline (no CDN, no fetch).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface ReportSeries {
  label: string;
  values: Array<number | null>;
  unit?: string;
  /** Which y axis; series with different units read best on separate axes. */
  axis?: 'left' | 'right';
  /** Draw as a step line (values hold until the next point), e.g. replica counts. */
  step?: boolean;
}

export interface ReportChart {
  title: string;
  /** Unix seconds, ascending; every series has one value per x. */
  x: number[];
  series: ReportSeries[];
}

export interface ReportTable {
  title: string;
  header: string[];
  rows: Array<Array<string | number>>;
}

export interface Report {
  title: string;
  subtitle?: string;
  summary?: Array<[string, string]>;
  tables?: ReportTable[];
  charts?: ReportChart[];
  notes?: string[];
}

export interface UplotAssets {
  js: string;
  css: string;
}

let assets: UplotAssets | undefined;

/**
 * uPlot's browser build and stylesheet, read from the installed package so reports and the dashboard never depend
 * on a network. Resolved from this module so it works from src/ (tsx) and dist/ alike.
 */
export function uplotAssets(): UplotAssets {
  if (assets) return assets;
  const require = createRequire(import.meta.url);
  let dist: string;
  try {
    dist = join(dirname(require.resolve('uplot/package.json')), 'dist');
  } catch {
    throw new Error('uplot is not installed next to scalepilot (node_modules/uplot); reinstall scalepilot with its dependencies');
  }
  assets = {
    js: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8'),
  };
  return assets;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * JSON that is safe inside a <script> element: `<`, `>` and `&` become \u escapes so no string in the data can
 * close the element or open a comment, and U+2028/2029 cannot break older JS parsers. JSON.parse reads it back unchanged.
 */
export function jsonForScript(data: unknown): string {
  return JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Inline script text; a literal `</script` inside code would end the element early, so it is split. */
export function inlineScript(js: string): string {
  return `<script>${js.replace(/<\/(script)/gi, '<\\/$1')}</script>`;
}

/** Inline style text, guarded the same way against `</style`. */
export function inlineStyle(css: string): string {
  return `<style>${css.replace(/<\/(style)/gi, '<\\/$1')}</style>`;
}

/** Page styles shared by reports and the dashboard. */
export const REPORT_CSS = `
:root { color-scheme: light; --fg: #1d2330; --muted: #5c6473; --line: #dde1e8; --bg: #fff; --head: #f4f6f9; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; }
.subtitle { color: var(--muted); margin: 0 0 16px; }
.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 8px; margin: 16px 0; }
.summary div { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.summary dt { color: var(--muted); font-size: 12px; }
.summary dd { margin: 2px 0 0; font-size: 16px; font-weight: 600; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; margin: 4px 0 12px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; }
th { background: var(--head); font-weight: 600; }
td.num { text-align: right; }
.chart { margin: 8px 0 20px; }
.notes { color: var(--muted); }
`;

/**
 * Browser-side chart drawing, shared with the dashboard: defines `scalepilotCharts.render(container, charts)`
 * which draws ReportChart specs with uPlot (which must already be loaded) and returns the uPlot instances.
 */
export const CHART_CLIENT_JS = `
var scalepilotCharts = (function () {
  var palette = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];
  function fmt(v, unit) {
    if (v == null || !isFinite(v)) return '-';
    var a = Math.abs(v);
    // parseFloat drops trailing zeros so ticks read 100, 2.5, 0.125
    var s = String(parseFloat(a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3)));
    return unit ? s + ' ' + unit : s;
  }
  function axisUnit(series, side) {
    var units = [];
    series.forEach(function (s) { var sd = s.axis === 'right' ? 'right' : 'left'; if (sd === side && s.unit && units.indexOf(s.unit) < 0) units.push(s.unit); });
    return units.join(', ');
  }
  function draw(el, spec) {
    var hasRight = spec.series.some(function (s) { return s.axis === 'right'; });
    var leftUnit = axisUnit(spec.series, 'left');
    var rightUnit = axisUnit(spec.series, 'right');
    var series = [{}];
    spec.series.forEach(function (s, i) {
      var color = palette[i % palette.length];
      var d = { label: s.label, stroke: color, width: 1.5, scale: s.axis === 'right' ? 'right' : 'left',
        value: (function (u) { return function (_, v) { return fmt(v, u); }; })(s.unit) };
      if (s.step) d.paths = uPlot.paths.stepped({ align: 1 });
      series.push(d);
    });
    var axes = [{}, { scale: 'left', label: leftUnit || undefined, values: function (_, ticks) { return ticks.map(function (t) { return fmt(t); }); } }];
    if (hasRight) axes.push({ scale: 'right', side: 1, label: rightUnit || undefined, grid: { show: false },
      values: function (_, ticks) { return ticks.map(function (t) { return fmt(t); }); } });
    var width = Math.max(320, (el.clientWidth || 900));
    var opts = { width: width, height: 280, series: series, axes: axes,
      scales: { x: { time: true }, left: { auto: true }, right: { auto: true } } };
    var data = [spec.x].concat(spec.series.map(function (s) { return s.values; }));
    return new uPlot(opts, data, el);
  }
  function render(container, charts) {
    var plots = [];
    charts.forEach(function (spec) {
      var box = document.createElement('div');
      box.className = 'chart';
      var h = document.createElement('h2');
      h.textContent = spec.title;
      var el = document.createElement('div');
      box.appendChild(h);
      box.appendChild(el);
      container.appendChild(box);
      plots.push(draw(el, spec));
    });
    window.addEventListener('resize', function () {
      plots.forEach(function (p) { p.setSize({ width: Math.max(320, p.root.parentNode.clientWidth || 900), height: 280 }); });
    });
    return plots;
  }
  return { render: render, format: fmt };
})();
`;

function checkChart(c: ReportChart, i: number): void {
  for (const s of c.series) {
    if (s.values.length !== c.x.length) {
      throw new Error(`chart ${i + 1} "${c.title}": series "${s.label}" has ${s.values.length} values for ${c.x.length} x points; give one value (or null) per x`);
    }
  }
}

function cell(v: string | number): string {
  return typeof v === 'number' ? `<td class="num">${escapeHtml(String(v))}</td>` : `<td>${escapeHtml(v)}</td>`;
}

/** Renders a report as one HTML document with uPlot and the data inlined. */
export function renderHtmlReport(r: Report): string {
  const charts = r.charts ?? [];
  charts.forEach(checkChart);
  const { js, css } = uplotAssets();
  const parts: string[] = [];
  parts.push('<!doctype html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(r.title)}</title>`, inlineStyle(css), inlineStyle(REPORT_CSS), '</head>', '<body>');
  parts.push(`<h1>${escapeHtml(r.title)}</h1>`);
  if (r.subtitle) parts.push(`<p class="subtitle">${escapeHtml(r.subtitle)}</p>`);
  if (r.summary?.length) {
    parts.push('<dl class="summary">');
    for (const [k, v] of r.summary) parts.push(`<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`);
    parts.push('</dl>');
  }
  if (charts.length) parts.push('<section id="charts"></section>');
  for (const t of r.tables ?? []) {
    parts.push(`<h2>${escapeHtml(t.title)}</h2>`, '<table>', '<thead><tr>');
    for (const h of t.header) parts.push(`<th>${escapeHtml(h)}</th>`);
    parts.push('</tr></thead>', '<tbody>');
    for (const row of t.rows) parts.push(`<tr>${row.map(cell).join('')}</tr>`);
    parts.push('</tbody>', '</table>');
  }
  if (r.notes?.length) {
    parts.push('<h2>Notes</h2>', '<ul class="notes">');
    for (const n of r.notes) parts.push(`<li>${escapeHtml(n)}</li>`);
    parts.push('</ul>');
  }
  if (charts.length) {
    parts.push(`<script type="application/json" id="report-data">${jsonForScript({ charts })}</script>`);
    parts.push(inlineScript(js), inlineScript(CHART_CLIENT_JS));
    parts.push(inlineScript(
      "var reportData = JSON.parse(document.getElementById('report-data').textContent);" +
      "scalepilotCharts.render(document.getElementById('charts'), reportData.charts);" +
      "document.body.setAttribute('data-charts-rendered', String(reportData.charts.length));",
    ));
  }
  parts.push('</body>', '</html>', '');
  return parts.join('\n');
}

/** Reads the embedded chart data back out of a rendered report (used by tests and tools that post-process reports). */
export function readReportData(html: string): { charts: ReportChart[] } | undefined {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  return m ? (JSON.parse(m[1]!) as { charts: ReportChart[] }) : undefined;
}
