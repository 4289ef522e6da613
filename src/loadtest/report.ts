// Presenting load-test and capacity-probe results: the human text summary and the HTML report with charts over time.
import { table } from '../text-table.js';
import { formatDuration } from '../core/duration.js';
import type { Report } from '../report/html.js';
import type { CapacityFile } from './capacity.js';
import type { LoadTestResult } from './engine.js';
import { formatMs, formatPercent } from './gates.js';
import type { LatencySummary } from './stats.js';

const ms = (v: number | null) => (v === null ? '-' : formatMs(v));
const rps = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');

function latencyCells(l: LatencySummary): string[] {
  return [ms(l.p50), ms(l.p90), ms(l.p95), ms(l.p99), ms(l.max)];
}

function modeLine(r: LoadTestResult): string {
  return r.model === 'open'
    ? `open model (arrival rate), latency from the intended send time`
    : `closed model (virtual users)`;
}

/** One-line verdict: the gates, or the worst reading when no gates were given. */
export function verdict(r: LoadTestResult): string {
  if (r.gates.length) {
    const failed = r.gates.filter((g) => !g.passed);
    return failed.length ? `FAILED ${failed.map((g) => `${g.gate} (was ${g.actualText})`).join(', ')}` : `passed ${r.gates.map((g) => g.gate).join(', ')}`;
  }
  return 'no gates given';
}

/** The human view printed by `scalepilot loadtest`. */
export function formatLoadTest(r: LoadTestResult): string {
  const out: string[] = [];
  out.push(`${r.url}  ${modeLine(r)}, ${formatDuration(r.durationMs)}${r.stoppedBy === 'requests' ? ' (request count reached)' : r.stoppedBy === 'signal' ? ' (interrupted)' : ''}`);
  out.push(`${r.requests} requests, ${rps(r.rps)} rps, ${r.errors} errors (${formatPercent(r.errorRate || 0)}), peak ${r.peakActive} ${r.model === 'closed' ? 'VUs' : 'connections'}`);
  if (r.dropped) out.push(`${r.dropped} arrivals dropped: the test ended while they waited for a free connection (raise --max-connections, or the target is saturated)`);
  if (r.interrupted) out.push(`${r.interrupted} requests still in flight at the end were cut off`);
  out.push('');
  const lat: Array<Array<string | number>> = [['latency', 'p50', 'p90', 'p95', 'p99', 'max']];
  lat.push([r.model === 'open' ? 'corrected' : 'all', ...latencyCells(r.latency)]);
  if (r.serviceTime) lat.push(['service time', ...latencyCells(r.serviceTime)]);
  out.push(table(lat));
  if (r.interpretation.length) {
    out.push(table([['reading', 'value', 'level', 'rule'], ...r.interpretation.map((x) => [x.label, x.value, x.level, x.rule])]));
  }
  if (r.stages.length > 1) {
    out.push(table([['stage', 'duration', 'target', 'requests', 'rps', 'errors', 'p50', 'p95', 'p99'],
      ...r.stages.map((s) => [s.stage, formatDuration(s.durationMs), s.target, s.requests, rps(s.rps), s.errors, ms(s.latency.p50), ms(s.latency.p95), ms(s.latency.p99)])]));
  }
  if (r.endpoints.length > 1) {
    out.push(table([['endpoint', 'weight', 'requests', 'errors', 'p50', 'p95', 'p99'],
      ...r.endpoints.map((e) => [e.name, e.weight, e.requests, e.errors, ms(e.latency.p50), ms(e.latency.p95), ms(e.latency.p99)])]));
  }
  const codes = Object.entries(r.statusCodes).map(([k, v]) => `${k}: ${v}`).join(', ');
  out.push(`status codes: ${codes || 'none'}`);
  const kinds = Object.entries(r.errorsByKind).map(([k, v]) => `${k}: ${v}`).join(', ');
  if (kinds) out.push(`errors: ${kinds}`);
  if (r.gates.length) {
    out.push('', table([['gate', 'actual', 'result'], ...r.gates.map((g) => [g.gate, g.actualText, g.passed ? 'pass' : 'FAIL'])]).trimEnd());
  }
  out.push(verdict(r));
  return out.join('\n') + '\n';
}

