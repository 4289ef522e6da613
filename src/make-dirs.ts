// Creates a directory and its missing parents. Node's mkdirSync({ recursive: true }) never returns on a path where
// the kernel answers ENOENT for a parent that exists (under /proc, for one): it retries the parent forever. This one
// makes each missing level once, so every failure comes back as an error with its code.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** `dir` and its missing parents, like `mkdir -p`: throws the first error (ENOENT, EACCES, ENOTDIR, ...). */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    const kind = statOrNone(d);
    if (kind === 'dir') break;
    if (kind === 'other') throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${d}'`), { code: 'ENOTDIR', path: d });
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      // made meanwhile by another process: fine when it is a directory
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || statOrNone(d) !== 'dir') throw e;
    }
  }
}

function statOrNone(p: string): 'dir' | 'other' | 'none' {
  try {
    return statSync(p).isDirectory() ? 'dir' : 'other';
  } catch {
    return 'none';
  }
}
