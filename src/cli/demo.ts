// `scalepilot demo`: runs the whole observe → decide → act → record loop locally on embedded defaults.
import type { Command } from 'commander';
import { runDemo } from '../controller/demo.js';
import { parseDuration } from '../core/duration.js';
import { InputError, parseFormat, printMachine, EXIT_FAILED } from './output.js';
import { untilStopSignal } from './stop-signal.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('scale the bundled sample service live under a load ramp, then write an HTML report')
    .option('--rate <rps>', 'peak load, requests per second', '80')
    .option('--ramp <duration>', 'time to ramp up to the peak', '30s')
    .option('--hold <duration>', 'time at the peak', '60s')
    .option('--cool <duration>', 'ramp-down and idle time in which replicas are removed', '70s')
    .option('--max-replicas <n>', 'maxReplicas of the sample service', '8')
    .option('--sync <duration>', 'sync period of the controller', '2s')
    .option('--proxy <kind>', 'auto (nginx when installed), nginx or builtin', 'auto')
    .option('--state-dir <dir>', 'where the demo keeps its store, proxy config and logs', '.scalepilot/demo')
    .option('--report <file>', 'HTML report to write', 'scalepilot-demo.html')
    .option('--no-report', 'do not write a report')
    .option('-o, --output <format>', 'table | json | yaml', 'table')
    .action(async (opts: Record<string, string | boolean>) => {
      const format = parseFormat(opts.output as string);
      const num = (k: string) => {
        const n = Number(opts[k]);
        if (!Number.isFinite(n) || n <= 0) throw new InputError(`--${k} ${opts[k]}: must be a number above zero`);
        return n;
      };
      const dur = (k: string) => {
        try { return parseDuration(opts[k] as string); } catch (e) { throw new InputError(`--${k}: ${(e as Error).message}`); }
      };
      const proxy = opts.proxy as string;
      if (!['auto', 'nginx', 'builtin'].includes(proxy)) throw new InputError(`--proxy ${proxy}: use auto, nginx or builtin`);
      const quiet = format !== 'table';
      // Ctrl-C or SIGTERM ends the demo early, and its replicas and proxy are stopped as at the end; a second signal
      // while they stop is ignored, as in `run` (stop-signal.ts)
      const stop = new AbortController();
      let stoppedBy: NodeJS.Signals | undefined;
      void untilStopSignal(() => {}).then((sig) => {
        process.stderr.write(`\nscalepilot demo: ${sig}: stopping the load, the replicas and the proxy\n`);
        stoppedBy = sig;
        stop.abort();
      });
      const r = await runDemo({
        rate: num('rate'),
        rampMs: dur('ramp'),
        holdMs: dur('hold'),
        coolMs: dur('cool'),
        maxReplicas: Math.round(num('maxReplicas')),
        syncMs: dur('sync'),
        stateDir: opts.stateDir as string,
        ...(opts.report ? { report: opts.report as string } : {}),
        plain: !process.stdout.isTTY,
        proxy: proxy as 'auto',
        out: quiet ? () => {} : (s) => process.stdout.write(s),
        signal: stop.signal,
      });
      // the conventional status of a process ended by a signal: 128 + its number
      if (stoppedBy) process.exitCode = stoppedBy === 'SIGINT' ? 130 : 143;
      if (printMachine(r, format)) return;
      process.stdout.write(`\n${r.load.requests} requests, ${r.load.errors} failed, p95 ${r.load.p95 === null ? '- (no request answered)' : `${r.load.p95.toFixed(1)} ms`}; replicas peaked at ${r.peakReplicas} and ended at ${r.finalReplicas} after ${r.decisions.length} scale events${stoppedBy ? ` (stopped early by ${stoppedBy})` : ''}\n`);
      if (r.report) process.stdout.write(`report: ${r.report}\n`);
      if (r.load.errors > 0 && !stoppedBy) process.exitCode = EXIT_FAILED;
    });
}
