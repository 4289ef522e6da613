// The reconcile loop: per service, every sync period, observe → decide (core only) → act → record.
// A failing service, source or provider never stalls the others; failures are retried with back-off and recorded.
import type { Config, ServicePolicy } from '../config/load.js';
import type { MetricSource } from '../metrics/types.js';
import type { Provider, TargetState } from '../providers/types.js';
import type { Decision, History } from '../core/types.js';
import { emptyHistory } from '../core/types.js';
import { decide, historyWindowMs, appendSeries, rememberDecision, rememberScale } from '../core/decide.js';
import { buildObservation, readMetrics } from './observe.js';
import type { ControllerMetrics } from '../server/metrics.js';
import type { Store, StoreEvent, StoreLock } from '../store/types.js';
import { loadControllerHistory } from '../store/history.js';
import { recordDemand } from '../core/predict.js';
import { CHECKPOINT_INTERVAL_MS, checkpointDemandHistory, seedDemandHistory } from './demand-seed.js';
import { RecordJournal } from '../store/journal.js';
import { DEFAULT_RETENTION, Retention } from '../store/retention.js';
import { rollback, type RollbackResult } from './rollback.js';
import { Verifier, type VerificationReport } from './verify.js';
import { BudgetTracker } from './budgets.js';
import { own } from '../own.js';

export interface Logger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
}

export interface ControllerOptions {
  store: Store;
  dryRun: boolean;
  providerFor: (policy: ServicePolicy) => Provider;
  sources: Record<string, MetricSource>;
  metrics?: ControllerMetrics;
  log?: Logger;
  /** injectable clock (epoch ms) */
  now?: () => number;
  /**
   * File that keeps records waiting for the store across a crash (`run`: in the state dir, one per store). Records a
   * previous process left in it are written first, and the controller holds until they are.
   */
  journalFile?: string;
  /** called after every sync (live terminal view, dashboard) */
  onSync?: (r: SyncResult) => void;
}

export interface SyncResult {
  service: string;
  time: number;
  state?: TargetState;
  decision?: Decision;
  values: Record<string, number>;
  acted: boolean;
  error?: string;
  /** a verification of an earlier change that concluded this sync */
  verification?: VerificationReport;
}

const MAX_BACKOFF_MS = 5 * 60_000;

interface Backoff {
  failures: number;
  until: number;
  last: string;
}

class ServiceLoop {
  history: History = emptyHistory();
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
  stopped = false;
  paused: boolean;
  last: SyncResult | undefined;
  metricBackoff = new Map<string, Backoff>();
  targetBackoff: Backoff = { failures: 0, until: 0, last: '' };
  historyLoaded = false;
  /** when the forecaster was last checkpointed (0: not yet); a save in flight sets `checkpointing` */
  checkpointAt = 0;
  checkpointing = false;
  countersStarted = false;
  /** the pause state was read from the store (or set since), so the config's `paused` no longer decides it */
  pauseLoaded = false;
  steering: Promise<void> | undefined;
  /** the new policy of a changed target that waits for a prune */
  heldPolicy: ServicePolicy | undefined;

  constructor(public policy: ServicePolicy, public provider: Provider) {
    this.paused = policy.paused;
  }
}

function backoffFor(b: Backoff, periodMs: number, now: number, message: string, atMostMs = MAX_BACKOFF_MS): void {
  b.failures++;
  b.last = message;
  b.until = now + Math.min(periodMs * 2 ** (b.failures - 1), MAX_BACKOFF_MS, atMostMs);
}

const silent: Logger = { info() {}, warn() {}, error() {} };

/** What a reload left running: removed services (keptRunning) and targets whose change waits for a prune (heldTargets). */
export interface ReloadOutcome {
  keptRunning: string[];
  heldTargets: string[];
}

export class Controller {
  private loops = new Map<string, ServiceLoop>();
  /** services removed from the config whose provider still runs their workloads (until prune or stop) */
  private removed = new Map<string, ServiceLoop>();
  private now: () => number;
  private log: Logger;
  private started = false;
  /** services whose first scheduled sync has finished, and who waits for all of them (firstRound()) */
  private firstDone = new Set<string>();
  private firstRoundWaiters: Array<() => void> = [];
  readonly verifier: Verifier;
  readonly budgets: BudgetTracker;
  /** every record goes through it: what the store refuses is kept, retried, and blocks acting until written */
  private readonly journal: RecordJournal;
  private readonly retention: Retention;

