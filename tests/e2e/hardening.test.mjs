// The red-team findings, each as a class of bug, against a real wrangler dev.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
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
