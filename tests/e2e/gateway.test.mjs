// The storage gateway over a real wrangler dev with local R2: every check in
// order, with a passing and a failing case each; the exact counters; the R2
// round trip; and failing closed when the counters cannot be reached.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  ROOT_KEY, assertError, call, createTemplate, freshProject, mintKey, signKey, startWorker, verifiedClaims,
} from './harness.mjs';

let worker;
let noLimiter;
before(async () => {
  [worker, noLimiter] = await Promise.all([startWorker(), startWorker({}, { withoutLimiter: true })]);
});
after(async () => { await Promise.all([worker?.stop(), noLimiter?.stop()]); });

const ALL = ['FILE_UPLOAD', 'OBJECTS_FETCH', 'OBJECTS_LIST', 'FILE_DELETE', 'FILE_RENAME', 'FILE_MOVE', 'FILE_META_CHANGE'];
const FROM = { 'CF-Connecting-IP': '192.0.2.10', 'CF-IPCountry': 'FR' };

function put(base, p, path, key, bytes = Buffer.from('hello'), headers = {}) {
  return call(base, 'PUT', `/${p}/v5/objects${path}`, { key, raw: bytes, headers: { ...FROM, 'Content-Type': 'text/plain', ...headers } });
}
const get = (base, p, path, key, headers = {}) => call(base, 'GET', `/${p}/v5/objects${path}`, { key, headers: { ...FROM, ...headers } });
const list = (base, p, folder, key, headers = {}) => call(base, 'GET', `/${p}/v5/list?folder=${encodeURIComponent(folder)}`, { key, headers: { ...FROM, ...headers } });

function claimsFor(project, extra = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { project, key_id: randomBytes(16).toString('hex'), issued_at: now, expires_at: now + 600, permissions: ALL, ...extra };
}

describe('1. the key is present, well formed and authentic', () => {
  test('a minted key passes; missing, altered, cut and foreign keys do not', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL });
    assert.equal((await put(worker.url, p, '/a.txt', key)).status, 201);
    assertError(assert, await put(worker.url, p, '/a.txt', undefined), 401, 'KEY_INVALID');
    const flip = (s, i) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const bad = [
      flip(key, 20), flip(key, key.length - 50), flip(key, key.length - 1), flip(key, key.length - 43),
      key.slice(0, -1), `${key}A`, `${key}__`, key.slice(0, -43),
      signKey(claimsFor(p), { kid: 'unknown' }),
      signKey(claimsFor(p), { secret: randomBytes(32).toString('base64url') }),
      'SASS__v1.05__abc__def', 'not-a-key',
    ];
    for (const k of bad) assertError(assert, await get(worker.url, p, '/a.txt', k), 401, 'KEY_INVALID');
  });
});

describe('2. it has not expired, with 30 s of leeway', () => {
  test('expired 29 s ago passes, 31 s ago does not', async () => {
    const p = freshProject();
    const now = Math.floor(Date.now() / 1000);
    const fresh = signKey(claimsFor(p, { issued_at: now - 100, expires_at: now - 25 }));
    const stale = signKey(claimsFor(p, { issued_at: now - 100, expires_at: now - 35 }));
    assert.equal((await put(worker.url, p, '/a.txt', fresh)).status, 201);
    assertError(assert, await put(worker.url, p, '/a.txt', stale), 401, 'KEY_EXPIRED');
  });
});

describe('3. the key is for this project', () => {
  test('a key of one project is refused on another', async () => {
    const a = freshProject();
    const b = freshProject();
    const key = await mintKey(worker.url, a, { permissions: ALL });
    assert.equal((await put(worker.url, a, '/x.txt', key)).status, 201);
    assertError(assert, await put(worker.url, b, '/x.txt', key), 403, 'PROJECT_MISMATCH');
  });
});

