// The security-template admin API over a real wrangler dev.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ROOT_KEY, assertError, call, createTemplate, freshProject, startWorker } from './harness.mjs';

let worker;
before(async () => { worker = await startWorker(); });
after(async () => { await worker?.stop(); });

const path = (p, id) => `/${p}/v5/security-templates${id ? `/${id}` : ''}`;

describe('create, read, list, patch, delete', () => {
  test('a full template round trip', async () => {
    const p = freshProject();
    const body = {
      description: 'widget',
      permissions: ['FILE_UPLOAD', 'OBJECTS_LIST', 'DIR_MOV'],
      upload: { limit_per_min: 5, max: 6, limit_per_ip_source: 12, dir_scope: ['/hello', '/test/*'], max_file_size: 1048576 },
      restrictions: { whitelist_ip_ranges: ['80.12.95.227', '10.0.0.0/8', '2001:db8::/32'], whitelist_countries: ['FR', 'de'] },
      key_validity: { expire_duration: 600 },
      listing: { directory_scope: ['/hello'], max: 3 },
      issue_limit_per_min: 7,
    };
    const created = await call(worker.url, 'POST', path(p), { key: ROOT_KEY, body });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.status, 'success');
    const t = created.body.template;
    assert.match(t.id, /^SECU_[0-9A-F]{32}$/);
    assert.equal(t.active, true);
    assert.match(t.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(t.created_at, t.updated_at);
    assert.deepEqual(t.permissions, ['OBJECTS_LIST', 'FILE_UPLOAD', 'DIR_MOVE']);
    assert.deepEqual(t.upload, { limit_per_min: 5, max: 6, limit_per_source_ip: 12, dir_scope: ['/hello', '/test/*'], max_file_size: 1048576 });
    assert.deepEqual(t.restrictions.whitelist_countries, ['FR', 'DE']);
    assert.deepEqual(t.key_validity, { expiration_duration: 600 });
    assert.deepEqual(t.listing, { dir_scope: ['/hello'], max: 3 });
    assert.equal(t.issue_limit_per_min, 7);

    const read = await call(worker.url, 'GET', path(p, t.id), { key: ROOT_KEY });
    assert.equal(read.status, 200);
    assert.deepEqual(read.body.template, t);

    const list = await call(worker.url, 'GET', path(p), { key: ROOT_KEY });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.templates.map((x) => x.id), [t.id]);
    assert.equal(list.body.cursor, null);

    await new Promise((r) => setTimeout(r, 1100));
    const patched = await call(worker.url, 'PATCH', path(p, t.id), {
      key: ROOT_KEY, body: { description: 'renamed', upload: { max: null, limit_per_min: 9 } },
    });
    assert.equal(patched.status, 200, patched.text);
    const pt = patched.body.template;
    assert.equal(pt.description, 'renamed');
    assert.equal(pt.upload.max, null, 'null resets to the default (unlimited)');
    assert.equal(pt.upload.limit_per_min, 9);
    assert.equal(pt.upload.limit_per_source_ip, 12, 'untouched fields stay');
    assert.equal(pt.created_at, t.created_at);
    assert.notEqual(pt.updated_at, t.updated_at);

    const deleted = await call(worker.url, 'DELETE', path(p, t.id), { key: ROOT_KEY });
    assert.equal(deleted.status, 200);
    assertError(assert, await call(worker.url, 'GET', path(p, t.id), { key: ROOT_KEY }), 404, 'TEMPLATE_NOT_FOUND');
    assertError(assert, await call(worker.url, 'DELETE', path(p, t.id), { key: ROOT_KEY }), 404, 'TEMPLATE_NOT_FOUND');
    assertError(assert, await call(worker.url, 'PATCH', path(p, t.id), { key: ROOT_KEY, body: {} }), 404, 'TEMPLATE_NOT_FOUND');
  });

  test('defaults are filled in', async () => {
    const t = await createTemplate(worker.url, freshProject());
    assert.equal(t.key_validity.expiration_duration, 1200);
    assert.equal(t.upload.max_file_size, 524288000);
    assert.equal(t.issue_limit_per_min, 5);
    assert.deepEqual(t.upload.dir_scope, ['/*']);
    assert.deepEqual(t.listing.dir_scope, ['/*']);
    assert.equal(t.upload.max, null);
    assert.equal(t.restrictions.whitelist_ip_ranges, null);
  });

  test('templates are per project', async () => {
    const a = freshProject();
    const b = freshProject();
    const t = await createTemplate(worker.url, a);
    assertError(assert, await call(worker.url, 'GET', path(b, t.id), { key: ROOT_KEY }), 404, 'TEMPLATE_NOT_FOUND');
    const list = await call(worker.url, 'GET', path(b), { key: ROOT_KEY });
    assert.deepEqual(list.body.templates, []);
  });

  test('listing pages with a cursor', async () => {
    const p = freshProject();
    const ids = new Set();
    await Promise.all(Array.from({ length: 105 }, async () => ids.add((await createTemplate(worker.url, p)).id)));
    assert.equal(ids.size, 105, 'parallel creations get distinct ids');
    const first = await call(worker.url, 'GET', path(p), { key: ROOT_KEY });
    assert.equal(first.body.templates.length, 100);
    assert.equal(typeof first.body.cursor, 'string');
    const second = await call(worker.url, 'GET', `${path(p)}?cursor=${encodeURIComponent(first.body.cursor)}`, { key: ROOT_KEY });
    assert.equal(second.body.templates.length, 5);
    assert.equal(second.body.cursor, null);
    const seen = new Set([...first.body.templates, ...second.body.templates].map((t) => t.id));
    assert.deepEqual(seen, ids);
  });
});

