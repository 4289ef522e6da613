// decide() with predictive.model seasonal: the forecast with its error-quantile headroom, burst sizing from the
// rate of increase, the reactive fallback and its reason, and the utilization a forecast may fill. Hand-computed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type ServicePolicy } from '../../src/config/load.js';
import { appendSeries, decide, historyWindowMs } from '../../src/core/decide.js';
import { burstDemand, recordDemand, robustSlope, utilizationLimit } from '../../src/core/predict.js';
import { emptyHistory, type History, type Observation } from '../../src/core/types.js';
import { SampleWindow } from '../../src/core/samples.js';

const MIN = 60_000;
const T0 = Date.parse('2024-01-01T00:00:00Z');

function policy(extra = '', predictive = '{ metric: rps, model: seasonal }'): ServicePolicy {
  return parseConfig(`
sources: { p: { type: prometheus, url: "http://127.0.0.1:9" } }
services:
  web:
    target: { provider: dryrun }
    syncPeriod: 60s
    minReplicas: 1
    maxReplicas: 50
    metrics: { rps: { source: p, query: rps } }
    predictive: ${predictive}
    capacity: { rpsPerReplica: 100, startupDelay: 45s, readinessDelay: 15s }
    slo: { maxUtilization: 80 }
${extra}`, 'predict.yaml').services.web!;
}

function obs(current: number, rps: number): Observation {
  return { currentReplicas: current, pods: [], values: { rps }, failures: {} };
}

/** Runs the history a controller would keep through `minutes` syncs of demand f(m), one per minute. */
function history(p: ServicePolicy, minutes: number, f: (m: number) => number): History {
  const h = emptyHistory();
  for (let m = 0; m < minutes; m++) {
    const t = T0 + m * MIN;
    appendSeries(h, { rps: f(m) }, t, historyWindowMs(p));
    recordDemand(h, p, { rps: f(m) }, t);
  }
  return h;
}

test('a daily cycle: the forecast (with its error quantile) pre-scales for the next minute, before demand gets there', () => {
  const p = policy('', '{ metric: rps, model: seasonal, burst: false, headroomQuantile: 1 }');
  // a square daily cycle: 200 rps, and 1600 rps from 08:00 to 20:00
  const day = (m: number) => (m % 1440 >= 480 && m % 1440 < 1200 ? 1600 : 200);
  const minutes = 3 * 1440 + 480; // up to 07:59 on day 4
  const h = history(p, minutes, day);
  const now = T0 + (minutes - 1) * MIN;
  const d = decide(p, obs(3, 200), h, now);
  const pr = d.proposals.find((x) => x.source === 'predictive')!;
  // one season ago the next minute was at 1600 and the level ratio is 1; a persistence forecast would have been
  // off by ×8 at 08:00, but the seasonal forecast was right every minute of the last day: factor 1
  assert.match(pr.detail, /^1d seasonal forecast of rps \(autocorrelation 1\.00\) peaks at 1600 within 1m; the 1 quantile of \d+ recent forecast errors makes it 1600 \(×1\.00\) → 20/);
  // 1600 rps at 100 per replica and 80 % utilization → 20
  assert.equal(pr.replicas, 20);
  assert.equal(d.desiredReplicas, 20);
  assert.match(pr.detail, /at 100 per replica and slo\.maxUtilization 80%/);
});

