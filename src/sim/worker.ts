// Worker-thread entry for SimPool: simulates one task per message and posts the result back.
import { parentPort } from 'node:worker_threads';
import { simulateService } from './engine.js';
import { taskOptions, type SimTask } from './pool.js';

const port = parentPort;
if (!port) throw new Error('src/sim/worker is a worker-thread entry; use SimPool or simulateMany');
port.on('message', (m: { id: number; task: SimTask }) => {
  try {
    const t = m.task;
    const result = simulateService(t.policy, t.setup, t.load, taskOptions(t));
    port.postMessage({ id: m.id, result });
  } catch (e) {
    port.postMessage({ id: m.id, error: (e as Error).stack ?? String(e) });
  }
});
