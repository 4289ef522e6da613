// The API under hostile requests and a hostile reports directory: symlinks never leave the directory (with or
// without a token), FIFOs never hang a request, and a Host header naming someone else's domain (DNS rebinding)
// is refused on every route, over real HTTP as well as inject.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { apiFixture } from '../server/helpers.js';
import { startServer } from '../../src/server/server.js';
import { hostAllowed } from '../../src/server/auth.js';
import { tempDir } from '../helpers/env.js';

test('reports: a symlink to /etc/passwd or to a file outside the directory is neither listed nor served', async () => {
  const outside = tempDir();
  const f0 = await apiFixture();
  const dir = join(f0.dir, 'reports');
  await f0.close();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(outside.path, 'secret.json'), JSON.stringify({ secret: 'outside' }));
  writeFileSync(join(dir, 'real.json'), JSON.stringify({ services: [], trace: 't.csv', config: 'c.yaml' }));
  symlinkSync('/etc/passwd', join(dir, 'leak.json'));
  symlinkSync(join(outside.path, 'secret.json'), join(dir, 'secret.json'));
  symlinkSync('real.json', join(dir, 'alias.json')); // even a link that stays inside is not a report file
  execFileSync('mkfifo', [join(dir, 'pipe.json')]);
  const f = await apiFixture({ server: { reportsDir: dir, token: 't0k3n' } });
  try {
    const list = await f.app.inject({ url: '/api/v1/reports' });
    assert.equal(list.statusCode, 200);
    const names = (list.json().reports as Array<{ name: string }>).map((r) => r.name);
    assert.deepEqual(names, ['real']);
    for (const auth of [{}, { authorization: 'Bearer t0k3n' }]) {
      for (const file of ['leak.json', 'secret.json', 'alias.json', 'pipe.json']) {
        const r = await f.app.inject({ url: `/api/v1/reports/${file}`, headers: auth });
        assert.equal(r.statusCode, 404, `${file}: ${r.body.slice(0, 200)}`);
        assert.doesNotMatch(r.body, /root:|outside/);
      }
    }
    const ok = await f.app.inject({ url: '/api/v1/reports/real.json' });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().trace, 't.csv');
  } finally {
    await f.close();
    outside.cleanup();
  }
});

test('Host check: names are refused unless localhost, the listen host or allowed; IP literals always pass', () => {
  assert.equal(hostAllowed('127.0.0.1:9464', '127.0.0.1', []), true);
  assert.equal(hostAllowed('[::1]:9464', '127.0.0.1', []), true);
  assert.equal(hostAllowed('localhost:9464', '127.0.0.1', []), true);
  assert.equal(hostAllowed('LOCALHOST.', '127.0.0.1', []), true);
  assert.equal(hostAllowed(undefined, '127.0.0.1', []), true);
  assert.equal(hostAllowed('evil.example:9464', '127.0.0.1', []), false);
  assert.equal(hostAllowed('localhost.evil.example', '127.0.0.1', []), false);
  assert.equal(hostAllowed('127.0.0.1.evil.example', '127.0.0.1', []), false);
  assert.equal(hostAllowed('scalepilot.internal:9464', '127.0.0.1', ['scalepilot.internal']), true);
  assert.equal(hostAllowed('a.corp.example', '127.0.0.1', ['*.corp.example']), true);
  assert.equal(hostAllowed('corp.example', '127.0.0.1', ['*.corp.example']), false);
  assert.equal(hostAllowed('evilcorp.example', '127.0.0.1', ['*.corp.example']), false);
  assert.equal(hostAllowed('ctl.example:9464', 'ctl.example', []), true);
  assert.equal(hostAllowed('anything', '127.0.0.1', ['*']), true);
});

test('Host check: a rebinding Host is refused on the API, /metrics and the dashboard; allowed names pass', async () => {
  const f = await apiFixture({ server: { allowedHosts: ['scalepilot.internal'] } });
  try {
    for (const url of ['/api/v1/services', '/metrics', '/', '/healthz', '/api/v1/reports/x.json']) {
      const bad = await f.app.inject({ url, headers: { host: 'attacker.example:9464' } });
      assert.equal(bad.statusCode, 403, `${url}: ${bad.statusCode}`);
      assert.match(bad.json().error, /server\.allowedHosts/);
    }
    for (const host of ['localhost:9464', '127.0.0.1:9464', 'scalepilot.internal:9464']) {
      const ok = await f.app.inject({ url: '/api/v1/services', headers: { host } });
      assert.equal(ok.statusCode, 200, host);
    }
  } finally {
    await f.close();
  }
});

test('Host check over real HTTP, with server.allowedHosts read from the config', async () => {
  const f = await apiFixture();
  // the fixture's config has no allowedHosts: a name is refused, the IP literal passes
  const s = await startServer({ runtime: f.rt, listen: '127.0.0.1:0' });
  try {
    const get = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const [h, p] = s.address.split(':');
        const req = request({ host: h, port: Number(p), path: '/api/v1/server', headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.once('error', reject);
        req.end();
      });
    assert.equal(await get('rebind.attacker.example'), 403);
    assert.equal(await get(s.address), 200);
    assert.equal(await get(`localhost:${s.address.split(':')[1]}`), 200);
  } finally {
    await s.close();
    await f.close();
  }
});
