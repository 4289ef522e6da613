// `scalepilot validate [FILE]` and `scalepilot schema`: check a config without applying it; print the JSON Schema.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import { configJsonSchema } from '../config/schema.js';
import { parseFormat, printMachine, table, EXIT_BAD_INPUT } from './output.js';

export function register(program: Command): void {
  program
    .command('validate')
    .description('check a scalepilot.yaml; exit 2 with file:line, path and fix for every problem')
    .argument('[file]', 'config file', 'scalepilot.yaml')
    .option('-o, --output <format>', 'table | json | yaml', 'table')
    .action((file: string, opts: { output: string }) => {
      const format = parseFormat(opts.output);
      try {
        const cfg = loadConfig(file);
        const summary = Object.values(cfg.services).map((s) => ({
          service: s.name,
          provider: s.target.provider,
          minReplicas: s.minReplicas,
          maxReplicas: s.maxReplicas,
          hpaMetrics: s.hpa?.metrics.length ?? 0,
          rules: s.rules.length,
          queue: Boolean(s.queue),
          schedules: s.schedules.length,
        }));
        if (printMachine({ valid: true, file, services: summary }, format)) return;
        process.stdout.write(`${file}: valid, ${summary.length} service(s)\n`);
        process.stdout.write(table([
          ['SERVICE', 'PROVIDER', 'MIN', 'MAX', 'HPA METRICS', 'RULES', 'QUEUE', 'SCHEDULES'],
          ...summary.map((s) => [s.service, s.provider, s.minReplicas, s.maxReplicas, s.hpaMetrics, s.rules, s.queue ? 'yes' : 'no', s.schedules]),
        ]));
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        if (!printMachine({ valid: false, file, issues: e.issues }, format)) process.stderr.write(e.message + '\n');
        process.exitCode = EXIT_BAD_INPUT;
      }
    });
  program
    .command('schema')
    .description('print the JSON Schema of scalepilot.yaml (for editors and CI linters)')
    .action(() => {
      process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
    });
}
