// `scalepilot serve` (not built yet).
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('serve').description('serve (not available yet)').action(() => {
    process.stderr.write('scalepilot serve: not available yet\n');
    process.exitCode = 1;
  });
}
