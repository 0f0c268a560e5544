// Key issuance over a real wrangler dev: GET /key from templates, POST /key
// with an API secret key, exact per-IP rate limits, deactivation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ROOT_KEY, assertError, call, createTemplate, freshProject, startWorker, verifiedClaims,
} from './harness.mjs';

let worker;
before(async () => { worker = await startWorker(); });
after(async () => { await worker?.stop(); });

const ip = (addr) => ({ headers: { 'CF-Connecting-IP': addr } });
const getKey = (p, id, addr = '203.0.113.1', prefix = '') => call(worker.url, 'GET', `/${p}${prefix}/key/${id}`, ip(addr));

function assertSuccess(r) {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, 'success');
  assert.equal(r.body.hint, 'New key created and ready to use');
  assert.equal(r.body.debug, null);
  assert.match(r.body.key, /^SASS__v2__/);
  assert.equal(typeof r.body.expires_at, 'number');
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
}

describe('GET /{project}/key/{template}', () => {
  test('issues a signed key carrying the template', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, {
      permissions: ['FILE_UPLOAD', 'OBJECTS_LIST'],
      upload: { dir_scope: ['/uploads/*'], max: 10, limit_per_min: 3, limit_per_source_ip: 2, max_file_size: 1000 },
      restrictions: { whitelist_ip_ranges: ['192.0.2.0/24'], whitelist_countries: ['FR'] },
      listing: { dir_scope: ['/uploads'], max: 4 },
      key_validity: { expiration_duration: 300 },
    });
    const before = Math.floor(Date.now() / 1000);
    for (const prefix of ['', '/v5']) {
      const r = await getKey(p, t.id, '203.0.113.1', prefix);
      assertSuccess(r);
      const { kid, claims } = verifiedClaims(r.body.key);
      assert.equal(kid, 'e2e1');
      assert.equal(claims.project, p);
      assert.equal(claims.template, t.id);
      assert.match(claims.key_id, /^[0-9a-f]{32}$/);
      assert.ok(claims.issued_at >= before - 1 && claims.issued_at <= before + 5);
      assert.equal(claims.expires_at, claims.issued_at + 300);
      assert.equal(r.body.expires_at, claims.expires_at);
      assert.deepEqual(claims.permissions, ['OBJECTS_LIST', 'FILE_UPLOAD']);
      assert.deepEqual(claims.upload, { dir_scope: ['/uploads/*'], max: 10, limit_per_min: 3, limit_per_source_ip: 2, max_file_size: 1000 });
      assert.deepEqual(claims.restrictions, { whitelist_ip_ranges: ['192.0.2.0/24'], whitelist_countries: ['FR'] });
      assert.deepEqual(claims.listing, { dir_scope: ['/uploads'], max: 4 });
    }
  });

  test('each key has its own id', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, { issue_limit_per_min: 10 });
    const ids = new Set();
    for (let i = 0; i < 5; i++) ids.add(verifiedClaims((await getKey(p, t.id)).body.key).claims.key_id);
    assert.equal(ids.size, 5);
  });

  test('unknown and malformed template ids are 404', async () => {
    const p = freshProject();
    assertError(assert, await getKey(p, 'SECU_00000000000000000000000000000000'), 404, 'TEMPLATE_NOT_FOUND');
    assertError(assert, await getKey(p, 'SECU_nope'), 404, 'TEMPLATE_NOT_FOUND');
    const other = freshProject();
    const t = await createTemplate(worker.url, other);
    assertError(assert, await getKey(p, t.id), 404, 'TEMPLATE_NOT_FOUND', 'a template of another project');
  });

  test('a deactivated template issues nothing until reactivated', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, { issue_limit_per_min: 20 });
    assertSuccess(await getKey(p, t.id));
    const off = await call(worker.url, 'PATCH', `/${p}/v5/security-templates/${t.id}`, { key: ROOT_KEY, body: { active: false } });
    assert.equal(off.body.template.active, false);
    assertError(assert, await getKey(p, t.id), 403, 'TEMPLATE_INACTIVE');
    const on = await call(worker.url, 'PATCH', `/${p}/v5/security-templates/${t.id}`, { key: ROOT_KEY, body: { active: true } });
    assert.equal(on.body.template.active, true);
    assertSuccess(await getKey(p, t.id));
    const created = await createTemplate(worker.url, p, { active: false });
    assertError(assert, await getKey(p, created.id), 403, 'TEMPLATE_INACTIVE');
  });

  test('a deleted template issues nothing', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p);
    await call(worker.url, 'DELETE', `/${p}/v5/security-templates/${t.id}`, { key: ROOT_KEY });
    assertError(assert, await getKey(p, t.id), 404, 'TEMPLATE_NOT_FOUND');
  });
});

