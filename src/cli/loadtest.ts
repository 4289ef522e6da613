// `scalepilot loadtest` (not built yet).
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('loadtest').description('loadtest (not available yet)').action(() => {
    process.stderr.write('scalepilot loadtest: not available yet\n');
    process.exitCode = 1;
  });
}
