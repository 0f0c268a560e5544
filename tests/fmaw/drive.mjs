// Drives the real FMAW (built by build.mjs) in Debian's headless Chromium:
// serves the page from http://127.0.0.1:PORT, points the widget at `api`,
// waits for its key, uploads one file with the widget's own addFile/upload,
// and returns everything the page recorded.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { OUT_DIR, buildFmaw } from './build.mjs';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

/**
 * Serves a directory on 127.0.0.1 (port 0: a free one), and /i18n/export (the
 * widget's translation download) as an empty list. Returns { url, close }.
 */
export async function serveDir(dir, port = 0) {
  const server = createServer((req, res) => {
    if (req.url.startsWith('/i18n/export')) {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('[]');
      return;
    }
    if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-store' });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}

/** Launches Chromium with a fresh profile. Returns { context, close }. */
export async function launch() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
  const profile = mkdtempSync(join(tmpdir(), 'fmaw-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
  });
  return {
    context,
    close: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); },
  };
}

/**
 * Runs the widget once.
 *   api, container, template, folder: the widget's configuration
 *   file: { name, bytes (Buffer|Uint8Array|string), type, toFolder?, meta?, tags? },
 *         or null for no upload (toFolder defaults to folder)
 *   files: several such files, uploaded one after the other (instead of file)
 *   uploadAfterMs: wait this long before each upload (after the key is ready)
 *   uploadTimeoutMs: give up on an upload that has not settled after this long
 *   waitMs: how long to keep the page open after the upload (to see refresh timers)
 *   readyMs: how long to wait for the key and permissions
 *   query: extra query parameters for the page (uploadToFolderPath, i18n)
 *   pagePort: the page server's port (default: a free one); fix it when the
 *             API checks the page origin (http://127.0.0.1:pagePort)
 *   context: an open Chromium context to reuse (else one is launched and closed)
 *   build: rebuild the bundle first (default: only when it is missing)
 * Returns { pageUrl, pageOrigin, ready, upload (the first of uploads), uploads, events, infos, keys, user, error, console,
 *           pageErrors, requests, external }.
 * `requests` are the page's requests to 127.0.0.1 (not its own page server) as
 * Chromium reports them, without preflights (the API server sees those);
 * `external` are requests to any other host (none reach it: no network).
 */
export async function runWidget({
  api, container, template, folder = '/', file = null, files, uploadAfterMs = 0, uploadTimeoutMs = 15000, waitMs = 0,
  readyMs = 10000, query = {}, pagePort = 0, context, build,
} = {}) {
  if (build || !existsSync(join(OUT_DIR, 'fmaw.js'))) await buildFmaw();
  const site = await serveDir(OUT_DIR, pagePort);
  const own = context ? null : await launch();
  const ctx = context || own.context;
  const page = await ctx.newPage();
  const out = { console: [], pageErrors: [], requests: [], external: [] };
  try {
    page.on('console', (m) => out.console.push({ type: m.type(), text: m.text() }));
    page.on('pageerror', (e) => out.pageErrors.push(String(e)));
    page.on('request', (r) => {
      if (r.url().startsWith(site.url)) return;
      const entry = { method: r.method(), url: r.url(), headers: r.headers(), resourceType: r.resourceType() };
      (new URL(r.url()).hostname === '127.0.0.1' ? out.requests : out.external).push(entry);
    });
    // No page.route here: with any route set, Playwright answers CORS preflights
    // itself and the server never sees them. The widget's translation download
    // (by default from its vendor's host) goes to this page server instead.
    const params = new URLSearchParams({ api, container, template, folder, i18n: `${site.url}/i18n`, ...query });
    out.pageOrigin = site.url;
    out.pageUrl = `${site.url}/index.html?${params}`;
    await page.goto(out.pageUrl);
    await page.waitForFunction(() => window.fmaw);
    out.ready = await page.evaluate((ms) => window.fmaw.ready(ms), readyMs);
    out.uploads = [];
    for (const f of files ?? (file ? [file] : [])) {
      if (uploadAfterMs) await page.waitForTimeout(uploadAfterMs);
      const base64 = Buffer.from(f.bytes ?? '').toString('base64');
      out.uploads.push(await page.evaluate((arg) => window.fmaw.upload(arg), {
        name: f.name, type: f.type || 'application/octet-stream', base64, timeoutMs: uploadTimeoutMs,
        ...(f.toFolder !== undefined ? { toFolder: f.toFolder } : {}), meta: f.meta, tags: f.tags,
      }));
    }
    [out.upload] = out.uploads;
    if (waitMs) await page.waitForTimeout(waitMs);
    Object.assign(out, await page.evaluate(() => ({
      events: window.fmaw.events,
      infos: window.fmaw.infos,
      keys: window.fmaw.keys,
      error: window.fmaw.error,
      user: window.fmawCore ? window.fmaw.user() : null,
    })));
    return out;
  } finally {
    await page.close().catch(() => {});
    await own?.close();
    await site.close();
  }
}
