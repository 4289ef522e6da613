// The dashboard's shared budgets: two dry-run services holding a budget are shown with their use (binding when at
// the usable part), in chromium, from this server only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { parseConfig } from '../../src/config/load.js';
import { startRuntime, type Runtime } from '../../src/controller/runtime.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { requireBinary, tempDir } from '../helpers/env.js';

test('dashboard: shared budget use, binding', { timeout: 90_000 }, async () => {
  const executablePath = requireBinary('/usr/bin/chromium', 'chromium');
  const dir = tempDir('scalepilot-dashboard-budgets-');
  const file = join(dir.path, 'scalepilot.yaml');
  // a trace source gives fixed metric values; api asks for 10 replicas of the 8 that fit beside the worker
  const trace = join(dir.path, 'trace.csv');
  const t0 = Math.floor(Date.now() / 1000) - 600;
  writeFileSync(trace, ['t_seconds,api,worker', ...Array.from({ length: 40 }, (_, i) => `${t0 + i * 60},200,10`)].join('\n') + '\n');
  const yaml = `
store: sqlite:${join(dir.path, 'sp.db')}
sources: { t: { type: trace, file: ${JSON.stringify(trace)} } }
budgets: { maindb: { limit: 100, headroom: 20% } }
services:
  api:
    target: { provider: dryrun, replicas: 2 }
    maxReplicas: 20
    uses: { maindb: 8 }
    metrics: { rps: { source: t, query: api } }
    hpa:
      metrics: [ { type: External, external: { metric: { name: rps }, target: { type: AverageValue, averageValue: "10" } } } ]
      behavior: { scaleUp: { policies: [ { type: Percent, value: 1000, periodSeconds: 15 } ] } }
  worker:
    target: { provider: dryrun, replicas: 2 }
    maxReplicas: 20
    uses: { maindb: 4 }
    metrics: { rps: { source: t, query: worker } }
    hpa: { metrics: [ { type: External, external: { metric: { name: rps }, target: { type: AverageValue, averageValue: "10" } } } ] }
`;
  writeFileSync(file, yaml);
  let rt: Runtime | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  try {
    rt = await startRuntime(parseConfig(yaml, file), { dryRun: false, stateDir: dir.path });
    await rt.controller.syncOnce('worker');
    const api = await rt.controller.syncOnce('api');
    // 80 usable, the worker holds 2 × 4 = 8 (it wants 1): 72 / 8 = 9
    assert.equal(api.decision?.desiredReplicas, 9, api.decision?.reason);
    server = await startServer({ runtime: rt, listen: '127.0.0.1:0' });
    const base = `http://${server.address}/`;
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await context.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : (problems.push(`off-origin ${route.request().url()}`), route.abort())));
    await page.goto(base);
    const row = page.locator('#budgets tr[data-budget="maindb"]');
    await row.waitFor({ timeout: 15_000 });
    const cells = await row.locator('td').allTextContents();
    assert.deepEqual(cells.map((c) => c.trim()), ['maindb', '80 connections', '80', '100', '100%', 'api 9 × 8, worker 2 × 4']);
    assert.equal(await row.getAttribute('class'), 'binding');
    const json = (await (await fetch(`${base}api/v1/budgets`)).json()) as { budgets: Array<{ used: number }>; verifications: unknown[] };
    assert.equal(json.budgets[0]!.used, 80);
    assert.deepEqual(json.verifications, []);
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await server?.close();
    await rt?.close();
    dir.cleanup();
  }
});
