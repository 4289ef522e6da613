// What a rule's action does to a replica count or a resource value, and checks that an action can be applied.
import type { ResizeAction, ScaleAction, ScalingBand, SustainedRule } from './types.js';

// Products like 100 × 1.1 come out as 110.00000000000001; without this, ceil would add a phantom replica.
const EPS = 1e-9;

/**
 * Replicas after a scale action. Percent and multiply steps round up (scale-up is generous, scale-down cautious,
 * as the HPA's Percent policies do) and always move at least one replica in the asked direction.
 */
export function applyScale(action: ScaleAction, current: number): number {
  const a = action.amount;
  let to: number;
  switch (action.mode) {
    case 'add':
      to = current + a;
      break;
    case 'set':
      to = a;
      break;
    case 'percent':
    case 'multiply': {
      const factor = action.mode === 'percent' ? 1 + a / 100 : a;
      to = Math.ceil(current * factor - EPS);
      if (factor > 1 && to <= current) to = current + 1;
      if (factor < 1 && to >= current && current > 0) to = current - 1;
      break;
    }
  }
  return Math.max(0, Math.round(to));
}

/** Resource value (cores or bytes) after a resize action, held within the action's min/max. */
export function applyResize(action: ResizeAction, current: number): number {
  const a = action.amount;
  let to: number;
  switch (action.mode) {
    case 'add':
      to = current + a;
      break;
    case 'set':
      to = a;
      break;
    case 'percent':
      to = current * (1 + a / 100);
      break;
    case 'multiply':
      to = current * a;
      break;
  }
  if (action.max !== undefined && to > current) to = Math.min(to, Math.max(action.max, current));
  if (action.min !== undefined && to < current) to = Math.max(to, Math.min(action.min, current));
  // cpu to whole millicores, memory to whole bytes: the units Kubernetes stores.
  to = action.resource === 'cpu' ? Math.round(to * 1000) / 1000 : Math.round(to);
  return Math.max(0, to);
}

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function checkStep(mode: unknown, amount: unknown, at: string, problems: string[]): void {
  if (!finite(amount)) {
    problems.push(`${at}.amount must be a number`);
    return;
  }
  switch (mode) {
    case 'add':
      break;
    case 'set':
      if (amount < 0) problems.push(`${at}.amount ${amount} must not be negative for mode "set"`);
      break;
    case 'percent':
      if (amount <= -100) problems.push(`${at}.amount ${amount}% would remove everything; use a value above -100`);
      break;
    case 'multiply':
      if (amount <= 0) problems.push(`${at}.amount ${amount} must be above 0 for mode "multiply" (0.5 halves, 2 doubles)`);
      break;
    default:
      problems.push(`${at}.mode "${String(mode)}" must be one of add, percent, multiply, set`);
  }
}

/** Problems with a rule, each naming the field and the fix; empty when the rule can be evaluated. */
export function validateRule(rule: SustainedRule, at = `rules.${rule?.name ?? '?'}`): string[] {
  const problems: string[] = [];
  if (!rule || typeof rule !== 'object') return [`${at} must be an object`];
  if (typeof rule.name !== 'string' || rule.name === '') problems.push(`${at}.name must be a non-empty string`);
  if (typeof rule.metric !== 'string' || rule.metric === '') problems.push(`${at}.metric must name a metric`);
  if (!['>', '>=', '<', '<='].includes(rule.op)) problems.push(`${at}.op "${String(rule.op)}" must be one of >, >=, <, <=`);
  if (!finite(rule.threshold)) problems.push(`${at}.threshold must be a number`);
  if (!finite(rule.forMs) || rule.forMs < 0) problems.push(`${at}.for must be a duration such as 10m`);
  if (!finite(rule.cooldownMs) || rule.cooldownMs < 0) problems.push(`${at}.cooldown must be a duration such as 5m`);
  if (rule.severity !== 'warning' && rule.severity !== 'critical') {
    problems.push(`${at}.severity "${String(rule.severity)}" must be warning or critical`);
  }
  const action = rule.action;
  if (!action || (action.kind !== 'scale' && action.kind !== 'resize')) {
    problems.push(`${at}.action.kind must be scale or resize`);
    return problems;
  }
  checkStep(action.mode, action.amount, `${at}.action`, problems);
  if (action.kind === 'scale' && (action.mode === 'add' || action.mode === 'set') && !Number.isInteger(action.amount)) {
    problems.push(`${at}.action.amount ${action.amount} must be a whole number of replicas`);
  }
  if (action.kind === 'resize') {
    if (action.resource !== 'cpu' && action.resource !== 'memory') problems.push(`${at}.action.resource must be cpu or memory`);
    if (action.field !== 'requests' && action.field !== 'limits') problems.push(`${at}.action.field must be requests or limits`);
    if (action.max !== undefined && (!finite(action.max) || action.max <= 0)) problems.push(`${at}.action.max must be a positive quantity`);
    if (action.min !== undefined && (!finite(action.min) || action.min < 0)) problems.push(`${at}.action.min must be a non-negative quantity`);
    if (finite(action.max) && finite(action.min) && action.min > action.max) {
      problems.push(`${at}.action.min ${action.min} is above max ${action.max}; swap them`);
    }
  }
  return problems;
}

/** The two rules a hysteresis band stands for: `<name>/up` above `upper`, `<name>/down` below `lower`. */
export function expandBand(band: ScalingBand): [SustainedRule, SustainedRule] {
  const severity = band.severity ?? 'warning';
  return [
    {
      name: `${band.name}/up`,
      metric: band.metric,
      op: '>',
      threshold: band.upper,
      forMs: band.upForMs,
      severity,
      action: band.up,
      cooldownMs: band.upCooldownMs,
    },
    {
      name: `${band.name}/down`,
      metric: band.metric,
      op: '<',
      threshold: band.lower,
      forMs: band.downForMs,
      severity,
      action: band.down,
      cooldownMs: band.downCooldownMs,
    },
  ];
}

/** Problems with a band; a band whose lower edge is not below its upper edge would flap between up and down. */
export function validateBand(band: ScalingBand, at = `bands.${band?.name ?? '?'}`): string[] {
  const problems: string[] = [];
  if (!finite(band.upper) || !finite(band.lower)) {
    problems.push(`${at}: upper and lower must be numbers`);
  } else if (band.lower >= band.upper) {
    problems.push(`${at}: lower ${band.lower} must be below upper ${band.upper}, or the band scales up and down on the same value`);
  }
  const [up, down] = expandBand(band);
  for (const p of validateRule(up, `${at}.up`)) problems.push(p);
  for (const p of validateRule(down, `${at}.down`)) problems.push(p);
  if (band.up?.kind === 'scale' && finite(band.up.amount)) {
    const grows = applyScale(band.up, 10) > 10;
    if (!grows) problems.push(`${at}.up must add replicas (it would not raise 10 replicas)`);
  }
  if (band.down?.kind === 'scale' && finite(band.down.amount)) {
    const shrinks = applyScale(band.down, 10) < 10;
    if (!shrinks) problems.push(`${at}.down must remove replicas (it would not lower 10 replicas)`);
  }
  return [...new Set(problems)];
}
