// The OpenAPI 3.1 description of the HTTP API, served at /api/v1/openapi.json. Tests check that every registered
// route is described here (and nothing else), and that real responses match these schemas.
import { MAX_REPLICAS } from '../core/types.js';
import { EVENT_KINDS, EVENT_RESULTS } from '../store/types.js';
import { SERVICE_STATUSES } from './status.js';
import { ALERT_KINDS } from './alerts.js';
import { REPORT_KINDS } from './reports.js';
import { serverVersion } from './version.js';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (type: string): Schema => ({ type: [type, 'null'] });
const obj = (properties: Record<string, Schema>, required: string[] = Object.keys(properties), extra: Schema = {}): Schema => ({ type: 'object', properties, required, ...extra });
const arr = (items: Schema): Schema => ({ type: 'array', items });
const numMap: Schema = { type: 'object', additionalProperties: { type: 'number' } };
const strMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };
const epochMs: Schema = { type: 'number', description: 'epoch milliseconds' };

const serviceParam = { name: 'service', in: 'path', required: true, schema: { type: 'string' }, description: 'service name from the config' };
const sinceParam = (dflt: string) => ({
  name: 'since', in: 'query', required: false, schema: { type: 'string' },
  description: `a duration back from now (15m, 24h, 7d), an ISO time or epoch milliseconds; default ${dflt}`,
});
const limitParam = { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } };
const beforeParam = { name: 'before', in: 'query', required: false, schema: { type: 'integer', minimum: 1 }, description: 'only events with a smaller id: the nextBefore of the previous page' };

