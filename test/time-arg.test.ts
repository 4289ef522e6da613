// parseTime: the one reading of time flags (simulate --start/--end, check --at).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { InputError } from '../src/errors.js';
import { parseTime } from '../src/time-arg.js';

const NOW = Date.parse('2026-01-10T00:00:00Z');

describe('parseTime', () => {
  const ok: Array<[string, number]> = [
    ['2024-05-01T00:00:00Z', Date.parse('2024-05-01T00:00:00Z')],
    ['2024-05-01T02:00:00+02:00', Date.parse('2024-05-01T00:00:00Z')],
    ['1714521600', Date.parse('2024-05-01T00:00:00Z')],
    ['1714521600.5', Date.parse('2024-05-01T00:00:00Z') + 500],
    ['0', 0],
    ['2024-05-01', Date.parse('2024-05-01T00:00:00Z')],
    ['now', NOW],
    ['now-7d', NOW - 7 * 86_400_000],
    [' now - 90m ', NOW - 90 * 60_000],
    ['253402300799', Date.UTC(9999, 11, 31, 23, 59, 59)],
  ];
  for (const [s, want] of ok) it(`reads ${JSON.stringify(s)}`, () => assert.equal(parseTime(s, '--at', NOW), want));

  const bad: Array<[string, RegExp]> = [
    ['1714521600000', /--at 1714521600000: past year 9999 read as unix seconds; milliseconds\?/],
    ['99999999999999999999', /past year 9999/],
    ['yesterday', /--at yesterday: not a time; write 2024-05-01T00:00:00Z, unix seconds, now or now-7d/],
    ['now-99999999999d', /not a time/],
    ['now-banana', /not a time/],
    ['-5', /not a time/],
    ['May 1', /not a time/],
    ['', /not a time/],
  ];
  for (const [s, re] of bad) {
    it(`refuses ${JSON.stringify(s)}`, () => {
      assert.throws(() => parseTime(s, '--at', NOW), (e: unknown) => e instanceof InputError && re.test(e.message));
    });
  }
});
