// Uploads by URL in R2 mode: the worker fetches each URL and streams it into
// storage. A local file server stands for the web; ALLOW_LOCAL_URLS lets the
// worker reach it, and without it every local target is refused.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ROOT_KEY, assertError, call, freshProject, mintKey, startWorker } from './harness.mjs';

let local;
let strict;
let server;
before(async () => {
  server = createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const size = Number(u.searchParams.get('size') ?? 100);
    const body = Buffer.alloc(size, size % 251);
    if (u.pathname === '/redirect') {
      res.writeHead(302, { Location: `/pic.png?size=${size}` });
      return res.end();
    }
    if (u.pathname === '/missing') {
      res.writeHead(404);
      return res.end();
    }
    if (u.pathname === '/chunked') {
      // No Content-Length: the size is only known while the body streams.
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' });
      for (let i = 0; i < size; i += 1000) res.write(body.subarray(i, i + 1000));
      return res.end();
    }
    res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': size });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  [local, strict] = await Promise.all([startWorker({ ALLOW_LOCAL_URLS: '1' }), startWorker()]);
});
after(async () => {
  await Promise.all([local?.stop(), strict?.stop()]);
  server?.close();
});

const FROM = { 'CF-Connecting-IP': '192.0.2.10', 'CF-IPCountry': 'FR' };
const at = (path, size) => `http://127.0.0.1:${server.address().port}${path}?size=${size}`;
const sha1 = (b) => createHash('sha1').update(b).digest('hex');
const upload = (w, p, key, urls, folder = '/web') => call(w.url, 'POST', `/${p}/v4/files?folder=${folder}`, {
  key, headers: FROM, body: { files_urls: urls },
});
const listed = async (w, p, folder = '/web') => {
  const r = await call(w.url, 'GET', `/${p}/v5/files?folder=${folder}`, { key: ROOT_KEY });
  return r.body.files.map((f) => f.name).sort();
};

describe('uploads by URL (R2 mode)', () => {
  test('each URL is fetched and stored byte for byte; redirects are followed; a name defaults to the URL\'s last segment', async () => {
    const p = freshProject();
    const key = await mintKey(local.url, p, { permissions: ['FILE_UPLOAD'] });
    const r = await upload(local, p, key, [{ url: at('/pic.png', 3000), name: 'a.png' }, { url: at('/redirect', 40) }, { url: at('/chunked', 2500), name: 'c.bin' }]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.files.map((f) => [f.name, f.size.bytes, f.hash.sha1, f.type]), [
      ['a.png', 3000, sha1(Buffer.alloc(3000, 3000 % 251)), 'image/png'],
      ['redirect', 40, sha1(Buffer.alloc(40, 40)), 'image/png'],
      ['c.bin', 2500, sha1(Buffer.alloc(2500, 2500 % 251)), 'application/octet-stream'],
    ]);
    const got = await fetch(`${local.url}/${p}/v5/objects/web/a.png`, { headers: { 'X-Filerobot-Key': ROOT_KEY } });
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(Buffer.alloc(3000, 3000 % 251)));
  });

  test('a file over max_file_size is 413 and nothing of the upload is stored, declared or streamed', async () => {
    const p = freshProject();
    const key = await mintKey(local.url, p, { permissions: ['FILE_UPLOAD'], upload: { max_file_size: 2000 } });
    for (const big of [at('/pic.png', 2001), at('/chunked', 5000)]) {
      assertError(assert, await upload(local, p, key, [{ url: at('/pic.png', 10), name: 'small.png' }, { url: big, name: 'big.bin' }]), 413, 'FILE_TOO_LARGE');
    }
    assert.deepEqual(await listed(local, p), []);
  });

  test('each URL counts as one upload', async () => {
    const p = freshProject();
    const key = await mintKey(local.url, p, { permissions: ['FILE_UPLOAD'], upload: { max: 2 } });
    const three = [1, 2, 3].map((i) => ({ url: at('/pic.png', i), name: `${i}.png` }));
    assertError(assert, await upload(local, p, key, three), 429, 'QUOTA_EXCEEDED');
    assert.deepEqual(await listed(local, p), []);
    assert.equal((await upload(local, p, key, three.slice(0, 2))).status, 200);
    assert.deepEqual(await listed(local, p), ['1.png', '2.png']);
  });

  test('a URL that fails is URL_FAILED and stores nothing', async () => {
    const p = freshProject();
    const key = await mintKey(local.url, p, { permissions: ['FILE_UPLOAD'] });
    assertError(assert, await upload(local, p, key, [{ url: at('/pic.png', 5), name: 'ok.png' }, { url: at('/missing', 1) }]), 400, 'URL_FAILED');
    assert.deepEqual(await listed(local, p), []);
  });

  test('without ALLOW_LOCAL_URLS, loopback, private, link-local and metadata targets are refused', async () => {
    const p = freshProject();
    const key = await mintKey(strict.url, p, { permissions: ['FILE_UPLOAD'] });
    const port = server.address().port;
    for (const url of [
      at('/pic.png', 1), `http://localhost:${port}/pic.png`, `http://2130706433:${port}/a`, `http://0x7f.1:${port}/a`,
      `http://127.1:${port}/a`, 'http://[::1]/a', 'http://[::ffff:127.0.0.1]/a', 'http://10.1.2.3/a', 'http://192.168.0.1/a',
      'http://172.16.0.1/a', 'http://169.254.169.254/latest/meta-data', 'http://[fe80::1]/a', 'http://0.0.0.0/a',
      'http://metadata.google.internal/a', 'file:///etc/passwd', 'ftp://example.com/a',
    ]) {
      const r = await upload(strict, p, key, [{ url, name: 'x.png' }]);
      assert.equal(r.status, 400, `${url}: ${r.text}`);
      assert.ok(['URL_REFUSED', 'INVALID_FIELD'].includes(r.body.code), `${url}: ${r.body.code}`);
    }
    assert.deepEqual(await listed(strict, p), []);
  });
});
