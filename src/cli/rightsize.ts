// `scalepilot rightsize`: vertical recommendations (requests and limits) from usage history, with the cost change;
// every service gets a line, and a service without a recommendation says why.
import type { Command } from 'commander';
import { openSources } from '../capacity-report/read-live.js';
import { loadConfigInput, pickServices } from '../capacity-report/services.js';
import { currentResources, readUsageCsv, readUsageLive, typicalInterval } from '../capacity-report/usage.js';
import { DurationError, parseDuration } from '../core/duration.js';
import { rightsize, type RightsizeOptions, type RightsizeResult, type UsageSample } from '../core/rightsize.js';
import { formatMilli } from '../core/quantity.js';
import { InputError, parseFormat, printMachine, table } from './output.js';
import { own } from '../own.js';

interface RightsizeFlags {
  config: string;
  service?: string[];
  usage?: string;
  since: string;
  replicas?: string;
  priceCpuHour?: string;
  priceGibHour?: string;
  minHistory?: string;
  output: string;
}

const collect = (v: string, acc: string[] = []) => [...acc, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
const MiB = 1024 * 1024;

function cpuText(v: number | undefined): string {
  return v === undefined ? 'unset' : formatMilli(Math.round(v * 1000));
}

function memText(v: number | undefined): string {
  if (v === undefined) return 'unset';
  return v % (1024 * MiB) === 0 ? `${v / (1024 * MiB)}Gi` : `${Math.round(v / MiB)}Mi`;
}

function change(from: string, to: string): string {
  return from === to ? to : `${from} → ${to}`;
}

function money(v: number): string {
  const s = Math.abs(v).toFixed(2);
  return v < 0 ? `-${s}` : v > 0 ? `+${s}` : s;
}

function positive(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InputError(`${flag} ${v}: must be a number >= 0`);
  return n;
}

export interface RightsizeRow extends RightsizeResult {
  current: ReturnType<typeof currentResources>;
  samples: number;
}

export function register(program: Command): void {
  program
    .command('rightsize')
    .description('recommend cpu/memory requests and limits from usage history (VPA/KRR style), with the cost change; says why when it cannot')
    .option('-c, --config <file>', 'config file', 'scalepilot.yaml')
    .option('-s, --service <name>', 'only this service (repeat or comma-separate)', collect)
    .option('--usage <file.csv>', 'usage history CSV: time,service,pod,cpu,memory (cores or 250m; bytes or 512Mi)')
    .option('--since <duration>', 'read this much history from the services\' cpu/memory metrics (prometheus, trace)', '7d')
    .option('--replicas <n>', 'replicas to price (default each service\'s minReplicas)')
    .option('--price-cpu-hour <price>', 'price of one cpu-hour of requests')
    .option('--price-gib-hour <price>', 'price of one GiB-hour of memory requests')
    .option('--min-history <duration>', 'history needed before recommending', '1h')
    .option('-o, --output <format>', 'table | json | yaml', 'table')
    .action(async (flags: RightsizeFlags) => {
      const format = parseFormat(flags.output);
      const dur = (v: string, flag: string) => {
        try {
          return parseDuration(v);
        } catch (e) {
          if (e instanceof DurationError) throw new InputError(`${flag}: ${e.message}`);
          throw e;
        }
      };
      const sinceMs = dur(flags.since, '--since');
      const minHistoryMs = dur(flags.minHistory ?? '1h', '--min-history');
      const cpuHour = positive(flags.priceCpuHour, '--price-cpu-hour');
      const gibHour = positive(flags.priceGibHour, '--price-gib-hour');
      if ((cpuHour === undefined) !== (gibHour === undefined)) throw new InputError('give both --price-cpu-hour and --price-gib-hour to compare cost');
      const replicasFlag = positive(flags.replicas, '--replicas');
      const config = loadConfigInput(flags.config);
      const services = pickServices(config, flags.service);
      const now = Date.now();
      const base: RightsizeOptions = { minHistoryMs, ...(cpuHour !== undefined ? { prices: { cpuHour, gibHour: gibHour! } } : {}) };

      const rows: RightsizeRow[] = [];
      const one = (name: string, samples: UsageSample[], intervalMs: number | undefined, problem?: string): RightsizeRow => {
        const p = config.services[name]!;
        const current = currentResources(p);
        const replicas = replicasFlag ?? Math.max(1, p.minReplicas);
        const result = rightsize({ service: name, samples, current, replicas }, { ...base, ...(intervalMs ? { sampleIntervalMs: intervalMs } : {}) });
        // A read problem explains an empty history better than "only 0 samples".
        if (!result.recommendation && problem) result.why = `${problem} (${result.why})`;
        return { ...result, current, samples: samples.length };
      };
      if (flags.usage) {
        const usage = readUsageCsv(flags.usage, services.length === 1 ? services[0]!.name : undefined);
        for (const p of services) {
          const samples = own(usage.services, p.name) ?? [];
          rows.push(one(p.name, samples, typicalInterval(samples) ?? usage.intervalMs, samples.length === 0 ? `${flags.usage} has no rows for ${p.name}` : undefined));
        }
      } else {
        const live = openSources(config);
        try {
          for (const p of services) {
            const u = await readUsageLive(p, live, now, sinceMs);
            rows.push(one(p.name, u.samples, u.intervalMs, u.samples.length === 0 ? u.problem : undefined));
          }
        } finally {
          await live.close();
        }
      }

      if (printMachine({ services: rows }, format)) return;
      process.stdout.write(
        table([
          ['SERVICE', 'CPU REQUEST', 'MEMORY REQUEST', 'MEMORY LIMIT', 'CPU LIMIT', 'COST/MONTH'],
          ...rows.map((r) => {
            const rec = r.recommendation;
            if (!rec) return [r.service, '-', '-', '-', '-', '-'];
            return [
              r.service,
              change(cpuText(r.current.requests?.cpu), cpuText(rec.requests.cpu)),
              change(memText(r.current.requests?.memory), memText(rec.requests.memory)),
              change(memText(r.current.limits?.memory), memText(rec.limits.memory)),
              rec.limits.cpu === undefined ? 'unset' : change(cpuText(r.current.limits?.cpu), cpuText(rec.limits.cpu)),
              rec.cost ? `${money(rec.cost.deltaPerMonth)} (${rec.cost.replicas} replicas)` : '-',
            ];
          }),
        ]),
      );
      for (const r of rows) {
        const cost = r.recommendation && !r.recommendation.cost ? `; cost: ${r.recommendation.costNote ?? 'pass --price-cpu-hour and --price-gib-hour to compare cost'}` : '';
        process.stdout.write(`\n${r.service}: ${r.recommendation ? '' : 'no recommendation: '}${r.why}${cost}\n`);
      }
    });
}
