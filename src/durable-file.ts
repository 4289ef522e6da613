// Writes that survive a crash or a power cut, shared by every layer that keeps a file it must find again (the
// journal's spill file, the local provider's state): the bytes are flushed to the disk before the call returns. And
// replaceFile, for every file a command saves (capacity files, reports, exports): whole or not at all.
import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, fsyncSync, lstatSync, openSync, readdirSync, renameSync, rmSync, type Stats, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { processAlive } from './process-alive.js';

/** Writes `text` to `file` (appending, or replacing it) and flushes it to the disk before returning. */
export function writeDurably(file: string, text: string, flags: 'a' | 'w', mode?: number): void {
  const fd = openSync(file, flags, mode);
  try {
    const buf = Buffer.from(text, 'utf8');
    for (let at = 0; at < buf.length;) at += writeSync(fd, buf, at, buf.length - at);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a directory's entries (a rename or a new file in it) to the disk; where directories cannot be opened, nothing. */
export function syncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // some filesystems refuse fsync on a directory; the data itself is flushed
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `file` with `text` so that a crash, a full disk or a second writer never leaves half a file where a whole
 * one was: the bytes go to a temporary file beside it (named for this process, so two writers do not share one), are
 * flushed, and are renamed over `file`. On failure the temporary file is removed, `file` is as it was, and the error
 * is thrown. A symlink, device or pipe at `file` is written through instead. Temporary files a killed writer left
 * beside `file` are removed on the way (removeStaleTemps).
 */
export function replaceFile(file: string, text: string, mode?: number): void {
  // a link, a device or a pipe (--report /dev/stdout) is written through, not replaced
  let kind: Stats | undefined;
  try {
    kind = lstatSync(file);
  } catch {
    // nothing there yet
  }
  if (kind && !kind.isFile()) {
    writeFileSync(file, text, mode === undefined ? {} : { mode });
    return;
  }
  removeStaleTemps(file);
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeDurably(tmp, text, 'w', mode);
    renameSync(tmp, file);
  } catch (e) {
    try { rmSync(tmp, { force: true }); } catch { /* the directory itself is the trouble */ }
    throw e;
  }
  syncDir(dirname(file));
}

/** How old a temporary file of a writer that is gone must be before it is removed: no write takes this long. */
const STALE_TEMP_MS = 10 * 60_000;

/**
 * Removes the temporary files replaceFile left beside `file` when a writer was killed mid-write (`kill -9`): only
 * those whose process is gone on this host and that are older than STALE_TEMP_MS, so a live writer (here, or on
 * another host sharing the directory) never loses its file. Best effort: a directory that cannot be read is left.
 */
function removeStaleTemps(file: string): void {
  const dir = dirname(file);
  const prefix = `.${basename(file)}.`;
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(prefix) && n.endsWith('.tmp'));
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^(\d+)\.[0-9a-f]{8}\.tmp$/.exec(n.slice(prefix.length));
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    const p = join(dir, n);
    try {
      if (Date.now() - lstatSync(p).mtimeMs > STALE_TEMP_MS) rmSync(p, { force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}
