// The Filerobot-compatible API over a real wrangler dev with local R2: the key
// check, uploads (multipart, base64), listings, files by id, the counters per
// file, bad bodies, bulk template status and CORS for the clients' headers.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ROOT_KEY, assertError, call, createTemplate, freshProject, mintKey, startWorker } from './harness.mjs';

let worker;
before(async () => { worker = await startWorker(); });
after(async () => { await worker?.stop(); });

const FROM = { 'CF-Connecting-IP': '192.0.2.10', 'CF-IPCountry': 'FR' };
const ALL = ['FILE_UPLOAD', 'OBJECTS_FETCH', 'OBJECTS_LIST', 'FILE_DELETE', 'FILE_RENAME', 'FILE_MOVE', 'FILE_META_CHANGE'];
const sha1 = (b) => createHash('sha1').update(b).digest('hex');

/** A multipart upload, built by fetch's own FormData, as a browser would. */
function upload(p, key, folder, files, { headers = {}, route = 'v4/files' } = {}) {
  const form = new FormData();
  for (const f of files) {
    if (f.meta) form.append('meta[files[]]', JSON.stringify(f.meta));
    if (f.info !== false) form.append('info[files[]]', JSON.stringify({ name: f.name, type: f.type ?? 'text/plain' }));
    if (f.tags) form.append('tags[files[]]', JSON.stringify(f.tags));
    form.append(f.field ?? 'files[]', new Blob([f.bytes], { type: f.type ?? 'text/plain' }), f.filename ?? f.name);
  }
  const q = folder === undefined ? '' : `?folder=${encodeURIComponent(folder)}`;
  return fetch(`${worker.url}/${p}/${route}${q}`, { method: 'POST', body: form, headers: { 'X-Filerobot-Key': key, ...FROM, ...headers } })
    .then(async (r) => ({ status: r.status, headers: r.headers, body: await r.json().catch(() => undefined) }));
}

/** A raw multipart body, for the malformed ones. */
function raw(p, key, body, contentType = 'multipart/form-data; boundary=XyZ') {
  return call(worker.url, 'POST', `/${p}/v4/files?folder=/up`, { key, raw: body, headers: { ...FROM, 'Content-Type': contentType } });
}

const get = (p, path, key, q = '') => call(worker.url, 'GET', `/${p}${path}${q}`, { key, headers: FROM });
const content = async (p, path) => {
  const r = await fetch(`${worker.url}/${p}/v5/objects${path}`, { headers: { 'X-Filerobot-Key': ROOT_KEY } });
  return r.status === 200 ? Buffer.from(await r.arrayBuffer()) : r.status;
};

