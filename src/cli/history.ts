// `scalepilot history` (not built yet).
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('history').description('history (not available yet)').action(() => {
    process.stderr.write('scalepilot history: not available yet\n');
    process.exitCode = 1;
  });
}
