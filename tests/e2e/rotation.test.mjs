// Signing-key rotation, done twice, as the README describes it: prepend a new
// pair (new keys are signed with it, old keys still work), then drop the old
// pair (keys signed with it are refused). Each stage of SIGNING_KEYS is its own
// worker; keys are self-contained, so they carry across.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ROOT_KEY, assertError, call, startWorker, verifiedClaims } from './harness.mjs';

const secret = () => randomBytes(32).toString('base64url');
const s1 = secret();
const s2 = secret();
const s3 = secret();
const stages = [`k1:${s1}`, `k2:${s2},k1:${s1}`, `k2:${s2}`, `k3:${s3},k2:${s2}`, `k3:${s3}`];
let workers = [];

before(async () => { workers = await Promise.all(stages.map((keys) => startWorker({ SIGNING_KEYS: keys }))); });
after(async () => { await Promise.all(workers.map((w) => w.stop())); });

const p = 'rotation';
const mint = async (w) => (await call(w.url, 'POST', `/${p}/key`, { key: ROOT_KEY, body: { data: { permissions: ['OBJECTS_FETCH'] } } })).body.key;
/** Whether `w` accepts `key`: past the key checks, the fetch reaches storage (404). */
const accepts = async (w, key) => {
  const r = await call(w.url, 'GET', `/${p}/v5/objects/none.txt`, { key });
  if (r.status === 404 && r.body.code === 'FILE_NOT_FOUND') return true;
  assertError(assert, r, 401, 'KEY_INVALID');
  return false;
};

test('rotation, done twice, never refuses a valid key and retires old ones', async () => {
  const [only1, both12, only2, both23, only3] = workers;
  const a = await mint(only1);
  assert.equal(verifiedClaims(a, s1).kid, 'k1');

  // First rotation: prepend k2.
  const b = await mint(both12);
  assert.equal(verifiedClaims(b, s2).kid, 'k2', 'new keys are signed with the new pair');
  assert.equal(await accepts(both12, a), true, 'old keys keep working');
  assert.equal(await accepts(both12, b), true);
  // ... then drop k1.
  assert.equal(await accepts(only2, a), false, 'keys signed with the dropped pair are refused');
  assert.equal(await accepts(only2, b), true);

  // Second rotation: prepend k3, then drop k2.
  const c = await mint(both23);
  assert.equal(verifiedClaims(c, s3).kid, 'k3');
  assert.equal(await accepts(both23, b), true);
  assert.equal(await accepts(both23, c), true);
  assert.equal(await accepts(only3, b), false);
  assert.equal(await accepts(only3, a), false);
  assert.equal(await accepts(only3, c), true);
});
