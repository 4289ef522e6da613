// Cron parsing and schedule windows, hand-computed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCron, cronMatches, activeSince, CronError, type ScheduleSpec } from '../../src/core/schedule.js';

const t = (s: string) => Date.parse(s);

test('cron matching table', () => {
  const rows: Array<[string, string, boolean]> = [
    ['0 8 * * 1-5', '2024-01-01T08:00:00Z', true], // Monday
    ['0 8 * * 1-5', '2024-01-06T08:00:00Z', false], // Saturday
    ['*/15 * * * *', '2024-01-01T10:45:00Z', true],
    ['*/15 * * * *', '2024-01-01T10:46:00Z', false],
    ['0 0 1 * *', '2024-02-01T00:00:00Z', true],
    ['30 9 * jan,feb mon', '2024-02-05T09:30:00Z', true],
    ['0 12 15 * 5', '2024-01-19T12:00:00Z', true], // Friday, dom 19: either day field matches (Vixie cron)
    ['0 12 15 * 5', '2024-01-16T12:00:00Z', false],
    ['0 0 * * 7', '2024-01-07T00:00:00Z', true], // 7 is Sunday too
    ['@daily', '2024-01-07T00:00:00Z', true],
  ];
  for (const [cron, at, want] of rows) assert.equal(cronMatches(parseCron(cron), t(at)), want, `${cron} @ ${at}`);
});

test('bad cron expressions are rejected with the reason', () => {
  assert.throws(() => parseCron('0 8 * *'), /has 4 fields; write five/);
  assert.throws(() => parseCron('61 * * * *'), CronError);
  assert.throws(() => parseCron('0 25 * * *'), /hour "25" is out of range 0-23/);
  assert.throws(() => parseCron('*/0 * * * *'), /step "0"/);
  assert.throws(() => parseCron('0 10-8 * * *'), /runs backwards/);
});

test('schedule window: active from the fire time for the duration, then not', () => {
  const s: ScheduleSpec = { cron: '0 8 * * 1-5', duration: 10 * 3600_000, minReplicas: 5 };
  assert.equal(activeSince(s, t('2024-01-01T07:59:59Z')), undefined);
  assert.equal(activeSince(s, t('2024-01-01T08:00:00Z')), t('2024-01-01T08:00:00Z'));
  assert.equal(activeSince(s, t('2024-01-01T17:59:59Z')), t('2024-01-01T08:00:00Z'));
  assert.equal(activeSince(s, t('2024-01-01T18:00:00Z')), undefined);
  // out-of-order query (a fresh simulation) resets the scan
  const s2: ScheduleSpec = { cron: '0 8 * * 1-5', duration: 10 * 3600_000 };
  assert.equal(activeSince(s2, t('2024-01-02T09:00:00Z')), t('2024-01-02T08:00:00Z'));
  assert.equal(activeSince(s2, t('2024-01-01T09:00:00Z')), t('2024-01-01T08:00:00Z'));
  // sequential 15 s steps over a day agree with a direct check
  const s3: ScheduleSpec = { cron: '*/20 * * * *', duration: 5 * 60_000 };
  for (let x = t('2024-01-01T00:00:00Z'); x < t('2024-01-01T02:00:00Z'); x += 15_000) {
    const minute = new Date(x).getUTCMinutes();
    assert.equal(activeSince(s3, x) !== undefined, minute % 20 < 5, new Date(x).toISOString());
  }
});

test('time zones shift the window', () => {
  const s: ScheduleSpec = { cron: '0 8 * * *', duration: 3600_000, timezone: 'Europe/Berlin' };
  assert.equal(activeSince(s, t('2024-01-01T07:30:00Z')), t('2024-01-01T07:00:00Z')); // 08:00 CET = 07:00Z
  assert.equal(activeSince(s, t('2024-07-01T06:30:00Z')), t('2024-07-01T06:00:00Z')); // CEST
});
