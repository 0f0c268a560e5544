// Key lifecycle over a real wrangler dev: managed API secret keys, revoking
// issued keys, attenuation, introspection, the OpenAPI document, the audit log.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ROOT, ROOT_KEY, assertError, call, createTemplate, freshProject, mintKey, startWorker, verifiedClaims,
} from './harness.mjs';

let worker;
before(async () => { worker = await startWorker({ DEMO: '1' }, { logLevel: 'log' }); });
after(async () => { await worker?.stop(); });

const FROM = { 'CF-Connecting-IP': '192.0.2.10', 'CF-IPCountry': 'FR' };
const ALL = ['FILE_UPLOAD', 'OBJECTS_FETCH', 'OBJECTS_LIST', 'CONFIG_CHANGE'];

async function createApiKey(body, key = ROOT_KEY) {
  return call(worker.url, 'POST', '/v5/api-keys', { key, body });
}

async function apiKey(body) {
  const r = await createApiKey(body);
  assert.equal(r.status, 201, r.text);
  return r.body;
}

const put = (p, path, key) => call(worker.url, 'PUT', `/${p}/v5/objects${path}`, { key, raw: 'hi', headers: FROM });

describe('API secret keys', () => {
  test('create: the secret is shown once, with a prefix and checksum, and works', async () => {
    const p = freshProject();
    const created = await apiKey({ description: 'ci uploads', permissions: ['CONFIG_CHANGE', 'CONFIG_LIST', 'FILE_UPLOAD'], projects: [p] });
    assert.match(created.secret, /^sek_[0-9a-f]{64}_[0-9a-f]{8}$/);
    const k = created.api_key;
    assert.match(k.id, /^APIK_[0-9A-F]{32}$/);
    assert.deepEqual(k.permissions, ['FILE_UPLOAD', 'CONFIG_CHANGE', 'CONFIG_LIST']);
    assert.deepEqual(k.projects, [p]);
    assert.equal(k.active, true);
    assert.equal(k.created_by, 'root');
    assert.equal(k.hash, undefined);
    const read = await call(worker.url, 'GET', `/v5/api-keys/${k.id}`, { key: ROOT_KEY });
    assert.deepEqual(read.body.api_key, k);
    assert.doesNotMatch(read.text, new RegExp(created.secret), 'never shown again');
    assert.equal((await createTemplate(worker.url, p)).active, true, 'it can manage templates on its project');
    assert.equal((await put(p, '/a.txt', created.secret)).status, 201, 'and upload');
    const other = freshProject();
    assertError(assert, await call(worker.url, 'GET', `/${other}/v5/security-templates`, { key: created.secret }), 403, 'PERMISSION_DENIED');
    assertError(assert, await call(worker.url, 'GET', `/${p}/v5/objects/a.txt`, { key: created.secret }), 403, 'PERMISSION_DENIED');
    const typo = created.secret.slice(0, -1) + (created.secret.endsWith('0') ? '1' : '0');
    assertError(assert, await call(worker.url, 'GET', `/${p}/v5/security-templates`, { key: typo }), 401, 'KEY_INVALID');
  });

  test('list and read: the root key is listed and cannot be changed', async () => {
    const created = await apiKey({ permissions: ['CONFIG_LIST'], projects: ['*'] });
    const list = await call(worker.url, 'GET', '/v5/api-keys', { key: ROOT_KEY });
    assert.equal(list.status, 200);
    assert.equal(list.body.api_keys[0].id, 'root');
    assert.ok(list.body.api_keys.some((k) => k.id === created.api_key.id));
    assert.doesNotMatch(list.text, /sek_/);
    assert.equal((await call(worker.url, 'GET', '/v5/api-keys/root', { key: ROOT_KEY })).body.api_key.id, 'root');
    assertError(assert, await call(worker.url, 'PATCH', '/v5/api-keys/root', { key: ROOT_KEY, body: { active: false } }), 403, 'ROOT_KEY_PROTECTED');
    assertError(assert, await call(worker.url, 'DELETE', '/v5/api-keys/root', { key: ROOT_KEY }), 403, 'ROOT_KEY_PROTECTED');
    assertError(assert, await call(worker.url, 'GET', '/v5/api-keys/APIK_00000000000000000000000000000000', { key: ROOT_KEY }), 404, 'API_KEY_NOT_FOUND');
    assertError(assert, await call(worker.url, 'GET', '/v5/api-keys/nope', { key: ROOT_KEY }), 404, 'API_KEY_NOT_FOUND');
  });

  test('a company-wide key works on any project', async () => {
    const { secret } = await apiKey({ permissions: ['CONFIG_CHANGE'], projects: ['*'] });
    for (const p of [freshProject(), freshProject()]) {
      assert.equal((await call(worker.url, 'POST', `/${p}/key`, { key: secret, body: {} })).status, 200);
    }
  });

  test('patch and delete; deactivated, reactivated and deleted keys', async () => {
    const p = freshProject();
    const { secret, api_key: k } = await apiKey({ permissions: ['CONFIG_LIST'], projects: [p] });
    const use = () => call(worker.url, 'GET', `/${p}/v5/security-templates`, { key: secret });
    assert.equal((await use()).status, 200);
    const patched = await call(worker.url, 'PATCH', `/v5/api-keys/${k.id}`, { key: ROOT_KEY, body: { description: 'renamed', permissions: ['CONFIG_LIST', 'CONFIG_CHANGE'] } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.api_key.description, 'renamed');
    assert.deepEqual(patched.body.api_key.projects, [p], 'untouched fields stay');
    assert.equal((await call(worker.url, 'POST', `/${p}/v5/security-templates`, { key: secret, body: {} })).status, 201, 'the new permission works');
    await call(worker.url, 'PATCH', `/v5/api-keys/${k.id}`, { key: ROOT_KEY, body: { active: false } });
    assertError(assert, await use(), 401, 'KEY_INVALID');
    await call(worker.url, 'PATCH', `/v5/api-keys/${k.id}`, { key: ROOT_KEY, body: { active: true } });
    assert.equal((await use()).status, 200);
    assert.equal((await call(worker.url, 'DELETE', `/v5/api-keys/${k.id}`, { key: ROOT_KEY })).status, 200);
    assertError(assert, await use(), 401, 'KEY_INVALID');
    assertError(assert, await call(worker.url, 'GET', `/v5/api-keys/${k.id}`, { key: ROOT_KEY }), 404, 'API_KEY_NOT_FOUND');
  });

  test('a key can never grant what its creator lacks', async () => {
    const p = freshProject();
    const { secret: manager } = await apiKey({ permissions: ['ACCESS_MANAGE', 'ACCESS_READ', 'CONFIG_LIST'], projects: [p] });
    const ok = await createApiKey({ permissions: ['CONFIG_LIST'], projects: [p] }, manager);
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.api_key.created_by.startsWith('APIK_'), true);
    const broader = [
      [{ permissions: ['CONFIG_CHANGE'], projects: [p] }, /^permissions: CONFIG_CHANGE/],
      [{ permissions: ['CONFIG_LIST'], projects: [freshProject()] }, /^projects:/],
      [{ permissions: ['CONFIG_LIST'], projects: ['*'] }, /^projects:/],
    ];
    for (const [body, msg] of broader) {
      const r = await createApiKey(body, manager);
      assertError(assert, r, 403, 'KEY_TOO_BROAD');
      assert.match(r.body.msg, msg);
    }
    const id = ok.body.api_key.id;
    const widen = await call(worker.url, 'PATCH', `/v5/api-keys/${id}`, { key: manager, body: { permissions: ['CONFIG_LIST', 'FILE_DELETE'] } });
    assertError(assert, widen, 403, 'KEY_TOO_BROAD');
    const list = await call(worker.url, 'GET', '/v5/api-keys', { key: manager });
    assert.ok(list.body.api_keys.every((k) => k.projects.length === 1 && k.projects[0] === p), 'it sees only keys it covers');
    assert.ok(!list.body.api_keys.some((k) => k.id === 'root'));
    assertError(assert, await call(worker.url, 'DELETE', '/v5/api-keys/root', { key: manager }), 403, 'ROOT_KEY_PROTECTED');
  });

  test('refusals: no key, wrong permission, bad input', async () => {
    assertError(assert, await call(worker.url, 'GET', '/v5/api-keys'), 401, 'KEY_INVALID');
    const { secret: reader } = await apiKey({ permissions: ['ACCESS_READ'], projects: ['*'] });
    assert.equal((await call(worker.url, 'GET', '/v5/api-keys', { key: reader })).status, 200);
    assertError(assert, await createApiKey({ permissions: [], projects: ['*'] }, reader), 403, 'PERMISSION_DENIED');
    const { secret: none } = await apiKey({ permissions: ['CONFIG_LIST'], projects: ['*'] });
    assertError(assert, await call(worker.url, 'GET', '/v5/api-keys', { key: none }), 403, 'PERMISSION_DENIED');
    const bad = [
      [{ permissions: ['FLY'], projects: ['*'] }, /^permissions\[0\]/],
      [{ permissions: [] }, /^projects: is missing/],
      [{ projects: ['Bad'] }, /^projects\[0\]/],
      [{ projects: ['*'], secret: 'mine' }, /^secret:/],
      [{ projects: ['*'], extra: 1 }, /^extra: unknown field/],
    ];
    for (const [body, msg] of bad) {
      const r = await createApiKey(body);
      assertError(assert, r, 400, 'INVALID_FIELD');
      assert.match(r.body.msg, msg);
    }
    assertError(assert, await call(worker.url, 'POST', '/v5/api-keys', { key: ROOT_KEY, raw: '{' }), 400, 'INVALID_JSON');
  });
});

