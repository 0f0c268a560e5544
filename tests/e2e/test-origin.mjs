// A local test origin for origin mode: an in-memory Filerobot-compatible API
// (uploads multipart, base64 and by URL; file and folder listings; files by
// uuid: inspect, rename, meta, delete), plus echo answers for sass-edge's own
// object API. It does what an origin behind sass-edge must do: it accepts only
// its own credential in X-Filerobot-Key and the sass-edge signature (v2) over
// a fresh timestamp, and it records every request so tests can assert what it
// received. An upload whose body breaks off stores nothing.
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const dec = (v) => decodeURIComponent(v ?? '');

/** Whether a request carries a valid sass-edge v2 signature. */
export function verifySignature(secret, method, url, h) {
  const canonical = ['sass-edge-origin-v2', method, url, h['x-sass-project'], h['x-sass-key-id'],
    h['x-sass-permission'], h['x-sass-client-ip'], h['x-sass-timestamp'],
    dec(h['x-sass-path']), dec(h['x-sass-folder']), dec(h['x-sass-to'])].join('\n');
  const expected = createHmac('sha256', Buffer.from(secret, 'base64url')).update(canonical).digest();
  const given = Buffer.from(h['x-sass-signature'] ?? '', 'base64url');
  const fresh = Math.abs(Date.now() / 1000 - Number(h['x-sass-timestamp'])) <= 60;
  return fresh && given.length === expected.length && timingSafeEqual(given, expected);
}

const sha1 = (b) => createHash('sha1').update(b).digest('hex');
const json = (res, status, body) => {
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Origin': 'test' });
  res.end(JSON.stringify(body));
};

/**
 * Starts the origin. `secret` is ORIGIN_SECRET, `key` ORIGIN_KEY. Returns
 * { url, received, files, state, stop }: `received` lists every request
 * ({ method, url, headers, body, verified, aborted }); `files` maps uuid to the
 * stored file; `state.overAnswer` makes listings return every file and folder
 * of the project whatever was asked; `state.failLookups` answers 500 to GETs
 * by uuid.
 */
