// The red-team findings, each as a class of bug, against a real wrangler dev.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import {
  ROOT_KEY, assertError, call, createTemplate, freshProject, mintKey, signKey, startWorker, verifiedClaims,
} from './harness.mjs';
import { AMBIGUOUS } from './cases.mjs';

let worker;
before(async () => { worker = await startWorker(); });
after(async () => { await worker?.stop(); });

const FROM = { 'CF-Connecting-IP': '192.0.2.10', 'CF-IPCountry': 'FR' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const put = (p, path, key, headers = {}) => call(worker.url, 'PUT', `/${p}/v5/objects${path}`, { key, raw: 'hi', headers: { ...FROM, ...headers } });

describe('lifetime totals', () => {
  test('hold through the last accepted second of a key (upload.max and listing.max)', async () => {
    const p = freshProject();
    const minted = verifiedClaims(await mintKey(worker.url, p, {
      permissions: ['FILE_UPLOAD', 'OBJECTS_LIST'], upload: { max: 1 }, listing: { max: 1 },
    })).claims;
    // Re-signed to expire now, so that its last accepted second (expires_at
    // + 30 s of leeway) comes in about 2 s.
    const last = Math.floor(Date.now() / 1000) + 2;
    const key = signKey({ ...minted, key_id: randomBytes(16).toString('hex'), expires_at: last - 30 });
    assert.equal((await put(p, '/a.txt', key)).status, 201);
    assert.equal((await call(worker.url, 'GET', `/${p}/v5/list`, { key, headers: FROM })).status, 200);
    await sleep(last * 1000 + 100 - Date.now());
    const answers = [];
    while (Date.now() < (last + 1) * 1000 - 150) {
      answers.push((await put(p, `/b${answers.length}.txt`, key)).status);
      answers.push((await call(worker.url, 'GET', `/${p}/v5/list`, { key, headers: FROM })).status);
    }
    assert.ok(answers.length >= 4, `tried ${answers.length} times in the last second`);
    assert.deepEqual([...new Set(answers)], [429], 'the totals still hold in the last accepted second');
    await sleep((last + 1) * 1000 + 50 - Date.now());
    assertError(assert, await put(p, '/c.txt', key), 401, 'KEY_EXPIRED');
  });
});

describe('one reading only', () => {
  test('paths, queries and destinations another server could read differently are refused', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, {
      permissions: ['FILE_UPLOAD', 'OBJECTS_LIST', 'FILE_MOVE', 'FILE_RENAME'],
      upload: { dir_scope: ['/uploads/*'] }, listing: { dir_scope: ['/uploads/*'] },
    });
    for (const [method, path, body, code] of AMBIGUOUS(p)) {
      const r = await call(worker.url, method, path, { key, body, raw: method === 'PUT' ? 'hi' : undefined, headers: FROM });
      assert.equal(r.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.body.code, code, `${method} ${path}`);
    }
    const listed = await call(worker.url, 'GET', `/${p}/v5/list?folder=/`, { key: ROOT_KEY });
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.files, [], 'nothing stored');
  });
});

describe('a narrowing template change', () => {
  test('makes keys issued before it refuse with TEMPLATE_CHANGED; a widening one leaves them alone', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, { permissions: ['FILE_UPLOAD', 'OBJECTS_LIST'], upload: { max: 10 } });
    const issue = async () => (await call(worker.url, 'GET', `/${p}/key/${t.id}`, { headers: FROM })).body.key;
    const patch = (body) => call(worker.url, 'PATCH', `/${p}/v5/security-templates/${t.id}`, { key: ROOT_KEY, body });
    const before = await issue();
    assert.equal((await put(p, '/a.txt', before)).status, 201);
    const widened = await patch({ description: 'renamed', upload: { max: 20 }, permissions: ['FILE_UPLOAD', 'OBJECTS_LIST', 'FILE_DELETE'] });
    assert.equal(widened.status, 200, widened.text);
    assert.equal(widened.body.template.generation, 0);
    assert.equal((await put(p, '/b.txt', before)).status, 201, 'a widening change leaves keys alone');
    for (const [narrowing, generation] of [[{ upload: { max: 5 } }, 1], [{ permissions: ['FILE_UPLOAD'] }, 2]]) {
      const key = await issue();
      const r = await patch(narrowing);
      assert.equal(r.body.template.generation, generation);
      assertError(assert, await put(p, '/c.txt', key), 403, 'TEMPLATE_CHANGED');
      assertError(assert, await call(worker.url, 'GET', `/${p}/v4/key/info?key=${key}`, { headers: FROM }), 403, 'TEMPLATE_CHANGED');
    }
    assertError(assert, await put(p, '/c.txt', before), 403, 'TEMPLATE_CHANGED');
    const after = await issue();
    assert.equal((await put(p, '/c.txt', after)).status, 201, 'a new key works');
  });
});

