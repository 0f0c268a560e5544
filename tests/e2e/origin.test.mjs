// Origin mode: with ORIGIN_URL set, validated requests are forwarded to a
// local test origin, which checks everything it receives.
import assert from 'node:assert/strict';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ROOT_KEY, assertError, call, freshProject, mintKey, startWorker, verifiedClaims } from './harness.mjs';

const ORIGIN_SECRET = randomBytes(32).toString('base64url');
const received = [];
let origin;
let worker;
let deadOrigin;

/** What an origin must do: check the signature and the timestamp. */
function verify(req) {
  const h = req.headers;
  const canonical = ['sass-edge-origin-v1', req.method, req.url, h['x-sass-project'], h['x-sass-key-id'],
    h['x-sass-permission'], h['x-sass-client-ip'], h['x-sass-timestamp']].join('\n');
  const expected = createHmac('sha256', Buffer.from(ORIGIN_SECRET, 'base64url')).update(canonical).digest();
  const given = Buffer.from(h['x-sass-signature'] ?? '', 'base64url');
  const fresh = Math.abs(Date.now() / 1000 - Number(h['x-sass-timestamp'])) <= 60;
  return fresh && given.length === expected.length && timingSafeEqual(given, expected);
}

before(async () => {
  origin = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const record = { method: req.method, url: req.url, headers: req.headers, body, verified: verify(req) };
      received.push(record);
      const status = req.url.includes('/fail') ? 500 : record.verified ? 200 : 401;
      res.writeHead(status, { 'Content-Type': 'application/json', 'X-Origin': 'test' });
      res.end(JSON.stringify({ origin: true, method: req.method, url: req.url, bytes: body.length }));
    });
  });
  await new Promise((r) => origin.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${origin.address().port}`;
  [worker, deadOrigin] = await Promise.all([
    startWorker({ ORIGIN_URL: url, ORIGIN_SECRET }),
    startWorker({ ORIGIN_URL: 'http://127.0.0.1:9', ORIGIN_SECRET }),
  ]);
});
after(async () => {
  await Promise.all([worker?.stop(), deadOrigin?.stop()]);
  origin?.close();
});

const FROM = { 'CF-Connecting-IP': '192.0.2.10', 'CF-IPCountry': 'FR' };
const last = () => received[received.length - 1];

describe('origin mode', () => {
  test('an upload is forwarded unchanged, without the key, with signed facts', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD'], upload: { dir_scope: ['/up/*'] } });
    const bytes = randomBytes(256 * 1024);
    const r = await call(worker.url, 'PUT', `/${p}/v5/objects/up/a%20b.bin?x=1`, {
      key, raw: bytes, headers: { ...FROM, 'Content-Type': 'application/x-test', 'X-Forwarded-For': '10.9.9.9' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.origin, true, 'the origin answered');
    assert.equal(r.headers.get('x-origin'), 'test');
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    const got = last();
    assert.equal(got.verified, true, 'the HMAC and timestamp check out');
    assert.equal(got.method, 'PUT');
    assert.equal(got.url, `/${p}/v5/objects/up/a%20b.bin?x=1`, 'path and query unchanged');
    assert.ok(got.body.equals(bytes), 'the body byte for byte');
    assert.equal(got.headers['x-filerobot-key'], undefined, 'the key is removed');
    assert.equal(got.headers['x-forwarded-for'], undefined);
    assert.equal(got.headers['content-type'], 'application/x-test');
    assert.equal(got.headers['x-sass-project'], p);
    assert.equal(got.headers['x-sass-key-id'], verifiedClaims(key).claims.key_id);
    assert.equal(got.headers['x-sass-permission'], 'FILE_UPLOAD');
    assert.equal(got.headers['x-sass-client-ip'], '192.0.2.10');
  });

  test('fetch, list and move are forwarded with their permission', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['OBJECTS_FETCH', 'OBJECTS_LIST', 'FILE_MOVE'] });
    const cases = [
      ['GET', `/${p}/v5/objects/a.txt`, undefined, 'OBJECTS_FETCH'],
      ['GET', `/${p}/v5/list?folder=%2Fd&limit=5`, undefined, 'OBJECTS_LIST'],
      ['POST', `/${p}/v5/objects/a.txt/move`, { to: '/b/a.txt' }, 'FILE_MOVE'],
    ];
    for (const [method, path, body, permission] of cases) {
      const r = await call(worker.url, method, path, { key, body, headers: FROM });
      assert.equal(r.status, 200, r.text);
      assert.equal(last().url, path);
      assert.equal(last().headers['x-sass-permission'], permission);
      assert.equal(last().verified, true);
      if (body) assert.deepEqual(JSON.parse(last().body.toString()), body);
    }
  });

  test('a refused request never reaches the origin', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD'], upload: { dir_scope: ['/up/*'] } });
    const before = received.length;
    assertError(assert, await call(worker.url, 'PUT', `/${p}/v5/objects/down/a.bin`, { key, raw: 'x', headers: FROM }), 403, 'SCOPE_DENIED');
    assertError(assert, await call(worker.url, 'PUT', `/${p}/v5/objects/up/a.bin`, { key: 'nope', raw: 'x', headers: FROM }), 401, 'KEY_INVALID');
    assert.equal(received.length, before);
  });

  test('counters act the same, and a failed store gives its count back', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD'], upload: { max: 1 } });
    const failed = await call(worker.url, 'PUT', `/${p}/v5/objects/fail/a.bin`, { key, raw: 'x', headers: FROM });
    assert.equal(failed.status, 500, 'the origin failure is passed on');
    assert.equal((await call(worker.url, 'PUT', `/${p}/v5/objects/ok/a.bin`, { key, raw: 'x', headers: FROM })).status, 200);
    const before = received.length;
    assertError(assert, await call(worker.url, 'PUT', `/${p}/v5/objects/ok/b.bin`, { key, raw: 'x', headers: FROM }), 429, 'QUOTA_EXCEEDED');
    assert.equal(received.length, before, 'over quota: not forwarded');
  });

  test('the root API key is forwarded as api:root', async () => {
    const p = freshProject();
    const r = await call(worker.url, 'DELETE', `/${p}/v5/objects/x.txt`, { key: ROOT_KEY, headers: FROM });
    assert.equal(r.status, 200);
    assert.equal(last().headers['x-sass-key-id'], 'api:root');
    assert.equal(last().headers['x-sass-permission'], 'FILE_DELETE');
    assert.equal(last().headers['x-sass-client-ip'], '192.0.2.10');
    assert.equal(last().verified, true);
  });

  test('an unreachable origin is 502 ORIGIN_UNAVAILABLE and gives the count back', async () => {
    const p = freshProject();
    const key = await mintKey(deadOrigin.url, p, { permissions: ['FILE_UPLOAD'], upload: { max: 1 } });
    for (let i = 0; i < 2; i++) {
      const r = await call(deadOrigin.url, 'PUT', `/${p}/v5/objects/a.bin`, { key, raw: 'x', headers: FROM });
      assertError(assert, r, 502, 'ORIGIN_UNAVAILABLE');
    }
  });
});
