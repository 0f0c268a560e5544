// The browser widget flow in real headless Chromium (Debian's, driven by
// playwright-core) against wrangler dev: the demo page gets a key, uploads a
// real file with progress, lists it, shows a refusal as a sentence, refreshes
// an expired key, and a page of a disallowed origin cannot get a key.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { ROOT, ROOT_KEY, call, createTemplate, freshProject, signKey, startWorker } from './harness.mjs';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'tests/artifacts');
let worker;
let context;
let profile;
let otherSite;

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup.sh\` (it installs Debian's chromium)`);
  }
  worker = await startWorker({ DEMO: '1' });
  profile = mkdtempSync(join(tmpdir(), 'sass-edge-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await context?.close();
  await worker?.stop();
  otherSite?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** A template bound to the page's own origin, scoped to /uploads. */
async function setup() {
  const p = freshProject();
  const origin = new URL(worker.url).origin;
  const t = await createTemplate(worker.url, p, {
    permissions: ['FILE_UPLOAD', 'OBJECTS_LIST', 'OBJECTS_FETCH'],
    upload: { dir_scope: ['/uploads/*'] },
    allowed_origins: [origin],
    issue_limit_per_min: 30,
  });
  return { p, t, origin };
}

async function openDemo(p, t) {
  const page = await context.newPage();
  await page.goto(`${worker.url}/${p}/demo/${t.id}`);
  await page.waitForFunction(() => window.sassEdge?.key);
  return page;
}

async function upload(page, folder, name, buffer) {
  const before = await page.locator('#progress li').count();
  await page.fill('#folder', folder);
  await page.setInputFiles('#files', { name, mimeType: 'application/octet-stream', buffer });
  await page.click('#upload');
  const li = page.locator('#progress li').nth(before);
  await li.locator('.status').filter({ hasNotText: 'uploading' }).waitFor();
  return li;
}

test('a person uploads a file through a restricted key, sees it listed, and gets it back', async () => {
  const { p, t } = await setup();
  const page = await openDemo(p, t);
  assert.match(await page.textContent('#key'), /Key ready/);
  const bytes = randomBytes(300 * 1024);
  const li = await upload(page, '/uploads/browser', 'photo.bin', bytes);
  assert.match(await li.locator('.status').textContent(), /stored at \/uploads\/browser\/photo\.bin \(307200 bytes\)/);
  assert.equal(await li.locator('progress').evaluate((el) => el.value), 1, 'progress reached the end');
  await page.locator('#listing li', { hasText: 'photo.bin' }).waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'demo-upload.png'), fullPage: true });
  const back = await fetch(`${worker.url}/${p}/v5/objects/uploads/browser/photo.bin`, { headers: { 'X-Filerobot-Key': ROOT_KEY } });
  assert.ok(Buffer.from(await back.arrayBuffer()).equals(bytes), 'byte for byte');
  await page.close();
});

test('an upload outside the scope shows the refusal as a sentence', async () => {
  const { p, t } = await setup();
  const page = await openDemo(p, t);
  const li = await upload(page, '/private', 'secret.txt', Buffer.from('no'));
  const expected = 'SCOPE_DENIED: this key may not upload into /private';
  assert.equal(await li.locator('.status').textContent(), expected);
  assert.equal(await page.textContent('#error'), expected);
  const stored = await call(worker.url, 'GET', `/${p}/v5/objects/private/secret.txt`, { key: ROOT_KEY });
  assert.equal(stored.body.code, 'FILE_NOT_FOUND', 'nothing was stored');
  await page.close();
});

test('an expired key is replaced and the upload retried once', async () => {
  const { p, t } = await setup();
  const page = await openDemo(p, t);
  const now = Math.floor(Date.now() / 1000);
  const expired = signKey({
    project: p, template: t.id, key_id: randomBytes(16).toString('hex'), issued_at: now - 100, expires_at: now - 60,
    permissions: ['OBJECTS_LIST', 'OBJECTS_FETCH', 'FILE_UPLOAD'], upload: { dir_scope: ['/uploads/*'] },
  });
  await page.evaluate((k) => { window.sassEdge.key = k; }, expired);
  const li = await upload(page, '/uploads', 'again.txt', Buffer.from('retried'));
  assert.match(await li.locator('.status').textContent(), /^stored at \/uploads\/again\.txt/);
  assert.notEqual(await page.evaluate(() => window.sassEdge.key), expired, 'a new key was fetched');
  await page.close();
});

test('a page of a disallowed origin cannot get a key; the allowed origin is named in CORS', async () => {
  const { p, t, origin } = await setup();
  otherSite = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(`<!doctype html><body><script>
      fetch(${JSON.stringify(`${worker.url}/${p}/key/${t.id}`)})
        .then((r) => r.json()).then((b) => { document.body.dataset.result = JSON.stringify(b); })
        .catch(() => { document.body.dataset.result = JSON.stringify({ blocked: true }); });
    </script></body>`);
  });
  await new Promise((r) => otherSite.listen(0, '127.0.0.1', r));
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${otherSite.address().port}/`);
  await page.waitForFunction(() => document.body.dataset.result);
  const result = JSON.parse(await page.evaluate(() => document.body.dataset.result));
  assert.equal(result.key, undefined, 'no key');
  assert.equal(result.code, 'ORIGIN_NOT_ALLOWED');
  await page.close();

  // Servers send no Origin: governed by IP and country only.
  assert.equal((await call(worker.url, 'GET', `/${p}/key/${t.id}`)).status, 200);
  const named = await fetch(`${worker.url}/${p}/key/${t.id}`, { headers: { Origin: origin } });
  assert.equal(named.status, 200);
  assert.equal(named.headers.get('access-control-allow-origin'), origin, 'the origin, not *');
  const key = (await named.json()).key;
  const evil = await call(worker.url, 'PUT', `/${p}/v5/objects/uploads/x.txt`, { key, raw: 'x', headers: { Origin: 'https://evil.example' } });
  assert.equal(evil.body.code, 'ORIGIN_NOT_ALLOWED', 'using the key from another site is refused too');
  const ok = await fetch(`${worker.url}/${p}/v5/objects/uploads/x.txt`, { method: 'PUT', body: 'x', headers: { 'X-Filerobot-Key': key, Origin: origin } });
  assert.equal(ok.status, 201);
  assert.equal(ok.headers.get('access-control-allow-origin'), origin);
});

test('without DEMO the page does not exist', async () => {
  const plain = await startWorker();
  try {
    const r = await call(plain.url, 'GET', `/demo/demo/SECU_00000000000000000000000000000000`);
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'NOT_FOUND');
  } finally {
    await plain.stop();
  }
});
