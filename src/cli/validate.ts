// `scalepilot validate` (not built yet).
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('validate').description('validate (not available yet)').action(() => {
    process.stderr.write('scalepilot validate: not available yet\n');
    process.exitCode = 1;
  });
}
