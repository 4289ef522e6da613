// Rollback: put a service back to the replicas and resources it had before its last applied change (or before a
// chosen event), through its provider, and record that as a 'rollback' event. Used by the CLI and the dashboard.
import type { ServicePolicy } from '../config/load.js';
import type { Provider, Resources } from '../providers/types.js';
import type { Store, StoreEvent } from '../store/types.js';
import { InputError } from '../errors.js';

/** Kinds that change a running service, and so can be undone. */
const CHANGES = ['scale', 'resize', 'rollback'] as const;

/** There is nothing to undo (no applied change, or the service already is as it was). Exit code 1, not bad input. */
export class NothingToRollBack extends Error {
  override name = 'NothingToRollBack';
}

export interface RollbackRequest {
  policy: ServicePolicy;
  store: Store;
  provider: Provider;
  /** restore the state before this event instead of before the last applied change */
  toEventId?: number;
  dryRun?: boolean;
  /** who asked (recorded in the event message) */
  by?: string;
  now?: () => number;
}

export interface RollbackPlan {
  service: string;
  /** the event whose "before" state is restored */
  undoes: StoreEvent;
  current: { replicas: number; resources?: Resources };
  target: { replicas?: number; resources?: Resources };
  /** one clause per change, e.g. "replicas 5 → 3" */
  changes: string[];
  /** outside the policy's current bounds, etc.; the rollback still happens as asked */
  warnings: string[];
}

export interface RollbackResult extends RollbackPlan {
  result: 'ok' | 'dry-run';
  /** id of the recorded 'rollback' event */
  eventId: number;
  message: string;
}

function describeEvent(e: StoreEvent): string {
  const what = e.fromReplicas !== undefined && e.toReplicas !== undefined ? ` ${e.fromReplicas}→${e.toReplicas}` : '';
  return `event #${e.id} (${e.kind}${what} at ${new Date(e.time).toISOString()})`;
}

/** The state recorded as "before" an event: replicas it started from, resources it replaced. */
function stateBefore(e: StoreEvent): RollbackPlan['target'] {
  const t: RollbackPlan['target'] = {};
  const fromReplicas = e.fromReplicas ?? (e.kind === 'decision' ? e.decision?.currentReplicas : undefined);
  // a resize event's replica counts are context, not part of the change
  if (fromReplicas !== undefined && e.kind !== 'resize') t.replicas = fromReplicas;
  if (e.resources?.before) t.resources = e.resources.before;
  return t;
}

const sameResources = (a: Resources | undefined, b: Resources | undefined) => JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));

function normalize(r: Resources | undefined): Resources {
  const out: Resources = {};
  for (const f of ['requests', 'limits'] as const) {
    const v = r?.[f];
    if (!v) continue;
    const entries = Object.entries(v).filter(([, q]) => q !== undefined).sort(([a], [b]) => a.localeCompare(b));
    if (entries.length) out[f] = Object.fromEntries(entries);
  }
  return out;
}

const fmtResources = (r: Resources | undefined) => {
  const n = normalize(r);
  const parts = (['requests', 'limits'] as const).flatMap((f) => Object.entries(n[f] ?? {}).map(([k, v]) => `${k} ${f} ${v}`));
  return parts.length ? parts.join(', ') : 'none';
};

async function findEvent(req: RollbackRequest): Promise<StoreEvent> {
  const service = req.policy.name;
  if (req.toEventId !== undefined) {
    if (!Number.isSafeInteger(req.toEventId) || req.toEventId <= 0) throw new InputError(`--to ${req.toEventId}: event ids are whole numbers >= 1 (see \`scalepilot history ${service}\`)`);
    const e = await req.store.get(req.toEventId);
    if (!e) throw new InputError(`--to ${req.toEventId}: no such event; list them with \`scalepilot history ${service} --since 7d\``);
    if (e.service !== service) throw new InputError(`--to ${req.toEventId}: that event belongs to service ${e.service}, not ${service}`);
    return e;
  }
  const [last] = await req.store.history(service, 0, { kinds: CHANGES, results: ['ok'], limit: 1 });
  if (!last) throw new NothingToRollBack(`nothing to roll back: ${service} has no applied scale, resize or rollback in the store`);
  return last;
}

