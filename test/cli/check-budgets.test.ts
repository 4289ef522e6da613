// `scalepilot check` shows shared budget use: OK below the usable part, SOON at it (no service can grow), IMMEDIATE
// over the limit itself (exit 1), UNKNOWN when a sharing service's replicas are not known.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { register } from '../../src/cli/check.js';
import { tempDir } from '../helpers/env.js';
import { runCommand } from '../fixtures/capacity-report/run-command.js';

describe('check: shared budgets', () => {
  const dir = tempDir();
  after(() => dir.cleanup());
  const cfg = join(dir.path, 'c.yaml');
  writeFileSync(cfg, `
budgets: { maindb: { limit: 500, headroom: 30%, reserved: 10 } }
services:
  api: { target: { provider: dryrun }, maxReplicas: 20, uses: { maindb: 20 } }
  worker: { target: { provider: dryrun }, maxReplicas: 40, uses: { maindb: 10 } }
`);
  const values = (api: number | undefined, worker: number) => {
    const f = join(dir.path, `v-${api}-${worker}.json`);
    writeFileSync(f, JSON.stringify({ time: '2025-06-01T12:00:00Z', services: { ...(api !== undefined ? { api: { replicas: api, metrics: {} } } : {}), worker: { replicas: worker, metrics: {} } } }));
    return f;
  };
  const cases: Array<{ api: number | undefined; worker: number; status: string; code: number; reason?: RegExp }> = [
    { api: 5, worker: 10, status: 'OK', code: 0 },
    // 9 × 20 + 16 × 10 + 10 = 350 = 500 less 30%
    { api: 9, worker: 16, status: 'SOON', code: 0, reason: /^maindb: 350 connections held \(api 9 × 20 \+ worker 16 × 10 \+ 10 reserved\) of 350 usable \(the 500 limit less 30% headroom\): no service using it can grow; plan a pooler such as PgBouncer/ },
    { api: 20, worker: 20, status: 'IMMEDIATE', code: 1, reason: /over the 500 limit itself/ },
    { api: undefined, worker: 3, status: 'UNKNOWN', code: 0, reason: /replicas of api are not known/ },
  ];
  for (const c of cases) {
    it(`api ${c.api ?? '?'} + worker ${c.worker} → ${c.status}`, async () => {
      const r = await runCommand(register, ['check', '-c', cfg, '--values', values(c.api, c.worker), '-o', 'json']);
      assert.equal(r.code, c.code, r.stderr + r.stdout);
      const out = JSON.parse(r.stdout) as { budgets: Array<{ budget: string; status: string; reason: string; used: number }> };
      assert.equal(out.budgets[0]!.status, c.status, out.budgets[0]!.reason);
      if (c.reason) assert.match(out.budgets[0]!.reason, c.reason);
    });
  }
  it('the table shows the budget', async () => {
    const r = await runCommand(register, ['check', '-c', cfg, '--values', values(9, 16)]);
    assert.match(r.stdout, /BUDGET\s+STATUS\s+USED\s+USABLE\s+LIMIT\s+BY SERVICE\n\s*maindb\s+SOON\s+350\s+350\s+500\s+api 180, worker 160/);
  });
});