describe('where a key may be used', () => {
  test('holds for introspection and the key check too', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, {
      permissions: ['OBJECTS_LIST'], restrictions: { whitelist_ip_ranges: ['10.0.0.0/8'], whitelist_countries: ['FR'] },
      allowed_origins: ['https://app.example'],
    });
    const inside = { 'CF-Connecting-IP': '10.1.2.3', 'CF-IPCountry': 'FR', Origin: 'https://app.example' };
    for (const path of [`/${p}/v5/key/introspect`, `/${p}/v4/key/info?key=${key}`]) {
      assert.equal((await call(worker.url, 'GET', path, { key, headers: inside })).status, 200, path);
      assertError(assert, await call(worker.url, 'GET', path, { key, headers: { ...inside, 'CF-Connecting-IP': '192.0.2.1' } }), 403, 'IP_NOT_ALLOWED');
      assertError(assert, await call(worker.url, 'GET', path, { key, headers: { ...inside, 'CF-IPCountry': 'DE' } }), 403, 'COUNTRY_NOT_ALLOWED');
      assertError(assert, await call(worker.url, 'GET', path, { key, headers: { ...inside, Origin: 'https://evil.example' } }), 403, 'ORIGIN_NOT_ALLOWED');
    }
  });
});

describe('encoded bodies', () => {
  test('an upload in a Content-Encoding other than identity is refused, whatever its size once decoded', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD'], upload: { max_file_size: 1000 } });
    const bomb = gzipSync(Buffer.alloc(500_000));
    assert.ok(bomb.length < 1000);
    const r = await call(worker.url, 'PUT', `/${p}/v5/objects/bomb.bin`, { key, raw: bomb, headers: { ...FROM, 'Content-Encoding': 'gzip' } });
    assertError(assert, r, 415, 'ENCODING_UNSUPPORTED');
    const json = await call(worker.url, 'POST', `/${p}/v4/files?folder=/`, {
      key, raw: gzipSync(JSON.stringify({ name: 'a.txt', data: Buffer.alloc(5000).toString('base64'), postactions: 'decode_base64' })),
      headers: { ...FROM, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
    });
    assertError(assert, json, 415, 'ENCODING_UNSUPPORTED');
    assert.equal((await put(p, '/plain.bin', key, { 'Content-Encoding': 'identity' })).status, 201);
  });
});

describe('an API key gives only what it holds', () => {
  test('to the keys it mints and the templates it creates, changes or activates', async () => {
    const p = freshProject();
    const made = await call(worker.url, 'POST', '/v5/api-keys', {
      key: ROOT_KEY, body: { description: 'config only', permissions: ['CONFIG_CHANGE', 'FILE_UPLOAD'], projects: [p] },
    });
    assert.equal(made.status, 201, made.text);
    const secret = made.body.secret;
    const mint = (permissions) => call(worker.url, 'POST', `/${p}/key`, { key: secret, body: { data: { permissions } } });
    assertError(assert, await mint(['FILE_UPLOAD', 'FILE_DELETE', 'OBJECTS_FETCH']), 403, 'KEY_TOO_BROAD');
    const minted = await mint(['FILE_UPLOAD']);
    assert.equal(minted.status, 200, minted.text);
    assert.deepEqual(verifiedClaims(minted.body.key).claims.permissions, ['FILE_UPLOAD']);
    const templates = `/${p}/v5/security-templates`;
    assertError(assert, await call(worker.url, 'POST', templates, { key: secret, body: { permissions: ['OBJECTS_FETCH'] } }), 403, 'KEY_TOO_BROAD');
    const own = await call(worker.url, 'POST', templates, { key: secret, body: { permissions: ['FILE_UPLOAD'] } });
    assert.equal(own.status, 201, own.text);
    assertError(assert, await call(worker.url, 'PATCH', `${templates}/${own.body.template.id}`, { key: secret, body: { permissions: ['FILE_UPLOAD', 'FILE_DELETE'] } }), 403, 'KEY_TOO_BROAD');
    const broad = await createTemplate(worker.url, p, { permissions: ['FILE_DELETE'] });
    assertError(assert, await call(worker.url, 'PATCH', `${templates}/${broad.id}`, { key: secret, body: { upload: { dir_scope: ['/*'] } } }), 403, 'KEY_TOO_BROAD');
    assert.equal((await call(worker.url, 'PATCH', templates, { key: secret, body: { ids: [broad.id], active: false } })).status, 200, 'deactivating takes away');
    assertError(assert, await call(worker.url, 'PATCH', templates, { key: secret, body: { ids: [broad.id], active: true } }), 403, 'KEY_TOO_BROAD');
    const read = await call(worker.url, 'GET', `${templates}/${broad.id}`, { key: ROOT_KEY });
    assert.equal(read.body.template.active, false);
  });
});

