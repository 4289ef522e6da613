// `scalepilot run` (not built yet).
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('run').description('run (not available yet)').action(() => {
    process.stderr.write('scalepilot run: not available yet\n');
    process.exitCode = 1;
  });
}
