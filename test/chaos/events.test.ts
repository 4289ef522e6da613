// Provider events under `run`: a replica whose command cannot run (ENOENT) and a replica killed with -9 are logged
// (pino lines naming the service and the event) and counted on /metrics, not silently retried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir, freePortRange } from '../helpers/env.js';
import { get, killLeftovers, leftovers, localConfig, metricValue, readState, startRun, until, type RunProcess } from './helpers.js';

test('a replica that cannot start (ENOENT) and one killed with -9 are logged and counted', { timeout: 90_000 }, async (t) => {
  const dir = tempDir();
  const marker = `events-${process.pid}-${Date.now()}`;
  const stateDir = join(dir.path, 'state');
  const api = await freePort();
  const file = join(dir.path, 'scalepilot.yaml');
  writeFileSync(file, localConfig(dir.path, {
    web: { listen: await freePort(), portBase: await freePortRange(2), replicas: 1, proxy: 'builtin', marker },
    broken: { listen: await freePort(), portBase: await freePortRange(2), replicas: 1, proxy: 'builtin', marker, command: [join(dir.path, 'no-such-command')] },
  }));
  let run: RunProcess | undefined;
  try {
    run = startRun(['-c', file, '--state-dir', stateDir, '--listen', `127.0.0.1:${api}`]);
    const r = run;
    const event = (service: string, kind: string) => r.lines().find((l) => l.service === service && l.event === kind);
    await until('the ENOENT start failure is logged', 30_000, () => event('broken', 'replica-start-failed') !== undefined, () => r.out());
    const failed = event('broken', 'replica-start-failed')!;
    assert.match(String(failed.msg), /ENOENT.*check services\.broken\.target\.command/);
    assert.equal(failed.level, 50, 'logged as an error');

    await until('web runs a ready replica', 30_000, () => readState(stateDir, 'web')?.pods[0]?.ready === true && event('web', 'replica-started') !== undefined, () => r.out());
    const pid = readState(stateDir, 'web')!.pods[0]!.pid!;
    process.kill(pid, 'SIGKILL');
    await until('the crash is logged', 20_000, () => event('web', 'replica-crashed') !== undefined, () => r.out());
    assert.match(String(event('web', 'replica-crashed')!.msg), /web-0 exited unexpectedly with SIGKILL/);
    await until('the crashed replica is restarted', 20_000, () => event('web', 'replica-started') !== undefined && r.lines().filter((l) => l.event === 'replica-started' && l.service === 'web').length >= 2, () => r.out());

    const metrics = (await get(`http://127.0.0.1:${api}/metrics`))!.body;
    const count = (service: string, e: string) => metricValue(metrics, 'scalepilot_provider_events_total', { service, event: e }) ?? 0;
    assert.ok(count('broken', 'replica-start-failed') >= 1, metrics);
    assert.equal(count('web', 'replica-crashed'), 1, metrics);
    assert.ok(count('web', 'replica-started') >= 2, metrics);

    run.child.kill('SIGTERM');
    assert.equal((await run.exited).code, 0, run.out());
    const left = leftovers(marker, dir.path, []);
    t.diagnostic(`processes left after the clean stop: ${left.length}`);
    assert.deepEqual(left, []);
  } finally {
    if (run && run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    killLeftovers(marker, dir.path, []);
    dir.cleanup();
  }
});
