// The controller's metric windows: typed arrays that slide. Checked against a plain { t, v } list under random
// pushes and trims, and for what a long-running window costs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SampleWindow } from '../../src/core/samples.js';
import type { TimedValue } from '../../src/core/types.js';

test('a window holds exactly what a { t, v } list trimmed the same way holds, through slides and growth', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 50; round++) {
    const w = new SampleWindow(1 + Math.floor(rand() * 4));
    let list: TimedValue[] = [];
    let t = 0;
    const keep = 1000 + Math.floor(rand() * 60_000);
    for (let k = 0; k < 2000; k++) {
      t += 1 + Math.floor(rand() * 3000);
      const v = rand() * 100;
      w.push(t, v);
      list.push({ t, v });
      if (rand() < 0.8) {
        w.trimBefore(t - keep);
        list = list.filter((s) => s.t >= t - keep);
      }
      if (k % 97 === 0) {
        assert.equal(w.length, list.length);
        assert.deepEqual(w.toArray(), list);
        assert.deepEqual(Array.from(w.values()), list.map((s) => s.v));
        const i = Math.floor(rand() * list.length);
        if (list.length) {
          assert.equal(w.t(i), list[i]!.t);
          assert.equal(w.v(i), list[i]!.v);
          assert.deepEqual(w.toArray(i), list.slice(i));
        }
      }
    }
    assert.deepEqual(JSON.parse(JSON.stringify(w)), list, 'JSON shows the { t, v } list');
  }
});

test('a steady window keeps its arrays within twice what it holds, and trimming everything empties it', () => {
  const w = new SampleWindow();
  for (let t = 0; t < 100_000; t++) {
    w.push(t, t);
    w.trimBefore(t - 72);
  }
  assert.equal(w.length, 73);
  // 73 samples in arrays of 128: 16 bytes a sample plus the slack
  const bytes = (w as unknown as { ts: Float64Array }).ts.byteLength * 2;
  assert.ok(bytes <= 2 * 16 * 73 + 64, `${bytes} bytes for 73 samples`);
  w.trimBefore(Infinity);
  assert.equal(w.length, 0);
  assert.deepEqual(w.toArray(), []);
  w.push(5, 1);
  assert.deepEqual(w.toArray(), [{ t: 5, v: 1 }]);
});

test('SampleWindow.from keeps the given samples in order', () => {
  const list = [{ t: 1, v: 2 }, { t: 3, v: 4 }, { t: 5, v: 6 }];
  assert.deepEqual(SampleWindow.from(list).toArray(), list);
  assert.deepEqual(SampleWindow.from([]).toArray(), []);
});
