// Usage history for `rightsize`: a CSV of per-replica cpu/memory samples, or the service's cpu and memory metrics
// read back over a window from sources that keep history.
import { readFileBounded, MAX_REQUEST_BYTES } from '../bounded-read.js';
import { InputError } from '../errors.js';
import type { ServicePolicy } from '../config/load.js';
import { parseMilli } from '../core/quantity.js';
import type { ResourceNumbers, UsageSample } from '../core/rightsize.js';
import type { LiveSources } from './read-live.js';

export interface UsageHistory {
  /** samples per service (per replica when the data has one row per pod) */
  services: Record<string, UsageSample[]>;
  /** typical spacing between sample times, ms */
  intervalMs?: number;
}

/** Cores from "0.25", "250m"; bytes from "536870912", "512Mi", "1.5Gi". */
function quantity(cell: string, where: string, what: 'cpu' | 'memory'): number {
  try {
    return parseMilli(cell) / 1000;
  } catch {
    throw new InputError(`${where}: ${what} "${cell}" is not a ${what === 'cpu' ? 'cpu amount (0.25 or 250m)' : 'memory amount (bytes, or 512Mi)'}`);
  }
}

function time(cell: string, where: string): number {
  if (/^\d+(\.\d+)?$/.test(cell)) {
    const n = Number(cell);
    // epoch seconds until year 2286; larger numbers are milliseconds
    return n < 1e10 ? n * 1000 : n;
  }
  const t = Date.parse(cell);
  if (!Number.isFinite(t)) throw new InputError(`${where}: time "${cell}" is not an ISO time or epoch seconds/ms`);
  return t;
}

/** Median gap between distinct sample times. */
export function typicalInterval(samples: readonly UsageSample[]): number | undefined {
  const ts = [...new Set(samples.map((s) => s.t))].sort((a, b) => a - b);
  if (ts.length < 2) return undefined;
  const gaps = ts.slice(1).map((t, i) => t - ts[i]!).sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)];
}

/**
 * CSV with a header: time, cpu and/or memory, and optionally service and pod. Without a service column every row
 * belongs to `defaultService`. cpu is cores (or 250m), memory bytes (or 512Mi); an empty cell is a missing value.
 */
