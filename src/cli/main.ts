// The scalepilot CLI: one file per command under src/cli; this file only wires them together.
import { Command, CommanderError } from 'commander';
import { InputError, EXIT_BAD_INPUT } from './output.js';
import { register as hpa } from './hpa.js';
import { register as validate } from './validate.js';
import { register as simulate } from './simulate.js';
import { register as run_ } from './run.js';
import { register as demo } from './demo.js';
import { register as loadtest } from './loadtest.js';
import { register as history } from './history.js';
import { register as check } from './check.js';
import { register as plan } from './plan.js';
import { register as rightsize } from './rightsize.js';
import { register as exportCmd } from './export.js';
import { register as serve } from './serve.js';

export function buildProgram(): Command {
  const program = new Command('scalepilot')
    .description('Autoscaling runbooks as software: HPA-exact decisions, queue scaling, trace replay, load tests, capacity plans and alert exports')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  for (const r of [demo, run_, simulate, loadtest, hpa, validate, check, plan, rightsize, exportCmd, history, serve]) r(program);
  return program;
}

export async function run(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; unknown options and missing arguments are bad input
      process.exitCode = e.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
      return;
    }
    if (e instanceof InputError) {
      process.stderr.write(`scalepilot: ${e.message}\n`);
      process.exitCode = EXIT_BAD_INPUT;
      return;
    }
    process.stderr.write(`scalepilot: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
}
