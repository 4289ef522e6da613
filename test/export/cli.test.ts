// `scalepilot export`: every kind to stdout (multi-document YAML, JSON), --out files, bad input, and the real
// binary's rule file through promtool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { validatePrometheusRule, validateScaledObject } from '../../src/export/crd.js';
import { tempDir } from '../helpers/env.js';
import { register } from '../../src/cli/export.js';
import { checkRules } from '../helpers/promtool.js';
import { ensureBuilt, runBin } from '../fixtures/capacity-report/built-cli.js';
import { runCommand } from '../fixtures/capacity-report/run-command.js';

const CONFIG = fileURLToPath(new URL('../fixtures/export/scalepilot.yaml', import.meta.url));
const cli = (args: string[]) => runCommand(register, args);

test('export hpa: multi-document YAML, one valid HPA per service, warnings on stderr', async () => {
  const r = await cli(['export', 'hpa', '--config', CONFIG]);
  assert.equal(r.code, 0, r.stderr);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
  assert.deepEqual(docs.map((d) => d.metadata.name), ['api-server', 'worker', 'web']);
  for (const d of docs) new HorizontalPodAutoscaler(d).validate();
  assert.match(r.stderr, /^warning: services\.worker\.target uses the compose provider/m);
});

test('export keda / prometheusrule -o json, filtered by --service', async () => {
  const k = await cli(['export', 'keda', '--service', 'worker', '-o', 'json', '--config', CONFIG]);
  assert.equal(k.code, 0, k.stderr);
  const so = JSON.parse(k.stdout);
  assert.deepEqual(validateScaledObject(so), []);
  assert.deepEqual(so.spec.triggers.map((t: { type: string }) => t.type), ['redis', 'postgresql']);
  const p = await cli(['export', 'prometheusrule', '-s', 'api,web', '-o', 'json', '--config', CONFIG]);
  const pr = JSON.parse(p.stdout);
  assert.deepEqual(validatePrometheusRule(pr), []);
  assert.deepEqual(pr.spec.groups.map((g: { name: string }) => g.name), ['scalepilot.api', 'scalepilot.web', 'scalepilot.controller']);
  const self = pr.spec.groups[2].rules as Array<{ labels: { service?: string } }>;
  assert.deepEqual([...new Set(self.map((r) => r.labels.service).filter(Boolean))], ['api', 'web'], 'health alerts only for the selected services');
});

test('export nginx writes nginx configuration by default; --out writes one file per object', async () => {
  const n = await cli(['export', 'nginx', '--service', 'web', '--replicas', '2', '--config', CONFIG]);
  assert.equal(n.code, 0, n.stderr);
  assert.match(n.stdout, /^# scalepilot: web: .*\nupstream web \{\n    least_conn;\n    server 127\.0\.0\.1:18001 max_fails=3 fail_timeout=5s;\n    server 127\.0\.0\.1:18002/);
  const dir = tempDir();
  try {
    const r = await cli(['export', 'hpa', '--out', join(dir.path, 'k8s'), '--config', CONFIG]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(join(dir.path, 'k8s')).sort(), ['hpa-api.yaml', 'hpa-web.yaml', 'hpa-worker.yaml']);
    assert.match(readFileSync(join(dir.path, 'k8s', 'hpa-api.yaml'), 'utf8'), /^apiVersion: autoscaling\/v2\nkind: HorizontalPodAutoscaler\n/);
    assert.match(r.stdout, /wrote .*hpa-api\.yaml/);
    const c = await cli(['export', 'compose', '--out', dir.path, '-o', 'json', '--config', CONFIG]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(JSON.parse(readFileSync(join(dir.path, 'compose.scalepilot.json'), 'utf8')).services.worker.deploy.resources.limits.memory, '768M');
  } finally {
    dir.cleanup();
  }
});

test('export: bad input exits 2; nothing to export exits 1', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['export', 'helm', '--config', CONFIG], /export helm: unknown kind; use hpa, keda, rules, prometheusrule, compose, nginx/],
    [['export', 'hpa', '--service', 'nope', '--config', CONFIG], /--service nope: not in .*services there: api, worker, web/],
    [['export', 'hpa', '-o', 'conf', '--config', CONFIG], /-o conf: export hpa writes yaml or json/],
    [['export', 'compose', '--replicas', '-1', '--config', CONFIG], /--replicas -1: must be a whole number >= 0/],
    [['export', 'rules', '--config', '/nonexistent/scalepilot.yaml'], /cannot read/],
    // a file where the directory should be, and a parent the kernel says is missing though it exists (under /proc,
    // where mkdir -p in Node never returned)
    [['export', 'rules', '--config', CONFIG, '--out', '/dev/null'], /--out \/dev\/null: cannot make the directory \(ENOTDIR\); name a directory/],
    [['export', 'rules', '--config', CONFIG, '--out', '/proc/scalepilot-nope/rules'], /--out \/proc\/scalepilot-nope\/rules: cannot make the directory \(ENOENT\)/],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const none = await cli(['export', 'keda', '--service', 'web', '--config', CONFIG]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no ScaledObject was written/);
  assert.equal(none.stdout, '');
});

test('the real binary: `scalepilot export rules --out DIR` writes a file promtool accepts', async () => {
  await ensureBuilt();
  const dir = tempDir();
  try {
    const r = await runBin(['export', 'rules', '--config', CONFIG, '--out', dir.path]);
    assert.equal(r.code, 0, r.stderr);
    const file = join(dir.path, 'scalepilot-rules.yaml');
    assert.equal(r.stdout, `wrote ${file}\n`);
    const check = checkRules(file);
    assert.ok(check.ok, check.output);
    const bad = await runBin(['export', 'rules', '--config', join(dir.path, 'nope.yaml')]);
    assert.equal(bad.code, 2);
  } finally {
    dir.cleanup();
  }
});
