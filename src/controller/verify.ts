// Verify-after-act, the orchestration: remembers each applied change, evaluates it every sync (core/verify.ts),
// rolls a failed one back through the rollback path, records why, raises the alert metric and holds the failed
// direction for its cool-off. In a dry run it records what it would have rolled back.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ServicePolicy } from '../config/load.js';
import type { Provider, TargetState } from '../providers/types.js';
import type { Decision, History, Observation } from '../core/types.js';
import type { Store } from '../store/types.js';
import { rememberScale } from '../core/decide.js';
import { applyCoolOff, coolOffAfter, evaluateVerification, startVerification, type CoolOff, type PendingVerification, type VerifyOutcome } from '../core/verify.js';
import { rollback } from './rollback.js';

export interface VerificationReport extends VerifyOutcome {
  from: number;
  to: number;
  /** the change was undone (or, in a dry run, would have been) */
  rolledBack: boolean;
  dryRun: boolean;
}

interface Log {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
}

export class Verifier {
  private pending = new Map<string, PendingVerification>();
  private coolOffs = new Map<string, CoolOff>();
  /** services whose cool-off was looked up in the store (after a restart) */
  private restored = new Set<string>();
  private results?: Counter<'service' | 'result'>;
  private failing?: Gauge<'service'>;

  constructor(private o: { store: Store; log: Log; now: () => number; registry?: Registry }) {
    if (o.registry) {
      const registers = [o.registry];
      this.results = new Counter({ name: 'scalepilot_verifications_total', help: 'Verifications of applied changes, by result (passed, failed, inconclusive, would-fail in a dry run)', labelNames: ['service', 'result'], registers });
      this.failing = new Gauge({ name: 'scalepilot_verification_failed', help: '1 while a service cools off after a change failed its verification and was rolled back', labelNames: ['service'], registers });
    }
  }

  /** The verification under way for a service, if any (dashboard, API). */
  pendingFor(service: string): PendingVerification | undefined {
    return this.pending.get(service);
  }

  coolOffFor(service: string): CoolOff | undefined {
    return this.coolOffs.get(service);
  }

  /** After a change was applied (or, in a dry run, would have been). A newer change replaces the pending one. */
  started(p: ServicePolicy, from: number, to: number, values: Record<string, number>, time: number, dryRun: boolean): void {
    if (!p.verify || from === to) return;
    const prev = this.pending.get(p.name);
    // a dry run asks for the same change every sync (nothing moves): its window runs from the first time
    if (prev && prev.from === from && prev.to === to && prev.dryRun === dryRun) return;
    const v = startVerification(p.verify, from, to, time, values, dryRun);
    // a chain of changes is compared with the values before its first step
    if (prev) v.baseline = { ...v.baseline, ...prev.baseline };
    this.pending.set(p.name, v);
  }

  /** Applies the cool-off of a failed verification to this sync's decision. */
  hold(p: ServicePolicy, d: Decision, now: number): Decision {
    const c = this.coolOffs.get(p.name);
    if (c && now >= c.until) {
      this.coolOffs.delete(p.name);
      this.failing?.set({ service: p.name }, 0);
      return d;
    }
    return applyCoolOff(d, c, now);
  }

