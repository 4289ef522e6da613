// The JSON API under /api/v1: services, decisions, events, alerts and reports for anyone who can reach the server;
// pause, resume, scale and rollback only with the bearer token (read-only without one). Documented in openapi.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerOptions } from './server.js';
import { EVENT_KINDS, type EventKind, type StoreEvent } from '../store/types.js';
import { timeBack } from '../core/duration.js';
import { MAX_REPLICAS } from '../core/types.js';
import { planRollback, NothingToRollBack } from '../controller/rollback.js';
import { InputError } from '../errors.js';
import { ProviderError } from '../providers/types.js';
import { checkSteering, STEERING_DISABLED, STEERING_READ_ONLY_STORE } from './auth.js';
import { decisionView, eventView, lastState, pageEvents, policyView, recentChanges, serviceSummary, timeline } from './views.js';
import { listReports, openReport, reportPath } from './reports.js';
import { openApiDocument } from './openapi.js';
import { serverVersion } from './version.js';

/** An error with the HTTP status it answers with; the message is what the client sees. */
export class HttpError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
  }
}

const DAY = 86_400_000;

/** The latest time a JavaScript date holds (epoch ms). */
const MAX_TIME = 8.64e15;

/**
 * `since`: a duration back from now (15m, 24h, 7d), an ISO time, or epoch milliseconds; a duration reaching back past
 * 1970 means everything.
 */
export function parseSince(v: unknown, now: number, fallbackMs: number): number {
  if (v === undefined || v === '') return now - fallbackMs;
  const s = String(v).trim();
  if (/^\d{12,}$/.test(s)) {
    const t = Number(s);
    if (t > MAX_TIME) throw new HttpError(400, `since=${s}: epoch milliseconds past the latest time a date holds (${MAX_TIME})`);
    return t;
  }
  const t = timeBack(s, now);
  if (t !== undefined) return t;
  throw new HttpError(400, `since=${s}: write a duration back from now (15m, 24h, 7d), an ISO time (2024-05-01T12:00:00Z) or epoch milliseconds`);
}

function intParam(v: unknown, name: string, min: number, max: number, fallback?: number): number | undefined {
  if (v === undefined || v === '') return fallback;
  const s = String(v).trim();
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < min || n > max) throw new HttpError(400, `${name}=${s}: must be a whole number from ${min} to ${max}`);
  return n;
}

function kindsParam(v: unknown, fallback: readonly EventKind[]): readonly EventKind[] {
  if (v === undefined || v === '') return fallback;
  const kinds = String(v).split(',').map((k) => k.trim()).filter(Boolean);
  for (const k of kinds) if (!(EVENT_KINDS as readonly string[]).includes(k)) throw new HttpError(400, `kind=${k}: unknown event kind; use ${EVENT_KINDS.join(', ')}`);
  return kinds as EventKind[];
}