describe('revoking an issued key', () => {
  test('a revoked SASS key is refused with KEY_REVOKED; others are not', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, { permissions: ['FILE_UPLOAD'], issue_limit_per_min: 10 });
    const key = (await call(worker.url, 'GET', `/${p}/key/${t.id}`)).body.key;
    const other = (await call(worker.url, 'GET', `/${p}/key/${t.id}`)).body.key;
    assert.equal((await put(p, '/a.txt', key)).status, 201);
    const { key_id: id, expires_at: expiresAt } = verifiedClaims(key).claims;
    assertError(assert, await call(worker.url, 'DELETE', `/${p}/v5/keys/${id}`), 401, 'KEY_INVALID');
    const { secret: lister } = await apiKey({ permissions: ['CONFIG_LIST'], projects: [p] });
    assertError(assert, await call(worker.url, 'DELETE', `/${p}/v5/keys/${id}`, { key: lister }), 403, 'PERMISSION_DENIED');
    const r = await call(worker.url, 'DELETE', `/${p}/v5/keys/${id}`, { key: ROOT_KEY });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.revoked_until, expiresAt, 'the deny entry expires when the key would have');
    assertError(assert, await put(p, '/b.txt', key), 401, 'KEY_REVOKED');
    assertError(assert, await call(worker.url, 'GET', `/${p}/v5/key/introspect`, { key }), 401, 'KEY_REVOKED');
    assert.equal((await put(p, '/c.txt', other)).status, 201, 'another key of the template still works');
    assertError(assert, await call(worker.url, 'DELETE', `/${p}/v5/keys/nothex`, { key: ROOT_KEY }), 400, 'INVALID_FIELD');
  });

  test('deactivating or deleting a template refuses its keys; reactivating restores them', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, { permissions: ['FILE_UPLOAD'] });
    const key = (await call(worker.url, 'GET', `/${p}/key/${t.id}`)).body.key;
    const tpl = `/${p}/v5/security-templates/${t.id}`;
    await call(worker.url, 'PATCH', tpl, { key: ROOT_KEY, body: { active: false } });
    assertError(assert, await put(p, '/a.txt', key), 403, 'TEMPLATE_INACTIVE');
    await call(worker.url, 'PATCH', tpl, { key: ROOT_KEY, body: { active: true } });
    assert.equal((await put(p, '/a.txt', key)).status, 201);
    await call(worker.url, 'DELETE', tpl, { key: ROOT_KEY });
    assertError(assert, await put(p, '/a.txt', key), 403, 'TEMPLATE_INACTIVE');
  });
});