  constructor(private config: Config, private opts: ControllerOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? silent;
    const registry = opts.metrics?.registry;
    this.verifier = new Verifier({ store: opts.store, log: this.log, now: this.now, ...(registry ? { registry } : {}) });
    this.budgets = new BudgetTracker({ config: () => this.config, sources: () => this.opts.sources, ...(registry ? { registry } : {}) });
    this.journal = new RecordJournal(opts.store, { ...(registry ? { registry } : {}), log: this.log, ...(opts.journalFile ? { spill: opts.journalFile } : {}) });
    this.journal.restore();
    this.retention = new Retention(opts.store, { ...(registry ? { registry } : {}), log: this.log });
    for (const p of Object.values(config.services)) this.loops.set(p.name, new ServiceLoop(p, opts.providerFor(p)));
  }

  get services(): string[] {
    return [...this.loops.keys()];
  }

  policy(service: string): ServicePolicy | undefined {
    return this.loops.get(service)?.policy;
  }

  lastSync(service: string): SyncResult | undefined {
    return this.loops.get(service)?.last;
  }

  history(service: string): History | undefined {
    return this.loops.get(service)?.history;
  }

  provider(service: string): Provider | undefined {
    return this.loops.get(service)?.provider;
  }

  isPaused(service: string): boolean {
    return this.loops.get(service)?.paused ?? false;
  }

  /** Starts every service's loop; the first sync of each runs at once. */
  start(): void {
    this.started = true;
    for (const l of this.loops.values()) this.schedule(l, 0);
  }

  /** Resolves once every service has finished one scheduled sync since start() (start-up is then over). */
  firstRound(): Promise<void> {
    if (this.started && [...this.loops.keys()].every((n) => this.firstDone.has(n))) return Promise.resolve();
    return new Promise((resolve) => this.firstRoundWaiters.push(resolve));
  }

  private noteFirstSync(service: string): void {
    this.firstDone.add(service);
    if ([...this.loops.keys()].every((n) => this.firstDone.has(n))) for (const w of this.firstRoundWaiters.splice(0)) w();
  }

  private schedule(l: ServiceLoop, delayMs: number): void {
    if (l.stopped) return;
    l.timer = setTimeout(() => {
      l.running = this.syncLoop(l).finally(() => {
        l.running = undefined;
        if (!this.firstDone.has(l.policy.name)) this.noteFirstSync(l.policy.name);
        this.schedule(l, l.policy.syncPeriodMs);
      });
    }, delayMs);
    l.timer.unref?.();
  }

  private async syncLoop(l: ServiceLoop): Promise<void> {
    try {
      while (l.steering) await l.steering;
      await this.sync(l);
    } catch (e) {
      // sync() records its own failures; anything reaching here is a bug, logged and survived, and shown as a
      // failed sync so the API and dashboard do not report a healthy service that stopped deciding.
      this.log.error({ service: l.policy.name, err: (e as Error).stack }, 'sync failed unexpectedly');
      l.last = { service: l.policy.name, time: this.now(), values: {}, acted: false, error: `internal: ${(e as Error).message}` };
    }
  }

  /** Runs one sync of one service now (tests, `run --once`). */
  async syncOnce(service: string): Promise<SyncResult> {
    const l = this.loops.get(service);
    if (!l) throw new Error(`unknown service ${service}`);
    while (l.running || l.steering) await (l.running ?? l.steering);
    const run = this.sync(l);
    l.running = run;
    try {
      await run;
    } finally {
      if (l.running === run) l.running = undefined;
    }
    return l.last!;
  }

  /** True when the event is in the store; false when it waits in the journal (and acting is blocked until written). */
  private record(e: StoreEvent): Promise<boolean> {
    return this.journal.append(e);
  }

  /** The store's writer lock this process holds (`run`); losing it holds every service like an unwritable store. */
  useStoreLock(lock: StoreLock | undefined): void {
    this.journal.useLock(lock);
  }

