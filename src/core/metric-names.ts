// Names of scalepilot's own Prometheus metrics, shared by the controller's /metrics and the exported alert rules.
export const METRIC_NAMES = {
  currentReplicas: 'scalepilot_current_replicas',
  desiredReplicas: 'scalepilot_desired_replicas',
  minReplicas: 'scalepilot_min_replicas',
  maxReplicas: 'scalepilot_max_replicas',
  metricValue: 'scalepilot_metric_value',
  decisionsTotal: 'scalepilot_decisions_total',
  metricErrorsTotal: 'scalepilot_metric_errors_total',
  scaleErrorsTotal: 'scalepilot_scale_errors_total',
  syncDurationSeconds: 'scalepilot_sync_duration_seconds',
  providerEventsTotal: 'scalepilot_provider_events_total',
  targetDegraded: 'scalepilot_target_degraded',
  lastSyncTimestampSeconds: 'scalepilot_last_sync_timestamp_seconds',
  storeBlocked: 'scalepilot_store_blocked',
  storeWriteFailuresTotal: 'scalepilot_store_write_failures_total',
  storeRecordsDroppedTotal: 'scalepilot_store_records_dropped_total',
} as const;
