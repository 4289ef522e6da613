// Worker body for run-cli.ts: loader hooks are per thread, so it registers tsx itself, then runs the CLI entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
try {
  const { run } = await import(workerData.main);
  await run(['node', 'scalepilot', ...workerData.args]);
} catch (e) {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exitCode = 99;
}
