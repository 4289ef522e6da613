// One call with a deadline of its own: the signal it is given aborts when the deadline passes, and a failure after
// that is reported as the deadline, whatever the library made of the abort. And a wait that an abort cuts short.
export async function withDeadline<T>(ms: number, call: (signal: AbortSignal) => Promise<T>, timedOut: () => Error): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  try {
    return await call(signal);
  } catch (e) {
    if (signal.aborted) throw timedOut();
    throw e;
  }
}

/** Waits `ms`, or less when `signal` aborts (resolving, not rejecting: the caller reads the signal). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => { clearTimeout(t); signal?.removeEventListener('abort', done); resolve(); };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
