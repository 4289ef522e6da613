// `scalepilot simulate` (not built yet).
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('simulate').description('simulate (not available yet)').action(() => {
    process.stderr.write('scalepilot simulate: not available yet\n');
    process.exitCode = 1;
  });
}
