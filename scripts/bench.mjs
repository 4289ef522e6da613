// Runs every benchmark in bench/ (or the ones named) and prints their figures. Benchmarks never pass or fail on time.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const only = process.argv.slice(2);
const files = (only.length ? only : readdirSync('bench').filter((f) => f.endsWith('.ts')).sort()).map((f) => (f.startsWith('bench/') ? f : `bench/${f}`));
let failed = 0;
for (const f of files) {
  console.log(`\n== ${f} ==`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', f], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
