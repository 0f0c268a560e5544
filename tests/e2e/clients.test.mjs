// The real Filerobot clients, unmodified, against a real wrangler dev: the
// Filerobot Media Asset Widget (@filerobot/core + @filerobot/xhr-upload
// 3.114.5, bundled with esbuild, in Debian's Chromium through playwright-core),
// pointed at the worker by its `apiEndpoint` option; and the PyPI `filerobot`
// 0.0.25 SDK in a venv, with its hard-coded host rewritten to the worker.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, ROOT_KEY, call, createTemplate, freshProject, mintKey, startWorker } from './harness.mjs';
import { startOrigin } from './test-origin.mjs';
import { launch, runWidget } from '../fmaw/drive.mjs';
import { buildFmaw } from '../fmaw/build.mjs';

// Origin mode: the same clients through sass-edge in front of a test origin.
const ORIGIN_SECRET = randomBytes(32).toString('base64url');
const ORIGIN_KEY = `origin-operator-key-${randomBytes(8).toString('hex')}`;

let worker;
let browser;
let origin;
let fronted;
before(async () => {
  origin = await startOrigin({ secret: ORIGIN_SECRET, key: ORIGIN_KEY });
  [worker, fronted, browser] = await Promise.all([
    startWorker(), startWorker({ ORIGIN_URL: origin.url, ORIGIN_SECRET, ORIGIN_KEY }), launch(), buildFmaw(),
  ]);
});
after(async () => {
  await Promise.all([worker?.stop(), fronted?.stop(), browser?.close()]);
  await origin?.stop();
});

/** The SDK driver's JSON lines, or a failure with its output. */
async function driveSdk(base, p, key, folder) {
  try {
    const out = await promisify(execFile)('bash', [join(ROOT, 'tests/pysdk/run.sh'), '--folder', folder], {
      env: { ...process.env, BASE: base, PROJECT: p, KEY: key }, timeout: 180_000, maxBuffer: 10_000_000,
    });
    return out.stdout.trim().split('\n').map((l) => JSON.parse(l));
  } catch (e) {
    return assert.fail(`the SDK driver failed:\n${e.stdout}\n${e.stderr}`);
  }
}

const SDK_CALLS = [
  ['check_and_set_filerobot_credentials', true], ['upload_file_multipart', true], ['list_files', true],
  ['inspect_file', true], ['rename_file', true], ['delete_file', true],
];

const sha1 = (b) => createHash('sha1').update(b).digest('hex');
const stored = async (p, path) => {
  const r = await fetch(`${worker.url}/${p}/v5/objects${path}`, { headers: { 'X-Filerobot-Key': ROOT_KEY } });
  return r.status === 200 ? Buffer.from(await r.arrayBuffer()) : r.status;
};
const outcome = (run, i = 0) => run.events.filter((e) => e.event === 'upload-success' || e.event === 'upload-error')[i];

describe('the Filerobot Media Asset Widget (FMAW 3.114.5) in Chromium', () => {
  test('gets a key and its permissions, and uploads a file into R2, byte for byte', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, { permissions: ['FILE_UPLOAD', 'OBJECTS_LIST'], upload: { dir_scope: ['/uploads/*'] } });
    const bytes = randomBytes(20_000);
    const run = await runWidget({
      api: worker.url, container: p, template: t.id, folder: '/uploads/widget', context: browser.context,
      file: { name: 'photo.jpg', type: 'image/jpeg', bytes },
    });
    assert.equal(run.ready, true, JSON.stringify(run.infos));
    assert.equal(run.keys.length, 1);
    assert.ok(run.user.permissions && Object.keys(run.user.permissions).length > 0, 'permissions from /v4/key/info');
    assert.equal(run.upload.outcome, 'upload-success', JSON.stringify(run.events.slice(-3)));
    const success = outcome(run);
    assert.equal(success.response.status, 200);
    assert.equal(success.file.uuid, success.response.body.file.uuid);
    assert.equal(success.response.body.file.hash.sha1, sha1(bytes));
    assert.ok((await stored(p, '/uploads/widget/photo.jpg')).equals(bytes));
    assert.deepEqual(run.pageErrors, []);
  });

  test('a file outside the key\'s upload scope fails, with the hint shown', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, { permissions: ['FILE_UPLOAD'], upload: { dir_scope: ['/uploads/*'] } });
    const run = await runWidget({
      api: worker.url, container: p, template: t.id, folder: '/private', context: browser.context,
      file: { name: 'secret.txt', type: 'text/plain', bytes: 'no' },
    });
    assert.equal(run.upload.outcome, 'upload-error');
    const failure = outcome(run);
    assert.equal(failure.response.status, 403);
    assert.equal(failure.response.body.code, 'SCOPE_DENIED');
    assert.equal(failure.error.message, failure.response.body.hint, 'the widget shows the hint');
    assert.equal(await stored(p, '/private/secret.txt'), 404);
  });

  test('with a short validity, the widget takes new keys on its own and uploads after the first key expired', async () => {
    const p = freshProject();
    const t = await createTemplate(worker.url, p, {
      permissions: ['FILE_UPLOAD'], key_validity: { expiration_duration: 2 }, issue_limit_per_min: 200,
    });
    const run = await runWidget({
      api: worker.url, container: p, template: t.id, folder: '/refresh', context: browser.context,
      // The first key expires after 2 s, and is refused 30 s (the leeway) later.
      files: [{ name: 'first.txt', bytes: 'first' }, { name: 'second.txt', bytes: 'second' }],
      uploadAfterMs: 17_000,
    });
    assert.equal(run.uploads.length, 2);
    for (const u of run.uploads) assert.equal(u.outcome, 'upload-success', JSON.stringify(run.events.filter((e) => e.event === 'upload-error')));
    assert.ok(run.keys.length >= 10, `the widget re-exchanged every 1.8 s (${run.keys.length} keys)`);
    const first = run.keys[0];
    const refused = await call(worker.url, 'GET', `/${p}/v4/key/info?key=${first}`);
    assert.equal(refused.status, 401, 'the first key has expired');
    assert.equal(refused.body.code, 'KEY_EXPIRED');
    assert.equal((await stored(p, '/refresh/second.txt')).toString(), 'second', 'uploaded with a later key');
  });
});

