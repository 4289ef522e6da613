// Bounded reads of user-supplied files and streams: a config or request that never ends (/dev/zero, a runaway
// pipe) is refused after a fixed number of bytes instead of growing the process until the kernel kills it.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';

/** Largest config file read (bytes); real configs are a few KB, generated ones for 1,000 services a few MB. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
/** Largest request read from stdin or --input (bytes), e.g. an `hpa evaluate` request with many pods. */
export const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
/** Largest answer read from a metrics API (Prometheus, metrics.k8s.io): past it a query is not aggregated or narrowed. */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
/** Largest trace file read (bytes): a month of per-second samples is about 50 MB; past ~512 MB no string holds it. */
export const MAX_TRACE_BYTES = 256 * 1024 * 1024;

/** Thrown when input is larger than its cap; the message names the source, the cap and what to do. */
export class InputTooLargeError extends Error {
  override name = 'InputTooLargeError';
  constructor(readonly source: string, readonly limit: number) {
    super(`${source}: more than ${formatBytes(limit)}; refused without reading further (check that this is the intended input)`);
  }
}

export function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MB` : `${n} bytes`;
}

/**
 * Reads a file as UTF-8, at most `limit` bytes. Reads in chunks rather than trusting the size stat reports, which
 * is 0 for devices, pipes and /proc files.
 */
export function readFileBounded(file: string, limit: number): string {
  const fd = openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > limit) throw new InputTooLargeError(file, limit);
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Reads a stream to the end as UTF-8, at most `limit` bytes; stops reading (and destroys it) past the cap. */
export async function readStreamBounded(stream: NodeJS.ReadableStream & { destroy?: () => void }, limit: number, source: string): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    total += b.length;
    if (total > limit) {
      stream.destroy?.();
      throw new InputTooLargeError(source, limit);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

/**
 * The last `bytes` of a file as UTF-8 (all of it when shorter), none from before byte `from`: the newest lines of a
 * log that may be very long, or of what was written to it since `from`.
 */
export function readFileTail(file: string, bytes: number, from = 0): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(from, size - bytes);
    const buf = Buffer.alloc(Math.max(0, size - start));
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