describe('attenuation', () => {
  const parentData = {
    permissions: ['FILE_UPLOAD', 'OBJECTS_LIST', 'CONFIG_CHANGE'],
    upload: { dir_scope: ['/up/*'], limit_per_min: 10, limit_per_source_ip: 5, max: 20, max_file_size: 1000 },
    restrictions: { whitelist_ip_ranges: ['192.0.2.0/24'], whitelist_countries: ['FR', 'DE'] },
    listing: { dir_scope: ['/up/*'], max: 30 },
    key_validity: { expiration_duration: 600 },
  };
  const attenuate = (p, parent, data) => call(worker.url, 'POST', `/${p}/key`, { key: parent, body: { data }, headers: FROM });

  test('a narrower key is minted, inherits what it leaves out, and works', async () => {
    const p = freshProject();
    const parent = await mintKey(worker.url, p, parentData);
    const r = await attenuate(p, parent, { permissions: ['FILE_UPLOAD'], upload: { dir_scope: ['/up/child'], max: 1 } });
    assert.equal(r.status, 200, r.text);
    const { claims } = verifiedClaims(r.body.key);
    const parentClaims = verifiedClaims(parent).claims;
    assert.deepEqual(claims.permissions, ['FILE_UPLOAD']);
    assert.equal(claims.upload.max, 1);
    assert.equal(claims.upload.limit_per_min, 10, 'inherited');
    assert.deepEqual(claims.restrictions, parentData.restrictions, 'inherited');
    assert.equal(claims.expires_at, parentClaims.expires_at);
    assert.deepEqual(claims.lineage, [{ key_id: parentClaims.key_id, upload_limit_per_min: 10, upload_limit_per_source_ip: 5, upload_max: 20, listing_max: 30 }], 'the parent, with the limits its counters enforce');
    assert.equal((await put(p, '/up/child/a.txt', r.body.key)).status, 201);
    assertError(assert, await put(p, '/up/other/a.txt', r.body.key), 403, 'SCOPE_DENIED');
    assertError(assert, await put(p, '/up/child/b.txt', r.body.key), 429, 'QUOTA_EXCEEDED');
  });

  test('one broader request per field is refused with 403 naming the field', async () => {
    const p = freshProject();
    const parent = await mintKey(worker.url, p, parentData);
    const cases = [
      [{ permissions: ['FILE_DELETE'] }, 'data.permissions'],
      [{ upload: { dir_scope: ['/elsewhere'] } }, 'data.upload.dir_scope'],
      [{ upload: { limit_per_min: 11 } }, 'data.upload.limit_per_min'],
      [{ upload: { limit_per_source_ip: 6 } }, 'data.upload.limit_per_source_ip'],
      [{ upload: { max: 21 } }, 'data.upload.max'],
      [{ upload: { max_file_size: 1001 } }, 'data.upload.max_file_size'],
      [{ restrictions: { whitelist_ip_ranges: ['198.51.100.0/24'] } }, 'data.restrictions.whitelist_ip_ranges'],
      [{ restrictions: { whitelist_countries: ['US'] } }, 'data.restrictions.whitelist_countries'],
      [{ listing: { dir_scope: ['/'] } }, 'data.listing.dir_scope'],
      [{ listing: { max: 31 } }, 'data.listing.max'],
      [{ key_validity: { expiration_duration: 700 } }, 'data.key_validity.expiration_duration'],
    ];
    for (const [data, field] of cases) {
      const r = await attenuate(p, parent, data);
      assertError(assert, r, 403, 'KEY_TOO_BROAD');
      assert.ok(r.body.msg.startsWith(`${field}: `), `${JSON.stringify(data)}: ${r.body.msg}`);
    }
  });

  test('needs CONFIG_CHANGE, and the parent key checks apply', async () => {
    const p = freshProject();
    const weak = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD'] });
    assertError(assert, await attenuate(p, weak, {}), 403, 'PERMISSION_DENIED');
    const parent = await mintKey(worker.url, p, parentData);
    const away = await call(worker.url, 'POST', `/${p}/key`, { key: parent, body: { data: {} }, headers: { 'CF-Connecting-IP': '203.0.113.5', 'CF-IPCountry': 'FR' } });
    assertError(assert, away, 403, 'IP_NOT_ALLOWED');
    assertError(assert, await call(worker.url, 'POST', `/${freshProject()}/key`, { key: parent, body: {}, headers: FROM }), 403, 'PROJECT_MISMATCH');
  });

  test('revoking the parent revokes its children', async () => {
    const p = freshProject();
    const parent = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD', 'CONFIG_CHANGE'] });
    const child = (await attenuate(p, parent, { permissions: ['FILE_UPLOAD'] })).body.key;
    assert.equal((await put(p, '/a.txt', child)).status, 201);
    await call(worker.url, 'DELETE', `/${p}/v5/keys/${verifiedClaims(parent).claims.key_id}`, { key: ROOT_KEY });
    assertError(assert, await put(p, '/b.txt', child), 401, 'KEY_REVOKED');
  });
});

