// createProvider and parseTargetSpec: the right provider per kind, and bad targets rejected before anything runs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkTarget, createProvider, parseTargetSpec, PROVIDER_KINDS } from '../../src/providers/index.js';
import { ProviderSpecError } from '../../src/providers/spec.js';
import { InputError } from '../../src/cli/output.js';

describe('parseTargetSpec', () => {
  const good: Record<string, Record<string, unknown>> = {
    local: { command: ['node', 'server.mjs'], listen: '127.0.0.1:8080', portBase: 18001 },
    compose: { project: 'shop', file: 'compose.yaml' },
    kubernetes: { name: 'web', namespace: 'shop' },
    dryrun: { replicas: 3 },
  };
  for (const kind of PROVIDER_KINDS) {
    it(`routes ${kind} to its own parse step`, () => {
      const s = parseTargetSpec({ provider: kind, ...good[kind] }, 'services.api.target');
      assert.equal(s.provider, kind);
      // A field that belongs to another provider is rejected by this one, naming the path.
      const foreign = kind === 'compose' ? { portBase: 1 } : { project: 'x' };
      assert.throws(() => parseTargetSpec({ provider: kind, ...good[kind], ...foreign }, 'services.api.target'), (e: unknown) => {
        assert.ok(e instanceof ProviderSpecError);
        assert.ok(e instanceof InputError, 'bad input exits 2');
        assert.equal(e.path, `services.api.target.${Object.keys(foreign)[0]}`);
        return true;
      });
    });
  }
  it('requires a known provider', () => {
    assert.throws(() => parseTargetSpec({ name: 'web' }, 'services.api.target'), /services\.api\.target\.provider: is required \(fix: add provider: one of local, compose, kubernetes, dryrun\)/);
    assert.throws(() => parseTargetSpec({ provider: 'nomad' }, 'x'), /x\.provider: unknown provider "nomad"/);
  });
  it('checks a loaded TargetRef with the service path', () => {
    assert.throws(() => checkTarget({ service: 'api', provider: 'kubernetes', spec: { kind: 'Job' } }), /services\.api\.target\.kind: must be one of Deployment, StatefulSet/);
  });
});

describe('createProvider', () => {
  it('builds each kind', async () => {
    for (const kind of PROVIDER_KINDS) {
      const p = createProvider(kind, { stateDir: '/tmp/scalepilot-test-unused' });
      assert.equal(p.kind, kind);
      await p.close?.();
    }
  });
  it('makes a dry-run local provider read-only: it starts nothing', async () => {
    const p = createProvider({ service: 'api', provider: 'local', spec: { command: ['node', 'x.mjs'], listen: '127.0.0.1:1', portBase: 18001 } }, { dryRun: true });
    await assert.rejects(p.observe({ service: 'api', provider: 'local', spec: { command: ['node', 'x.mjs'], listen: '127.0.0.1:1', portBase: 18001 } }), /no running replicas of api/);
    await p.close?.();
  });
  it('validates a target before building its provider', () => {
    assert.throws(() => createProvider({ service: 'api', provider: 'local', spec: { command: 'node server.mjs' } }), /services\.api\.target\.command: must be a list of arguments/);
    const p = createProvider({ service: 'api', provider: 'dryrun', spec: { replicas: 2 } });
    assert.equal(p.kind, 'dryrun');
  });
});
