// Runs many simulations over worker threads (one per available core by default) and returns the results in task
// order. Tasks are made on demand, so a thousand month-long traces never sit in memory at once.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServicePolicy } from '../config/load.js';
import { simulateService } from './engine.js';
import type { LoadSeries, SimResult, SimSetup } from './types.js';

export interface SimTask {
  policy: ServicePolicy;
  setup: SimSetup;
  load: LoadSeries;
  label?: string;
  /** score only from this step on (see SimulateOptions.scoreFrom) */
  scoreFrom?: number;
  /** see SimulateOptions.stopAfterViolationMinutes */
  stopAfterViolationMinutes?: number;
  /** see SimulateOptions.splitAt */
  splitAt?: readonly number[];
}

export interface RunOptions {
  /** worker threads; 0 or 1 runs in this thread. Default: os.availableParallelism(), never more than tasks. */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
}

interface Job {
  id: number;
  task: SimTask;
}

type Reply = { id: number; result: SimResult } | { id: number; error: string };

/** The worker entry, next to this file: worker.js when compiled, worker.ts from source (through tsx). */
function spawn(): Worker {
  const here = fileURLToPath(import.meta.url);
  const ext = extname(here);
  const entry = new URL(`./worker${ext}`, import.meta.url);
  if (ext !== '.ts') return new Worker(entry);
  // Loader hooks do not reach worker threads; register tsx inside the worker before importing the entry.
  const api = import.meta.resolve('tsx/esm/api');
  const code = `const { register } = await import(${JSON.stringify(api)}); register(); await import(${JSON.stringify(entry.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
}

/** A reusable set of worker threads (tuning runs several batches through one pool). */
export class SimPool {
  private readonly workers: Worker[] = [];
  readonly size: number;

  constructor(size = availableParallelism()) {
    this.size = Math.max(1, Math.floor(size));
  }

  private ensure(n: number): Worker[] {
    while (this.workers.length < Math.min(n, this.size)) {
      const w = spawn();
      w.unref();
      this.workers.push(w);
    }
    return this.workers.slice(0, Math.min(n, this.size));
  }

  /** Runs tasks 0..count-1 (made by `make` when a worker is free); results in task order. */
  run(count: number, make: (i: number) => SimTask, onProgress?: RunOptions['onProgress']): Promise<SimResult[]> {
    if (count === 0) return Promise.resolve([]);
    const results = new Array<SimResult>(count);
    const workers = this.ensure(count);
    let next = 0;
    let done = 0;
    return new Promise((resolve, reject) => {
      let failed = false;
      const cleanups: Array<() => void> = [];
      const finish = (err?: Error) => {
        for (const c of cleanups) c();
        if (err) reject(err);
        else resolve(results);
      };
      const feed = (w: Worker) => {
        if (failed || next >= count) return;
        const id = next++;
        let task: SimTask;
        try {
          task = make(id);
        } catch (e) {
          failed = true;
          finish(e as Error);
          return;
        }
        w.postMessage({ id, task } satisfies Job);
      };
      for (const w of workers) {
        w.ref();
        const onMessage = (m: Reply) => {
          if (failed) return;
          if ('error' in m) {
            failed = true;
            finish(new Error(`simulation of task ${m.id} failed in a worker: ${m.error}`));
            return;
          }
          results[m.id] = m.result;
          done++;
          onProgress?.(done, count);
          if (done === count) finish();
          else feed(w);
        };
        const onError = (e: Error) => {
          if (failed) return;
          failed = true;
          finish(new Error(`simulation worker crashed: ${e.message}`));
        };
        w.on('message', onMessage);
        w.on('error', onError);
        cleanups.push(() => {
          w.off('message', onMessage);
          w.off('error', onError);
          w.unref();
        });
      }
      for (const w of workers) feed(w);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}

/** The simulation options a task carries. */
export function taskOptions(t: SimTask): { label?: string; scoreFrom?: number; stopAfterViolationMinutes?: number; splitAt?: readonly number[] } {
  return {
    ...(t.label !== undefined ? { label: t.label } : {}),
    ...(t.scoreFrom !== undefined ? { scoreFrom: t.scoreFrom } : {}),
    ...(t.stopAfterViolationMinutes !== undefined ? { stopAfterViolationMinutes: t.stopAfterViolationMinutes } : {}),
    ...(t.splitAt !== undefined ? { splitAt: t.splitAt } : {}),
  };
}

/** Runs tasks in this thread, in order (also the reference the worker pool must match). */
export function runInline(count: number, make: (i: number) => SimTask, onProgress?: RunOptions['onProgress']): SimResult[] {
  const out: SimResult[] = [];
  for (let i = 0; i < count; i++) {
    const t = make(i);
    out.push(simulateService(t.policy, t.setup, t.load, taskOptions(t)));
    onProgress?.(i + 1, count);
  }
  return out;
}

/** Runs tasks over a fresh pool (or inline for one worker / one task) and closes it. */
export async function simulateMany(count: number, make: (i: number) => SimTask, opts: RunOptions = {}): Promise<SimResult[]> {
  const workers = Math.min(opts.workers ?? availableParallelism(), count);
  if (workers <= 1) return runInline(count, make, opts.onProgress);
  const pool = new SimPool(workers);
  try {
    return await pool.run(count, make, opts.onProgress);
  } finally {
    await pool.close();
  }
}