describe('attenuated keys', () => {
  test('count against every ancestor: three children of a key with upload.max 3 store 3 files in all', async () => {
    const p = freshProject();
    const parent = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD', 'CONFIG_CHANGE'], upload: { max: 3 } });
    const children = [];
    for (let i = 0; i < 3; i++) {
      const r = await call(worker.url, 'POST', `/${p}/key`, { key: parent, headers: FROM, body: { data: { upload: { max: 3 } } } });
      assert.equal(r.status, 200, r.text);
      children.push(r.body.key);
    }
    const statuses = [];
    for (const [i, child] of children.entries()) {
      for (let n = 0; n < 3; n++) statuses.push((await put(p, `/c${i}-${n}.txt`, child)).status);
    }
    assert.equal(statuses.filter((s) => s === 201).length, 3, JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 429).length, 6);
    assertError(assert, await put(p, '/parent.txt', parent), 429, 'QUOTA_EXCEEDED');
    const grandchild = await call(worker.url, 'POST', `/${p}/key`, { key: children[0], headers: FROM, body: { data: { permissions: ['FILE_UPLOAD'] } } });
    assert.equal(grandchild.status, 200, grandchild.text);
    assertError(assert, await put(p, '/grandchild.txt', grandchild.body.key), 429, 'QUOTA_EXCEEDED');
  });

  test('minting from a key is rate-limited per client, like GET /key', async () => {
    const p = freshProject();
    const parent = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD', 'CONFIG_CHANGE'] });
    const mint = (headers = FROM) => call(worker.url, 'POST', `/${p}/key`, { key: parent, headers, body: { data: {} } });
    for (let i = 0; i < 5; i++) assert.equal((await mint()).status, 200);
    const refused = await mint();
    assertError(assert, refused, 429, 'RATE_LIMITED');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal((await mint({ ...FROM, 'CF-Connecting-IP': '192.0.2.77' })).status, 200, 'another client has its own count');
  });
});

