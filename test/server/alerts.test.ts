// Derived alerts: tables of recent events and last decisions in, the alerts an operator should see out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveAlerts, directionReversals, FLAP_REVERSALS } from '../../src/server/alerts.js';
import type { Decision } from '../../src/core/types.js';
import type { StoreEvent } from '../../src/store/types.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const MIN = 60_000;

function scale(minAgo: number, from: number, to: number, result: StoreEvent['result'] = 'ok', kind: StoreEvent['kind'] = 'scale'): StoreEvent {
  return { id: Math.round(1e6 - minAgo * 100), service: 'web', time: NOW - minAgo * MIN, kind, fromReplicas: from, toReplicas: to, result, ...(result === 'failed' ? { error: 'deployments.apps "web" is forbidden' } : {}) };
}

function decision(o: Partial<Decision>): Decision {
  return {
    service: 'web', time: NOW - 5000, currentReplicas: 3, desiredReplicas: 3, action: 'hold', reason: 'hold at 3', reasonCode: 'ReadyForNewScale',
    proposals: [], proposed: 3, recommendation: 3, minReplicas: 1, maxReplicas: 10, conditions: [], errors: [], lastFired: {}, ...o,
  };
}

test('directionReversals counts changes of direction among applied replica changes', () => {
  const table: Array<[string, StoreEvent[], number, string]> = [
    ['none', [], 0, ''],
    ['one way', [scale(9, 2, 3), scale(8, 3, 5), scale(7, 5, 6)], 0, '2→3→5→6'],
    ['up then down', [scale(9, 2, 4), scale(5, 4, 2)], 1, '2→4→2'],
    ['saw-tooth', [scale(9, 2, 4), scale(7, 4, 2), scale(5, 2, 4), scale(3, 4, 2)], 3, '2→4→2→4→2'],
    ['failed changes do not count', [scale(9, 2, 4), scale(7, 4, 2, 'failed'), scale(5, 4, 6)], 0, '2→4→6'],
    ['dry-run changes count (the decisions flap even if nothing acts)', [scale(9, 2, 4, 'dry-run'), scale(7, 4, 2, 'dry-run')], 1, '2→4→2'],
    ['a rollback is a change too', [scale(9, 2, 4), scale(7, 4, 2, 'ok', 'rollback')], 1, '2→4→2'],
    ['no-op scales are skipped', [scale(9, 2, 4), scale(8, 4, 4), scale(7, 4, 6)], 0, '2→4→6'],
    ['order is by time, not by input order', [scale(3, 4, 2), scale(9, 2, 4)], 1, '2→4→2'],
  ];
  for (const [name, events, want, path] of table) {
    const r = directionReversals(events);
    assert.equal(r.reversals, want, name);
    assert.equal(r.path, path, name);
  }
});

interface Case {
  name: string;
  decision?: Decision;
  syncError?: string;
  degraded?: string[];
  storeBlocked?: string;
  events?: StoreEvent[];
  want: Array<{ kind: string; severity: string; message: RegExp }>;
}

