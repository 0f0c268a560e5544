// Origin mode: with ORIGIN_URL, ORIGIN_SECRET and ORIGIN_KEY set, validated
// requests go to a local test origin (tests/e2e/test-origin.mjs, a small
// Filerobot-compatible API), which checks and records everything it receives.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ROOT_KEY, assertError, call, freshProject, mintKey, startWorker, verifiedClaims } from './harness.mjs';
import { startOrigin } from './test-origin.mjs';
import { AMBIGUOUS } from './cases.mjs';

const ORIGIN_SECRET = randomBytes(32).toString('base64url');
const ORIGIN_KEY = `origin-operator-key-${randomBytes(8).toString('hex')}`;
let origin;
let worker;
let localUrls;
let deadOrigin;
let files;

before(async () => {
  origin = await startOrigin({ secret: ORIGIN_SECRET, key: ORIGIN_KEY });
  // A file server for uploads by URL.
  files = createServer((req, res) => {
    const size = Number(new URL(req.url, 'http://x').searchParams.get('size') ?? 100);
    res.writeHead(200, { 'Content-Type': 'image/png' });
    res.end(Buffer.alloc(size, 7));
  });
  await new Promise((r) => files.listen(0, '127.0.0.1', r));
  const vars = { ORIGIN_URL: origin.url, ORIGIN_SECRET, ORIGIN_KEY };
  [worker, localUrls, deadOrigin] = await Promise.all([
    startWorker(vars),
    startWorker({ ...vars, ALLOW_LOCAL_URLS: '1' }),
    startWorker({ ...vars, ORIGIN_URL: 'http://127.0.0.1:9' }),
  ]);
});
after(async () => {
  await Promise.all([worker?.stop(), localUrls?.stop(), deadOrigin?.stop()]);
  await origin?.stop();
  files?.close();
});

const FROM = { 'CF-Connecting-IP': '192.0.2.10', 'CF-IPCountry': 'FR' };
const ALL = ['FILE_UPLOAD', 'OBJECTS_FETCH', 'OBJECTS_LIST', 'FILE_DELETE', 'FILE_RENAME', 'FILE_MOVE', 'FILE_META_CHANGE'];
const received = () => origin.received;
const last = () => received()[received().length - 1];
const since = (n) => received().slice(n);
const stored = (p) => [...origin.files.values()].filter((f) => f.project === p);
const sha1 = (b) => createHash('sha1').update(b).digest('hex');

/** Every request the origin saw carries its own credential, a valid signature, and never the SASS key. */
function assertClean(requests, key) {
  for (const r of requests) {
    assert.equal(r.headers['x-filerobot-key'], ORIGIN_KEY, `${r.method} ${r.url}: the origin credential`);
    assert.equal(r.verified, true, `${r.method} ${r.url}: the signature`);
    const everything = JSON.stringify(r.headers) + r.url + r.body.toString('latin1');
    assert.ok(!everything.includes(key), `${r.method} ${r.url}: the SASS key never reaches the origin`);
    assert.equal(r.headers['x-forwarded-for'], undefined);
  }
}

function multipart(base, p, key, folder, list, { route = 'v4/files', query } = {}) {
  const form = new FormData();
  for (const f of list) {
    form.append('info[files[]]', JSON.stringify({ name: f.name }));
    form.append('files[]', new Blob([f.bytes], { type: f.type ?? 'text/plain' }), f.name);
  }
  return fetch(`${base}/${p}/${route}?${query ?? `folder=${encodeURIComponent(folder)}`}`, {
    method: 'POST', body: form, headers: { 'X-Filerobot-Key': key, ...FROM },
  }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => undefined) }));
}

