// loadControllerHistory: a restarted controller gets back the windows, rate-limit events, series and rule state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../src/store/sqlite.js';
import { loadControllerHistory } from '../../src/store/history.js';
import type { StoreEvent } from '../../src/store/types.js';
import type { History } from '../../src/core/types.js';
import { SampleWindow } from '../../src/core/samples.js';
import { decision } from './events.js';

const NOW = 1_700_000_600_000;
const s = (sec: number) => NOW + sec * 1000;

function dec(service: string, sec: number, recommendation: number, extra: Partial<StoreEvent> = {}, lastFired: Record<string, number> = {}, queue?: History['queue']): StoreEvent {
  const d = decision(service, s(sec), { recommendation, desiredReplicas: recommendation, lastFired, ...(queue ? { queue } : { queue: undefined }) });
  if (!queue) delete d.queue;
  return { service, time: s(sec), kind: 'decision', decision: d, result: 'ok', ...extra };
}
const scale = (service: string, sec: number, from: number, to: number, result: StoreEvent['result']): StoreEvent => ({ service, time: s(sec), kind: 'scale', fromReplicas: from, toReplicas: to, result });

test('recommendations, applied scale events, series and rule state come back from the log', async () => {
  const store = SqliteStore.open(':memory:');
  try {
    const events: StoreEvent[] = [
      dec('api', -700, 4, { inputs: { values: { cpu: 99 } } }, { old: s(-700) }), // before the lookback
      dec('api', -300, 5, { inputs: { values: { cpu: 80, queue: 10 } } }, { 'cpu-high': s(-300) }),
      scale('api', -300, 3, 5, 'ok'),
      dec('api', -240, 6, { result: 'dry-run', inputs: { values: { cpu: 85 }, failures: { queue: 'redis: timeout' } } }, { 'cpu-high': s(-300) }),
      scale('api', -240, 5, 6, 'dry-run'), // not applied
      scale('api', -200, 5, 6, 'failed'), // not applied
      scale('api', -190, 5, 5, 'ok'), // no change
      { service: 'api', time: s(-150), kind: 'error', message: 'observe failed', result: 'failed', error: 'x' },
      dec('api', -120, 3, { inputs: { values: { cpu: 40, queue: 0 } } }, { 'cpu-high': s(-300), 'queue-idle': s(-120) }, { lastActiveTime: s(-300), consecutiveFailures: 1 }),
      scale('api', -120, 5, 3, 'ok'),
      { service: 'api', time: s(-60), kind: 'rollback', fromReplicas: 3, toReplicas: 5, result: 'ok' }, // an operator's change, not the autoscaler's
      dec('api', -15, 3, {}, { 'cpu-high': s(-300), 'queue-idle': s(-120) }), // no inputs recorded: series unaffected
      dec('web', -100, 9, { inputs: { values: { cpu: 1 } } }, { web: 1 }),
      scale('web', -100, 1, 9, 'ok'),
      dec('api', 10, 8, { inputs: { values: { cpu: 100 } } }, { future: 1 }), // after `now`: not yet happened
    ];
    for (const e of events) await store.append(e);
    const h = await loadControllerHistory(store, 'api', NOW, 600_000);
    const want: History = {
      recommendations: [{ time: s(-300), replicas: 5 }, { time: s(-240), replicas: 6 }, { time: s(-120), replicas: 3 }, { time: s(-15), replicas: 3 }],
      scaleUpEvents: [{ t: s(-300), change: 2 }],
      scaleDownEvents: [{ t: s(-120), change: 2 }],
      series: {
        cpu: SampleWindow.from([{ t: s(-300), v: 80 }, { t: s(-240), v: 85 }, { t: s(-120), v: 40 }]),
        queue: SampleWindow.from([{ t: s(-300), v: 10 }, { t: s(-120), v: 0 }]),
      },
      lastFired: { 'cpu-high': s(-300), 'queue-idle': s(-120) },
      queue: { lastActiveTime: s(-300), consecutiveFailures: 1 },
    };
    assert.deepEqual(h, want);

    // a shorter lookback (the window the policy needs) drops what is older
    const short = await loadControllerHistory(store, 'api', NOW, 130_000);
    assert.deepEqual(short.recommendations, [{ time: s(-120), replicas: 3 }, { time: s(-15), replicas: 3 }]);
    assert.deepEqual(short.scaleUpEvents, []);
    assert.deepEqual(short.scaleDownEvents, [{ t: s(-120), change: 2 }]);
  } finally {
    await store.close();
  }
});

test('a service with no events starts from an empty history', async () => {
  const store = SqliteStore.open(':memory:');
  try {
    await store.append(scale('web', -10, 1, 2, 'ok'));
    assert.deepEqual(await loadControllerHistory(store, 'api', NOW, 600_000), { recommendations: [], scaleUpEvents: [], scaleDownEvents: [], series: {}, lastFired: {} });
  } finally {
    await store.close();
  }
});
