// The seasonal forecaster: season detection by autocorrelation, the level-scaled seasonal-naive forecast, the
// sorted error window behind the headroom quantile, and its reactive (persistence) fallback.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  DAY_MS,
  autocorrelation,
  detectSeason,
  errorOf,
  errorQuantile,
  forecastBucket,
  newSeasonalState,
  recordDemandSample,
  seasonalForecast,
  type SeasonChoice,
  withHeadroom,
  type SeasonalState,
  updateDue,
} from '../../../src/core/forecast/seasonal.js';

const MIN = 60_000;
const T0 = Date.parse('2024-01-01T00:00:00Z');

function state(season: SeasonChoice = 'auto', horizonBuckets = 1): SeasonalState {
  return newSeasonalState({ bucketMs: MIN, lookbackMs: 15 * DAY_MS, horizonBuckets, season, errorWindowMs: DAY_MS });
}

/** A deterministic pseudo-random stream (no Math.random in tests that must reproduce). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
}

function feed(s: SeasonalState, minutes: number, f: (m: number) => number): void {
  for (let m = 0; m < minutes; m++) recordDemandSample(s, T0 + m * MIN, f(m));
}

const daily = (m: number) => 1000 + 800 * Math.sin((2 * Math.PI * m) / 1440);

/** Two states fed `days` of the noisy daily cycle, A as is and B altered by `alter` (A first, then B). */
function twins(days: number, noise: number, seed: number, alter: (m: number, v: number) => number) {
  const f = ((r) => (m: number) => daily(m) + noise * r())(rng(seed));
  const values = Array.from({ length: days * 1440 }, (_, m) => f(m));
  const a = state();
  const b = state();
  feed(a, values.length, (m) => values[m]!);
  feed(b, values.length, (m) => alter(m, values[m]!));
  return { a, b, values };
}

describe('season detection', () => {
  const cases: Array<[string, number, (m: number) => number, RegExp | [number, string]]> = [
    ['a daily cycle over 3 days is a 1d season', 3 * 1440, daily, [1440, '1d']],
    ['timer spikes every 5 minutes over noise are a 5m season', 3 * 60, ((r) => (m: number) => (m % 5 === 0 ? 30 : 10) + 4 * r())(rng(3)), [5, '5m']],
    ['the same cycle over 30 hours is too little history', 30 * 60, daily, /autocorrelation at 5m 1\.00 \(no peak\), 15m 1\.00 \(no peak\), 30m 0\.99 \(no peak\), 1h 0\.9\d \(no peak\) \(needs 0\.5\); 30h of history: 1d needs 2d, 1w needs 14d/],
    ['a constant series has no variation', 3 * 1440, () => 500, /^no seasonality: no variation; 3d of history: 1w needs 14d$/],
    ['noise around a level has no season', 3 * 1440, ((r) => () => 500 + 100 * r())(rng(7)), /autocorrelation at 5m -?0\.0\d, 15m -?0\.0\d, 30m -?0\.0\d, 1h -?0\.0\d, 1d -?0\.0\d \(needs 0\.5\)/],
  ];
  for (const [name, minutes, f, expected] of cases) {
    it(name, () => {
      const s = state();
      feed(s, minutes, f);
      const d = detectSeason(s);
      if (Array.isArray(expected)) {
        assert.equal(d.period, expected[0]);
        assert.equal(d.label, expected[1]);
        assert.ok(d.acf > 0.9, `acf ${d.acf}`);
      } else {
        assert.equal(d.period, 0);
        assert.match(d.why, expected);
      }
    });
  }
  it('season off never detects one', () => {
    const s = state('off');
    feed(s, 3 * 1440, daily);
    assert.equal(detectSeason(s).period, 0);
    assert.match(detectSeason(s).why, /off/);
  });
  it('autocorrelation of a pure sinusoid at its own period is 1, at half its period -1', () => {
    const s = state();
    feed(s, 3 * 1440, daily);
    assert.ok(Math.abs(autocorrelation(s, 1440) - 1) < 1e-9);
    assert.ok(Math.abs(autocorrelation(s, 720) + 1) < 1e-6);
  });
  it('autocorrelation over a wrapped ring with gaps matches Pearson correlation of the buckets held', () => {
    // a 1-day ring fed 2.5 days (wrapped twice), with gaps: the pairs are the buckets held and those `lag` before them
    const r = rng(11);
    const s = newSeasonalState({ bucketMs: MIN, lookbackMs: DAY_MS, horizonBuckets: 1, season: 'auto', errorWindowMs: DAY_MS });
    const held = new Map<number, number>();
    for (let m = 0; m < 3600; m++) {
      if (r() < 0.05) continue;
      const v = Math.fround(daily(m) + 200 * r());
      recordDemandSample(s, T0 + m * MIN, v);
      held.set(Math.floor((T0 + m * MIN) / MIN), v);
    }
    for (const lag of [1, 5, 60, 719, 1000]) {
      let n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let b = Math.max(s.first + lag, s.last - 1440 + 1 + lag); b <= s.last; b++) {
        const x = held.get(b), y = held.get(b - lag);
        if (x === undefined || y === undefined) continue;
        n++; sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
      }
      const want = (sxy - (sx * sy) / n) / Math.sqrt((sxx - (sx * sx) / n) * (syy - (sy * sy) / n));
      assert.ok(Math.abs(autocorrelation(s, lag) - want) < 1e-12, `lag ${lag}: ${autocorrelation(s, lag)} vs ${want}`);
    }
  });
  it('histories that differ in one bucket are measured apart: the memo of autocorrelations is keyed by content', () => {
    // A and B hold the same 3 days except one bucket; detection measures A first, then B: B's figure is its own
    const { a, b, values } = twins(3, 50, 5, (m, v) => (m === 2 * 1440 + 17 ? v + 50_000 : v));
    const da = detectSeason(a);
    const db = detectSeason(b);
    assert.equal(da.period, 1440);
    assert.ok(db.acf < da.acf - 0.01, `${db.acf} vs ${da.acf}`);
    // and a third state fed exactly A's history gets A's figures
    const c = state();
    feed(c, values.length, (m) => values[m]!);
    assert.deepEqual(detectSeason(c), da);
  });
  it('a figure one state measures later is not handed to another that held the same history earlier', () => {
    // A and B agree until their last 10 minutes; the daily lag is first measured when two days are held (2880
    // minutes), after both last shared a history: B's figure is measured on B's own last minutes, not taken from A's
    const { a, b } = twins(2, 20, 8, (m, v) => (m >= 2 * 1440 - 10 ? v + 3000 : v));
    assert.equal(a.acf.byLag[1440], autocorrelation(a, 1440));
    assert.equal(b.acf.byLag[1440], autocorrelation(b, 1440));
    assert.notEqual(b.acf.byLag[1440], a.acf.byLag[1440]);
  });
});

