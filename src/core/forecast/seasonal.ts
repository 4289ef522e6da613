// Seasonal demand forecasting kept in constant memory: per-bucket peaks in a ring buffer, seasonality found by
// autocorrelation at candidate periods (timers, a day, a week), a seasonal-naive forecast scaled by the recent level
// (the highest over every season found, so 5-minute timers and half-hourly jobs are both covered), and the empirical
// distribution of its own recent errors (kept sorted) from which headroom is read as a quantile.
// Updates are O(bucket window) per completed bucket; a forecast is O(level window + horizon).

export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;

/** Which season to use: detect one (auto), force one, or none (the forecast then stays off). */
export type SeasonChoice = 'auto' | '5m' | '15m' | '30m' | '1h' | '1d' | '1w' | 'off';

/** Periods of the schedules real traffic follows: timers and cron jobs (5m, 15m, 1h), people (1d, 1w). */
export const SEASONS: ReadonlyArray<[label: Exclude<SeasonChoice, 'auto' | 'off'>, ms: number]> = [
  ['5m', 300_000], ['15m', 900_000], ['30m', 1_800_000], ['1h', 3_600_000], ['1d', DAY_MS], ['1w', WEEK_MS],
];

export interface SeasonalOptions {
  /** width of a bucket: each bucket keeps the highest demand seen in it */
  bucketMs: number;
  /** history kept (ring length); two cycles of a season are needed to detect it */
  lookbackMs: number;
  /** buckets ahead a decision must cover: start-up + readiness delay, in buckets (>= 1) */
  horizonBuckets: number;
  season: SeasonChoice;
  /** forecast errors kept for the headroom quantile */
  errorWindowMs: number;
  /**
   * level (default): last season's values scaled to today's level; change: the current value plus last season's
   * change over the same stretch (follows today's level at once, for demand whose shape repeats but whose level moves)
   */
  method?: ForecastMethod;
  /**
   * ratio (default): errors are actual / forecast, and headroom multiplies; sqrt: errors are (actual - forecast) /
   * √forecast, and headroom adds that many square roots (errors of many independent clients: small at low demand)
   */
  errorModel?: ErrorModel;
  /**
   * how long a drop of demand below every forecast error held (an outage upstream, a failover, a broken client) may
   * hold the forecast at what was expected before it, so the replicas are still there when the traffic comes back;
   * 0 or unset: no hold. Not part of what the history depends on: changing it keeps the history.
   */
  dropHoldMs?: number;
}

/**
 * A drop of demand the season does not explain: bucket `since` came in below the lowest error the seasonal forecast
 * had made in the error window (forecast `expected`, demand `actual`). Until demand is back within that band, or
 * dropHoldMs has passed, forecasts start from bucket `anchor` (the origin of the forecast the drop broke) rather than
 * from the fallen demand, and the errors of forecasts made or checked during it are not recorded; once demand is back
 * its buckets are replaced in the history by what was forecast for them. `end` is the bucket
 * that ended it (-1 while it lasts), `expired` whether the time ran out rather than demand coming back.
 */
export interface DropHold {
  anchor: number;
  since: number;
  end: number;
  expected: number;
  actual: number;
  expired: boolean;
}

export type ForecastMethod = 'level' | 'change';
export type ErrorModel = 'ratio' | 'sqrt';

/** An error quantile as the reason shows it: ×1.23 (ratio) or +1.5√ (sqrt). */
export function describeError(model: ErrorModel, e: number): string {
  return model === 'sqrt' ? `${e >= 0 ? '+' : ''}${e.toFixed(2)}√` : `×${e.toFixed(2)}`;
}

/** One forecast error under the model; NaN when it cannot be measured (no forecast above zero). */
export function errorOf(model: ErrorModel, actual: number, forecast: number): number {
  if (!(forecast > 0)) return Number.NaN;
  return model === 'sqrt' ? (actual - forecast) / Math.sqrt(forecast) : actual / forecast;
}

/** Demand with headroom: the forecast corrected by an error quantile `e` read under the model (never negative). */
export function withHeadroom(model: ErrorModel, forecast: number, e: number): number {
  return Math.max(0, model === 'sqrt' ? forecast + e * Math.sqrt(forecast) : forecast * e);
}

export interface SeasonInfo {
  /** season in buckets; 0 when none is used */
  period: number;
  label: string;
  /** autocorrelation at the period (NaN when not measured) */
  acf: number;
  /** why no season is used (empty when one is) */
  why: string;
  /** the other seasons found (auto only): the forecast is the highest over all of them */
  also?: Array<{ period: number; label: string; acf: number }>;
}

