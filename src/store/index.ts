// Opens the store a config names: `sqlite:PATH` (default) or `postgres://...`.
import { isAbsolute, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { SqliteStore } from './sqlite.js';
import { PostgresStore } from './postgres.js';
import type { Store } from './types.js';

export * from './types.js';
export { SqliteStore } from './sqlite.js';
export { PostgresStore } from './postgres.js';
export { loadControllerHistory } from './history.js';

export interface OpenStoreOptions {
  /** relative sqlite paths resolve against this (the config file's directory), default the working directory */
  baseDir?: string;
}

/**
 * `sqlite:PATH` (relative to baseDir; `sqlite::memory:` for a private in-memory store), `postgres://...` or
 * `postgresql://...`. Anything else is bad input naming the accepted forms.
 */
export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  const u = url.trim();
  if (/^sqlite:/i.test(u)) {
    const path = u.replace(/^sqlite:(\/\/)?/i, '');
    if (path === '') throw new InputError(`store "${url}": the sqlite path is empty; write it like sqlite:.scalepilot/scalepilot.db`);
    if (path === ':memory:') return SqliteStore.open(':memory:');
    return SqliteStore.open(isAbsolute(path) ? path : resolve(opts.baseDir ?? process.cwd(), path));
  }
  if (/^postgres(ql)?:\/\//i.test(u)) {
    try {
      new URL(u);
    } catch {
      throw new InputError(`store "${url}" is not a valid URL; write it like postgres://USER:PASSWORD@HOST:5432/DATABASE`);
    }
    return PostgresStore.open(u);
  }
  throw new InputError(`store "${url}" is not a store URL; use sqlite:PATH (e.g. sqlite:.scalepilot/scalepilot.db) or postgres://USER@HOST:5432/DATABASE`);
}
