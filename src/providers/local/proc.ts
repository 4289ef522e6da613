// Small process helpers for the local provider and its nginx front (Linux /proc where it matters). Identity checks
// compare a process's start time with the recorded one, so a pid the kernel has since given to another program is
// never adopted or signalled.
import { readdirSync, readFileSync } from 'node:fs';

import { processAlive } from '../../process-alive.js';

export { processAlive };

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Fields of /proc/PID/stat from field 3 (state) on; the command name before them may contain spaces. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Start time of a process in clock ticks since boot (/proc/PID/stat field 22); undefined when it is gone. */
export function procStartTime(pid: number): number | undefined {
  const f = statFields(pid);
  if (!f || f[0] === 'Z') return undefined;
  const v = Number(f[19]);
  return Number.isFinite(v) ? v : undefined;
}

/** The process group of a process (field 5). */
export function procGroup(pid: number): number | undefined {
  const f = statFields(pid);
  return f && f[0] !== 'Z' ? Number(f[2]) : undefined;
}

/** pids whose /proc/PID/stat fields (from field 3, state, on) match; a process that exits meanwhile is skipped. */
export function processesWhere(match: (fields: string[]) => boolean): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const f = statFields(Number(e));
    if (f && match(f)) out.push(Number(e));
  }
  return out;
}

/** Running (non-zombie) processes of a process group (field 5). */
export function groupMembers(pgid: number): number[] {
  return processesWhere((f) => f[0] !== 'Z' && Number(f[2]) === pgid);
}

/** The argv of a process joined by spaces ('' when it is gone). */
export function procCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** The same process as recorded: alive and started at the recorded time. */
export function sameProcess(pid: number, start: number | undefined): boolean {
  if (!processAlive(pid)) return false;
  const now = procStartTime(pid);
  // without /proc there is nothing to compare; trust kill(0) only when no start time was recorded either
  return start === undefined ? now === undefined : now === start;
}

/** Signals a whole process group (a replica and anything it started); false when none is left. */
export function signalGroup(pgid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Waits until no process of the group runs, up to timeoutMs; true when they are gone. */
export async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!groupMembers(pgid).length) return true;
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
}