/** Works out what a rollback would do, without acting or recording. */
export async function planRollback(req: RollbackRequest): Promise<RollbackPlan> {
  const p = req.policy;
  const undoes = await findEvent(req);
  const target = stateBefore(undoes);
  if (target.replicas === undefined && target.resources === undefined) {
    const why = undoes.kind === 'resize' ? 'it recorded no resources before the change' : 'it recorded no replica count or resources before it';
    throw new InputError(`cannot roll back to before ${describeEvent(undoes)}: ${why}; pick another with --to (see \`scalepilot history ${p.name}\`)`);
  }
  const state = await req.provider.observe(p.target);
  const current: RollbackPlan['current'] = { replicas: state.replicas, ...(state.resources ? { resources: state.resources } : {}) };
  const changes: string[] = [];
  if (target.replicas !== undefined && target.replicas !== current.replicas) changes.push(`replicas ${current.replicas} → ${target.replicas}`);
  if (target.resources !== undefined && !sameResources(target.resources, current.resources)) changes.push(`resources ${fmtResources(current.resources)} → ${fmtResources(target.resources)}`);
  if (changes.length === 0) {
    const parts = [target.replicas !== undefined ? `${target.replicas} replicas` : '', target.resources ? `resources ${fmtResources(target.resources)}` : ''].filter(Boolean).join(' and ');
    throw new NothingToRollBack(`nothing to roll back: ${p.name} already runs ${parts}, the state before ${describeEvent(undoes)}`);
  }
  const warnings: string[] = [];
  if (target.replicas !== undefined && (target.replicas < p.minReplicas || target.replicas > p.maxReplicas)) {
    warnings.push(`${target.replicas} replicas is outside the policy's current bounds ${p.minReplicas}..${p.maxReplicas}; a running controller will move it back`);
  }
  if (target.resources !== undefined && !sameResources(target.resources, current.resources) && !req.provider.resize) {
    throw new InputError(`cannot roll back resources of ${p.name}: the ${req.provider.kind} provider cannot resize; roll back replicas only with --to an earlier scale event`);
  }
  return { service: p.name, undoes, current, target, changes, warnings };
}

/**
 * Restores the state before the last applied change (or before `toEventId`) and records a 'rollback' event.
 * Throws NothingToRollBack when there is nothing to undo, InputError for a bad event id, and the provider's error
 * (after recording a failed 'rollback' event) when acting fails.
 */
export async function rollback(req: RollbackRequest): Promise<RollbackResult> {
  const plan = await planRollback(req);
  const p = req.policy;
  const dryRun = req.dryRun ?? false;
  const now = req.now ?? Date.now;
  const message = `rolled back to before ${describeEvent(plan.undoes)}${req.by ? ` by ${req.by}` : ''}: ${plan.changes.join('; ')}`;
  const replicasChange = plan.target.replicas !== undefined && plan.target.replicas !== plan.current.replicas;
  const resourcesChange = plan.target.resources !== undefined && !sameResources(plan.target.resources, plan.current.resources);
  const event: StoreEvent = {
    service: p.name,
    time: now(),
    kind: 'rollback',
    fromReplicas: plan.current.replicas,
    toReplicas: replicasChange ? plan.target.replicas! : plan.current.replicas,
    ...(resourcesChange ? { resources: { ...(plan.current.resources ? { before: plan.current.resources } : {}), after: plan.target.resources! } } : {}),
    message,
    result: dryRun ? 'dry-run' : 'ok',
  };
  try {
    // resources first: a replica change then starts replicas with the restored resources
    if (resourcesChange) await req.provider.resize!(p.target, plan.target.resources!, { dryRun });
    if (replicasChange) await req.provider.scale(p.target, plan.target.replicas!, { dryRun, drainMs: p.drainMs });
  } catch (e) {
    const error = (e as Error).message;
    await req.store.append({ ...event, result: 'failed', error });
    throw e;
  }
  const eventId = await req.store.append(event);
  return { ...plan, result: dryRun ? 'dry-run' : 'ok', eventId, message };
}
