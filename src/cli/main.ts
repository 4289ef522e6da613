// The scalepilot CLI: one file per command under src/cli; this file only wires them together.
import { Command, CommanderError } from 'commander';
import { InputError, EXIT_BAD_INPUT } from './output.js';
import { ConfigError } from '../config/errors.js';
import { InputTooLargeError } from '../bounded-read.js';
import { StoreError } from '../store/types.js';
type Register = (program: Command) => void;

// Command modules are imported only when needed, so `scalepilot hpa evaluate` does not load the dashboard,
// the Kubernetes client or the load generator.
const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  demo: () => import('./demo.js'),
  run: () => import('./run.js'),
  simulate: () => import('./simulate.js'),
  loadtest: () => import('./loadtest.js'),
  hpa: () => import('./hpa.js'),
  validate: () => import('./validate.js'),
  schema: () => import('./validate.js'),
  check: () => import('./check.js'),
  plan: () => import('./plan.js'),
  rightsize: () => import('./rightsize.js'),
  export: () => import('./export.js'),
  history: () => import('./history.js'),
  rollback: () => import('./history.js'),
  serve: () => import('./serve.js'),
};

export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('scalepilot')
    .description('Autoscaling runbooks as software: HPA-exact decisions, queue scaling, trace replay, load tests, capacity plans and alert exports')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  const wanted = only && COMMANDS[only] ? [COMMANDS[only]] : [...new Set(Object.values(COMMANDS))];
  const seen = new Set<Register>();
  for (const load of wanted) {
    const { register } = await load();
    if (seen.has(register)) continue;
    seen.add(register);
    register(program);
  }
  return program;
}

export async function run(argv: string[]): Promise<void> {
  const sub = argv.slice(2).find((a) => !a.startsWith('-'));
  const program = await buildProgram(sub);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; unknown options and missing arguments are bad input
      process.exitCode = e.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
      return;
    }
    const known = knownErrorMessage(e);
    if (known !== undefined) {
      process.stderr.write(`scalepilot: ${known}\n`);
      process.exitCode = EXIT_BAD_INPUT;
      return;
    }
    process.stderr.write(`scalepilot: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
}

// Errors raised by parsers and the store for what the operator gave us (files, flags, requests, a store path):
// these say what is wrong and where, so they print as one message and exit 2. Anything else is a bug and keeps
// its stack. Matched by name where importing the class would load a module the command does not need.
const INPUT_ERROR_NAMES = new Set(['HpaInputError', 'QuantityError', 'DurationError', 'CronError', 'CapacityError', 'LeaderElectionConfigError']);

export function knownErrorMessage(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  if (e instanceof InputError || e instanceof ConfigError || e instanceof InputTooLargeError || INPUT_ERROR_NAMES.has(e.name)) return e.message;
  const sqlite = e.name === 'SqliteError' || /^SQLITE_/.test(String((e as NodeJS.ErrnoException).code ?? ''));
  if (e instanceof StoreError || sqlite) {
    const corrupt = /not a database|malformed|corrupt|SQLITE_(NOTADB|CORRUPT)/i.test(`${e.message} ${String((e as NodeJS.ErrnoException).code ?? '')}`);
    const fix = corrupt
      ? 'the SQLite file is damaged or not a scalepilot store: point --store (or store: in the config) at another file, or move this one aside to start a new history'
      : 'check the store URL (--store, or store: in the config) and that the path is writable';
    return `${sqlite && !/^store /.test(e.message) ? `store: ${e.message}` : e.message} (fix: ${fix})`;
  }
  return undefined;
}