export function parseUsageCsv(text: string, file: string, defaultService?: string): UsageHistory {
  const lines = text.split(/\r?\n/).map((l, i) => ({ l: l.trim(), n: i + 1 })).filter((x) => x.l !== '' && !x.l.startsWith('#'));
  if (lines.length === 0) throw new InputError(`${file}: empty; write a header like time,service,pod,cpu,memory and one row per sample`);
  const header = lines[0]!.l.split(',').map((s) => s.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const [ti, si, ci, mi] = [col('time'), col('service'), col('cpu'), col('memory')];
  if (ti < 0) throw new InputError(`${file}:${lines[0]!.n}: the header needs a time column (time,service,pod,cpu,memory)`);
  if (ci < 0 && mi < 0) throw new InputError(`${file}:${lines[0]!.n}: the header needs a cpu and/or memory column`);
  if (si < 0 && !defaultService) throw new InputError(`${file}: no service column; add one or name the service with --service`);
  // names come from the file: no inherited entries (a service may be called constructor)
  const services: Record<string, UsageSample[]> = Object.create(null);
  for (const { l, n } of lines.slice(1)) {
    const cells = l.split(',').map((s) => s.trim());
    const where = `${file}:${n}`;
    if (cells.length !== header.length) throw new InputError(`${where}: ${cells.length} cells, the header has ${header.length}`);
    const s: UsageSample = { t: time(cells[ti]!, where) };
    if (ci >= 0 && cells[ci] !== '') s.cpu = quantity(cells[ci]!, where, 'cpu');
    if (mi >= 0 && cells[mi] !== '') s.memory = quantity(cells[mi]!, where, 'memory');
    const svc = si >= 0 ? cells[si]! : defaultService!;
    (services[svc] ??= []).push(s);
  }
  const all = Object.values(services).flat();
  const intervalMs = typicalInterval(all);
  return { services, ...(intervalMs !== undefined ? { intervalMs } : {}) };
}

export function readUsageCsv(file: string, defaultService?: string): UsageHistory {
  let text: string;
  try {
    text = readFileBounded(file, MAX_REQUEST_BYTES);
  } catch (e) {
    throw new InputError(`--usage ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseUsageCsv(text, file, defaultService);
}

/** The service's current requests and limits as cores and bytes. */
export function currentResources(p: ServicePolicy): ResourceNumbers {
  const out: ResourceNumbers = {};
  for (const field of ['requests', 'limits'] as const) {
    const r = p.resources?.[field];
    if (!r) continue;
    const v: { cpu?: number; memory?: number } = {};
    if (r.cpu !== undefined) v.cpu = parseMilli(r.cpu) / 1000;
    if (r.memory !== undefined) v.memory = parseMilli(r.memory) / 1000;
    out[field] = v;
  }
  return out;
}

const RANGE_KINDS = new Set(['prometheus', 'trace']);

export interface LiveUsage {
  samples: UsageSample[];
  intervalMs: number;
  /** set when nothing usable could be read: why */
  problem?: string;
}

/**
 * Reads the service's `cpu` and `memory` metrics over [now - windowMs, now]. Per-replica series stay separate
 * samples. Usage must come out in cores and bytes: a raw resource metric already is; a percent metric is turned
 * back using the request (cpu) or limit (memory) it is a percent of, and without that it cannot be used.
 */
export async function readUsageLive(p: ServicePolicy, live: LiveSources, now: number, windowMs: number): Promise<LiveUsage> {
  const intervalMs = Math.max(60_000, Math.ceil(windowMs / 10_000 / 60_000) * 60_000);
  const res = currentResources(p);
  const problems: string[] = [];
  const byKey = new Map<string, UsageSample>();
  for (const resource of ['cpu', 'memory'] as const) {
    const m = p.metrics[resource];
    if (!m) {
      problems.push(`services.${p.name}.metrics has no ${resource} metric`);
      continue;
    }
    const src = live.sources[m.source];
    if (!src) {
      problems.push(`${resource}: ${live.broken[m.source] ?? `source ${m.source} is not defined`}`);
      continue;
    }
    if (!RANGE_KINDS.has(src.kind)) {
      problems.push(`${resource}: source ${m.source} (${src.kind}) answers only "now", not a history; use --usage with a CSV export`);
      continue;
    }
    const percent = (m.unit ?? '').toLowerCase() === 'percent' || m.unit === '%';
    const base = resource === 'cpu' ? res.requests?.cpu : res.limits?.memory ?? res.requests?.memory;
    if (percent && base === undefined) {
      problems.push(`${resource} is in percent and services.${p.name}.resources.${resource === 'cpu' ? 'requests.cpu' : 'limits.memory'} is not set, so usage in ${resource === 'cpu' ? 'cores' : 'bytes'} is unknown`);
      continue;
    }
    const toUnit = (v: number) => (percent ? (v / 100) * base! : v);
    try {
      const samples = await src.sample(
        { name: resource, query: m.query, ...(m.params ? { params: m.params } : {}), range: { start: new Date(now - windowMs), end: new Date(now), stepSeconds: intervalMs / 1000 } },
        new Date(now),
      );
      for (const s of samples) {
        if (!Number.isFinite(s.value)) continue;
        const key = `${s.t}|${s.labels.pod ?? s.labels.instance ?? ''}`;
        const u = byKey.get(key) ?? { t: s.t };
        u[resource] = toUnit(s.value);
        byKey.set(key, u);
      }
    } catch (e) {
      problems.push(`${resource}: ${(e as Error).message}`);
    }
  }
  const samples = [...byKey.values()].sort((a, b) => a.t - b.t);
  return { samples, intervalMs, ...(problems.length ? { problem: problems.join('; ') } : {}) };
}
