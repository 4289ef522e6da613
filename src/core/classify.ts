// Bottleneck classifier: from a service's recent signals, say what limits it (cpu, memory, I/O, network, database)
// and which strategy the runbooks use for it, with the numbers and thresholds that decided.

export type Bottleneck = 'cpu-bound' | 'memory-bound' | 'io-bound' | 'network-bound' | 'db-bound' | 'healthy' | 'unknown';
export type Strategy = 'horizontal' | 'vertical' | 'caching' | 'load-balancing' | 'offload' | 'db-pool-or-read-replica';

/** Recent values for one service, each summarised over the same window (averages; latency as p95). */
export interface ServiceSignals {
  service?: string;
  /** % of the cpu request in use */
  cpuUtilization?: number;
  /** % of the memory limit in use */
  memoryUtilization?: number;
  p95LatencyMs?: number;
  latencyTargetMs?: number;
  /** % of cpu time spent waiting on disk or network I/O */
  ioWaitPercent?: number;
  /** items waiting (queue backlog, pending jobs) */
  queueDepth?: number;
  networkBytesPerSec?: number;
  networkLimitBytesPerSec?: number;
  /** % of the connection pool (or max_connections) in use */
  dbConnectionUtilization?: number;
  /** 0..1 */
  cacheHitRatio?: number;
  /** the service already runs at its maxReplicas, so adding replicas is not available */
  atMaxReplicas?: boolean;
}

/**
 * Where each signal starts to mean "this is the limit". Defaults come from the seed runbooks' triggers:
 * "CPU usage > 80% for 10+ minutes", "Memory usage > 85%", "Queue depth > 1000", database connections "> 80%" of
 * max_connections, p95 above its target. I/O wait above 20% of cpu time means the cpu mostly waits rather than works;
 * network at 80% of the link leaves the same 20% margin as cpu; a cache hit ratio under 80% sends most reads to the
 * backing store. `cpuBusy` separates "slow while computing" from "slow while waiting": latency over target with cpu
 * below it points at something the service waits on.
 */
export interface ClassifyThresholds {
  cpuHigh: number;
  memoryHigh: number;
  ioWaitHigh: number;
  queueDepthHigh: number;
  networkHigh: number;
  dbConnectionsHigh: number;
  cacheHitLow: number;
  cpuBusy: number;
}

export const DEFAULT_CLASSIFY_THRESHOLDS: ClassifyThresholds = {
  cpuHigh: 80,
  memoryHigh: 85,
  ioWaitHigh: 20,
  queueDepthHigh: 1000,
  networkHigh: 80,
  dbConnectionsHigh: 80,
  cacheHitLow: 0.8,
  cpuBusy: 60,
};

export interface Evidence {
  signal: string;
  value: number;
  op: '>=' | '>' | '<';
  threshold: number;
  /** e.g. "cpu 92% >= 80%" */
  text: string;
}

export interface Finding {
  bottleneck: Exclude<Bottleneck, 'healthy' | 'unknown'>;
  /** value / threshold; the largest decides the primary bottleneck */
  pressure: number;
  evidence: Evidence[];
  advice: Strategy[];
}

export interface Classification {
  service?: string;
  bottleneck: Bottleneck;
  advice: Strategy[];
  severity: 'ok' | 'warning' | 'critical';
  evidence: Evidence[];
  /** every bottleneck found, primary first */
  findings: Finding[];
  /** signals that were not given, so the reader knows what was not checked */
  missing: string[];
  reason: string;
}

export const ADVICE_TEXT: Record<Strategy, string> = {
  horizontal: 'add replicas',
  vertical: 'raise cpu/memory requests and limits',
  caching: 'cache hot reads',
  'load-balancing': 'spread traffic across more nodes/links',
  offload: 'move slow work to a queue/background workers',
  'db-pool-or-read-replica': 'resize the connection pool (PgBouncer) or add a read replica',
};

// Ties in pressure go to the cause whose fix also relieves the others (a saturated database slows everything).
const PRECEDENCE: Finding['bottleneck'][] = ['db-bound', 'memory-bound', 'cpu-bound', 'network-bound', 'io-bound'];

function fmt(v: number, digits = 3): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(digits)));
}