/** The latest ratios in arrival order (ring) and the same values sorted, so any quantile is one read. */
export interface ErrorWindow {
  sorted: Float64Array;
  ring: Float64Array;
  count: number;
  next: number;
}

function newErrorWindow(cap: number): ErrorWindow {
  return { sorted: new Float64Array(cap), ring: new Float64Array(cap), count: 0, next: 0 };
}

/** Plain data (typed arrays), held in the controller's History; mutated only by recordDemandSample(). */
export interface SeasonalState {
  opts: SeasonalOptions;
  /** per-bucket peaks; 32-bit floats keep 15 days of minutes in 86 kB per service, precise to 7 digits */
  values: Float32Array;
  /** absolute bucket index (floor(t / bucketMs)) of the newest bucket; -1 before the first sample */
  last: number;
  /** absolute index of the oldest bucket that holds data (the ring may not be full yet) */
  first: number;
  /** actual / forecast of the seasonal forecast for completed buckets */
  errors: ErrorWindow;
  /** actual / value one horizon earlier: the errors of a persistence (reactive) forecast */
  naive: ErrorWindow;
  /** the same errors, of forecasts made when no update of the demand metric was due within the horizon */
  quietErrors: ErrorWindow;
  quietNaive: ErrorWindow;
  /** how often the demand metric updates, learnt from the gaps between changes of its value */
  cadence: Cadence;
  season: SeasonInfo;
  /** bucket index at which seasonality was last checked */
  checkedAt: number;
  /**
   * autocorrelations by lag, measured over `span` buckets of history: reused until the history has grown by an
   * eighth (young history changes them quickly, an old one slowly) or a recheck period has passed, so the checks
   * each bucket while history is young cost O(1) most of the time instead of O(history)
   */
  acf: { span: number; at: number; byLag: Record<number, number> };
  /** the latest drop hold (DropHold), or null */
  drop: DropHold | null;
}

/** Autocorrelation strength below which a period is not treated as a season. */
const MIN_ACF = 0.5;
/** How much better than the season it repeats a multiple must correlate to add to the forecast (beyond noise). */
const MULTIPLE_MARGIN = 0.02;
/** Complete cycles of history needed before a season is trusted. */
const MIN_CYCLES = 2;
/** Level window for scaling last season's value to today's level. */
const LEVEL_MS = 3_600_000;
/** How often seasonality is re-checked. */
const RECHECK_MS = 4 * 3_600_000;

export function newSeasonalState(opts: SeasonalOptions): SeasonalState {
  const cap = Math.max(4, Math.ceil(opts.lookbackMs / opts.bucketMs));
  const errCap = Math.max(8, Math.ceil(opts.errorWindowMs / opts.bucketMs));
  return {
    opts,
    values: new Float32Array(cap).fill(Number.NaN),
    last: -1,
    first: -1,
    errors: newErrorWindow(errCap),
    naive: newErrorWindow(errCap),
    quietErrors: newErrorWindow(errCap),
    quietNaive: newErrorWindow(errCap),
    cadence: newCadence(),
    season: { period: 0, label: 'none', acf: Number.NaN, why: 'no history yet' },
    checkedAt: -1,
    acf: { span: 0, at: -1, byLag: {} },
    drop: null,
  };
}

/** Position of bucket b in a ring of `cap` buckets. */
function slot(b: number, cap: number): number {
  return ((b % cap) + cap) % cap;
}

function at(s: SeasonalState, b: number): number {
  if (b < s.first || b > s.last || b <= s.last - s.values.length) return Number.NaN;
  return s.values[b % s.values.length]!;
}

function levelBuckets(s: SeasonalState): number {
  return Math.max(1, Math.round(LEVEL_MS / s.opts.bucketMs));
}

/**
 * Forecast of bucket j from data through bucket i (i < j): the mean of the values at j's position in the cycles
 * of the last level window (one cycle for periods of an hour or more), times the ratio of the recent level (L
 * buckets ending at i) to the level one season earlier. The ratio follows growth and day-to-day level changes; the
 * seasonal values carry the shape. NaN when the data it needs is missing.
 */