describe('introspection', () => {
  test('claims, seconds left, and what remains of each counter', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, {
      permissions: ['FILE_UPLOAD', 'OBJECTS_LIST'],
      upload: { max: 5, limit_per_min: 3, limit_per_source_ip: 4 }, listing: { max: 7 }, key_validity: { expiration_duration: 300 },
    });
    for (const n of [1, 2]) assert.equal((await put(p, `/${n}.txt`, key)).status, 201);
    assert.equal((await call(worker.url, 'GET', `/${p}/v5/list?folder=/`, { key, headers: FROM })).status, 200);
    const r = await call(worker.url, 'GET', `/${p}/v5/key/introspect`, { key, headers: FROM });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.claims.project, p);
    assert.ok(r.body.seconds_left > 280 && r.body.seconds_left <= 300, String(r.body.seconds_left));
    assert.deepEqual(r.body.counters, {
      'upload.limit_per_min': { limit: 3, remaining: 1 },
      'upload.max': { limit: 5, remaining: 3 },
      'upload.limit_per_source_ip': { limit: 4, remaining: 2 },
      'listing.max': { limit: 7, remaining: 6 },
    });
    const elsewhere = await call(worker.url, 'GET', `/${p}/v5/key/introspect`, { key, headers: { 'CF-Connecting-IP': '192.0.2.99' } });
    assert.equal(elsewhere.body.counters['upload.limit_per_source_ip'].remaining, 4, 'per source IP: the caller\'s own');
    const plain = await mintKey(worker.url, p, { permissions: ['FILE_UPLOAD'] });
    assert.deepEqual((await call(worker.url, 'GET', `/${p}/v5/key/introspect`, { key: plain })).body.counters, {});
    assertError(assert, await call(worker.url, 'GET', `/${p}/v5/key/introspect`), 401, 'KEY_INVALID');
    assertError(assert, await call(worker.url, 'GET', `/${freshProject()}/v5/key/introspect`, { key }), 403, 'PROJECT_MISMATCH');
  });
});