  /** Why services hold because of the store (records waiting to be written, writer lock lost), or undefined. */
  storeBlocked(): string | undefined {
    return this.journal.blocked();
  }

  /** Writes records still waiting for the store; true when none is left. */
  flushRecords(): Promise<boolean> {
    return this.journal.flush();
  }

  /** Records the store has not taken yet (written to the log at shutdown, so they are not lost silently). */
  pendingRecords(): readonly StoreEvent[] {
    return this.journal.waiting();
  }

  /**
   * Saves the service's forecaster every CHECKPOINT_INTERVAL_MS, in the background: a checkpoint only shortens the
   * next start, so a failed save is logged and retried at the next interval, and never holds a decision. None is
   * written while the store is blocked: a process that lost the writer lock must not overwrite the new writer's.
   */
  private checkpoint(l: ServiceLoop, now: number): void {
    if (l.checkpointing || now - l.checkpointAt < CHECKPOINT_INTERVAL_MS || !l.history.demand || this.journal.blocked()) return;
    l.checkpointAt = now;
    l.checkpointing = true;
    checkpointDemandHistory(this.opts.store, l.policy, l.history, now)
      .catch((e: unknown) => this.log.warn({ service: l.policy.name, err: (e as Error).message }, 'could not checkpoint the forecaster; retrying at the next interval'))
      .finally(() => { l.checkpointing = false; });
  }