/** The HTML report for one load test: summary, gates, readings, stages, endpoints and charts over time. */
export function loadTestReport(r: LoadTestResult): Report {
  const x = r.timeline.map((p) => p.t);
  const summary: Array<[string, string]> = [
    ['requests', String(r.requests)],
    ['throughput', `${rps(r.rps)} rps`],
    ['errors', `${r.errors} (${formatPercent(r.errorRate || 0)})`],
    ['p50', ms(r.latency.p50)],
    ['p95', ms(r.latency.p95)],
    ['p99', ms(r.latency.p99)],
    ['max', ms(r.latency.max)],
    ['verdict', r.gates.length ? (r.passed ? 'passed' : 'FAILED') : 'no gates'],
  ];
  const tables: NonNullable<Report['tables']> = [];
  if (r.gates.length) tables.push({ title: 'Gates', header: ['gate', 'actual', 'result'], rows: r.gates.map((g) => [g.gate, g.actualText, g.passed ? 'pass' : 'FAIL']) });
  if (r.interpretation.length) tables.push({ title: 'Reading', header: ['metric', 'value', 'level', 'rule'], rows: r.interpretation.map((i) => [i.label, i.value, i.level, i.rule]) });
  const latHeader = ['requests', 'errors', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'];
  const latRow = (n: number, e: number, l: LatencySummary) => [n, e, ...[l.p50, l.p95, l.p99, l.max].map((v) => (Number.isFinite(v) ? +v.toFixed(3) : '-'))];
  tables.push({
    title: 'Stages', header: ['stage', 'duration', 'target', 'rps', ...latHeader],
    rows: r.stages.map((s) => [s.stage, formatDuration(s.durationMs), s.target, +s.rps.toFixed(1), ...latRow(s.requests, s.errors, s.latency)]),
  });
  tables.push({
    title: 'Endpoints', header: ['endpoint', 'weight', ...latHeader],
    rows: r.endpoints.map((e) => [e.name, e.weight, ...latRow(e.requests, e.errors, e.latency)]),
  });
  tables.push({
    title: 'Responses and errors', header: ['kind', 'count'],
    // HTTP error statuses are already rows of their own; list only transport errors beside them
    rows: [...Object.entries(r.statusCodes).map(([k, v]) => [`HTTP ${k}`, v]),
      ...Object.entries(r.errorsByKind).filter(([k]) => !k.startsWith('HTTP ')).map(([k, v]) => [`error: ${k}`, v])],
  });
  const notes: string[] = [];
  if (r.model === 'open') notes.push('Latency is measured from each request\'s intended send time (coordinated-omission corrected); "service time" is from the actual send.');
  if (r.dropped) notes.push(`${r.dropped} arrivals were dropped while waiting for a free connection.`);
  if (r.interrupted) notes.push(`${r.interrupted} requests were still in flight at the end and were cut off.`);
  return {
    title: `Load test: ${r.url}`,
    subtitle: `${modeLine(r)}; started ${r.startedAt}; ${formatDuration(r.durationMs)}; ${verdict(r)}`,
    summary,
    tables,
    notes,
    charts: [
      { title: 'Throughput', x, series: [
        { label: 'rps', values: r.timeline.map((p) => p.rps), unit: 'req/s' },
        ...(r.model === 'open' ? [{ label: 'target rate', values: r.timeline.map((p) => p.target), unit: 'req/s' }] : []),
      ] },
      { title: 'Latency', x, series: [
        { label: 'p50', values: r.timeline.map((p) => p.p50), unit: 'ms' },
        { label: 'p95', values: r.timeline.map((p) => p.p95), unit: 'ms' },
        { label: 'p99', values: r.timeline.map((p) => p.p99), unit: 'ms' },
      ] },
      { title: 'Errors', x, series: [
        { label: 'errors/s', values: r.timeline.map((p) => p.errors), unit: 'err/s' },
        { label: 'error %', values: r.timeline.map((p) => (p.requests ? +((p.errors / p.requests) * 100).toFixed(3) : null)), unit: '%', axis: 'right' },
      ] },
      { title: r.model === 'closed' ? 'Virtual users' : 'Requests in flight', x, series: [
        { label: r.model === 'closed' ? 'VUs' : 'in flight', values: r.timeline.map((p) => p.active), step: true },
        ...(r.model === 'closed' ? [{ label: 'target VUs', values: r.timeline.map((p) => p.target), step: true }] : []),
      ] },
    ],
  };
}

export function formatCapacity(c: CapacityFile): string {
  const out: string[] = [];
  out.push(table([['step', 'phase', 'target rps', 'achieved', 'p50', 'p95', 'p99', 'errors', 'result'],
    ...c.steps.map((s, i) => [i + 1, s.phase, s.targetRps, s.achievedRps, ms(s.p50), ms(s.p95), ms(s.p99), formatPercent(s.errorRate || 0), s.passed ? 'ok' : `broke: ${s.failed.join('; ')}`])]));
  out.push(`sustainable: ${c.sustainableRps} rps under ${c.gates.join(', ')}` + (c.replicas > 1 ? ` across ${c.replicas} replicas = ${c.rpsPerReplica} rps per replica` : ''));
  if (c.note) out.push(`note: ${c.note}`);
  return out.join('\n') + '\n';
}

export function capacityReport(c: CapacityFile): Report {
  const x = c.steps.map((s) => Math.floor(Date.parse(s.startedAt) / 1000));
  return {
    title: `Capacity probe: ${c.url}`,
    subtitle: `measured ${c.measuredAt}; gates ${c.gates.join(', ')}`,
    summary: [['sustainable rps', String(c.sustainableRps)], ['replicas', String(c.replicas)], ['rps per replica', String(c.rpsPerReplica)], ['steps', String(c.steps.length)]],
    tables: [{
      title: 'Steps', header: ['step', 'phase', 'target rps', 'achieved rps', 'p95 ms', 'p99 ms', 'errors', 'result'],
      rows: c.steps.map((s, i) => [i + 1, s.phase, s.targetRps, s.achievedRps, Number.isFinite(s.p95) ? +s.p95.toFixed(3) : '-', Number.isFinite(s.p99) ? +s.p99.toFixed(3) : '-', formatPercent(s.errorRate || 0), s.passed ? 'ok' : s.failed.join('; ')]),
    }],
    notes: c.note ? [c.note] : [],
    charts: [{ title: 'Steps', x, series: [
      { label: 'target rps', values: c.steps.map((s) => s.targetRps), unit: 'req/s' },
      { label: 'achieved rps', values: c.steps.map((s) => s.achievedRps), unit: 'req/s' },
      { label: 'p95', values: c.steps.map((s) => (Number.isFinite(s.p95) ? s.p95 : null)), unit: 'ms', axis: 'right' },
    ] }],
  };
}
