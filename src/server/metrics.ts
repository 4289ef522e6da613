// scalepilot's own Prometheus metrics (served on /metrics by `run` and `serve`).
import { Registry, Gauge, Counter, Histogram, collectDefaultMetrics } from 'prom-client';
import { METRIC_NAMES as N } from '../core/metric-names.js';

export interface ControllerMetrics {
  registry: Registry;
  currentReplicas: Gauge<'service'>;
  desiredReplicas: Gauge<'service'>;
  minReplicas: Gauge<'service'>;
  maxReplicas: Gauge<'service'>;
  metricValue: Gauge<'service' | 'metric'>;
  decisions: Counter<'service' | 'action'>;
  metricErrors: Counter<'service' | 'metric'>;
  scaleErrors: Counter<'service'>;
  syncDuration: Histogram<'service'>;
  lastSync: Gauge<'service'>;
  providerEvents: Counter<'service' | 'event'>;
  targetDegraded: Gauge<'service'>;
}

export function createControllerMetrics(withProcessMetrics = true): ControllerMetrics {
  const registry = new Registry();
  if (withProcessMetrics) collectDefaultMetrics({ register: registry, prefix: 'scalepilot_' });
  const r = [registry];
  return {
    registry,
    currentReplicas: new Gauge({ name: N.currentReplicas, help: 'Replicas the target is set to run, as last observed', labelNames: ['service'], registers: r }),
    desiredReplicas: new Gauge({ name: N.desiredReplicas, help: 'Replicas the last decision asked for', labelNames: ['service'], registers: r }),
    minReplicas: new Gauge({ name: N.minReplicas, help: 'Configured minimum replicas', labelNames: ['service'], registers: r }),
    maxReplicas: new Gauge({ name: N.maxReplicas, help: 'Configured maximum replicas', labelNames: ['service'], registers: r }),
    metricValue: new Gauge({ name: N.metricValue, help: 'Last value read for a configured metric', labelNames: ['service', 'metric'], registers: r }),
    decisions: new Counter({ name: N.decisionsTotal, help: 'Decisions made, by action', labelNames: ['service', 'action'], registers: r }),
    metricErrors: new Counter({ name: N.metricErrorsTotal, help: 'Failed metric reads', labelNames: ['service', 'metric'], registers: r }),
    scaleErrors: new Counter({ name: N.scaleErrorsTotal, help: 'Failed observe/scale/resize calls on the target', labelNames: ['service'], registers: r }),
    syncDuration: new Histogram({
      name: N.syncDurationSeconds,
      help: 'Duration of one observe-decide-act-record sync',
      labelNames: ['service'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    lastSync: new Gauge({ name: N.lastSyncTimestampSeconds, help: 'Time of the last completed sync', labelNames: ['service'], registers: r }),
    providerEvents: new Counter({ name: N.providerEventsTotal, help: 'Events a provider saw or caused on its own (replica crashed, front restarted, ...), by kind', labelNames: ['service', 'event'], registers: r }),
    targetDegraded: new Gauge({ name: N.targetDegraded, help: '1 while the target is degraded besides its replicas (e.g. its front proxy is down), else 0', labelNames: ['service'], registers: r }),
  };
}
