// Builders that turn rows shaped like Kubernetes' HPA unit tests into `hpa evaluate` requests, so each translated
// row reads like its Go original (levels in milli-units, pods named test-pod-i).

export const NOW = '2024-01-01T01:00:00Z';
export const NOW_MS = Date.parse(NOW);
/** Go's zero StartTime stands for "long ago": before any initialization period. */
export const LONG_AGO = '2000-01-01T00:00:00Z';

export const at = (offsetSeconds: number): string => new Date(NOW_MS + offsetSeconds * 1000).toISOString();

/** hotCPUCreationTime: started now (inside the CPU initialization period). */
export const HOT = 'hot';
/** coolCPUCreationTime: started three minutes ago (past the tests' 2-minute initialization period). */
export const COOL = 'cool';
export type StartKind = typeof HOT | typeof COOL;

/** The controller flags Kubernetes' HPA tests run with (defaultTesting* constants, one-minute metric window). */
export const TESTING_OPTIONS = {
  tolerance: 0.1,
  cpuInitializationPeriodSeconds: 120,
  delayOfInitialReadinessStatusSeconds: 10,
  downscaleStabilizationSeconds: 300,
  metricWindowSeconds: 60,
};

export interface PodShape {
  readiness?: boolean[];
  startTime?: StartKind[];
  phase?: string[];
  deleted?: boolean[];
}

/** Start and readiness-transition times of pod i as the Go harnesses set them. */
export function podTimes(shape: PodShape, i: number): { startTime: string; readyTransitionTime?: string } {
  const kind = shape.startTime?.[i];
  // a hot pod just turned ready (or not): its sample cannot cover a full window since the transition
  if (kind === HOT) return { startTime: NOW, readyTransitionTime: NOW };
  if (kind === COOL) return { startTime: at(-180) };
  return { startTime: LONG_AGO };
}

export function podState(shape: PodShape, i: number): Record<string, unknown> {
  return {
    name: `test-pod-${i}`,
    phase: shape.phase?.[i] ?? 'Running',
    ready: shape.readiness?.[i] ?? true,
    deleted: shape.deleted?.[i] ?? false,
    ...podTimes(shape, i),
  };
}

export const m = (milli: number): string => `${milli}m`;

export function cpuUtilization(target: number): Record<string, unknown> {
  return { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } };
}

export function podsMetric(name: string, averageMilli: number): Record<string, unknown> {
  return { type: 'Pods', pods: { metric: { name }, target: { type: 'AverageValue', averageValue: m(averageMilli) } } };
}

export function objectMetric(name: string, target: { value?: number; averageValue?: number }): Record<string, unknown> {
  return {
    type: 'Object',
    object: {
      describedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'some-deployment' },
      metric: { name },
      target: target.value !== undefined ? { type: 'Value', value: m(target.value) } : { type: 'AverageValue', averageValue: m(target.averageValue!) },
    },
  };
}

export function externalMetric(name: string, target: { value?: number; averageValue?: number }): Record<string, unknown> {
  return {
    type: 'External',
    external: {
      metric: { name, selector: { matchLabels: { label: 'value' } } },
      target: target.value !== undefined ? { type: 'Value', value: m(target.value) } : { type: 'AverageValue', averageValue: m(target.averageValue!) },
    },
  };
}

export const objectValue = (name: string, milli: number) => ({
  describedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'some-deployment' },
  metric: { name },
  value: m(milli),
});

export const externalValues = (name: string, levels: number[]) => ({
  metric: { name, selector: { matchLabels: { label: 'value' } } },
  values: levels.map(m),
});
