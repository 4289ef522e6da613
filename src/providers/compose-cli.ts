// Finds the Compose CLI a machine has: the `docker compose` plugin (v2) or the standalone `docker-compose` (v1, or v2
// installed standalone), and knows which flags each one takes. Users name one with target.composeCommand; otherwise
// the candidates are tried in order and the error says what each attempt answered.
import { execFile } from 'node:child_process';

export interface ComposeCli {
  /** argv prefix: ["docker", "compose"] or ["docker-compose"] */
  command: string[];
  /** e.g. "1.29.2", "2.29.1" */
  version: string;
  major: number;
  /** `--dry-run` is a global flag of Compose v2.20 and later only */
  dryRun: boolean;
}

export interface Attempt {
  command: string[];
  error: string;
}

export class ComposeCliNotFound extends Error {
  override name = 'ComposeCliNotFound';
  constructor(readonly attempts: Attempt[]) {
    super(
      `no working Compose CLI: ${attempts.map((a) => `\`${a.command.join(' ')} version\` ${a.error}`).join('; ')}; ` +
        'install the docker compose plugin or docker-compose, or name the one to use with target.composeCommand (e.g. ["docker-compose"])',
    );
  }
}

/**
 * Parses `version` output of either generation: "docker-compose version 1.29.2, build unknown" (v1),
 * "Docker Compose version v2.29.1" (v2 plugin or standalone).
 */
export function parseComposeVersion(out: string): { version: string; major: number; minor: number } | undefined {
  const m = /compose version v?((\d+)\.(\d+)(?:\.\d+)?[^\s,]*)/i.exec(out);
  if (!m) return undefined;
  return { version: m[1]!, major: Number(m[2]), minor: Number(m[3]) };
}

export function cliFromVersion(command: string[], out: string): ComposeCli | undefined {
  const v = parseComposeVersion(out);
  if (!v) return undefined;
  return { command, version: v.version, major: v.major, dryRun: v.major > 2 || (v.major === 2 && v.minor >= 20) };
}

function tryVersion(command: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ComposeCli | string> {
  return new Promise((resolve) => {
    execFile(command[0]!, [...command.slice(1), 'version'], { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        if (e.code === 'ENOENT') return resolve('not found');
        if (e.killed) return resolve(`gave no answer within ${timeoutMs} ms`);
        const msg = String(stderr).trim().split('\n').filter(Boolean).slice(-1)[0] ?? e.message;
        return resolve(`failed (exit ${e.code}): ${msg}`);
      }
      const cli = cliFromVersion(command, String(stdout));
      resolve(cli ?? `answered ${JSON.stringify(String(stdout).trim().slice(0, 80))}, not a Compose version`);
    });
  });
}

/**
 * The first Compose CLI that answers `version`: the named command only when one is configured, else
 * `<dockerPath> compose` then `docker-compose`. Throws ComposeCliNotFound listing every attempt.
 */
export async function findComposeCli(o: { dockerPath: string; composeCommand?: string[]; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<ComposeCli> {
  const candidates = o.composeCommand ? [o.composeCommand] : [[o.dockerPath, 'compose'], ['docker-compose']];
  const attempts: Attempt[] = [];
  for (const c of candidates) {
    const r = await tryVersion(c, o.env, o.timeoutMs ?? 20_000);
    if (typeof r !== 'string') return r;
    attempts.push({ command: c, error: r });
  }
  throw new ComposeCliNotFound(attempts);
}
