// `scalepilot history` and `scalepilot rollback`: the rollback logic on the dry-run provider with a real SQLite
// store, then both commands end to end as the CLI runs them.
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type ServicePolicy } from '../../src/config/load.js';
import { NothingToRollBack, planRollback, rollback } from '../../src/controller/rollback.js';
import { DryRunProvider } from '../../src/providers/dryrun.js';
import { ProviderError, type ScaleOptions, type TargetRef } from '../../src/providers/types.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { StoreEvent } from '../../src/store/types.js';
import { InputError } from '../../src/cli/output.js';
import { register } from '../../src/cli/history.js';
import { runCommand } from '../fixtures/capacity-report/run-command.js';
import { tempDir } from '../helpers/env.js';

const CONFIG = `store: sqlite:state/events.db
services:
  api:
    target: { provider: dryrun, replicas: 5 }
    minReplicas: 2
    maxReplicas: 8
  web:
    target: { provider: dryrun, replicas: 1 }
    maxReplicas: 3
  site:
    target: { provider: local, command: [node, server.mjs], listen: '127.0.0.1:8080', portBase: 18001 }
    maxReplicas: 3
`;
const config = parseConfig(CONFIG);
const api = config.services.api!;
const T = 1_700_000_000_000;

async function setup(events: StoreEvent[]) {
  const store = SqliteStore.open(':memory:');
  const provider = new DryRunProvider({ now: () => T });
  const ids: number[] = [];
  for (const e of events) ids.push(await store.append(e));
  return { store, provider, ids };
}

const scale = (time: number, from: number, to: number, result: StoreEvent['result'] = 'ok', service = 'api'): StoreEvent => ({ service, time, kind: 'scale', fromReplicas: from, toReplicas: to, result, message: `scale ${from}→${to}` });

