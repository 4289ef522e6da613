// Whether a process on this host still runs, for every layer that judges a holder or a writer by its pid (the local
// provider's replicas and fronts, the Compose lease's same-host holder, replaceFile's leftover temporary files).
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