test('demand without a cycle: no season; the reason says reactive and why, headroom from recent changes', () => {
  const p = policy('', '{ metric: rps, model: seasonal, burst: false, headroomQuantile: 1 }');
  let x = 12345;
  const noise = () => ((x = (x * 1103515245 + 12345) >>> 0) / 4294967296);
  const h = history(p, 3 * 1440, () => 400 + 40 * noise());
  const d = decide(p, obs(5, 420), h, T0 + (3 * 1440 - 1) * MIN);
  const pr = d.proposals.find((x) => x.source === 'predictive')!;
  const m = /^reactive \(no seasonality: autocorrelation at 5m -?0\.\d\d, 15m -?0\.\d\d, 30m -?0\.\d\d, 1h -?0\.\d\d, 1d -?0\.\d\d \(needs 0\.5\); 3d of history: 1w needs 14d\): rps ([\d.]+) now; the 1 quantile of its 1440 recent changes over 1m makes it [\d.]+ \(×([\d.]+)\) → (\d+)/.exec(pr.detail);
  assert.ok(m, pr.detail);
  // persistence: the demand now times the worst recent one-minute rise, at 80 per replica
  const factor = Number(m[2]);
  assert.ok(factor > 1 && factor <= 1.11, `factor ${factor}`);
  assert.equal(pr.replicas, Math.ceil((Number(m[1]) * factor) / 80));
});

test('short history: the reason gives the history there is and the history a season needs', () => {
  const p = policy();
  const h = history(p, 5 * 60, () => 300);
  const d = decide(p, obs(4, 300), h, T0 + (5 * 60 - 1) * MIN);
  const pr = d.proposals.find((x) => x.source === 'predictive')!;
  assert.match(pr.detail, /^reactive \(no seasonality: no variation; 5h of history: 1d needs 2d, 1w needs 14d\)/);
});

test('no history at all: the forecast says so and only burst sizing (from the current value) proposes', () => {
  const p = policy();
  const h = history(p, 1, () => 300);
  const d = decide(p, obs(4, 300), h, T0);
  const pr = d.proposals.find((x) => x.source === 'predictive')!;
  assert.match(pr.detail, /^reactive: no seasonality: 1m of history: 5m needs 10m/);
  assert.match(pr.detail, /burst: rps not rising \(300\) → 4/);
  assert.equal(pr.replicas, 4); // 300 / 80 → 4
});

test('burst sizing: demand rising 100 rps a minute needs what arrives within the 60 s start-up', () => {
  const p = policy('', '{ metric: rps, model: seasonal, season: off }');
  // 100, 200, 300 rps: the last value plus one more minute of the slope = 400 → ceil(400 / 80) = 5
  const h = history(p, 3, (m) => 100 * (m + 1));
  const d = decide(p, obs(3, 300), h, T0 + 2 * MIN);
  const pr = d.proposals.find((x) => x.source === 'predictive')!;
  assert.match(pr.detail, /burst: rps rising 1\.67\/s over 3 samples, 400 expected in 1m → 5/);
  assert.equal(pr.replicas, 5);
});

test('burst fit is robust: one outlier does not tilt the slope (Theil-Sen), a fall proposes no increase', () => {
  const s = [0, 1, 2, 3, 4].map((i) => ({ t: i * 1000, v: i === 2 ? 1000 : 10 * i }));
  assert.equal(robustSlope(s), 10 / 1000);
  const falling = [0, 1, 2].map((i) => ({ t: T0 + i * MIN, v: 300 - 100 * i }));
  assert.deepEqual(burstDemand(SampleWindow.from(falling), T0 + 2 * MIN, 3 * MIN, MIN), { demand: 100, slope: -100 / MIN, samples: 3 });
});

test('the utilization a forecast may fill: targetUtilization, else the slo, else the p95 objective under the latency model', () => {
  const cases: Array<[string, string, number]> = [
    ['', '{ metric: rps, model: seasonal }', 0.8],
    ['', '{ metric: rps, model: seasonal, targetUtilization: 70 }', 0.7],
  ];
  for (const [extra, pr, want] of cases) assert.equal(utilizationLimit(policy(extra, pr)).limit, want);
  const withLatency = parseConfig(`
sources: { p: { type: prometheus, url: "http://127.0.0.1:9" } }
services:
  web:
    target: { provider: dryrun }
    maxReplicas: 5
    metrics: { rps: { source: p, query: rps } }
    predictive: { metric: rps, model: seasonal }
    capacity: { rpsPerReplica: 100, latency: { base: 40ms, p95AtFull: 800ms } }
    slo: { maxUtilization: 90, p95: 250ms }
`, 'p.yaml').services.web!;
  // p95 = 40ms / (1 - u) <= 250ms up to u = 0.84, below the 90 % limit
  assert.ok(Math.abs(utilizationLimit(withLatency).limit - 0.84) < 1e-12);
});

