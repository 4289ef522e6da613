// A deadline for one call of the generated Kubernetes client. The client has none of its own: an API server that
// takes a request and never answers holds the caller forever. The request is aborted when the deadline passes.
import type { ConfigurationOptions, ObservableMiddleware, RequestContext, ResponseContext } from '@kubernetes/client-node';
import { kubeClient } from './lazy.js';
import { withDeadline } from './deadline.js';

/** Options for the object-parameter API (observable middleware, as setHeaderOptions makes). */
export type KubeCallOptions = ConfigurationOptions<ObservableMiddleware>;

/** An API server that gave no answer within a kubeCall's deadline. */
export class KubeTimeout extends Error {
  override name = 'KubeTimeout';
  constructor(readonly ms: number) {
    super(`the API server gave no answer within ${ms / 1000} s`);
  }
}

/** Runs `call` with options that abort its request after `ms` (kept: `base`'s own middleware, e.g. a patch's header). */
export function kubeCall<T>(ms: number, call: (options: KubeCallOptions) => Promise<T>, base?: KubeCallOptions): Promise<T> {
  const { Observable } = kubeClient();
  return withDeadline(ms, (signal) => {
    const deadline: ObservableMiddleware = {
      pre: (ctx: RequestContext) => {
        ctx.setSignal(signal);
        return new Observable(Promise.resolve(ctx));
      },
      post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
    };
    return call({ ...base, middleware: [...(base?.middleware ?? []), deadline], middlewareMergeStrategy: 'append' });
  }, () => new KubeTimeout(ms));
}
