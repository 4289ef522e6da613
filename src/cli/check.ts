// `scalepilot check`: each service's current metrics against its thresholds → OK / SOON / UNKNOWN / IMMEDIATE.
import type { Command } from 'commander';
import { checkService, statusRank, worstStatus, CHECK_STATUSES, type CheckStatus, type ServiceCheck } from '../capacity-report/check.js';
import { openSources, readServiceLive } from '../capacity-report/read-live.js';
import { loadConfigInput, parseAt, pickServices } from '../capacity-report/services.js';
import { readValuesFile } from '../capacity-report/values-file.js';
import { checkBudgets, readBudgetLimits, type BudgetCheck } from '../capacity-report/budgets.js';
import { DurationError, parseDuration } from '../core/duration.js';
import { EXIT_FAILED, InputError, parseFormat, printMachine, table } from './output.js';
import { own } from '../own.js';

interface CheckFlags {
  config: string;
  service?: string[];
  values?: string;
  at?: string;
  horizon: string;
  failOn: string;
  output: string;
}

const collect = (v: string, acc: string[] = []) => [...acc, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

function replicasCell(c: ServiceCheck): string {
  return c.replicas ? `${c.replicas.current} (${c.replicas.min}-${c.replicas.max})` : '-';
}

function connectionsCell(c: ServiceCheck): string {
  const k = c.connections;
  if (!k) return '-';
  const used = `${Math.round(k.usedPercent)}%`;
  return `${used} used, ${Math.round(k.headroomPercent)}% free`;
}

function printTable(time: number, checks: ServiceCheck[]): void {
  process.stdout.write(`capacity check at ${new Date(time).toISOString()}\n`);
  process.stdout.write(
    table([
      ['SERVICE', 'STATUS', 'REPLICAS', 'DB CONNECTIONS', 'ACTION'],
      ...checks.map((c) => [c.service, c.status, replicasCell(c), connectionsCell(c), c.action.text]),
    ]),
  );
  for (const c of checks) {
    if (c.status === 'OK') continue;
    process.stdout.write(`\n${c.service}: ${c.status}: ${c.reason}\n`);
    for (const f of c.findings) {
      if (f.status === 'OK' || c.reason.includes(f.text)) continue;
      process.stdout.write(`  ${f.status}: ${f.text}\n`);
    }
  }
}

function printBudgets(budgets: BudgetCheck[]): void {
  if (!budgets.length) return;
  process.stdout.write('\n');
  process.stdout.write(
    table([
      ['BUDGET', 'STATUS', 'USED', 'USABLE', 'LIMIT', 'BY SERVICE'],
      ...budgets.map((b) => [b.budget, b.status, String(b.used), b.usable !== undefined ? String(b.usable) : '-', b.limit !== undefined ? String(b.limit) : '-', b.byService.map((s) => `${s.service} ${s.used}`).join(', ')]),
    ]),
  );
  for (const b of budgets) if (b.status !== 'OK') process.stdout.write(`\n${b.status}: ${b.reason}\n`);
}

export function register(program: Command): void {
  program
    .command('check')
    .description('read each service\'s metrics and say OK, SOON (plan within 24h), IMMEDIATE or UNKNOWN, why, and what to do; exit 1 when any service is IMMEDIATE')
    .option('-c, --config <file>', 'config file', 'scalepilot.yaml')
    .option('-s, --service <name>', 'only this service (repeat or comma-separate)', collect)
    .option('--values <file>', 'metric values as JSON instead of reading the sources (offline; see the format below)')
    .option('--at <time>', 'check as of this time: RFC 3339, unix seconds or now-1h (e.g. against a trace source); default now')
    .option('--horizon <duration>', 'a limit projected within this long is SOON', '24h')
    .option('--fail-on <status>', `exit 1 at this status or worse: ${CHECK_STATUSES.filter((s) => s !== 'OK').join(', ')}`, 'IMMEDIATE')
    .option('-o, --output <format>', 'table | json | yaml', 'table')
    .addHelpText(
      'after',
      `
--values format (JSON):
  {"time": "2025-06-01T12:00:00Z",
   "services": {"api": {"replicas": 4,
                        "metrics": {"cpu": 72,
                                    "memory": [{"ago": "10m", "v": 81}, {"ago": "0s", "v": 84}],
                                    "db_connections": {"error": "connection refused"}}}}}
Signals are recognised as the exporters recognise them: cpu and memory (percent), p95_latency (seconds
unless unit: ms), queue metrics, postgres connections (against limits.maxConnections) or connection_ratio;
a metric named replicas gives the running replica count when reading live sources.`,
    )
    .action(async (flags: CheckFlags) => {
      const format = parseFormat(flags.output);
      const failOn = flags.failOn.toUpperCase() as CheckStatus;
      if (!(CHECK_STATUSES as readonly string[]).includes(failOn) || failOn === 'OK') {
        throw new InputError(`--fail-on ${flags.failOn}: use SOON, UNKNOWN or IMMEDIATE`);
      }
      let horizonMs: number;
      try {
        horizonMs = parseDuration(flags.horizon);
      } catch (e) {
        if (e instanceof DurationError) throw new InputError(`--horizon: ${e.message}`);
        throw e;
      }
      const config = loadConfigInput(flags.config);
      const services = pickServices(config, flags.service);
      let now = parseAt(flags.at);
      const checks: ServiceCheck[] = [];
      let limits = {};
      if (flags.values) {
        const values = readValuesFile(flags.values, now);
        if (values.time !== undefined && flags.at === undefined) now = values.time;
        for (const p of services) {
          const input = own(values.services, p.name) ?? { series: {}, failures: Object.fromEntries(Object.keys(p.metrics).map((m) => [m, `service ${p.name} is not in ${flags.values}`])) };
          checks.push(checkService(p, input, now, { horizonMs, sources: config.sources }));
        }
      } else {
        const live = openSources(config);
        try {
          for (const p of services) checks.push(checkService(p, await readServiceLive(p, live, new Date(now)), now, { horizonMs, sources: config.sources }));
          limits = await readBudgetLimits(config, live.sources, new Date(now));
        } finally {
          await live.close();
        }
      }
      // a budget is shared: its use needs every service using it, not only the ones picked
      const budgets = checkBudgets(config, Object.fromEntries(checks.map((c) => [c.service, c.replicas?.current])), limits);
      const status = worstStatus([...checks.map((c) => c.status), ...budgets.map((b) => b.status)]);
      if (statusRank(status) >= statusRank(failOn)) process.exitCode = EXIT_FAILED;
      if (printMachine({ time: new Date(now).toISOString(), status, services: checks, ...(budgets.length ? { budgets } : {}) }, format)) return;
      printTable(now, checks);
      printBudgets(budgets);
    });
}