  private async sync(l: ServiceLoop): Promise<void> {
    const p = l.policy;
    const started = this.now();
    const m = this.opts.metrics;
    const finish = (r: SyncResult) => {
      l.last = r;
      m?.syncDuration.observe({ service: p.name }, (this.now() - started) / 1000);
      m?.lastSync.set({ service: p.name }, this.now() / 1000);
      this.opts.onSync?.(r);
    };
    if (this.journal.size) await this.journal.flush(Math.min(2000, p.syncPeriodMs / 2));
    if (!l.historyLoaded) {
      try {
        l.history = await loadControllerHistory(this.opts.store, p.name, started, historyWindowMs(p));
        const seed = await seedDemandHistory(this.opts.store, p, l.history, started);
        if (seed.checkpointRefused !== undefined) this.log.warn({ service: p.name, reason: seed.checkpointRefused }, 'forecaster checkpoint not used; rebuilding its history from the recorded decisions');
        if (seed.from !== 'none') this.log.info({ service: p.name, from: seed.from, samples: seed.samples }, 'forecaster history restored');
        // the first checkpoint comes a full interval later, spread over it so services do not all save at once
        l.checkpointAt = started - Math.floor(Math.random() * CHECKPOINT_INTERVAL_MS);
        if (!l.pauseLoaded) {
          // an operator's pause or resume outlives a restart
          const last = await this.opts.store.history(p.name, 0, { kinds: ['pause', 'resume'], limit: 1 });
          if (last.length) l.paused = last[0]!.kind === 'pause';
          l.pauseLoaded = true;
        }
        l.historyLoaded = true;
      } catch (e) {
        this.log.error({ service: p.name, err: (e as Error).message }, 'could not load history; holding');
        finish({ service: p.name, time: started, values: {}, acted: false, error: `store: ${(e as Error).message}` });
        return;
      }
    }
    if (m && !l.countersStarted) {
      // counters start at 0 so Prometheus' increase() sees the first decision and the first failed read
      for (const action of ['scale-up', 'scale-down', 'hold', 'resize', 'paused']) m.decisions.inc({ service: p.name, action }, 0);
      for (const metric of Object.keys(p.metrics)) m.metricErrors.inc({ service: p.name, metric }, 0);
      m.scaleErrors.inc({ service: p.name }, 0);
      l.countersStarted = true;
    }
    m?.minReplicas.set({ service: p.name }, p.minReplicas);
    m?.maxReplicas.set({ service: p.name }, p.maxReplicas);

    // observe
    if (started < l.targetBackoff.until) {
      finish({ service: p.name, time: started, values: {}, acted: false, error: `target: backing off after ${l.targetBackoff.failures} failures (last: ${l.targetBackoff.last})` });
      return;
    }
    let state: TargetState;
    try {
      state = await l.provider.observe(p.target);
      l.targetBackoff.failures = 0;
    } catch (e) {
      const msg = (e as Error).message;
      // a provider may say when to look again (another actor holds the workload): the back-off never goes past it
      backoffFor(l.targetBackoff, p.syncPeriodMs, started, msg, (e as { retryInMs?: number }).retryInMs);
      m?.scaleErrors.inc({ service: p.name });
      this.log.warn({ service: p.name, err: msg, failures: l.targetBackoff.failures }, 'observe failed; holding');
      await this.record({ service: p.name, time: started, kind: 'error', message: `observe: ${msg}`, result: 'failed', error: msg });
      finish({ service: p.name, time: started, values: {}, acted: false, error: `observe: ${msg}` });
      return;
    }
    m?.currentReplicas.set({ service: p.name }, state.replicas);
    m?.targetDegraded.set({ service: p.name }, state.degraded?.length ? 1 : 0);

    const readings = await this.readWithProbes(l, state, started);
    for (const r of readings) {
      const b = l.metricBackoff.get(r.name) ?? { failures: 0, until: 0, last: '' };
      if (r.error !== undefined) {
        if (started >= b.until) {
          backoffFor(b, p.syncPeriodMs, started, r.error);
          l.metricBackoff.set(r.name, b);
          m?.metricErrors.inc({ service: p.name, metric: r.name });
          this.log.warn({ service: p.name, metric: r.name, err: r.error, failures: b.failures }, 'metric read failed');
        }
      } else {
        l.metricBackoff.delete(r.name);
      }
    }
    const obs = buildObservation(p, state, readings);
    for (const [k, v] of Object.entries(obs.values)) m?.metricValue.set({ service: p.name, metric: k }, v);

    // verify the last change; one that failed is rolled back, and that is this sync's action
    // a rollback is a change too: none while the store cannot record it (the check runs once records are written)
    const verification = this.journal.blocked() ? undefined : await this.verifier.check(p, l.provider, l.history, state, obs, started);
    if (verification?.rolledBack && !verification.dryRun) {
      finish({ service: p.name, time: started, state, values: obs.values, acted: true, verification });
      return;
    }
    const limits = p.uses ? await this.budgets.readLimits(p, started) : {};
    const budgets = this.budgets.views(p, state.replicas, limits);
    if (budgets) obs.budgets = budgets;

    // decide (the core is the only place decisions are made); rules read the series including this sync
    appendSeries(l.history, obs.values, started, historyWindowMs(p));
    recordDemand(l.history, p, obs.values, started);
    this.checkpoint(l, started);
    const decision = this.verifier.hold(p, decide(p, obs, l.history, started), started);
    if (p.uses) this.budgets.claim(p.name, state.replicas, l.paused || this.opts.dryRun ? state.replicas : decision.desiredReplicas, decision.proposed);
    if (l.paused) {
      decision.action = 'paused';
      decision.reason = `paused: would have ${decision.desiredReplicas === decision.currentReplicas ? 'held' : `scaled to ${decision.desiredReplicas}`} (${decision.reason})`;
    }
    const decisionEvent = (): StoreEvent => ({ service: p.name, time: started, kind: 'decision', fromReplicas: state.replicas, toReplicas: decision.desiredReplicas, decision, inputs: { values: obs.values, failures: obs.failures, readyReplicas: state.readyReplicas }, message: decision.reason, result: this.opts.dryRun ? 'dry-run' : 'ok' });
    // Fail closed: a change is made only once its decision is in the store, and never while older records wait.
    const changes = !l.paused && (decision.desiredReplicas !== state.replicas || (decision.resize !== undefined && l.provider.resize !== undefined));
    let storeHold = this.journal.blocked();
    let recorded = false;
    if (changes && !storeHold) {
      recorded = true;
      if (!(await this.record(decisionEvent()))) storeHold = this.journal.blocked() ?? 'the decision could not be written to the store';
    }
    if (storeHold && changes) {
      const would = decision.desiredReplicas !== state.replicas ? `scaled to ${decision.desiredReplicas}` : 'resized';
      decision.action = 'hold';
      decision.reason = `store cannot record changes, holding at ${state.replicas}: would have ${would} (${decision.reason})`;
      decision.desiredReplicas = state.replicas;
      delete decision.resize;
    }
    if (storeHold) decision.errors.push(`store: ${storeHold}`);
    m?.desiredReplicas.set({ service: p.name }, decision.desiredReplicas);
    m?.decisions.inc({ service: p.name, action: decision.action });
    for (const [metric, err] of Object.entries(obs.failures)) {
      if (!decision.errors.some((e) => e.includes(metric))) decision.errors.push(`${metric}: ${err}`);
    }

    // remember (windows count every sync's recommendation, as the HPA controller does)
    rememberDecision(l.history, decision, historyWindowMs(p));

    // act
    let acted = false;
    const dry = this.opts.dryRun;
    if (!l.paused && decision.desiredReplicas !== state.replicas) {
      try {
        await l.provider.scale(p.target, decision.desiredReplicas, { dryRun: dry, drainMs: p.drainMs });
        acted = !dry;
        if (!dry) {
          rememberScale(l.history, state.replicas, decision.desiredReplicas, started);
        }
        this.verifier.started(p, state.replicas, decision.desiredReplicas, obs.values, started, dry);
        await this.record({ service: p.name, time: started, kind: 'scale', fromReplicas: state.replicas, toReplicas: decision.desiredReplicas, message: decision.reason, result: dry ? 'dry-run' : 'ok' });
        this.log.info({ service: p.name, from: state.replicas, to: decision.desiredReplicas, reason: decision.reason, dryRun: dry }, 'scaled');
      } catch (e) {
        const msg = (e as Error).message;
        m?.scaleErrors.inc({ service: p.name });
        this.log.error({ service: p.name, err: msg }, 'scale failed');
        await this.record({ service: p.name, time: started, kind: 'scale', fromReplicas: state.replicas, toReplicas: decision.desiredReplicas, message: decision.reason, result: 'failed', error: msg });
        decision.errors.push(`scale: ${msg}`);
        // a provider may have applied part of it (replicas started but never ready): verification finds out
        if (!dry) this.verifier.started(p, state.replicas, decision.desiredReplicas, obs.values, started, false);
      }
    }
    if (!l.paused && decision.resize && l.provider.resize) {
      try {
        await l.provider.resize(p.target, decision.resize, { dryRun: dry });
        await this.record({ service: p.name, time: started, kind: 'resize', resources: { ...(state.resources ? { before: state.resources } : {}), after: decision.resize }, message: decision.reason, result: dry ? 'dry-run' : 'ok' });
      } catch (e) {
        const msg = (e as Error).message;
        m?.scaleErrors.inc({ service: p.name });
        await this.record({ service: p.name, time: started, kind: 'resize', resources: { after: decision.resize }, message: decision.reason, result: 'failed', error: msg });
        decision.errors.push(`resize: ${msg}`);
      }
    }
    // record the decision with its inputs (already written before acting when it led to a change)
    if (!recorded) await this.record(decisionEvent());
    const blocked = storeHold ?? this.journal.blocked();
    finish({ service: p.name, time: started, state, decision, values: obs.values, acted, ...(verification ? { verification } : {}), ...(blocked ? { error: `store: ${blocked}` } : {}) });
    if (!blocked) this.retention.tick(started, this.config.retention ?? DEFAULT_RETENTION, this.longestWindowMs());
  }