describe('4. a template key works only while its template is active', () => {
  test('deactivate, reactivate, delete', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, { permissions: ALL });
    const key = (await call(worker.url, 'GET', `/${p}/key/${t.id}`)).body.key;
    const tpl = `/${p}/v5/security-templates/${t.id}`;
    assert.equal((await get(worker.url, p, '/none.txt', key)).status, 404, 'active: passes to storage');
    await call(worker.url, 'PATCH', tpl, { key: ROOT_KEY, body: { active: false } });
    assertError(assert, await put(worker.url, p, '/a.txt', key), 403, 'TEMPLATE_INACTIVE');
    await call(worker.url, 'PATCH', tpl, { key: ROOT_KEY, body: { active: true } });
    assert.equal((await put(worker.url, p, '/a.txt', key)).status, 201);
    await call(worker.url, 'DELETE', tpl, { key: ROOT_KEY });
    assertError(assert, await put(worker.url, p, '/a.txt', key), 403, 'TEMPLATE_INACTIVE');
  });
});

describe('5. source IP, from CF-Connecting-IP only', () => {
  test('in range passes; out of range, unusable, and X-Forwarded-For do not', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, restrictions: { whitelist_ip_ranges: ['192.0.2.0/24', '2001:db8::/32'] } });
    assert.equal((await put(worker.url, p, '/a.txt', key)).status, 201);
    assert.equal((await put(worker.url, p, '/a.txt', key, undefined, { 'CF-Connecting-IP': '::ffff:192.0.2.99' })).status, 201, 'IPv4-mapped');
    assert.equal((await put(worker.url, p, '/a.txt', key, undefined, { 'CF-Connecting-IP': '2001:db8::5' })).status, 201);
    assertError(assert, await put(worker.url, p, '/a.txt', key, undefined, { 'CF-Connecting-IP': '198.51.100.1' }), 403, 'IP_NOT_ALLOWED');
    assertError(assert, await put(worker.url, p, '/a.txt', key, undefined, { 'CF-Connecting-IP': '198.51.100.1', 'X-Forwarded-For': '192.0.2.1' }), 403, 'IP_NOT_ALLOWED');
    // wrangler dev fills in 127.0.0.1 when the header is absent; an unparseable
    // one stands for "no usable client IP".
    assertError(assert, await put(worker.url, p, '/a.txt', key, undefined, { 'CF-Connecting-IP': 'not-an-ip' }), 403, 'IP_NOT_ALLOWED');
  });
});

describe('6. country, from CF-IPCountry', () => {
  test('a listed country passes; others, missing, XX and T1 do not', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, restrictions: { whitelist_countries: ['FR', 'DE'] } });
    assert.equal((await put(worker.url, p, '/a.txt', key, undefined, { 'CF-IPCountry': 'DE' })).status, 201);
    for (const country of ['US', 'XX', 'T1']) {
      assertError(assert, await put(worker.url, p, '/a.txt', key, undefined, { 'CF-IPCountry': country }), 403, 'COUNTRY_NOT_ALLOWED');
    }
    assertError(assert, await call(worker.url, 'GET', `/${p}/v5/objects/a.txt`, { key, headers: { 'CF-Connecting-IP': '192.0.2.1' } }), 403, 'COUNTRY_NOT_ALLOWED');
  });
});

describe('7. the permission for the operation', () => {
  test('each operation needs its permission; a move needs FILE_MOVE, a rename FILE_RENAME', async () => {
    const p = freshProject();
    const all = await mintKey(worker.url, p, { permissions: ALL });
    assert.equal((await put(worker.url, p, '/d/a.txt', all)).status, 201);
    const none = await mintKey(worker.url, p, { permissions: ['CONFIG_LIST'] });
    const denied = [
      ['PUT', '/v5/objects/d/b.txt', 'FILE_UPLOAD'], ['GET', '/v5/objects/d/a.txt', 'OBJECTS_FETCH'],
      ['DELETE', '/v5/objects/d/a.txt', 'FILE_DELETE'], ['GET', '/v5/list?folder=/d', 'OBJECTS_LIST'],
    ];
    for (const [method, path, perm] of denied) {
      const r = await call(worker.url, method, `/${p}${path}`, { key: none, headers: FROM, raw: method === 'PUT' ? 'x' : undefined });
      assertError(assert, r, 403, 'PERMISSION_DENIED');
      assert.match(r.body.msg, new RegExp(perm));
    }
    const meta = await call(worker.url, 'PUT', `/${p}/v5/objects/d/a.txt/meta`, { key: none, headers: FROM, body: { a: 1 } });
    assertError(assert, meta, 403, 'PERMISSION_DENIED');
    const renamer = await mintKey(worker.url, p, { permissions: ['FILE_RENAME'] });
    const mover = await mintKey(worker.url, p, { permissions: ['FILE_MOVE'] });
    const move = (key, from, to) => call(worker.url, 'POST', `/${p}/v5/objects${from}/move`, { key, headers: FROM, body: { to } });
    assertError(assert, await move(renamer, '/d/a.txt', '/e/a.txt'), 403, 'PERMISSION_DENIED');
    assertError(assert, await move(mover, '/d/a.txt', '/d/b.txt'), 403, 'PERMISSION_DENIED');
    assert.equal((await move(renamer, '/d/a.txt', '/d/b.txt')).status, 200);
    assert.equal((await move(mover, '/d/b.txt', '/e/b.txt')).status, 200);
  });
});

