// `scalepilot plan` (not built yet).
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('plan').description('plan (not available yet)').action(() => {
    process.stderr.write('scalepilot plan: not available yet\n');
    process.exitCode = 1;
  });
}