describe('rollback (dry-run provider, SQLite store)', () => {
  test('undoes the last applied change, skipping failed and dry-run ones, and records it', async () => {
    const { store, provider, ids } = await setup([
      scale(T, 2, 5),
      scale(T + 1000, 5, 7, 'failed'),
      scale(T + 2000, 5, 8, 'dry-run'),
      scale(T + 3000, 1, 3, 'ok', 'web'),
    ]);
    const r = await rollback({ policy: api, store, provider, by: 'test', now: () => T + 5000 });
    assert.equal(r.undoes.id, ids[0]);
    assert.deepEqual(r.changes, ['replicas 5 → 2']);
    assert.equal(r.result, 'ok');
    assert.deepEqual(provider.scales.map((s) => [s.service, s.from, s.replicas, s.dryRun]), [['api', 5, 2, false]]);
    assert.equal((await provider.observe(api.target)).replicas, 2);
    const recorded = await store.get(r.eventId);
    assert.deepEqual(recorded, {
      id: r.eventId, service: 'api', time: T + 5000, kind: 'rollback', fromReplicas: 5, toReplicas: 2, result: 'ok',
      message: `rolled back to before event #${ids[0]} (scale 2→5 at ${new Date(T).toISOString()}) by test: replicas 5 → 2`,
    });
    // a second rollback undoes the rollback, as `kubectl rollout undo` does
    const again = await rollback({ policy: api, store, provider, now: () => T + 6000 });
    assert.equal(again.undoes.id, r.eventId);
    assert.deepEqual(again.changes, ['replicas 2 → 5']);
    assert.equal((await provider.observe(api.target)).replicas, 5);
  });

  test('--dry-run changes nothing, records a dry-run event, and leaves the same change to undo', async () => {
    const { store, provider, ids } = await setup([scale(T, 3, 5)]);
    const r = await rollback({ policy: api, store, provider, dryRun: true });
    assert.equal(r.result, 'dry-run');
    assert.deepEqual(provider.scales.map((s) => [s.replicas, s.dryRun]), [[3, true]]);
    assert.equal((await provider.observe(api.target)).replicas, 5);
    assert.equal((await store.get(r.eventId))!.result, 'dry-run');
    assert.equal((await planRollback({ policy: api, store, provider })).undoes.id, ids[0]);
  });

  test('--to restores the state before an older event; resources go back through resize', async () => {
    const before = { requests: { cpu: '500m', memory: '512Mi' } };
    const after = { requests: { cpu: '750m', memory: '512Mi' } };
    const { store, provider, ids } = await setup([
      scale(T, 4, 5),
      { service: 'api', time: T + 1000, kind: 'resize', fromReplicas: 5, toReplicas: 5, resources: { before, after }, result: 'ok' },
      scale(T + 2000, 5, 6),
    ]);
    await provider.scale(api.target, 6, { dryRun: false, drainMs: 0 });
    await provider.resize(api.target, after, { dryRun: false });
    const r = await rollback({ policy: api, store, provider, toEventId: ids[1] });
    assert.deepEqual(r.changes, ['resources cpu requests 750m, memory requests 512Mi → cpu requests 500m, memory requests 512Mi']);
    assert.deepEqual((await provider.observe(api.target)).resources, before);
    assert.equal((await provider.observe(api.target)).replicas, 6, 'a resize event restores resources only');
    const e = (await store.get(r.eventId))!;
    assert.deepEqual(e.resources, { before: after, after: before });
    const r2 = await rollback({ policy: api, store, provider, toEventId: ids[0] });
    assert.deepEqual(r2.changes, ['replicas 6 → 4']);
  });

  test('refuses clearly when there is nothing to roll back', async () => {
    const empty = await setup([{ service: 'api', time: T, kind: 'decision', result: 'ok' }, scale(T, 4, 6, 'failed')]);
    await assert.rejects(rollback({ policy: api, store: empty.store, provider: empty.provider }), (e: Error) => e instanceof NothingToRollBack && /api has no applied scale, resize or rollback/.test(e.message));
    const same = await setup([scale(T, 5, 7)]);
    await same.provider.scale(api.target, 5, { dryRun: false, drainMs: 0 });
    await assert.rejects(rollback({ policy: api, store: same.store, provider: same.provider }), (e: Error) => e instanceof NothingToRollBack && /already runs 5 replicas, the state before event #1/.test(e.message));
    assert.deepEqual(await same.store.history('api', 0, { kinds: ['rollback'] }), [], 'a refusal records nothing');
  });

  test('bad --to ids are bad input naming what is wrong', async () => {
    const { store, provider, ids } = await setup([scale(T, 1, 2, 'ok', 'web'), { service: 'api', time: T, kind: 'pause', result: 'ok' }]);
    const cases: Array<[number, RegExp]> = [
      [999, /--to 999: no such event/],
      [ids[0]!, /belongs to service web, not api/],
      [ids[1]!, /cannot roll back to before event #2 \(pause at .*\): it recorded no replica count or resources/],
      [0, /ids are whole numbers >= 1/],
    ];
    for (const [id, re] of cases) await assert.rejects(rollback({ policy: api, store, provider, toEventId: id }), (e: Error) => e instanceof InputError && re.test(e.message), String(id));
  });

  test('a provider failure is recorded as a failed rollback and passed on', async () => {
    class Broken extends DryRunProvider {
      override async scale(_t: TargetRef, _r: number, _o: ScaleOptions): Promise<void> {
        throw new ProviderError('dryrun', 'scale subresource: 409 Conflict');
      }
    }
    const { store } = await setup([scale(T, 3, 5)]);
    await assert.rejects(rollback({ policy: api, store, provider: new Broken() }), /409 Conflict/);
    const [e] = await store.history('api', 0, { kinds: ['rollback'] });
    assert.equal(e!.result, 'failed');
    assert.equal(e!.error, 'dryrun: scale subresource: 409 Conflict');
  });

  test('a target outside the current bounds is done as asked, with a warning', async () => {
    const { store, provider } = await setup([scale(T, 1, 5)]);
    const r = await rollback({ policy: api as ServicePolicy, store, provider });
    assert.deepEqual(r.changes, ['replicas 5 → 1']);
    assert.match(r.warnings.join(), /1 replicas is outside the policy's current bounds 2\.\.8/);
  });
});

const cli = (args: string[]) => runCommand(register, args);

describe('scalepilot history / rollback (CLI)', () => {
  test('history prints the log as a table, as JSON, filtered by kind and time', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'scalepilot.yaml');
      writeFileSync(file, CONFIG);
      const store = SqliteStore.open(join(dir.path, 'state', 'events.db'));
      const now = Date.now();
      await store.append({ service: 'api', time: now - 3 * 3600_000, kind: 'scale', fromReplicas: 1, toReplicas: 2, result: 'ok', message: 'old' });
      await store.append({ service: 'api', time: now - 600_000, kind: 'decision', fromReplicas: 2, toReplicas: 4, result: 'ok', message: 'cpu 91% > 70% for 10m (rule cpu-high)' });
      await store.append({ service: 'api', time: now - 590_000, kind: 'scale', fromReplicas: 2, toReplicas: 4, result: 'ok', message: 'cpu high' });
      await store.append({ service: 'web', time: now - 60_000, kind: 'error', result: 'failed', message: 'observe failed', error: 'ECONNREFUSED' });
      await store.close();

      const t = await cli(['history', '--config', file]);
      assert.equal(t.code, 0, t.stderr);
      const lines = t.stdout.trim().split('\n');
      assert.match(lines[0]!, /^ID\s+TIME\s+SERVICE\s+KIND\s+REPLICAS\s+RESULT\s+REASON$/);
      assert.equal(lines.length, 4, t.stdout);
      assert.match(lines[1]!, /^2\s+\S+Z\s+api\s+decision\s+2→4\s+ok\s+cpu 91% > 70% for 10m \(rule cpu-high\)$/);
      assert.match(lines[3]!, /^4\s+\S+Z\s+web\s+error\s+failed\s+observe failed — error: ECONNREFUSED$/);

      const j = await cli(['history', 'api', '--since', '4h', '--kind', 'scale', '-o', 'json', '--config', file]);
      assert.equal(j.code, 0, j.stderr);
      assert.deepEqual((JSON.parse(j.stdout) as StoreEvent[]).map((e) => [e.id, e.message]), [[1, 'old'], [3, 'cpu high']]);

      // a duration reaching back past 1970 means everything (it threw "Invalid time value")
      const ever = await cli(['history', 'api', '--since', '9999999999d', '--kind', 'scale', '-o', 'json', '--config', file]);
      assert.equal(ever.code, 0, ever.stderr);
      assert.deepEqual((JSON.parse(ever.stdout) as StoreEvent[]).map((e) => e.id), [1, 3]);
      const never = await cli(['history', 'web', '--kind', 'rollback', '--since', '9999999999d', '--config', file]);
      assert.equal(never.code, 0, never.stderr);
      assert.match(never.stdout, /^no events for web since 1970-01-01T00:00:00Z of kind rollback\n$/);

      const lim = await cli(['history', '--since', '1d', '--limit', '2', '--config', file]);
      assert.equal(lim.stdout.trim().split('\n').length, 3);
      assert.match(lim.stderr, /showing the newest 2/);

      const none = await cli(['history', 'web', '--kind', 'rollback', '--config', file]);
      assert.match(none.stdout, /^no events for web since .* of kind rollback\n$/);
    } finally {
      dir.cleanup();
    }
  });

  test('bad input exits 2 with the flag named', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'scalepilot.yaml');
      writeFileSync(file, CONFIG);
      const cases: Array<[string[], RegExp]> = [
        [['history', '--since', 'yesterday', '--config', file], /--since yesterday: write a duration/],
        [['history', '--kind', 'scale,scaled', '--config', file], /--kind scaled: unknown event kind; use decision, scale/],
        [['history', '--limit', '0', '--config', file], /--limit 0: must be a whole number >= 1/],
        [['history', '--store', 'mysql://x/y'], /store "mysql:\/\/x\/y" is not a store URL/],
        [['history', '--config', join(dir.path, 'missing.yaml')], /missing\.yaml: cannot read: ENOENT/],
        [['rollback', 'nope', '--config', file], /service "nope" is not in .*; services there: api, web, site/],
        [['rollback', 'site', '--config', file], /child processes of the running `scalepilot run`.*POST http:\/\/127\.0\.0\.1:9464\/api\/v1\/services\/site\/rollback/],
        [['rollback', 'api', '--to', 'x', '--config', file], /--to x: must be a whole number >= 1/],
      ];
      for (const [args, re] of cases) {
        const r = await cli(args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, re);
      }
    } finally {
      dir.cleanup();
    }
  });

  test('rollback through the service\'s provider; nothing to roll back exits 1', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'scalepilot.yaml');
      writeFileSync(file, CONFIG);
      const nothing = await cli(['rollback', 'api', '--config', file]);
      assert.equal(nothing.code, 1);
      assert.match(nothing.stderr, /nothing to roll back: api has no applied scale/);

      const store = SqliteStore.open(join(dir.path, 'state', 'events.db'));
      await store.append(scale(Date.now() - 60_000, 3, 5));
      await store.close();
      // the dry-run target reports its configured 5 replicas
      const dry = await cli(['rollback', 'api', '--dry-run', '--config', file]);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /^would roll back api: replicas 5 → 3\n  undoes event #1 \(scale at .*: scale 3→5\)\n  recorded as event #2 \(dry run: nothing changed\)\n$/);
      const real = await cli(['rollback', 'api', '-o', 'json', '--config', file]);
      assert.equal(real.code, 0, real.stderr);
      const r = JSON.parse(real.stdout) as { result: string; undoes: { id: number }; target: { replicas: number }; eventId: number };
      assert.deepEqual([r.result, r.undoes.id, r.target.replicas, r.eventId], ['ok', 1, 3, 3]);
      const h = await cli(['history', 'api', '--kind', 'rollback', '-o', 'json', '--config', file]);
      assert.deepEqual((JSON.parse(h.stdout) as StoreEvent[]).map((e) => e.result), ['dry-run', 'ok']);

      // while a controller holds the store's writer lock, the CLI changes and records nothing and names the way through
      // (another process: the lease knows its holder by pid)
      const sqlite = new URL('../../dist/store/sqlite.js', import.meta.url).href;
      const holder = spawn(process.execPath, ['--input-type=module', '-e', `
        const { SqliteStore } = await import(${JSON.stringify(sqlite)});
        const s = SqliteStore.open(${JSON.stringify(join(dir.path, 'state', 'events.db'))});
        const l = await s.lock();
        process.stdout.write('locked\\n');
        process.stdin.on('data', async () => { await l.release(); await s.close(); process.exit(0); });
      `], { stdio: ['pipe', 'pipe', 'inherit'] });
      try {
        await new Promise<void>((resolve, reject) => {
          holder.stdout!.on('data', (d) => { if (String(d).includes('locked')) resolve(); });
          holder.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
        });
        const refused = await cli(['rollback', 'api', '--config', file]);
        assert.equal(refused.code, 1, refused.stderr);
        assert.match(refused.stderr, /a running scalepilot run writes to this store \(pid \d+ on .*\); roll back through it.*POST http:\/\/127\.0\.0\.1:9464\/api\/v1\/services\/api\/rollback/);
        const check = SqliteStore.open(join(dir.path, 'state', 'events.db'));
        assert.equal((await check.history('api', 0, { kinds: ['rollback'] })).length, 2);
        await check.close();
      } finally {
        const exited = new Promise((r) => holder.once('exit', r));
        holder.stdin!.write('x');
        await exited;
      }
      // released: the CLI takes the lock itself, and gives it back
      const after = await cli(['rollback', 'api', '--dry-run', '--config', file]);
      assert.match(after.stderr, /nothing to roll back: api already runs 5 replicas/);
      const again = SqliteStore.open(join(dir.path, 'state', 'events.db'));
      await (await again.lock()).release();
      await again.close();
    } finally {
      dir.cleanup();
    }
  });
});
