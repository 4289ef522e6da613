// Keeps a long-running controller's heap near what it actually holds. V8 sizes the old generation from the start-up
// peak (parsing and validating a large config allocates several times what stays live) and, on a machine with memory
// to spare, lets it grow to several times the live size between full collections: with 1,000 services a ~35 MB live
// heap held 150-250 MB of RSS. One full collection once start-up is over, and a smaller growth step after each
// collection, keep the old generation within 1.5x its live size at the cost of more frequent (~30 ms) collections;
// the young generation stays at its initial size instead of growing to 2 x 16 MB, since a controller's per-sync
// garbage is small and short-lived (measured: the same CPU per sync, ~25 MB less RSS). bin/scalepilot sets that limit
// before the CLI's modules load (loading them alone grows the young generation); limitHeapGrowth() repeats it for
// callers that start the controller another way.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How far the old generation may grow past the live size before the next full collection, in percent. */
const GROWTH_PERCENT = 50;

/** Applies to every collection from now on; call early, before the config is loaded. */
export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${GROWTH_PERCENT}`);
  // read by V8 each time it would grow the young generation, so it holds from here on
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** Runs one full collection now, so the heap limit is set from the live size rather than the start-up peak. */
export function collectStartupGarbage(): void {
  let gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    // exposes gc() in the new context only; the process's own global stays as it was
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/**
 * After start-up: once the first syncs (history loading, first decisions) are over, drop their garbage. That is when
 * `firstRound` resolves (every service has synced once; with a thousand services on a busy machine that can take
 * longer than a fixed delay), and at the latest after max(10 s, 2 sync periods).
 */
export function compactAfterStartup(syncPeriodMs: number, firstRound?: Promise<void>): NodeJS.Timeout {
  let done = false;
  const once = () => { if (!done) { done = true; collectStartupGarbage(); } };
  const t = setTimeout(once, Math.max(10_000, 2 * syncPeriodMs));
  t.unref();
  // a second pass after the first round, which can end after the timer on a loaded machine
  void firstRound?.then(() => { done = false; once(); });
  return t;
}
