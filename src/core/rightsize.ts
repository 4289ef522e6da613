// Vertical recommendations from usage history, as VPA and KRR make them: cpu request at a high percentile of usage
// plus a margin, memory at the peak plus a safety margin; the seed runbooks' rules decide when to lower.
import { mean, quantileSorted } from 'simple-statistics';
import { formatDuration } from './duration.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const HOURS_PER_MONTH = 730;

export interface UsageSample {
  t: number;
  /** cores in use */
  cpu?: number;
  /** bytes in use (working set) */
  memory?: number;
}

export interface ResourceNumbers {
  requests?: { cpu?: number; memory?: number };
  limits?: { cpu?: number; memory?: number };
}

export interface RightsizeInput {
  service: string;
  samples: readonly UsageSample[];
  current: ResourceNumbers;
  replicas?: number;
}

export interface RightsizeOptions {
  /** percentile of cpu usage the request should cover (KRR's default 95) */
  cpuPercentile?: number;
  /** added on top of the cpu percentile (VPA's safety margin, 0.15) */
  cpuMargin?: number;
  /** added on top of the memory peak (KRR's memory buffer, 0.15) */
  memoryMargin?: number;
  /** floors for a recommendation (VPA's minimums: 25m cpu, 250Mi memory) */
  minCpu?: number;
  minMemory?: number;
  /** seed rule: average cpu below this share of the request → lower the request (0.3) */
  lowCpuRatio?: number;
  /** seed rule: memory peak below this share of the limit → lower the limit (0.5) */
  lowMemoryRatio?: number;
  /** history needed before recommending (1h) and the expected sample interval (1m) */
  minHistoryMs?: number;
  sampleIntervalMs?: number;
  /** price of one cpu-hour and one GiB-hour of requests */
  prices?: { cpuHour: number; gibHour: number };
}

export const DEFAULT_RIGHTSIZE_OPTIONS: Required<Omit<RightsizeOptions, 'prices'>> = {
  cpuPercentile: 95,
  cpuMargin: 0.15,
  memoryMargin: 0.15,
  minCpu: 0.025,
  minMemory: 250 * MiB,
  lowCpuRatio: 0.3,
  lowMemoryRatio: 0.5,
  minHistoryMs: 3_600_000,
  sampleIntervalMs: 60_000,
};

export type ChangeAction = 'lower' | 'raise' | 'keep' | 'set';

export interface Recommendation {
  requests: { cpu: number; memory: number };
  limits: { cpu?: number; memory: number };
  cpu: { action: ChangeAction; from?: number; to: number; percentile: number; average: number; why: string };
  memory: { action: ChangeAction; from?: number; to: number; peak: number; why: string };
  cost?: { currentPerHour: number; recommendedPerHour: number; deltaPerHour: number; deltaPerMonth: number; replicas: number };
  /** why cost is missing, when it is */
  costNote?: string;
}

export interface RightsizeResult {
  service: string;
  recommendation: Recommendation | null;
  /** one sentence; when there is no recommendation, what is missing */
  why: string;
}

// Products like 0.105 × 1.15 land a hair above the exact value; never round a whole millicore or MiB up past it.
const EPS = 1e-9;
export function ceilMillicores(cores: number): number {
  return Math.ceil(cores * 1000 - EPS) / 1000;
}
export function ceilMiB(bytes: number): number {
  return Math.ceil(bytes / MiB - EPS) * MiB;
}

function cores(v: number): string {
  return `${Number(v.toPrecision(4))} cores`;
}
function mib(v: number): string {
  return `${Number((v / MiB).toPrecision(4))}Mi`;
}
function pct(v: number): string {
  return `${Number((v * 100).toPrecision(3))}%`;
}

