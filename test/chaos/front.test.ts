// The front proxy is supervised: killing the nginx master (kill -9, which leaves its worker serving the old upstream
// list) gets the front restarted with the current replicas, so a replica added afterwards takes traffic; while the
// front cannot be restarted the service is DEGRADED in the API and /metrics says so, and it recovers by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, requireBinary, tempDir, freePortRange } from '../helpers/env.js';
import { processAlive } from '../../src/providers/local/proc.js';
import { get, killLeftovers, leftovers, localConfig, metricValue, NGINX, nginxProcesses, readState, readyPids, startRun, until, type RunProcess } from './helpers.js';

test('kill -9 of the nginx master: orphan workers stopped, front restarted with the current replicas; DEGRADED while it cannot be', { timeout: 150_000 }, async (t) => {
  requireBinary(NGINX, 'nginx');
  const dir = tempDir();
  const marker = `front-${process.pid}-${Date.now()}`;
  const stateDir = join(dir.path, 'state');
  const listen = await freePort();
  const api = await freePort();
  const portBase = await freePortRange(4);
  // the real nginx, behind a switch that makes it fail to start (a broken binary or config on the host)
  const broken = join(dir.path, 'nginx-broken');
  const nginxPath = join(dir.path, 'nginx');
  writeFileSync(nginxPath, `#!/bin/sh\nif [ -e ${JSON.stringify(broken)} ]; then echo "nginx: [emerg] broken for the test" >&2; exit 1; fi\nexec ${NGINX} "$@"\n`);
  chmodSync(nginxPath, 0o755);
  const file = join(dir.path, 'scalepilot.yaml');
  const config = (replicas: number) => localConfig(dir.path, { web: { listen, portBase, replicas, proxy: 'nginx', nginxPath, marker } });
  writeFileSync(file, config(2));
  const front = `http://127.0.0.1:${listen}/`;
  const pgids = new Set<number>();
  let run: RunProcess | undefined;
  try {
    run = startRun(['-c', file, '--state-dir', stateDir, '--listen', `127.0.0.1:${api}`]);
    const r = run;
    await until('run serves with 2 replicas', 30_000, async () => (await get(front))?.status === 200 && readyPids(readState(stateDir, 'web')).length === 2, () => r.out());
    // the front answers once nginx listens; its workers may still be starting (renaming themselves) just then
    let first = nginxProcesses(stateDir, 'web');
    await until('nginx master and workers found', 5_000, () => {
      first = nginxProcesses(stateDir, 'web');
      return Boolean(first.master && first.workers.length);
    });
    assert.ok(first.master && first.workers.length, 'nginx master and workers found');
    pgids.add(first.master);

    // 1. kill -9 the master: its worker is orphaned, still listening with the old upstreams
    process.kill(first.master, 'SIGKILL');
    await until('a new nginx replaced the killed one, and no process of the old one is left', 20_000, () => {
      const now = nginxProcesses(stateDir, 'web');
      if (now.master) pgids.add(now.master);
      return now.master !== undefined && now.master !== first.master && first.workers.every((w) => !processAlive(w));
    }, () => r.out());
    // the log line follows the new master's start
    await until('the restart is logged', 5_000, () => r.lines().some((l) => l.event === 'front-restarted' && l.service === 'web'), () => r.out());

    // 2. a replica added now (config reload to 3) takes traffic through the restarted front
    writeFileSync(file, config(3));
    await until('a third replica runs', 30_000, () => readyPids(readState(stateDir, 'web')).length === 3, () => r.out());
    const ports = new Set<string>();
    await until('the new replica answers through the front', 20_000, async () => {
      ports.add(/port=(\d+)/.exec((await get(front))?.body ?? '')?.[1] ?? '');
      return ports.has(String(portBase + 2));
    }, () => r.out());

    // 3. the front dies and cannot come back: DEGRADED in the API, 1 in /metrics, and counted
    writeFileSync(broken, '');
    const second = nginxProcesses(stateDir, 'web');
    process.kill(second.master!, 'SIGKILL');
    const status = async () => ((await get(`http://127.0.0.1:${api}/api/v1/services/web`)) ?? { body: '{}' }).body;
    await until('the service shows DEGRADED', 20_000, async () => JSON.parse(await status()).status === 'DEGRADED', () => r.out());
    const summary = JSON.parse(await status()) as { statusReasons: string[]; alerts: Array<{ kind: string; severity: string; message: string }> };
    assert.match(summary.statusReasons.join(' '), /front proxy: nginx master is not running.*restart failed/);
    const degradedAlert = summary.alerts.find((a) => a.kind === 'target-degraded');
    assert.equal(degradedAlert?.severity, 'critical', JSON.stringify(summary.alerts));
    assert.match(degradedAlert!.message, /web is degraded besides its replicas: front proxy: nginx master is not running.*restart failed/);
    const metrics = (await get(`http://127.0.0.1:${api}/metrics`))!.body;
    assert.equal(metricValue(metrics, 'scalepilot_target_degraded', { service: 'web' }), 1, metrics);
    assert.ok((metricValue(metrics, 'scalepilot_provider_events_total', { service: 'web', event: 'front-restart-failed' }) ?? 0) >= 1);
    assert.ok(second.workers.every((w) => !processAlive(w)), 'the orphan worker of the dead master was stopped even though no new front could start');

    // 4. fixed on the host: the next sync restarts the front and the status recovers
    rmSync(broken);
    await until('the front serves and the service is no longer DEGRADED', 20_000, async () => (await get(front))?.status === 200 && JSON.parse(await status()).status !== 'DEGRADED', () => r.out());
    assert.ok(!(JSON.parse(await status()) as { alerts: Array<{ kind: string }> }).alerts.some((a) => a.kind === 'target-degraded'), 'the alert clears with the front');
    const third = nginxProcesses(stateDir, 'web').master;
    if (third) pgids.add(third);
    await until('/metrics shows the target not degraded', 10_000, async () => metricValue((await get(`http://127.0.0.1:${api}/metrics`))!.body, 'scalepilot_target_degraded', { service: 'web' }) === 0);

    run.child.kill('SIGTERM');
    assert.equal((await run.exited).code, 0, run.out());
    const left = leftovers(marker, dir.path, pgids);
    t.diagnostic(`processes left after the clean stop: ${left.length}`);
    assert.deepEqual(left, []);
  } finally {
    if (run && run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    killLeftovers(marker, dir.path, pgids);
    dir.cleanup();
  }
});
