// How `run` and `serve` wait for their stop: the first SIGINT or SIGTERM starts a clean stop (in-flight syncs finish,
// replicas drain, the store is flushed). A second one while that runs is said and otherwise ignored: the default
// exit would cut the stop short and leave replicas and fronts running. `kill -9` still forces it.

/** Resolves with the first SIGINT or SIGTERM; later ones call `again` and change nothing. */
export function untilStopSignal(again: (sig: NodeJS.Signals) => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let first: NodeJS.Signals | undefined;
    const on = (sig: NodeJS.Signals) => {
      if (first) return again(sig);
      first = sig;
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
