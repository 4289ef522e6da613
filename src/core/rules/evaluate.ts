// Evaluates every sustained rule against its series and picks what to do: the largest firing scale-up wins,
// otherwise the most cautious firing scale-down; cooldowns per rule and per direction hold actions back.
import { formatDuration } from '../duration.js';
import { applyResize, applyScale, validateRule } from './actions.js';
import { clock, describeCondition, describeQuantity, describeStep } from './format.js';
import { DEFAULT_STALE_AFTER_MS, ruleState } from './state.js';
import type {
  ResizeProposal,
  RuleProposal,
  RulesDecision,
  RulesOptions,
  RulesState,
  Series,
  SustainedRule,
} from './types.js';

function clamp(v: number, min: number, max: number): number {
  return Math.min(Math.max(v, min), max);
}

const unit = describeQuantity;

function severityTag(rule: SustainedRule): string {
  return rule.severity === 'critical' ? ' [critical]' : '';
}

export function evaluateRules(
  rules: readonly SustainedRule[],
  series: Series,
  state: RulesState,
  now: number,
  options: RulesOptions = {},
): RulesDecision {
  const current = state.currentReplicas;
  const minReplicas = options.minReplicas ?? 0;
  const maxReplicas = options.maxReplicas ?? Number.POSITIVE_INFINITY;
  const staleAfter = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const lastFired = state.lastFired ?? {};
  const proposals: RuleProposal[] = [];
  const ruleOf = new Map<RuleProposal, SustainedRule>();

  for (const rule of rules) {
    const problems = validateRule(rule);
    if (problems.length > 0) {
      proposals.push({
        rule: String(rule?.name ?? '?'),
        metric: String(rule?.metric ?? '?'),
        severity: rule?.severity === 'critical' ? 'critical' : 'warning',
        state: 'inactive',
        direction: 'none',
        reason: `rule ignored: ${problems.join('; ')}`,
      });
      continue;
    }
    const st = ruleState(rule, series[rule.metric], now, staleAfter);
    const head = `${describeCondition(rule)}${severityTag(rule)}: ${st.detail}`;
    const p: RuleProposal = {
      rule: rule.name,
      metric: rule.metric,
      severity: rule.severity,
      state: st.state,
      direction: 'none',
      reason: head,
    };
    if (st.activeSince !== undefined) p.activeSince = st.activeSince;
    proposals.push(p);
    ruleOf.set(p, rule);
    if (st.state !== 'firing') continue;

    const action = rule.action;
    if (action.kind === 'scale') {
      const raw = applyScale(action, current);
      const to = clamp(raw, minReplicas, maxReplicas);
      p.replicas = to;
      p.direction = to > current ? 'up' : to < current ? 'down' : 'none';
      const limit =
        to !== raw ? ` (held to ${to > raw ? 'minReplicas' : 'maxReplicas'} ${to > raw ? minReplicas : maxReplicas})` : '';
      p.reason = `${head}, ${describeStep(action)} → ${to} replicas${limit}`;
      if (p.direction === 'none') {
        p.suppressed = 'no-change';
        p.reason = `${head}, ${describeStep(action)} leaves ${current} replicas${limit}`;
      }
    } else {
      const from = state.resources?.[action.field]?.[action.resource];
      if (from === undefined || !Number.isFinite(from)) {
        p.suppressed = 'unknown-resource';
        p.reason = `${head}, but the current ${action.resource} ${action.field} is unknown, so ${describeStep(action)} cannot be applied`;
        continue;
      }
      const to = applyResize(action, from);
      p.resize = { resource: action.resource, field: action.field, from, to };
      p.direction = to > from ? 'up' : to < from ? 'down' : 'none';
      const what = `${action.resource} ${action.field}`;
      if (p.direction === 'none') {
        p.suppressed = 'no-change';
        const bound = action.max !== undefined && from >= action.max ? ` (at max ${unit(action.resource, action.max)})` : '';
        p.reason = `${head}, ${what} stays ${unit(action.resource, from)}${bound}`;
      } else {
        p.reason = `${head}, ${what} ${describeStep(action)} ${unit(action.resource, from)} → ${unit(action.resource, to)}`;
      }
    }
    if (p.suppressed) continue;

    const last = lastFired[rule.name];
    if (last !== undefined && now - last < rule.cooldownMs) {
      p.suppressed = 'cooldown';
      p.reason += `; held back by its ${formatDuration(rule.cooldownMs)} cooldown (acted at ${clock(last)}, may act again at ${clock(last + rule.cooldownMs)})`;
      continue;
    }
    if (action.kind === 'scale') {
      if (p.direction === 'up' && options.scaleUpCooldownMs !== undefined && state.lastScaleUp !== undefined) {
        const until = state.lastScaleUp + options.scaleUpCooldownMs;
        if (now < until) {
          p.suppressed = 'direction-cooldown';
          p.reason += `; held back by the ${formatDuration(options.scaleUpCooldownMs)} scale-up cooldown (last scale-up ${clock(state.lastScaleUp)})`;
        }
      }
      if (p.direction === 'down' && options.scaleDownCooldownMs !== undefined) {
        const lastScale = Math.max(state.lastScaleUp ?? -Infinity, state.lastScaleDown ?? -Infinity);
        if (Number.isFinite(lastScale) && now < lastScale + options.scaleDownCooldownMs) {
          p.suppressed = 'direction-cooldown';
          p.reason += `; held back by the ${formatDuration(options.scaleDownCooldownMs)} scale-down cooldown (last scaling ${clock(lastScale)})`;
        }
      }
    }
  }

  // Scaling: any firing scale-up (even one held back) vetoes scale-down, as the HPA takes the highest proposal.
  const scaleFiring = proposals.filter((p) => p.state === 'firing' && ruleOf.get(p)?.action.kind === 'scale');
  const upFiring = scaleFiring.filter((p) => p.direction === 'up');
  const ups = upFiring.filter((p) => !p.suppressed);
  const downs = scaleFiring.filter((p) => p.direction === 'down' && !p.suppressed);
  let chosen: RuleProposal | undefined;
  if (ups.length > 0) {
    chosen = ups.reduce((best, p) =>
      p.replicas! > best.replicas! || (p.replicas === best.replicas && p.severity === 'critical' && best.severity !== 'critical')
        ? p
        : best,
    );
  } else if (upFiring.length === 0 && downs.length > 0) {
    chosen = downs.reduce((best, p) => (p.replicas! > best.replicas! ? p : best));
  }
  for (const p of [...ups, ...downs]) {
    if (p === chosen) continue;
    p.suppressed = 'overridden';
    p.reason += chosen ? `; overridden by ${chosen.rule} (${chosen.replicas} replicas)` : '; overridden by a firing scale-up';
  }

  // Resizing: per resource and field, a raise beats a cut; among raises the largest, among cuts the smallest.
  const resizes: Array<ResizeProposal & { rule: string }> = [];
  const byTarget = new Map<string, RuleProposal[]>();
  for (const p of proposals) {
    if (p.state !== 'firing' || !p.resize || p.suppressed) continue;
    const key = `${p.resize.resource}.${p.resize.field}`;
    byTarget.set(key, [...(byTarget.get(key) ?? []), p]);
  }
  for (const group of byTarget.values()) {
    const raises = group.filter((p) => p.direction === 'up');
    const pool = raises.length > 0 ? raises : group;
    const win = pool.reduce((best, p) => (p.resize!.to > best.resize!.to ? p : best));
    for (const p of group) {
      if (p !== win) {
        p.suppressed = 'overridden';
        p.reason += `; overridden by ${win.rule}`;
      }
    }
    resizes.push({ ...win.resize!, rule: win.rule });
  }

  const next: RulesState = {
    ...state,
    lastFired: { ...lastFired },
    resources: state.resources
      ? { requests: { ...state.resources.requests }, limits: { ...state.resources.limits } }
      : state.resources,
  };
  if (next.resources === undefined) delete next.resources;
  if (chosen) {
    next.lastFired[chosen.rule] = now;
    next.currentReplicas = chosen.replicas!;
    if (chosen.direction === 'up') next.lastScaleUp = now;
    else next.lastScaleDown = now;
  }
  for (const r of resizes) {
    next.lastFired[r.rule] = now;
    const res = (next.resources ??= {});
    const field = (res[r.field] ??= {});
    field[r.resource] = r.to;
  }

  const decision: RulesDecision = { proposals, resizes, state: next, reason: '' };
  if (chosen) {
    decision.scaleProposal = chosen.replicas!;
    decision.scaleRule = chosen.rule;
  }
  decision.reason = summarize(proposals, chosen, resizes, current);
  return decision;
}

function summarize(
  proposals: RuleProposal[],
  chosen: RuleProposal | undefined,
  resizes: Array<ResizeProposal & { rule: string }>,
  current: number,
): string {
  const parts: string[] = [];
  if (chosen) parts.push(chosen.reason);
  for (const r of resizes) {
    const p = proposals.find((x) => x.rule === r.rule);
    if (p && p !== chosen) parts.push(p.reason);
  }
  if (parts.length > 0) return parts.join(' | ');
  const held = proposals.filter((p) => p.state === 'firing' && p.suppressed && p.suppressed !== 'overridden');
  if (held.length > 0) return `holding at ${current} replicas: ${held.map((p) => p.reason).join(' | ')}`;
  const pending = proposals.filter((p) => p.state === 'pending');
  if (pending.length > 0) return `holding at ${current} replicas: ${pending.map((p) => p.reason).join(' | ')}`;
  if (proposals.length === 0) return `holding at ${current} replicas: no rules configured`;
  return `holding at ${current} replicas: no rule firing (${proposals.map((p) => p.reason).join(' | ')})`;
}
