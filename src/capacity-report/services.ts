// Loads the config for the capacity commands and picks the services asked for; every failure is bad input (exit 2).
import type { Config, ServicePolicy } from '../config/load.js';
import { InputError } from '../errors.js';
import { own } from '../own.js';
import { isDateMs } from '../core/duration.js';
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

/** A time flag (ISO 8601 or epoch ms), or now. */
export function parseAt(v: string | undefined, flag = '--at'): number {
  if (v === undefined) return Date.now();
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!isDateMs(n)) throw new InputError(`${flag} ${v}: not a time; write it like 2025-06-01T12:00:00Z`);
  return n;
}