describe('origin mode, the object API', () => {
  test('an upload is forwarded canonically, with the origin credential and signed facts', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD'], upload: { dir_scope: ['/up/*'] } });
    const bytes = randomBytes(256 * 1024);
    const r = await call(worker.url, 'PUT', `/${p}/v5/objects/up/a%20b.bin?x=1&folder=/elsewhere`, {
      key, raw: bytes, headers: { ...FROM, 'Content-Type': 'application/x-test', 'X-Forwarded-For': '10.9.9.9', 'X-HTTP-Method-Override': 'DELETE' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.origin, true, 'the origin answered');
    assert.equal(r.headers.get('x-origin'), 'test');
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    const got = last();
    assertClean([got], key);
    assert.equal(got.method, 'PUT');
    assert.equal(got.url, `/${p}/v5/objects/up/a%20b.bin`, 'the checked path re-encoded, no query the gateway did not read');
    assert.ok(got.body.equals(bytes), 'the body byte for byte');
    assert.equal(got.headers['content-length'], String(bytes.length), 'with its length');
    assert.equal(got.headers['x-http-method-override'], undefined, 'only allow-listed headers');
    assert.equal(got.headers['content-type'], 'application/x-test');
    assert.equal(got.headers['x-sass-project'], p);
    assert.equal(got.headers['x-sass-key-id'], verifiedClaims(key).claims.key_id);
    assert.equal(got.headers['x-sass-permission'], 'FILE_UPLOAD');
    assert.equal(got.headers['x-sass-client-ip'], '192.0.2.10');
    assert.equal(decodeURIComponent(got.headers['x-sass-path']), '/up/a b.bin');
  });

  test('fetch, list and move are forwarded with their permission and a rebuilt body', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['OBJECTS_FETCH', 'OBJECTS_LIST', 'FILE_MOVE'] });
    const cases = [
      ['GET', `/${p}/v5/objects/a.txt`, undefined, 'OBJECTS_FETCH', `/${p}/v5/objects/a.txt`],
      ['GET', `/${p}/v5/list?dir=%2Fd&limit=5&junk=1`, undefined, 'OBJECTS_LIST', `/${p}/v5/list?folder=%2Fd&limit=5`],
      ['POST', `/${p}/v5/objects/a.txt/move`, { to: '/b//a.txt' }, 'FILE_MOVE', null],
      ['POST', `/${p}/v5/objects/a.txt/move`, { to: '/b/a.txt' }, 'FILE_MOVE', `/${p}/v5/objects/a.txt/move`],
    ];
    for (const [method, path, body, permission, forwarded] of cases) {
      const before = received().length;
      const r = await call(worker.url, method, path, { key, body, headers: FROM });
      if (forwarded === null) {
        assert.equal(r.status, 400, `${path} ${JSON.stringify(body)} is not a canonical path: refused`);
        assert.equal(received().length, before);
        continue;
      }
      assert.equal(r.status, 200, r.text);
      assertClean([last()], key);
      assert.equal(last().url, forwarded);
      assert.equal(last().headers['x-sass-permission'], permission);
      if (body) {
        assert.equal(last().body.toString(), JSON.stringify(body));
        assert.equal(decodeURIComponent(last().headers['x-sass-to']), body.to);
      }
    }
  });

  test('a refused request never reaches the origin', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD'], upload: { dir_scope: ['/up/*'] } });
    const before = received().length;
    assertError(assert, await call(worker.url, 'PUT', `/${p}/v5/objects/down/a.bin`, { key, raw: 'x', headers: FROM }), 403, 'SCOPE_DENIED');
    assertError(assert, await call(worker.url, 'PUT', `/${p}/v5/objects/up/a.bin`, { key: 'nope', raw: 'x', headers: FROM }), 401, 'KEY_INVALID');
    const broad = await mintKey(worker.url, p, {
      permissions: ['FILE_UPLOAD', 'OBJECTS_LIST', 'FILE_MOVE', 'FILE_RENAME'],
      upload: { dir_scope: ['/uploads/*'] }, listing: { dir_scope: ['/uploads/*'] },
    });
    for (const [method, path, body, code] of AMBIGUOUS(p)) {
      const r = await call(worker.url, method, path, { key: broad, body, raw: method === 'PUT' ? 'x' : undefined, headers: FROM });
      assertError(assert, r, 400, code);
    }
    assert.equal(received().length, before);
  });

  test('counters act the same, and a failed store gives its count back', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD'], upload: { max: 1 } });
    const failed = await call(worker.url, 'PUT', `/${p}/v5/objects/fail/a.bin`, { key, raw: 'x', headers: FROM });
    assert.equal(failed.status, 500, 'the origin failure is passed on');
    assert.equal((await call(worker.url, 'PUT', `/${p}/v5/objects/ok/a.bin`, { key, raw: 'x', headers: FROM })).status, 200);
    const before = received().length;
    assertError(assert, await call(worker.url, 'PUT', `/${p}/v5/objects/ok/b.bin`, { key, raw: 'x', headers: FROM }), 429, 'QUOTA_EXCEEDED');
    assert.equal(received().length, before, 'over quota: not forwarded');
  });

  test('the root API key is forwarded as api:root', async () => {
    const p = freshProject();
    const r = await call(worker.url, 'DELETE', `/${p}/v5/objects/x.txt`, { key: ROOT_KEY, headers: FROM });
    assert.equal(r.status, 200);
    assertClean([last()], ROOT_KEY);
    assert.equal(last().headers['x-sass-key-id'], 'api:root');
    assert.equal(last().headers['x-sass-permission'], 'FILE_DELETE');
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

describe('origin mode, the Filerobot API', () => {
  test('a multipart upload is relayed canonically: the origin stores every file byte for byte', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD'], upload: { dir_scope: ['/up'] } });
    const a = randomBytes(300_000);
    const b = Buffer.from('second file');
    const before = received().length;
    const r = await multipart(worker.url, p, key, '/up', [{ name: 'a.bin', bytes: a, type: 'application/x-a' }, { name: 'b "q".txt', bytes: b }],
      { route: 'v4/upload', query: 'dir=%2Fup&extra=1' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.files.length, 2, 'the origin\'s answer');
    const got = since(before);
    assert.equal(got.length, 1);
    assertClean(got, key);
    assert.equal(got[0].url, `/${p}/v4/files?folder=%2Fup`);
    assert.equal(decodeURIComponent(got[0].headers['x-sass-folder']), '/up');
    assert.equal(got[0].headers['x-sass-permission'], 'FILE_UPLOAD');
    assert.match(got[0].headers['content-type'], /^multipart\/form-data; boundary=sass-edge-[0-9a-f]{32}$/);
    const files = stored(p).sort((x, y) => x.name.localeCompare(y.name));
    assert.deepEqual(files.map((f) => [f.folder, f.name]), [['/up', 'a.bin'], ['/up', 'b "q".txt']]);
    assert.equal(sha1(files[0].bytes), sha1(a));
    assert.equal(files[0].type, 'application/x-a');
    assert.ok(files[1].bytes.equals(b));
  });

  test('a multipart upload counts each file; over the quota or the size nothing is stored, and counts come back', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD'], upload: { max: 2, max_file_size: 1000 } });
    const three = [1, 2, 3].map((i) => ({ name: `f${i}.txt`, bytes: Buffer.alloc(500, i) }));
    const before = received().length;
    const over = await multipart(worker.url, p, key, '/q', three);
    assert.equal(over.status, 429, JSON.stringify(over.body));
    assert.equal(over.body.code, 'QUOTA_EXCEEDED');
    const big = await multipart(worker.url, p, key, '/q', [{ name: 'ok.txt', bytes: Buffer.alloc(10) }, { name: 'big.bin', bytes: Buffer.alloc(1001) }]);
    assert.equal(big.status, 413, JSON.stringify(big.body));
    assert.equal(big.body.code, 'FILE_TOO_LARGE');
    assert.deepEqual(stored(p), [], 'a body that breaks off stores nothing');
    // A refused upload breaks off: the origin gets at most a body without its
    // closing delimiter (workerd may still end the HTTP request cleanly).
    for (const r of since(before)) {
      const boundary = /boundary=(.*)$/.exec(r.headers['content-type'])[1];
      assert.ok(r.aborted || !r.body.includes(`--${boundary}--`), 'never the closing delimiter');
    }
    const two = await multipart(worker.url, p, key, '/q', three.slice(0, 2));
    assert.equal(two.status, 200, 'the refused uploads gave their counts back');
    assert.equal(stored(p).length, 2);
    const third = await multipart(worker.url, p, key, '/q', three.slice(2));
    assert.equal(third.status, 429);
    assert.equal(third.body.code, 'QUOTA_EXCEEDED');
  });

  test('a base64 upload is sent as canonical JSON', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD'] });
    const bytes = randomBytes(1000);
    const r = await call(worker.url, 'POST', `/${p}/v4/files?folder=/strapi`, {
      key, headers: FROM,
      body: { name: 'img.png', data: ` ${bytes.toString('base64')}`, postactions: 'decode_base64', type: 'image/png', meta: { a: 1 } },
    });
    assert.equal(r.status, 200, r.text);
    assertClean([last()], key);
    const sent = JSON.parse(last().body.toString());
    assert.deepEqual(Object.keys(sent).sort(), ['data', 'meta', 'name', 'postactions', 'tags', 'type']);
    assert.equal(sent.data, bytes.toString('base64'));
    assert.equal(sha1(stored(p)[0].bytes), sha1(bytes));
  });

  test('by uuid: inspect, rename, meta and delete, each looked up first; canonical bodies', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, listing: { dir_scope: ['/docs'] }, upload: { dir_scope: ['/docs'] } });
    const up = await multipart(worker.url, p, key, '/docs', [{ name: 'a.txt', bytes: Buffer.from('a') }]);
    const id = up.body.file.uuid;
    let before = received().length;
    const seen = await call(worker.url, 'GET', `/${p}/v5/files/${id}?junk=1`, { key, headers: FROM });
    assert.equal(seen.status, 200, seen.text);
    assert.equal(seen.body.file.name, 'a.txt');
    let got = since(before);
    assertClean(got, key);
    assert.deepEqual(got.map((g) => [g.method, g.url]), [['GET', `/${p}/v4/files/${id}`], ['GET', `/${p}/v5/files/${id}`]], 'the lookup, then the call');
    assert.equal(decodeURIComponent(got[1].headers['x-sass-path']), '/docs/a.txt');
    before = received().length;
    const renamed = await call(worker.url, 'PATCH', `/${p}/v4/files/${id}`, { key, headers: FROM, body: { name: 'b.txt' } });
    assert.equal(renamed.status, 200, renamed.text);
    got = since(before);
    assert.deepEqual(got.map((g) => [g.method, g.url]), [['PATCH', `/${p}/v4/files/${id}`]], 'the lookup was cached');
    assert.equal(got[0].body.toString(), '{"name":"b.txt"}');
    assert.equal(got[0].headers['x-sass-permission'], 'FILE_RENAME');
    assert.equal(decodeURIComponent(got[0].headers['x-sass-to']), '/docs/b.txt');
    assert.equal(origin.files.get(id).name, 'b.txt');
    const meta = await call(worker.url, 'PUT', `/${p}/v5/files/${id}/meta`, { key, headers: FROM, body: { meta: { title: 'T' } } });
    assert.equal(meta.status, 200, meta.text);
    assert.equal(last().body.toString(), '{"meta":{"title":"T"}}');
    assert.deepEqual(origin.files.get(id).meta, { title: 'T' });
    assert.equal((await call(worker.url, 'DELETE', `/${p}/v5/files/${id}`, { key, headers: FROM })).status, 200);
    assert.equal(origin.files.has(id), false);
    assertError(assert, await call(worker.url, 'GET', `/${p}/v5/files/${id}`, { key, headers: FROM }), 404, 'FILE_NOT_FOUND');
    assertClean(since(before), key);
  });

  test('a uuid outside the key\'s scope is refused, and the origin sees only the lookup', async () => {
    const p = freshProject();
    const inside = await mintKey(worker.url, p, { permissions: ALL, listing: { dir_scope: ['/in'] }, upload: { dir_scope: ['/in', '/out'] } });
    const up = await multipart(worker.url, p, inside, '/out', [{ name: 'secret.txt', bytes: Buffer.from('s') }]);
    const id = up.body.file.uuid;
    for (const [method, path, body] of [['GET', '', undefined], ['DELETE', '', undefined], ['PATCH', '', { name: 'x.txt' }], ['PUT', '/meta', { meta: {} }]]) {
      const key = await mintKey(worker.url, p, { permissions: ALL, listing: { dir_scope: ['/in'] } });
      const before = received().length;
      assertError(assert, await call(worker.url, method, `/${p}/v5/files/${id}${path}`, { key, headers: FROM, body }), 403, 'SCOPE_DENIED');
      const got = since(before);
      assert.ok(got.length <= 1, `${method}: at most the lookup`);
      for (const g of got) assert.deepEqual([g.method, g.url], ['GET', `/${p}/v4/files/${id}`]);
      assertClean(got, key);
    }
    assert.equal(origin.files.get(id).name, 'secret.txt', 'untouched');
    assertError(assert, await call(worker.url, 'GET', `/${p}/v5/files/00000000-0000-4000-8000-00000000abcd`, { key: inside, headers: FROM }), 404, 'FILE_NOT_FOUND');
  });

  test('an origin that fails the lookup is a 502, never a pass', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL });
    origin.state.failLookups = true;
    try {
      const before = received().length;
      assertError(assert, await call(worker.url, 'DELETE', `/${p}/v5/files/00000000-0000-4000-8000-00000000dead`, { key, headers: FROM }), 502, 'ORIGIN_UNAVAILABLE');
      assert.deepEqual(since(before).map((g) => g.method), ['GET'], 'the delete never went');
    } finally {
      origin.state.failLookups = false;
    }
  });

  test('a listing the origin over-answers is filtered to the key\'s scope', async () => {
    const p = freshProject();
    const all = await mintKey(worker.url, p, { permissions: ALL });
    await multipart(worker.url, p, all, '/in', [{ name: 'a.txt', bytes: Buffer.from('a') }]);
    await multipart(worker.url, p, all, '/in/sub', [{ name: 'b.txt', bytes: Buffer.from('b') }]);
    await multipart(worker.url, p, all, '/out', [{ name: 'c.txt', bytes: Buffer.from('c') }]);
    const key = await mintKey(worker.url, p, { permissions: ['OBJECTS_LIST'], listing: { dir_scope: ['/in'] } });
    origin.state.overAnswer = true;
    try {
      const before = received().length;
      const listed = await call(worker.url, 'GET', `/${p}/v5/files?folder=/in&recursive=1&limit=50&view=grid`, { key, headers: FROM });
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(listed.body.files.map((f) => `${f.folder}/${f.name}`), ['/in/a.txt'], 'only the exact scope');
      assert.equal(listed.body.info.total_files_count, 1);
      assert.equal(last().url, `/${p}/v5/files?folder=%2Fin&recursive=1&offset=0&limit=50&sort=name:asc`);
      const folders = await call(worker.url, 'GET', `/${p}/v4/folders?folder=/in`, { key, headers: FROM });
      assert.equal(folders.status, 200, folders.text);
      assert.deepEqual(folders.body.folders.map((f) => f.path), ['/in'], 'no folder outside the scope');
      assertClean(since(before), key);
    } finally {
      origin.state.overAnswer = false;
    }
    assertError(assert, await call(worker.url, 'GET', `/${p}/v5/files?folder=/out`, { key, headers: FROM }), 403, 'SCOPE_DENIED');
  });

  test('uploads by URL: checked, counted per URL, and sent for the origin to fetch', async () => {
    const p = freshProject();
    const key = await mintKey(localUrls.url, p, { permissions: ['FILE_UPLOAD'], upload: { max: 2 } });
    const url = (size) => `http://127.0.0.1:${files.address().port}/pic.png?size=${size}`;
    const before = received().length;
    const r = await call(localUrls.url, 'POST', `/${p}/v4/files?folder=/web`, {
      key, headers: FROM, body: { files_urls: [{ url: url(10), name: 'one.png' }, { url: url(20) }] },
    });
    assert.equal(r.status, 200, r.text);
    const got = since(before);
    assert.equal(got.length, 1);
    assertClean(got, key);
    assert.deepEqual(JSON.parse(got[0].body.toString()).files_urls.map((u) => [u.url, u.name]),
      [[url(10), 'one.png'], [url(20), 'pic.png']]);
    assert.deepEqual(stored(p).map((f) => f.bytes.length).sort(), [10, 20]);
    assertError(assert, await call(localUrls.url, 'POST', `/${p}/v4/files?folder=/web`, { key, headers: FROM, body: { files_urls: [{ url: url(1) }] } }), 429, 'QUOTA_EXCEEDED');
    // Without ALLOW_LOCAL_URLS, a local target is refused before anything is sent.
    const strict = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD'] });
    const n = received().length;
    for (const target of [url(1), 'http://10.0.0.1/a.png', 'http://[::1]/a.png', 'http://169.254.169.254/latest']) {
      assertError(assert, await call(worker.url, 'POST', `/${p}/v4/files?folder=/web`, { key: strict, headers: FROM, body: { files_urls: [{ url: target }] } }), 400, 'URL_REFUSED');
    }
    assert.equal(received().length, n);
  });
});
