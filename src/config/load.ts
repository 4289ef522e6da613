// Loads scalepilot.yaml: YAML with line positions → schema → cross-field checks → typed Policy.
// Any issue rejects the whole file (nothing is applied), and every issue names file:line, path and fix.
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { ZodError } from 'zod';
import { ConfigSchema, type RawConfig, type RawService } from './schema.js';
import { ConfigError, pathToString, type ConfigIssue } from './errors.js';
import { parseAction, parseCondition } from '../core/rules/syntax.js';
import type { RulePolicy, ServicePolicy, TargetRef, VerifyPolicy } from '../core/policy.js';
import type { Resources } from '../core/types.js';
import { builtinChecks } from './checks.js';
import { parseCron, checkTimezone } from '../core/schedule.js';
import { usableLimit, type BudgetSpec } from '../core/budget.js';
import { readFileBounded, InputTooLargeError, MAX_CONFIG_BYTES, formatBytes } from '../bounded-read.js';
import { protoKeyPaths, serviceNameProblem } from './names.js';
import { own } from '../own.js';

// The core owns the policy types; this module validates the YAML and maps it onto them.
export type { RulePolicy, ServicePolicy, VerifyPolicy } from '../core/policy.js';

export interface Config {
  file: string;
  syncPeriodMs: number;
  store: string;
  server?: RawConfig['server'];
  sources: RawConfig['sources'];
  services: Record<string, ServicePolicy>;
  budgets?: Record<string, BudgetSpec>;
  /** store retention in ms (absent: 14 days of decisions, 90 days of events) */
  retention?: { decisionsMs: number; eventsMs: number };
}

type Path = Array<string | number>;

/** Finds the line/col of a path in the YAML document (nearest existing ancestor). */
function locate(doc: Document, lc: LineCounter, path: Path): { line?: number; col?: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      const p = lc.linePos(node.range[0]);
      return { line: p.line, col: p.col };
    }
  }
  return {};
}

function fixFor(message: string, path: Path): string | undefined {
  const last = path[path.length - 1];
  if (/Unrecognized key/.test(message)) return 'remove the key or check its spelling against `scalepilot schema`';
  if (/duration/.test(message)) return 'use 15s, 5m, 1h';
  if (/expected number/.test(message)) return `make ${String(last)} a number`;
  if (/expected string/.test(message)) return `make ${String(last)} a string`;
  if (/Invalid option|expected one of/.test(message)) return undefined;
  if (/received undefined/.test(message)) return `add ${String(last)}`;
  return undefined;
}

function zodIssues(err: ZodError, file: string, doc: Document, lc: LineCounter): ConfigIssue[] {
  return err.issues.map((i) => {
    const path = i.path as Path;
    let message = i.message;
    if (i.code === 'unrecognized_keys') {
      const keys = (i as { keys: string[] }).keys;
      const p = [...path, keys[0]!];
      return { file, ...locate(doc, lc, p), path: pathToString(p), message: `unknown key "${keys.join('", "')}"`, fix: fixFor('Unrecognized key', p) };
    }
    if (i.code === 'invalid_type' && /received undefined/.test(message)) message = 'is required';
    if (i.code === 'invalid_key' && path.length === 2 && path[0] === 'services') {
      return { file, ...locate(doc, lc, path), path: pathToString(path), message: serviceNameProblem(String(path[1])) ?? message, fix: 'rename the service; the name reaches file names, argv and label values' };
    }
    return { file, ...locate(doc, lc, path), path: pathToString(path), message, fix: fixFor(i.message, path) };
  });
}

/** A document that parses but cannot become data: alias bombs, unresolved aliases, runaway nesting. */
function yamlValueIssue(e: unknown, file: string): ConfigIssue {
  const msg = (e as Error).message ?? String(e);
  if (/Excessive alias count/i.test(msg)) return { file, path: '', message: 'YAML aliases expand to too many nodes (more than 100 alias uses)', fix: 'write the values out, or use fewer anchors and aliases' };
  if (/Unresolved alias/i.test(msg)) return { file, path: '', message: `YAML: ${msg.split('\n')[0]}`, fix: 'define the anchor (&name) before the alias (*name) that uses it' };
  if (e instanceof RangeError) return { file, path: '', message: 'YAML is nested too deeply', fix: 'flatten the document' };
  return { file, path: '', message: `YAML: ${msg.split('\n')[0]}`, fix: 'fix the YAML at that point' };
}

