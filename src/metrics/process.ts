// Local process source: CPU (cores) and RSS memory (bytes) of the PIDs the local provider runs, read from /proc.
//
// CPU is a rate, so it needs two readings of a PID's utime+stime. The source keeps the previous reading per PID
// (and per includeChildren choice) between calls:
//   - the first read of a PID, or a PID whose start time changed (PID reused), only records a baseline;
//   - a read less than minWindow after the baseline returns the last computed value with the time it was computed
//     (not a new one), or nothing if there is none yet;
//   - otherwise the value is Δticks / CLK_TCK / elapsed seconds and the reading becomes the new baseline.
// sample() returns one Sample per PID that has a value (labels.pid) and throws a retryable MetricError when none
// has, saying why per PID. With firstSampleWindow set, PIDs without a baseline are read twice that far apart within
// the same call, so one-shot callers (CLI checks) get a value on the first call.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricConfigError, optBool, optDuration, optNumber, optString, readObject, readParams } from './config.js';
import { MetricError, type MetricQuery, type MetricSource, type Sample } from './types.js';

export interface ProcessConfig {
  type: 'process';
  /** Default for params.includeChildren: add live descendants (and reaped children's times) to each PID. */
  includeChildren: boolean;
  /** Readings closer together than this do not produce a new CPU value (ms). */
  minWindowMs: number;
  /** 0 = off; otherwise the first read of a PID waits this long and reads again (ms). */
  firstSampleWindowMs: number;
  /** USER_HZ: the unit of /proc/<pid>/stat times. Linux exports 100 on every architecture. */
  clockTicks: number;
  procRoot: string;
}

const CONFIG_FIELDS = ['type', 'includeChildren', 'minWindow', 'firstSampleWindow', 'clockTicks', 'procRoot'] as const;
const QUERY_PARAMS = ['pids', 'includeChildren'] as const;
export const PROCESS_QUERIES = ['cpu', 'memory'] as const;
export type ProcessQueryKind = (typeof PROCESS_QUERIES)[number];

export function parseProcessConfig(raw: unknown, path: string): ProcessConfig {
  const o = readObject(raw, path, CONFIG_FIELDS);
  return {
    type: 'process',
    includeChildren: optBool(o, 'includeChildren', path) ?? false,
    minWindowMs: optDuration(o, 'minWindow', path) ?? 1000,
    firstSampleWindowMs: optDuration(o, 'firstSampleWindow', path) ?? 0,
    clockTicks: optNumber(o, 'clockTicks', path, { min: 1, integer: true }) ?? 100,
    procRoot: optString(o, 'procRoot', path) ?? '/proc',
  };
}

export interface ProcessQuery {
  kind: ProcessQueryKind;
  pids: number[];
  includeChildren: boolean;
}

export function parseProcessQuery(q: MetricQuery, path: string, defaults: { includeChildren: boolean }): ProcessQuery {
  const kind = q.query.trim();
  if (!(PROCESS_QUERIES as readonly string[]).includes(kind)) {
    throw new MetricConfigError(`${path}.query`, `"${q.query}" is not a process metric; use cpu (cores used) or memory (RSS bytes)`);
  }
  const p = readParams(q.params, `${path}.params`, QUERY_PARAMS);
  // The local provider fills pids at run time; a config may leave them out.
  const rawPids = p.pids ?? [];
  if (!Array.isArray(rawPids)) throw new MetricConfigError(`${path}.params.pids`, 'must be a list of process ids, e.g. [1234, 1240]');
  const pids = rawPids.map((x, i) => {
    const n = typeof x === 'string' && /^\d+$/.test(x) ? Number(x) : x;
    if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) {
      throw new MetricConfigError(`${path}.params.pids[${i}]`, `must be a positive whole number (a process id), got ${JSON.stringify(x)}`);
    }
    return n;
  });
  return { kind: kind as ProcessQueryKind, pids, includeChildren: optBool(p, 'includeChildren', `${path}.params`) ?? defaults.includeChildren };
}

/** The fields of /proc/<pid>/stat this source uses. Times are in clock ticks. */
export interface ProcStat {
  pid: number;
  ppid: number;
  state: string;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  /** Ticks after boot; changes when a PID is reused. */
  starttime: number;
}

