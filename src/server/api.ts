// The JSON API under /api/v1 (read-only without a token; steering needs the bearer token).
import type { FastifyInstance } from 'fastify';
import type { ServerOptions } from './server.js';

export async function registerApi(app: FastifyInstance, o: ServerOptions): Promise<void> {
  const rt = o.runtime;
  app.get('/api/v1/services', async () =>
    rt.controller.services.map((s) => {
      const last = rt.controller.lastSync(s);
      const p = rt.controller.policy(s)!;
      return {
        service: s,
        paused: rt.controller.isPaused(s),
        minReplicas: p.minReplicas,
        maxReplicas: p.maxReplicas,
        currentReplicas: last?.state?.replicas ?? null,
        readyReplicas: last?.state?.readyReplicas ?? null,
        desiredReplicas: last?.decision?.desiredReplicas ?? null,
        values: last?.values ?? {},
        lastDecision: last?.decision ?? null,
        error: last?.error ?? null,
      };
    }),
  );
}