export async function startOrigin({ secret, key }) {
  const received = [];
  const files = new Map();
  const state = { overAnswer: false, failLookups: false };
  let base;
  const object = (f) => ({
    uuid: f.uuid, name: f.name, folder: f.folder, type: f.type, size: { bytes: f.bytes.length },
    hash: { sha1: sha1(f.bytes) }, meta: f.meta, info: {}, tags: {}, created_at: f.created,
    url: { public: `${base}/cdn${f.folder === '/' ? '' : f.folder}/${f.name}`, cdn: `${base}/cdn/${f.uuid}`, permalink: `${base}/cdn/${f.uuid}` },
  });
  const store = (project, folder, name, type, bytes, meta = {}) => {
    const f = { uuid: randomUUID(), project, folder, name, type: type || 'application/octet-stream', bytes, meta, created: new Date().toISOString() };
    files.set(f.uuid, f);
    return f;
  };
  const inFolder = (f, folder, recursive) => f.folder === folder || (recursive && f.folder.startsWith(folder === '/' ? '/' : `${folder}/`));

  async function upload(req, res, project, q, body) {
    const folder = q.get('folder') || '/';
    const type = req.headers['content-type'] ?? '';
    const made = [];
    if (type.startsWith('multipart/')) {
      const form = await new Response(body, { headers: { 'content-type': type } }).formData();
      // info[x] and meta[x] describe the next file part named x.
      const described = {};
      for (const [name, value] of form.entries()) {
        const m = /^(info|meta)\[(.*)\]$/.exec(name);
        if (m && typeof value === 'string') (described[m[2]] ??= {})[m[1]] = JSON.parse(value);
        if (typeof value === 'string') continue;
        const d = described[name] ?? {};
        delete described[name];
        made.push([folder, d.info?.name ?? value.name, d.info?.type ?? value.type, Buffer.from(await value.arrayBuffer()), d.meta]);
      }
    } else {
      const asked = JSON.parse(body.toString());
      if (asked.files_urls) {
        for (const u of asked.files_urls) {
          const r = await fetch(u.url);
          if (!r.ok) return json(res, 400, { status: 'error', code: 'URL_FAILED', msg: `${u.url} answered ${r.status}` });
          made.push([folder, u.name, r.headers.get('content-type'), Buffer.from(await r.arrayBuffer()), u.meta]);
        }
      } else {
        made.push([folder, asked.name, asked.type, Buffer.from(asked.data, 'base64'), asked.meta]);
      }
    }
    if (made.length === 0) return json(res, 400, { status: 'error', code: 'NO_FILE', msg: 'no file' });
    const stored = made.map((m) => object(store(project, ...m)));
    return json(res, 200, stored.length === 1 ? { status: 'success', file: stored[0] } : { status: 'success', files: stored });
  }

  function filerobot(req, res, project, rest, q, body) {
    const of = [...files.values()].filter((f) => f.project === project);
    const folder = q.get('folder') || '/';
    const recursive = q.get('recursive') === '1';
    if (req.method === 'POST' && rest === 'v4/files') return upload(req, res, project, q, body);
    if (req.method === 'GET' && /^v[45]\/files$/.test(rest)) {
      const shown = of.filter((f) => state.overAnswer || inFolder(f, folder, recursive));
      return json(res, 200, { status: 'success', files: shown.map(object), info: { total_files_count: shown.length } });
    }
    if (req.method === 'GET' && /^v[45]\/folders$/.test(rest)) {
      // Every folder that holds a file, and the folders above it.
      const all = new Set(of.flatMap((f) => f.folder.split('/').slice(1).map((_, i, s) => `/${s.slice(0, i + 1).join('/')}`)));
      const prefix = folder === '/' ? '/' : `${folder}/`;
      const child = (d) => d.startsWith(prefix) && !d.slice(prefix.length).includes('/');
      const shown = [...all].filter((d) => state.overAnswer || child(d));
      return json(res, 200, { status: 'success', folders: shown.map((d) => ({ name: d.split('/').pop(), path: d })), total: shown.length });
    }
    const m = /^v[45]\/files\/([0-9a-f-]{36})(\/meta)?$/.exec(rest);
    if (!m) return json(res, 404, { status: 'error', code: 'ROUTE_NOT_FOUND', msg: rest });
    if (req.method === 'GET' && state.failLookups) return json(res, 500, { status: 'error', code: 'DOWN', msg: 'down' });
    const f = files.get(m[1]);
    if (!f || f.project !== project) return json(res, 404, { status: 'error', code: 'FILE_NOT_FOUND', msg: 'no such file' });
    const asked = body.length ? JSON.parse(body.toString()) : {};
    if (m[2] && req.method === 'PUT') f.meta = asked.meta;
    else if (req.method === 'PATCH') f.name = asked.name;
    else if (req.method === 'DELETE') files.delete(f.uuid);
    else if (req.method !== 'GET') return json(res, 405, { status: 'error', code: 'METHOD', msg: req.method });
    return json(res, 200, { status: 'success', file: object(f) });
  }

  const server = createServer((req, res) => {
    const chunks = [];
    let ended = false;
    req.on('data', (c) => chunks.push(c));
    req.on('error', () => {});
    // A body that breaks off: recorded, and nothing of it is stored.
    req.on('close', () => {
      if (!ended) received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks), aborted: true });
    });
    req.on('end', async () => {
      ended = true;
      const body = Buffer.concat(chunks);
      const verified = verifySignature(secret, req.method, req.url, req.headers);
      const record = { method: req.method, url: req.url, headers: req.headers, body, verified, aborted: false };
      received.push(record);
      if (req.headers['x-filerobot-key'] !== key || !verified) {
        return json(res, 401, { status: 'error', code: 'UNAUTHORIZED', msg: 'not the origin credential, or a bad signature' });
      }
      const u = new URL(req.url, 'http://origin');
      const [, project, ...rest] = u.pathname.split('/');
      const tail = rest.join('/');
      try {
        if (tail.startsWith('v5/objects/') || tail === 'v5/list') {
          const status = u.pathname.includes('/fail') ? 500 : 200;
          return json(res, status, { origin: true, method: req.method, url: req.url, bytes: body.length });
        }
        await filerobot(req, res, project, tail, u.searchParams, body);
      } catch (e) {
        json(res, 500, { status: 'error', code: 'ORIGIN_BUG', msg: String(e) });
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  return { url: base, received, files, state, stop: () => new Promise((r) => server.close(r)) };
}
