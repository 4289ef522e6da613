// Shared CLI plumbing: output formats, exit codes, and plain-text tables.
import { stringify as toYaml } from 'yaml';

export type OutputFormat = 'table' | 'json' | 'yaml';

/** Exit codes used by every command: 0 ok, 1 a check or threshold failed, 2 bad input. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

/** Bad input (config, flags, request JSON) is an InputError; the CLI prints the message and exits 2. */
export { InputError } from '../errors.js';
import { InputError } from '../errors.js';
import { readStreamBounded, InputTooLargeError, MAX_REQUEST_BYTES } from '../bounded-read.js';

export function parseFormat(v: string | undefined): OutputFormat {
  const f = (v ?? 'table').toLowerCase();
  if (f === 'table' || f === 'json' || f === 'yaml') return f;
  throw new InputError(`-o ${v}: unknown output format; use table, json or yaml`);
}

/** Prints machine output for json/yaml; returns false for table so the caller prints its own view. */
export function printMachine(data: unknown, format: OutputFormat): boolean {
  if (format === 'json') { process.stdout.write(JSON.stringify(data, null, 2) + '\n'); return true; }
  if (format === 'yaml') { process.stdout.write(toYaml(data)); return true; }
  return false;
}

export { table } from '../text-table.js';

/** Reads all of stdin as text (for commands that take a request on stdin), refusing more than `limit` bytes. */
export async function readStdin(limit = MAX_REQUEST_BYTES): Promise<string> {
  try {
    return await readStreamBounded(process.stdin, limit, 'stdin');
  } catch (e) {
    if (e instanceof InputTooLargeError) throw new InputError(e.message);
    throw e;
  }
}

