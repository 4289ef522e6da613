// The source factory: one constructor per `type:`, config errors naming the path, nothing connecting at build time.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InputError } from '../../src/cli/output.js';
import { createMetricSource, parseSourceConfig, SOURCE_TYPES } from '../../src/metrics/index.js';
import { tempDir } from '../helpers/env.js';

describe('createMetricSource', () => {
  const dir = tempDir();
  writeFileSync(join(dir.path, 'load.csv'), 't_seconds,value\n0,1\n60,2\n');
  const raw: Record<string, Record<string, unknown>> = {
    prometheus: { type: 'prometheus', url: 'http://127.0.0.1:1' },
    process: { type: 'process' },
    redis: { type: 'redis', url: 'redis://127.0.0.1:1' },
    postgres: { type: 'postgres', url: 'postgres://nobody@127.0.0.1:1/x' },
    kubernetes: { type: 'kubernetes', server: 'http://127.0.0.1:1' },
    docker: { type: 'docker', socketPath: '/nonexistent.sock' },
    trace: { type: 'trace', file: 'load.csv' },
  };

  test('every type builds its source without connecting, and checks queries', async () => {
    assert.deepEqual(Object.keys(raw).sort(), [...SOURCE_TYPES].sort());
    for (const type of SOURCE_TYPES) {
      const s = createMetricSource(type, raw[type], `sources.${type}`, { baseDir: dir.path });
      assert.equal(s.kind, type);
      assert.equal(typeof s.checkQuery, 'function', type);
      assert.throws(() => s.checkQuery!({ name: 'm', query: '' }, `services.web.metrics.m`), (e: unknown) => e instanceof InputError && /^services\.web\.metrics\.m\.query: /.test((e as Error).message), type);
      await s.close?.();
    }
  });

  test('a relative trace file is read from the config directory', async () => {
    const s = createMetricSource('t', raw.trace, 'sources.t', { baseDir: dir.path });
    assert.equal((await s.sample({ name: 'load', query: 'value' }, new Date(30_000)))[0]!.value, 1);
    dir.cleanup();
  });

  const bad: Array<[unknown, RegExp]> = [
    [undefined, /^sources\.x: must be a mapping with a type \(prometheus, process, redis, postgres, kubernetes, docker, trace\)/],
    [['a'], /^sources\.x: must be a mapping/],
    [{ url: 'http://p' }, /^sources\.x\.type: is missing; use one of prometheus, process/],
    [{ type: 'influxdb' }, /^sources\.x\.type: "influxdb" is not a source type; use one of prometheus/],
    [{ type: 'prometheus', url: 'http://p', timeoutt: '1s' }, /^sources\.x\.timeoutt: unknown field/],
  ];
  for (const [r, re] of bad) {
    test(`refuses ${JSON.stringify(r)}`, () => {
      assert.throws(() => parseSourceConfig(r, 'sources.x'), (e: unknown) => e instanceof InputError && re.test((e as Error).message));
      assert.throws(() => createMetricSource('x', r), (e: unknown) => re.test((e as Error).message));
    });
  }
});
