// `scalepilot hpa evaluate` as a process: stdin and --input, the response JSON, exit 2 with the JSON path on stderr
// for bad requests. Runs the built bin/scalepilot (npm test builds first), and the command module on its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../helpers/env.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/scalepilot');
const examples = JSON.parse(readFileSync(resolve('..', 'shared', 'contracts', 'hpa-evaluate.examples.json'), 'utf8')) as Array<{ name: string; request: unknown; expect: Record<string, unknown> }>;

// Only the hpa command, wired the way src/cli/main.ts wires every command.
const COMMAND_ONLY = `
import { Command } from 'commander';
import { register } from ${JSON.stringify(join(ROOT, 'src/cli/hpa.ts'))};
import { InputError } from ${JSON.stringify(join(ROOT, 'src/cli/output.ts'))};
const p = new Command('scalepilot').exitOverride();
register(p);
try { await p.parseAsync(process.argv); }
catch (e) { if (e instanceof InputError) { process.stderr.write('scalepilot: ' + e.message + '\\n'); process.exitCode = 2; } else throw e; }
`;

type Runner = (args: string[], input?: string) => { status: number | null; stdout: string; stderr: string };

const runBin: Runner = (args, input) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 20000, cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

const runCommand: Runner = (args, input) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', COMMAND_ONLY, '--', 'scalepilot', 'hpa', ...args.slice(1)], { input, encoding: 'utf8', timeout: 20000, cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

function suite(label: string, run: Runner): void {
  describe(label, () => {
    it('prints the contract response for each public example and exits 0', () => {
      for (const ex of examples.slice(0, 3)) {
        const r = run(['hpa', 'evaluate'], JSON.stringify(ex.request));
        assert.equal(r.status, 0, r.stderr);
        const out = JSON.parse(r.stdout) as Record<string, unknown>;
        for (const [k, v] of Object.entries(ex.expect)) assert.deepEqual(out[k], v, `${ex.name}: ${k}`);
      }
    });

    it('reads --input FILE', () => {
      const dir = tempDir();
      try {
        const file = join(dir.path, 'req.json');
        writeFileSync(file, JSON.stringify(examples[0]!.request));
        const r = run(['hpa', 'evaluate', '--input', file]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal((JSON.parse(r.stdout) as { desiredReplicas: number }).desiredReplicas, examples[0]!.expect.desiredReplicas);
      } finally {
        dir.cleanup();
      }
    });

    it('bad JSON exits 2 with a message on stderr', () => {
      const r = run(['hpa', 'evaluate'], '{"hpa": ');
      assert.equal(r.status, 2);
      assert.match(r.stderr, /stdin: the request is not valid JSON/);
      assert.equal(r.stdout, '');
    });

    it('a request that does not validate exits 2 naming the JSON path', () => {
      const req = structuredClone(examples[0]!.request) as { hpa: { metrics: Array<{ resource: { target: Record<string, unknown> } }> } };
      req.hpa.metrics[0]!.resource.target.averageUtilization = -5;
      const r = run(['hpa', 'evaluate'], JSON.stringify(req));
      assert.equal(r.status, 2);
      assert.match(r.stderr, /hpa\.metrics\[0\]\.resource\.target\.averageUtilization: must be an integer > 0/);
    });

    it('an unreadable --input file exits 2 naming the file', () => {
      const r = run(['hpa', 'evaluate', '--input', '/nonexistent/req.json']);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /--input \/nonexistent\/req\.json: cannot read the file \(ENOENT\)/);
    });

    it('a computed "cannot scale" answer still exits 0 with the error field set', () => {
      const req = structuredClone(examples[0]!.request) as { pods: Array<Record<string, unknown>> };
      for (const p of req.pods) delete p.usage;
      const r = run(['hpa', 'evaluate'], JSON.stringify(req));
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { error: string | null; desiredReplicas: number };
      assert.match(out.error!, /no metrics returned from resource metrics API/);
      assert.equal(out.desiredReplicas, 3);
    });
  });
}

suite('bin/scalepilot hpa evaluate', runBin);
suite('the hpa command module alone', runCommand);