export function forecastBucket(s: SeasonalState, i: number, j: number, period: number): number {
  const L = levelBuckets(s);
  const cycles = Math.max(1, Math.floor(L / period));
  if (s.opts.method === 'change') return changeForecast(s, i, j, period, cycles);
  let base = 0;
  let nb = 0;
  for (let c = 1; c <= cycles; c++) {
    let b = j - c * period;
    while (b > i) b -= period; // a short period's cycle can end after i: use its last complete turn
    const v = at(s, b);
    if (v >= 0) { base += v; nb++; }
  }
  if (!nb) return Number.NaN;
  base /= nb;
  if (cycles > 1) return base; // cycles within the level window already sit at today's level
  let now = 0;
  let then = 0;
  for (let b = i - L + 1; b <= i; b++) {
    const a = at(s, b);
    const c = at(s, b - period);
    if (a >= 0 && c >= 0) { now += a; then += c; }
  }
  if (!(then > 0)) return then === 0 && now === 0 ? base : Number.NaN;
  return base * (now / then);
}

/**
 * Forecast of bucket j from data through bucket i by the change method: the value at i plus the mean change from
 * i's to j's position over the cycles of the level window (one cycle for periods of an hour or more), never below
 * the value at i (demand falling is no reason to hold fewer replicas than now). NaN when the data is missing.
 */
function changeForecast(s: SeasonalState, i: number, j: number, period: number, cycles: number): number {
  const cur = at(s, i);
  if (!(cur >= 0)) return Number.NaN;
  let change = 0;
  let nc = 0;
  for (let c = 1; c <= cycles; c++) {
    let m = c * period;
    while (j - m > i) m += period; // a short period's cycle can end after i: use its last complete turn
    const a = at(s, j - m);
    const b = at(s, i - m);
    if (a >= 0 && b >= 0) { change += a - b; nc++; }
  }
  if (!nc) return Number.NaN;
  return Math.max(cur, cur + change / nc);
}

/** The highest forecast of bucket j over the season and the other seasons found; NaN when none can forecast it. */
export function forecastSeasons(s: SeasonalState, i: number, j: number, season: SeasonInfo): number {
  let f = forecastBucket(s, i, j, season.period);
  for (const a of season.also ?? []) {
    const g = forecastBucket(s, i, j, a.period);
    if (g >= 0 && !(f >= g)) f = g;
  }
  return f;
}

/** Pearson correlation of the series with itself `lag` buckets earlier, over the buckets held. */
export function autocorrelation(s: SeasonalState, lag: number): number {
  let n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  const v = s.values;
  const cap = v.length;
  // every bucket from `from` to last and `lag` before it lies within the ring: walk both positions without a modulo
  const from = Math.max(s.first + lag, s.last - cap + 1 + lag);
  let ix = slot(from, cap);
  let iy = slot(from - lag, cap);
  for (let b = from; b <= s.last; b++) {
    const x = v[ix]!;
    const y = v[iy]!;
    if (++ix === cap) ix = 0;
    if (++iy === cap) iy = 0;
    if (!(x >= 0 && y >= 0)) continue;
    n++; sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
  }
  if (n < 3) return Number.NaN;
  const cov = sxy - (sx * sy) / n;
  const vx = sxx - (sx * sx) / n;
  const vy = syy - (sy * sy) / n;
  if (!(vx > 0 && vy > 0)) return Number.NaN;
  return cov / Math.sqrt(vx * vy);
}

function span(s: SeasonalState): number {
  return s.first < 0 ? 0 : s.last - Math.max(s.first, s.last - s.values.length + 1) + 1;
}

