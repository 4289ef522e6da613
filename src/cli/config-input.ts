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
