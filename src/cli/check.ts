// `scalepilot check` (not built yet).
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('check').description('check (not available yet)').action(() => {
    process.stderr.write('scalepilot check: not available yet\n');
    process.exitCode = 1;
  });
}