describe('forecast', () => {
  it('scales last season by the level ratio: a cycle growing 10% a day is forecast exactly', () => {
    const s = state();
    const grow = (m: number) => daily(m) * 1.1 ** (Math.floor(m / 1440));
    feed(s, 2 * 1440 + 600, grow);
    const m = 2 * 1440 + 599;
    const i = T0 / MIN + m; // buckets are numbered from the epoch
    // the level window (60 buckets) is all inside day 2, one season before inside day 1: ratio 1.1
    const f = forecastBucket(s, i, i + 1, 1440);
    assert.ok(Math.abs(f - grow(m + 1)) < 1e-6, `${f} vs ${grow(m + 1)}`);
  });
  it('forecasts the seasonal peak with the error quantile as headroom', () => {
    const s = state('auto', 2);
    const r = rng(3);
    feed(s, 3 * 1440, (m) => daily(m) * (1 + 0.05 * (r() - 0.5)));
    const f = seasonalForecast(s, T0 + (3 * 1440 - 1) * MIN, 0.99);
    assert.ok('peak' in f);
    assert.equal(f.model, 'seasonal');
    assert.equal(f.season.label, '1d');
    assert.ok(f.factor > 1 && f.factor < 1.1, `factor ${f.factor}`);
    assert.ok(f.errors >= 1000, `${f.errors} errors`);
  });
  it('auto finds every season: 5-minute timers plus a larger job every 30 minutes are both forecast', () => {
    // a burst every 5 minutes and a larger one at :00 and :30; with the 5m season alone (its cycles averaged over
    // the level hour) the half-hourly burst is forecast at a fraction of its size
    const r = rng(5);
    const load = (m: number) => 100 + (m % 30 === 0 ? 400 : m % 5 === 0 ? 100 : 0) + 10 * r();
    const multi = state('auto', 1);
    const single = state('5m', 1);
    feed(multi, 6 * 60, load);
    const r2 = rng(5);
    const load2 = (m: number) => 100 + (m % 30 === 0 ? 400 : m % 5 === 0 ? 100 : 0) + 10 * r2();
    feed(single, 6 * 60, load2);
    // the 30m season repeats the 5m bursts as well, so it is used (alone or beside 5m)
    assert.match(multi.season.label, /30m/);
    const now = T0 + (6 * 60 - 1) * MIN; // the next bucket (6h) is a :00 burst
    const m = seasonalForecast(multi, now, 0.99);
    const o = seasonalForecast(single, now, 0.99);
    assert.ok('peak' in m && 'peak' in o);
    assert.equal(m.model, 'seasonal');
    assert.equal(o.model, 'seasonal');
    assert.ok(m.peak >= 450, `combined forecast ${m.peak}`);
    // 5m alone expects the average of the hour's bursts and needs a wide headroom for the rest
    assert.ok(o.peak < 300, `5m-only forecast ${o.peak}`);
    assert.ok(m.factor < o.factor, `headroom ×${m.factor} (combined) vs ×${o.factor} (5m only)`);
  });
  it('falls back to persistence (reactive) with a reason when there is no season', () => {
    const s = state();
    const r = rng(11);
    feed(s, 12 * 60, () => 500 + 50 * r());
    const f = seasonalForecast(s, T0 + (12 * 60 - 1) * MIN, 0.95);
    assert.ok('peak' in f);
    assert.equal(f.model, 'persistence');
    assert.match(f.season.why, /12h of history: 1d needs 2d, 1w needs 14d/);
  });
  it('says why there is no forecast at all with a few minutes of history', () => {
    const s = state();
    feed(s, 5, () => 100);
    const f = seasonalForecast(s, T0 + 4 * MIN, 0.99);
    assert.ok('why' in f);
    assert.match(f.why, /recent changes known, the 0\.99 quantile needs 100/);
  });
});

