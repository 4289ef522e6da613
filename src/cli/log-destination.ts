// Where `run` and `serve` write their log: stdout, one line at a time, synchronously. A log that cannot be written (a
// full disk under a redirected stdout, a reader that went away) must not stop the controller: pino's own stdout stream
// then throws from inside its write callback, and the process no longer stops on SIGTERM. Here a line that cannot be
// written is dropped and counted, stderr says so once, and once lines go through again it says how many were lost.
import { writeSync } from 'node:fs';
import { InputError } from '../errors.js';

/** How long a line waits for a reader that is slow (a full pipe answers EAGAIN) before it is dropped: 1 s. */
const EAGAIN_WAIT_MS = 10;
const EAGAIN_TRIES = 100;

export interface LogDestination {
  write(line: string): void;
  /** lines dropped since the log last could be written */
  readonly dropped: number;
}

export function logDestination(fd = 1, note: (text: string) => void = noteOnStderr): LogDestination {
  let failing: string | null = null;
  let dropped = 0;
  // a line cut short by the failure: the next one starts on a line of its own, not glued to the fragment
  let torn = false;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  return {
    get dropped() {
      return dropped;
    },
    write(line: string): void {
      const buf = Buffer.from(torn ? `\n${line}` : line, 'utf8');
      let at = 0;
      try {
        for (let tries = 0; at < buf.length;) {
          try {
            at += writeSync(fd, buf, at, buf.length - at);
            tries = 0;
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || ++tries >= EAGAIN_TRIES) throw e;
            Atomics.wait(pause, 0, 0, EAGAIN_WAIT_MS);
          }
        }
      } catch (e) {
        // cut short again, or (after a fragment) only its newline got through
        torn = torn ? at !== 1 : at > 0;
        dropped++;
        if (failing === null) {
          failing = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
          note(`scalepilot: cannot write the log (${failing}); log lines are dropped until it can be written again, and scalepilot goes on\n`);
        }
        return;
      }
      torn = false;
      if (failing !== null) {
        note(`scalepilot: the log is written again; ${dropped} line(s) were dropped while it could not be (${failing})\n`);
        failing = null;
        dropped = 0;
      }
    },
  };
}

function noteOnStderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // stderr is gone too: nothing is left to tell
  }
}

/** pino's levels, most to least severe, and `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The --log-level flag, checked before a logger is made (pino throws on an unknown level). */
export function logLevel(v: string): (typeof LOG_LEVELS)[number] {
  const level = LOG_LEVELS.find((l) => l === v.trim().toLowerCase());
  if (!level) throw new InputError(`--log-level ${JSON.stringify(v).slice(0, 60)}: not a log level; use one of ${LOG_LEVELS.join(', ')}`);
  return level;
}