describe('8. directory scope and path validity', () => {
  test('/a is exact, /a/* is a subtree, and never /ab', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, upload: { dir_scope: ['/a/*', '/exact'] }, listing: { dir_scope: ['/a'] } });
    for (const ok of ['/a/x.txt', '/a/b/c/x.txt', '/exact/x.txt']) assert.equal((await put(worker.url, p, ok, key)).status, 201, ok);
    for (const no of ['/ab/x.txt', '/x.txt', '/exact/sub/x.txt', '/b/a/x.txt']) {
      const r = await put(worker.url, p, no, key);
      assertError(assert, r, 403, 'SCOPE_DENIED');
    }
    assert.equal((await get(worker.url, p, '/a/x.txt', key)).status, 200);
    assertError(assert, await get(worker.url, p, '/a/b/c/x.txt', key), 403, 'SCOPE_DENIED');
    assert.equal((await list(worker.url, p, '/a', key)).status, 200);
    assertError(assert, await list(worker.url, p, '/', key), 403, 'SCOPE_DENIED');
    const r = await put(worker.url, p, '/private/x.txt', key);
    assert.equal(r.body.msg, 'this key may not upload into /private');
  });

  test('malformed paths are 400 PATH_INVALID', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL });
    for (const bad of ['/a%2Fb.txt', '/a%2fb.txt', '/a%5Cb.txt', '/a%00b.txt', '/a%0Ab.txt', '/a//b.txt', '/a/', '/%E0%A4%A.txt', '/%FF.txt']) {
      assertError(assert, await put(worker.url, p, bad, key), 400, 'PATH_INVALID');
    }
    assertError(assert, await list(worker.url, p, '/a/../b', key), 400, 'PATH_INVALID');
    const move = await call(worker.url, 'POST', `/${p}/v5/objects/a.txt/move`, { key, headers: FROM, body: { to: '/a/../../b.txt' } });
    assertError(assert, move, 400, 'PATH_INVALID');
    assert.equal((await put(worker.url, p, '/a%20b/%C3%A9t%C3%A9.txt', key)).status, 201, 'percent-decoded once');
    const listed = await list(worker.url, p, '/a b', key);
    assert.deepEqual(listed.body.files.map((f) => f.path), ['/a b/été.txt']);
  });
});