describe('error window', () => {
  it('keeps the newest ratios sorted and reads quantiles from them', () => {
    const s = state();
    // a persistence error per completed bucket: actual / value one bucket earlier
    const values = [100, 200, 100, 300, 150, 150];
    values.forEach((v, m) => recordDemandSample(s, T0 + m * MIN, v));
    // completed buckets 1..4 score 200/100, 100/200, 300/100, 150/300 (bucket 5 is still open)
    assert.equal(s.naive.count, 4);
    assert.deepEqual(Array.from(s.naive.sorted.subarray(0, 4)), [0.5, 0.5, 2, 3]);
    assert.equal(errorQuantile(s.naive, 1), 3);
    assert.equal(errorQuantile(s.naive, 0.5), 0.5);
    assert.equal(errorQuantile(s.naive, 0.75), 2);
  });
  it('drops the oldest ratio once the window is full', () => {
    const s = newSeasonalState({ bucketMs: MIN, lookbackMs: DAY_MS, horizonBuckets: 1, season: 'off', errorWindowMs: 8 * MIN });
    for (let m = 0; m < 20; m++) recordDemandSample(s, T0 + m * MIN, m === 3 ? 1000 : 100);
    // the spike's ratios (10 and 0.1) were scored at buckets 3 and 4 and have left the 8-bucket window
    assert.equal(s.naive.count, 8);
    assert.equal(errorQuantile(s.naive, 1), 1);
    assert.equal(errorQuantile(s.naive, 0), 1);
  });
  it('a peak within a bucket is kept, late and invalid samples are ignored', () => {
    const s = state();
    recordDemandSample(s, T0, 10);
    recordDemandSample(s, T0 + 20_000, 30);
    recordDemandSample(s, T0 + 40_000, 20);
    recordDemandSample(s, T0 + 50_000, Number.NaN);
    recordDemandSample(s, T0 + MIN, 5);
    recordDemandSample(s, T0 + 10_000, 999);
    assert.equal(s.values[Math.floor(T0 / MIN) % s.values.length], 30);
  });
});

