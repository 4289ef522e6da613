// The OpenAPI document against the running server: every registered API route is documented and every documented
// route exists, and real responses of each GET route match the documented schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture, bearer, type ApiFixture } from './helpers.js';

type Schema = Record<string, any>;

/** A small validator for the JSON Schema subset the document uses: $ref, allOf, oneOf, type(s), enum, properties, required, items, additionalProperties. */
function validate(doc: Schema, schema: Schema, value: unknown, path = '$'): string[] {
  if (schema.$ref) {
    const name = String(schema.$ref).replace('#/components/schemas/', '');
    const target = doc.components.schemas[name];
    if (!target) return [`${path}: unresolved ${schema.$ref}`];
    return validate(doc, target, value, path);
  }
  const errors: string[] = [];
  if (schema.allOf) for (const s of schema.allOf) errors.push(...validate(doc, s, value, path));
  if (schema.oneOf) {
    const ok = schema.oneOf.filter((s: Schema) => validate(doc, s, value, path).length === 0).length;
    if (ok !== 1) errors.push(`${path}: matches ${ok} of oneOf`);
  }
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  if (schema.type) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    const fits = types.some((t) => t === actual || (t === 'integer' && typeof value === 'number' && Number.isInteger(value)));
    if (!fits) return [...errors, `${path}: ${actual} is not ${types.join('|')}`];
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in o)) errors.push(`${path}.${r}: required`);
    for (const [k, v] of Object.entries(o)) {
      if (schema.properties?.[k]) errors.push(...validate(doc, schema.properties[k], v, `${path}.${k}`));
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') errors.push(...validate(doc, schema.additionalProperties, v, `${path}.${k}`));
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => errors.push(...validate(doc, schema.items, v, `${path}[${i}]`)));
  return errors;
}

const toOpenApi = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

async function fixture(): Promise<ApiFixture> {
  const f = await apiFixture({ rps: 1000, server: { token: 'tok' } });
  await f.rt.controller.syncOnce('web');
  await f.rt.controller.syncOnce('web');
  await f.rt.controller.syncOnce('worker');
  return f;
}

test('every registered API route is in the OpenAPI document, and every documented route is registered', async () => {
  const f = await fixture();
  try {
    const doc = (await f.app.inject({ url: '/api/v1/openapi.json' })).json() as Schema;
    assert.equal(doc.openapi, '3.1.0');
    const registered = new Set(f.routes.filter((r) => r.api).map((r) => `${r.method} ${toOpenApi(r.url)}`));
    const documented = new Set(Object.entries(doc.paths as Record<string, Schema>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)));
    assert.deepEqual([...registered].filter((r) => !documented.has(r)), [], 'registered but not documented');
    assert.deepEqual([...documented].filter((r) => !registered.has(r)), [], 'documented but not registered');
    // the only routes left out are the dashboard's page and assets
    assert.deepEqual(f.routes.filter((r) => !r.api).map((r) => `${r.method} ${r.url}`).sort(), ['GET /', 'GET /assets/:file']);
    // steering operations declare the bearer scheme and their refusals
    for (const [p, ops] of Object.entries(doc.paths as Record<string, Schema>)) {
      if (!ops.post) continue;
      assert.deepEqual(ops.post.security, [{ bearer: [] }], p);
      for (const code of ['401', '403']) assert.ok(ops.post.responses[code], `${p} documents ${code}`);
    }
    // every $ref resolves
    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g) ?? [];
    for (const r of new Set(refs)) assert.ok(doc.components.schemas[r.split('/').pop()!], r);
  } finally {
    await f.close();
  }
});

test('real responses match the documented schemas', async () => {
  const f = await fixture();
  try {
    const doc = (await f.app.inject({ url: '/api/v1/openapi.json' })).json() as Schema;
    const schemaOf = (path: string, method: string, status: string) => doc.paths[path][method].responses[status].content['application/json'].schema as Schema;
    const check = async (url: string, path: string, method: 'get' | 'post' = 'get', status = 200, body?: unknown) => {
      const r = await f.app.inject({ method: method.toUpperCase() as 'GET' | 'POST', url, headers: bearer('tok'), ...(body !== undefined ? { payload: body as object } : {}) });
      assert.equal(r.statusCode, status, `${url}: ${r.body}`);
      const errors = validate(doc, schemaOf(path, method, String(status)), r.json());
      assert.deepEqual(errors, [], `${method.toUpperCase()} ${url}`);
    };
    await check('/api/v1/server', '/api/v1/server');
    await check('/api/v1/services', '/api/v1/services');
    await check('/api/v1/services/web', '/api/v1/services/{service}');
    await check('/api/v1/services/worker', '/api/v1/services/{service}');
    await check('/api/v1/services/web/decisions?limit=1', '/api/v1/services/{service}/decisions');
    await check('/api/v1/services/web/events', '/api/v1/services/{service}/events');
    await check('/api/v1/services/web/timeline', '/api/v1/services/{service}/timeline');
    await check('/api/v1/alerts', '/api/v1/alerts');
    await check('/api/v1/reports', '/api/v1/reports');
    await check('/api/v1/services/web/rollback', '/api/v1/services/{service}/rollback');
    await check('/api/v1/services/web/pause', '/api/v1/services/{service}/pause', 'post');
    await check('/api/v1/services/web/resume', '/api/v1/services/{service}/resume', 'post');
    await check('/api/v1/services/web/scale', '/api/v1/services/{service}/scale', 'post', 200, { replicas: 3 });
    await check('/api/v1/services/web/rollback', '/api/v1/services/{service}/rollback', 'post', 200, {});
    await check('/api/v1/services/nope', '/api/v1/services/{service}', 'get', 404);
    await check('/api/v1/services/web/decisions?limit=0', '/api/v1/services/{service}/decisions', 'get', 400);
    await check('/api/v1/services/worker/rollback', '/api/v1/services/{service}/rollback', 'post', 409, {});

    // the validator itself rejects a wrong shape, so the checks above can fail
    assert.notDeepEqual(validate(doc, { $ref: '#/components/schemas/ServiceSummary' }, { service: 'web', status: 'FINE' }), []);
  } finally {
    await f.close();
  }
});