describe('9. size', () => {
  test('a declared length above max_file_size is 413; none is 411', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, upload: { max_file_size: 10 } });
    assert.equal((await put(worker.url, p, '/ten.bin', key, Buffer.alloc(10, 1))).status, 201);
    assertError(assert, await put(worker.url, p, '/eleven.bin', key, Buffer.alloc(11, 1)), 413, 'FILE_TOO_LARGE');
    const chunked = await fetch(`${worker.url}/${p}/v5/objects/chunked.bin`, {
      method: 'PUT', headers: { 'X-Filerobot-Key': key, ...FROM },
      body: new ReadableStream({ start(c) { c.enqueue(new Uint8Array([1, 2])); c.close(); } }), duplex: 'half',
    });
    assert.equal(chunked.status, 411);
    assert.equal((await chunked.json()).code, 'LENGTH_REQUIRED');
    const root = await list(worker.url, p, '/', ROOT_KEY);
    assert.deepEqual(root.body.files.map((f) => f.name), ['ten.bin'], 'nothing else stored');
  });

  test('a body cut short of its Content-Length is not stored, and its count is given back', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, upload: { max: 1 } });
    const { port } = new URL(worker.url);
    await new Promise((resolve, reject) => {
      const s = connect(Number(port), '127.0.0.1', () => {
        s.write(`PUT /${p}/v5/objects/cut.bin HTTP/1.1\r\nHost: x\r\nX-Filerobot-Key: ${key}\r\nCF-Connecting-IP: 192.0.2.10\r\nContent-Length: 1000\r\n\r\n`);
        s.write(Buffer.alloc(100, 7));
        setTimeout(() => { s.destroy(); resolve(); }, 300);
      });
      s.on('error', reject);
    });
    let stored;
    for (let i = 0; i < 50; i++) {
      stored = (await list(worker.url, p, '/', ROOT_KEY)).body.files;
      const again = await put(worker.url, p, '/whole.bin', key);
      if (again.status === 201) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const files = (await list(worker.url, p, '/', ROOT_KEY)).body.files.map((f) => f.name);
    assert.deepEqual(files, ['whole.bin'], `the cut upload is not stored and max:1 still admits one (before: ${JSON.stringify(stored)})`);
  });
});

describe('10. exact counters', () => {
  test('upload.limit_per_min: 429 RATE_LIMITED with Retry-After', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, upload: { limit_per_min: 2 } });
    assert.equal((await put(worker.url, p, '/1.txt', key)).status, 201);
    assert.equal((await put(worker.url, p, '/2.txt', key)).status, 201);
    const r = await put(worker.url, p, '/3.txt', key);
    assertError(assert, r, 429, 'RATE_LIMITED');
    const retry = Number(r.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 61, `Retry-After ${retry} (a slot frees when its second leaves the 61-second ring)`);
    assert.equal((await get(worker.url, p, '/1.txt', key)).status, 200, 'non-upload calls are not rate-limited by it');
  });

  test('upload.max: 429 QUOTA_EXCEEDED', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, upload: { max: 2 } });
    for (const n of [1, 2]) assert.equal((await put(worker.url, p, `/${n}.txt`, key)).status, 201);
    const r = await put(worker.url, p, '/3.txt', key);
    assertError(assert, r, 429, 'QUOTA_EXCEEDED');
    assert.match(r.body.msg, /upload\.max/);
    const other = await mintKey(worker.url, p, { permissions: ALL, upload: { max: 2 } });
    assert.equal((await put(worker.url, p, '/3.txt', other)).status, 201, 'counters are per key');
  });

  test('upload.limit_per_source_ip: per IP, IPv6 per /64', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, upload: { limit_per_source_ip: 1 } });
    const from = (ip) => ({ 'CF-Connecting-IP': ip });
    assert.equal((await put(worker.url, p, '/1.txt', key, undefined, from('192.0.2.1'))).status, 201);
    assertError(assert, await put(worker.url, p, '/2.txt', key, undefined, from('192.0.2.1')), 429, 'QUOTA_EXCEEDED');
    assert.equal((await put(worker.url, p, '/3.txt', key, undefined, from('192.0.2.2'))).status, 201);
    assert.equal((await put(worker.url, p, '/4.txt', key, undefined, from('2001:db8:0:1::1'))).status, 201);
    assertError(assert, await put(worker.url, p, '/5.txt', key, undefined, from('2001:db8:0:1::2')), 429, 'QUOTA_EXCEEDED');
    assert.equal((await put(worker.url, p, '/6.txt', key, undefined, from('2001:db8:0:2::1'))).status, 201);
  });

  test('listing.max counts every call but uploads', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, listing: { max: 2 } });
    assert.equal((await put(worker.url, p, '/a.txt', key)).status, 201);
    assert.equal((await list(worker.url, p, '/', key)).status, 200);
    assert.equal((await get(worker.url, p, '/a.txt', key)).status, 200);
    assertError(assert, await list(worker.url, p, '/', key), 429, 'QUOTA_EXCEEDED');
    assert.equal((await put(worker.url, p, '/b.txt', key)).status, 201, 'uploads are not listing calls');
  });

  test('50 parallel uploads against max: 10 store exactly 10', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, upload: { max: 10 } });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => put(worker.url, p, `/par/${i}.txt`, key)));
    const codes = results.map((r) => r.status);
    assert.equal(codes.filter((c) => c === 201).length, 10, codes.join(','));
    assert.equal(codes.filter((c) => c === 429).length, 40, codes.join(','));
    const stored = await list(worker.url, p, '/par', ROOT_KEY);
    assert.equal(stored.body.files.length, 10);
  });

  test('a refused request touches no counter', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, upload: { max: 1, dir_scope: ['/ok/*'], max_file_size: 5 } });
    assertError(assert, await put(worker.url, p, '/no/a.txt', key), 403, 'SCOPE_DENIED');
    assertError(assert, await put(worker.url, p, '/ok/a.txt', key, Buffer.alloc(6)), 413, 'FILE_TOO_LARGE');
    assert.equal((await put(worker.url, p, '/ok/a.txt', key)).status, 201);
  });
});

