// The dashboard in a real browser (Debian's Chromium) against a running controller on the local provider: the sample
// service behind the built-in proxy, CPU-scaled, under real load. The page shows the replicas change; a rollback
// without the token is refused on the page; with the token the service is paused, rolled back, and the replicas go
// back. Screenshots land in test-artifacts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseConfig } from '../../src/config/load.js';
import { startRuntime, type Runtime } from '../../src/controller/runtime.js';
import { sampleServicePath } from '../../src/controller/demo.js';
import { runLoadTest, type LoadTestResult } from '../../src/loadtest/engine.js';
import { loadTestReport } from '../../src/loadtest/report.js';
import { renderHtmlReport } from '../../src/report/html.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { freePort, freePortRange, requireBinary, sleep, tempDir } from '../helpers/env.js';

const TOKEN = 'e2e-dashboard-token';
const MAX = 4;
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

function configYaml(o: { listen: number; portBase: number; dir: string }): string {
  // a low CPU target and a fast scale-up make a modest load scale quickly; the long scale-down window keeps the
  // replicas up until the rollback takes them back
  return `
syncPeriod: 1s
store: sqlite:${join(o.dir, 'dashboard.db')}
sources:
  procs: { type: process }
services:
  web:
    target:
      provider: local
      command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(sampleServicePath())}]
      listen: 127.0.0.1:${o.listen}
      portBase: ${o.portBase}
      replicas: 1
      proxy: builtin
      healthPath: /healthz
      stateDir: ${JSON.stringify(join(o.dir, 'web'))}
    minReplicas: 1
    maxReplicas: ${MAX}
    drainTimeout: 2s
    resources: { requests: { cpu: 100m } }
    metrics:
      cpu: { source: procs, query: cpu, perPod: true }
    hpa:
      metrics:
        - type: Resource
          resource: { name: cpu, target: { type: Utilization, averageUtilization: 20 } }
      behavior:
        scaleUp: { stabilizationWindowSeconds: 0, policies: [ { type: Pods, value: 2, periodSeconds: 1 } ] }
        scaleDown: { stabilizationWindowSeconds: 600 }
`;
}

