// Plan inputs: a plan file (YAML or JSON, the format below), a service's limits from scalepilot.yaml, and flags,
// merged in that order (flags win). The config schema has no plan section, so these live in their own file.
//
//   service: voiceassist-server      the config service whose maxReplicas / limits.* the plan checks (with --config)
//   users: 1000                      today's users, rps and storage
//   rps: 50
//   storage: 10GB
//   growth: 1.5                      a monthly factor, {linear: 0.2} (+20% of today a month), or a fit from history:
//                                    {fit: exponential | linear | holt-winters, history: history.csv, season: 12}
//   months: 6
//   start: 2025-11-21                month 0 (default today)
//   rpsPerInstance: 50
//   connectionsPer1000Users: 100
//   redisGbPer10000Users: 1
//   connectionHeadroom: 0.3          share of max_connections kept free
//   tokensPerRequest: 1500           model-API tokens one request uses
//   tokenCeiling: 0.85               share of a token quota that may be used
//   limits: {maxReplicas: 10, maxConnections: 200, tokenQuotaPerMinute: 90000, storage: 500GB, redisMemory: 4GB}
//   quotas:                          named model-API quotas with today's use (per day or per minute)
//     - {name: anthropic, tokensPerDay: 2000000, usedPerDay: 1500000}
//   phases:                          rollout phases as multiples of today's load (default pilot, 10x, 100x)
//     - {name: pilot, multiplier: 1, cpuTarget: 70, memoryTarget: 75}
//   minReplicas: 2                   phases never go below this
//   burstFactor: 2                   phase maxReplicas = replicas × this
//   tiers: {users: {medium: 50, large: 200, enterprise: 1000}, setup: {small: "2 API replicas", ...}}
//   setup: {loadBalancerUpToInstances: 5, readReplicasAboveConnections: 150, redisClusterAboveGb: 4}
import { readFileBounded, MAX_REQUEST_BYTES } from '../bounded-read.js';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../errors.js';
import type { ServicePolicy } from '../config/load.js';
import type { PhaseSpec, SetupThresholds, Tier, TierBounds } from '../core/capacity/index.js';
import { isDateMs } from '../core/duration.js';

export type GrowthInput =
  | { kind: 'compound'; monthlyFactor: number }
  | { kind: 'linear'; monthlyIncrease: number }
  | { kind: 'fit'; method: 'linear' | 'exponential' | 'holt-winters'; history: string; column?: string; season?: number };

export interface QuotaInput {
  name: string;
  /** tokens per minute; per-day quotas are divided by 1440 */
  quotaPerMinute: number;
  usedPerMinute: number;
  /** how the quota was written, so reports speak the operator's unit */
  unit: 'day' | 'minute';
}

export interface PlanInputs {
  service?: string;
  users?: number;
  rps?: number;
  storageGb?: number;
  growth?: GrowthInput;
  months?: number;
  /** epoch ms of month 0 */
  start?: number;
  rpsPerInstance?: number;
  connectionsPer1000Users?: number;
  redisGbPer10000Users?: number;
  connectionHeadroom?: number;
  tokensPerRequest?: number;
  tokenCeiling?: number;
  limits: { maxReplicas?: number; maxConnections?: number; tokenQuotaPerMinute?: number; storageGb?: number; redisGb?: number };
  quotas: QuotaInput[];
  phases?: PhaseSpec[];
  minReplicas?: number;
  burstFactor?: number;
  tiers?: { users?: Partial<TierBounds>; rps?: Partial<TierBounds>; setup?: Partial<Record<Tier, string>> };
  setup?: Partial<SetupThresholds>;
}

export function emptyPlanInputs(): PlanInputs {
  return { limits: {}, quotas: [] };
}

const GB_UNITS: Record<string, number> = {
  b: 1e-9, kb: 1e-6, mb: 1e-3, gb: 1, tb: 1e3, pb: 1e6,
  kib: 1024 / 1e9, mib: 1024 ** 2 / 1e9, gib: 1024 ** 3 / 1e9, tib: 1024 ** 4 / 1e9,
  ki: 1024 / 1e9, mi: 1024 ** 2 / 1e9, gi: 1024 ** 3 / 1e9, ti: 1024 ** 4 / 1e9,
};

/** The longest projection: 50 years, one row a month. */
export const MAX_PLAN_MONTHS = 600;

