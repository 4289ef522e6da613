// Real storage faults for chaos tests: a small tmpfs that can be filled to ENOSPC, and files made unwritable even
// for root (the immutable attribute), each undone in the test's `finally`. Missing privileges are a clear failure.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './env.js';

export interface SmallDisk {
  dir: string;
  /** Writes a filler file until the filesystem refuses (ENOSPC); returns the bytes written. */
  fill(): number;
  /** Deletes the filler, giving the space back. */
  free(): void;
  /** Unmounts and removes the mount point (safe twice). */
  cleanup(): void;
}

/** A private tmpfs of `size` (e.g. '2m'), mounted on a new temp dir. Needs root (tests run as root here and in CI). */
export function mountSmallDisk(size = '2m'): SmallDisk {
  const base = tempDir('scalepilot-disk-');
  const dir = join(base.path, 'mnt');
  mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    base.cleanup();
    throw new Error(`cannot mount a ${size} tmpfs for the full-disk test (mount exit ${r.status ?? r.signal}: ${r.stderr.trim()}); this suite needs root and mount(8)`);
  }
  const filler = join(dir, 'filler');
  let mounted = true;
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(16 * 1024, 1);
      let n = 0;
      try {
        for (;;) {
          try {
            n += writeSync(fd, chunk);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
            // the last partial block
            try {
              n += writeSync(fd, chunk.subarray(0, 512));
              continue;
            } catch {
              return n;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    cleanup() {
      if (mounted) {
        const u = spawnSync('umount', [dir], { encoding: 'utf8' });
        if (u.status !== 0) spawnSync('umount', ['-l', dir]);
        mounted = false;
      }
      base.cleanup();
    },
  };
}

/** Makes files unwritable even for root and for descriptors already open (chattr +i), or undoes it. */
export function setImmutable(files: string[], on: boolean): void {
  const r = spawnSync('chattr', [on ? '+i' : '-i', ...files], { encoding: 'utf8' });
  if (r.status !== 0 && on) {
    throw new Error(`chattr +i failed (${r.stderr.trim()}): the read-only test needs root and a filesystem with the immutable attribute (ext4, xfs, btrfs)`);
  }
}
