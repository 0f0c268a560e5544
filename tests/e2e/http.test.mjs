// HTTP conventions: routing errors, CORS, and the worker's settings.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ROOT_KEY, assertError, call, createTemplate, freshProject, startWorker } from './harness.mjs';

const good = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8';

let worker;
let broken;
before(async () => {
  [worker, ...broken] = await Promise.all([
    startWorker(),
    startWorker({ SIGNING_KEYS: null }),
    startWorker({ SIGNING_KEYS: 'k1:dG9vLXNob3J0' }),
    startWorker({ ROOT_API_KEY: null }),
    startWorker({ ROOT_API_KEY: 'short' }),
    startWorker({ ORIGIN_URL: 'http://127.0.0.1:9' }),
    startWorker({ ORIGIN_URL: 'http://127.0.0.1:9', ORIGIN_SECRET: good }),
    startWorker({ ORIGIN_URL: 'http://127.0.0.1:9', ORIGIN_SECRET: good, ORIGIN_KEY: 'has a space' }),
  ]);
});
after(async () => { await Promise.all([worker, ...(broken ?? [])].map((w) => w?.stop())); });

describe('routing', () => {
  test('unknown routes are 404 and wrong methods 405 with Allow', async () => {
    for (const path of ['/', '/demo', '/demo/nothing', '/demo/v5/keys/x/y', '/demo/v5/security-templates/x/y']) {
      assertError(assert, await call(worker.url, 'GET', path), 404, 'NOT_FOUND');
    }
    const cases = [
      ['DELETE', '/demo/key', 'POST, OPTIONS'],
      ['POST', '/demo/key/SECU_00000000000000000000000000000000', 'GET, OPTIONS'],
      ['PUT', '/demo/v5/security-templates', 'GET, POST, PATCH, OPTIONS'],
      ['POST', '/demo/v5/security-templates/SECU_00000000000000000000000000000000', 'GET, PATCH, DELETE, OPTIONS'],
    ];
    for (const [method, path, allow] of cases) {
      const r = await call(worker.url, method, path);
      assertError(assert, r, 405, 'METHOD_NOT_ALLOWED');
      assert.equal(r.headers.get('allow'), allow);
    }
  });

  test('a malformed project is refused', async () => {
    for (const p of ['Demo', 'a-b', 'x'.repeat(33)]) {
      assertError(assert, await call(worker.url, 'POST', `/${p}/key`, { key: ROOT_KEY, body: {} }), 400, 'PROJECT_INVALID');
    }
  });
});

describe('CORS', () => {
  test('a preflight is answered without a credential', async () => {
    const r = await fetch(`${worker.url}/demo/v5/security-templates`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'x-filerobot-key, content-type' },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    const allowed = r.headers.get('access-control-allow-headers').toLowerCase();
    assert.match(allowed, /x-filerobot-key/);
    assert.match(allowed, /content-type/);
    assert.match(r.headers.get('access-control-allow-methods'), /PATCH/);
  });

  test('CORS headers are on successes and errors', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p);
    const ok = await call(worker.url, 'GET', `/${p}/key/${t.id}`);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), '*');
    assert.match(ok.headers.get('access-control-expose-headers'), /Retry-After/);
    const err = await call(worker.url, 'GET', '/nowhere');
    assert.equal(err.headers.get('access-control-allow-origin'), '*');
  });
});

describe('settings', () => {
  const named = (r, setting) => {
    assertError(assert, r, 500, 'CONFIG_INVALID');
    assert.match(r.body.msg, new RegExp(setting));
    assert.equal(r.body.key, undefined, 'never a key');
    assert.doesNotMatch(r.text, new RegExp(good), 'no secret in the answer');
  };

  test('a missing or malformed SIGNING_KEYS is a 500 naming it, never an unsigned key', async () => {
    for (const w of broken.slice(0, 2)) {
      named(await call(w.url, 'POST', '/demo/key', { key: ROOT_KEY, body: {} }), 'SIGNING_KEYS');
      named(await call(w.url, 'GET', '/demo/key/SECU_00000000000000000000000000000000'), 'SIGNING_KEYS');
    }
    assert.match((await call(broken[0].url, 'POST', '/demo/key', { key: ROOT_KEY, body: {} })).body.msg, /missing/);
    assert.match((await call(broken[1].url, 'POST', '/demo/key', { key: ROOT_KEY, body: {} })).body.msg, /malformed/);
  });

  test('ORIGIN_URL without ORIGIN_SECRET, or without a well-formed ORIGIN_KEY, is a 500 naming it', async () => {
    named(await call(broken[4].url, 'GET', '/demo/v5/objects/a.txt', { key: ROOT_KEY }), 'ORIGIN_SECRET');
    const missing = await call(broken[5].url, 'GET', '/demo/v5/files/00000000-0000-4000-8000-000000000001', { key: ROOT_KEY });
    named(missing, 'ORIGIN_KEY');
    assert.match(missing.body.msg, /missing/);
    const malformed = await call(broken[6].url, 'POST', '/demo/v4/files?folder=/a', { key: ROOT_KEY, body: {} });
    named(malformed, 'ORIGIN_KEY');
    assert.match(malformed.body.msg, /malformed/);
  });

  test('a missing or malformed ROOT_API_KEY is a 500 naming it', async () => {
    for (const w of broken.slice(2, 4)) {
      named(await call(w.url, 'GET', '/demo/v5/security-templates', { key: ROOT_KEY }), 'ROOT_API_KEY');
    }
  });
});
