// How a plan reads: the runbook script's report, then tables (months, phases, limits, quotas) as text or as a
// self-contained HTML page with projection charts.
import { pyFixed } from '../core/capacity/index.js';
import { table } from '../text-table.js';
import { renderHtmlReport, type ReportChart, type ReportTable } from '../report/html.js';
import type { Plan } from './plan.js';

const int = (v: number) => pyFixed(v, 0, true);
const one = (v: number) => pyFixed(v, 1, true);
/** whole numbers stay whole (maxReplicas 10, not 10.0) */
const qty = (v: number) => (Number.isInteger(v) ? int(v) : one(v));
const pct = (v: number) => `${pyFixed(v * 100, 1)}%`;
const months = (m: number | null) => (m === null ? 'never' : m === 0 ? 'now' : m < 1 ? `${pyFixed(m * 30.44, 0)} days` : `${pyFixed(m, 1)} months`);

function monthsTable(p: Plan): ReportTable {
  return {
    title: `Projection (${p.growth.description})`,
    header: ['month', 'date', 'users', 'rps', 'storage GB', 'instances', 'DB connections', 'Redis GB', 'tier'],
    rows: p.months.map((r) => [r.month, r.date ?? '', int(r.users), one(r.rps), one(r.storageGb), r.instances, r.dbConnections, r.redisGb, r.tier]),
  };
}

function phasesTable(p: Plan): ReportTable {
  const tokens = p.phases.some((ph) => ph.tokenQuotaPerMinute !== undefined);
  return {
    title: 'Phases',
    header: ['phase', 'load', 'users', 'rps', 'tier', 'replicas', 'min-max', 'cpu target', 'memory target', 'pool per replica', 'max_connections', 'Redis GB', ...(tokens ? ['token quota/min'] : [])],
    rows: p.phases.map((ph) => [
      ph.name,
      `×${ph.multiplier}`,
      int(ph.users),
      one(ph.rps),
      ph.tier,
      ph.replicas,
      `${ph.minReplicas}-${ph.maxReplicas}`,
      `${ph.cpuTarget}%`,
      `${ph.memoryTarget}%`,
      ph.poolSizePerReplica,
      ph.maxConnections,
      ph.redisGb,
      ...(tokens ? [ph.tokenQuotaPerMinute === undefined ? '-' : int(ph.tokenQuotaPerMinute)] : []),
    ]),
  };
}

function limitsTable(p: Plan): ReportTable {
  return {
    title: 'When each limit is reached',
    header: ['limit', 'value', 'usable', 'demand now', 'reached in', 'date'],
    rows: p.limits.map((l) => [l.limit, qty(l.value), qty(l.usable), qty(l.demandNow), months(l.month), l.date ?? 'never']),
  };
}

function quotasTable(p: Plan): ReportTable {
  return {
    title: `Model-API token quotas (kept under ${pct(p.inputs.tokenCeiling)})`,
    header: ['quota', 'used / quota', 'use', 'ok', 'ceiling reached in', 'date', ...p.phases.map((ph) => `${ph.name} needs`)],
    rows: p.quotas.map((q) => [
      q.name,
      `${int(q.used)} / ${int(q.quota)} per ${q.unit}`,
      pct(q.utilization),
      q.ok ? 'yes' : 'over the ceiling',
      months(q.reached.month),
      q.reached.date ?? 'never',
      ...q.phases.map((ph) => int(ph.requiredQuota)),
    ]),
  };
}

function tables(p: Plan): ReportTable[] {
  return [monthsTable(p), phasesTable(p), ...(p.limits.length ? [limitsTable(p)] : []), ...(p.quotas.length ? [quotasTable(p)] : [])];
}

export function formatPlanText(p: Plan, notes: readonly string[] = []): string {
  const out: string[] = [p.summary, ''];
  if (p.growth.fit) {
    const f = p.growth.fit;
    out.push(`Growth fitted (${f.method}) to ${f.months} months of ${f.column} in ${f.file}: ${p.growth.description}; rmse ${pyFixed(f.rmse, 2)}`, '');
  }
  out.push(`Sizing tier at month ${p.inputs.months}: ${p.tier.reason}${p.tier.setup ? ` → ${p.tier.setup}` : ''}`, '');
  for (const t of tables(p)) {
    out.push(`${t.title}:`);
    out.push(table([t.header.map((h) => h.toUpperCase()), ...t.rows]).trimEnd(), '');
  }
  for (const l of p.limits) out.push(`- ${l.reason}`);
  for (const q of p.quotas) out.push(`- ${q.reached.reason}`);
  for (const n of notes) out.push(`note: ${n}`);
  return out.join('\n').trimEnd() + '\n';
}

function unix(date: string | undefined, fallback: number): number {
  return date ? Date.parse(`${date}T00:00:00Z`) / 1000 : fallback;
}

export function planCharts(p: Plan): ReportChart[] {
  const x = p.months.map((r, i) => unix(r.date, i * 30 * 86400));
  const flat = (v: number | undefined) => (v === undefined ? undefined : p.months.map(() => v));
  const limit = (name: string) => p.limits.find((l) => l.limit === name);
  const maxReplicas = limit('maxReplicas');
  const maxConnections = limit('maxConnections');
  const charts: ReportChart[] = [
    {
      title: 'Users and requests per second',
      x,
      series: [
        { label: 'users', values: p.months.map((r) => r.users) },
        { label: 'rps', values: p.months.map((r) => r.rps), unit: 'rps', axis: 'right' },
      ],
    },
    {
      title: 'Instances and database connections',
      x,
      series: [
        { label: 'instances', values: p.months.map((r) => r.instances), step: true },
        ...(maxReplicas ? [{ label: 'maxReplicas', values: flat(maxReplicas.value)!, step: true }] : []),
        { label: 'DB connections', values: p.months.map((r) => r.dbConnections), axis: 'right' as const, step: true },
        ...(maxConnections ? [{ label: 'usable max_connections', values: flat(maxConnections.usable)!, axis: 'right' as const, step: true }] : []),
      ],
    },
    {
      title: 'Storage and Redis memory',
      x,
      series: [
        { label: 'storage', values: p.months.map((r) => r.storageGb), unit: 'GB' },
        { label: 'Redis', values: p.months.map((r) => r.redisGb), unit: 'GB', axis: 'right', step: true },
      ],
    },
  ];
  return charts;
}

export function renderPlanHtml(p: Plan, notes: readonly string[] = []): string {
  const first = p.months[0]!;
  const last = p.months[p.months.length - 1]!;
  return renderHtmlReport({
    title: `Capacity plan${p.service ? `: ${p.service}` : ''}`,
    subtitle: `${p.inputs.months} months from ${p.inputs.start}, ${p.growth.description}`,
    summary: [
      ['users', `${int(first.users)} → ${int(last.users)}`],
      ['rps', `${one(first.rps)} → ${one(last.rps)}`],
      ['instances', `${first.instances} → ${last.instances}`],
      ['DB connections', `${first.dbConnections} → ${last.dbConnections}`],
      ['storage', `${one(first.storageGb)} → ${one(last.storageGb)} GB`],
      ['Redis', `${first.redisGb} → ${last.redisGb} GB`],
      ['tier', p.tier.tier],
      ['application', p.setup.application],
      ['database', p.setup.database],
      ['redis', p.setup.redis],
    ],
    tables: tables(p),
    charts: planCharts(p),
    notes: [...p.summary.split('\n').filter((l) => l.trim() !== '' && !/^=+$/.test(l)), ...p.limits.map((l) => l.reason), ...p.quotas.map((q) => q.reached.reason), ...notes],
  });
}
