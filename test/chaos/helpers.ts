// Shared bits for the chaos suites: `scalepilot run` as a real process (killed with real signals), local services
// marked so every process they leave behind can be found in /proc, and polling with generous deadlines.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { groupMembers, procCmdline } from '../../src/providers/local/proc.js';
import { sleep } from '../helpers/env.js';

export const BIN = join(process.cwd(), 'bin/scalepilot');
export const SAMPLE_SERVER = resolve('examples/sample-service/server.mjs');
export const NGINX = '/usr/sbin/nginx';

export interface RunProcess {
  child: ChildProcess;
  pid: number;
  /** everything it printed so far */
  out(): string;
  /** its pino lines, parsed */
  lines(): Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `scalepilot run` with these arguments (the built CLI, as operators run it). */
export function startRun(args: string[]): RunProcess {
  const child = spawn(process.execPath, [BIN, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return {
    child,
    pid: child.pid!,
    out: () => out,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    exited,
  };
}

/** Polls until ok() holds, or throws naming what was awaited. */
export async function until(what: string, timeoutMs: number, ok: () => boolean | Promise<boolean>, extra: () => string = () => ''): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await ok()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}\n${extra()}`);
    await sleep(100);
  }
}

/** GET a URL; undefined when nothing answers. */
export async function get(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await request(url, { headersTimeout: 3000, bodyTimeout: 3000, reset: true });
    return { status: res.statusCode, body: await res.body.text() };
  } catch {
    return undefined;
  }
}

export interface LocalStateFile {
  ownerPid: number;
  proxy: { kind: string; url: string; pgid?: number };
  processes?: Array<{ index: number; port: number; pid: number }>;
  pods: Array<{ name: string; pid?: number; ready: boolean }>;
}

/** pids of the ready replicas a state file lists */
export function readyPids(st: LocalStateFile | undefined): number[] {
  return (st?.pods ?? []).filter((p) => p.ready && p.pid !== undefined).map((p) => p.pid!).sort((a, b) => a - b);
}

/** The state file the local provider keeps for a service under `run --state-dir stateDir`. */
export function readState(stateDir: string, service: string): LocalStateFile | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, 'local', service, 'state.json'), 'utf8')) as LocalStateFile;
  } catch {
    return undefined;
  }
}

/** Pids of processes whose environment carries SCALEPILOT_CHAOS=<marker> (the replicas a test started). */
export function markedPids(marker: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const env = readFileSync(`/proc/${e}/environ`, 'utf8');
      if (env.split('\0').includes(`SCALEPILOT_CHAOS=${marker}`)) {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        if (!/^\d+ \(.*\) Z/.test(stat)) out.push(Number(e));
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** Whether a process holds a file under dir open (nginx workers keep their error.log, even once it is deleted). */
function holdsFileIn(pid: number, dir: string): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(dir + '/')) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

/**
 * Every process a test's services left running: marked replicas, members of the nginx process groups seen, any
 * process whose command line names the test's directory (nginx masters) or that holds a file in it open (nginx
 * workers, orphaned or not).
 */
export function leftovers(marker: string, dir: string, pgids: Iterable<number>): number[] {
  const found = new Set(markedPids(marker));
  for (const g of pgids) for (const p of groupMembers(g)) found.add(p);
  for (const e of readdirSync('/proc')) {
    const pid = Number(e);
    if (!/^\d+$/.test(e) || pid === process.pid) continue;
    const cmd = procCmdline(pid);
    if (cmd.includes(BIN)) continue;
    if (cmd.includes(dir) || (cmd.startsWith('nginx') && holdsFileIn(pid, dir))) found.add(pid);
  }
  return [...found];
}

/** The nginx master serving a local service's front under a state dir, and its workers, found in /proc. */
export function nginxProcesses(stateDir: string, service: string): { master?: number; workers: number[] } {
  const prefix = `-p ${join(stateDir, 'local', service, 'nginx')}/ `;
  let master: number | undefined;
  const ppid = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    const cmd = procCmdline(pid);
    if (cmd.startsWith('nginx: master') && (cmd + ' ').includes(prefix)) master = pid;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      ppid.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  return { ...(master ? { master } : {}), workers: master ? [...ppid].filter(([, pp]) => pp === master).map(([p]) => p) : [] };
}

/** Last-resort cleanup after a failed test: SIGKILL whatever leftovers() finds. */
export function killLeftovers(marker: string, dir: string, pgids: Iterable<number>): void {
  for (const p of leftovers(marker, dir, pgids)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export interface LocalService {
  listen: number;
  portBase: number;
  replicas: number;
  proxy: 'nginx' | 'builtin';
  marker: string;
  command?: string[];
  env?: Record<string, string>;
  nginxPath?: string;
  min?: number;
  max?: number;
}

/** A scalepilot.yaml with local services that hold their replica count (no metrics: min = max). */
export function localConfig(dir: string, services: Record<string, LocalService>, syncPeriod = '1s'): string {
  let y = `syncPeriod: ${syncPeriod}\nstore: sqlite:${join(dir, 'sp.db')}\nservices:\n`;
  for (const [name, s] of Object.entries(services)) {
    const command = s.command ?? [process.execPath, SAMPLE_SERVER];
    y += `  ${name}:
    target:
      provider: local
      command: ${JSON.stringify(command)}
      listen: 127.0.0.1:${s.listen}
      portBase: ${s.portBase}
      replicas: ${s.replicas}
      proxy: ${s.proxy}
${s.nginxPath ? `      nginxPath: ${JSON.stringify(s.nginxPath)}\n` : ''}      healthTimeout: 10s
      stopGracePeriod: 5s
      restartBackoff: 500ms
      maxRestartBackoff: 2s
      env: ${JSON.stringify({ SCALEPILOT_CHAOS: s.marker, WORK_MS: '1', ...s.env })}
    minReplicas: ${s.min ?? s.replicas}
    maxReplicas: ${s.max ?? s.replicas}
    drainTimeout: 2s
`;
  }
  return y;
}

/** Value of a sample in Prometheus text with this name and (in any order) these labels. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const has = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => has.includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return undefined;
}
