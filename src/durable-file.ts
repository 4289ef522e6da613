// Writes that survive a crash or a power cut, shared by every layer that keeps a file it must find again (the
// journal's spill file, the local provider's state): the bytes are flushed to the disk before the call returns.
import { closeSync, fdatasyncSync, fsyncSync, openSync, writeSync } from 'node:fs';

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