function boolParam(v: unknown, name: string): boolean {
  if (v === undefined || v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw new HttpError(400, `${name}=${String(v)}: use true or false`);
}

type Q = Record<string, string | undefined>;
type P = { service: string };

/** Who steered, as recorded in the event message. */
function by(req: FastifyRequest): string {
  return req.headers['x-scalepilot-client'] === 'dashboard' ? 'dashboard' : 'api';
}

function bodyObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Maps rollback/provider failures to statuses an operator can act on. */
function steeringFailure(e: unknown): never {
  if (e instanceof HttpError) throw e;
  if (e instanceof NothingToRollBack) throw new HttpError(409, e.message);
  if (e instanceof InputError) throw new HttpError(400, e.message);
  if (e instanceof ProviderError) throw new HttpError(502, e.message);
  throw new HttpError(500, (e as Error).message);
}

export async function registerApi(app: FastifyInstance, o: ServerOptions): Promise<void> {
  const rt = o.runtime;
  const now = () => Date.now();

  const service = (req: FastifyRequest<{ Params: P }>): string => {
    const s = req.params.service;
    if (!rt.controller.policy(s)) {
      throw new HttpError(404, `no service "${s}" in ${rt.config.file}; services: ${rt.controller.services.join(', ') || '(none)'}`);
    }
    return s;
  };

  const steering = async (req: FastifyRequest, reply: FastifyReply) => {
    const v = checkSteering(o, req.headers.authorization);
    if (!v.ok) {
      if (v.status === 401) reply.header('www-authenticate', 'Bearer realm="scalepilot"');
      return reply.code(v.status).send({ error: v.error, statusCode: v.status });
    }
  };

  app.get('/api/v1/openapi.json', async () => openApiDocument());

  app.get('/api/v1/server', async () => {
    const reason = o.readOnlyStore ? STEERING_READ_ONLY_STORE : !o.token ? STEERING_DISABLED : null;
    return {
      name: 'scalepilot',
      version: serverVersion(),
      time: now(),
      config: rt.config.file,
      services: rt.controller.services.length,
      dryRun: Boolean(o.dryRun),
      readOnlyStore: Boolean(o.readOnlyStore),
      steering: { enabled: reason === null, reason },
      reports: Boolean(o.reportsDir),
    };
  });

  app.get('/api/v1/services', async () => {
    const t = now();
    return { time: t, services: await Promise.all(rt.controller.services.map((s) => serviceSummary(rt, s, t))) };
  });

  app.get<{ Params: P }>('/api/v1/services/:service', async (req) => {
    const s = service(req);
    const t = now();
    const summary = await serviceSummary(rt, s, t);
    const last = await lastState(rt, s);
    const changes = (await recentChanges(rt.store, s, t)).filter((e) => e.kind !== 'error').reverse().slice(0, 20);
    return { ...summary, policy: policyView(rt.controller.policy(s)!), decision: last.decision ?? null, recentChanges: changes.map(eventView) };
  });

  app.get<{ Params: P; Querystring: Q }>('/api/v1/services/:service/decisions', async (req) => {
    const s = service(req);
    const q = req.query;
    const since = parseSince(q.since, now(), DAY);
    const changesOnly = boolParam(q.changes, 'changes');
    const page = await pageEvents(rt.store, s, {
      kinds: ['decision'],
      since,
      limit: intParam(q.limit, 'limit', 1, 1000, 100)!,
      before: intParam(q.before, 'before', 1, Number.MAX_SAFE_INTEGER),
      filter: changesOnly ? (e: StoreEvent) => e.decision?.action !== 'hold' && (e.toReplicas !== e.fromReplicas || e.decision?.action === 'resize') : undefined,
    });
    return { service: s, since, items: page.items.map(decisionView), nextBefore: page.nextBefore };
  });

  app.get<{ Params: P; Querystring: Q }>('/api/v1/services/:service/events', async (req) => {
    const s = service(req);
    const q = req.query;
    const since = parseSince(q.since, now(), 7 * DAY);
    const page = await pageEvents(rt.store, s, {
      kinds: kindsParam(q.kind, EVENT_KINDS.filter((k) => k !== 'decision')),
      since,
      limit: intParam(q.limit, 'limit', 1, 1000, 100)!,
      before: intParam(q.before, 'before', 1, Number.MAX_SAFE_INTEGER),
    });
    return { service: s, since, items: page.items.map(eventView), nextBefore: page.nextBefore };
  });

  app.get<{ Params: P; Querystring: Q }>('/api/v1/services/:service/timeline', async (req) => {
    const s = service(req);
    const t = now();
    const since = Math.max(parseSince(req.query.since, t, 15 * 60_000), t - 7 * DAY);
    return timeline(rt, s, since);
  });

  app.get('/api/v1/alerts', async () => {
    const t = now();
    const all = await Promise.all(rt.controller.services.map((s) => serviceSummary(rt, s, t)));
    const alerts = all.flatMap((x) => x.alerts).sort((a, b) => (a.severity === b.severity ? b.since - a.since : a.severity === 'critical' ? -1 : 1));
    return { time: t, alerts };
  });

  app.get('/api/v1/budgets', async () => {
    const verifications = rt.controller.services.flatMap((s) => {
      const pending = rt.controller.verifier.pendingFor(s);
      const coolOff = rt.controller.verifier.coolOffFor(s);
      return pending || coolOff ? [{ service: s, pending: pending ? { from: pending.from, to: pending.to, since: pending.time, dryRun: pending.dryRun } : null, coolOff: coolOff ?? null }] : [];
    });
    return { time: now(), budgets: rt.controller.budgets.usage(), verifications };
  });

  app.get<{ Params: P; Querystring: Q }>('/api/v1/services/:service/rollback', async (req) => {
    const s = service(req);
    const toEventId = intParam(req.query.toEventId, 'toEventId', 1, Number.MAX_SAFE_INTEGER);
    try {
      const plan = await planRollback({ policy: rt.controller.policy(s)!, store: rt.store, provider: rt.controller.provider(s)!, ...(toEventId !== undefined ? { toEventId } : {}) });
      return { service: s, undoes: eventView(plan.undoes), current: plan.current, target: plan.target, changes: plan.changes, warnings: plan.warnings };
    } catch (e) {
      steeringFailure(e);
    }
  });

  app.post<{ Params: P }>('/api/v1/services/:service/pause', { preHandler: steering }, async (req) => {
    const s = service(req);
    await rt.controller.setPaused(s, true, by(req));
    return { service: s, paused: true, message: `${s} paused: it keeps deciding and recording, but does not act until resumed` };
  });

  app.post<{ Params: P }>('/api/v1/services/:service/resume', { preHandler: steering }, async (req) => {
    const s = service(req);
    await rt.controller.setPaused(s, false, by(req));
    return { service: s, paused: false, message: `${s} resumed: the next sync acts on its decision` };
  });

  app.post<{ Params: P }>('/api/v1/services/:service/scale', { preHandler: steering }, async (req) => {
    const s = service(req);
    const body = bodyObject(req.body);
    const r = body.replicas;
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 0 || r > MAX_REPLICAS) {
      throw new HttpError(400, `replicas must be a whole number from 0 to ${MAX_REPLICAS}, got ${r === undefined ? 'none' : JSON.stringify(r)?.slice(0, 40)}; send {"replicas": 3}`);
    }
    const p = rt.controller.policy(s)!;
    const paused = rt.controller.isPaused(s);
    const warnings: string[] = [];
    if (r < p.minReplicas || r > p.maxReplicas) warnings.push(`${r} replicas is outside ${p.minReplicas}..${p.maxReplicas}; ${paused ? 'the controller moves it back once resumed' : 'the controller moves it back on its next sync'}`);
    else if (!paused) warnings.push('the controller is not paused: its next sync decides again from the metrics; pause first to hold this count');
    const since = now();
    try {
      await rt.controller.scaleManually(s, r, by(req));
    } catch (e) {
      steeringFailure(e);
    }
    const [ev] = await rt.store.history(s, since, { kinds: ['scale'], limit: 1 });
    return {
      service: s,
      replicas: r,
      fromReplicas: ev?.fromReplicas ?? null,
      eventId: ev?.id ?? null,
      dryRun: ev?.result === 'dry-run',
      message: `${s} scaled ${ev?.fromReplicas !== undefined ? `${ev.fromReplicas} → ` : 'to '}${r}${ev?.result === 'dry-run' ? ' (dry run: nothing changed)' : ''}`,
      warnings,
    };
  });

  app.post<{ Params: P }>('/api/v1/services/:service/rollback', { preHandler: steering }, async (req) => {
    const s = service(req);
    const body = bodyObject(req.body);
    let toEventId: number | undefined;
    if (body.toEventId !== undefined && body.toEventId !== null) {
      if (typeof body.toEventId !== 'number' || !Number.isSafeInteger(body.toEventId) || body.toEventId < 1) {
        throw new HttpError(400, `toEventId must be an event id (a whole number >= 1), got ${JSON.stringify(body.toEventId)}; see GET /api/v1/services/${s}/events`);
      }
      toEventId = body.toEventId;
    }
    if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean') throw new HttpError(400, 'dryRun must be true or false');
    try {
      const r = await rt.controller.rollback(s, {
        dryRun: Boolean(o.dryRun) || body.dryRun === true,
        by: by(req),
        ...(toEventId !== undefined ? { toEventId } : {}),
      });
      const warnings = [...r.warnings];
      if (!rt.controller.isPaused(s)) warnings.push('the controller is not paused: its next sync decides again from the metrics and may undo this rollback; pause first to hold it');
      return { service: s, eventId: r.eventId, result: r.result, message: r.message, undoes: eventView(r.undoes), current: r.current, target: r.target, changes: r.changes, warnings };
    } catch (e) {
      steeringFailure(e);
    }
  });

  app.get('/api/v1/reports', async () => {
    if (!o.reportsDir) return { configured: false, message: 'no reports directory: start the server with --reports DIR (simulate --report and loadtest --report write there)', reports: [] };
    try {
      return { configured: true, message: null, reports: await listReports(o.reportsDir) };
    } catch (e) {
      throw new HttpError(500, (e as Error).message);
    }
  });

  app.get<{ Params: { file: string } }>('/api/v1/reports/:file', async (req, reply) => {
    if (!o.reportsDir) throw new HttpError(404, 'no reports directory: start the server with --reports DIR');
    if (!reportPath(o.reportsDir, req.params.file)) throw new HttpError(404, `no report file "${req.params.file}": names are plain .json or .html file names from GET /api/v1/reports`);
    const r = await openReport(o.reportsDir, req.params.file);
    if (!r) throw new HttpError(404, `no report file "${req.params.file}" in the reports directory (symbolic links are not served)`);
    if (r.format === 'html') {
      // reports carry inline scripts; a sandbox keeps them away from this origin's storage (the steering token)
      reply.header('content-security-policy', 'sandbox allow-scripts allow-popups');
      reply.type('text/html; charset=utf-8');
    } else {
      reply.type('application/json; charset=utf-8');
    }
    reply.header('x-content-type-options', 'nosniff');
    return reply.send(r.fh.createReadStream());
  });
}
