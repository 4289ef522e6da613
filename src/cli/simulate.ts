// `scalepilot simulate`: replay recorded traffic through a policy before it goes live; compare policies; tune.
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { parseDuration, DurationError } from '../core/duration.js';
import { MAX_REPLICAS } from '../core/types.js';
import { InputError, parseFormat, printMachine } from './output.js';
import { runSimulation, type SimulateRequest } from '../sim/run.js';
import { MAX_TUNE_BUDGET } from '../sim/tune.js';
import type { TraceInput } from '../sim/input.js';
import { parseTime } from '../time-arg.js';
import { parseMetricSignals } from '../sim/setup.js';
import { renderHtml, renderText, toMachine } from '../sim/report.js';
import { replaceFile } from '../durable-file.js';

interface Options {
  config: string;
  service?: string;
  trace?: string;
  series?: string;
  seriesLabel?: string;
  traceKind: string;
  recordedReplicas?: string;
  promUrl?: string;
  query?: string;
  start?: string;
  end?: string;
  step?: string;
  compare?: string;
  tune?: boolean;
  tuneBudget: string;
  tuneMaxScaleUps?: string;
  tuneStrict?: boolean;
  holdout?: string;
  metric: string[];
  initialReplicas?: string;
  workers?: string;
  timeline?: boolean;
  output: string;
  report?: string;
}

function duration(v: string, flag: string): number {
  try {
    const ms = parseDuration(v);
    if (!(ms > 0)) throw new DurationError('must be more than 0');
    return ms;
  } catch (e) {
    throw new InputError(`${flag} ${v}: ${(e as Error).message}`);
  }
}

/** The most steps `--timeline` prints with -o json|yaml (about 200 MB of JSON for one policy). */
const MAX_PRINTED_STEPS = 1_000_000;

function wholeNumber(v: string, flag: string, min: number, max?: number, why?: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InputError(`${flag} ${v}: must be a whole number >= ${min}`);
  if (max !== undefined && n > max) throw new InputError(`${flag} ${v}: must be at most ${max}${why ? ` (${why})` : ''}`);
  return n;
}

/** "50%" or "0.5" → 0.5, strictly between 0 and 1. */
function fraction(v: string, flag: string): number {
  const pct = v.trim().endsWith('%');
  const n = Number(pct ? v.trim().slice(0, -1) : v);
  const f = pct ? n / 100 : n;
  if (!(f > 0 && f < 1)) throw new InputError(`${flag} ${v}: give the held-out share of the trace, e.g. 50% or 0.5 (between 0 and 100%)`);
  return f;
}

/** Turns the flags into a request; every problem is an InputError naming the flag. */
export function requestFromOptions(o: Options, now = Date.now()): SimulateRequest {
  const kind = o.traceKind;
  if (kind !== 'rps' && kind !== 'utilization') throw new InputError(`--trace-kind ${kind}: use rps or utilization`);
  if (!o.tune) {
    const alone = [o.tuneStrict === undefined ? '' : o.tuneStrict ? '--tune-strict' : '--no-tune-strict', o.tuneMaxScaleUps !== undefined ? '--tune-max-scale-ups' : ''].filter(Boolean);
    if (alone.length) throw new InputError(`${alone.join(' and ')} ${alone.length > 1 ? 'shape' : 'shapes'} a search: add --tune`);
  }
  const stepMs = o.step !== undefined ? duration(o.step, '--step') : undefined;
  let trace: TraceInput;
  let start: number | undefined;
  let end: number | undefined;
  if (o.trace !== undefined && o.promUrl !== undefined) throw new InputError('give either --trace FILE or --prom-url URL --query Q, not both');
  if (o.trace !== undefined) {
    trace = { kind: 'file', file: o.trace, ...(o.seriesLabel !== undefined ? { seriesLabel: o.seriesLabel } : {}) };
    if (o.start !== undefined) start = parseTime(o.start, '--start', now);
    if (o.end !== undefined) end = parseTime(o.end, '--end', now);
  } else if (o.promUrl !== undefined) {
    if (o.query === undefined) throw new InputError('--prom-url needs --query PROMQL (the request rate to replay, e.g. sum(rate(http_requests_total[1m])))');
    if (o.start === undefined || o.end === undefined) throw new InputError('--prom-url needs --start and --end (e.g. --start now-7d --end now)');
    trace = {
      kind: 'prometheus',
      url: o.promUrl,
      query: o.query,
      start: parseTime(o.start, '--start', now),
      end: parseTime(o.end, '--end', now),
      stepMs: stepMs ?? 15_000,
      ...(o.seriesLabel !== undefined ? { seriesLabel: o.seriesLabel } : {}),
    };
  } else {
    throw new InputError('give the traffic to replay: --trace FILE (CSV/JSON or a saved query_range answer) or --prom-url URL --query Q --start T --end T');
  }
  const compare = o.compare?.split(',').map((s) => s.trim()).filter(Boolean);
  return {
    configFile: o.config,
    trace,
    traceKind: kind,
    ...(o.service !== undefined ? { service: o.service } : {}),
    ...(o.series !== undefined ? { series: o.series } : {}),
    ...(o.recordedReplicas !== undefined ? { recordedReplicas: wholeNumber(o.recordedReplicas, '--recorded-replicas', 1) } : {}),
    ...(stepMs !== undefined ? { stepMs } : {}),
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
    ...(compare?.length ? { compare } : {}),
    ...(o.tune ? { tune: { budget: wholeNumber(o.tuneBudget, '--tune-budget', 1, MAX_TUNE_BUDGET, 'a search holds every candidate it simulated until it ends'), ...(o.tuneMaxScaleUps !== undefined ? { maxScaleUpsPerDay: wholeNumber(o.tuneMaxScaleUps, '--tune-max-scale-ups', 0) } : {}), ...(o.tuneStrict !== undefined ? { strict: o.tuneStrict } : {}) } } : {}),
    ...(o.holdout !== undefined ? { holdout: fraction(o.holdout, '--holdout') } : {}),
    metricSignals: parseMetricSignals(o.metric),
    ...(o.initialReplicas !== undefined ? { initialReplicas: wholeNumber(o.initialReplicas, '--initial-replicas', 0, MAX_REPLICAS, 'the most replicas a service may have') } : {}),
    ...(o.workers !== undefined ? { workers: wholeNumber(o.workers, '--workers', 1) } : {}),
    timeline: Boolean(o.report || o.timeline),
    // every step is printed about 200 bytes a policy: keep the output within what one process can write
    ...(o.timeline && o.output !== 'table' ? { maxSteps: { steps: MAX_PRINTED_STEPS, why: 'steps --timeline prints' } } : {}),
  };
}

