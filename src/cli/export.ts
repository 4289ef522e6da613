// `scalepilot export` (not built yet).
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('export').description('export (not available yet)').action(() => {
    process.stderr.write('scalepilot export: not available yet\n');
    process.exitCode = 1;
  });
}