describe('the PyPI filerobot 0.0.25 SDK', () => {
  test('checks its credentials, uploads, lists, inspects, renames and deletes', async () => {
    const p = freshProject();
    const key = await mintKey(worker.url, p, {
      permissions: ['FILE_UPLOAD', 'OBJECTS_LIST', 'OBJECTS_FETCH', 'FILE_RENAME', 'FILE_DELETE'],
      upload: { dir_scope: ['/pysdk/*'] }, listing: { dir_scope: ['/pysdk/*'] },
    });
    const lines = await driveSdk(worker.url, p, key, 'pysdk');
    assert.deepEqual(lines.map((l) => [l.call, l.ok]), SDK_CALLS);
  });
});

describe('the same clients through sass-edge in origin mode, in front of a Filerobot-compatible origin', () => {
  const assertClean = (requests, key) => {
    assert.ok(requests.length > 0);
    for (const r of requests) {
      assert.equal(r.headers['x-filerobot-key'], ORIGIN_KEY, `${r.method} ${r.url}`);
      assert.equal(r.verified, true, `${r.method} ${r.url}: signed`);
      assert.ok(!(JSON.stringify(r.headers) + r.url + r.body.toString('latin1')).includes(key), 'never the SASS key');
    }
  };

  test('the widget uploads through sass-edge into the origin, byte for byte', async () => {
    const p = freshProject();
    const t = await createTemplate(fronted.url, p, { permissions: ['FILE_UPLOAD', 'OBJECTS_LIST'], upload: { dir_scope: ['/uploads/*'] } });
    const bytes = randomBytes(50_000);
    const before = origin.received.length;
    const run = await runWidget({
      api: fronted.url, container: p, template: t.id, folder: '/uploads/widget', context: browser.context,
      file: { name: 'photo.jpg', type: 'image/jpeg', bytes },
    });
    assert.equal(run.upload.outcome, 'upload-success', JSON.stringify(run.events.slice(-3)));
    const success = outcome(run);
    const kept = origin.files.get(success.response.body.file.uuid);
    assert.deepEqual([kept.project, kept.folder, kept.name], [p, '/uploads/widget', 'photo.jpg']);
    assert.ok(kept.bytes.equals(bytes));
    const got = origin.received.slice(before);
    assert.deepEqual(got.map((r) => [r.method, r.url]), [['POST', `/${p}/v4/files?folder=%2Fuploads%2Fwidget`]]);
    assertClean(got, run.keys[0]);
    assert.deepEqual(run.pageErrors, []);
  });

  test('a widget upload outside the scope fails with the hint, and reaches nothing', async () => {
    const p = freshProject();
    const t = await createTemplate(fronted.url, p, { permissions: ['FILE_UPLOAD'], upload: { dir_scope: ['/uploads/*'] } });
    const before = origin.received.length;
    const run = await runWidget({
      api: fronted.url, container: p, template: t.id, folder: '/private', context: browser.context,
      file: { name: 'secret.txt', type: 'text/plain', bytes: 'no' },
    });
    assert.equal(run.upload.outcome, 'upload-error');
    assert.equal(outcome(run).error.message, outcome(run).response.body.hint);
    assert.equal(origin.received.length, before);
  });

  test('the SDK uploads, lists, inspects, renames and deletes in the origin', async () => {
    const p = freshProject();
    const key = await mintKey(fronted.url, p, {
      permissions: ['FILE_UPLOAD', 'OBJECTS_LIST', 'OBJECTS_FETCH', 'FILE_RENAME', 'FILE_DELETE'],
      upload: { dir_scope: ['/pysdk/*'] }, listing: { dir_scope: ['/pysdk/*'] },
    });
    const before = origin.received.length;
    const lines = await driveSdk(fronted.url, p, key, 'pysdk');
    assert.deepEqual(lines.map((l) => [l.call, l.ok]), SDK_CALLS);
    const got = origin.received.slice(before);
    assertClean(got, key);
    const calls = got.map((r) => `${r.method} ${r.url.split('?')[0]}`);
    const id = lines[1].result.file.uuid;
    for (const expected of [`POST /${p}/v4/files`, `GET /${p}/v4/files`, `GET /${p}/v4/files/${id}`, `PATCH /${p}/v4/files/${id}`, `DELETE /${p}/v4/files/${id}`]) {
      assert.ok(calls.includes(expected), `${expected} in ${calls.join(', ')}`);
    }
    assert.equal(origin.files.has(id), false, 'deleted in the origin');
  });
});
