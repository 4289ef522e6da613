// The Provider interface every target kind implements (local processes, compose, kubernetes, dry run).

import type { Resources } from '../core/types.js';
import type { TargetRef } from '../core/policy.js';

/** The workload reference and resources are owned by the core (policies name them, decisions propose them). */
export type { Resources, TargetRef };

export interface PodState {
  name: string;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  ready: boolean;
  /** epoch ms */
  startTime?: number;
  readyTransitionTime?: number;
  deleted?: boolean;
  /** where the replica serves traffic (local provider), e.g. http://127.0.0.1:18001 */
  endpoint?: string;
  /** OS process id (local provider) or container id (compose) for per-replica samplers */
  pid?: number;
  containerId?: string;
  /** times the replica's process/container was restarted after it crashed */
  restarts?: number;
  /** why the replica is not ready, in Kubernetes' words where they fit (CrashLoopBackOff, Unhealthy, Draining) */
  reason?: string;
  /** requests the front proxy has in flight to this replica (local provider with the built-in proxy) */
  inFlight?: number;
  /** per-container resources as declared (kubernetes: pod spec; compose: container limits) */
  containers?: Array<{ name: string; resources?: Resources }>;
}

export interface TargetState {
  /** replicas the workload is set to run (spec) */
  replicas: number;
  readyReplicas: number;
  pods: PodState[];
  resources?: Resources;
  /** what is wrong with the workload besides its replicas (e.g. the local front proxy is down); absent when nothing */
  degraded?: string[];
}

/** Something a provider did or saw on its own (a replica crashed, the front was restarted); logged and counted. */
export interface ProviderEvent {
  service: string;
  /** a stable name for counting, e.g. replica-crashed, front-restarted */
  kind: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface ScaleOptions {
  dryRun: boolean;
  /** milliseconds to wait for in-flight requests before stopping a replica */
  drainMs: number;
}

export class ProviderError extends Error {
  override name = 'ProviderError';
  /**
   * Try again within this long at the latest, whatever the usual back-off has grown to: the failure is one that ends
   * by someone else's doing (another scalepilot stops, an HPA is deleted), and a check costs one cheap read.
   */
  readonly retryInMs?: number;
  constructor(readonly provider: string, message: string, readonly retryable = true, options?: { cause?: unknown; retryInMs?: number }) {
    super(`${provider}: ${message}`, options?.cause !== undefined ? { cause: options.cause } : undefined);
    if (options?.retryInMs !== undefined) this.retryInMs = options.retryInMs;
  }
}

export interface Provider {
  readonly kind: string;
  /** close() stops the workloads this provider started (local processes), so dropping it is not harmless */
  readonly ownsWorkloads?: boolean;
  observe(t: TargetRef): Promise<TargetState>;
  scale(t: TargetRef, replicas: number, o: ScaleOptions): Promise<void>;
  resize?(t: TargetRef, r: Resources, o: { dryRun: boolean }): Promise<void>;
  close?(): Promise<void>;
}