describe('the key exchange and the key check', () => {
  test('the issue answer tells the widget when to refresh, in milliseconds', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, { permissions: ['FILE_UPLOAD'], key_validity: { expiration_duration: 600 } });
    const r = await call(worker.url, 'GET', `/${p}/key/${t.id}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.key_validity.expire_duration, 570_000, '600 s less 30 s, in ms');
    const short = await createTemplate(worker.url, p, { key_validity: { expiration_duration: 10 } });
    assert.equal((await call(worker.url, 'GET', `/${p}/key/${short.id}`)).body.key_validity.expire_duration, 9_000);
  });

  test('GET /v4/key/info answers the permissions, and checks the key as any call', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD', 'OBJECTS_LIST'], restrictions: { whitelist_countries: ['FR'] } });
    const r = await call(worker.url, 'GET', `/${p}/v4/key/info?key=${key}`, { headers: FROM });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { status: 'success', is_validate: true, is_user_info_included: false, permissions: ['OBJECTS_LIST', 'FILE_UPLOAD'] });
    assertError(assert, await call(worker.url, 'GET', `/${p}/v4/key/info?key=${key}`, { headers: { 'CF-IPCountry': 'US' } }), 403, 'COUNTRY_NOT_ALLOWED');
    assertError(assert, await call(worker.url, 'GET', `/${p}/v4/key/info?key=nope`), 401, 'KEY_INVALID');
    assertError(assert, await call(worker.url, 'GET', `/${p}/v4/key/info`), 401, 'KEY_INVALID');
    assertError(assert, await call(worker.url, 'GET', `/${freshProject()}/v4/key/info?key=${key}`, { headers: FROM }), 403, 'PROJECT_MISMATCH');
  });

  test('GET /v4/meta/model/fields answers 200 to a usable credential only', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['OBJECTS_LIST'] });
    assert.equal((await get(p, '/v4/meta/model/fields', key)).status, 200);
    assert.equal((await get(p, '/v4/meta/model/fields', ROOT_KEY)).status, 200);
    assertError(assert, await get(p, '/v4/meta/model/fields', 'nope'), 401, 'KEY_INVALID');
  });
});

describe('uploads', () => {
  test('a multipart upload as the widget sends it gives the Filerobot file object', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, upload: { dir_scope: ['/up/*'] } });
    const bytes = randomBytes(3000);
    const r = await upload(p, key, '/up', [{ name: 'photo one.jpg', type: 'image/jpeg', bytes, meta: { title: 'Hello' }, tags: { lang: 'en', new_tags: ['cat'] } }]);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const f = r.body.file;
    assert.equal(r.body.status, 'success');
    assert.match(f.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(f.name, 'photo one.jpg');
    assert.equal(f.extension, 'jpg');
    assert.equal(f.type, 'image/jpeg');
    assert.deepEqual(f.size, { bytes: 3000, pretty: '2.9 KB' });
    assert.equal(f.hash.sha1, sha1(bytes), 'the SHA-1, computed while the file streamed');
    assert.equal(f.folder, '/up');
    assert.deepEqual(f.meta, { title: 'Hello' });
    assert.deepEqual(f.tags, { en: ['cat'] });
    assert.equal(f.url.cdn, `${worker.url}/${p}/v5/objects/up/photo%20one.jpg`);
    assert.ok(f.created_at && f.modified_at);
    assert.ok((await content(p, '/up/photo one.jpg')).equals(bytes), 'stored byte for byte');
    const fetched = await fetch(f.url.cdn, { headers: { 'X-Filerobot-Key': key, ...FROM } });
    assert.ok(Buffer.from(await fetched.arrayBuffer()).equals(bytes), 'its URL serves it, to a key that may fetch');
  });

  test('also at /v4/upload, with dir= and any part name; several files answer files[]', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL });
    const form = new FormData();
    form.append('a.txt', new Blob(['aaa']), 'a.txt');
    form.append('meta[a.txt]', JSON.stringify({ k: 'v' }));
    form.append('attachment', new Blob(['bb']), 'b.txt');
    const r = await fetch(`${worker.url}/${p}/v4/upload?dir=/sdk`, { method: 'POST', body: form, headers: { 'X-Filerobot-Key': key, ...FROM } });
    const body = await r.json();
    assert.equal(r.status, 200, JSON.stringify(body));
    assert.deepEqual(body.files.map((f) => [f.name, f.folder, f.size.bytes]), [['a.txt', '/sdk', 3], ['b.txt', '/sdk', 2]]);
    assert.deepEqual(body.files[0].meta, { k: 'v' }, 'a description after its file');
  });

  test('a base64 JSON upload, as the Strapi provider sends it', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD'] });
    const bytes = randomBytes(500);
    const r = await call(worker.url, 'POST', `/${p}/v4/files?folder=/strapi`, { key, headers: FROM, body: { name: 's.bin', data: bytes.toString('base64'), postactions: 'decode_base64' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.file.hash.sha1, sha1(bytes));
    assert.ok(r.body.file.url.cdn.endsWith(`/${p}/v5/objects/strapi/s.bin`));
    assert.ok((await content(p, '/strapi/s.bin')).equals(bytes));
    assertError(assert, await call(worker.url, 'POST', `/${p}/v4/files?folder=/strapi`, { key, headers: FROM, body: { name: 's.bin', data: '!!!', postactions: 'decode_base64' } }), 400, 'INVALID_FIELD');
    assertError(assert, await call(worker.url, 'POST', `/${p}/v4/files?folder=/strapi`, { key, headers: FROM, body: { files_urls: [{ url: 'ftp://x/a' }] } }), 400, 'INVALID_FIELD');
    assertError(assert, await call(worker.url, 'POST', `/${p}/v4/files?folder=/strapi`, { key, headers: FROM, body: { files_urls: [{ url: 'http://127.0.0.1:9/a' }] } }), 400, 'URL_REFUSED');
  });

  test('a file larger than 10 MiB goes through an R2 multipart upload, whole', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL });
    const bytes = randomBytes(10 * 1024 * 1024 + 12345);
    const r = await upload(p, key, '/big', [{ name: 'big.bin', type: 'application/octet-stream', bytes }]);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.file.size.bytes, bytes.length);
    assert.equal(r.body.file.hash.sha1, sha1(bytes));
    assert.ok((await content(p, '/big/big.bin')).equals(bytes));
    const listed = await get(p, '/v5/files', key, '?folder=/big');
    assert.equal(listed.body.files[0].hash.sha1, sha1(bytes), 'its record comes from the index');
  });

  test('the scope, the size cap per file while it streams, and the permission', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD', 'OBJECTS_LIST'], upload: { dir_scope: ['/up/*'], max_file_size: 1000 } });
    const out = await upload(p, key, '/private', [{ name: 'a.txt', bytes: 'x' }]);
    assert.equal(out.status, 403);
    assert.equal(out.body.code, 'SCOPE_DENIED');
    assert.equal(out.body.msg, 'this key may not upload into /private');
    const big = await upload(p, key, '/up', [{ name: 'small.txt', bytes: 'ok' }, { name: 'big.bin', bytes: randomBytes(1001) }]);
    assert.equal(big.status, 413);
    assert.equal(big.body.code, 'FILE_TOO_LARGE');
    assert.equal(await content(p, '/up/small.txt'), 404, 'nothing of the request is stored');
    assert.equal(await content(p, '/up/big.bin'), 404);
    const reader = await mintKey(worker.url, p, { permissions: ['OBJECTS_LIST'] });
    const denied = await upload(p, reader, '/up', [{ name: 'a.txt', bytes: 'x' }]);
    assert.equal(denied.body.code, 'PERMISSION_DENIED');
    const escape = await upload(p, key, '/up', [{ name: '../a.txt', bytes: 'x' }]);
    assert.equal(escape.status, 400);
    assert.equal(escape.body.code, 'INVALID_FIELD');
  });

  test('malformed multipart bodies are typed 400s and store nothing', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL });
    const part = (name, file, data) => `--XyZ\r\nContent-Disposition: form-data; name="${name}"${file ? `; filename="${file}"` : ''}\r\n\r\n${data}\r\n`;
    const cases = [
      ['no boundary', part('files[]', 'a.txt', 'x') + '--XyZ--\r\n', 'multipart/form-data'],
      ['a truncated body', part('files[]', 'a.txt', 'hello world').slice(0, -8)],
      ['a part with no name', '--XyZ\r\nContent-Disposition: form-data; filename="a.txt"\r\n\r\nx\r\n--XyZ--\r\n'],
      ['10,000 tiny parts', Array.from({ length: 10_000 }, () => part('x', null, '')).join('') + '--XyZ--\r\n'],
      ['a header line of 1 MB', `--XyZ\r\nContent-Disposition: form-data; name="files[]"; filename="${'a'.repeat(1024 * 1024)}"\r\n\r\nx\r\n--XyZ--\r\n`],
      ['no file at all', part('x', null, 'y') + '--XyZ--\r\n'],
    ];
    for (const [name, body, type] of cases) {
      const r = await raw(p, key, body, type);
      assertError(assert, r, 400, 'INVALID_MULTIPART');
      assert.ok(r.body.msg.length > 0, name);
    }
    const listed = await get(p, '/v5/files', ROOT_KEY, '?folder=/up&recursive=1');
    assert.deepEqual(listed.body.files, [], 'nothing was stored');
  });
});

describe('one count per file', () => {
  test('3 files against upload.max 2 store nothing and answer 429', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, upload: { max: 2 } });
    const r = await upload(p, key, '/q', [1, 2, 3].map((i) => ({ name: `${i}.txt`, bytes: String(i) })));
    assert.equal(r.status, 429);
    assert.equal(r.body.code, 'QUOTA_EXCEEDED');
    assert.deepEqual((await get(p, '/v5/files', ROOT_KEY, '?folder=/q')).body.files, []);
    const two = await upload(p, key, '/q', [1, 2].map((i) => ({ name: `${i}.txt`, bytes: String(i) })));
    assert.equal(two.status, 200, 'the refused request counted nothing');
    assert.equal((await upload(p, key, '/q', [{ name: '9.txt', bytes: '9' }])).status, 429);
  });

  test('30 parallel single-file uploads against max 10 store exactly 10', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL, upload: { max: 10 } });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => upload(p, key, '/par', [{ name: `${i}.txt`, bytes: String(i) }])));
    assert.equal(results.filter((r) => r.status === 200).length, 10);
    assert.equal(results.filter((r) => r.status === 429).length, 20);
    const listed = await get(p, '/v5/files', ROOT_KEY, '?folder=/par&limit=100');
    assert.equal(listed.body.info.total_files_count, 10);
  });
});

describe('listings', () => {
  test('files, with folder, sort, offset, limit, recursive and q; folders; stats', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL });
    for (const [folder, name] of [['/l', 'b.txt'], ['/l', 'A.txt'], ['/l/sub', 'c.txt'], ['/l/sub/deep', 'd.txt'], ['/lx', 'e.txt']]) {
      assert.equal((await upload(p, key, folder, [{ name, bytes: name }])).status, 200);
    }
    const names = (r) => r.body.files.map((f) => `${f.folder}/${f.name}`);
    const top = await get(p, '/v5/files', key, '?folder=/l');
    assert.equal(top.status, 200, top.text);
    assert.deepEqual(names(top), ['/l/A.txt', '/l/b.txt']);
    assert.equal(top.body.info.total_files_count, 2);
    const all = await get(p, '/v4/files', key, '?folder=/l&recursive=1&sort=name:desc&limit=2&offset=1');
    assert.deepEqual(names(all), ['/l/sub/c.txt', '/l/b.txt']);
    assert.equal(all.body.info.total_files_count, 4);
    assert.deepEqual(names(await get(p, '/v5/files', key, '?folder=/l&recursive=1&q=D.T')), ['/l/sub/deep/d.txt']);
    const folders = await get(p, '/v5/folders', key, '?folder=/l&recursive=1');
    assert.deepEqual(folders.body.folders.map((f) => f.path), ['/l/sub', '/l/sub/deep']);
    assert.equal(folders.body.total, 2);
    assert.equal(folders.body.folders[0].name, 'sub');
    assert.deepEqual((await get(p, '/v5/files/stats', key, '?folder=/l&recursive=1')).body.stats, { approx_files_count: 4 });
    assertError(assert, await get(p, '/v5/files', key, '?folder=/l&limit=1001'), 400, 'INVALID_FIELD');
    assertError(assert, await get(p, '/v5/files', key, '?folder=/l&folder=/lx'), 400, 'INVALID_FIELD');
  });

  test('nothing outside listing.dir_scope comes back, even recursively', async () => {
    const p = freshProject();
    const writer = await mintKey(worker.url, p, { permissions: ALL });
    for (const folder of ['/s', '/s/in', '/s/in/deeper']) await upload(p, writer, folder, [{ name: 'f.txt', bytes: 'x' }]);
    const exact = await mintKey(worker.url, p, { permissions: ['OBJECTS_LIST'], listing: { dir_scope: ['/s'] } });
    const r = await get(p, '/v5/files', exact, '?folder=/s&recursive=1');
    assert.deepEqual(r.body.files.map((f) => f.folder), ['/s']);
    assert.deepEqual((await get(p, '/v5/folders', exact, '?folder=/s')).body.folders, [], 'nor the names of its subfolders');
    assertError(assert, await get(p, '/v5/files', exact, '?folder=/s/in'), 403, 'SCOPE_DENIED');
  });
});

describe('files by id', () => {
  test('inspect, rename, meta and delete; the id is stable; unknown ids are 404', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL });
    const up = await upload(p, key, '/id', [{ name: 'one.txt', bytes: 'one' }]);
    const { uuid } = up.body.file;
    const seen = await get(p, `/v4/files/${uuid}`, key);
    assert.equal(seen.status, 200);
    assert.equal(seen.body.file.uuid, uuid);
    assert.equal(seen.body.file.name, 'one.txt');
    const renamed = await call(worker.url, 'PATCH', `/${p}/v4/files/${uuid}`, { key, headers: FROM, body: { name: 'two.txt' } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.file.uuid, uuid, 'the id stays');
    assert.equal(renamed.body.file.name, 'two.txt');
    assert.equal((await content(p, '/id/two.txt')).toString(), 'one');
    assert.equal(await content(p, '/id/one.txt'), 404);
    assert.equal((await call(worker.url, 'PATCH', `/${p}/v4/files/${uuid}`, { key, headers: FROM, body: { name: 'two.txt' } })).status, 200, 'to its own name: 200');
    const meta = await call(worker.url, 'PUT', `/${p}/v5/files/${uuid}/meta`, { key, headers: FROM, body: { meta: { alt: 'x' } } });
    assert.equal(meta.status, 200, meta.text);
    assert.deepEqual((await get(p, `/v5/files/${uuid}`, key)).body.file.meta, { alt: 'x' });
    assert.equal((await call(worker.url, 'DELETE', `/${p}/v4/files/${uuid}`, { key, headers: FROM })).status, 200);
    assertError(assert, await get(p, `/v4/files/${uuid}`, key), 404, 'FILE_NOT_FOUND');
    assertError(assert, await get(p, '/v5/files/not-a-uuid', key), 404, 'FILE_NOT_FOUND');
    const stats = await get(p, '/v5/files/stats', key, '?folder=/id');
    assert.equal(stats.status, 200, '"stats" is never a file');
  });

  test('a file replaced by an upload or a rename takes its id with it; the new one answers by its own', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ALL });
    const first = (await upload(p, key, '/r', [{ name: 'a.txt', bytes: 'first' }])).body.file.uuid;
    const second = (await upload(p, key, '/r', [{ name: 'a.txt', bytes: 'second' }])).body.file.uuid;
    assert.notEqual(first, second, 'an upload over a file gives a new id');
    for (let i = 0; i < 2; i++) { // the stale entry is found, then gone: 404 both times
      assertError(assert, await get(p, `/v4/files/${first}`, key), 404, 'FILE_NOT_FOUND');
    }
    assertError(assert, await call(worker.url, 'DELETE', `/${p}/v4/files/${first}`, { key, headers: FROM }), 404, 'FILE_NOT_FOUND');
    assertError(assert, await call(worker.url, 'PATCH', `/${p}/v4/files/${first}`, { key, headers: FROM, body: { name: 'z.txt' } }), 404, 'FILE_NOT_FOUND');
    assert.equal((await content(p, '/r/a.txt')).toString(), 'second', 'a call by the old id changed nothing');
    const seen = await get(p, `/v4/files/${second}`, key);
    assert.equal(seen.status, 200, seen.text);
    assert.equal(seen.body.file.size.bytes, 6);
    // A rename onto a file replaces it: the replaced file's id is gone, the renamed one's follows it.
    const other = (await upload(p, key, '/r', [{ name: 'b.txt', bytes: 'bee' }])).body.file.uuid;
    const renamed = await call(worker.url, 'PATCH', `/${p}/v4/files/${other}`, { key, headers: FROM, body: { name: 'a.txt' } });
    assert.equal(renamed.status, 200, renamed.text);
    assertError(assert, await get(p, `/v4/files/${second}`, key), 404, 'FILE_NOT_FOUND');
    assert.equal((await get(p, `/v4/files/${other}`, key)).body.file.name, 'a.txt');
    assert.equal((await content(p, '/r/a.txt')).toString(), 'bee');
    // The same bytes by the object API: a PUT over a file gives a new id too.
    const put = await call(worker.url, 'PUT', `/${p}/v5/objects/r/a.txt`, { key, raw: 'put', headers: { ...FROM, 'Content-Type': 'text/plain' } });
    assert.equal(put.status, 201, put.text);
    assertError(assert, await get(p, `/v4/files/${other}`, key), 404, 'FILE_NOT_FOUND');
    assert.equal((await get(p, `/v4/files/${put.body.file.uuid}`, key)).status, 200);
  });

  test('a file outside the scope is refused by id too; renames need FILE_RENAME', async () => {
    const p = freshProject();
    const writer = await mintKey(worker.url, p, { permissions: ALL });
    const { uuid } = (await upload(p, writer, '/secret', [{ name: 's.txt', bytes: 's' }])).body.file;
    const narrow = await mintKey(worker.url, p, { permissions: ALL, listing: { dir_scope: ['/public/*'] } });
    assertError(assert, await get(p, `/v4/files/${uuid}`, narrow), 403, 'SCOPE_DENIED');
    assertError(assert, await call(worker.url, 'DELETE', `/${p}/v4/files/${uuid}`, { key: narrow, headers: FROM }), 403, 'SCOPE_DENIED');
    const noRename = await mintKey(worker.url, p, { permissions: ['OBJECTS_LIST'] });
    assertError(assert, await call(worker.url, 'PATCH', `/${p}/v4/files/${uuid}`, { key: noRename, headers: FROM, body: { name: 'x.txt' } }), 403, 'PERMISSION_DENIED');
    assertError(assert, await call(worker.url, 'PATCH', `/${p}/v4/files/${uuid}`, { key: writer, headers: FROM, body: { name: '../x.txt' } }), 400, 'INVALID_FIELD');
  });
});

describe('templates in bulk', () => {
  test('deactivate several at once; an unknown id changes none', async () => {
    const p = freshProject();
    const a = await createTemplate(worker.url, p, { permissions: ['FILE_UPLOAD'] });
    const b = await createTemplate(worker.url, p, { permissions: ['FILE_UPLOAD'] });
    const bulk = (body) => call(worker.url, 'PATCH', `/${p}/v5/security-templates`, { key: ROOT_KEY, body });
    assertError(assert, await bulk({ ids: [a.id, 'SECU_00000000000000000000000000000000'], active: false }), 404, 'TEMPLATE_NOT_FOUND');
    assert.equal((await call(worker.url, 'GET', `/${p}/key/${a.id}`)).status, 200, 'nothing was changed');
    const r = await bulk({ ids: [a.id, b.id], active: false });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.templates.map((t) => t.active), [false, false]);
    for (const t of [a, b]) assertError(assert, await call(worker.url, 'GET', `/${p}/key/${t.id}`), 403, 'TEMPLATE_INACTIVE');
    assertError(assert, await bulk({ ids: [], active: true }), 400, 'INVALID_FIELD');
  });
});

describe('CORS for the clients', () => {
  test('a preflight allows the headers the Filerobot clients send', async () => {
    const r = await fetch(`${worker.url}/demo/v4/files?folder=/x`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'x-filerobot-key, x-filerobot-airbox-puid, content-type' },
    });
    assert.equal(r.status, 204);
    const allowed = r.headers.get('access-control-allow-headers').toLowerCase();
    for (const h of ['x-filerobot-key', 'x-filerobot-airbox-puid', 'content-type']) assert.ok(allowed.includes(h), h);
  });
});