describe('stored files', () => {
  test('are served with nosniff and a sandbox, and active types as attachments', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD', 'OBJECTS_FETCH'] });
    const cases = [
      ['page.html', 'text/html', '<script>alert(document.cookie)</script>', true],
      ['img.svg', 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', true],
      ['feed.xml', 'application/xml', '<a/>', true],
      ['app.js', 'text/javascript', 'alert(1)', true],
      ['photo.png', 'image/png', 'png', false],
      ['notes.txt', 'text/plain', 'hi', false],
    ];
    for (const [name, type, body, attachment] of cases) {
      const up = await call(worker.url, 'PUT', `/${p}/v5/objects/${name}`, { key, raw: body, headers: { ...FROM, 'Content-Type': type } });
      assert.equal(up.status, 201, up.text);
      const r = await fetch(`${worker.url}/${p}/v5/objects/${name}`, { headers: { 'X-Filerobot-Key': key, ...FROM } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', name);
      assert.equal(r.headers.get('content-security-policy'), 'sandbox', name);
      assert.equal((r.headers.get('content-disposition') ?? '').startsWith('attachment'), attachment, name);
      assert.equal(await r.text(), body);
    }
  });
});

describe('smaller findings', () => {
  test('an exact scope does not list the names of the folders below it', async () => {
    const p = freshProject();
    for (const path of ['/a/file.txt', '/a/secret/x.txt', '/a/other/y.txt']) {
      assert.equal((await put(p, path, ROOT_KEY)).status, 201);
    }
    const key = await mintKey(worker.url, p, { permissions: ['OBJECTS_LIST'], listing: { dir_scope: ['/a'] } });
    const own = await call(worker.url, 'GET', `/${p}/v5/list?folder=/a`, { key, headers: FROM });
    assert.equal(own.status, 200, own.text);
    assert.deepEqual(own.body.files.map((f) => f.path), ['/a/file.txt']);
    assert.deepEqual(own.body.folders, []);
    const all = await call(worker.url, 'GET', `/${p}/v5/list?folder=/a`, { key: ROOT_KEY });
    assert.deepEqual(all.body.folders.sort(), ['/a/other', '/a/secret'], 'an API key sees them');
    const filerobot = await call(worker.url, 'GET', `/${p}/v5/folders?folder=/a`, { key, headers: FROM });
    assert.deepEqual(filerobot.body.folders, []);
  });

  test('an IP range with host bits, or an IPv4-mapped range under /96, is refused, not rewritten', async () => {
    const p = freshProject();
    for (const range of ['10.1.2.3/8', '::ffff:192.0.2.0/84', '2001:db8::1/32']) {
      const r = await call(worker.url, 'POST', `/${p}/key`, { key: ROOT_KEY, body: { data: { restrictions: { whitelist_ip_ranges: [range] } } } });
      assertError(assert, r, 400, 'INVALID_FIELD');
      assert.match(r.body.msg, /restrictions\.whitelist_ip_ranges/);
      const t = await call(worker.url, 'POST', `/${p}/v5/security-templates`, { key: ROOT_KEY, body: { restrictions: { whitelist_ip_ranges: [range] } } });
      assertError(assert, t, 400, 'INVALID_FIELD');
    }
    const fine = await call(worker.url, 'POST', `/${p}/key`, { key: ROOT_KEY, body: { data: { restrictions: { whitelist_ip_ranges: ['10.0.0.0/8', '::ffff:192.0.2.0/120'] } } } });
    assert.equal(fine.status, 200, fine.text);
    assert.deepEqual(verifiedClaims(fine.body.key).claims.restrictions.whitelist_ip_ranges, ['10.0.0.0/8', '192.0.2.0/24']);
  });

  test('JSON with duplicate keys is refused in bodies', async () => {
    const p = freshProject();
    const raw = '{"data":{"permissions":["FILE_UPLOAD"],"permissions":["FILE_DELETE"]}}';
    const r = await call(worker.url, 'POST', `/${p}/key`, { key: ROOT_KEY, raw, headers: { 'Content-Type': 'application/json' } });
    assertError(assert, r, 400, 'INVALID_JSON');
    const t = await call(worker.url, 'POST', `/${p}/v5/security-templates`, { key: ROOT_KEY, raw: '{"upload":{"max":1,"max":100}}', headers: { 'Content-Type': 'application/json' } });
    assertError(assert, t, 400, 'INVALID_JSON');
  });
});

describe('key ids carry their expiry', () => {
  test('so a revocation needs no record of issued keys; a key whose id does not is refused', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD'] });
    const { claims } = verifiedClaims(key);
    assert.equal(parseInt(claims.key_id.slice(0, 8), 16), claims.expires_at);
    const r = await call(worker.url, 'DELETE', `/${p}/v5/keys/${claims.key_id}`, { key: ROOT_KEY });
    assert.equal(r.body.revoked_until, claims.expires_at);
    assertError(assert, await put(p, '/a.txt', key), 401, 'KEY_REVOKED');
    const odd = signKey({ ...claims, key_id: randomBytes(16).toString('hex') }, { keepId: true });
    const refused = await put(p, '/b.txt', odd);
    assertError(assert, refused, 401, 'KEY_INVALID');
    assert.match(refused.body.msg, /does not carry its expiry/);
  });
});