function formatSpan(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return ms % DAY_MS === 0 ? `${ms / DAY_MS}d` : `${ms / 3_600_000}h`;
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)}h`;
  return `${Math.round(ms / 60_000)}m`;
}

/**
 * Autocorrelations by lag of the histories seen lately, keyed by the history's content (ringKey): states fed the same
 * demand (every candidate of a tuning search replays the same trace) measure each history once. Each entry holds
 * only figures measured on that very content, so a state gets from it what it would measure itself.
 */
const acfMemo = new Map<string, Record<number, number>>();
const ACF_MEMO_MAX = 4096;

/**
 * The history a state holds, as a key: its ring's size and bucket span with two independent 32-bit hashes of the
 * values' bits in bucket order (a collision needs both to agree by chance, about 1 in 2^64).
 */
function ringKey(s: SeasonalState): string {
  const v = s.values;
  const bits = new Uint32Array(v.buffer, v.byteOffset, v.length);
  const cap = v.length;
  const from = Math.max(s.first, s.last - cap + 1);
  let h1 = 0x811c9dc5;
  let h2 = 0x9e3779b9;
  let i = slot(from, cap);
  for (let b = from; b <= s.last; b++) {
    const x = bits[i]!;
    if (++i === cap) i = 0;
    h1 = Math.imul(h1 ^ x, 0x01000193);
    h2 = (Math.imul(h2 ^ (x >>> 16) ^ (x << 16), 0x85ebca6b) + b) | 0;
  }
  return `${cap}:${s.first}:${s.last}:${h1 >>> 0}:${h2 >>> 0}`;
}

/** The memo's entry for the history the state holds now. */
function sharedAcf(s: SeasonalState): Record<number, number> {
  const key = ringKey(s);
  let byLag = acfMemo.get(key);
  if (!byLag) {
    if (acfMemo.size >= ACF_MEMO_MAX) acfMemo.delete(acfMemo.keys().next().value!);
    byLag = {};
    acfMemo.set(key, byLag);
  }
  return byLag;
}

/**
 * autocorrelation() through the state's cache (see SeasonalState.acf); what the cache lacks is read from the memo
 * entry for the history held now (`shared`, looked up once per season check: the history does not change during one).
 */
function cachedAcf(s: SeasonalState, lag: number, shared: () => Record<number, number>): number {
  const c = s.acf;
  const have = span(s);
  if (have > c.span + (c.span >> 3) || s.last - c.at >= Math.max(1, Math.round(RECHECK_MS / s.opts.bucketMs))) {
    c.span = have;
    c.at = s.last;
    c.byLag = {};
  }
  const known = c.byLag[lag];
  if (known !== undefined) return known;
  return (c.byLag[lag] = shared()[lag] ??= autocorrelation(s, lag));
}

/** Picks the season: the candidate with the strongest autocorrelation above MIN_ACF and enough cycles of history. */
export function detectSeason(s: SeasonalState): SeasonInfo {
  const { bucketMs, season } = s.opts;
  if (season === 'off') return { period: 0, label: 'none', acf: Number.NaN, why: 'seasonal forecasting is off' };
  const have = span(s);
  const candidates = season === 'auto' ? SEASONS : SEASONS.filter(([l]) => l === season);
  let best: SeasonInfo | undefined;
  const found: Array<{ period: number; label: string; acf: number }> = [];
  const weak: string[] = [];
  const short: string[] = [];
  let flat = false;
  let memo: Record<number, number> | undefined;
  const shared = () => (memo ??= sharedAcf(s));
  for (const [label, ms] of candidates) {
    const period = Math.round(ms / bucketMs);
    if (period < 2) continue; // a season of one bucket is just the last value
    if (period * MIN_CYCLES + 1 > s.values.length || have < period * MIN_CYCLES) { short.push(`${label} needs ${formatSpan(MIN_CYCLES * ms)}`); continue; }
    const acf = cachedAcf(s, period, shared);
    if (Number.isNaN(acf)) { flat = true; continue; }
    if (!(acf >= MIN_ACF)) { weak.push(`${label} ${acf.toFixed(2)}`); continue; }
    // a cycle shows as a peak of the autocorrelation at its period; any smooth series is merely similar to itself
    // a little earlier, with an autocorrelation that only falls with the lag
    const half = cachedAcf(s, Math.max(1, Math.round(period / 2)), shared);
    if (!(acf > half)) { weak.push(`${label} ${acf.toFixed(2)} (no peak)`); continue; }
    found.push({ period, label, acf });
    // a multiple of a season correlates about as well as the season itself: it must do clearly better to win
    if (!best || acf > best.acf + (period % best.period === 0 ? 0.05 : 0)) best = { period, label, acf, why: '' };
  }
  if (best) {
    // another season adds to the forecast only if it is not merely a multiple of one already used, repeating its
    // shape: a multiple must correlate better than what it repeats (half-hourly jobs on top of 5-minute timers)
    const also: typeof found = [];
    for (const f of found.sort((x, y) => x.period - y.period)) {
      if (f.period === best.period) continue;
      const used = [best, ...also];
      if (used.some((u) => (f.period % u.period === 0 || u.period % f.period === 0) && !(f.acf > u.acf + MULTIPLE_MARGIN))) continue;
      also.push(f);
    }
    return also.length ? { ...best, label: [best, ...also].sort((a, b) => a.period - b.period).map((f) => f.label).join('+'), also } : best;
  }
  const parts: string[] = [];
  if (flat) parts.push('no variation');
  if (weak.length) parts.push(`autocorrelation at ${weak.join(', ')} (needs ${MIN_ACF})`);
  if (short.length) parts.push(`${formatSpan(have * bucketMs)} of history: ${short.join(', ')}`);
  return { period: 0, label: 'none', acf: Number.NaN, why: `no ${season === 'auto' ? '' : `${season} `}seasonality: ${parts.join('; ')}` };
}

function insertSorted(a: Float64Array, n: number, v: number): void {
  let lo = 0, hi = n;
  while (lo < hi) { const m = (lo + hi) >> 1; if (a[m]! <= v) lo = m + 1; else hi = m; }
  a.copyWithin(lo + 1, lo, n);
  a[lo] = v;
}

function removeSorted(a: Float64Array, n: number, v: number): void {
  let lo = 0, hi = n;
  while (lo < hi) { const m = (lo + hi) >> 1; if (a[m]! < v) lo = m + 1; else hi = m; }
  a.copyWithin(lo, lo + 1, n);
}

function pushError(e: ErrorWindow, r: number): void {
  const cap = e.ring.length;
  if (e.count === cap) {
    removeSorted(e.sorted, cap, e.ring[e.next]!);
    e.count--;
  }
  e.ring[e.next] = r;
  e.next = (e.next + 1) % cap;
  insertSorted(e.sorted, e.count, r);
  e.count++;
}

/** Longest gap between updates of the demand metric that is learnt as a cadence, in buckets. */
const MAX_CADENCE = 60;
/** Gaps between updates needed before a cadence is trusted. */
const MIN_GAPS = 24;
/** Share of the gaps that must have the cadence's length. */
const CADENCE_SHARE = 0.8;
/** Length of a cadence's gap histogram. */
export const CADENCE_GAPS = MAX_CADENCE + 1;

export interface Cadence {
  /** gaps between changes of the value, by length in buckets (1..MAX_CADENCE; 0 counts longer ones) */
  gaps: Float64Array;
  /** bucket of the last change of the value; -1 when unknown */
  lastChange: number;
  /** buckets between updates (1: every bucket, or no regular cadence) */
  period: number;
}

function newCadence(): Cadence {
  return { gaps: new Float64Array(CADENCE_GAPS), lastChange: -1, period: 1 };
}

/** Updates the cadence with completed bucket j. */
function trackCadence(s: SeasonalState, j: number): void {
  const c = s.cadence;
  const v = at(s, j);
  const u = at(s, j - 1);
  if (!(v >= 0) || !(u >= 0)) { c.lastChange = -1; return; }
  if (v === u) return;
  if (c.lastChange >= 0) {
    const gap = j - c.lastChange;
    let total = 0;
    for (let g = 0; g <= MAX_CADENCE; g++) total += c.gaps[g]!;
    // a day of gaps at most is remembered: older ones fade, so a changed cadence is learnt within a day
    if (total >= Math.max(MIN_GAPS, Math.round(DAY_MS / s.opts.bucketMs / Math.max(1, c.period)))) {
      for (let g = 0; g <= MAX_CADENCE; g++) c.gaps[g]! *= 0.5;
      total *= 0.5;
    }
    c.gaps[gap <= MAX_CADENCE ? gap : 0]! += 1;
    total += 1;
    let mode = 1;
    for (let g = 2; g <= MAX_CADENCE; g++) if (c.gaps[g]! > c.gaps[mode]!) mode = g;
    c.period = total >= MIN_GAPS && mode > 1 && c.gaps[mode]! >= CADENCE_SHARE * total ? mode : 1;
  }
  c.lastChange = j;
}

/** Buckets since the value last changed, as of bucket i (capped at the cadence); 0 without a cadence. */
function ageAt(s: SeasonalState, i: number): number {
  const P = s.cadence.period;
  if (P <= 1) return 0;
  const v = at(s, i);
  let a = 0;
  while (a < P && at(s, i - a - 1) === v) a++;
  return a;
}

/** Whether an update of the demand is due within the horizon after bucket i (always, without a cadence). */
export function updateDue(s: SeasonalState, i: number): boolean {
  const P = s.cadence.period;
  return P <= 1 || ageAt(s, i) + s.opts.horizonBuckets >= P;
}

/** Whether a forecast made at bucket i for bucket j falls in a drop hold (its error is the outage's, not the model's). */
function inDrop(s: SeasonalState, i: number, j: number): boolean {
  const d = s.drop;
  return d !== null && j >= d.since && (d.end < 0 || i <= d.end);
}

/** Forecast errors needed before a drop below all of them is told apart from noise. */
const DROP_MIN_ERRORS = 100;
/**
 * A drop starts only where demand is below this share of the forecast as well: a dip past the worst error of a
 * quiet day is still traffic, an outage takes most of it away.
 */
export const DROP_SHARE = 0.5;

/** Forecast of bucket j from bucket i: the season's when one is known, else the value at i (persistence). */
function forecastFrom(s: SeasonalState, i: number, j: number): number {
  return s.season.period ? forecastSeasons(s, i, j, s.season) : at(s, i);
}

/** The errors a forecast from bucket i is judged against: the season's or persistence's, with or without an update due. */
function errorsFor(s: SeasonalState, i: number): ErrorWindow {
  const due = updateDue(s, i);
  return s.season.period ? (due ? s.errors : s.quietErrors) : (due ? s.naive : s.quietNaive);
}

/**
 * Starts, keeps or ends the drop hold at completed bucket j (before its error is recorded; `fj` is the forecast made
 * for it one horizon ahead): a drop starts when j's demand is below the lowest error the window holds of such
 * forecasts, below DROP_SHARE of the highest forecast made for j from the level window (a collapse can take several
 * buckets) and below the lowest demand of the error window; it ends when demand is back within those errors (measured against the forecast from the
 * drop's anchor) or the hold's time has run out. When demand came back, the buckets it held over are replaced in
 * the history by what the anchor's forecast expected of them: an outage is not the demand's shape, and kept it would
 * be forecast again a season later and would scale the level of the hour after it.
 */
function trackDrop(s: SeasonalState, j: number, fj: number): void {
  const holdMs = s.opts.dropHoldMs ?? 0;
  const d = s.drop;
  const model = s.opts.errorModel ?? 'ratio';
  const actual = at(s, j);
  if (d && d.end < 0) {
    const f = forecastFrom(s, d.anchor, j);
    const win = errorsFor(s, d.anchor);
    const back = actual >= 0 && f > 0 && win.count > 0 && errorOf(model, actual, f) >= win.sorted[0]!;
    const expired = !back && (j - d.since + 1) * s.opts.bucketMs >= holdMs;
    if (back || expired) { d.end = j; d.expired = !back; }
    // an outage that ended is replaced in the history by what was forecast for it; a drop that lasted is the level now
    // (a forecast from the anchor reads only buckets up to the anchor, so the held ones can be written as they go)
    if (back) {
      for (let b = Math.max(d.since, s.last - s.values.length + 1); b < j; b++) {
        const f = forecastFrom(s, d.anchor, b);
        s.values[b % s.values.length] = f >= 0 ? f : Number.NaN;
      }
    }
    return;
  }
  if (!(holdMs > 0) || !(actual >= 0)) return;
  const i = j - s.opts.horizonBuckets;
  // forecasts from within a hold that ran out do not start another: what came after it is the level now
  const after = d ? d.end : Number.NEGATIVE_INFINITY;
  if (i <= after) return;
  const win = errorsFor(s, i);
  if (win.count < DROP_MIN_ERRORS) return;
  if (!(fj > 0) || !(errorOf(model, actual, fj) < win.sorted[0]!)) return;
  // a collapse can take several buckets: the hold starts from the highest forecast made for j in the level window
  let anchor = i;
  let expected = fj;
  for (let r = i - 1; r > Math.max(after, i - levelBuckets(s)); r--) {
    const g = forecastFrom(s, r, j);
    if (g > expected) { expected = g; anchor = r; }
  }
  if (!(actual < DROP_SHARE * expected)) return;
  // the end of an event (a match, a sale) takes demand back to its usual range; an outage takes it below anything the
  // error window saw
  const from = Math.max(s.first, j - s.errors.ring.length);
  let low = Number.POSITIVE_INFINITY;
  for (let b = from; b < j; b++) { const v = at(s, b); if (v < low) low = v; }
  if (actual < low) s.drop = { anchor, since: j, end: -1, expected, actual, expired: false };
}

/** Records the error of the forecast that was made for bucket j one horizon before it. */
function scoreBucket(s: SeasonalState, j: number, naiveToo = true, seasonal = Number.NaN): void {
  const actual = at(s, j);
  if (!(actual >= 0)) return;
  const model = s.opts.errorModel ?? 'ratio';
  const i = j - s.opts.horizonBuckets;
  if (inDrop(s, i, j)) return;
  const due = updateDue(s, i);
  if (naiveToo) {
    const e = errorOf(model, actual, at(s, i));
    if (!Number.isNaN(e)) pushError(due ? s.naive : s.quietNaive, e);
  }
  const p = s.season.period;
  if (!p) return;
  const e = errorOf(model, actual, Number.isNaN(seasonal) ? forecastSeasons(s, i, j, s.season) : seasonal);
  if (!Number.isNaN(e)) pushError(due ? s.errors : s.quietErrors, e);
}

function recheck(s: SeasonalState): void {
  const prev = s.season.label;
  s.season = detectSeason(s);
  s.checkedAt = s.last;
  if (s.season.label !== prev) {
    // a new season: its error distribution is rebuilt from the history held, so headroom is known at once
    s.errors.count = s.errors.next = 0;
    s.quietErrors.count = s.quietErrors.next = 0;
    if (s.season.period) {
      const from = Math.max(s.last - s.errors.ring.length + 1, s.first + s.season.period + s.opts.horizonBuckets);
      for (let j = from; j < s.last; j++) scoreBucket(s, j, false);
    }
  }
}

/** Adds one observation of demand at time t (epoch ms). Older-than-newest buckets are ignored. */
export function recordDemandSample(s: SeasonalState, t: number, v: number): void {
  if (!(v >= 0) || !Number.isFinite(v)) return;
  const b = Math.floor(t / s.opts.bucketMs);
  const cap = s.values.length;
  if (s.last < 0) {
    s.first = s.last = b;
    s.values[b % cap] = v;
    recheck(s);
    return;
  }
  if (b < s.last) return;
  if (b === s.last) {
    const k = b % cap;
    if (!(s.values[k]! >= v)) s.values[k] = v;
    return;
  }
  // the newest bucket is complete: score the forecast made for it, then open the new one (gaps stay NaN)
  trackCadence(s, s.last);
  // the forecast made one horizon before the completed bucket, judged by both (computed once: this runs every bucket)
  const fj = forecastFrom(s, s.last - s.opts.horizonBuckets, s.last);
  trackDrop(s, s.last, fj);
  scoreBucket(s, s.last, true, s.season.period ? fj : Number.NaN);
  for (let g = Math.max(s.last + 1, b - cap + 1); g < b; g++) s.values[g % cap] = Number.NaN;
  s.values[b % cap] = v;
  s.last = b;
  if (s.first <= b - cap) s.first = b - cap + 1;
  // with too little history the check is cheap (no autocorrelation) and keeps the reason's figures current
  const young = !s.season.period && span(s) <= MIN_CYCLES * Math.round(DAY_MS / s.opts.bucketMs);
  if (young || b - s.checkedAt >= Math.max(1, Math.round(RECHECK_MS / s.opts.bucketMs))) recheck(s);
}

/** Errors needed before a quantile beyond the largest error held is extrapolated from the tail. */
const TAIL_MIN_ERRORS = 100;
/** The share of the errors that forms the tail the extrapolation is fitted to. */
const TAIL_SHARE = 0.1;

/**
 * The q-quantile (0..1) of recent errors; NaN when none are known. q = 1 is the worst error held. A quantile too
 * far out for the errors held (fewer than one error expected beyond it) is extrapolated from the tail instead of
 * being read as the largest error: peaks over threshold with an exponential tail, fitted to the largest 10% (the
 * threshold u is the 0.9 quantile and the tail's scale is the mean excess over it, so q = u + scale × ln(0.1 / (1 - q))).
 * A window that held a surprise once then expects one of that size again, and one that held none still expects
 * worse than its worst in a longer stretch of time.
 */
export function errorQuantile(e: ErrorWindow, q: number): number {
  if (!e.count) return Number.NaN;
  if (q < 1 && (1 - q) * e.count < 1 && e.count >= TAIL_MIN_ERRORS) {
    const m = Math.max(2, Math.floor(e.count * TAIL_SHARE));
    const u = e.sorted[e.count - m - 1]!;
    let excess = 0;
    for (let k = e.count - m; k < e.count; k++) excess += e.sorted[k]! - u;
    const scale = excess / m;
    return Math.max(e.sorted[e.count - 1]!, u + scale * Math.log(m / e.count / (1 - q)));
  }
  const idx = Math.min(e.count - 1, Math.max(0, Math.ceil(q * e.count) - 1));
  return e.sorted[idx]!;
}

/** Errors needed before the q-quantile means something: enough that it is not simply the largest by default. */
function minErrors(e: ErrorWindow, q: number): number {
  return Math.min(e.ring.length, 100, Math.max(10, Math.ceil(1 / Math.max(1e-6, 1 - q))));
}

export interface SeasonalForecast {
  model: 'seasonal' | 'persistence';
  /** highest forecast demand over the horizon buckets after now */
  peak: number;
  /** the peak with headroom: what capacity must cover */
  need: number;
  /** how errors are measured (and headroom applied) */
  errorModel: ErrorModel;
  /** q-quantile of recent errors: actual/forecast ratios (the headroom factor), or errors in square roots (sqrt) */
  factor: number;
  /** errors the factor was read from */
  errors: number;
  season: SeasonInfo;
  /** set when the demand metric updates on a learnt cadence slower than a bucket: the period and whether an update is due within the horizon (the errors read are those of forecasts made in the same situation) */
  cadence?: { periodMs: number; due: boolean };
  /**
   * set while a drop hold lasts and the forecast from before the drop needs more than the one from now: `need` is
   * then that forecast's (peak `peak`, with the same headroom) and `fromNow` the one from now's; times are epoch ms
   */
  hold?: { sinceMs: number; anchorMs: number; untilMs: number; expected: number; actual: number; peak: number; fromNow: number };
}

/**
 * Forecast for the horizon after time `now`: seasonal when a season is known and its recent errors are tighter
 * than persistence's, otherwise persistence (the demand now, with the quantile of how much it rose over one
 * horizon recently): the reactive fallback, which says why. Demand with a season can still move mostly by
 * unscheduled events (a match, a launch); then the seasonal shape predicts less than the last value does.
 */
export function seasonalForecast(s: SeasonalState, now: number, q: number): SeasonalForecast | { why: string } {
  const f = forecastFromNow(s, now, q);
  const d = s.drop;
  if (!('peak' in f) || !d || d.end >= 0) return f;
  const i = Math.min(s.last, Math.floor(now / s.opts.bucketMs));
  let peak = Number.NaN;
  for (let h = 1; h <= s.opts.horizonBuckets; h++) {
    const g = forecastFrom(s, d.anchor, i + h);
    if (g >= 0 && !(peak >= g)) peak = g;
  }
  const need = withHeadroom(f.errorModel, peak, f.factor);
  if (!(need > f.need)) return f;
  const b = s.opts.bucketMs;
  return { ...f, need, hold: { sinceMs: d.since * b, anchorMs: d.anchor * b, untilMs: d.since * b + (s.opts.dropHoldMs ?? 0), expected: d.expected, actual: d.actual, peak, fromNow: f.need } };
}

/** seasonalForecast without the drop hold: from the demand now. */
function forecastFromNow(s: SeasonalState, now: number, q: number): SeasonalForecast | { why: string } {
  const i = Math.min(s.last, Math.floor(now / s.opts.bucketMs));
  const model = s.opts.errorModel ?? 'ratio';
  let why = s.season.why;
  const due = updateDue(s, i);
  const naive = due ? s.naive : s.quietNaive;
  const errors = due ? s.errors : s.quietErrors;
  const needNaive = minErrors(naive, q);
  const cadence = s.cadence.period > 1 ? { cadence: { periodMs: s.cadence.period * s.opts.bucketMs, due } } : {};
  const cur = at(s, i);
  const naiveFactor = naive.count >= needNaive && cur >= 0 ? errorQuantile(naive, q) : Number.NaN;
  if (s.season.period) {
    const need = minErrors(errors, q);
    if (errors.count < need) why = `${errors.count} seasonal forecast errors known, the ${q} quantile needs ${need}`;
    else {
      let peak = Number.NaN;
      for (let h = 1; h <= s.opts.horizonBuckets; h++) {
        const f = forecastSeasons(s, i, i + h, s.season);
        if (f >= 0 && !(peak >= f)) peak = f;
      }
      const factor = errorQuantile(errors, q);
      if (!(peak >= 0)) why = `no ${s.season.label} history one season before the horizon`;
      else if (!(naiveFactor < factor)) return { model: 'seasonal', peak, need: withHeadroom(model, peak, factor), errorModel: model, factor, errors: errors.count, season: s.season, ...cadence };
      else why = `the ${s.season.label} season's recent forecast errors (${describeError(model, factor)} at ${q}) are wider than the last value's`;
    }
  }
  if (Number.isNaN(naiveFactor)) return { why: `${why}; ${naive.count} recent changes known, the ${q} quantile needs ${needNaive}` };
  return { model: 'persistence', peak: cur, need: withHeadroom(model, cur, naiveFactor), errorModel: model, factor: naiveFactor, errors: naive.count, season: { ...s.season, why }, ...cadence };
}