describe('change method, sqrt error model and the tail of the error window', () => {
  function withOpts(o: Partial<Parameters<typeof newSeasonalState>[0]>): SeasonalState {
    return newSeasonalState({ bucketMs: MIN, lookbackMs: 15 * DAY_MS, horizonBuckets: 1, season: '1d', errorWindowMs: DAY_MS, ...o });
  }

  it('the change method follows a level shift at once: the shape of yesterday added to today\'s value', () => {
    // two days of the daily shape, then the third day 300 higher all day (a new customer)
    const shifted = (m: number) => daily(m) + (m >= 2 * 1440 ? 300 : 0);
    const change = withOpts({ method: 'change' });
    const level = withOpts({ method: 'level' });
    // minute 200 of the third day, while demand rises towards its peak at 360
    feed(change, 2 * 1440 + 200, shifted);
    feed(level, 2 * 1440 + 200, shifted);
    const i = change.last; // absolute bucket of minute 2 × 1440 + 199
    const actual = shifted(2 * 1440 + 200);
    const c = forecastBucket(change, i, i + 1, 1440);
    const l = forecastBucket(level, i, i + 1, 1440);
    // float32 storage: within a few parts per million
    assert.ok(Math.abs(c - actual) < 0.01 * actual / 100, `change ${c} vs actual ${actual}`);
    assert.ok(Math.abs(l - actual) > 10 * Math.abs(c - actual), `level ${l} should miss by more than change ${c} (actual ${actual})`);
  });

  it('the change method never forecasts below the current value', () => {
    const s = withOpts({ method: 'change' });
    feed(s, 2 * 1440 + 400, daily); // minute 400 of the day: the sine is falling from its peak at 360
    const m = 2 * 1440 + 399;
    assert.ok(daily(m + 1) < daily(m));
    assert.equal(forecastBucket(s, s.last, s.last + 1, 1440), Math.fround(daily(m)));
  });

  it('sqrt errors keep headroom small at low demand where ratios are wide', () => {
    // many independent clients: noise of about √demand, demand from 20 at night to 2000 by day
    const r = rng(11);
    const poisson = (m: number) => { const mean = 20 + 1980 * (0.5 - 0.5 * Math.cos((2 * Math.PI * m) / 1440)); return mean + 2 * Math.sqrt(mean) * (r() - 0.5) * 2; };
    const ratio = withOpts({ errorModel: 'ratio' });
    const sqrt = withOpts({ errorModel: 'sqrt' });
    for (let m = 0; m < 3 * 1440 + 5; m++) { const v = poisson(m); recordDemandSample(ratio, T0 + m * MIN, v); recordDemandSample(sqrt, T0 + m * MIN, v); }
    const night = T0 + (3 * 1440 + 4) * MIN;
    const fr = seasonalForecast(ratio, night, 0.99);
    const fs = seasonalForecast(sqrt, night, 0.99);
    assert.ok('peak' in fr && 'peak' in fs);
    assert.equal(fs.errorModel, 'sqrt');
    assert.ok(Math.abs(fs.need - (fs.peak + fs.factor * Math.sqrt(fs.peak))) < 1e-9);
    // at night the ratio model's headroom (set by the night's wide ratios) and the sqrt model's differ little; by
    // day the ratio model multiplies the night's relative noise onto 2000, the sqrt model adds a few √2000
    const noon = T0 + (3 * 1440 + 720) * MIN;
    const day = (m: number) => 20 + 1980 * (0.5 - 0.5 * Math.cos((2 * Math.PI * m) / 1440));
    const dayRatio = day(720) * fr.factor - day(720);
    const daySqrt = fs.factor * Math.sqrt(day(720));
    assert.ok(daySqrt < dayRatio / 2, `sqrt headroom ${daySqrt.toFixed(1)} vs ratio ${dayRatio.toFixed(1)} at the day's peak`);
    void noon;
  });

  it('errorOf and withHeadroom are inverse under both models', () => {
    for (const model of ['ratio', 'sqrt'] as const) {
      for (const [actual, f] of [[120, 100], [80, 100], [5, 4], [0, 9]] as const) {
        assert.ok(Math.abs(withHeadroom(model, f, errorOf(model, actual, f)) - actual) < 1e-9, `${model} ${actual}/${f}`);
      }
      assert.ok(Number.isNaN(errorOf(model, 5, 0)));
    }
    assert.equal(withHeadroom('sqrt', 4, -5), 0);
  });

  it('a quantile beyond what the window can show is extrapolated from its tail, not read as its worst error', () => {
    // 1,440 errors with an exponential tail (scale 0.05 above 1): the true 0.9999 quantile is 1 + 0.05 ln(10^4)
    const s = withOpts({});
    const e = s.errors;
    const r = rng(5);
    for (let k = 0; k < 1440; k++) {
      const x = 1 - 0.05 * Math.log(1 - r());
      // the window API is internal to the state: fill through the same route recordDemandSample scores by
      e.ring[e.next] = x; e.next = (e.next + 1) % e.ring.length;
      let lo = 0; while (lo < e.count && e.sorted[lo]! <= x) lo++;
      e.sorted.copyWithin(lo + 1, lo, e.count); e.sorted[lo] = x; e.count++;
    }
    const worst = errorQuantile(e, 1);
    assert.equal(worst, e.sorted[e.count - 1]);
    const far = errorQuantile(e, 0.9999);
    const truth = 1 + 0.05 * Math.log(1e4);
    assert.ok(far > worst + 0.02, `0.9999 quantile ${far} not beyond the worst ${worst}`);
    assert.ok(Math.abs(far - truth) < 0.06, `extrapolated ${far.toFixed(3)} vs true ${truth.toFixed(3)}`);
    // within the window's reach the quantile is read as it is
    const idx = Math.ceil(0.99 * e.count) - 1;
    assert.equal(errorQuantile(e, 0.99), e.sorted[idx]);
    // too few errors: no extrapolation, the worst seen
    const few = withOpts({}).errors;
    for (const x of [1.1, 1.3, 1.2]) { few.sorted[few.count] = x; few.count++; }
    few.sorted.subarray(0, 3).sort();
    assert.equal(errorQuantile(few, 0.9999), 1.3);
  });
});

