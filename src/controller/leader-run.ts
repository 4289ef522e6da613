// `run --leader-elect`: the controller runs only while this process holds the Lease; it stops when leadership ends.
import { KubeConfig, CoordinationV1Api } from '@kubernetes/client-node';
import { LeaderElector, LeaseLock, defaultIdentity } from './leader.js';
import type { Logger } from './controller.js';

export interface LeaderRunOptions {
  name: string;
  namespace: string;
  log: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

/** Starts the election loop in the background; the returned function gives the Lease up and waits for the loop. */
export async function runWithLeaderElection(o: LeaderRunOptions): Promise<() => Promise<void>> {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const api = kc.makeApiClient(CoordinationV1Api);
  const identity = defaultIdentity();
  const abort = new AbortController();
  const elector = new LeaderElector({
    lock: new LeaseLock(api, o.namespace, o.name, identity),
    releaseOnCancel: true,
    callbacks: {
      onStartedLeading: () => {
        o.log.info({ identity, lease: `${o.namespace}/${o.name}` }, 'started leading');
        o.onStartedLeading();
      },
      onStoppedLeading: () => {
        o.log.warn({ identity }, 'stopped leading');
        o.onStoppedLeading();
      },
      onNewLeader: (leader) => o.log.info({ leader }, 'leader observed'),
    },
    log: (msg) => o.log.info({}, msg),
  });
  const loop = elector.run(abort.signal).catch((e: Error) => o.log.error({ err: e.message }, 'leader election ended'));
  return async () => {
    abort.abort();
    await loop;
  };
}
