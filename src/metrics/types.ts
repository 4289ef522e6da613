// The MetricSource interface every metric source implements, and the error it throws.

/** What to read. `query` is source-specific (PromQL, a Redis key, a container name...). */
export interface MetricQuery {
  /** The metric's name in the scalepilot config (used in errors and records). */
  name: string;
  query: string;
  /** Source-specific parameters already validated by the source's parse step. */
  params?: Record<string, unknown>;
  /** Range read (query_range and trace sources); absent for an instant read. */
  range?: { start: Date; end: Date; stepSeconds: number };
}

export interface Sample {
  /** Series labels (pod, instance, container...); empty for a scalar. */
  labels: Record<string, string>;
  /** Sample time, epoch milliseconds. */
  t: number;
  value: number;
}

/** Thrown by a source that could not produce a real value. Sources never return guesses. */
export class MetricError extends Error {
  override name = 'MetricError';
  constructor(
    readonly source: string,
    readonly query: string,
    message: string,
    readonly retryable = true,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
  }
}

export interface MetricSource {
  readonly kind: string;
  sample(q: MetricQuery, now: Date): Promise<Sample[]>;
  /**
   * Checks a query's text and params when the config loads, so a typo fails there (exit 2) rather than at the first
   * sample. Throws MetricConfigError (an InputError) naming `path`, e.g. services.web.metrics.cpu.
   */
  checkQuery?(q: MetricQuery, path: string): void;
  close?(): Promise<void>;
}
