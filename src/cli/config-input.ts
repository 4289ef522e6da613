// Loading a config for a command: an invalid config is bad input (exit 2). Kept apart from output.ts, which the
// config's own modules import.
import { loadConfig, type Config } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import { InputError } from './output.js';

/** Loads a config for a command; an invalid one is bad input (exit 2) and `what` says what was not done. */
export function loadConfigInput(file: string, what?: string): Config {
  try {
    return loadConfig(file);
  } catch (e) {
    if (e instanceof ConfigError) throw new InputError(what ? `invalid config, ${what}:\n${e.message}` : e.message);
    throw e;
  }
}

/** server.token may name an environment variable (env:NAME) so the token stays out of the file. */
export function resolveToken(flag: string | undefined, configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag) return flag;
  if (env.SCALEPILOT_TOKEN) return env.SCALEPILOT_TOKEN;
  if (!configured) return undefined;
  if (configured.startsWith('env:')) {
    const v = env[configured.slice(4)];
    if (!v) throw new InputError(`server.token is ${configured} but ${configured.slice(4)} is not set; set it, or pass --token / SCALEPILOT_TOKEN`);
    return v;
  }
  return configured;
}