/** Parses /proc/<pid>/stat. The command name may hold spaces and parentheses, so fields start after the last ')'. */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error('not a /proc/<pid>/stat line');
  const f = text.slice(close + 2).trim().split(/\s+/);
  // f[0] is field 3 (state) of proc(5); field n is f[n - 3].
  const num = (n: number) => {
    const v = Number(f[n - 3]);
    if (!Number.isFinite(v)) throw new Error(`field ${n} is not a number`);
    return v;
  };
  return {
    pid: Number(text.slice(0, open).trim()),
    state: f[0] ?? '?',
    ppid: num(4),
    utime: num(14),
    stime: num(15),
    cutime: num(16),
    cstime: num(17),
    starttime: num(22),
  };
}

/** VmRSS in bytes from /proc/<pid>/status; undefined when absent (zombies, kernel threads). */
export function parseVmRss(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

interface CpuState {
  starttime: number;
  ticks: number;
  at: number;
  last?: { cores: number; t: number };
  touched: number;
}

/** Why a PID has no value this time. */
type Miss = { pid: number; reason: string; first?: boolean };

export interface ProcessSourceOptions {
  /** Monotonic clock in ms (tests inject one). */
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const FORGET_AFTER_MS = 10 * 60_000;

export class ProcessSource implements MetricSource {
  readonly kind = 'process';
  private readonly cpu = new Map<string, CpuState>();
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(readonly name: string, readonly config: ProcessConfig, opts: ProcessSourceOptions = {}) {
    this.clock = opts.clock ?? (() => performance.now());
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  checkQuery(q: MetricQuery, path: string): void {
    parseProcessQuery(q, path, this.config);
  }

  async sample(q: MetricQuery, now: Date): Promise<Sample[]> {
    if (q.range) throw new MetricError(this.name, q.query, 'process metrics are read live; range reads are not supported', false);
    let pq: ProcessQuery;
    try {
      pq = parseProcessQuery(q, q.name, this.config);
    } catch (e) {
      throw new MetricError(this.name, q.query, (e as Error).message, false);
    }
    if (pq.pids.length === 0) throw new MetricError(this.name, q.query, 'no process ids given (params.pids is empty): no replicas are running', true);
    const samples: Sample[] = [];
    const misses: Miss[] = [];
    if (pq.kind === 'memory') {
      const tree = pq.includeChildren ? this.processTree() : undefined;
      for (const pid of pq.pids) {
        const r = this.rss(pid, tree);
        if (typeof r === 'string') misses.push({ pid, reason: r });
        else samples.push({ labels: { pid: String(pid) }, t: now.getTime(), value: r });
      }
    } else {
      this.readCpu(pq, now, samples, misses);
      const first = misses.filter((m) => m.first).map((m) => m.pid);
      if (first.length > 0 && this.config.firstSampleWindowMs > 0) {
        await this.sleep(this.config.firstSampleWindowMs);
        const again = misses.filter((m) => !m.first);
        misses.length = 0;
        misses.push(...again);
        this.readCpu({ ...pq, pids: first }, now, samples, misses, true);
      }
      this.forgetOld();
    }
    if (samples.length === 0) {
      const why = misses.map((m) => `pid ${m.pid}: ${m.reason}`).join('; ');
      throw new MetricError(this.name, q.query, `no value yet for any process (${why})`, true);
    }
    return samples;
  }

  private readCpu(pq: ProcessQuery, now: Date, samples: Sample[], misses: Miss[], ignoreMinWindow = false): void {
    const tree = pq.includeChildren ? this.processTree() : undefined;
    for (const pid of pq.pids) {
      const key = `${pid}:${pq.includeChildren ? 'tree' : 'self'}`;
      const reading = this.cpuTicks(pid, tree);
      const at = this.clock();
      if (typeof reading === 'string') {
        this.cpu.delete(key);
        misses.push({ pid, reason: reading });
        continue;
      }
      const prev = this.cpu.get(key);
      if (!prev || prev.starttime !== reading.starttime) {
        this.cpu.set(key, { starttime: reading.starttime, ticks: reading.ticks, at, touched: at });
        misses.push({ pid, first: true, reason: 'first reading; CPU is a rate, so a value exists from the next sample on' });
        continue;
      }
      prev.touched = at;
      const elapsed = at - prev.at;
      if (elapsed < this.config.minWindowMs && !ignoreMinWindow) {
        if (prev.last) samples.push({ labels: { pid: String(pid) }, t: prev.last.t, value: prev.last.cores });
        else misses.push({ pid, reason: `only ${Math.round(elapsed)} ms since the first reading; a value needs ${this.config.minWindowMs} ms` });
        continue;
      }
      const delta = reading.ticks - prev.ticks;
      if (delta < 0 || elapsed <= 0) {
        // A child left the tree without being reaped inside it; its time vanished from the sum.
        this.cpu.set(key, { starttime: reading.starttime, ticks: reading.ticks, at, touched: at });
        misses.push({ pid, reason: 'CPU time went backwards (a child process left the tree); new baseline taken' });
        continue;
      }
      const cores = delta / this.config.clockTicks / (elapsed / 1000);
      this.cpu.set(key, { starttime: reading.starttime, ticks: reading.ticks, at, touched: at, last: { cores, t: now.getTime() } });
      samples.push({ labels: { pid: String(pid) }, t: now.getTime(), value: cores });
    }
  }

  private forgetOld(): void {
    const cutoff = this.clock() - FORGET_AFTER_MS;
    for (const [k, s] of this.cpu) if (s.touched < cutoff) this.cpu.delete(k);
  }

  private readStat(pid: number): ProcStat | string {
    let text: string;
    try {
      text = readFileSync(join(this.config.procRoot, String(pid), 'stat'), 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ESRCH' ? 'no such process (it exited)' : `cannot read ${this.config.procRoot}/${pid}/stat: ${code}`;
    }
    try {
      return parseProcStat(text);
    } catch (e) {
      return `unreadable ${this.config.procRoot}/${pid}/stat: ${(e as Error).message}`;
    }
  }

  /** Children by parent PID, from every /proc/<pid>/stat (read once per call). */
  private processTree(): Map<number, ProcStat[]> {
    const children = new Map<number, ProcStat[]>();
    let entries: string[];
    try {
      entries = readdirSync(this.config.procRoot);
    } catch {
      return children;
    }
    for (const e of entries) {
      if (!/^\d+$/.test(e)) continue;
      const s = this.readStat(Number(e));
      if (typeof s === 'string') continue;
      const list = children.get(s.ppid);
      if (list) list.push(s);
      else children.set(s.ppid, [s]);
    }
    return children;
  }

  private descendants(pid: number, tree: Map<number, ProcStat[]>): ProcStat[] {
    const out: ProcStat[] = [];
    const stack = [pid];
    const seen = new Set<number>([pid]);
    while (stack.length) {
      for (const c of tree.get(stack.pop()!) ?? []) {
        if (seen.has(c.pid)) continue;
        seen.add(c.pid);
        out.push(c);
        stack.push(c.pid);
      }
    }
    return out;
  }

  /**
   * utime+stime of the PID; with a tree, plus its live descendants, each with cutime+cstime so a child's time
   * stays counted when it exits and is reaped by its parent.
   */
  private cpuTicks(pid: number, tree?: Map<number, ProcStat[]>): { ticks: number; starttime: number } | string {
    const s = this.readStat(pid);
    if (typeof s === 'string') return s;
    if (s.state === 'Z') return 'the process is a zombie (exited, not yet reaped)';
    if (!tree) return { ticks: s.utime + s.stime, starttime: s.starttime };
    let ticks = s.utime + s.stime + s.cutime + s.cstime;
    for (const d of this.descendants(pid, tree)) ticks += d.utime + d.stime + d.cutime + d.cstime;
    return { ticks, starttime: s.starttime };
  }

  /** RSS bytes; with a tree, summed over live descendants (shared pages count once per process). */
  private rss(pid: number, tree?: Map<number, ProcStat[]>): number | string {
    const one = (p: number): number | string => {
      let text: string;
      try {
        text = readFileSync(join(this.config.procRoot, String(p), 'status'), 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return code === 'ENOENT' || code === 'ESRCH' ? 'no such process (it exited)' : `cannot read ${this.config.procRoot}/${p}/status: ${code}`;
      }
      const v = parseVmRss(text);
      return v === undefined ? 'no VmRSS in status (zombie or kernel thread)' : v;
    };
    const own = one(pid);
    if (typeof own === 'string' || !tree) return own;
    let total = own;
    for (const d of this.descendants(pid, tree)) {
      const v = one(d.pid);
      if (typeof v === 'number') total += v;
    }
    return total;
  }
}
