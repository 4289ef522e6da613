// One call with a deadline of its own: the signal it is given aborts when the deadline passes, and a failure after
// that is reported as the deadline, whatever the library made of the abort.
export async function withDeadline<T>(ms: number, call: (signal: AbortSignal) => Promise<T>, timedOut: () => Error): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  try {
    return await call(signal);
  } catch (e) {
    if (signal.aborted) throw timedOut();
    throw e;
  }
}
