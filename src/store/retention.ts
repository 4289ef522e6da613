// Retention: per-sync records (decisions, errors) are kept for `decisions`, changes and steering actions for
// `events`. Deletes run in small batches at most every `everyMs`, off the sync path, so the store stays bounded
// without one long write.
import { Counter, type Registry } from 'prom-client';
import type { Store } from './types.js';

export interface RetentionPolicy {
  decisionsMs: number;
  eventsMs: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { decisionsMs: 14 * 86_400_000, eventsMs: 90 * 86_400_000 };

export interface RetentionOptions {
  everyMs?: number;
  batch?: number;
  registry?: Registry;
  log?: { warn(o: object, msg?: string): void };
}

export class Retention {
  private next = 0;
  private running: Promise<void> | undefined;
  private readonly pruned?: Counter;
  /** rows deleted so far */
  deleted = 0;

  constructor(private readonly store: Store, private readonly o: RetentionOptions = {}) {
    const r = o.registry;
    if (r) {
      this.pruned = (r.getSingleMetric('scalepilot_store_pruned_total') as Counter | undefined) ?? new Counter({ name: 'scalepilot_store_pruned_total', help: 'Events deleted by retention', registers: [r] });
      this.pruned.inc(0);
    }
  }

  /**
   * Starts a pass if one is due at `now` (the controller's clock) and none is running. `floorMs` is the longest span
   * the controller itself reads back (stabilization windows, `for:`, forecast lookback): never pruned below it.
   */
  tick(now: number, policy: RetentionPolicy, floorMs: number): void {
    if (!this.store.prune || this.running || now < this.next) return;
    this.next = now + (this.o.everyMs ?? 10 * 60_000);
    const decisionsBefore = now - Math.max(policy.decisionsMs, floorMs);
    const eventsBefore = now - Math.max(policy.eventsMs, policy.decisionsMs, floorMs);
    this.running = this.pass(decisionsBefore, eventsBefore).finally(() => { this.running = undefined; });
  }

  /** Resolves when the pass in progress (if any) is done. */
  async idle(): Promise<void> {
    await this.running;
  }

  private async pass(decisionsBefore: number, eventsBefore: number): Promise<void> {
    const batch = this.o.batch ?? 2000;
    try {
      for (;;) {
        const n = await this.store.prune!({ decisionsBefore, eventsBefore, limit: batch });
        this.deleted += n;
        this.pruned?.inc(n);
        if (n < batch) return;
        // let syncs write between batches
        await new Promise((r) => setImmediate(r));
      }
    } catch (e) {
      this.o.log?.warn({ err: (e as Error).message }, 'retention could not delete old events; trying again later');
    }
  }
}