describe('authentication', () => {
  test('every admin call needs the API secret key', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p);
    const calls = [
      ['GET', path(p)], ['POST', path(p)], ['GET', path(p, t.id)], ['PATCH', path(p, t.id)], ['DELETE', path(p, t.id)],
    ];
    for (const [method, url] of calls) {
      const body = method === 'POST' || method === 'PATCH' ? {} : undefined;
      const missing = await call(worker.url, method, url, { body });
      assertError(assert, missing, 401, 'KEY_INVALID');
      assert.match(missing.body.msg, /X-Filerobot-Key/);
      const wrong = await call(worker.url, method, url, { body, key: `${ROOT_KEY}x` });
      assertError(assert, wrong, 401, 'KEY_INVALID');
    }
    const still = await call(worker.url, 'GET', path(p, t.id), { key: ROOT_KEY });
    assert.equal(still.status, 200, 'nothing was changed or deleted');
  });

  test('a SASS key cannot manage templates', async () => {
    const p = freshProject();
    const minted = await call(worker.url, 'POST', `/${p}/key`, { key: ROOT_KEY, body: { data: { permissions: ['CONFIG_CHANGE', 'CONFIG_LIST'] } } });
    assert.equal(minted.status, 200);
    const r = await call(worker.url, 'GET', path(p), { key: minted.body.key });
    assertError(assert, r, 401, 'KEY_INVALID');
  });
});

