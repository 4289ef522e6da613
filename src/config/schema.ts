// The scalepilot.yaml schema (zod): the typed shape every command reads, and the JSON Schema editors use.
import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { parseMilli } from '../core/quantity.js';
import { HpaMetricSpecSchema } from './hpa-spec.js';
import { SERVICE_NAME, SERVICE_NAME_MAX } from './names.js';
import { MAX_REPLICAS } from '../core/types.js';

/** A replica count in a config: a whole number up to MAX_REPLICAS, the most the API's manual scale takes too. */
const Replicas = z.number().int().min(0).max(MAX_REPLICAS, { message: `at most ${MAX_REPLICAS} replicas` });

const durationRe = /^(\d+(\.\d+)?(ms|s|m|h|d|w))+$|^\d+(\.\d+)?$/;

const MAX_DURATION_MS = 3650 * 86_400_000;

/** A duration written as 15s / 5m / 1h (or plain seconds); parsed to milliseconds. */
export const Duration = z
  .union([z.string(), z.number()], { error: 'is not a duration; write it like 15s, 5m, 1h or 1h30m' })
  .refine((v) => (typeof v === 'number' ? v >= 0 : durationRe.test(v.trim())), {
    message: 'is not a duration; write it like 15s, 5m, 1h or 1h30m',
  })
  .transform((v) => parseDuration(v))
  // past ten years a duration is a typo (and 1e308 seconds is no number of milliseconds at all)
  .refine((ms) => ms <= MAX_DURATION_MS, { message: 'must be at most 3650d; write it like 15s, 5m, 1h or 90d' })
  .meta({ description: 'Duration: 15s, 5m, 1h, 1h30m, 500ms, or plain seconds', examples: ['15s', '5m', '1h'] });

/** A wait the controller runs on a timer: at most 24h (a timer past about 24.8 days fires at once). */
const TimerDuration = Duration.refine((ms) => ms <= 86_400_000, { message: 'must be at most 24h; write it like 30s or 5m' });

/** How often a service is synced: a period under a second (or past a day, where timers overflow) is a busy loop. */
const SyncPeriod = Duration.refine((ms) => ms >= 1000 && ms <= 86_400_000, {
  message: 'must be from 1s to 24h; write it like 15s or 1m',
});

/** Why a resource quantity is unusable (unparsable, infinite, zero or negative), or undefined when it is fine. */
function quantityProblem(v: string | number): string | undefined {
  if (typeof v === 'number' && !Number.isFinite(v)) return `${v} is not a finite quantity`;
  if (/^[-+]?(\.?inf(inity)?|nan)$/i.test(String(v).trim())) return `${v} is not a finite quantity; write a positive Kubernetes quantity like 500m, 1.5, 512Mi, 2Gi`;
  let milli: number;
  try {
    milli = parseMilli(v);
  } catch (e) {
    return (e as Error).message;
  }
  // a zero or negative request makes every Utilization target undefined, so the HPA would never scale
  if (!(milli > 0)) return `${JSON.stringify(String(v))} must be greater than zero (write a positive Kubernetes quantity like 500m, 1.5, 512Mi, 2Gi)`;
  return undefined;
}