export function register(program: Command): void {
  program
    .command('simulate')
    .description('replay recorded traffic through a policy: replicas, SLO-violation minutes, replica-hours, cost and flapping; compare policies against the clairvoyant bound; tune HPA parameters and predictive scaling (with --holdout for an honest held-out score)')
    .option('-c, --config <file>', 'config file', 'scalepilot.yaml')
    .option('--service <name>', 'simulate this service (default: every service the trace has a series for)')
    .option('--trace <file>', 'trace to replay: CSV (t_seconds,value), JSON, or a saved Prometheus query_range answer')
    .option('--series <name>', 'which series of the trace (with several)')
    .option('--series-label <label>', 'name the series of a JSON/Prometheus trace by this label (e.g. service)')
    .option('--trace-kind <kind>', 'what the trace measures: rps (request rate) or utilization (percent)', 'rps')
    .option('--recorded-replicas <n>', 'replicas running when a utilization trace was recorded')
    .option('--prom-url <url>', 'read the trace live from Prometheus (with --query, --start, --end, --step)')
    .option('--query <promql>', 'PromQL giving the request rate, e.g. sum(rate(http_requests_total[1m]))')
    .option('--start <time>', 'start of the range: RFC 3339, unix seconds or now-7d')
    .option('--end <time>', 'end of the range: RFC 3339, unix seconds or now')
    .option('--step <duration>', 'simulation step (and Prometheus query step); default the service\'s syncPeriod')
    .option('--compare <files>', 'comma-separated configs (whole scalepilot.yaml or one service block) to compare side by side')
    .option('--tune', 'search HPA target, scale-down window, scale-up/down policies and minReplicas for the cheapest policy with zero SLO-violation minutes')
    .option('--tune-budget <n>', 'most candidates to simulate while tuning', '400')
    .option('--tune-max-scale-ups <per-day>', 'most scale-ups a day the tuned policy may make (churn limit; a candidate over it ranks after every one within it)')
    .option('--tune-strict', 'the tuned policy also keeps the most spare capacity the walk-forward checks saw a choice lose on later traffic (more replica-hours, fewer misses on traffic unlike the tuning part\'s); the default when the tuning part is under two days')
    .option('--no-tune-strict', 'never keep that, even when the tuning part is under two days')
    .option('--holdout <share>', 'hold out the end of the trace (e.g. 50%): tune on the rest, score every policy and the tuned one on it')
    .option('--metric <name=signal>', 'feed a configured metric from a modelled signal (rps, cpu, utilization, queue, p95, replicas, ready_replicas); repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--initial-replicas <n>', 'replicas when the replay starts (default: what the first load needs, within min/max)')
    .option('--workers <n>', 'worker threads (default: available cores)')
    .option('--timeline', 'include per-step arrays in -o json|yaml')
    .option('-o, --output <format>', 'table | json | yaml', 'table')
    .option('--report <file>', 'write an HTML report with charts')
    .action(async (o: Options) => {
      const format = parseFormat(o.output);
      const req = requestFromOptions(o);
      let bar: cliProgress.SingleBar | undefined;
      let phase = '';
      if (format === 'table' && process.stderr.isTTY) {
        req.onProgress = (p, done, total) => {
          if (p !== phase) {
            bar?.stop();
            phase = p;
            bar = new cliProgress.SingleBar({ format: `${p} [{bar}] {value}/{total}`, stream: process.stderr, clearOnComplete: true }, cliProgress.Presets.shades_classic);
            bar.start(total, 0);
          }
          bar!.setTotal(total);
          bar!.update(done);
        };
      }
      let report;
      try {
        report = await runSimulation(req);
      } finally {
        bar?.stop();
      }
      if (o.report) {
        try {
          replaceFile(o.report, renderHtml(report));
        } catch (e) {
          throw new InputError(`--report ${o.report}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
      }
      let printed;
      try {
        printed = printMachine(toMachine(report, { timeline: Boolean(o.timeline) }), format);
      } catch (e) {
        // past what one string can hold (many policies with --timeline): say so rather than fail with a stack
        if (e instanceof RangeError) throw new InputError(`the ${format} output is too large to print (${e.message}); leave out --timeline, use a coarser --step or compare fewer policies at once`);
        throw e;
      }
      if (printed) return;
      process.stdout.write(renderText(report) + '\n');
      if (o.report) process.stdout.write(`report written to ${o.report}\n`);
    });
}