describe('bad input is refused, names the field, and stores nothing', () => {
  const cases = [
    ['invalid JSON', { raw: '{"permissions": [' }, 'INVALID_JSON', /JSON/],
    ['not an object', { body: ['FILE_UPLOAD'] }, 'INVALID_JSON', /object/],
    ['empty body', { raw: '' }, 'INVALID_JSON', /empty/],
    ['unknown field', { body: { permission: [] } }, 'INVALID_FIELD', /^permission: unknown field/],
    ['unknown nested field', { body: { upload: { limit_per_hour: 1 } } }, 'INVALID_FIELD', /^upload\.limit_per_hour: unknown field/],
    ['unknown permission', { body: { permissions: ['FILE_UPLOAD', 'FLY'] } }, 'INVALID_FIELD', /^permissions\[1\]: unknown permission/],
    ['malformed IP', { body: { restrictions: { whitelist_ip_ranges: ['1.2.3'] } } }, 'INVALID_FIELD', /^restrictions\.whitelist_ip_ranges\[0\]/],
    ['malformed CIDR', { body: { restrictions: { whitelist_ip_ranges: ['10.0.0.0/33'] } } }, 'INVALID_FIELD', /^restrictions\.whitelist_ip_ranges\[0\]/],
    ['three-letter country', { body: { restrictions: { whitelist_countries: ['FRA'] } } }, 'INVALID_FIELD', /^restrictions\.whitelist_countries\[0\]/],
    ['relative dir_scope', { body: { upload: { dir_scope: ['uploads'] } } }, 'INVALID_FIELD', /^upload\.dir_scope\[0\]/],
    ['dir_scope with ..', { body: { listing: { dir_scope: ['/a/../b'] } } }, 'INVALID_FIELD', /^listing\.dir_scope\[0\]/],
    ['dir_scope with a trailing slash', { body: { listing: { dir_scope: ['/a/'] } } }, 'INVALID_FIELD', /^listing\.dir_scope\[0\]/],
    ['dir_scope with a star inside', { body: { upload: { dir_scope: ['/a*/b'] } } }, 'INVALID_FIELD', /^upload\.dir_scope\[0\]/],
    ['zero', { body: { upload: { max: 0 } } }, 'INVALID_FIELD', /^upload\.max:/],
    ['negative', { body: { listing: { max: -1 } } }, 'INVALID_FIELD', /^listing\.max:/],
    ['fraction', { body: { upload: { limit_per_min: 1.5 } } }, 'INVALID_FIELD', /^upload\.limit_per_min:/],
    ['overflow', { raw: '{"upload":{"max_file_size":99999999999999999999999}}' }, 'INVALID_FIELD', /^upload\.max_file_size:/],
    ['expiry over 7 days', { body: { key_validity: { expiration_duration: 604801 } } }, 'INVALID_FIELD', /^key_validity\.expiration_duration:/],
    ['a string number', { body: { issue_limit_per_min: '5' } }, 'INVALID_FIELD', /^issue_limit_per_min:/],
    ['a read-only field', { body: { id: 'SECU_00000000000000000000000000000000' } }, 'INVALID_FIELD', /^id:/],
    ['both spellings', { body: { upload: { limit_per_source_ip: 1, limit_per_ip_source: 2 } } }, 'INVALID_FIELD', /^upload\.limit_per_source_ip: give either/],
  ];
  for (const [name, input, code, msg] of cases) {
    test(name, async () => {
      const p = freshProject();
      const r = await call(worker.url, 'POST', path(p), { key: ROOT_KEY, ...input });
      assertError(assert, r, 400, code);
      assert.match(r.body.msg, msg);
      const list = await call(worker.url, 'GET', path(p), { key: ROOT_KEY });
      assert.deepEqual(list.body.templates, [], 'nothing stored');
    });
  }

  test('a bad PATCH changes nothing', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, { upload: { max: 4 } });
    const r = await call(worker.url, 'PATCH', path(p, t.id), { key: ROOT_KEY, body: { upload: { max: 0 } } });
    assertError(assert, r, 400, 'INVALID_FIELD');
    const read = await call(worker.url, 'GET', path(p, t.id), { key: ROOT_KEY });
    assert.deepEqual(read.body.template, t);
  });

  test('a body over 64 KiB is refused', async () => {
    const p = freshProject();
    const big = JSON.stringify({ description: 'x'.repeat(65 * 1024) });
    assertError(assert, await call(worker.url, 'POST', path(p), { key: ROOT_KEY, raw: big, headers: { 'Content-Type': 'application/json' } }), 413, 'BODY_TOO_LARGE');
    const list = await call(worker.url, 'GET', path(p), { key: ROOT_KEY });
    assert.deepEqual(list.body.templates, []);
  });
});
