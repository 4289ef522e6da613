// Config checks owned by other modules, run by the loader: metric source blocks, HPA metric specs and behavior,
// and which configured metric feeds each HPA metric. Each problem is reported at its YAML path.
import { dirname } from 'node:path';
import { parseSourceConfig, createMetricSource } from '../metrics/index.js';
import type { MetricSource } from '../metrics/types.js';
import { checkTarget, ProviderSpecError, targetClaim, type TargetClaim } from '../providers/index.js';
import { parseMetricSpecs, parseBehavior, HpaInputError } from '../core/hpa/parse.js';
import { DEFAULT_KUBERNETES_MINOR, unsupportedKubernetesVersion } from '../core/hpa/version.js';
import type { ConfigValidator, Report } from './validators.js';
import { namesCheck } from './names.js';
import { own } from '../own.js';

/** "services.api.hpa.metrics[0].resource" → ['services', 'api', 'hpa', 'metrics', 0, 'resource'] */
export function splitPath(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const part of path.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) { out.push(part); continue; }
    if (m[1]) out.push(m[1]);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

function reportError(report: Report, e: unknown, fallbackPath: Array<string | number>): void {
  const err = e as Error & { path?: string; problem?: string; fix?: string };
  if (e instanceof HpaInputError) return report(splitPath(e.path), e.problem);
  const m = /^([\w.[\]-]+): (.*)$/s.exec(err.message);
  if (err.path && m) return report(splitPath(err.path), m[2]!.startsWith(err.path) ? m[2]! : m[2]!);
  report(fallbackPath, err.message);
}

const sourcesCheck: ConfigValidator = (config, _raw, report) => {
  for (const [name, raw] of Object.entries(config.sources)) {
    try {
      parseSourceConfig(raw, `sources.${name}`, { baseDir: dirname(config.file) });
    } catch (e) {
      reportError(report, e, ['sources', name]);
    }
  }
};

const sourceQueryCheck: ConfigValidator = (config, _raw, report) => {
  const built = new Map<string, MetricSource | null>();
  for (const p of Object.values(config.services)) {
    for (const [name, m] of Object.entries(p.metrics)) {
      if (!built.has(m.source)) {
        let src: MetricSource | null = null;
        try {
          if (Object.hasOwn(config.sources, m.source)) src = createMetricSource(m.source, config.sources[m.source], `sources.${m.source}`, { baseDir: dirname(config.file) });
        } catch {
          // the source block itself is reported by sourcesCheck
        }
        built.set(m.source, src);
      }
      const src = built.get(m.source);
      if (!src?.checkQuery) continue;
      const path = `services.${p.name}.metrics.${name}`;
      try {
        src.checkQuery({ name, query: m.query, ...(m.params ? { params: m.params } : {}) }, path);
      } catch (e) {
        reportError(report, e, splitPath(path));
      }
    }
  }
  for (const s of built.values()) void s?.close?.();
};

const hpaCheck: ConfigValidator = (config, _raw, report) => {
  for (const p of Object.values(config.services)) {
    if (!p.hpa) continue;
    const base = `services.${p.name}.hpa`;
    const versionProblem = p.hpa.kubernetesVersion === undefined ? null : unsupportedKubernetesVersion(p.hpa.kubernetesVersion);
    if (versionProblem !== null) report(splitPath(`${base}.kubernetesVersion`), versionProblem, `write the minor version of your cluster, e.g. kubernetesVersion: "1.${DEFAULT_KUBERNETES_MINOR}"`);
    try {
      parseBehavior(p.hpa.behavior, `${base}.behavior`);
    } catch (e) {
      reportError(report, e, splitPath(`${base}.behavior`));
    }
    if (!p.hpa.metrics.length) continue;
    let specs;
    try {
      specs = parseMetricSpecs(p.hpa.metrics, `${base}.metrics`);
    } catch (e) {
      reportError(report, e, splitPath(`${base}.metrics`));
      continue;
    }
    specs.forEach((s, i) => {
      const m = own(p.metrics, s.name);
      const at = splitPath(`${base}.metrics[${i}]`);
      if (!m) {
        report(at, `${s.type} metric "${s.name}" has no entry under services.${p.name}.metrics`, `add services.${p.name}.metrics.${s.name} with its source and query`);
        return;
      }
      const perPodNeeded = s.type === 'Resource' || s.type === 'ContainerResource' || s.type === 'Pods';
      if (perPodNeeded && !m.perPod) report(at, `${s.type} metric "${s.name}" needs per-replica samples`, `set perPod: true on services.${p.name}.metrics.${s.name}`);
      if (!perPodNeeded && m.perPod) report(at, `${s.type} metric "${s.name}" is one value for the whole service, but services.${p.name}.metrics.${s.name} is perPod`, 'remove perPod, or use a Pods metric');
    });
  }
};

