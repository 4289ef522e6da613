// Runs the real CLI entry point (src/cli/main.ts) in a worker thread and returns its exit code and output.
// A worker has its own stdout, so the CLI's output never mixes with the test runner's report stream.
import { Worker } from 'node:worker_threads';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).href;

const WORKER = new URL('./cli-worker.mjs', import.meta.url);

export async function cli(args: string[], opts: { timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const w = new Worker(WORKER, { workerData: { main: MAIN, args }, stdout: true, stderr: true });
  let stdout = '';
  let stderr = '';
  w.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  w.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => void w.terminate(), opts.timeoutMs ?? 60_000);
  const code = await new Promise<number>((resolve, reject) => {
    w.once('error', reject);
    w.once('exit', resolve);
  }).finally(() => clearTimeout(timer));
  // let the piped streams deliver what the worker wrote last
  await new Promise((r) => setImmediate(r));
  return { code, stdout, stderr };
}
