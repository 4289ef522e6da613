// `scalepilot hpa` (not built yet).
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('hpa').description('hpa (not available yet)').action(() => {
    process.stderr.write('scalepilot hpa: not available yet\n');
    process.exitCode = 1;
  });
}
