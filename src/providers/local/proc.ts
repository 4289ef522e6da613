// Small process helpers for the local provider and its nginx front (Linux /proc where it matters).
import { readFileSync } from 'node:fs';

/** Whether a process is still running; a zombie has finished its work and counts as gone. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as { code?: string }).code !== 'EPERM') return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc (not Linux): kill(0) said it exists
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