const Quantity = z
  // YAML reads .inf and 1e400 as Infinity, which z.number() would refuse with a bare "invalid input"
  .preprocess((v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), z.union([z.string(), z.number()]))
  .superRefine((v, ctx) => {
    const problem = quantityProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((v) => String(v))
  .meta({ description: 'Kubernetes quantity: 500m, 1.5, 2Gi, 512Mi' });

const ResourceList = z.strictObject({ cpu: Quantity.optional(), memory: Quantity.optional() });
export const ResourcesSchema = z.strictObject({ requests: ResourceList.optional(), limits: ResourceList.optional() });

const SourceSchema = z
  .looseObject({
    type: z.enum(['prometheus', 'process', 'redis', 'postgres', 'kubernetes', 'docker', 'trace']),
  })
  .meta({ description: 'A metric source; the other fields depend on type (url, file, ...)' });

const MetricSchema = z.strictObject({
  source: z.string().min(1).meta({ description: 'name of an entry under sources' }),
  query: z.string().min(1).meta({ description: 'PromQL, redis key, sql, cpu/memory (process), series name (trace)' }),
  params: z.record(z.string(), z.unknown()).optional(),
  perPod: z.boolean().optional().meta({ description: 'samples are per replica (labelled pod), as Resource/Pods metrics need' }),
  unit: z.string().optional(),
});

const TargetSchema = z
  .looseObject({ provider: z.enum(['local', 'compose', 'kubernetes', 'dryrun']) })
  .meta({ description: 'What to scale; the other fields depend on provider' });

const ScalingPolicy = z.strictObject({
  type: z.enum(['Pods', 'Percent']),
  value: z.number().int().positive(),
  periodSeconds: z.number().int().positive().max(1800),
});
const ScalingRules = z.strictObject({
  stabilizationWindowSeconds: z.number().int().min(0).max(3600).optional(),
  selectPolicy: z.enum(['Max', 'Min', 'Disabled']).optional(),
  policies: z.array(ScalingPolicy).optional(),
  tolerance: z.union([z.number(), z.string()]).optional(),
});
export const BehaviorSchema = z.strictObject({ scaleUp: ScalingRules.optional(), scaleDown: ScalingRules.optional() });

const HpaSchema = z.strictObject({
  metrics: z
    .array(HpaMetricSpecSchema)
    .default([])
    .meta({ description: 'autoscaling/v2 MetricSpec list, exactly as in a HorizontalPodAutoscaler; metric names refer to this service\'s metrics' }),
  behavior: BehaviorSchema.optional(),
  tolerance: z.number().min(0).max(1).optional(),
  kubernetesVersion: z.string().optional().meta({ description: 'Kubernetes release whose HPA controller is imitated where releases differ, e.g. "1.37" (the default) or "1.38" for master', examples: ['1.37'] }),
});

// YAML reads `then: +1` as the number 1, so numbers are accepted as replica steps.
const RuleAction = z.union([z.string(), z.number()]).transform((v) => (typeof v === 'number' ? (v >= 0 ? `+${v}` : String(v)) : v)).meta({
  description: 'What a firing rule does: +1, -1, +2, +50%, -25%, x2, =5, or "cpu requests +25% max 4" for a vertical step',
  examples: ['+1', '-1', '+50%', 'x2', '=10', 'cpu requests +25% max 4', 'memory limits +512Mi max 4Gi'],
});

const RuleSchema = z.strictObject({
  name: z.string().min(1),
  when: z.string().meta({ description: 'metric op threshold, e.g. "cpu > 70"', examples: ['cpu > 70', 'p95_latency >= 0.5'] }),
  for: Duration.prefault(0),
  then: RuleAction,
  severity: z.enum(['warning', 'critical']).default('warning'),
  cooldown: Duration.optional(),
});

const BandSchema = z.strictObject({
  metric: z.string(),
  upper: z.number(),
  lower: z.number(),
  for: Duration.prefault(0),
  step: z.number().int().positive().default(1),
  cooldown: Duration.optional(),
});

const QueueSchema = z.strictObject({
  metric: z.string().meta({ description: 'a metric of this service giving the queue length (total, not per replica)' }),
  targetPerReplica: z.number().positive(),
  activationThreshold: z.number().min(0).default(0),
  minReplicas: Replicas.optional().meta({ description: 'minReplicaCount; 0 allows scale to zero' }),
  idleReplicas: Replicas.optional(),
  cooldownPeriod: Duration.prefault('5m'),
  fallback: z.strictObject({ failureThreshold: z.number().int().positive(), replicas: Replicas }).optional(),
});

const ScheduleSchema = z.strictObject({
  name: z.string().optional(),
  cron: z.string().meta({ description: 'five-field cron (minute hour day-of-month month day-of-week), UTC unless timezone' }),
  duration: Duration,
  minReplicas: Replicas.optional(),
  maxReplicas: Replicas.min(1).optional(),
  timezone: z.string().optional(),
});

const PredictiveSchema = z.strictObject({
  metric: z.string(),
  model: z.enum(['linear', 'holt-winters', 'seasonal']).default('holt-winters'),
  horizon: Duration.optional().meta({ description: 'how far ahead to forecast; default 10m, or start-up + readiness delay for the seasonal model' }),
  lookback: Duration.optional().meta({ description: 'history kept for the forecast; default 1d, or 15d for the seasonal model' }),
  seasonLength: Duration.optional(),
  capacityPerReplica: z.number().positive().optional(),
  season: z.enum(['auto', '5m', '15m', '30m', '1h', '1d', '1w', 'off']).optional().meta({ description: 'seasonal model: detect seasons among 5m, 15m, 30m, 1h (timers, cron), 1d and 1w and forecast the highest of those found (auto), force one, or use the last value only (off)' }),
  headroomQuantile: z.number().min(0.5).max(1).optional().meta({ description: 'seasonal model: headroom is this quantile of recent actual/forecast ratios (default 0.99; 1 = the worst)' }),
  method: z.enum(['level', 'change']).optional().meta({ description: "seasonal model: 'level' forecasts last season's values scaled to today's level (default); 'change' adds last season's change over the horizon to the current value" }),
  errorModel: z.enum(['ratio', 'sqrt']).optional().meta({ description: "seasonal model: headroom from actual/forecast ratios (ratio, default: errors grow with demand) or from errors divided by the square root of the forecast (sqrt: errors of many independent clients, small at low demand)" }),
  errorWindow: Duration.optional().meta({ description: 'seasonal model: how long forecast errors are remembered for the headroom quantile (default 1d, at most the lookback)' }),
  dropHold: Duration.optional().meta({ description: 'seasonal model: when demand falls below every forecast error of the error window (an outage upstream, a failover), keep forecasting from before the drop until it is back within them, for at most this long, so the replicas are there when the traffic returns (default 2h; 0s: never)' }),
  burst: z.boolean().optional().meta({ description: 'seasonal model: also size scale-up from the rate of increase over the start-up delay (default true)' }),
  targetUtilization: z.number().positive().max(100).optional().meta({ description: 'seasonal model: percent of capacityPerReplica a forecast may fill (default: what the slo allows)' }),
});

const CapacitySchema = z.strictObject({
  rpsPerReplica: z.number().positive().optional(),
  file: z.string().optional().meta({ description: 'a capacity file saved by `scalepilot loadtest --find-capacity --save`' }),
  startupDelay: Duration.prefault('30s'),
  readinessDelay: Duration.prefault('0s'),
  latency: z
    .strictObject({ base: Duration, p95AtFull: Duration.optional() })
    .optional()
    .meta({ description: 'latency model for simulation: p95 at low utilization and at 100%' }),
});

const SloSchema = z.strictObject({
  p95: Duration.refine((ms) => ms > 0, { message: 'must be above 0 (every request takes some time); write it like 250ms' }).optional(),
  maxUtilization: z.number().positive().max(100).optional().meta({ description: 'percent of capacity' }),
});

const percentRe = /^\d+(\.\d+)?%$/;
/** A fraction written 0.3 or "30%". */
const Fraction = z
  .union([z.number().min(0).lt(1), z.string().regex(percentRe, 'write a percentage like 30%')])
  .transform((v) => (typeof v === 'number' ? v : Number(v.slice(0, -1)) / 100))
  .refine((v) => v < 1, { message: 'must be below 100%' })
  .meta({ description: 'a fraction: 0.3 or "30%"' });

/** How much worse a value may get: a number in the metric's own unit, or "20%" of the value before the change. */
const Margin = z
  .union([z.number().min(0), z.string().regex(percentRe, 'write a margin like 20% or a number in the metric\'s unit')])
  .transform((v) => (typeof v === 'number' ? { absolute: v } : { relative: Number(v.slice(0, -1)) / 100 }))
  .meta({ description: 'allowed worsening: a number in the metric\'s unit, or "20%" of the value before the change' });

const BudgetSchema = z
  .strictObject({
    limit: z
      .union([z.number().positive(), z.strictObject({ source: z.string().min(1), query: z.string().min(1) })])
      .meta({ description: 'the shared limit (e.g. 500), or read live: { source: pg, query: max_connections }' }),
    headroom: Fraction.prefault(0).meta({ description: 'part of the limit kept free, e.g. 30%' }),
    reserved: z.number().min(0).default(0).meta({ description: 'used by clients scalepilot does not scale (admin sessions, jobs)' }),
    kind: z.enum(['connections', 'tokens', 'other']).default('connections'),
    unit: z.string().optional(),
  })
  .meta({ description: 'A limit several services share, e.g. a database\'s max_connections; services declare `uses` per replica' });

const VerifyCheck = z.strictObject({
  metric: z.string().min(1).meta({ description: 'a metric of this service' }),
  margin: Margin,
});

export const VerifySchema = z
  .strictObject({
    window: Duration.prefault('2m').meta({ description: 'how long after a change it is checked' }),
    startupAllowance: Duration.optional().meta({ description: 'new replicas must be ready within this (default: the window)' }),
    errorRate: VerifyCheck.optional(),
    p95: VerifyCheck.optional(),
    coolOff: Duration.prefault('10m').meta({ description: 'after a failed check, changes in that direction wait this long' }),
  })
  .meta({ description: 'Verify each applied change and roll it back if replicas do not get ready or error rate / p95 got worse' });

export const ServiceSchema = z.strictObject({
  target: TargetSchema,
  minReplicas: Replicas.default(1),
  maxReplicas: Replicas.min(1),
  syncPeriod: SyncPeriod.optional(),
  drainTimeout: TimerDuration.prefault('30s'),
  resources: ResourcesSchema.optional(),
  metrics: z.record(z.string(), MetricSchema).default({}),
  hpa: HpaSchema.optional(),
  rules: z.array(RuleSchema).default([]),
  bands: z.array(BandSchema).default([]),
  queue: QueueSchema.optional(),
  schedules: z.array(ScheduleSchema).default([]),
  predictive: PredictiveSchema.optional(),
  capacity: CapacitySchema.optional(),
  slo: SloSchema.optional(),
  cost: z.strictObject({ perReplicaHour: z.number().min(0) }).optional(),
  limits: z
    .strictObject({
      maxConnections: z.number().int().positive().optional(),
      connectionsHeadroom: z.number().min(0).max(1).default(0.3),
      tokenQuotaPerMinute: z.number().positive().optional(),
    })
    .optional(),
  paused: z.boolean().default(false),
  uses: z
    .record(z.string(), z.union([z.number().positive(), z.strictObject({ perRequest: z.number().positive().meta({ description: 'e.g. model-API tokens one request uses' }) })]))
    .optional()
    .meta({ description: 'per replica, how much of each shared budget it uses: { maindb: 20 } connections, or { llm: { perRequest: 800 } } (× capacity.rpsPerReplica × 60 per minute)' }),
  priority: z.number().int().optional().meta({ description: 'when shared budgets run short, higher priorities get their replicas first (default 0)' }),
  verify: z.union([z.literal(false), VerifySchema]).optional().meta({ description: 'verification after each change (replaces the top-level verify; false turns it off)' }),
});

export const ConfigSchema = z
  .strictObject({
    version: z.literal(1).default(1),
    syncPeriod: SyncPeriod.prefault('15s'),
    store: z.string().default('sqlite:.scalepilot/scalepilot.db').meta({ description: 'sqlite:PATH or postgres://...' }),
    server: z
      .strictObject({
        listen: z.string().default('127.0.0.1:9464'),
        token: z.string().optional().meta({ description: 'bearer token for steering; env:NAME reads it from the environment' }),
        allowedHosts: z
          .array(z.string().min(1))
          .optional()
          .meta({ description: 'host names the API answers to besides the listen address, localhost and IP literals (Host header check against DNS rebinding)', examples: [['scalepilot.internal']] }),
      })
      .optional(),
    sources: z.record(z.string(), SourceSchema).default({}),
    budgets: z.record(z.string().regex(/^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$/, 'budget names are lowercase letters, digits, - and _'), BudgetSchema).optional(),
    verify: VerifySchema.optional().meta({ description: 'verification after each change, for every service that does not set its own' }),
    retention: z
      .strictObject({
        decisions: Duration.prefault('14d').meta({ description: 'how long decisions and errors (one per sync) are kept' }),
        events: Duration.prefault('90d').meta({ description: 'how long scale, resize, rollback, pause and config events are kept' }),
      })
      .optional()
      .meta({ description: 'store retention; never shorter than what the controller reads back (windows, forecast lookback)' }),
    services: z.record(z.string().regex(SERVICE_NAME, 'service names are lowercase letters, digits, - and _').max(SERVICE_NAME_MAX, `service names are at most ${SERVICE_NAME_MAX} characters`), ServiceSchema),
  })
  .meta({ title: 'scalepilot.yaml', description: 'scalepilot configuration' });

export type RawConfig = z.output<typeof ConfigSchema>;
export type RawService = z.output<typeof ServiceSchema>;

/** JSON Schema of scalepilot.yaml (input side, so editors accept "15s" for durations). */
export function configJsonSchema(): Record<string, unknown> {
  const s = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { $id: 'https://scalepilot.dev/schema/scalepilot.json', ...s };
}