  /**
   * Evaluates the pending verification against this sync's observation; a failed one is rolled back here (the
   * caller skips acting this sync). Returns a report when the verification concluded.
   */
  async check(p: ServicePolicy, provider: Provider, history: History, state: TargetState, obs: Observation, now: number): Promise<VerificationReport | undefined> {
    if (!this.restored.has(p.name)) await this.restore(p, now);
    const v = this.pending.get(p.name);
    if (!v) return undefined;
    if (!p.verify) {
      this.pending.delete(p.name);
      return undefined;
    }
    const out = evaluateVerification(p.verify, v, { replicas: state.replicas, readyReplicas: state.readyReplicas, values: obs.values, failures: obs.failures }, now);
    if (out.status === 'pending') return undefined;
    this.pending.delete(p.name);
    const report: VerificationReport = { ...out, from: v.from, to: v.to, rolledBack: false, dryRun: v.dryRun };
    const log = { service: p.name, from: v.from, to: v.to, reason: out.reason };
    if (out.status === 'superseded') return report;
    if (out.status === 'passed') {
      this.results?.inc({ service: p.name, result: 'passed' });
      this.o.log.info(log, 'change verified');
      return report;
    }
    if (out.status === 'inconclusive') {
      // without the numbers the change is neither confirmed nor undone; say so and alert
      this.results?.inc({ service: p.name, result: 'inconclusive' });
      this.o.log.warn(log, 'change could not be verified');
      await this.append({ service: p.name, time: now, kind: 'error', message: `verification: ${out.reason}`, result: 'failed', error: out.reason });
      return report;
    }
    this.results?.inc({ service: p.name, result: v.dryRun ? 'would-fail' : 'failed' });
    this.coolOffs.set(p.name, coolOffAfter(p.verify, v, out.reason, now));
    this.failing?.set({ service: p.name }, 1);
    if (v.dryRun) {
      this.o.log.warn(log, 'dry run: verification failed; would roll back');
      await this.append({ service: p.name, time: now, kind: 'rollback', fromReplicas: v.to, toReplicas: v.from, message: `would roll back ${v.to} → ${v.from}: verification failed: ${out.reason}`, result: 'dry-run' });
      return { ...report, rolledBack: true };
    }
    try {
      const [event] = (await this.o.store.history(p.name, v.time, { kinds: ['scale'] })).filter((e) => e.time === v.time && e.toReplicas === v.to);
      if (event?.id !== undefined) {
        const r = await rollback({ policy: p, store: this.o.store, provider, dryRun: false, now: this.o.now, by: `verification (${out.reason})`, toEventId: event.id });
        if (r.target.replicas !== undefined) rememberScale(history, r.current.replicas, r.target.replicas, now);
        this.o.log.warn({ ...log, event: r.eventId }, 'verification failed; rolled back');
      } else {
        // the change's event was not recorded (store trouble): undo exactly this change, never an older one
        await provider.scale(p.target, v.from, { dryRun: false, drainMs: p.drainMs });
        rememberScale(history, v.to, v.from, now);
        await this.append({ service: p.name, time: now, kind: 'rollback', fromReplicas: v.to, toReplicas: v.from, message: `rolled back ${v.to} → ${v.from} by verification (${out.reason})`, result: 'ok' });
        this.o.log.warn(log, 'verification failed; rolled back');
      }
      return { ...report, rolledBack: true };
    } catch (e) {
      const msg = (e as Error).message;
      this.o.log.error({ ...log, err: msg }, 'verification failed and the rollback failed');
      await this.append({ service: p.name, time: now, kind: 'error', message: `verification failed (${out.reason}) and the rollback failed: ${msg}`, result: 'failed', error: msg });
      return { ...report, reason: `${out.reason}; rollback failed: ${msg}` };
    }
  }

  /**
   * After a restart, from the store: a verification that had just rolled a change back still cools off (the restart
   * must not retry that change at once), and a change the controller made whose verification had not concluded is
   * verified to the end, against the values recorded with the decision behind it.
   */
  private async restore(p: ServicePolicy, now: number): Promise<void> {
    if (!p.verify) return;
    try {
      const events = await this.o.store.history(p.name, now - p.verify.coolOffMs, { kinds: ['rollback'], results: ['ok'] });
      const last = events.filter((e) => / by verification \(/.test(e.message ?? '')).at(-1);
      if (last && last.fromReplicas !== undefined && last.toReplicas !== undefined && !this.coolOffs.has(p.name)) {
        const reason = /by verification \((.*)\)(?::|$)/.exec(last.message!)?.[1] ?? 'verification failed';
        this.coolOffs.set(p.name, { direction: last.fromReplicas > last.toReplicas ? 'up' : 'down', until: last.time + p.verify.coolOffMs, reason });
        this.failing?.set({ service: p.name }, 1);
      }
      if (!this.pending.has(p.name)) await this.resume(p, now);
      this.restored.add(p.name);
    } catch (e) {
      // retried next sync; until then nothing is known to cool off or to verify
      this.o.log.warn({ service: p.name, err: (e as Error).message }, 'could not read past changes and rollbacks');
    }
  }

  /**
   * The newest change inside the verification's span, if the controller made it (not a manual scale, not a dry run)
   * and nothing (a rollback, another change) followed it. A verification with metric checks cannot conclude before
   * its window ends and one that fails is recorded, so within the span it had not concluded.
   */
  private async resume(p: ServicePolicy, now: number): Promise<void> {
    const spec = p.verify!;
    const span = Math.max(spec.windowMs, spec.startupAllowanceMs);
    const last = (await this.o.store.history(p.name, now - span, { kinds: ['scale', 'rollback'] })).at(-1);
    if (!last || last.kind !== 'scale' || (last.result !== 'ok' && last.result !== 'failed')) return;
    if (last.fromReplicas === undefined || last.toReplicas === undefined || last.fromReplicas === last.toReplicas) return;
    if (/^manual scale by /.test(last.message ?? '')) return;
    const decision = (await this.o.store.history(p.name, last.time, { kinds: ['decision'] })).find((e) => e.time === last.time);
    const v = startVerification(spec, last.fromReplicas, last.toReplicas, last.time, decision?.inputs?.values ?? {}, false);
    this.pending.set(p.name, v);
    this.o.log.info({ service: p.name, from: v.from, to: v.to, since: new Date(v.time).toISOString() }, 'verifying the change made before the restart');
  }

  forget(service: string): void {
    this.restored.delete(service);
    this.pending.delete(service);
    this.coolOffs.delete(service);
  }

  private async append(e: Parameters<Store['append']>[0]): Promise<void> {
    try {
      await this.o.store.append(e);
    } catch (err) {
      this.o.log.error({ service: e.service, err: (err as Error).message }, 'could not record verification');
    }
  }
}
