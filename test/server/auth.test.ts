// Steering authorization and bind warnings as tables: header forms, token comparison, loopback detection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearerToken, checkSteering, isLoopback, tokenMatches, STEERING_DISABLED, STEERING_READ_ONLY_STORE } from '../../src/server/auth.js';
import { bindWarning, parseListen } from '../../src/server/server.js';

test('tokenMatches compares whole tokens, whatever their lengths', () => {
  const table: Array<[string, string, boolean]> = [
    ['s3cret', 's3cret', true], ['s3cret', 's3cre', false], ['s3cret', 's3crett', false], ['s3cret', 'S3cret', false],
    ['s3cret', '', false], ['ünïcode-tøken', 'ünïcode-tøken', true], ['a'.repeat(500), 'a'.repeat(500), true],
  ];
  for (const [a, b, want] of table) assert.equal(tokenMatches(a, b), want, `${a} vs ${b}`);
});

test('bearerToken reads "Bearer <token>" only', () => {
  const table: Array<[string | undefined, string | undefined]> = [
    ['Bearer abc', 'abc'], ['bearer abc', 'abc'], ['Bearer   abc  ', 'abc'], ['Bearer', undefined], ['Bearer ', undefined],
    ['Basic YWJj', undefined], ['abc', undefined], [undefined, undefined], ['', undefined],
  ];
  for (const [h, want] of table) assert.equal(bearerToken(h), want, String(h));
});

test('checkSteering: read-only store, no token, missing, malformed, wrong, right', () => {
  const table: Array<[{ token?: string; readOnlyStore?: boolean }, string | undefined, number | 'ok', RegExp | string]> = [
    [{ token: 't', readOnlyStore: true }, 'Bearer t', 403, STEERING_READ_ONLY_STORE],
    [{}, 'Bearer t', 403, STEERING_DISABLED],
    [{}, undefined, 403, STEERING_DISABLED],
    [{ token: 't' }, undefined, 401, /missing token/],
    [{ token: 't' }, 'Token t', 401, /must be "Bearer <token>"/],
    [{ token: 't' }, 'Bearer u', 401, /wrong token/],
    [{ token: 't' }, 'Bearer t', 'ok', ''],
  ];
  for (const [o, header, status, msg] of table) {
    const v = checkSteering(o, header);
    if (status === 'ok') { assert.equal(v.ok, true); continue; }
    assert.equal(v.ok, false);
    if (v.ok) continue;
    assert.equal(v.status, status);
    if (typeof msg === 'string') assert.equal(v.error, msg);
    else assert.match(v.error, msg);
  }
});

test('bind warnings: none on loopback; off loopback without a token, and over plain HTTP with one', () => {
  const table: Array<[string, boolean, RegExp | undefined]> = [
    ['127.0.0.1', false, undefined], ['127.3.2.1', false, undefined], ['localhost', false, undefined], ['::1', false, undefined],
    ['0.0.0.0', false, /without a token/], ['::', false, /without a token/], ['10.0.0.5', false, /without a token/],
    ['0.0.0.0', true, /plain HTTP/],
  ];
  for (const [host, token, re] of table) {
    assert.equal(isLoopback(host), re === undefined, host);
    const w = bindWarning(host, token);
    if (re) assert.match(w!, re, host);
    else assert.equal(w, undefined, host);
  }
});

test('parseListen: host:port forms and the errors for anything else', () => {
  assert.deepEqual(parseListen('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListen(':9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListen('[::1]:80'), { host: '::1', port: 80 });
  for (const bad of ['9464', 'localhost', '127.0.0.1:99999', 'a:b']) assert.throws(() => parseListen(bad), /must be host:port/, bad);
});
