// `scalepilot serve` as a library: a Runtime (controller loop unless the store is only read) behind the HTTP server.
import type { Config } from '../config/load.js';
import type { Logger } from '../controller/controller.js';
import { startRuntime, type Runtime } from '../controller/runtime.js';
import { startServer, type RunningServer } from './server.js';

export interface ServeOptions {
  /** host:port; default the config's server.listen, else 127.0.0.1:9464 */
  listen?: string;
  token?: string;
  reportsDir?: string;
  /** decide and record, never act */
  dryRun?: boolean;
  /** only serve what the store holds: no controller loop, no steering, nothing acted on */
  readOnlyStore?: boolean;
  /** overrides the config's store URL */
  store?: string;
  stateDir?: string;
  log?: Logger;
}

export interface Serving {
  runtime: Runtime;
  server: RunningServer;
  close(): Promise<void>;
}

export async function serve(config: Config, o: ServeOptions = {}): Promise<Serving> {
  const readOnly = Boolean(o.readOnlyStore);
  const runtime = await startRuntime(config, {
    // a read-only server never acts, even if a bug reached a provider
    dryRun: Boolean(o.dryRun) || readOnly,
    ...(o.log ? { log: o.log } : {}),
    ...(o.store ? { store: o.store } : {}),
    stateDir: o.stateDir ?? '.scalepilot',
  });
  let server: RunningServer;
  try {
    server = await startServer({
      runtime,
      listen: o.listen ?? config.server?.listen ?? '127.0.0.1:9464',
      ...(o.token ? { token: o.token } : {}),
      ...(o.log ? { log: o.log } : {}),
      ...(o.reportsDir ? { reportsDir: o.reportsDir } : {}),
      readOnlyStore: readOnly,
      dryRun: Boolean(o.dryRun),
    });
  } catch (e) {
    await runtime.close();
    throw e;
  }
  if (!readOnly) {
    runtime.controller.start();
    runtime.watchConfig();
  }
  return {
    runtime,
    server,
    async close() {
      await server.close();
      await runtime.close({ stopReplicas: !readOnly });
    },
  };
}