/** "10GB", "500 MB", "2TiB", "4Gi" or a plain number (GB) → GB. */
export function parseGb(v: unknown, where: string): number {
  let gb = Number.NaN;
  if (typeof v === 'number') gb = v;
  else if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
    const f = m ? GB_UNITS[(m[2] || 'gb').toLowerCase()] : undefined;
    if (m && f !== undefined) gb = Number(m[1]) * f;
  }
  // a size is nothing or at least a byte, and a number (400 digits are Infinity)
  if (gb === 0 || (gb >= 1e-9 && Number.isFinite(gb))) return gb;
  if (gb > 0 && gb < 1e-9) throw new InputError(`${where}: ${JSON.stringify(v)} is less than a byte; write it like 10GB, 500MB, 2TB or 4Gi`);
  throw new InputError(`${where}: ${JSON.stringify(v)} is not a size; write it like 10GB, 500MB, 2TB or 4Gi`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function num(o: Record<string, unknown>, key: string, where: string, opts: { min?: number; max?: number; integer?: boolean; above?: number } = {}): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  const bad = (why: string) => new InputError(`${where}.${key}: ${why}, got ${JSON.stringify(v)}`);
  if (typeof n !== 'number' || !Number.isFinite(n)) throw bad('must be a number');
  if (opts.integer && !Number.isInteger(n)) throw bad('must be a whole number');
  if (opts.min !== undefined && n < opts.min) throw bad(`must be at least ${opts.min}`);
  if (opts.above !== undefined && n <= opts.above) throw bad(`must be above ${opts.above}`);
  if (opts.max !== undefined && n > opts.max) throw bad(`must be at most ${opts.max}`);
  return n;
}

export function parseDate(v: unknown, where: string): number {
  const t = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : v instanceof Date ? v.getTime() : NaN;
  // a plan runs up to MAX_PLAN_MONTHS (50 years) past its start, and each month's date must still be a Date
  if (!isDateMs(t) || !isDateMs(t + (MAX_PLAN_MONTHS + 1) * 31 * 86_400_000)) throw new InputError(`${where}: ${JSON.stringify(v)} is not a date; write it like 2025-11-21`);
  return t;
}

/** `growth:` as a number, {linear: x}, or {fit: method, history: file}; `baseDir` resolves the history file. */
export function parseGrowth(v: unknown, where: string, baseDir = '.'): GrowthInput {
  if (typeof v === 'number' || (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()))) {
    const f = Number(v);
    if (!(f > 0)) throw new InputError(`${where}: the monthly factor must be above 0 (1.5 = +50% a month), got ${v}`);
    return { kind: 'compound', monthlyFactor: f };
  }
  if (isObj(v)) {
    if (v.linear !== undefined) {
      const x = num(v, 'linear', where);
      return { kind: 'linear', monthlyIncrease: x! };
    }
    if (v.fit !== undefined) {
      const method = String(v.fit);
      if (method !== 'linear' && method !== 'exponential' && method !== 'holt-winters') {
        throw new InputError(`${where}.fit: "${method}" must be linear, exponential or holt-winters`);
      }
      if (typeof v.history !== 'string' || v.history === '') throw new InputError(`${where}.history: name the CSV of monthly values to fit (e.g. history: usage.csv)`);
      const season = num(v, 'season', where, { integer: true, min: 2 });
      return {
        kind: 'fit',
        method,
        history: isAbsolute(v.history) ? v.history : resolve(baseDir, v.history),
        ...(typeof v.column === 'string' ? { column: v.column } : {}),
        ...(season !== undefined ? { season } : {}),
      };
    }
  }
  throw new InputError(`${where}: write growth as a monthly factor (1.5), {linear: 0.2}, or {fit: exponential, history: usage.csv}`);
}

const PLAN_KEYS = [
  'service', 'users', 'rps', 'storage', 'growth', 'months', 'start', 'rpsPerInstance', 'connectionsPer1000Users', 'redisGbPer10000Users',
  'connectionHeadroom', 'tokensPerRequest', 'tokenCeiling', 'limits', 'quotas', 'phases', 'minReplicas', 'burstFactor', 'tiers', 'setup',
];

