// Times given on the command line, one reading for every flag that takes one (`simulate --start/--end`,
// `check --at`): RFC 3339, unix seconds (as Prometheus reads them), `now`, or `now-7d` style.
import { isDateMs, parseDuration } from './core/duration.js';
import { InputError } from './errors.js';

/** The last millisecond of year 9999: RFC 3339 years have four digits. */
const LAST_RFC3339_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Reads a time: RFC 3339, unix seconds, `now`, or `now-7d` style. */
export function parseTime(s: string, flag: string, now = Date.now()): number {
  const v = s.trim();
  const rel = /^now(?:\s*-\s*(.+))?$/.exec(v);
  let t = Number.NaN;
  if (rel) {
    if (!rel[1]) return now;
    try {
      t = now - parseDuration(rel[1]);
    } catch {
      /* reported below */
    }
  } else if (/^\d+(\.\d+)?$/.test(v)) {
    t = Number(v) * 1000;
    // 13 digits are milliseconds, which read as seconds land tens of thousands of years ahead: said, not taken
    if (t > LAST_RFC3339_MS) throw new InputError(`${flag} ${s}: past year 9999 read as unix seconds; milliseconds? unix seconds have 10 digits (e.g. ${Math.floor(Date.now() / 1000)})`);
  } else if (/^\d{4}-\d{2}-\d{2}(?:[Tt ].+)?$/.test(v)) {
    // (an ISO date first: Date.parse also takes "May 1" and "-5", each as some day of 2001)
    t = Date.parse(v);
  }
  // now-1000000000d is a number, but no time a Date holds
  if (isDateMs(t)) return t;
  throw new InputError(`${flag} ${s}: not a time; write 2024-05-01T00:00:00Z, unix seconds, now or now-7d`);
}