export function rightsize(input: RightsizeInput, options: RightsizeOptions = {}): RightsizeResult {
  const o = { ...DEFAULT_RIGHTSIZE_OPTIONS, ...options };
  const service = input?.service ?? '?';
  const none = (why: string): RightsizeResult => ({ service, recommendation: null, why });
  if (!(o.cpuPercentile > 0 && o.cpuPercentile <= 100)) return none(`cpuPercentile ${o.cpuPercentile} must be in (0, 100]`);
  if (!(o.sampleIntervalMs > 0)) return none(`sampleInterval must be positive`);

  const samples = (input?.samples ?? []).filter((s) => s && Number.isFinite(s.t));
  const cpu = samples.filter((s) => typeof s.cpu === 'number' && Number.isFinite(s.cpu) && s.cpu >= 0);
  const memory = samples.filter((s) => typeof s.memory === 'number' && Number.isFinite(s.memory) && s.memory >= 0);
  const need = Math.ceil(o.minHistoryMs / o.sampleIntervalMs);
  const needText = `${need} (${formatDuration(o.minHistoryMs)} at ${formatDuration(o.sampleIntervalMs)})`;
  if (cpu.length < need || memory.length < need) {
    const which =
      cpu.length === memory.length
        ? `only ${cpu.length} samples`
        : cpu.length < memory.length
          ? `only ${cpu.length} cpu samples`
          : `only ${memory.length} memory samples`;
    return none(`${which}; need ${needText}`);
  }
  const ts = samples.map((s) => s.t);
  const span = Math.max(...ts) - Math.min(...ts);
  // n samples at interval i span (n - 1) × i, so 60 one-minute samples cover the hour.
  if (span < o.minHistoryMs - o.sampleIntervalMs) {
    return none(`samples cover only ${formatDuration(span)}; need ${formatDuration(o.minHistoryMs)} of history`);
  }

  // cpu: percentile of usage plus margin; the seed rule (average < 30% of request) decides when to lower.
  const cpuSorted = cpu.map((s) => s.cpu!).sort((a, b) => a - b);
  const cpuP = quantileSorted(cpuSorted, o.cpuPercentile / 100);
  const cpuAvg = mean(cpuSorted);
  const cpuTarget = Math.max(o.minCpu, ceilMillicores(cpuP * (1 + o.cpuMargin)));
  const basis = `p${o.cpuPercentile} ${cores(cpuP)} × ${1 + o.cpuMargin}`;
  const reqCpu = input.current?.requests?.cpu;
  let cpuRec: Recommendation['cpu'];
  if (reqCpu === undefined) {
    cpuRec = { action: 'set', to: cpuTarget, percentile: cpuP, average: cpuAvg, why: `no cpu request set: request ${cores(cpuTarget)} (${basis})` };
  } else if (cpuAvg < o.lowCpuRatio * reqCpu && cpuTarget < reqCpu) {
    cpuRec = {
      action: 'lower',
      from: reqCpu,
      to: cpuTarget,
      percentile: cpuP,
      average: cpuAvg,
      why: `average cpu ${cores(cpuAvg)} is ${pct(cpuAvg / reqCpu)} of the ${cores(reqCpu)} request (< ${pct(o.lowCpuRatio)}): lower the request to ${cores(cpuTarget)} (${basis})`,
    };
  } else if (cpuTarget > reqCpu) {
    cpuRec = {
      action: 'raise',
      from: reqCpu,
      to: cpuTarget,
      percentile: cpuP,
      average: cpuAvg,
      why: `${basis} = ${cores(cpuTarget)} is above the ${cores(reqCpu)} request: raise it`,
    };
  } else {
    cpuRec = {
      action: 'keep',
      from: reqCpu,
      to: reqCpu,
      percentile: cpuP,
      average: cpuAvg,
      why: `cpu request ${cores(reqCpu)} fits: average ${pct(cpuAvg / reqCpu)} of it (lower only below ${pct(o.lowCpuRatio)}), ${basis} = ${cores(cpuTarget)}`,
    };
  }

  // memory: peak plus safety margin; the seed rule (peak < 50% of limit) decides when to lower the limit.
  const peak = Math.max(...memory.map((s) => s.memory!));
  const memTarget = Math.max(o.minMemory, ceilMiB(peak * (1 + o.memoryMargin)));
  const memBasis = `peak ${mib(peak)} × ${1 + o.memoryMargin}`;
  const limMem = input.current?.limits?.memory;
  let memRec: Recommendation['memory'];
  if (limMem === undefined) {
    memRec = { action: 'set', to: memTarget, peak, why: `no memory limit set: limit ${mib(memTarget)} (${memBasis})` };
  } else if (peak < o.lowMemoryRatio * limMem && memTarget < limMem) {
    memRec = {
      action: 'lower',
      from: limMem,
      to: memTarget,
      peak,
      why: `memory peak ${mib(peak)} is ${pct(peak / limMem)} of the ${mib(limMem)} limit (< ${pct(o.lowMemoryRatio)}): lower the limit to ${mib(memTarget)} (${memBasis})`,
    };
  } else if (memTarget > limMem) {
    memRec = {
      action: 'raise',
      from: limMem,
      to: memTarget,
      peak,
      why: `${memBasis} = ${mib(memTarget)} is above the ${mib(limMem)} limit (OOM risk): raise it`,
    };
  } else {
    memRec = {
      action: 'keep',
      from: limMem,
      to: limMem,
      peak,
      why: `memory limit ${mib(limMem)} fits: peak is ${pct(peak / limMem)} of it (lower only below ${pct(o.lowMemoryRatio)})`,
    };
  }

  // Kubernetes rejects a limit below its request, so a raised request lifts a lower cpu limit with it.
  const limCpu = input.current?.limits?.cpu;
  const memRequest = Math.min(memTarget, memRec.to);
  const rec: Recommendation = {
    requests: { cpu: cpuRec.to, memory: memRequest },
    limits: { memory: memRec.to, ...(limCpu !== undefined ? { cpu: Math.max(limCpu, cpuRec.to) } : {}) },
    cpu: cpuRec,
    memory: memRec,
  };

  const replicas = input.replicas ?? 1;
  if (o.prices) {
    const curCpu = input.current?.requests?.cpu;
    const curMem = input.current?.requests?.memory;
    if (curCpu === undefined || curMem === undefined) {
      rec.costNote = 'current cpu and memory requests are needed to compare cost';
    } else {
      const hourly = (c: number, m: number) => (c * o.prices!.cpuHour + (m / GiB) * o.prices!.gibHour) * replicas;
      const currentPerHour = hourly(curCpu, curMem);
      const recommendedPerHour = hourly(rec.requests.cpu, rec.requests.memory);
      const deltaPerHour = recommendedPerHour - currentPerHour;
      rec.cost = { currentPerHour, recommendedPerHour, deltaPerHour, deltaPerMonth: deltaPerHour * HOURS_PER_MONTH, replicas };
    }
  }

  const summary = `${cpuRec.why}; ${memRec.why}`;
  return { service, recommendation: rec, why: summary };
}

/** Right-sizes many services; every service gets a result, with `why` when there is no recommendation. */
export function rightsizeAll(inputs: readonly RightsizeInput[], options: RightsizeOptions = {}): RightsizeResult[] {
  return inputs.map((i) => rightsize(i, options));
}