  /** The longest span any service reads back from the store; retention never deletes inside it. */
  private longestWindowMs(): number {
    let w = 0;
    for (const l of this.loops.values()) w = Math.max(w, historyWindowMs(l.policy) + l.policy.syncPeriodMs);
    return w;
  }

  /**
   * Reads every metric. A metric backing off after failures is not read, except that one metric per backing-off
   * source is read every sync as a probe: when it answers, the source's other metrics are read at once, so a source
   * that comes back is used within one sync period while a dead one costs one request per period.
   */
  private async readWithProbes(l: ServiceLoop, state: TargetState, started: number) {
    const p = l.policy;
    const now = new Date(started);
    const probes = new Map<string, string>();
    const held = (metric: string) => {
      const b = l.metricBackoff.get(metric);
      return b && started < b.until ? `backing off after ${b.failures} failed reads (last: ${b.last})` : undefined;
    };
    const readings = await readMetrics(p, this.opts.sources, state, now, (metric) => {
      const why = held(metric);
      if (!why) return undefined;
      const source = p.metrics[metric]?.source ?? '';
      if (probes.has(source)) return why;
      probes.set(source, metric);
      return undefined;
    });
    const recovered = new Set([...probes].filter(([, metric]) => readings.find((r) => r.name === metric)?.error === undefined).map(([source]) => source));
    if (recovered.size === 0) return readings;
    const again = new Set(readings.filter((r) => r.error !== undefined && held(r.name) && recovered.has(p.metrics[r.name]?.source ?? '')).map((r) => r.name));
    if (again.size === 0) return readings;
    const more = await readMetrics(p, this.opts.sources, state, now, (metric) => (again.has(metric) ? undefined : 'not read again'));
    return readings.map((r) => (again.has(r.name) ? more.find((x) => x.name === r.name) ?? r : r));
  }

