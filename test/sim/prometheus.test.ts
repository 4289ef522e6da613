// Replaying traffic straight from a real Prometheus (a private instance scraping a test endpoint): the range is
// read with query_range, and a scrape outage shows up as a reported gap, never as filled-in values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, sleep, tempDir } from '../helpers/env.js';
import { startPrometheus } from '../helpers/services.js';
import { runSimulation } from '../../src/sim/run.js';

test('simulate --prom-url: a live range with a scrape outage becomes a trace with a gap', { timeout: 90_000 }, async () => {
  // scrapes 1-5 see 100 rps, 6-9 fail (the target is down), then 400 rps
  let scrapes = 0;
  let firstScrape = 0;
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') { res.writeHead(404).end(); return; }
    scrapes++;
    if (scrapes === 1) firstScrape = Date.now();
    if (scrapes > 5 && scrapes <= 9) { res.writeHead(503).end('down'); return; }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE demo_requests_per_second gauge\ndemo_requests_per_second ${scrapes <= 5 ? 100 : 400}\n`);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const prom = await startPrometheus({ scrapeTargets: [`127.0.0.1:${port}`], scrapeInterval: '1s' });
  const dir = tempDir();
  try {
    const deadline = Date.now() + 45_000;
    while (scrapes < 14 && Date.now() < deadline) await sleep(200);
    assert.ok(scrapes >= 14, `only ${scrapes} scrapes happened`);
    await sleep(1500); // the last scrape is in the TSDB
    writeFileSync(join(dir.path, 'web.yaml'), `
sources:
  prom: { type: prometheus, url: "${prom.url}" }
services:
  web:
    target: { provider: dryrun }
    minReplicas: 1
    maxReplicas: 10
    metrics:
      rps: { source: prom, query: "demo_requests_per_second", perPod: true }
    hpa:
      metrics:
        - type: Pods
          pods: { metric: { name: rps }, target: { type: AverageValue, averageValue: "100" } }
    capacity: { rpsPerReplica: 100, startupDelay: 0s }
`);
    const report = await runSimulation({
      configFile: join(dir.path, 'web.yaml'),
      trace: { kind: 'prometheus', url: prom.url, query: 'demo_requests_per_second', start: firstScrape - 1000, end: Date.now(), stepMs: 1000 },
      stepMs: 1000,
      workers: 1,
      timeline: true,
    });
    const web = report.services[0]!;
    const t = web.trace;
    assert.ok(t.samples >= 8, `samples: ${t.samples}`);
    assert.equal(t.intervalMs, 1000, JSON.stringify(t));
    assert.ok(t.gaps.length >= 1, `the outage is a gap: ${JSON.stringify(t)}`);
    assert.ok(t.noDataSteps >= 2, `no-data steps: ${JSON.stringify(t)}`);
    const values = [...web.load!.values].filter((v) => !Number.isNaN(v));
    assert.deepEqual([...new Set(values)].sort((a, b) => a - b), [100, 400], JSON.stringify(values));
    const r = web.results[0]!;
    assert.equal(r.score.noDataSteps, t.noDataSteps);
    // 400 rps at 100 per replica: the HPA scales up once the data comes back
    assert.ok(r.score.peakReplicas >= 4, `peak ${r.score.peakReplicas}`);
    assert.match(report.trace, /demo_requests_per_second/);
  } finally {
    dir.cleanup();
    await prom.stop();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