/** Parses plan-file text (YAML or JSON). `file` names the file in messages and anchors relative history paths. */
export function parsePlanFile(text: string, file: string): PlanInputs {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw new InputError(`${file}: not YAML/JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (!isObj(data)) throw new InputError(`${file}: a plan file is a mapping of fields (users, rps, growth, months, ...)`);
  const w = file;
  for (const k of Object.keys(data)) {
    if (!PLAN_KEYS.includes(k)) throw new InputError(`${w}: unknown field "${k}"; plan fields are ${PLAN_KEYS.join(', ')}`);
  }
  const out = emptyPlanInputs();
  if (data.service !== undefined) out.service = String(data.service);
  const set = <K extends keyof PlanInputs>(k: K, v: PlanInputs[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('users', num(data, 'users', w, { min: 0 }));
  set('rps', num(data, 'rps', w, { min: 0 }));
  if (data.storage !== undefined) out.storageGb = parseGb(data.storage, `${w}.storage`);
  if (data.growth !== undefined) out.growth = parseGrowth(data.growth, `${w}.growth`, dirname(file));
  set('months', num(data, 'months', w, { min: 0, max: MAX_PLAN_MONTHS, integer: true }));
  if (data.start !== undefined) out.start = parseDate(data.start, `${w}.start`);
  set('rpsPerInstance', num(data, 'rpsPerInstance', w, { above: 0 }));
  set('connectionsPer1000Users', num(data, 'connectionsPer1000Users', w, { min: 0 }));
  set('redisGbPer10000Users', num(data, 'redisGbPer10000Users', w, { above: 0 }));
  set('connectionHeadroom', num(data, 'connectionHeadroom', w, { min: 0, max: 0.99 }));
  set('tokensPerRequest', num(data, 'tokensPerRequest', w, { min: 0 }));
  set('tokenCeiling', num(data, 'tokenCeiling', w, { above: 0, max: 1 }));
  set('minReplicas', num(data, 'minReplicas', w, { min: 0, integer: true }));
  set('burstFactor', num(data, 'burstFactor', w, { min: 1 }));
  if (data.limits !== undefined) {
    if (!isObj(data.limits)) throw new InputError(`${w}.limits: must be a mapping (maxReplicas, maxConnections, tokenQuotaPerMinute, storage, redisMemory)`);
    const l = data.limits;
    const lw = `${w}.limits`;
    for (const k of Object.keys(l)) {
      if (!['maxReplicas', 'maxConnections', 'tokenQuotaPerMinute', 'storage', 'redisMemory'].includes(k)) {
        throw new InputError(`${lw}: unknown field "${k}"; use maxReplicas, maxConnections, tokenQuotaPerMinute, storage, redisMemory`);
      }
    }
    const maxReplicas = num(l, 'maxReplicas', lw, { integer: true, above: 0 });
    const maxConnections = num(l, 'maxConnections', lw, { integer: true, above: 0 });
    const tokenQuotaPerMinute = num(l, 'tokenQuotaPerMinute', lw, { above: 0 });
    if (maxReplicas !== undefined) out.limits.maxReplicas = maxReplicas;
    if (maxConnections !== undefined) out.limits.maxConnections = maxConnections;
    if (tokenQuotaPerMinute !== undefined) out.limits.tokenQuotaPerMinute = tokenQuotaPerMinute;
    if (l.storage !== undefined) out.limits.storageGb = parseGb(l.storage, `${lw}.storage`);
    if (l.redisMemory !== undefined) out.limits.redisGb = parseGb(l.redisMemory, `${lw}.redisMemory`);
  }
  if (data.quotas !== undefined) {
    if (!Array.isArray(data.quotas)) throw new InputError(`${w}.quotas: must be a list of {name, tokensPerDay, usedPerDay}`);
    out.quotas = data.quotas.map((q, i) => parseQuota(q, `${w}.quotas[${i}]`));
  }
  if (data.phases !== undefined) {
    if (!Array.isArray(data.phases) || data.phases.length === 0) throw new InputError(`${w}.phases: must be a non-empty list of {name, multiplier, cpuTarget, memoryTarget}`);
    out.phases = data.phases.map((p, i) => {
      const pw = `${w}.phases[${i}]`;
      if (!isObj(p) || typeof p.name !== 'string') throw new InputError(`${pw}: needs name, multiplier, cpuTarget and memoryTarget`);
      const need = (k: string, o: Parameters<typeof num>[3]) => {
        const v = num(p, k, pw, o);
        if (v === undefined) throw new InputError(`${pw}.${k}: is required`);
        return v;
      };
      return { name: p.name, multiplier: need('multiplier', { above: 0 }), cpuTarget: need('cpuTarget', { above: 0, max: 100 }), memoryTarget: need('memoryTarget', { above: 0, max: 100 }) };
    });
  }
  if (data.tiers !== undefined) {
    if (!isObj(data.tiers)) throw new InputError(`${w}.tiers: must be a mapping with users/rps bounds and optional setup text`);
    const t = data.tiers;
    const bounds = (k: 'users' | 'rps') => {
      const b = t[k];
      if (b === undefined) return undefined;
      if (!isObj(b)) throw new InputError(`${w}.tiers.${k}: must be {medium, large, enterprise}`);
      const r: Partial<TierBounds> = {};
      for (const x of ['medium', 'large', 'enterprise'] as const) {
        const v = num(b, x, `${w}.tiers.${k}`, { min: 0 });
        if (v !== undefined) r[x] = v;
      }
      return r;
    };
    const users = bounds('users');
    const rps = bounds('rps');
    let setup: Partial<Record<Tier, string>> | undefined;
    if (t.setup !== undefined) {
      if (!isObj(t.setup)) throw new InputError(`${w}.tiers.setup: must map small/medium/large/enterprise to a description`);
      setup = {};
      for (const [k, v] of Object.entries(t.setup)) {
        if (!['small', 'medium', 'large', 'enterprise'].includes(k)) throw new InputError(`${w}.tiers.setup.${k}: tiers are small, medium, large, enterprise`);
        setup[k as Tier] = String(v);
      }
    }
    out.tiers = { ...(users ? { users } : {}), ...(rps ? { rps } : {}), ...(setup ? { setup } : {}) };
  }
  if (data.setup !== undefined) {
    if (!isObj(data.setup)) throw new InputError(`${w}.setup: must be a mapping`);
    const s: Partial<SetupThresholds> = {};
    for (const k of ['loadBalancerUpToInstances', 'readReplicasAboveConnections', 'redisClusterAboveGb'] as const) {
      const v = num(data.setup, k, `${w}.setup`, { min: 0 });
      if (v !== undefined) s[k] = v;
    }
    out.setup = s;
  }
  return out;
}

function parseQuota(q: unknown, where: string): QuotaInput {
  if (!isObj(q) || typeof q.name !== 'string' || q.name === '') throw new InputError(`${where}: needs a name and tokensPerDay/usedPerDay (or tokensPerMinute/usedPerMinute)`);
  const perDay = num(q, 'tokensPerDay', where, { above: 0 });
  const perMin = num(q, 'tokensPerMinute', where, { above: 0 });
  const usedDay = num(q, 'usedPerDay', where, { min: 0 });
  const usedMin = num(q, 'usedPerMinute', where, { min: 0 });
  if ((perDay === undefined) === (perMin === undefined)) throw new InputError(`${where}: give exactly one of tokensPerDay or tokensPerMinute`);
  if ((usedDay === undefined) === (usedMin === undefined)) throw new InputError(`${where}: give exactly one of usedPerDay or usedPerMinute (today's use)`);
  return {
    name: q.name,
    quotaPerMinute: perMin ?? perDay! / 1440,
    usedPerMinute: usedMin ?? usedDay! / 1440,
    unit: perDay !== undefined ? 'day' : 'minute',
  };
}

export function readPlanFile(file: string): PlanInputs {
  let text: string;
  try {
    text = readFileBounded(file, MAX_REQUEST_BYTES);
  } catch (e) {
    throw new InputError(`--plan ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parsePlanFile(text, file);
}

/** What scalepilot.yaml already says about a service's limits. */
export function inputsFromService(p: ServicePolicy): PlanInputs {
  const out = emptyPlanInputs();
  out.service = p.name;
  out.limits.maxReplicas = p.maxReplicas;
  if (p.limits?.maxConnections !== undefined) out.limits.maxConnections = p.limits.maxConnections;
  if (p.limits?.tokenQuotaPerMinute !== undefined) out.limits.tokenQuotaPerMinute = p.limits.tokenQuotaPerMinute;
  if (p.limits?.connectionsHeadroom !== undefined) out.connectionHeadroom = p.limits.connectionsHeadroom;
  if (p.capacity?.rpsPerReplica !== undefined) out.rpsPerInstance = p.capacity.rpsPerReplica;
  return out;
}

/** Later layers win field by field; limits merge key by key; quotas and phases are replaced, not appended. */
export function mergePlanInputs(...layers: PlanInputs[]): PlanInputs {
  const out = emptyPlanInputs();
  for (const l of layers) {
    for (const [k, v] of Object.entries(l) as Array<[keyof PlanInputs, unknown]>) {
      if (v === undefined) continue;
      if (k === 'limits') Object.assign(out.limits, Object.fromEntries(Object.entries(v as object).filter(([, x]) => x !== undefined)));
      else if (k === 'quotas') {
        if ((v as QuotaInput[]).length > 0) out.quotas = v as QuotaInput[];
      } else (out as unknown as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}
