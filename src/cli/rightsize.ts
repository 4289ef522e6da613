// `scalepilot rightsize` (not built yet).
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('rightsize').description('rightsize (not available yet)').action(() => {
    process.stderr.write('scalepilot rightsize: not available yet\n');
    process.exitCode = 1;
  });
}
