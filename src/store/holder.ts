// Who a store lock belongs to, and whether that process still runs: host, pid and the pid's start time, so a pid
// reused after a crash is not mistaken for the holder.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface Holder {
  host: string;
  pid: number;
  /** start time of the process in clock ticks since boot (Linux), so a reused pid is told apart */
  start: string | null;
}

/** Field 22 of /proc/PID/stat (after the parenthesised command, which may itself hold spaces or parentheses). */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

export function self(): Holder {
  return { host: hostname(), pid: process.pid, start: processStart(process.pid) };
}

/** Whether the holder still runs. Only answerable on its own host; elsewhere it is presumed alive. */
export function holderAlive(h: Holder): boolean {
  if (h.host !== hostname()) return true;
  if (h.pid === process.pid) return h.start === null || h.start === processStart(process.pid);
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    // EPERM: it exists, owned by someone else
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (h.start === null) return true;
  const now = processStart(h.pid);
  return now === null || now === h.start;
}

export function describeHolder(h: Holder, since?: number): string {
  return `pid ${h.pid} on host ${h.host}${since !== undefined ? `, since ${new Date(since).toISOString()}` : ''}`;
}

/** Waits `ms` while a lock is polled; rejects at once when `signal` aborts (the operator stopped waiting). */
export function pollPause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); reject(new Error('aborted')); }, { once: true });
  });
}
