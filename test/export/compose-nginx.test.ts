// Compose override and nginx upstream exports; the upstream is checked by the real `nginx -t`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { composeCpus, composeMemory, exportCompose } from '../../src/export/compose.js';
import { exportNginx, renderUpstream, type NginxUpstream } from '../../src/export/nginx.js';
import { toYamlDocuments } from '../../src/export/types.js';
import { requireBinary, tempDir } from '../helpers/env.js';

const config = loadConfig(fileURLToPath(new URL('../fixtures/export/scalepilot.yaml', import.meta.url)));
const all = Object.values(config.services);

test('compose units: binary memory units when exact, bytes otherwise; cpus as decimal cores', () => {
  const mem: Array<[number, string]> = [[2 ** 30, '1G'], [768 * 2 ** 20, '768M'], [1536 * 2 ** 20, '1536M'], [64 * 1024, '64K'], [500e6, '500000000b'], [1, '1b']];
  for (const [bytes, want] of mem) assert.equal(composeMemory(bytes), want, String(bytes));
  const cpu: Array<[number, string]> = [[0.5, '0.5'], [0.25, '0.25'], [2, '2'], [0.1 + 0.2, '0.3'], [1 / 3, '0.333333']];
  for (const [cores, want] of cpu) assert.equal(composeCpus(cores), want, String(cores));
});

test('compose override: replicas, limits and reservations per Compose service', () => {
  const r = exportCompose(all);
  assert.equal(r.objects.length, 1);
  // through YAML and back, as `docker compose -f` reads it
  const doc = parse(toYamlDocuments([r.objects[0]!.object]));
  assert.deepEqual(doc, {
    services: {
      api: { deploy: { replicas: 2, resources: { limits: { memory: '1G' }, reservations: { cpus: '0.5', memory: '512M' } } } },
      worker: { deploy: { replicas: 0, resources: { limits: { cpus: '1', memory: '768M' }, reservations: { cpus: '0.25', memory: '256M' } } } },
      web: { deploy: { replicas: 1, resources: { reservations: { cpus: '0.5' } } } },
    },
  });
  assert.ok(r.warnings.some((w) => /services\.api\.target uses the kubernetes provider/.test(w)));
  assert.ok(!r.warnings.some((w) => /services\.worker\.target/.test(w)), 'worker is a compose target');
});

test('compose override: --replicas is kept within min..max', () => {
  const r = exportCompose([config.services.web!, config.services.worker!], { replicas: 7 });
  const s = (r.objects[0]!.object as { services: Record<string, { deploy: { replicas: number } }> }).services;
  assert.deepEqual([s.web!.deploy.replicas, s.worker!.deploy.replicas], [4, 7]);
  assert.ok(r.warnings.some((w) => /services\.web: --replicas 7 is outside 1\.\.4; using 4/.test(w)));
});

test('nginx upstream: local replica ports and the compose service name', () => {
  const r = exportNginx(all, { port: 8080 });
  const ups = r.objects.map((o) => o.object as unknown as NginxUpstream);
  assert.deepEqual(ups.map((u) => [u.name, u.servers.map((s) => s.address)]), [
    ['worker', ['worker:8080']],
    ['web', ['127.0.0.1:18001', '127.0.0.1:18002', '127.0.0.1:18003', '127.0.0.1:18004']],
  ]);
  assert.ok(r.warnings.some((w) => /services\.api uses the kubernetes provider/.test(w)));
  const noPort = exportNginx([config.services.worker!]);
  assert.deepEqual(noPort.objects, []);
  assert.ok(noPort.warnings.some((w) => /services\.worker: the Compose container port is unknown; pass --port/.test(w)));
  const two = exportNginx([config.services.web!], { replicas: 2, maxFails: 5, failTimeout: 20 }).objects[0]!.object as unknown as NginxUpstream;
  assert.equal(renderUpstream(two), [
    '# scalepilot: web: local replicas on ports 18001..18002; slots without a running replica are skipped after max_fails',
    'upstream web {',
    '    least_conn;',
    '    server 127.0.0.1:18001 max_fails=5 fail_timeout=20s;',
    '    server 127.0.0.1:18002 max_fails=5 fail_timeout=20s;',
    '    keepalive 32;',
    '}',
    '',
  ].join('\n'));
  const none = exportNginx([config.services.web!], { replicas: 0 });
  assert.deepEqual(none.objects, []);
  assert.ok(none.warnings.some((w) => /at least one replica slot/.test(w)));
});

test('nginx -t accepts the upstream block in a real configuration', () => {
  const nginx = requireBinary('/usr/sbin/nginx', 'nginx');
  const c = parseConfig(`sources: {}
services:
  web:
    target: { provider: local, command: [node, s.mjs], listen: '127.0.0.1:8080', portBase: 18001 }
    maxReplicas: 3
  api-v2:
    target: { provider: local, command: [node, s.mjs], listen: '127.0.0.1:8090', portBase: 19001 }
    maxReplicas: 2
`);
  const ups = exportNginx(Object.values(c.services)).objects.map((o) => renderUpstream(o.object as unknown as NginxUpstream));
  const dir = tempDir();
  try {
    mkdirSync(join(dir.path, 'logs'));
    const conf = join(dir.path, 'nginx.conf');
    const write = (upstreams: string[]) => writeFileSync(conf, [
      `pid ${join(dir.path, 'nginx.pid')};`,
      `error_log ${join(dir.path, 'logs', 'error.log')};`,
      'events {}',
      'http {',
      `  access_log off; client_body_temp_path ${dir.path}; proxy_temp_path ${dir.path}; fastcgi_temp_path ${dir.path}; uwsgi_temp_path ${dir.path}; scgi_temp_path ${dir.path};`,
      ...upstreams,
      '  server { listen 127.0.0.1:1; location / { proxy_pass http://web; proxy_http_version 1.1; proxy_set_header Connection ""; } location /v2 { proxy_pass http://api_v2; } }',
      '}',
      '',
    ].join('\n'));
    const check = () => spawnSync(nginx, ['-t', '-q', '-p', dir.path, '-c', conf], { encoding: 'utf8', timeout: 20_000 });
    write(ups);
    const ok = check();
    assert.equal(ok.status, 0, ok.stderr);
    // and the same check fails without the upstreams the server block names
    write([]);
    const bad = check();
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /host not found in upstream|no live upstreams|invalid/);
  } finally {
    dir.cleanup();
  }
});
