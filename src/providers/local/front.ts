// What the local provider needs from the front proxy that spreads traffic over its replicas (nginx or built-in).

export interface Upstream {
  /** replica name, for logs and errors */
  name: string;
  /** loopback port the replica listens on */
  port: number;
}

export interface FrontProxy {
  readonly kind: 'nginx' | 'builtin';
  /** where clients reach the service, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  start(upstreams: Upstream[]): Promise<void>;
  /** Sends new requests only to these replicas; resolves once the change is live. */
  setUpstreams(upstreams: Upstream[]): Promise<void>;
  /** Waits until nothing the proxy sent to a removed replica is still in flight; false if timeoutMs passed first. */
  waitIdle(port: number, timeoutMs: number): Promise<boolean>;
  /** requests in flight to a replica, when the proxy can count them */
  inFlight(port: number): number | undefined;
  close(): Promise<void>;
  /** Synchronous last-resort stop, for when scalepilot itself is exiting. */
  killNow?(): void;
  /** Why the front does not serve (its process is gone, its port refuses connections); undefined when it does. */
  problem(): Promise<string | undefined>;
  /** Starts the front again after it died, first clearing whatever the dead one left behind (orphan workers). */
  restart(upstreams: Upstream[]): Promise<void>;
  /** the front's process group when it runs as processes of its own (nginx), recorded so a restart can clean it up */
  readonly pgid?: number | undefined;
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses "127.0.0.1:8080", ":8080" or "8080" (host defaults to loopback). */
export function parseListen(v: string): ListenAddress | undefined {
  const m = /^(?:(\[[0-9a-fA-F:]+\]|[^:\s]*):)?(\d{1,5})$/.exec(v.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  const host = m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1';
  return { host, port };
}

export function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
