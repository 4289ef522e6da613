// Files a user hands to check and rightsize: names an object inherits (constructor, __proto__) are plain names there,
// never Object.prototype's members, and a time no Date holds is refused with its path, not met later as a RangeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUsageCsv } from '../../src/capacity-report/usage.js';
import { parseValuesFile } from '../../src/capacity-report/values-file.js';

test('usage and values files whose names an object inherits (constructor, __proto__) keep them as plain names', () => {
  // once: a TypeError (services[svc].push is not a function)
  const u = parseUsageCsv('time,service,pod,cpu,memory\n2024-01-01T00:00:00Z,constructor,p1,100m,100Mi\n2024-01-01T00:01:00Z,__proto__,p1,200m,200Mi\n', 'u.csv');
  assert.equal(u.services['constructor']!.length, 1);
  assert.equal(Object.getOwnPropertyDescriptor(u.services, '__proto__')!.value.length, 1);
  assert.equal(u.services['web'], undefined);
  const v = parseValuesFile(JSON.stringify({ services: { constructor: { metrics: { cpu: 50 } } } }), 'v.json', Date.now());
  assert.equal(v.services['constructor']!.series['cpu']![0]!.v, 50);
  assert.equal(v.services['constructor']!.series['constructor'], undefined);
  assert.equal(v.services['toString'], undefined);
});

test('a values file time no Date holds is refused with its path (once: a RangeError formatting a rule state)', () => {
  const at = Date.parse('2025-06-01T12:00:00Z');
  for (const [doc, re] of [
    [{ time: 1e308, services: {} }, /v\.json: time: 1e\+308 is not a time/],
    [{ services: { api: { metrics: { cpu: [{ t: -1e308, v: 1 }] } } } }, /services\.api\.metrics\.cpu\[0\]\.t: -1e\+308 is not a time/],
    [{ services: { api: { metrics: { cpu: [{ ago: '99999999999d', v: 1 }] } } } }, /services\.api\.metrics\.cpu\[0\]\.ago: "99999999999d" reaches back past any date/],
  ] as const) {
    assert.throws(() => parseValuesFile(JSON.stringify(doc), 'v.json', at), (e: Error) => e.name === 'InputError' && re.test(e.message), JSON.stringify(doc));
  }
});