describe('issue_limit_per_min, per template and source IP', () => {
  test('the call after the limit gets 429 with Retry-After; another IP is still served', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, { issue_limit_per_min: 3 });
    for (let i = 0; i < 3; i++) assertSuccess(await getKey(p, t.id, '198.51.100.7'));
    const limited = await getKey(p, t.id, '198.51.100.7');
    assertError(assert, limited, 429, 'RATE_LIMITED');
    const retry = Number(limited.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 61, `Retry-After ${retry} (a slot frees when its second leaves the 61-second ring)`);
    assertSuccess(await getKey(p, t.id, '198.51.100.8'));
    assertError(assert, await getKey(p, t.id, '198.51.100.7'), 429, 'RATE_LIMITED');
  });

  test('the default limit is 5', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p);
    for (let i = 0; i < 5; i++) assertSuccess(await getKey(p, t.id));
    assertError(assert, await getKey(p, t.id), 429, 'RATE_LIMITED');
  });

  test('the limit is per template', async () => {
    const p = freshProject();
    const a = await createTemplate(worker.url, p, { issue_limit_per_min: 1 });
    const b = await createTemplate(worker.url, p, { issue_limit_per_min: 1 });
    assertSuccess(await getKey(p, a.id));
    assertError(assert, await getKey(p, a.id), 429, 'RATE_LIMITED');
    assertSuccess(await getKey(p, b.id));
  });

  test('exact under parallel calls', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, { issue_limit_per_min: 7 });
    const results = await Promise.all(Array.from({ length: 30 }, () => getKey(p, t.id, '192.0.2.50')));
    const codes = results.map((r) => r.status);
    assert.equal(codes.filter((c) => c === 200).length, 7, codes.join(','));
    assert.equal(codes.filter((c) => c === 429).length, 23, codes.join(','));
  });

  test('IPv6 clients are counted per /64; IPv4-mapped addresses as IPv4', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, { issue_limit_per_min: 1 });
    assertSuccess(await getKey(p, t.id, '2001:db8:1:2::1'));
    assertError(assert, await getKey(p, t.id, '2001:db8:1:2:ffff::9'), 429, 'RATE_LIMITED');
    assertSuccess(await getKey(p, t.id, '2001:db8:1:3::1'));
    assertSuccess(await getKey(p, t.id, '192.0.2.9'));
    assertError(assert, await getKey(p, t.id, '::ffff:192.0.2.9'), 429, 'RATE_LIMITED');
  });

  test('X-Forwarded-For does not change who is counted', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, { issue_limit_per_min: 1 });
    const h = (xff) => ({ headers: { 'CF-Connecting-IP': '192.0.2.77', 'X-Forwarded-For': xff } });
    assertSuccess(await call(worker.url, 'GET', `/${p}/key/${t.id}`, h('10.0.0.1')));
    assertError(assert, await call(worker.url, 'GET', `/${p}/key/${t.id}`, h('10.0.0.2')), 429, 'RATE_LIMITED');
  });
});

describe('POST /{project}/key', () => {
  test('mints a key from the body, as in the documents', async () => {
    const p = freshProject();
    const data = {
      upload: { limit_per_min: 5, max: 6, limit_per_source_ip: 12, dir_scope: ['/hello', '/test/*'], max_file_size: 1048576 },
      restrictions: { whitelist_ip_ranges: ['80.12.95.227'], whitelist_countries: ['FR'] },
      key_validity: { expire_duration: 600 },
      listing: { dir_scope: ['/hello'], max: 3 },
      permissions: ['FILE_UPLOAD'],
    };
    for (const path of [`/${p}/key`, `/${p}/v5/key`]) {
      const r = await call(worker.url, 'POST', path, { key: ROOT_KEY, body: { data } });
      assertSuccess(r);
      const { claims } = verifiedClaims(r.body.key);
      assert.equal(claims.project, p);
      assert.equal(claims.template, undefined);
      assert.equal(claims.expires_at - claims.issued_at, 600);
      assert.deepEqual(claims.upload, { limit_per_min: 5, max: 6, limit_per_source_ip: 12, dir_scope: ['/hello', '/test/*'], max_file_size: 1048576 });
      assert.deepEqual(claims.restrictions, { whitelist_ip_ranges: ['80.12.95.227/32'], whitelist_countries: ['FR'] });
      assert.deepEqual(claims.permissions, ['FILE_UPLOAD']);
    }
  });

  test('every field is optional', async () => {
    const p = freshProject();
    for (const body of [{}, { data: {} }]) {
      const r = await call(worker.url, 'POST', `/${p}/key`, { key: ROOT_KEY, body });
      assertSuccess(r);
      const { claims } = verifiedClaims(r.body.key);
      assert.equal(claims.expires_at - claims.issued_at, 1200);
    }
  });

  test('needs a valid API secret key', async () => {
    const p = freshProject();
    assertError(assert, await call(worker.url, 'POST', `/${p}/key`, { body: { data: {} } }), 401, 'KEY_INVALID');
    assertError(assert, await call(worker.url, 'POST', `/${p}/key`, { key: 'nope', body: { data: {} } }), 401, 'KEY_INVALID');
    const sass = (await call(worker.url, 'POST', `/${p}/key`, { key: ROOT_KEY, body: {} })).body.key;
    const r = await call(worker.url, 'POST', `/${p}/key`, { key: sass, body: {} });
    assertError(assert, r, 403, 'PERMISSION_DENIED', 'a SASS key without CONFIG_CHANGE cannot attenuate');
    assert.match(r.body.msg, /CONFIG_CHANGE/);
  });

  test('refuses bad bodies, naming the field', async () => {
    const p = freshProject();
    const bad = [
      [{ data: { permissions: ['NOPE'] } }, /^data\.permissions\[0\]/],
      [{ data: { upload: { max: 0 } } }, /^data\.upload\.max:/],
      [{ data: { issue_limit_per_min: 3 } }, /^data\.issue_limit_per_min: unknown field/],
      [{ permissions: [] }, /^permissions: unknown field/],
      [{ data: [] }, /^data: must be an object/],
    ];
    for (const [body, msg] of bad) {
      const r = await call(worker.url, 'POST', `/${p}/key`, { key: ROOT_KEY, body });
      assertError(assert, r, 400, 'INVALID_FIELD');
      assert.match(r.body.msg, msg);
    }
    assertError(assert, await call(worker.url, 'POST', `/${p}/key`, { key: ROOT_KEY, raw: 'nope' }), 400, 'INVALID_JSON');
    assertError(assert, await call(worker.url, 'POST', `/${p}/key`, { key: ROOT_KEY, raw: `{"data":{"x":"${'a'.repeat(70000)}"}}` }), 413, 'BODY_TOO_LARGE');
  });
});