/** Parses config text. `file` is used in messages only. Throws ConfigError listing every issue. */
export function parseConfig(text: string, file = 'scalepilot.yaml'): Config {
  const lc = new LineCounter();
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigError([{ file, path: '', message: `larger than ${formatBytes(MAX_CONFIG_BYTES)}`, fix: 'check that this is the config file; split very large configs' }]);
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    throw new ConfigError([yamlValueIssue(e, file)]);
  }
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const p = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
        return { file, line: p?.line, col: p?.col, path: '', message: `YAML: ${e.message.split('\n')[0]}`, fix: 'fix the YAML syntax at that line' };
      }),
    );
  }
  let data: unknown;
  try {
    // maxAliasCount bounds alias expansion (a "billion laughs" document would otherwise take gigabytes)
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    throw new ConfigError([yamlValueIssue(e, file)]);
  }
  const protoKeys = protoKeyPaths(data);
  if (protoKeys.length) {
    throw new ConfigError(protoKeys.map((p) => ({ file, ...locate(doc, lc, p), path: pathToString(p), message: '"__proto__" cannot be used as a name', fix: 'rename it' })));
  }
  let parsed: ReturnType<typeof ConfigSchema.safeParse>;
  try {
    parsed = ConfigSchema.safeParse(data);
  } catch (e) {
    // only nesting deep enough to exhaust the stack gets here
    throw new ConfigError([yamlValueIssue(e, file)]);
  }
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error, file, doc, lc));
  const raw = parsed.data;

  const issues: ConfigIssue[] = [];
  const report = (path: Path, message: string, fix?: string) => issues.push({ file, ...locate(doc, lc, path), path: pathToString(path), message, fix });

  const services: Record<string, ServicePolicy> = {};
  for (const [name, s] of Object.entries(raw.services)) {
    const base: Path = ['services', name];
    if (s.maxReplicas < s.minReplicas) {
      report([...base, 'maxReplicas'], `maxReplicas (${s.maxReplicas}) must be >= minReplicas (${s.minReplicas})`, 'raise maxReplicas or lower minReplicas');
    }
    for (const [mName, m] of Object.entries(s.metrics)) {
      if (!Object.hasOwn(raw.sources, m.source)) {
        report([...base, 'metrics', mName, 'source'], `source "${m.source}" is not defined under sources`, `add sources.${m.source} or use one of: ${Object.keys(raw.sources).join(', ') || '(none defined)'}`);
      }
    }
    const known = (metric: string, path: Path) => {
      if (!Object.hasOwn(s.metrics, metric)) report(path, `metric "${metric}" is not defined under services.${name}.metrics`, `define it there or use one of: ${Object.keys(s.metrics).join(', ') || '(none defined)'}`);
    };
    const rules: RulePolicy[] = [];
    const seen = new Set<string>();
    s.rules.forEach((r, i) => {
      const rp: Path = [...base, 'rules', i];
      if (seen.has(r.name)) report([...rp, 'name'], `rule name "${r.name}" is used twice`, 'give each rule its own name');
      seen.add(r.name);
      const cond = parseCondition(r.when);
      const action = parseAction(r.then);
      if (typeof cond === 'string') report([...rp, 'when'], cond);
      else known(cond.metric, [...rp, 'when']);
      if (typeof action === 'string') report([...rp, 'then'], action);
      if (typeof cond !== 'string' && typeof action !== 'string') {
        rules.push({ name: r.name, condition: cond, forMs: r.for, action, severity: r.severity, ...(r.cooldown !== undefined ? { cooldownMs: r.cooldown } : {}) });
      }
    });
    s.bands.forEach((b, i) => {
      known(b.metric, [...base, 'bands', i, 'metric']);
      if (b.lower >= b.upper) report([...base, 'bands', i, 'lower'], `lower (${b.lower}) must be < upper (${b.upper})`, 'leave a band between them so scaling does not flap');
    });
    if (s.queue) {
      known(s.queue.metric, [...base, 'queue', 'metric']);
      if (s.queue.minReplicas !== undefined && s.queue.minReplicas > s.maxReplicas) report([...base, 'queue', 'minReplicas'], `queue.minReplicas (${s.queue.minReplicas}) must be <= maxReplicas (${s.maxReplicas})`);
    }
    if (s.predictive) {
      known(s.predictive.metric, [...base, 'predictive', 'metric']);
      // a per-replica average falls as replicas are added, so a forecast of it never asks for more
      if (s.metrics[s.predictive.metric]?.perPod) report([...base, 'predictive', 'metric'], `predictive forecasts need the service's total (e.g. requests per second), but ${s.predictive.metric} is per replica`, 'point predictive.metric at an aggregate metric (without perPod)');
    }
    s.schedules.forEach((sc, i) => {
      try { parseCron(sc.cron); } catch (e) { report([...base, 'schedules', i, 'cron'], (e as Error).message); }
      if (sc.timezone) try { checkTimezone(sc.timezone); } catch (e) { report([...base, 'schedules', i, 'timezone'], (e as Error).message); }
      if (sc.minReplicas !== undefined && sc.minReplicas > s.maxReplicas) report([...base, 'schedules', i, 'minReplicas'], `minReplicas (${sc.minReplicas}) must be <= maxReplicas (${s.maxReplicas})`);
    });
    const uses: Record<string, number> = {};
    for (const [b, u] of Object.entries(s.uses ?? {})) {
      if (!raw.budgets?.[b]) report([...base, 'uses', b], `budget "${b}" is not defined under budgets`, `add budgets.${b} or use one of: ${Object.keys(raw.budgets ?? {}).join(', ') || '(none defined)'}`);
      if (typeof u === 'number') uses[b] = u;
      // a replica serves at most its capacity, so per request use bounds per replica use (per minute)
      else if (s.capacity?.rpsPerReplica) uses[b] = u.perRequest * s.capacity.rpsPerReplica * 60;
      else report([...base, 'uses', b, 'perRequest'], 'needs capacity.rpsPerReplica to turn use per request into use per replica', `add capacity: { rpsPerReplica: N } or give uses.${b} per replica`);
    }
    const v = s.verify === undefined ? raw.verify : s.verify || undefined;
    if (v) {
      for (const k of ['errorRate', 'p95'] as const) if (v[k] && s.verify) known(v[k]!.metric, [...base, 'verify', k, 'metric']);
      if (v.startupAllowance !== undefined && v.startupAllowance > v.window) report([...base, 'verify', 'startupAllowance'], `startupAllowance must not be longer than the window`, 'raise verify.window or lower startupAllowance');
    }
    const { provider, ...spec } = s.target as { provider: TargetRef['provider'] } & Record<string, unknown>;
    services[name] = {
      name,
      target: { service: name, provider, spec },
      minReplicas: s.minReplicas,
      maxReplicas: s.maxReplicas,
      syncPeriodMs: s.syncPeriod ?? raw.syncPeriod,
      drainMs: s.drainTimeout,
      ...(s.resources ? { resources: s.resources as Resources } : {}),
      metrics: s.metrics,
      ...(s.hpa ? { hpa: s.hpa } : {}),
      rules,
      bands: s.bands,
      ...(s.queue ? { queue: s.queue } : {}),
      schedules: s.schedules,
      ...(s.predictive ? { predictive: s.predictive } : {}),
      ...(s.capacity ? { capacity: s.capacity } : {}),
      ...(s.slo ? { slo: s.slo } : {}),
      ...(s.cost ? { cost: s.cost } : {}),
      ...(s.limits ? { limits: s.limits } : {}),
      paused: s.paused,
      ...(s.uses ? { uses } : {}),
      ...(s.priority !== undefined ? { priority: s.priority } : {}),
      // a top-level default checks only the metrics a service has; readiness is checked for every service
      ...(v ? { verify: { windowMs: v.window, startupAllowanceMs: v.startupAllowance ?? v.window, coolOffMs: v.coolOff, ...(v.errorRate && own(s.metrics, v.errorRate.metric) ? { errorRate: v.errorRate } : {}), ...(v.p95 && own(s.metrics, v.p95.metric) ? { p95: v.p95 } : {}) } } : {}),
    };
  }
  const budgets: Record<string, BudgetSpec> = {};
  for (const [name, b] of Object.entries(raw.budgets ?? {})) {
    const live = typeof b.limit === 'object' ? b.limit : undefined;
    if (live && !own(raw.sources, live.source)) report(['budgets', name, 'limit', 'source'], `source "${live.source}" is not defined under sources`, `add sources.${live.source} or use one of: ${Object.keys(raw.sources).join(', ') || '(none defined)'}`);
    budgets[name] = { name, ...(live ? { limitFrom: live } : { limit: b.limit as number }), headroom: b.headroom, reserved: b.reserved, kind: b.kind, unit: b.unit ?? (b.kind === 'other' ? 'units' : b.kind) };
    if (!live) {
      // the floors alone must fit, or the budget could never hold
      const floor = Object.values(services).reduce((a, p) => a + p.minReplicas * (p.uses?.[name] ?? 0), 0) + b.reserved;
      const usable = usableLimit(b.limit as number, b.headroom);
      if (floor > usable) report(['budgets', name, 'limit'], `minReplicas × uses of the services plus reserved need ${floor}, more than the ${usable} usable (limit less headroom)`, 'raise the limit, lower headroom, or lower minReplicas / uses');
    }
  }
  const config: Config = { file, syncPeriodMs: raw.syncPeriod, store: raw.store, ...(raw.server ? { server: raw.server } : {}), sources: raw.sources, services, ...(raw.budgets ? { budgets } : {}), ...(raw.retention ? { retention: { decisionsMs: raw.retention.decisions, eventsMs: raw.retention.events } } : {}) };
  // Module-owned checks (sources, providers, HPA metric specs, schedules) report through the same channel.
  for (const v of builtinChecks) v(config, raw, report);
  if (issues.length) throw new ConfigError(issues);
  return config;
}

/** Reads and parses a config file. Throws ConfigError (file unreadable included). */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileBounded(file, MAX_CONFIG_BYTES);
  } catch (e) {
    if (e instanceof InputTooLargeError) throw new ConfigError([{ file, path: '', message: `larger than ${formatBytes(MAX_CONFIG_BYTES)}; not read further`, fix: 'check the path (or pass --config FILE); split very large configs' }]);
    throw new ConfigError([{ file, path: '', message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, fix: 'check the path (or pass --config FILE)' }]);
  }
  return parseConfig(text, file);
}