describe('OpenAPI', () => {
  test('served at /openapi.json, and every path in it is served', async () => {
    const r = await call(worker.url, 'GET', '/openapi.json');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, JSON.parse(readFileSync(join(ROOT, 'public/openapi.json'), 'utf8')));
    const sample = (path) => path.replace('{project}', freshProject()).replace('{template_id}', 'SECU_00000000000000000000000000000000')
      .replace('{key_id}', '0123456789abcdef0123456789abcdef').replace('/v5/api-keys/{id}', '/v5/api-keys/APIK_00000000000000000000000000000000')
      .replace('{id}', 'SECU_00000000000000000000000000000000').replace('{path}', 'a/b.txt')
      .replace('{uuid}', '0b6e0c4e-5d52-4f0b-9a3e-4c1de0e8a8f1');
    let count = 0;
    for (const [path, ops] of Object.entries(r.body.paths)) {
      for (const method of Object.keys(ops)) {
        const res = await fetch(worker.url + sample(path), { method: method.toUpperCase(), headers: { 'X-Filerobot-Key': ROOT_KEY } });
        const body = method === 'head' ? {} : await res.json().catch(() => ({}));
        assert.notEqual(body.code, 'NOT_FOUND', `${method} ${path}`);
        assert.notEqual(res.status, 405, `${method} ${path}`);
        count += 1;
      }
    }
    assert.equal(count, 44, 'every route the router serves');
  });
});

describe('audit log', () => {
  test('every administrative write logs one JSON line without secrets', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p);
    await call(worker.url, 'PATCH', `/${p}/v5/security-templates/${t.id}`, { key: ROOT_KEY, body: { description: 'x' } });
    await call(worker.url, 'DELETE', `/${p}/v5/security-templates/${t.id}`, { key: ROOT_KEY });
    const { secret, api_key: k } = await apiKey({ permissions: ['CONFIG_LIST'], projects: [p] });
    await call(worker.url, 'PATCH', `/v5/api-keys/${k.id}`, { key: ROOT_KEY, body: { active: false } });
    await call(worker.url, 'DELETE', `/v5/api-keys/${k.id}`, { key: ROOT_KEY });
    await call(worker.url, 'DELETE', `/${p}/v5/keys/0123456789abcdef0123456789abcdef`, { key: ROOT_KEY });
    let lines = [];
    for (let i = 0; i < 50 && lines.length < 7; i++) {
      lines = worker.log().split('\n').filter((l) => l.includes('"audit":"sass-edge"'))
        .map((l) => JSON.parse(l.slice(l.indexOf('{')))).filter((e) => e.project === p || e.target === k.id);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(lines.map((e) => `${e.action} ${e.target}`), [
      `template.create ${t.id}`, `template.update ${t.id}`, `template.delete ${t.id}`,
      `api_key.create ${k.id}`, `api_key.update ${k.id}`, `api_key.delete ${k.id}`,
      'key.revoke 0123456789abcdef0123456789abcdef',
    ]);
    for (const e of lines) {
      assert.equal(e.actor, 'root');
      assert.match(e.at, /^\d{4}-\d\d-\d\dT/);
    }
    assert.ok(!worker.log().includes(secret), 'no secret in the log');
    assert.ok(!worker.log().includes(ROOT_KEY), 'no root key in the log');
  });
});
