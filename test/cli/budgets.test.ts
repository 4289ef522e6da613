// Shared budgets in `scalepilot check` (OK below the usable part, SOON at it: no service can grow, IMMEDIATE over the
// limit itself with exit 1, UNKNOWN when a sharing service's replicas are not known) and in `plan` (the ceiling).
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { register } from '../../src/cli/check.js';
import { register as planRegister } from '../../src/cli/plan.js';
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

describe('plan: the replica ceiling a shared budget puts on the planned service', () => {
  const dir = tempDir();
  after(() => dir.cleanup());
  const cfg = join(dir.path, 'c.yaml');
  writeFileSync(cfg, `
budgets: { maindb: { limit: 500, headroom: 30%, reserved: 10 } }
services:
  api: { target: { provider: dryrun }, maxReplicas: 40, uses: { maindb: 20 } }
  worker: { target: { provider: dryrun }, minReplicas: 2, maxReplicas: 40, uses: { maindb: 10 } }
`);
  it('350 usable less the worker\'s floor (2 × 10) and 10 reserved leave 16 api replicas; the projection says when more are needed', async () => {
    const r = await runCommand(planRegister, ['plan', '-c', cfg, '-s', 'api', '--users', '1000', '--rps', '500', '--growth', '1.5', '--months', '6', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { budgets: Array<{ budget: string; ceiling: number; month: number | null; text: string }>; months: Array<{ month: number; instances: number }> };
    const b = out.budgets[0]!;
    assert.equal(b.ceiling, 16);
    const first = out.months.find((m) => m.instances > 16)!;
    assert.equal(b.month, first.month);
    assert.match(b.text, /^budget maindb: at 20 per replica, with the other services at their minReplicas \(30 held\) api fits at most 16 replicas of 350 usable \(the 500 limit less 30% headroom\); more is needed from month \d/);
    const table = await runCommand(planRegister, ['plan', '-c', cfg, '-s', 'api', '--users', '1000', '--rps', '500', '--growth', '1.5', '--months', '6']);
    assert.match(table.stdout, /budget maindb: at 20 per replica/);
  });
});
