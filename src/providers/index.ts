// Picks the provider for a target and validates target specs (each provider's own parse step) for the config loader.
import { join, resolve } from 'node:path';
import { ComposeProvider, parseComposeSpec, type ComposeOptions, type ComposeSpec } from './compose.js';
import { processIdentity } from './lease-keeper.js';
import { DryRunProvider, parseDryRunSpec, type DryRunSpec } from './dryrun.js';
import { KubernetesProvider, parseKubernetesSpec, type KubernetesOptions, type KubernetesSpec } from './kubernetes.js';
import { LocalProvider, parseLocalSpec, type LocalSpec } from './local.js';
import { ProviderSpecError, specObject } from './spec.js';
import type { Provider, ProviderEvent, TargetRef } from './types.js';

export type ProviderKind = TargetRef['provider'];
export const PROVIDER_KINDS: readonly ProviderKind[] = ['local', 'compose', 'kubernetes', 'dryrun'];

export type TargetSpec =
  | { provider: 'local'; spec: LocalSpec }
  | { provider: 'compose'; spec: ComposeSpec }
  | { provider: 'kubernetes'; spec: KubernetesSpec }
  | { provider: 'dryrun'; spec: DryRunSpec };

/** Validates a target as written in scalepilot.yaml (`provider:` plus that provider's fields). Throws ProviderSpecError. */
export function parseTargetSpec(raw: unknown, path: string): TargetSpec {
  const o = specObject(raw, path);
  const provider = o.provider;
  switch (provider) {
    case 'local': return { provider, spec: parseLocalSpec(o, path) };
    case 'compose': return { provider, spec: parseComposeSpec(o, path) };
    case 'kubernetes': return { provider, spec: parseKubernetesSpec(o, path) };
    case 'dryrun': return { provider, spec: parseDryRunSpec(o, path) };
    case undefined:
      throw new ProviderSpecError(`${path}.provider`, 'is required', `add provider: one of ${PROVIDER_KINDS.join(', ')}`);
    default:
      throw new ProviderSpecError(`${path}.provider`, `unknown provider ${JSON.stringify(provider)}`, `use one of ${PROVIDER_KINDS.join(', ')}`);
  }
}

/**
 * What a target drives, to tell two services that would drive the same thing: a workload (`key`: the same key means
 * the same Deployment, StatefulSet or Compose service on the same cluster or Engine) or, for local targets, the
 * ports its front and replicas take (replicas always listen on loopback, so the front's host is not told apart). Dry-run targets drive nothing.
 */
export type TargetClaim =
  | { kind: 'workload'; key: string; describe: string }
  | { kind: 'ports'; listen: number; from: number; to: number }
  | { kind: 'none' };

export function targetClaim(t: TargetSpec, service: string, maxReplicas: number): TargetClaim {
  switch (t.provider) {
    case 'kubernetes': {
      const s = t.spec;
      const name = s.name ?? service;
      return { kind: 'workload', key: `k8s|${s.kubeconfig ?? ''}|${s.context ?? ''}|${s.kind}|${s.namespace}|${name}`, describe: `${s.kind} ${s.namespace}/${name}` };
    }
    case 'compose': {
      const s = t.spec;
      const name = s.service ?? service;
      return { kind: 'workload', key: `compose|${s.host ?? s.socketPath ?? ''}|${s.project}|${name}`, describe: `Compose service ${s.project}/${name}` };
    }
    case 'local':
      return { kind: 'ports', listen: t.spec.listen.port, from: t.spec.portBase, to: t.spec.portBase + Math.max(maxReplicas, t.spec.replicas, 1) - 1 };
    case 'dryrun':
      return { kind: 'none' };
  }
}

/** Validates a loaded TargetRef (spec without the provider key) — what a config validator calls per service. */
export function checkTarget(t: TargetRef, path = `services.${t.service}.target`): TargetSpec {
  return parseTargetSpec({ ...t.spec, provider: t.provider }, path);
}