test('the seasonal model keeps only a short metric window in History.series (its long history is in typed arrays)', () => {
  const p = policy();
  // burst window: 3 × the 60 s lead = 3m; the legacy 5-minute downscale window is longer
  assert.equal(historyWindowMs(p), 300_000);
  const h = history(p, 2 * 1440, () => 100);
  assert.ok(h.series['rps']!.length <= 6);
  assert.ok(h.demand && h.demand.values instanceof Float32Array);
});

test('the change method and the sqrt error model say so in the reason, and size from the square-root headroom', () => {
  const p = policy('', '{ metric: rps, model: seasonal, burst: false, headroomQuantile: 1, method: change, errorModel: sqrt, season: 1d }');
  // the square daily cycle, one day 100 rps higher than the days before
  const day = (m: number) => (m % 1440 >= 480 && m % 1440 < 1200 ? 1600 : 200) + (m >= 2 * 1440 ? 100 : 0);
  const minutes = 3 * 1440 + 480;
  const h = history(p, minutes, day);
  const d = decide(p, obs(3, 300), h, T0 + (minutes - 1) * MIN);
  const pr = d.proposals.find((x) => x.source === 'predictive')!;
  const m = /^1d seasonal change forecast of rps \(autocorrelation [\d.]+\) peaks at ([\d.]+) within 1m; the 1 quantile of \d+ recent forecast errors makes it ([\d.]+) \(([+-][\d.]+)√\) → (\d+)/.exec(pr.detail);
  assert.ok(m, pr.detail);
  // 300 now plus yesterday's rise at 08:00 (1400): 1700, where the level method would scale 1600 by the level ratio
  assert.equal(Number(m[1]), 1700);
  const z = Number(m[3]);
  assert.ok(Math.abs(Number(m[2]) - (1700 + z * Math.sqrt(1700))) < 0.1 + Math.abs(z) * 0.01 * Math.sqrt(1700), pr.detail);
  assert.equal(pr.replicas, Math.ceil(Number(m[2]) / 80));
});

test('a metric refreshed every 5 minutes: the reason names the cadence, and headroom is for the update due, not every minute', () => {
  const p = policy('', '{ metric: rps, model: seasonal, burst: false, headroomQuantile: 0.99 }');
  let x = 777;
  const noise = () => ((x = (x * 1103515245 + 12345) >>> 0) / 4294967296);
  const five = new Map<number, number>();
  // a noisy daily cycle, sampled by a scraper that refreshes it every 5 minutes
  const f = (m: number) => {
    const k = m - (m % 5);
    if (!five.has(k)) five.set(k, (1000 + 800 * Math.sin((2 * Math.PI * k) / 1440)) * (0.85 + 0.3 * noise()));
    return five.get(k)!;
  };
  const minutes = 3 * 1440 + 2; // the value changed a minute before the last sample
  const h = history(p, minutes, f);
  const quietAt = T0 + (minutes - 1) * MIN;
  const quiet = decide(p, obs(10, f(minutes - 1)), h, quietAt).proposals.find((y) => y.source === 'predictive')!;
  assert.match(quiet.detail, /rps updates every 5m: no update is due within 1m, so the headroom comes from the errors of forecasts made without one due/);
  // three minutes later the value has held for four: the next update is due within the horizon
  for (let m = minutes; m < minutes + 3; m++) { appendSeries(h, { rps: f(m) }, T0 + m * MIN, historyWindowMs(p)); recordDemand(h, p, { rps: f(m) }, T0 + m * MIN); }
  const due = decide(p, obs(10, f(minutes + 2)), h, T0 + (minutes + 2) * MIN).proposals.find((y) => y.source === 'predictive')!;
  assert.match(due.detail, /rps updates every 5m: an update is due within 1m, so the headroom comes from the errors of forecasts made with one due/);
  // the value held is the same in both; only the update due adds headroom
  assert.equal(f(minutes - 1), f(minutes + 2));
  assert.ok(due.replicas! > quiet.replicas!, `due ${due.replicas} quiet ${quiet.replicas}`);
});