async function shot(page: Page, name: string, fullPage = true): Promise<string> {
  const path = join(ARTIFACTS, `dashboard-${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

async function until(what: string, timeoutMs: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Waits until the element's text satisfies `ok` (the page refreshes itself every few seconds). */
async function waitText(page: Page, selector: string, ok: (text: string) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  let last = '';
  try {
    await until(what, timeoutMs, async () => ok((last = await text(page, selector))));
  } catch (e) {
    throw new Error(`${(e as Error).message}; ${selector} last read "${last}"`);
  }
}

async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).textContent())?.trim() ?? '';
}

test('dashboard: live replicas under load, rollback refused without the token, rollback with it', { timeout: 150_000 }, async () => {
  const executablePath = requireBinary('/usr/bin/chromium', 'chromium');
  mkdirSync(ARTIFACTS, { recursive: true });
  const dir = tempDir('scalepilot-dashboard-');
  const reports = join(dir.path, 'reports');
  mkdirSync(reports);
  const listen = await freePort();
  const portBase = await freePortRange(10);
  const file = join(dir.path, 'scalepilot.yaml');
  const yaml = configYaml({ listen, portBase, dir: dir.path });
  writeFileSync(file, yaml);

  let rt: Runtime | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  const abort = new AbortController();
  let load: Promise<LoadTestResult> | undefined;
  const started = Date.now();
  try {
    rt = await startRuntime(parseConfig(yaml, file), { dryRun: false, stateDir: dir.path });
    // the first observe starts the replica; it serves before the loop and the load begin
    await rt.controller.syncOnce('web');
    rt.controller.start();
    server = await startServer({ runtime: rt, listen: '127.0.0.1:0', token: TOKEN, reportsDir: reports });
    const base = `http://${server.address}/`;

    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    // the page must not need the network: anything not from this server fails the test
    await context.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : (problems.push(`off-origin request ${route.request().url()}`), route.abort())));

    // 1. overview, then the service page at one replica
    await page.goto(base);
    await page.locator('tr[data-service="web"] .badge').waitFor();
    assert.equal(await text(page, 'tr[data-service="web"] td.replicas'), '1 (1 ready)');
    await shot(page, 'overview');
    await page.click('tr[data-service="web"] a');
    await waitText(page, '#current-replicas', (t) => t === '1', 'one replica on the page');

    // 2. load: ~0.2 cores on one replica is 200% of its 100m request against a 20% target → scale to the max
    load = runLoadTest(
      { url: `http://127.0.0.1:${listen}/work?ms=5`, model: 'open', profile: { start: 40, stages: [{ durationMs: 30_000, target: 40 }] }, maxConnections: 16, timeoutMs: 5_000 },
      { signal: abort.signal },
    );
    await waitText(page, '#current-replicas', (t) => Number(t) > 1, 'the page to show more than one replica', 30_000);
    await waitText(page, '#current-replicas', (t) => t === String(MAX), `the page to show ${MAX} replicas`, 30_000);
    abort.abort();
    const lt = await load;
    load = undefined;
    assert.ok(lt.requests > 50, `load was sent (${lt.requests} requests)`);
    // charts drawn from the store: values, replicas and decisions
    await until('three charts', 10_000, async () => (await page.locator('#charts .uplot').count()) === 3);
    const log = await page.locator('#decisions tbody tr').allTextContents();
    assert.ok(log.some((r) => /scale-up/.test(r) && /scale up 1 →/.test(r)), `decision log shows the scale-up: ${log.join(' | ')}`);
    await shot(page, 'scaled');
    const scaleUps = (await rt.store.history('web', 0, { kinds: ['scale'], results: ['ok'] })).filter((e) => e.toReplicas! > e.fromReplicas!);
    const lastChange = scaleUps[scaleUps.length - 1]!;

    // 3. rollback without a token: the page asks for one; sent empty, the server refuses and the page says so
    await page.click('#btn-rollback');
    await page.locator('#confirm-dialog[open]').waitFor();
    assert.match(await text(page, '#confirm-body'), new RegExp(`replicas ${MAX} → ${lastChange.fromReplicas}`));
    await shot(page, 'confirm-rollback', false);
    await page.click('#confirm-ok');
    await page.locator('#token-dialog[open]').waitFor();
    await shot(page, 'token-dialog', false);
    await page.click('#token-send');
    await waitText(page, '#steer-result', (t) => /Refused \(401\)/.test(t), 'the refusal on the page');
    assert.match(await text(page, '#steer-result'), /missing token/);
    assert.equal(await page.locator('#steer-result').getAttribute('class'), 'error');
    await shot(page, 'refused');
    // a wrong token is refused the same way, and forgotten
    await page.click('#btn-pause');
    await page.locator('#token-dialog[open]').waitFor();
    await page.fill('#token-input', 'not-the-token');
    await page.click('#token-send');
    await waitText(page, '#steer-result', (t) => /Refused \(401\): wrong token/.test(t), 'the wrong-token refusal');
    assert.equal(await text(page, '#token-state'), 'No steering token');
    assert.equal(rt.controller.isPaused('web'), false);
    assert.equal((await rt.controller.provider('web')!.observe(rt.controller.policy('web')!.target)).replicas, MAX, 'refusals changed nothing');

    // 4. with the token: pause (so the controller holds what the rollback restores), then roll back
    await page.click('#btn-pause');
    await page.locator('#token-dialog[open]').waitFor();
    await page.fill('#token-input', TOKEN);
    await page.click('#token-send');
    await page.locator('#paused-tag').waitFor();
    assert.equal(rt.controller.isPaused('web'), true);
    assert.equal(await text(page, '#token-state'), 'Steering token set (this tab)');
    await page.click('#btn-rollback');
    await page.locator('#confirm-dialog[open]').waitFor();
    await page.click('#confirm-ok');
    await waitText(page, '#steer-result', (t) => /rolled back to before event #\d+ .*by dashboard/.test(t), 'the rollback on the page', 30_000);
    assert.equal(await page.locator('#steer-result').getAttribute('class'), 'ok');
    await waitText(page, '#current-replicas', (t) => t === String(lastChange.fromReplicas), 'the replicas to go back', 20_000);
    await page.locator('#events tbody tr[data-kind="rollback"]').waitFor();
    const [rollback] = await rt.store.history('web', 0, { kinds: ['rollback'] });
    assert.deepEqual([rollback?.fromReplicas, rollback?.toReplicas, rollback?.result], [MAX, lastChange.fromReplicas, 'ok']);
    assert.equal((await rt.controller.provider('web')!.observe(rt.controller.policy('web')!.target)).replicas, lastChange.fromReplicas);
    await shot(page, 'rolled-back');

    // 5. the stored load-test report is listed and opens offline with its charts
    writeFileSync(join(reports, 'dashboard-load.json'), JSON.stringify(lt));
    writeFileSync(join(reports, 'dashboard-load.html'), renderHtmlReport(loadTestReport(lt)));
    await page.click('a[data-nav="reports"]');
    await page.locator('tr[data-report="dashboard-load"]').waitFor();
    assert.match(await text(page, 'tr[data-report="dashboard-load"]'), /load test of .*loadtest/);
    await shot(page, 'reports');
    const [report] = await Promise.all([context.waitForEvent('page'), page.click('tr[data-report="dashboard-load"] td:first-child a')]);
    await report.waitForSelector('body[data-charts-rendered]', { timeout: 10_000 });
    await report.close();

    // Chromium logs every non-2xx fetch; the two refusals above are the only ones expected
    const refusals = problems.filter((p) => /status of 401/.test(p));
    assert.equal(refusals.length, 2, problems.join('\n'));
    assert.deepEqual(problems.filter((p) => !refusals.includes(p)), [], 'no other console errors, CSP violations or off-origin requests');
    assert.ok(Date.now() - started < 120_000, `took ${Date.now() - started} ms`);
  } finally {
    abort.abort();
    await load?.catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.close().catch(() => undefined);
    await rt?.close({ stopReplicas: true }).catch(() => undefined);
    dir.cleanup();
  }
});