export interface ProviderOptions {
  /** where providers keep files (local: proxy config and replica logs under <stateDir>/local/<service>) */
  stateDir?: string;
  /** the config file's directory; relative paths in target specs resolve against it */
  baseDir?: string;
  /** the run will not act: the local provider then starts nothing and reads the owning process's state file */
  dryRun?: boolean;
  /** observe only (reports, rollback planning): same effect as dryRun for the local provider */
  readOnly?: boolean;
  /**
   * A one-shot command that acts without a state dir (`scalepilot rollback`), named: it takes the Compose service's or
   * workload's lease for as long as it acts, as `run` does, so it is refused while a `run` drives the target.
   */
  oneShot?: string;
  log?: (msg: string) => void;
  /** every provider event (replica crashed, front restarted, ...), for logging and counting */
  onEvent?: (e: ProviderEvent) => void;
  /** compose: docker CLI path and Engine endpoint defaults */
  compose?: Omit<ComposeOptions, 'baseDir' | 'readOnly' | 'frontDir' | 'log' | 'onEvent'>;
  /** kubernetes: a ready KubeConfig and field manager */
  kubernetes?: Omit<KubernetesOptions, 'baseDir' | 'onEvent'>;
  /** dryrun: the clock recorded scales are stamped with */
  now?: () => number;
}

/**
 * A provider for a kind, or for a target (whose spec is validated first, so a bad target fails before anything runs).
 * One provider instance can serve many targets of its kind.
 */
export function createProvider(kindOrTarget: ProviderKind | TargetRef, options: ProviderOptions = {}): Provider {
  const kind = typeof kindOrTarget === 'string' ? kindOrTarget : kindOrTarget.provider;
  if (typeof kindOrTarget !== 'string') checkTarget(kindOrTarget);
  const baseDir = options.baseDir;
  // the state dir of the process that acts on targets (`run`): only it runs fronts and takes workload leases
  const acting = options.stateDir && !options.dryRun && !options.readOnly ? options.stateDir : undefined;
  // ... and every process that acts takes the leases: a `run`, or a one-shot command such as `rollback`
  const leased = !options.dryRun && !options.readOnly && (acting !== undefined || options.oneShot !== undefined);
  switch (kind) {
    case 'local':
      return new LocalProvider({
        ...(options.stateDir ? { stateDir: join(options.stateDir, 'local') } : {}),
        ...(baseDir ? { baseDir } : {}),
        ...(options.log ? { log: options.log } : {}),
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
        ...(options.dryRun || options.readOnly ? { readOnly: true } : {}),
      });
    case 'compose':
      return new ComposeProvider({
        ...options.compose,
        ...(baseDir ? { baseDir } : {}),
        ...(options.log ? { log: options.log } : {}),
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
        ...(options.dryRun || options.readOnly ? { readOnly: true } : {}),
        // Only `run` (acting, with a state dir) runs the front proxy; every acting process takes the service's lease
        // in the Engine, so that no other scalepilot drives it at the same time.
        ...(acting ? { frontDir: join(acting, 'compose') } : {}),
        ...(leased ? { lease: { identity: processIdentity(), stateDir: acting ? resolve(acting) : `none (${options.oneShot})` } } : {}),
      });
    case 'kubernetes':
      return new KubernetesProvider({
        ...options.kubernetes,
        ...(baseDir ? { baseDir } : {}),
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
        ...(options.dryRun || options.readOnly ? { readOnly: true } : {}),
        // the acting process takes each workload's Lease, as the compose provider does
        ...(leased ? { lease: { identity: processIdentity() } } : {}),
      });
    case 'dryrun':
      // one provider per service, and nothing in a controller reads its records: a few for a debugger, no more
      return new DryRunProvider({ keep: 8, ...(options.now ? { now: options.now } : {}) });
    default:
      throw new ProviderSpecError('target.provider', `unknown provider ${JSON.stringify(kind)}`, `use one of ${PROVIDER_KINDS.join(', ')}`);
  }
}

export { ProviderError } from './types.js';
export type { Provider, ProviderEvent, TargetRef, TargetState, PodState, Resources, ScaleOptions } from './types.js';
export { ProviderSpecError } from './spec.js';
export { LocalProvider, parseLocalSpec, type LocalSpec } from './local.js';
export { ComposeProvider, parseComposeSpec, type ComposeSpec } from './compose.js';
export { KubernetesProvider, parseKubernetesSpec, type KubernetesSpec } from './kubernetes.js';
export { DryRunProvider, parseDryRunSpec, type DryRunSpec } from './dryrun.js';
