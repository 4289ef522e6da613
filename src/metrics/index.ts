// Metric sources by config `type:`, and the parse step that checks a source block before anything connects.
import { MetricConfigError, typeName } from './config.js';
import { DockerSource, parseDockerConfig, type DockerConfig } from './docker.js';
import { KubernetesMetricsSource, parseKubernetesMetricsConfig, type KubernetesMetricsConfig } from './kubernetes.js';
import { PostgresSource, parsePostgresConfig, type PostgresConfig } from './postgres.js';
import { ProcessSource, parseProcessConfig, type ProcessConfig } from './process.js';
import { PrometheusSource, parsePrometheusConfig, type PrometheusConfig } from './prometheus.js';
import { RedisSource, parseRedisConfig, type RedisConfig } from './redis.js';
import { TraceSource, parseTraceConfig, type TraceConfig } from './trace.js';
import type { MetricSource } from './types.js';

export type SourceConfig = PrometheusConfig | ProcessConfig | RedisConfig | PostgresConfig | KubernetesMetricsConfig | DockerConfig | TraceConfig;
export const SOURCE_TYPES = ['prometheus', 'process', 'redis', 'postgres', 'kubernetes', 'docker', 'trace'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

export interface SourceOptions {
  /** Directory relative paths (trace files, kubeconfig, CA files) are resolved against: the config file's. */
  baseDir?: string;
}

/** Validates a `sources.<name>` block by its type; throws MetricConfigError (an InputError) naming the field. */
export function parseSourceConfig(raw: unknown, path: string, opts: SourceOptions = {}): SourceConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MetricConfigError(path, `must be a mapping with a type (${SOURCE_TYPES.join(', ')}), got ${typeName(raw)}`);
  }
  const type = (raw as Record<string, unknown>).type;
  switch (type) {
    case 'prometheus': return parsePrometheusConfig(raw, path);
    case 'process': return parseProcessConfig(raw, path);
    case 'redis': return parseRedisConfig(raw, path);
    case 'postgres': return parsePostgresConfig(raw, path);
    case 'kubernetes': return parseKubernetesMetricsConfig(raw, path, opts);
    case 'docker': return parseDockerConfig(raw, path);
    case 'trace': return parseTraceConfig(raw, path, opts);
    default:
      throw new MetricConfigError(`${path}.type`, `${type === undefined ? 'is missing' : `"${String(type)}" is not a source type`}; use one of ${SOURCE_TYPES.join(', ')}`);
  }
}

/**
 * Builds a metric source from its config block. Nothing connects here (network sources connect on first sample);
 * a trace file is read now so a bad trace fails at load.
 */
export function createMetricSource(name: string, raw: unknown, path = `sources.${name}`, opts: SourceOptions = {}): MetricSource {
  const c = parseSourceConfig(raw, path, opts);
  switch (c.type) {
    case 'prometheus': return new PrometheusSource(name, c);
    case 'process': return new ProcessSource(name, c);
    case 'redis': return new RedisSource(name, c);
    case 'postgres': return new PostgresSource(name, c);
    case 'kubernetes': return new KubernetesMetricsSource(name, c, path);
    case 'docker': return new DockerSource(name, c);
    case 'trace': return TraceSource.fromConfig(name, c, path);
  }
}

export { MetricError } from './types.js';
export type { MetricQuery, MetricSource, Sample } from './types.js';
export { MetricConfigError } from './config.js';
export { parsePromQueryRangeFile, PrometheusSource } from './prometheus.js';
export { parseTraceCsv, parseTraceJson, readTraceFile, traceValueAt, TraceSource } from './trace.js';
export type { ParsedTrace, TraceProblem, TraceSeries } from './trace.js';
export { ProcessSource } from './process.js';
export { RedisSource } from './redis.js';
export { PostgresSource } from './postgres.js';
export { KubernetesMetricsSource, quantityToNumber } from './kubernetes.js';
export { DockerSource, dockerCpuPercent, dockerMemoryUsage } from './docker.js';