  /** Replaces the metric sources (config reload); in-flight syncs finish with the old ones. */
  setSources(sources: Record<string, MetricSource>): void {
    this.opts.sources = sources;
  }

  /** Runs a steering action once the service's in-flight sync (if any) has finished, and before the next one. */
  private async exclusive<T>(l: ServiceLoop, f: () => Promise<T>): Promise<T> {
    while (l.running || l.steering) await (l.running ?? l.steering);
    const run = f();
    l.steering = run.then(() => undefined, () => undefined).finally(() => { l.steering = undefined; });
    return run;
  }

  /** Pause/resume a service: it keeps deciding and recording, but does not act. */
  async setPaused(service: string, paused: boolean, by = 'api'): Promise<void> {
    const l = this.loops.get(service);
    if (!l) throw new Error(`unknown service ${service}`);
    l.paused = paused;
    l.pauseLoaded = true;
    await this.record({ service, time: this.now(), kind: paused ? 'pause' : 'resume', message: `${paused ? 'paused' : 'resumed'} by ${by}`, result: 'ok' });
  }

  /** Manual scale (dashboard, API). Recorded as a scale event so windows and rollback see it. */
  async scaleManually(service: string, replicas: number, by = 'api'): Promise<void> {
    const l = this.loops.get(service);
    if (!l) throw new Error(`unknown service ${service}`);
    if (!Number.isInteger(replicas) || replicas < 0) throw new Error(`replicas must be a whole number >= 0, got ${replicas}`);
    return this.exclusive(l, () => this.scaleManuallyNow(l, service, replicas, by));
  }

  private async scaleManuallyNow(l: ServiceLoop, service: string, replicas: number, by: string): Promise<void> {
    await this.journal.flush();
    const blocked = this.journal.blocked();
    if (blocked) throw new Error(`not scaling ${service}: the store cannot record it (${blocked})`);
    const state = await l.provider.observe(l.policy.target);
    const now = this.now();
    try {
      await l.provider.scale(l.policy.target, replicas, { dryRun: this.opts.dryRun, drainMs: l.policy.drainMs });
    } catch (e) {
      await this.record({ service, time: now, kind: 'scale', fromReplicas: state.replicas, toReplicas: replicas, message: `manual scale by ${by}`, result: 'failed', error: (e as Error).message });
      throw e;
    }
    if (!this.opts.dryRun) rememberScale(l.history, state.replicas, replicas, now);
    await this.record({ service, time: now, kind: 'scale', fromReplicas: state.replicas, toReplicas: replicas, message: `manual scale by ${by}`, result: this.opts.dryRun ? 'dry-run' : 'ok' });
  }

  /**
   * Rolls a service back (see rollback.ts) between syncs, and counts the restored change in the behavior's rate
   * limits like any other applied scale.
   */
  async rollback(service: string, o: { toEventId?: number; dryRun?: boolean; by?: string } = {}): Promise<RollbackResult> {
    const l = this.loops.get(service);
    if (!l) throw new Error(`unknown service ${service}`);
    return this.exclusive(l, async () => {
      await this.journal.flush();
      const blocked = this.journal.blocked();
      if (blocked) throw new Error(`not rolling back ${service}: the store cannot record it (${blocked})`);
      const dryRun = this.opts.dryRun || Boolean(o.dryRun);
      const r = await rollback({
        policy: l.policy,
        store: this.opts.store,
        provider: l.provider,
        dryRun,
        now: this.now,
        ...(o.by ? { by: o.by } : {}),
        ...(o.toEventId !== undefined ? { toEventId: o.toEventId } : {}),
      });
      if (!dryRun && r.result === 'ok' && r.target.replicas !== undefined) rememberScale(l.history, r.current.replicas, r.target.replicas, this.now());
      return r;
    });
  }