const targetCheck: ConfigValidator = (config, _raw, report) => {
  for (const p of Object.values(config.services)) {
    try {
      checkTarget(p.target, `services.${p.name}.target`);
    } catch (e) {
      if (e instanceof ProviderSpecError) report(splitPath(e.path), e.problem, e.fix);
      else report(['services', p.name, 'target'], (e as Error).message);
    }
  }
};

/**
 * Two services may not drive one workload (they would set its replicas against each other every sync, as two HPAs on
 * one Deployment would), and local targets may not share a port (front or replica range).
 */
const sharedTargetCheck: ConfigValidator = (config, _raw, report) => {
  const workloads = new Map<string, string>();
  const ports: Array<{ service: string; listen: number; from: number; to: number }> = [];
  const overlaps = (a: number, b: number, from: number, to: number) => a <= to && b >= from;
  for (const p of Object.values(config.services)) {
    let claim: TargetClaim;
    try {
      claim = targetClaim(checkTarget(p.target), p.name, p.maxReplicas);
    } catch {
      continue; // the target's own problems are reported by targetCheck
    }
    const path = ['services', p.name, 'target'];
    if (claim.kind === 'workload') {
      const other = workloads.get(claim.key);
      if (other !== undefined) {
        report(path, `drives the same workload as services.${other} (${claim.describe}): the two would set its replicas against each other`, `keep one service for ${claim.describe}, with the metrics, rules and schedules of both`);
      } else workloads.set(claim.key, p.name);
    } else if (claim.kind === 'ports') {
      for (const o of ports) {
        const inOthers = claim.listen >= o.from && claim.listen <= o.to;
        const othersInOwn = o.listen >= claim.from && o.listen <= claim.to;
        if (claim.listen === o.listen || inOthers || othersInOwn || overlaps(claim.from, claim.to, o.from, o.to)) {
          report(path, `its ports (front ${claim.listen}, replicas ${claim.from}-${claim.to} for up to maxReplicas) overlap those of services.${o.service} (front ${o.listen}, replicas ${o.from}-${o.to})`, 'give each local service its own listen port and a portBase range of at least maxReplicas ports');
          break;
        }
      }
      ports.push({ service: p.name, listen: claim.listen, from: claim.from, to: claim.to });
    }
  }
};

/** A budget's live limit is a query like any metric's: its source checks it at load time. */
const budgetQueryCheck: ConfigValidator = (config, _raw, report) => {
  for (const b of Object.values(config.budgets ?? {})) {
    if (!b.limitFrom || !own(config.sources, b.limitFrom.source)) continue;
    const path = `budgets.${b.name}.limit`;
    try {
      const src = createMetricSource(b.limitFrom.source, config.sources[b.limitFrom.source], `sources.${b.limitFrom.source}`, { baseDir: dirname(config.file) });
      src.checkQuery?.({ name: `budget:${b.name}`, query: b.limitFrom.query }, path);
    } catch (e) {
      reportError(report, e, splitPath(path));
    }
  }
};

export const builtinChecks: ConfigValidator[] = [sourcesCheck, sourceQueryCheck, targetCheck, sharedTargetCheck, hpaCheck, budgetQueryCheck, namesCheck];