describe('update cadence', () => {
  // a daily cycle with noise, as a metric that is only refreshed every `every` minutes (the value holds between)
  const noisy = (seed: number) => { const r = rng(seed); return (m: number) => daily(m) * (0.9 + 0.2 * r()); };
  const held = (f: (m: number) => number, every: number) => { const cache = new Map<number, number>(); return (m: number) => { const k = m - (m % every); if (!cache.has(k)) cache.set(k, f(k)); return cache.get(k)!; }; };

  it('learns that a metric updates every 5 minutes and sizes headroom by whether an update is due', () => {
    const s = state('auto', 1);
    const f = held(noisy(7), 5);
    const minutes = 3 * 1440;
    feed(s, minutes, f);
    assert.equal(s.cadence.period, 5);
    const quiet: number[] = [];
    const due: number[] = [];
    for (let m = minutes; m < minutes + 60; m++) {
      recordDemandSample(s, T0 + m * MIN, f(m));
      const r = seasonalForecast(s, T0 + m * MIN, 0.99);
      assert.ok('need' in r, JSON.stringify(r));
      const isDue = updateDue(s, (T0 + m * MIN) / MIN);
      assert.deepEqual(r.cadence, { periodMs: 5 * MIN, due: isDue });
      // the demand now holds: headroom over it is what the next update may bring
      (isDue ? due : quiet).push(r.need / Math.max(r.peak, 1e-9));
    }
    // one of every five minutes has an update due within a one-minute horizon
    assert.equal(due.length, 12);
    assert.equal(quiet.length, 48);
    // a forecast made when no update can arrive needs no more than the value held; one made before an update
    // needs headroom for it
    assert.ok(Math.max(...quiet) < Math.min(...due), `quiet ${Math.max(...quiet)} due ${Math.min(...due)}`);
  });

  it('a metric that changes every minute has no cadence and is unchanged by it', () => {
    const s = state('auto', 1);
    feed(s, 2 * 1440, noisy(3));
    assert.equal(s.cadence.period, 1);
    assert.equal(s.quietErrors.count + s.quietNaive.count, 0);
    const r = seasonalForecast(s, T0 + (2 * 1440 - 1) * MIN, 0.99);
    assert.ok('need' in r && r.cadence === undefined);
  });

  it('changes at irregular gaps are not taken for a cadence', () => {
    const s = state('auto', 1);
    const r = rng(11);
    const base = noisy(5);
    let next = 0;
    let v = 0;
    feed(s, 2 * 1440, (m) => { if (m >= next) { v = base(m); next = m + 1 + Math.floor(r() * 8); } return v; });
    assert.equal(s.cadence.period, 1);
  });

  it('a cadence that changes is relearnt within a day', () => {
    const s = state('auto', 1);
    const f = noisy(9);
    feed(s, 1440, held(f, 5));
    assert.equal(s.cadence.period, 5);
    for (let m = 1440; m < 3 * 1440; m++) recordDemandSample(s, T0 + m * MIN, f(m));
    assert.equal(s.cadence.period, 1);
  });
});

