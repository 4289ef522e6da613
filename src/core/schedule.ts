// Scheduled capacity (KEDA cron-scaler style): "from each cron fire time, for `duration`, keep at least N replicas".
// Pure: the time is a parameter. Sequential queries (controller, simulator) cost O(1) amortized per minute.

export interface CronFields {
  minute: boolean[];
  hour: boolean[];
  dom: boolean[];
  month: boolean[];
  dow: boolean[];
  domStar: boolean;
  dowStar: boolean;
}

export class CronError extends Error {
  override name = 'CronError';
}

const NAMES: Record<string, Record<string, number>> = {
  month: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
  dow: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 },
};

function field(text: string, min: number, max: number, what: string, names?: Record<string, number>): boolean[] {
  const out = new Array<boolean>(max + 1).fill(false);
  const num = (s: string): number => {
    const n = names?.[s.toLowerCase()] ?? (/^\d+$/.test(s) ? Number(s) : NaN);
    if (!Number.isInteger(n) || n < min || n > max + (what === 'day-of-week' ? 1 : 0)) {
      throw new CronError(`${what} "${s}" is out of range ${min}-${max}`);
    }
    return n;
  };
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new CronError(`${what} step "${stepText}" must be a whole number >= 1`);
    let lo: number;
    let hi: number;
    if (range === '*') { lo = min; hi = max; }
    else if (range!.includes('-')) { const [a, b] = range!.split('-'); lo = num(a!); hi = num(b!); }
    else { lo = num(range!); hi = stepText === undefined ? lo : max; }
    if (lo > hi) throw new CronError(`${what} range "${range}" runs backwards`);
    for (let v = lo; v <= hi; v += step) out[what === 'day-of-week' && v === 7 ? 0 : v] = true;
  }
  return out;
}

/** Parses a five-field cron expression (minute hour day-of-month month day-of-week), with @hourly/@daily/@weekly. */
export function parseCron(expr: string): CronFields {
  const aliases: Record<string, string> = { '@hourly': '0 * * * *', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@weekly': '0 0 * * 0', '@monthly': '0 0 1 * *', '@yearly': '0 0 1 1 *' };
  const e = aliases[expr.trim()] ?? expr.trim();
  const parts = e.split(/\s+/);
  if (parts.length !== 5) throw new CronError(`"${expr}" has ${parts.length} fields; write five: minute hour day-of-month month day-of-week (e.g. "0 8 * * 1-5")`);
  return {
    minute: field(parts[0]!, 0, 59, 'minute'),
    hour: field(parts[1]!, 0, 23, 'hour'),
    dom: field(parts[2]!, 1, 31, 'day-of-month'),
    month: field(parts[3]!, 1, 12, 'month', NAMES.month),
    dow: field(parts[4]!, 0, 6, 'day-of-week', NAMES.dow),
    domStar: parts[2] === '*',
    dowStar: parts[4] === '*',
  };
}

interface Parts { minute: number; hour: number; dom: number; month: number; dow: number }

function partsOf(ms: number, tz?: string): Parts {
  if (!tz || tz === 'UTC') {
    const d = new Date(ms);
    return { minute: d.getUTCMinutes(), hour: d.getUTCHours(), dom: d.getUTCDate(), month: d.getUTCMonth() + 1, dow: d.getUTCDay() };
  }
  const f = formatter(tz);
  const o: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(ms))) o[p.type] = p.value;
  const dow = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(o.weekday!);
  return { minute: Number(o.minute), hour: Number(o.hour) % 24, dom: Number(o.day), month: Number(o.month), dow };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    formatters.set(tz, f);
  }
  return f;
}

/** Throws CronError for an unknown IANA time zone. */
export function checkTimezone(tz: string): void {
  try { formatter(tz); } catch { throw new CronError(`time zone "${tz}" is unknown; use an IANA name like Europe/Berlin, or UTC`); }
}

export function cronMatches(c: CronFields, ms: number, tz?: string): boolean {
  const p = partsOf(ms, tz);
  if (!c.minute[p.minute] || !c.hour[p.hour] || !c.month[p.month]) return false;
  // Vixie cron: when both day fields are restricted, either may match.
  const domOk = c.dom[p.dom]!;
  const dowOk = c.dow[p.dow]!;
  if (c.domStar || c.dowStar) return domOk && dowOk;
  return domOk || dowOk;
}

export interface ScheduleSpec {
  name?: string;
  cron: string;
  /** ms */
  duration: number;
  minReplicas?: number;
  maxReplicas?: number;
  timezone?: string;
}

interface Compiled { fields: CronFields; scannedMinute: number; lastFire: number }
const compiled = new WeakMap<ScheduleSpec, Compiled>();
const MINUTE = 60_000;

/** The latest cron fire time ≤ now within `duration` (so the window is active), or undefined. */
export function activeSince(s: ScheduleSpec, now: number): number | undefined {
  let c = compiled.get(s);
  if (!c) {
    c = { fields: parseCron(s.cron), scannedMinute: Number.NEGATIVE_INFINITY, lastFire: Number.NEGATIVE_INFINITY };
    compiled.set(s, c);
  }
  const m = Math.floor(now / MINUTE) * MINUTE;
  if (m < c.scannedMinute) { c.scannedMinute = Number.NEGATIVE_INFINITY; c.lastFire = Number.NEGATIVE_INFINITY; }
  // Only minutes not yet scanned are looked at; nothing older than the window can matter.
  const from = Math.max(c.scannedMinute + MINUTE, m - Math.ceil(s.duration / MINUTE) * MINUTE);
  for (let t = m; t >= from; t -= MINUTE) {
    if (cronMatches(c.fields, t, s.timezone)) { c.lastFire = Math.max(c.lastFire, t); break; }
  }
  c.scannedMinute = m;
  return now < c.lastFire + s.duration ? c.lastFire : undefined;
}