test('an outage: decide() holds the replicas the forecast from before the drop needs, says why, and lets go when traffic is back', () => {
  const day = (m: number) => 1000 + 600 * Math.sin((2 * Math.PI * m) / 1440);
  let x = 777;
  const noise = () => ((x = (x * 1103515245 + 12345) >>> 0) / 4294967296);
  const values = Array.from({ length: 4 * 1440 }, (_, m) => day(m) * (1 + 0.02 * (noise() - 0.5)));
  const OUT = 3 * 1440 + 600; // day 4, 10:00: the traffic goes away for 40 minutes
  const f = (m: number) => (m >= OUT && m < OUT + 40 ? 5 : values[m]!);
  const p = policy('', '{ metric: rps, model: seasonal, burst: false }');
  const h = history(p, OUT + 20, f);
  const d = decide(p, obs(20, 5), h, T0 + (OUT + 19) * MIN);
  const pr = d.proposals.find((x) => x.source === 'predictive')!;
  const m = /^1d seasonal forecast of rps \(autocorrelation 1\.00\) peaks at ([\d.]+) within 1m; the 0\.99 quantile of 1440 recent forecast errors makes it ([\d.]+) \(×([\d.]+)\) → (\d+); drop hold: rps fell to 5 at 10:0\d UTC where [\d.]+ was forecast, below every forecast error of the last 1d; until it is back within them \(at most 2h, to 12:0\d UTC\) the forecast starts from before the drop \(09:\d\d UTC\): ([\d.]+) within 1m, ([\d.]+) with headroom → (\d+)/.exec(pr.detail);
  assert.ok(m, pr.detail);
  // each clause's figures are its own: the forecast from now with its headroom, then the held one with the same
  const [peak, need, factor, now, held, heldNeed, replicas] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  assert.ok(Math.abs(peak * factor - need) <= 0.01 * need + 0.1, `${peak} × ${factor} vs ${need}`);
  assert.ok(Math.abs(held * factor - heldNeed) <= 0.01 * heldNeed + 0.1, `${held} × ${factor} vs ${heldNeed}`);
  assert.equal(now, Math.ceil(need / 80));
  assert.equal(replicas, Math.ceil(heldNeed / 80));
  assert.ok(replicas > now, 'the hold asks for more than the forecast from now');
  assert.equal(pr.replicas, replicas);
  // the daily level around 10:20 (about 1000 + 600·sin) at 80 per replica, not the 5 rps left
  assert.ok(pr.replicas! >= Math.floor(day(OUT + 20) / 80), `${pr.replicas} replicas`);
  assert.equal(d.desiredReplicas, pr.replicas);

  const off = policy('', '{ metric: rps, model: seasonal, burst: false, dropHold: 0s }');
  const ho = history(off, OUT + 20, f);
  const po = decide(off, obs(20, 5), ho, T0 + (OUT + 19) * MIN).proposals.find((x) => x.source === 'predictive')!;
  assert.doesNotMatch(po.detail, /drop hold/);
  // the level window (an hour) already takes the outage's third of it into the level
  assert.ok(po.replicas! < 0.8 * pr.replicas!, `without the hold the forecast follows the outage down: ${po.replicas} vs ${pr.replicas}`);

  const after = history(p, OUT + 60, f);
  const pa = decide(p, obs(20, values[OUT + 59]!), after, T0 + (OUT + 59) * MIN).proposals.find((x) => x.source === 'predictive')!;
  assert.doesNotMatch(pa.detail, /drop hold/);
});
