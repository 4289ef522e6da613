// `scalepilot export hpa|keda|rules|prometheusrule|compose|nginx`: the policy as other tools' configuration.
import { join } from 'node:path';
import type { Command } from 'commander';
import { EXPORT_KINDS, renderExport, runExport, validateExport, type ExportKind, type ExportOptions } from '../export/index.js';
import { loadConfigInput } from './config-input.js';
import { EXIT_FAILED, InputError } from './output.js';
import { makeDirs } from '../make-dirs.js';
import { own } from '../own.js';
import { replaceFile } from '../durable-file.js';

const collect = (v: string, acc: string[] = []) => [...acc, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

function wholeNumber(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InputError(`${flag} ${v}: must be a whole number >= ${min}`);
  return n;
}

interface ExportFlags {
  config: string;
  service?: string[];
  output?: string;
  out?: string;
  replicas?: string;
  port?: string;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write the policy as a HorizontalPodAutoscaler, KEDA ScaledObject, Prometheus rules, PrometheusRule, Compose override or nginx upstream')
    .argument('<kind>', EXPORT_KINDS.join(' | '))
    .option('-c, --config <file>', 'config file', 'scalepilot.yaml')
    .option('-s, --service <name>', 'only these services (repeat or comma-separate; default all)', collect)
    .option('-o, --output <format>', 'yaml | json (nginx: conf, the default)')
    .option('--out <dir>', 'write one file per object into this directory instead of stdout')
    .option('--replicas <n>', 'compose: replicas to start with; nginx: replica slots to list')
    .option('--port <n>', 'nginx: container port of a Compose service')
    .action((kindArg: string, opts: ExportFlags) => {
      const kind = kindArg.toLowerCase() as ExportKind;
      if (!EXPORT_KINDS.includes(kind)) throw new InputError(`export ${kindArg}: unknown kind; use ${EXPORT_KINDS.join(', ')}`);
      const format = (opts.output ?? (kind === 'nginx' ? 'conf' : 'yaml')).toLowerCase();
      const formats = kind === 'nginx' ? ['conf', 'yaml', 'json'] : ['yaml', 'json'];
      if (!formats.includes(format)) throw new InputError(`-o ${opts.output}: export ${kind} writes ${formats.join(' or ')}`);
      const config = loadConfigInput(opts.config);
      const names = opts.service?.length ? opts.service : Object.keys(config.services);
      const services = names.map((n) => {
        const p = own(config.services, n);
        if (!p) throw new InputError(`--service ${n}: not in ${config.file}; services there: ${Object.keys(config.services).join(', ') || '(none)'}`);
        return p;
      });
      const eo: ExportOptions = {};
      const replicas = wholeNumber('--replicas', opts.replicas, 0);
      const port = wholeNumber('--port', opts.port, 1);
      if (replicas !== undefined) eo.replicas = replicas;
      if (port !== undefined) eo.port = port;

      const { objects, warnings } = runExport(kind, config, services, eo);
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      const problems = objects.flatMap((o) => validateExport(o).map((e) => `${o.file}: ${e}`));
      if (problems.length) throw new InputError(`the exported ${kind} would be rejected; fix the config (hpa.metrics and hpa.behavior are copied as written):\n  ${problems.join('\n  ')}`);
      if (objects.length === 0) {
        process.stderr.write(`scalepilot export ${kind}: nothing to export (see the warnings above)\n`);
        process.exitCode = EXIT_FAILED;
        return;
      }
      const fmt = format as 'yaml' | 'json' | 'conf';
      if (!opts.out) {
        process.stdout.write(renderExport(kind, objects, fmt));
        return;
      }
      const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      try {
        makeDirs(opts.out);
      } catch (e) {
        throw new InputError(`--out ${opts.out}: cannot make the directory (${code(e)}); name a directory that can be written`);
      }
      for (const o of objects) {
        const file = join(opts.out, `${o.file}.${fmt}`);
        try {
          replaceFile(file, renderExport(kind, [o], fmt));
        } catch (e) {
          throw new InputError(`--out ${opts.out}: cannot write ${file} (${code(e)})`);
        }
        process.stdout.write(`wrote ${file}\n`);
      }
    });
}