const cases: Case[] = [
  { name: 'calm', decision: decision({}), events: [scale(8, 2, 3)], want: [] },
  {
    name: 'pinned at max',
    decision: decision({ currentReplicas: 10, desiredReplicas: 10, maxReplicas: 10, proposed: 14 }),
    want: [{ kind: 'pinned-at-max', severity: 'critical', message: /pinned at maxReplicas 10: the last decision asked for 14/ }],
  },
  { name: 'at max without asking for more is fine', decision: decision({ currentReplicas: 10, maxReplicas: 10, proposed: 10 }), want: [] },
  {
    name: 'metric source failing',
    decision: decision({ errors: ['rps: prometheus: connect ECONNREFUSED 127.0.0.1:9090'] }),
    want: [{ kind: 'metric-source-failing', severity: 'warning', message: /a metric cannot be read \(rps: prometheus: connect ECONNREFUSED/ }],
  },
  { name: 'a scale error in decision.errors is not a metric failure', decision: decision({ errors: ['scale: forbidden'] }), want: [] },
  {
    name: 'flapping inside 10 minutes',
    decision: decision({}),
    events: [scale(9, 2, 4), scale(7, 4, 2), scale(5, 2, 4), scale(3, 4, 2)],
    want: [{ kind: 'flapping', severity: 'warning', message: /3 direction reversals in 10m \(2→4→2→4→2\)/ }],
  },
  {
    name: 'the same saw-tooth spread over 20 minutes is not flapping now',
    decision: decision({}),
    events: [scale(19, 2, 4), scale(15, 4, 2), scale(11, 2, 4), scale(3, 4, 2)],
    want: [],
  },
  {
    name: 'failed scaling',
    decision: decision({}),
    events: [scale(6, 2, 4, 'failed'), scale(2, 2, 4, 'failed')],
    want: [{ kind: 'scale-errors', severity: 'critical', message: /2 failed observe\/scale\/resize calls in 10m; last: scale: deployments.apps "web" is forbidden/ }],
  },
  {
    name: 'target unreachable right now',
    syncError: 'observe: connect ECONNREFUSED 127.0.0.1:6443',
    events: [{ id: 7, service: 'web', time: NOW - 1000, kind: 'error', message: 'observe: connect ECONNREFUSED', result: 'failed', error: 'connect ECONNREFUSED' }],
    want: [{ kind: 'scale-errors', severity: 'critical', message: /last: observe: connect ECONNREFUSED 127.0.0.1:6443/ }],
  },
  {
    name: 'front down: critical, with the provider\'s reason',
    decision: decision({}),
    degraded: ['front proxy: nginx master is not running (restart failed: bind() to 127.0.0.1:8080 failed)'],
    want: [{ kind: 'target-degraded', severity: 'critical', message: /web is degraded besides its replicas: front proxy: nginx master is not running \(restart failed: bind\(\) to 127\.0\.0\.1:8080 failed\)/ }],
  },
  { name: 'an empty degraded list is healthy', decision: decision({}), degraded: [], want: [] },
  {
    name: 'store blocked: critical, with the reason, even when this service\'s last sync predates it',
    decision: decision({}),
    storeBlocked: '3 record(s) could not be written to the store yet (SQLITE_FULL: database or disk is full)',
    want: [{ kind: 'store-blocked', severity: 'critical', message: /web is held: the store cannot record changes \(3 record\(s\) could not be written to the store yet \(SQLITE_FULL: database or disk is full\)\); nothing scales/ }],
  },
  {
    name: 'a sync that failed on the store is a blocked store, not a scale error',
    decision: decision({}),
    syncError: 'store: the writer lock was lost (another scalepilot run holds it)',
    want: [{ kind: 'store-blocked', severity: 'critical', message: /the store cannot record changes \(the writer lock was lost \(another scalepilot run holds it\)\)/ }],
  },
  {
    name: 'the controller\'s own reason wins over the sync\'s, and both failures show',
    decision: decision({ currentReplicas: 10, maxReplicas: 10, proposed: 12 }),
    syncError: 'store: older reason',
    storeBlocked: 'current reason',
    degraded: ['front proxy: down'],
    want: [
      { kind: 'store-blocked', severity: 'critical', message: /\(current reason\)/ },
      { kind: 'target-degraded', severity: 'critical', message: /front proxy: down/ },
      { kind: 'pinned-at-max', severity: 'critical', message: /asked for 12/ },
    ],
  },
  {
    name: 'another service\'s events are not this one\'s',
    decision: decision({}),
    events: [scale(6, 2, 4, 'failed')].map((e) => ({ ...e, service: 'api' })),
    want: [],
  },
];

for (const c of cases) {
  test(`alerts: ${c.name}`, () => {
    const got = deriveAlerts({ service: 'web', now: NOW, decision: c.decision, syncError: c.syncError, degraded: c.degraded, storeBlocked: c.storeBlocked, events: c.events ?? [] });
    assert.deepEqual(got.map((a) => a.kind), c.want.map((w) => w.kind), JSON.stringify(got));
    c.want.forEach((w, i) => {
      assert.equal(got[i]!.severity, w.severity);
      assert.match(got[i]!.message, w.message);
      assert.equal(got[i]!.service, 'web');
    });
  });
}

test(`flapping needs ${FLAP_REVERSALS} reversals: one fewer is quiet`, () => {
  const events = [scale(9, 2, 4), scale(7, 4, 2), scale(5, 2, 4)];
  assert.equal(deriveAlerts({ service: 'web', now: NOW, events }).length, 0);
  assert.equal(deriveAlerts({ service: 'web', now: NOW, events: [...events, scale(4, 4, 3)] })[0]?.kind, 'flapping');
});