describe('drop hold', () => {
  const HOLD = 2 * 3_600_000;
  const held = (dropHoldMs = HOLD, method: 'level' | 'change' = 'level') =>
    newSeasonalState({ bucketMs: MIN, lookbackMs: 15 * DAY_MS, horizonBuckets: 1, season: 'auto', errorWindowMs: DAY_MS, method, dropHoldMs });
  const noisy = ((r) => (m: number) => daily(m) * (1 + 0.03 * (r() - 0.5)))(rng(11));
  const values = Array.from({ length: 4 * 1440 }, (_, m) => noisy(m));
  // day 4 at 12:00: the traffic falls away over five minutes (an upstream outage) and comes back at 13:00
  const OUT = 3 * 1440 + 720;
  const outage = (m: number) => (m >= OUT && m < OUT + 60 ? values[m]! * (m < OUT + 5 ? 1 - 0.19 * (m - OUT + 1) : 0.01) : values[m]!);

  for (const method of ['level', 'change'] as const) {
    it(`holds the forecast from before an outage until the traffic is back (${method})`, () => {
      const s = held(HOLD, method);
      feed(s, OUT + 30, outage);
      assert.ok(s.drop, 'a drop hold started');
      assert.equal(s.drop.end, -1);
      const B0 = T0 / MIN;
      assert.ok(s.drop.anchor < B0 + OUT && s.drop.since >= B0 + OUT && s.drop.since < B0 + OUT + 5, `anchored before the fall: ${JSON.stringify(s.drop)}`);
      const f = seasonalForecast(s, T0 + (OUT + 29) * MIN, 0.99);
      assert.ok('peak' in f && f.hold, 'the forecast says it holds');
      // the hold's forecast is the expected daily level around 12:30 (≈1000 + 800·sin), not the 1% the outage left
      assert.ok(f.need > 0.8 * daily(OUT + 30), `need ${f.need} while the outage's demand is ${values[OUT + 29]! * 0.01}`);
      const free = held(0, method);
      feed(free, OUT + 30, outage);
      const g = seasonalForecast(free, T0 + (OUT + 29) * MIN, 0.99);
      assert.ok('peak' in g && !g.hold && g.need < 0.6 * f.need, `without a hold the forecast follows the outage down: ${'peak' in g ? g.need : g.why}`);
      feed(s, OUT + 90, outage);
      assert.ok(s.drop.end >= B0 + OUT + 60 && s.drop.end <= B0 + OUT + 62 && !s.drop.expired, `released when the traffic came back: ${JSON.stringify(s.drop)}`);
      const after = seasonalForecast(s, T0 + (OUT + 89) * MIN, 0.99);
      assert.ok('peak' in after && !after.hold);
    });
  }

  it('keeps the errors of forecasts made across the outage out of the headroom', () => {
    const s = held();
    const free = held(0);
    feed(s, OUT + 120, outage);
    feed(free, OUT + 120, outage);
    const worst = (x: SeasonalState) => x.errors.sorted[x.errors.count - 1]!;
    assert.ok(worst(s) < 2, `largest error kept with the hold ×${worst(s)}`);
    assert.ok(worst(free) > 5, `without it the recovery's error is kept: ×${worst(free)}`);
  });

  it('ends when its time runs out though the traffic stays away', () => {
    const s = held(30 * MIN);
    const gone = (m: number) => (m >= OUT ? values[m]! * 0.01 : values[m]!);
    feed(s, OUT + 60, gone);
    assert.ok(s.drop && s.drop.expired && s.drop.end - s.drop.since + 1 === 30, JSON.stringify(s.drop));
    assert.ok(s.drop.since < T0 / MIN + OUT + 5, `the one hold, not another after it ran out: ${JSON.stringify(s.drop)}`);
    const f = seasonalForecast(s, T0 + (OUT + 59) * MIN, 0.99);
    assert.ok('peak' in f && !f.hold);
  });

  it('is off at dropHold 0', () => {
    const s = held(0);
    feed(s, OUT + 30, outage);
    assert.equal(s.drop, null);
  });

  it('does not hold when an event ends and demand returns to its usual range', () => {
    // a one-hour event at twice the daily level, then back to the cycle: a fall of half, but not below the day's range
    const s = held();
    const event = (m: number) => (m >= OUT - 60 && m < OUT ? 2 * values[m]! : values[m]!);
    feed(s, OUT + 60, event);
    assert.equal(s.drop, null);
  });

  it('does not hold on the ordinary dips of a noisy day', () => {
    const s = held();
    const r = rng(5);
    feed(s, 6 * 1440, (m) => daily(m) * (1 + 0.2 * (r() - 0.5)));
    assert.equal(s.drop, null);
  });

  it('does not hold without enough forecast errors to judge a drop by', () => {
    const s = held();
    // the first two hours: too few errors known
    feed(s, 150, (m) => (m < 100 ? 1000 : 5));
    assert.equal(s.drop, null);
  });
});
