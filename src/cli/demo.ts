// `scalepilot demo` (not built yet).
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('demo').description('demo (not available yet)').action(() => {
    process.stderr.write('scalepilot demo: not available yet\n');
    process.exitCode = 1;
  });
}
