// `scalepilot plan`: growth projection, instances, DB connections, storage, Redis, sizing tier, phases, token quotas
// and the date each limit is reached, from flags, a plan file and the service's limits in scalepilot.yaml.
import type { Command } from 'commander';
import { buildPlan, type Plan } from '../capacity-report/plan.js';
import { emptyPlanInputs, MAX_PLAN_MONTHS, inputsFromService, mergePlanInputs, parseDate, parseGb, parseGrowth, readPlanFile, type PlanInputs } from '../capacity-report/plan-file.js';
import { formatPlanText, renderPlanHtml } from '../capacity-report/plan-report.js';
import { loadConfigInput, pickServices } from '../capacity-report/services.js';
import { InputError, parseFormat, printMachine } from './output.js';
import { budgetCeilings, type BudgetCeiling } from '../capacity-report/budgets.js';
import { replaceFile } from '../durable-file.js';

interface PlanFlags {
  config?: string;
  service?: string;
  plan?: string;
  users?: string;
  rps?: string;
  storage?: string;
  growth?: string;
  history?: string;
  fit: string;
  season?: string;
  months?: string;
  start?: string;
  rpsPerInstance?: string;
  connectionsPer1000Users?: string;
  redisGbPer10000Users?: string;
  connectionHeadroom?: string;
  tokensPerRequest?: string;
  tokenCeiling?: string;
  maxReplicas?: string;
  maxConnections?: string;
  tokenQuota?: string;
  storageLimit?: string;
  redisLimit?: string;
  report?: string;
  output: string;
}

function number(v: string | undefined, flag: string, opts: { integer?: boolean; above?: number; min?: number; max?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.replace(/_/g, ''));
  const bad = (why: string) => new InputError(`${flag} ${v}: ${why}`);
  if (v.trim() === '' || !Number.isFinite(n)) throw bad('not a number');
  if (opts.integer && !Number.isInteger(n)) throw bad('must be a whole number');
  if (opts.above !== undefined && n <= opts.above) throw bad(`must be above ${opts.above}`);
  if (opts.min !== undefined && n < opts.min) throw bad(`must be at least ${opts.min}`);
  if (opts.max !== undefined && n > opts.max) throw bad(`must be at most ${opts.max}`);
  return n;
}