  /**
   * Applies a new config. Services keep their history; a changed target gets a new provider. A reload never stops
   * workloads a provider runs (local replicas and their front) unless prune is set: a removed service is no longer
   * autoscaled but keeps running, and a changed local target waits, until prune() or a clean stop. A half-written
   * config that still parses then costs nothing.
   */
  async reload(config: Config, o: { prune?: boolean } = {}): Promise<ReloadOutcome> {
    const prune = Boolean(o.prune);
    this.config = config;
    for (const [name, l] of this.loops) {
      if (own(config.services, name)) continue;
      await this.stopLoop(l);
      this.loops.delete(name);
      this.budgets.forget(name);
      this.verifier.forget(name);
      if (!prune && l.provider.ownsWorkloads) this.removed.set(name, l);
      else await l.provider.close?.();
    }
    const held: string[] = [];
    for (const p of Object.values(config.services)) {
      let l = this.loops.get(p.name);
      if (!l) {
        const back = this.removed.get(p.name);
        this.removed.delete(p.name);
        l = back ? new ServiceLoop(back.policy, back.provider) : new ServiceLoop(p, this.opts.providerFor(p));
        this.loops.set(p.name, l);
        if (this.started) this.schedule(l, 0);
      }
      if (JSON.stringify(l.policy.target) !== JSON.stringify(p.target)) {
        if (!prune && l.provider.ownsWorkloads) {
          // keep acting on the running target; the rest of the policy applies now
          l.heldPolicy = p;
          l.policy = { ...p, target: l.policy.target };
          held.push(p.name);
          continue;
        }
        if (l.running) await l.running;
        await l.provider.close?.();
        l.provider = this.opts.providerFor(p);
      }
      l.heldPolicy = undefined;
      l.policy = p;
    }
    const kept = [...this.removed.keys()];
    this.log.info({ services: Object.keys(config.services) }, 'config reloaded');
    const how = `stop or apply them with \`kill -USR2 ${process.pid}\` (prune), or run with --prune to do it on every reload`;
    if (kept.length) this.log.warn({ services: kept, pid: process.pid }, `removed services keep running: ${kept.join(', ')} (no longer autoscaled); ${how}`);
    if (held.length) this.log.warn({ services: held, pid: process.pid }, `changed targets not applied, their replicas keep running: ${held.join(', ')}; ${how}`);
    return { keptRunning: kept, heldTargets: held };
  }

  /** Stops what removed services still run and applies held target changes (run --prune, SIGUSR2). */
  async prune(): Promise<ReloadOutcome> {
    const kept = [...this.removed.entries()];
    this.removed.clear();
    for (const [name, l] of kept) {
      await l.provider.close?.();
      this.log.info({ service: name }, 'removed service stopped');
    }
    const held: string[] = [];
    for (const l of this.loops.values()) {
      const p = l.heldPolicy;
      if (!p) continue;
      await this.exclusive(l, async () => {
        await l.provider.close?.();
        l.provider = this.opts.providerFor(p);
        l.policy = p;
        l.heldPolicy = undefined;
      });
      held.push(p.name);
      this.log.info({ service: p.name }, 'changed target applied');
    }
    return { keptRunning: kept.map(([n]) => n), heldTargets: held };
  }

  private async stopLoop(l: ServiceLoop): Promise<void> {
    l.stopped = true;
    if (l.timer) clearTimeout(l.timer);
    if (l.running) await l.running;
  }

  /** Stops every loop after its in-flight sync finishes; closes providers when asked (local replicas stop). */
  async stop(opts: { closeProviders?: boolean } = {}): Promise<void> {
    for (const l of this.loops.values()) await this.stopLoop(l);
    await this.retention.idle();
    if (opts.closeProviders) {
      for (const l of this.loops.values()) await l.provider.close?.();
      for (const l of this.removed.values()) await l.provider.close?.();
      this.removed.clear();
    }
  }
}