function usable(v: number | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export function classifyBottleneck(signals: ServiceSignals, thresholds: Partial<ClassifyThresholds> = {}): Classification {
  const th = { ...DEFAULT_CLASSIFY_THRESHOLDS, ...thresholds };
  const s = signals ?? {};
  const findings: Finding[] = [];
  const missing: string[] = [];
  const have = (name: string, v: number | undefined): v is number => {
    if (usable(v)) return true;
    missing.push(name);
    return false;
  };

  if (!usable(s.cacheHitRatio)) missing.push('cacheHitRatio');
  const cacheLow = usable(s.cacheHitRatio) && s.cacheHitRatio < th.cacheHitLow;
  const cacheEvidence: Evidence | undefined = cacheLow
    ? {
        signal: 'cacheHitRatio',
        value: s.cacheHitRatio!,
        op: '<',
        threshold: th.cacheHitLow,
        text: `cache hit ratio ${fmt(s.cacheHitRatio! * 100)}% < ${fmt(th.cacheHitLow * 100)}%`,
      }
    : undefined;
  const withCache = (advice: Strategy[], evidence: Evidence[]): [Strategy[], Evidence[]] =>
    cacheEvidence ? [['caching', ...advice], [...evidence, cacheEvidence]] : [advice, evidence];

  if (have('cpuUtilization', s.cpuUtilization) && s.cpuUtilization >= th.cpuHigh) {
    findings.push({
      bottleneck: 'cpu-bound',
      pressure: s.cpuUtilization / th.cpuHigh,
      evidence: [
        { signal: 'cpuUtilization', value: s.cpuUtilization, op: '>=', threshold: th.cpuHigh, text: `cpu ${fmt(s.cpuUtilization)}% >= ${fmt(th.cpuHigh)}%` },
      ],
      advice: s.atMaxReplicas ? ['vertical'] : ['horizontal'],
    });
  }
  if (have('memoryUtilization', s.memoryUtilization) && s.memoryUtilization >= th.memoryHigh) {
    findings.push({
      bottleneck: 'memory-bound',
      pressure: s.memoryUtilization / th.memoryHigh,
      evidence: [
        {
          signal: 'memoryUtilization',
          value: s.memoryUtilization,
          op: '>=',
          threshold: th.memoryHigh,
          text: `memory ${fmt(s.memoryUtilization)}% of limit >= ${fmt(th.memoryHigh)}%`,
        },
      ],
      advice: ['vertical'],
    });
  }
  if (have('dbConnectionUtilization', s.dbConnectionUtilization) && s.dbConnectionUtilization >= th.dbConnectionsHigh) {
    const [advice, evidence] = withCache(
      ['db-pool-or-read-replica'],
      [
        {
          signal: 'dbConnectionUtilization',
          value: s.dbConnectionUtilization,
          op: '>=',
          threshold: th.dbConnectionsHigh,
          text: `database connections ${fmt(s.dbConnectionUtilization)}% in use >= ${fmt(th.dbConnectionsHigh)}%`,
        },
      ],
    );
    findings.push({ bottleneck: 'db-bound', pressure: s.dbConnectionUtilization / th.dbConnectionsHigh, evidence, advice });
  }
  const hasNet = usable(s.networkBytesPerSec) && usable(s.networkLimitBytesPerSec) && s.networkLimitBytesPerSec > 0;
  if (!hasNet) missing.push('networkBytesPerSec/networkLimitBytesPerSec');
  if (hasNet) {
    const pct = (s.networkBytesPerSec! / s.networkLimitBytesPerSec!) * 100;
    if (pct >= th.networkHigh) {
      findings.push({
        bottleneck: 'network-bound',
        pressure: pct / th.networkHigh,
        evidence: [{ signal: 'networkUtilization', value: pct, op: '>=', threshold: th.networkHigh, text: `network ${fmt(pct)}% of the link >= ${fmt(th.networkHigh)}%` }],
        advice: ['load-balancing'],
      });
    }
  }
  const io: Evidence[] = [];
  let ioPressure = 0;
  if (have('ioWaitPercent', s.ioWaitPercent) && s.ioWaitPercent >= th.ioWaitHigh) {
    io.push({ signal: 'ioWaitPercent', value: s.ioWaitPercent, op: '>=', threshold: th.ioWaitHigh, text: `I/O wait ${fmt(s.ioWaitPercent)}% >= ${fmt(th.ioWaitHigh)}%` });
    ioPressure = Math.max(ioPressure, s.ioWaitPercent / th.ioWaitHigh);
  }
  if (have('queueDepth', s.queueDepth) && s.queueDepth >= th.queueDepthHigh) {
    io.push({ signal: 'queueDepth', value: s.queueDepth, op: '>=', threshold: th.queueDepthHigh, text: `queue depth ${fmt(s.queueDepth)} >= ${fmt(th.queueDepthHigh)}` });
    ioPressure = Math.max(ioPressure, s.queueDepth / th.queueDepthHigh);
  }

  const hasLatency = usable(s.p95LatencyMs) && usable(s.latencyTargetMs) && s.latencyTargetMs > 0;
  if (!hasLatency) missing.push('p95LatencyMs/latencyTargetMs');
  const slow = hasLatency && s.p95LatencyMs! > s.latencyTargetMs!;
  const latencyEvidence: Evidence | undefined = slow
    ? { signal: 'p95LatencyMs', value: s.p95LatencyMs!, op: '>', threshold: s.latencyTargetMs!, text: `p95 ${fmt(s.p95LatencyMs!)}ms > target ${fmt(s.latencyTargetMs!)}ms` }
    : undefined;
  // Slow with nothing saturated: busy cpu means computing (add replicas), idle cpu means waiting on something.
  let slowUnexplained = false;
  if (slow && findings.length === 0 && io.length === 0) {
    const ratio = s.p95LatencyMs! / s.latencyTargetMs!;
    if (!usable(s.cpuUtilization)) {
      slowUnexplained = true;
    } else if (s.cpuUtilization >= th.cpuBusy) {
      findings.push({
        bottleneck: 'cpu-bound',
        pressure: ratio,
        evidence: [
          latencyEvidence!,
          { signal: 'cpuUtilization', value: s.cpuUtilization, op: '>=', threshold: th.cpuBusy, text: `cpu ${fmt(s.cpuUtilization)}% >= ${fmt(th.cpuBusy)}% (busy computing)` },
        ],
        advice: s.atMaxReplicas ? ['vertical'] : ['horizontal'],
      });
    } else {
      io.push(latencyEvidence!, {
        signal: 'cpuUtilization',
        value: s.cpuUtilization,
        op: '<',
        threshold: th.cpuBusy,
        text: `cpu ${fmt(s.cpuUtilization)}% < ${fmt(th.cpuBusy)}% (waiting, not computing)`,
      });
      ioPressure = Math.max(ioPressure, ratio);
    }
  }
  if (io.length > 0) {
    const [advice, evidence] = withCache(['offload'], io);
    findings.push({ bottleneck: 'io-bound', pressure: ioPressure, evidence, advice });
  }

  findings.sort((a, b) => b.pressure - a.pressure || PRECEDENCE.indexOf(a.bottleneck) - PRECEDENCE.indexOf(b.bottleneck));
  const given =
    [s.cpuUtilization, s.memoryUtilization, s.ioWaitPercent, s.queueDepth, s.dbConnectionUtilization, s.cacheHitRatio].filter(usable)
      .length + (hasNet ? 1 : 0) + (hasLatency ? 1 : 0);
  const base = { missing, ...(s.service !== undefined ? { service: s.service } : {}) };

  if (findings.length === 0) {
    if (slowUnexplained) {
      return {
        ...base,
        bottleneck: 'unknown',
        advice: [],
        severity: 'critical',
        evidence: [latencyEvidence!],
        findings: [],
        reason: `unknown: ${latencyEvidence!.text} but no cpu, I/O or database signal says why; add cpuUtilization and ioWaitPercent`,
      };
    }
    if (given === 0) {
      return {
        ...base,
        bottleneck: 'unknown',
        advice: [],
        severity: 'ok',
        evidence: [],
        findings: [],
        reason: 'unknown: no signals were given; provide at least cpu, memory and p95 latency with its target',
      };
    }
    const checks = [
      usable(s.cpuUtilization) ? `cpu ${fmt(s.cpuUtilization)}% < ${fmt(th.cpuHigh)}%` : '',
      usable(s.memoryUtilization) ? `memory ${fmt(s.memoryUtilization)}% < ${fmt(th.memoryHigh)}%` : '',
      hasLatency ? `p95 ${fmt(s.p95LatencyMs!)}ms <= target ${fmt(s.latencyTargetMs!)}ms` : '',
      usable(s.dbConnectionUtilization) ? `database connections ${fmt(s.dbConnectionUtilization)}% < ${fmt(th.dbConnectionsHigh)}%` : '',
    ].filter(Boolean);
    const evidence = cacheEvidence ? [cacheEvidence] : [];
    const note = cacheEvidence ? `; ${cacheEvidence.text}: caching could cut load` : '';
    return {
      ...base,
      bottleneck: 'healthy',
      advice: cacheEvidence ? ['caching'] : [],
      severity: slow ? 'warning' : 'ok',
      evidence,
      findings: [],
      reason: `healthy: ${checks.join(', ') || 'no threshold crossed'}${note}`,
    };
  }

  const primary = findings[0]!;
  const evidence = latencyEvidence && !primary.evidence.includes(latencyEvidence) ? [...primary.evidence, latencyEvidence] : primary.evidence;
  const others = findings.slice(1).map((f) => `also ${f.bottleneck} (${f.evidence[0]!.text})`);
  const reason =
    `${primary.bottleneck}: ${evidence.map((e) => e.text).join(', ')} → ` +
    primary.advice.map((a) => `${a} (${ADVICE_TEXT[a]})`).join(', ') +
    (others.length > 0 ? `; ${others.join('; ')}` : '');
  return {
    ...base,
    bottleneck: primary.bottleneck,
    advice: primary.advice,
    severity: slow ? 'critical' : 'warning',
    evidence,
    findings,
    reason,
  };
}