function inputsFromFlags(f: PlanFlags): PlanInputs {
  const out = emptyPlanInputs();
  const set = <K extends keyof PlanInputs>(k: K, v: PlanInputs[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('users', number(f.users, '--users', { min: 0 }));
  set('rps', number(f.rps, '--rps', { min: 0 }));
  if (f.storage !== undefined) out.storageGb = parseGb(f.storage, '--storage');
  if (f.growth !== undefined && f.history !== undefined) throw new InputError('--growth and --history both set the growth; give one (--history fits it from the CSV)');
  if (f.growth !== undefined) out.growth = parseGrowth(f.growth, '--growth');
  if (f.history !== undefined) {
    const season = number(f.season, '--season', { integer: true, min: 2 });
    out.growth = parseGrowth({ fit: f.fit, history: f.history, ...(season !== undefined ? { season } : {}) }, '--history', process.cwd());
  }
  set('months', number(f.months, '--months', { integer: true, min: 0, max: MAX_PLAN_MONTHS }));
  if (f.start !== undefined) out.start = parseDate(f.start, '--start');
  set('rpsPerInstance', number(f.rpsPerInstance, '--rps-per-instance', { above: 0 }));
  set('connectionsPer1000Users', number(f.connectionsPer1000Users, '--connections-per-1000-users', { min: 0 }));
  set('redisGbPer10000Users', number(f.redisGbPer10000Users, '--redis-gb-per-10000-users', { above: 0 }));
  set('connectionHeadroom', number(f.connectionHeadroom, '--connection-headroom', { min: 0, max: 0.99 }));
  set('tokensPerRequest', number(f.tokensPerRequest, '--tokens-per-request', { min: 0 }));
  set('tokenCeiling', number(f.tokenCeiling, '--token-ceiling', { above: 0, max: 1 }));
  const maxReplicas = number(f.maxReplicas, '--max-replicas', { integer: true, above: 0 });
  const maxConnections = number(f.maxConnections, '--max-connections', { integer: true, above: 0 });
  const tokenQuota = number(f.tokenQuota, '--token-quota', { above: 0 });
  if (maxReplicas !== undefined) out.limits.maxReplicas = maxReplicas;
  if (maxConnections !== undefined) out.limits.maxConnections = maxConnections;
  if (tokenQuota !== undefined) out.limits.tokenQuotaPerMinute = tokenQuota;
  if (f.storageLimit !== undefined) out.limits.storageGb = parseGb(f.storageLimit, '--storage-limit');
  if (f.redisLimit !== undefined) out.limits.redisGb = parseGb(f.redisLimit, '--redis-limit');
  return out;
}

export function register(program: Command): void {
  program
    .command('plan')
    .description('project growth month by month: instances, DB connections, storage, Redis, sizing tier, phases (pilot → 10× → 100×), token quotas and when each limit is reached')
    .option('-c, --config <file>', 'config file whose service limits (maxReplicas, limits.*) the plan checks')
    .option('-s, --service <name>', 'the service in --config (default scalepilot.yaml) to take limits from')
    .option('--plan <file>', 'plan file (YAML/JSON) with the inputs below and phases, quotas, tiers')
    .option('--users <n>', "today's users")
    .option('--rps <n>', "today's requests per second")
    .option('--storage <size>', "today's database storage, e.g. 10GB")
    .option('--growth <factor>', 'compound monthly growth, e.g. 1.5 (+50% a month)')
    .option('--history <file.csv>', 'fit growth from monthly history (header: month,users,rps,...) instead of --growth')
    .option('--fit <method>', 'how to fit --history: exponential, linear or holt-winters', 'exponential')
    .option('--season <months>', 'Holt-Winters season length in months (default 12)')
    .option('--months <n>', 'months to project')
    .option('--start <date>', 'date of month 0 (default today)')
    .option('--rps-per-instance <n>', 'rps one instance serves (default 50)')
    .option('--connections-per-1000-users <n>', 'database connections per 1,000 users (default 100)')
    .option('--redis-gb-per-10000-users <n>', 'GB of Redis per 10,000 users (default 1)')
    .option('--connection-headroom <share>', 'share of max_connections kept free (default 0.3)')
    .option('--tokens-per-request <n>', 'model-API tokens one request uses')
    .option('--token-ceiling <share>', 'share of a token quota that may be used (default 0.85)')
    .option('--max-replicas <n>', 'limit: maxReplicas')
    .option('--max-connections <n>', 'limit: max_connections')
    .option('--token-quota <n>', 'limit: model-API tokens per minute')
    .option('--storage-limit <size>', 'limit: storage, e.g. 500GB')
    .option('--redis-limit <size>', 'limit: Redis maxmemory, e.g. 4GB')
    .option('--report <file.html>', 'also write an HTML report with projection charts')
    .option('-o, --output <format>', 'table | json | yaml', 'table')
    .action((flags: PlanFlags) => {
      const format = parseFormat(flags.output);
      const notes: string[] = [];
      const fromFile = flags.plan ? readPlanFile(flags.plan) : emptyPlanInputs();
      const serviceName = flags.service ?? fromFile.service;
      let fromConfig = emptyPlanInputs();
      let ceilings: (months: Plan['months']) => BudgetCeiling[] = () => [];
      if (flags.config !== undefined || flags.service !== undefined) {
        const config = loadConfigInput(flags.config ?? 'scalepilot.yaml');
        const services = serviceName ? pickServices(config, [serviceName]) : Object.values(config.services);
        if (services.length !== 1) {
          throw new InputError(`${config.file} has ${services.length} services; name the one to plan with --service (${Object.keys(config.services).join(', ')})`);
        }
        fromConfig = inputsFromService(services[0]!);
        ceilings = (months) => budgetCeilings(config, services[0]!.name, months);
      } else if (fromFile.service) {
        notes.push(`the plan names service ${fromFile.service}, but no --config was given, so its maxReplicas and limits are not checked`);
      }
      const plan = buildPlan(mergePlanInputs(fromConfig, fromFile, inputsFromFlags(flags)), Date.now());
      const budgets = ceilings(plan.months);
      notes.push(...budgets.map((b) => b.text));
      if (flags.report) {
        try {
          replaceFile(flags.report, renderPlanHtml(plan, notes));
        } catch (e) {
          throw new InputError(`--report ${flags.report}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
        if (format === 'table') notes.push(`report written to ${flags.report}`);
      }
      if (printMachine({ ...plan, ...(budgets.length ? { budgets } : {}), notes }, format)) return;
      process.stdout.write(formatPlanText(plan, notes));
    });
}