describe('unreachable counters fail closed', () => {
  test('503 LIMITER_UNAVAILABLE with Retry-After, nothing stored; a key without counters needs no limiter', async () => {
    const p = freshProject();
    const counted = await mintKey(noLimiter.url, p, { permissions: ALL, upload: { max: 5 } });
    const r = await put(noLimiter.url, p, '/a.txt', counted);
    assertError(assert, r, 503, 'LIMITER_UNAVAILABLE');
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assertError(assert, await get(noLimiter.url, p, '/a.txt', ROOT_KEY), 404, 'FILE_NOT_FOUND');
    const free = await mintKey(noLimiter.url, p, { permissions: ALL });
    assert.equal((await put(noLimiter.url, p, '/b.txt', free)).status, 201);
    const listed = await mintKey(noLimiter.url, p, { permissions: ALL, listing: { max: 3 } });
    assertError(assert, await list(noLimiter.url, p, '/', listed), 503, 'LIMITER_UNAVAILABLE');
  });
});

describe('R2 round trip', () => {
  test('upload, list, fetch, head, move, meta, delete', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, upload: { max: 5 } });
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const up = await put(worker.url, p, '/photos/cat.jpg', key, bytes, { 'Content-Type': 'image/jpeg' });
    assert.equal(up.status, 201, up.text);
    assert.equal(up.body.file.size, bytes.length);
    assert.equal(up.body.file.path, '/photos/cat.jpg');

    const fetched = await fetch(`${worker.url}/${p}/v5/objects/photos/cat.jpg`, { headers: { 'X-Filerobot-Key': key, ...FROM } });
    assert.equal(fetched.status, 200);
    assert.equal(fetched.headers.get('content-type'), 'image/jpeg');
    assert.equal(fetched.headers.get('access-control-allow-origin'), '*');
    assert.ok(Buffer.from(await fetched.arrayBuffer()).equals(bytes), 'byte for byte');
    const head = await fetch(`${worker.url}/${p}/v5/objects/photos/cat.jpg`, { method: 'HEAD', headers: { 'X-Filerobot-Key': key, ...FROM } });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(bytes.length));
    assert.match(fetched.headers.get('etag') ?? '', /^".+"$/, 'an ETag, quoted');
    assert.equal(head.headers.get('etag'), fetched.headers.get('etag'));

    // Stored without a type: served as bytes.
    const untyped = await fetch(`${worker.url}/${p}/v5/objects/misc/raw.bin`, {
      method: 'PUT', body: Buffer.from('raw'), headers: { 'X-Filerobot-Key': key, ...FROM },
    });
    assert.equal(untyped.status, 201, await untyped.text());
    const raw = await fetch(`${worker.url}/${p}/v5/objects/misc/raw.bin`, { headers: { 'X-Filerobot-Key': key, ...FROM } });
    assert.equal(raw.headers.get('content-type'), 'application/octet-stream');
    assert.equal(await raw.text(), 'raw');

    await put(worker.url, p, '/photos/2024/dog.jpg', key);
    const listed = await list(worker.url, p, '/photos', key);
    assert.deepEqual(listed.body.files.map((f) => f.name), ['cat.jpg']);
    assert.deepEqual(listed.body.folders, ['/photos/2024']);

    const moved = await call(worker.url, 'POST', `/${p}/v5/objects/photos/cat.jpg/move`, { key, headers: FROM, body: { to: '/archive/cat.jpg' } });
    assert.equal(moved.status, 200, moved.text);
    assertError(assert, await get(worker.url, p, '/photos/cat.jpg', key), 404, 'FILE_NOT_FOUND');
    const back = await fetch(`${worker.url}/${p}/v5/objects/archive/cat.jpg`, { headers: { 'X-Filerobot-Key': key, ...FROM } });
    assert.ok(Buffer.from(await back.arrayBuffer()).equals(bytes), 'moved byte for byte');

    const meta = await call(worker.url, 'PUT', `/${p}/v5/objects/archive/cat.jpg/meta`, { key, headers: FROM, body: { alt: 'a cat', tags: ['pet'] } });
    assert.equal(meta.status, 200, meta.text);
    assert.deepEqual(meta.body.file.meta, { alt: 'a cat', tags: ['pet'] });
    const archive = await list(worker.url, p, '/archive', key);
    assert.deepEqual(archive.body.files[0].meta, { alt: 'a cat', tags: ['pet'] });
    assertError(assert, await call(worker.url, 'PUT', `/${p}/v5/objects/archive/cat.jpg/meta`, { key, headers: FROM, body: [1] }), 400, 'INVALID_JSON');

    const del = await call(worker.url, 'DELETE', `/${p}/v5/objects/archive/cat.jpg`, { key, headers: FROM });
    assert.equal(del.status, 200);
    assertError(assert, await get(worker.url, p, '/archive/cat.jpg', key), 404, 'FILE_NOT_FOUND');
    assertError(assert, await call(worker.url, 'DELETE', `/${p}/v5/objects/archive/cat.jpg`, { key, headers: FROM }), 404, 'FILE_NOT_FOUND');
  });

  test('listing pages with a cursor', async () => {
    const p = freshProject();
    await Promise.all(Array.from({ length: 5 }, (_, i) => put(worker.url, p, `/f/${i}.txt`, ROOT_KEY)));
    const first = await call(worker.url, 'GET', `/${p}/v5/list?folder=/f&limit=3`, { key: ROOT_KEY });
    assert.equal(first.body.files.length, 3);
    assert.equal(typeof first.body.cursor, 'string');
    const rest = await call(worker.url, 'GET', `/${p}/v5/list?folder=/f&limit=3&cursor=${encodeURIComponent(first.body.cursor)}`, { key: ROOT_KEY });
    assert.equal(rest.body.files.length, 2);
    assert.equal(rest.body.cursor, null);
  });

  test('the root API key passes any operation, without IP, country or counters', async () => {
    const p = freshProject();
    const r = await call(worker.url, 'PUT', `/${p}/v5/objects/any/where.txt`, { key: ROOT_KEY, raw: 'x', headers: { 'CF-Connecting-IP': '203.0.113.1', 'CF-IPCountry': 'XX' } });
    assert.equal(r.status, 201);
    assertError(assert, await call(worker.url, 'PUT', `/${p}/v5/objects/any/where.txt`, { key: 'wrong-api-key', raw: 'x' }), 401, 'KEY_INVALID');
    assertError(assert, await call(worker.url, 'PUT', `/${p}/v5/objects/a%2Fb`, { key: ROOT_KEY, raw: 'x' }), 400, 'PATH_INVALID');
  });

  test('a key issued from a template uploads as the template says', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, { permissions: ['FILE_UPLOAD'], upload: { dir_scope: ['/in/*'], max: 1 } });
    const key = (await call(worker.url, 'GET', `/${p}/key/${t.id}`)).body.key;
    assert.equal(verifiedClaims(key).claims.template, t.id);
    assertError(assert, await put(worker.url, p, '/out/a.txt', key), 403, 'SCOPE_DENIED');
    assert.equal((await put(worker.url, p, '/in/a.txt', key)).status, 201);
    assertError(assert, await put(worker.url, p, '/in/b.txt', key), 429, 'QUOTA_EXCEEDED');
    assertError(assert, await get(worker.url, p, '/in/a.txt', key), 403, 'PERMISSION_DENIED');
  });
});
