// `scalepilot hpa evaluate`: one HorizontalPodAutoscaler sync computed as Kubernetes does (contracts/hpa-evaluate.md).
import { readFileBounded, InputTooLargeError, MAX_REQUEST_BYTES } from '../bounded-read.js';
import type { Command } from 'commander';
import { HpaInputError, evaluateHpa, parseHpaRequest, toContractResponse, type ContractResponse } from '../core/hpa/index.js';
import { InputError, parseFormat, printMachine, readStdin, table } from './output.js';

async function readRequest(file: string | undefined): Promise<unknown> {
  let text: string;
  const source = file ?? 'stdin';
  if (file !== undefined) {
    try {
      text = readFileBounded(file, MAX_REQUEST_BYTES);
    } catch (e) {
      if (e instanceof InputTooLargeError) throw new InputError(`--input ${e.message}`);
      throw new InputError(`--input ${file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  } else text = await readStdin();
  if (text.trim() === '') throw new InputError(`${source}: the request is empty; send one JSON request (see contracts/hpa-evaluate.md)`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${source}: the request is not valid JSON: ${(e as Error).message}`);
  }
}

/** Evaluates a request object; bad requests become InputError naming the JSON path. */
export function evaluateRequest(request: unknown): ContractResponse {
  try {
    return toContractResponse(evaluateHpa(parseHpaRequest(request)));
  } catch (e) {
    if (e instanceof HpaInputError) throw new InputError(e.message);
    throw e;
  }
}

function printTable(r: ContractResponse): void {
  const rows: Array<Array<string | number | null>> = [['METRIC', 'PROPOSED', 'UTILIZATION', 'VALUE', 'ERROR']];
  for (const m of r.metrics) rows.push([`${m.type}/${m.name}`, m.proposedReplicas, m.utilization === null ? null : `${m.utilization}%`, m.value, m.error]);
  let out = `desired replicas: ${r.desiredReplicas} (${r.reason})\nrecommendation:   ${r.recommendation ?? '-'}\n`;
  if (r.error !== null) out += `error:            ${r.error}\n`;
  if (r.metrics.length > 0) out += '\n' + table(rows);
  out += '\n' + table([['CONDITION', 'STATUS', 'REASON', 'MESSAGE'], ...r.conditions.map((c) => [c.type, c.status, c.reason, c.message])]);
  process.stdout.write(out);
}

export function register(program: Command): void {
  const hpa = program.command('hpa').description('HorizontalPodAutoscaler decisions computed exactly as Kubernetes computes them');
  hpa
    .command('evaluate')
    .description('compute one HPA sync from a JSON request (stdin, or --input FILE) and print the response JSON')
    .option('--input <file>', 'read the request from FILE instead of stdin')
    .option('-o, --output <format>', 'json (default), yaml or table', 'json')
    .action(async (opts: { input?: string; output: string }) => {
      const format = parseFormat(opts.output);
      const response = evaluateRequest(await readRequest(opts.input));
      if (!printMachine(response, format)) printTable(response);
    });
}
