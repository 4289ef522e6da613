// The whole test suite: build, type-check tests, install the real services, run every test file.
// `npm test` runs everything; `npm run test:unit -- [files]` skips the service install (for quick local runs).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const unit = args.includes('--unit');
const only = args.filter((a) => !a.startsWith('--'));

function step(name, cmd, argv, opts = {}) {
  console.log(`\n== ${name} ==`);
  const r = spawnSync(cmd, argv, { stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`\n${name} failed (exit ${r.status ?? r.signal})`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

function findTests(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (e.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

step('build', 'npx', ['tsc', '-p', 'tsconfig.json']);
step('type-check tests and benches', 'npx', ['tsc', '-p', 'tsconfig.test.json']);
if (!unit) step('real services (Debian packages)', 'bash', ['scripts/install-services.sh']);
const files = only.length ? only : findTests('test');
console.log(`\n== tests (${files.length} files) ==`);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env: { ...process.env, SCALEPILOT_TEST: '1' },
});
process.exit(r.status ?? 1);
