// Loads the config for the capacity commands and picks the services asked for; every failure is bad input (exit 2).
import type { Config, ServicePolicy } from '../config/load.js';
import { InputError } from '../errors.js';
import { own } from '../own.js';
import { parseTime } from '../time-arg.js';
export { loadConfigInput } from '../cli/config-input.js';

/** The named services (all when none are named), in config order. An unknown name lists the known ones. */
export function pickServices(config: Config, names: readonly string[] | undefined): ServicePolicy[] {
  const all = Object.values(config.services);
  if (!names || names.length === 0) return all;
  return names.map((n) => {
    const p = own(config.services, n);
    if (!p) throw new InputError(`--service ${n}: no such service in ${config.file}; services are ${Object.keys(config.services).join(', ')}`);
    return p;
  });
}

/** A time flag (RFC 3339, unix seconds, now or now-7d, as simulate's --start reads it), or now. */
export function parseAt(v: string | undefined, flag = '--at'): number {
  return v === undefined ? Date.now() : parseTime(v, flag);
}
