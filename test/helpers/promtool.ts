// Runs Debian's real promtool on rule files: `check rules` (syntax, PromQL, templates) and `test rules` (unit tests).
import { spawnSync } from 'node:child_process';
import { requireBinary } from './env.js';

export interface PromtoolRun {
  ok: boolean;
  status: number | null;
  output: string;
}

export const PROMTOOL = '/usr/bin/promtool';

function promtool(args: string[], cwd?: string): PromtoolRun {
  const bin = requireBinary(PROMTOOL, 'prometheus');
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000, ...(cwd ? { cwd } : {}) });
  if (r.error) throw r.error;
  return { ok: r.status === 0, status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** `promtool check rules FILE...` */
export function checkRules(...files: string[]): PromtoolRun {
  return promtool(['check', 'rules', ...files]);
}

/** `promtool test rules FILE...`; rule_files inside a test file resolve against the test file's directory. */
export function testRules(...files: string[]): PromtoolRun {
  return promtool(['test', 'rules', ...files]);
}