const json = (schema: Schema, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const err = (description: string) => json(ref('Error'), description);
const steeringErrors = {
  '401': err('missing or wrong bearer token'),
  '403': err('steering is disabled: the server has no token, or serves a read-only store'),
  '404': err('no such service'),
};

const schemas: Record<string, Schema> = {
  Error: obj({ error: { type: 'string' }, statusCode: { type: 'integer' } }, ['error']),
  ServerInfo: obj({
    name: { type: 'string' },
    version: { type: 'string' },
    time: epochMs,
    config: { type: 'string', description: 'the config file served' },
    services: { type: 'integer' },
    dryRun: { type: 'boolean' },
    readOnlyStore: { type: 'boolean' },
    steering: obj({ enabled: { type: 'boolean' }, reason: nullable('string') }),
    reports: { type: 'boolean', description: 'a reports directory is configured' },
  }),
  Utilization: obj({
    metric: { type: 'string' },
    kind: { type: 'string', enum: ['Resource', 'ContainerResource', 'Pods', 'Object', 'External', 'queue'] },
    current: nullable('number'),
    target: { type: 'number' },
    ratio: { ...nullable('number'), description: 'current / target; above 1 is over target' },
    unit: { type: 'string' },
    perReplica: { type: 'boolean' },
  }),
  Alert: obj({
    service: { type: 'string' },
    kind: { type: 'string', enum: [...ALERT_KINDS] },
    severity: { type: 'string', enum: ['warning', 'critical'] },
    since: epochMs,
    message: { type: 'string' },
  }),
  DecisionSummary: obj({ time: epochMs, action: { type: 'string' }, reason: { type: 'string' }, reasonCode: { type: 'string' } }),
  ServiceSummary: obj({
    service: { type: 'string' },
    status: { type: 'string', enum: [...SERVICE_STATUSES], description: 'IMMEDIATE: at maxReplicas while proposing more; SOON: a capacity rule pending/firing, metric errors or a failed sync; DEGRADED: the target is impaired besides its replicas (front proxy down)' },
    statusReasons: arr({ type: 'string' }),
    paused: { type: 'boolean' },
    provider: { type: 'string' },
    minReplicas: { type: 'integer' },
    maxReplicas: { type: 'integer' },
    currentReplicas: nullable('integer'),
    readyReplicas: nullable('integer'),
    desiredReplicas: nullable('integer'),
    values: numMap,
    metricErrors: arr({ type: 'string' }),
    utilization: arr(ref('Utilization')),
    lastDecision: { oneOf: [ref('DecisionSummary'), { type: 'null' }] },
    error: nullable('string'),
    alerts: arr(ref('Alert')),
    source: { type: 'string', enum: ['controller', 'store', 'none'] },
    updated: { ...nullable('number'), description: 'epoch ms of the sync or stored decision shown' },
  }),
  Proposal: obj({
    source: { type: 'string' },
    name: { type: 'string' },
    replicas: nullable('integer'),
    detail: { type: 'string' },
  }),
  Decision: obj(
    {
      service: { type: 'string' },
      time: epochMs,
      currentReplicas: { type: 'integer' },
      desiredReplicas: { type: 'integer' },
      action: { type: 'string', enum: ['scale-up', 'scale-down', 'hold', 'resize', 'paused'] },
      reason: { type: 'string' },
      reasonCode: { type: 'string' },
      proposals: arr(ref('Proposal')),
      proposed: { type: 'integer' },
      recommendation: { type: 'integer' },
      minReplicas: { type: 'integer' },
      maxReplicas: { type: 'integer' },
      conditions: arr(obj({ type: { type: 'string' }, status: { type: 'string' }, reason: { type: 'string' }, message: { type: 'string' } })),
      errors: arr({ type: 'string' }),
    },
    ['service', 'time', 'currentReplicas', 'desiredReplicas', 'action', 'reason', 'reasonCode', 'proposals', 'proposed', 'minReplicas', 'maxReplicas', 'errors'],
  ),
  PolicyView: obj({
    provider: { type: 'string' },
    syncPeriodSeconds: { type: 'number' },
    drainSeconds: { type: 'number' },
    minReplicas: { type: 'integer' },
    maxReplicas: { type: 'integer' },
    metrics: arr(obj({ name: { type: 'string' }, source: { type: 'string' }, query: { type: 'string' }, perPod: { type: 'boolean' } })),
    hpaMetrics: arr(obj({ name: { type: 'string' }, type: { type: 'string' }, target: { type: 'string' } })),
    rules: arr(obj({ name: { type: 'string' }, when: { type: 'string' }, then: { type: 'string' }, severity: { type: 'string' } })),
    bands: arr(obj({ metric: { type: 'string' }, upper: { type: 'number' }, lower: { type: 'number' }, for: { type: 'string' }, step: { type: 'integer' } })),
    queue: { oneOf: [obj({ metric: { type: 'string' }, targetPerReplica: { type: 'number' } }), { type: 'null' }] },
    schedules: arr(obj({ name: { type: 'string' }, cron: { type: 'string' }, minReplicas: nullable('integer'), maxReplicas: nullable('integer') })),
  }),
  Event: obj({
    id: { type: 'integer' },
    time: epochMs,
    kind: { type: 'string', enum: [...EVENT_KINDS] },
    fromReplicas: nullable('integer'),
    toReplicas: nullable('integer'),
    result: { type: 'string', enum: [...EVENT_RESULTS] },
    message: nullable('string'),
    error: nullable('string'),
    resources: { type: ['object', 'null'], description: 'before/after requests and limits of a resize' },
  }),
  ServiceDetail: {
    allOf: [
      ref('ServiceSummary'),
      obj({
        policy: ref('PolicyView'),
        decision: { oneOf: [ref('Decision'), { type: 'null' }] },
        recentChanges: arr(ref('Event')),
      }),
    ],
  },
  DecisionEntry: obj({
    id: { type: 'integer' },
    time: epochMs,
    action: { type: ['string', 'null'], enum: ['scale-up', 'scale-down', 'hold', 'resize', 'paused', null] },
    fromReplicas: nullable('integer'),
    toReplicas: nullable('integer'),
    reason: { type: 'string', description: 'one sentence explaining the decision' },
    reasonCode: nullable('string'),
    result: { type: 'string', enum: [...EVENT_RESULTS] },
    values: numMap,
    failures: strMap,
    errors: arr({ type: 'string' }),
    proposals: arr(ref('Proposal')),
    proposed: nullable('integer'),
    minReplicas: nullable('integer'),
    maxReplicas: nullable('integer'),
  }),
  DecisionPage: obj({ service: { type: 'string' }, since: epochMs, items: arr(ref('DecisionEntry')), nextBefore: { ...nullable('integer'), description: 'pass as before= for the next (older) page' } }),
  EventPage: obj({ service: { type: 'string' }, since: epochMs, items: arr(ref('Event')), nextBefore: nullable('integer') }),
  Timeline: obj({
    service: { type: 'string' },
    since: epochMs,
    t: { ...arr({ type: 'number' }), description: 'epoch seconds of each stored decision' },
    currentReplicas: arr(nullable('integer')),
    desiredReplicas: arr(nullable('integer')),
    readyReplicas: arr(nullable('integer')),
    proposedReplicas: arr(nullable('integer')),
    values: { type: 'object', additionalProperties: arr(nullable('number')) },
    targets: numMap,
    changes: arr(ref('Event')),
    bucket: { type: 'integer', description: 'decisions per point (1 = every decision)' },
  }),
  ReportEntry: obj({
    name: { type: 'string' },
    kind: { type: 'string', enum: [...REPORT_KINDS] },
    title: { type: 'string' },
    modified: epochMs,
    files: arr(obj({ format: { type: 'string', enum: ['json', 'html'] }, file: { type: 'string' }, size: { type: 'integer' }, url: { type: 'string' } })),
  }),
  RollbackPlan: obj({
    service: { type: 'string' },
    undoes: ref('Event'),
    current: obj({ replicas: { type: 'integer' }, resources: { type: 'object' } }, ['replicas']),
    target: obj({ replicas: { type: 'integer' }, resources: { type: 'object' } }, []),
    changes: arr({ type: 'string' }),
    warnings: arr({ type: 'string' }),
  }),
  RollbackResult: {
    allOf: [ref('RollbackPlan'), obj({ eventId: { type: 'integer' }, result: { type: 'string', enum: ['ok', 'dry-run'] }, message: { type: 'string' } })],
  },
};

const paths: Record<string, Record<string, Schema>> = {
  '/healthz': { get: { summary: 'Liveness', tags: ['server'], responses: { '200': json(obj({ ok: { type: 'boolean' } })) } } },
  '/metrics': {
    get: { summary: "scalepilot's own metrics in the Prometheus text format", tags: ['server'], responses: { '200': { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } } } },
  },
  '/api/v1/openapi.json': { get: { summary: 'This document', tags: ['server'], responses: { '200': json({ type: 'object' }) } } },
  '/api/v1/server': { get: { summary: 'Version, mode and whether steering is enabled', tags: ['server'], responses: { '200': json(ref('ServerInfo')) } } },
  '/api/v1/services': {
    get: { summary: 'Every service at a glance', tags: ['services'], responses: { '200': json(obj({ time: epochMs, services: arr(ref('ServiceSummary')) })) } },
  },
  '/api/v1/services/{service}': {
    get: { summary: "One service: summary, policy, last decision, recent changes", tags: ['services'], parameters: [serviceParam], responses: { '200': json(ref('ServiceDetail')), '404': err('no such service') } },
  },
  '/api/v1/services/{service}/decisions': {
    get: {
      summary: 'Decisions with their reasons, newest first, paged',
      tags: ['services'],
      parameters: [serviceParam, sinceParam('24h'), limitParam, beforeParam, { name: 'changes', in: 'query', required: false, schema: { type: 'boolean' }, description: 'only decisions that changed (or, paused, would have changed) the replica count' }],
      responses: { '200': json(ref('DecisionPage')), '400': err('bad query parameter'), '404': err('no such service') },
    },
  },
  '/api/v1/services/{service}/events': {
    get: {
      summary: 'History events (scale, resize, rollback, error, pause, resume, config), newest first, paged',
      tags: ['services'],
      parameters: [serviceParam, sinceParam('7d'), limitParam, beforeParam, { name: 'kind', in: 'query', required: false, schema: { type: 'string' }, description: `comma-separated kinds: ${EVENT_KINDS.join(', ')}; default all but decision` }],
      responses: { '200': json(ref('EventPage')), '400': err('bad query parameter'), '404': err('no such service') },
    },
  },
  '/api/v1/services/{service}/timeline': {
    get: {
      summary: 'Metric values, replicas (current, ready, desired, proposed) and changes over time, for charts',
      tags: ['services'],
      parameters: [serviceParam, sinceParam('15m (at most 7d)')],
      responses: { '200': json(ref('Timeline')), '400': err('bad query parameter'), '404': err('no such service') },
    },
  },
  '/api/v1/services/{service}/rollback': {
    get: {
      summary: 'What a rollback would do now (read-only)',
      tags: ['steering'],
      parameters: [serviceParam, { name: 'toEventId', in: 'query', required: false, schema: { type: 'integer', minimum: 1 } }],
      responses: { '200': json(ref('RollbackPlan')), '400': err('bad event id'), '404': err('no such service'), '409': err('nothing to roll back') },
    },
    post: {
      summary: 'Restore the replicas/resources from before the last applied change, or before event toEventId',
      tags: ['steering'],
      security: [{ bearer: [] }],
      parameters: [serviceParam],
      requestBody: { required: false, content: { 'application/json': { schema: obj({ toEventId: { type: 'integer', minimum: 1 }, dryRun: { type: 'boolean' } }, []) } } },
      responses: { '200': json(ref('RollbackResult')), '400': err('bad event id'), ...steeringErrors, '409': err('nothing to roll back'), '502': err('the provider failed') },
    },
  },
  '/api/v1/services/{service}/pause': {
    post: {
      summary: 'Pause: keep deciding and recording, stop acting',
      tags: ['steering'],
      security: [{ bearer: [] }],
      parameters: [serviceParam],
      responses: { '200': json(obj({ service: { type: 'string' }, paused: { type: 'boolean' }, message: { type: 'string' } })), ...steeringErrors },
    },
  },
  '/api/v1/services/{service}/resume': {
    post: {
      summary: 'Resume acting on decisions',
      tags: ['steering'],
      security: [{ bearer: [] }],
      parameters: [serviceParam],
      responses: { '200': json(obj({ service: { type: 'string' }, paused: { type: 'boolean' }, message: { type: 'string' } })), ...steeringErrors },
    },
  },
  '/api/v1/services/{service}/scale': {
    post: {
      summary: 'Scale to a replica count now (recorded as a manual scale; pause first to hold it)',
      tags: ['steering'],
      security: [{ bearer: [] }],
      parameters: [serviceParam],
      requestBody: { required: true, content: { 'application/json': { schema: obj({ replicas: { type: 'integer', minimum: 0, maximum: MAX_REPLICAS } }) } } },
      responses: {
        '200': json(obj({
          service: { type: 'string' },
          replicas: { type: 'integer' },
          fromReplicas: nullable('integer'),
          eventId: nullable('integer'),
          dryRun: { type: 'boolean' },
          message: { type: 'string' },
          warnings: arr({ type: 'string' }),
        })),
        '400': err('bad replica count'),
        ...steeringErrors,
        '502': err('the provider failed'),
      },
    },
  },
  '/api/v1/alerts': {
    get: { summary: 'Active alerts of every service (derived: pinned at max, metric source failing, flapping, scale errors)', tags: ['services'], responses: { '200': json(obj({ time: epochMs, alerts: arr(ref('Alert')) })) } },
  },
  '/api/v1/budgets': {
    get: {
      summary: 'Shared budgets (what each service holds of them) and verifications under way or cooling off',
      tags: ['services'],
      responses: { '200': json(obj({ time: epochMs, budgets: arr({ type: 'object' }), verifications: arr({ type: 'object' }) })) },
    },
  },
  '/api/v1/reports': {
    get: {
      summary: 'Stored simulation and load-test reports in the reports directory, newest first',
      tags: ['reports'],
      responses: { '200': json(obj({ configured: { type: 'boolean' }, message: nullable('string'), reports: arr(ref('ReportEntry')) })) },
    },
  },
  '/api/v1/reports/{file}': {
    get: {
      summary: 'One report file (.json or .html) from the reports directory',
      tags: ['reports'],
      parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        '200': { description: 'the file', content: { 'text/html': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } } },
        '404': err('no such report file'),
      },
    },
  },
};

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'scalepilot API',
      version: serverVersion(),
      description:
        'See and steer the autoscaler. Reading needs nothing; pause, resume, scale and rollback need "Authorization: Bearer <token>" with the token the server was started with (--token or SCALEPILOT_TOKEN). Without a token the API is read-only and steering answers 403. On every route, a Host header that is not localhost, an IP address, the listen host or a name in server.allowedHosts answers 403 (DNS-rebinding protection), and when more requests wait than the server starts (it serves the control loop first) the answer is 503 with Retry-After.',
    },
    servers: [{ url: '/' }],
    components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
