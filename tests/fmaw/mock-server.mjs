// A throwaway stand-in for sass-edge, to learn what the real FMAW sends and
// which answers it accepts. It answers the three calls the widget makes,
//   GET  /{container}/key/{template}          key exchange
//   GET  /{container}/v4/key/info?key=K       key check
//   POST /{container}/v4/files?folder=...     upload (multipart)
// plus CORS preflights, and logs every request: method, URL, headers, and a
// body summary (multipart part names, filenames, types, text values, sizes).
// Each answer can be replaced per scenario with mock.set({ key, info, upload }):
// an object { status, body, headers } or a function (req, n) => that object;
// mock.set({ cors: { preflight, response } }) replaces the CORS headers.
// Run alone: `node tests/fmaw/mock-server.mjs [port]` (logs to stdout).
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

/** The answers that make the widget work (see FINDINGS.md). */
export const DEFAULTS = {
  key: (req, n) => ({
    status: 200,
    body: { status: 'success', key: `MOCKKEY${n}`, key_validity: { expire_duration: 1170000 } },
  }),
  info: () => ({
    status: 200,
    body: { status: 'success', is_validate: true, is_user_info_included: false, permissions: ['FILE_UPLOAD', 'OBJECTS_LIST'] },
  }),
  upload: (req) => ({
    status: 200,
    body: {
      status: 'success',
      file: { uuid: '00000000-0000-4000-8000-000000000001', name: req.parts?.find((p) => p.filename)?.filename, url: { cdn: 'https://cdn.invalid/f' } },
    },
  }),
};

/** Splits a multipart/form-data body into its parts, in order. */
export function parseMultipart(buf, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType || '');
  if (!m) return null;
  const delim = Buffer.from(`--${m[1] || m[2]}`);
  const parts = [];
  let pos = buf.indexOf(delim);
  while (pos !== -1) {
    const start = pos + delim.length;
    if (buf.slice(start, start + 2).toString() === '--') break;
    const next = buf.indexOf(delim, start);
    if (next === -1) break;
    const raw = buf.slice(start + 2, next - 2); // skip CRLF after the delimiter and before the next
    const sep = raw.indexOf('\r\n\r\n');
    const head = raw.slice(0, sep).toString();
    const body = raw.slice(sep + 4);
    const disp = /content-disposition:\s*form-data;([^\r\n]*)/i.exec(head)?.[1] || '';
    const name = /\bname="([^"]*)"/.exec(disp)?.[1];
    const filename = /\bfilename="([^"]*)"/.exec(disp)?.[1];
    const type = /content-type:\s*([^\r\n]*)/i.exec(head)?.[1];
    const part = { name, ...(filename !== undefined ? { filename } : {}), ...(type ? { type } : {}), size: body.length };
    if (filename === undefined) part.value = body.toString();
    parts.push(part);
    pos = next;
  }
  return parts;
}

function summarize(buf, contentType) {
  if (!buf.length) return undefined;
  if (/multipart\/form-data/i.test(contentType || '')) return { multipart: parseMultipart(buf, contentType) };
  const text = buf.toString();
  return { size: buf.length, text: text.length > 500 ? `${text.slice(0, 500)}…` : text };
}

/**
 * Starts the mock on 127.0.0.1. Returns { url, port, log, set, reset, clear, close }.
 * `log` is the array of every request, in arrival order, each with `t` (ms since start).
 */
export async function startMock({ port = 0, quiet = true } = {}) {
  const log = [];
  const counts = { key: 0, info: 0, upload: 0 };
  let answers = { ...DEFAULTS };
  const t0 = Date.now();

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const buf = Buffer.concat(chunks);
      const url = new URL(req.url, 'http://mock');
      const segs = url.pathname.split('/').filter(Boolean);
      let kind = 'other';
      if (req.method === 'OPTIONS') kind = 'preflight';
      else if (req.method === 'GET' && segs.length === 3 && segs[1] === 'key') kind = 'key';
      else if (req.method === 'GET' && segs.length === 4 && segs[1] === 'v4' && segs[2] === 'key' && segs[3] === 'info') kind = 'info';
      else if (segs.length === 3 && segs[1] === 'v4' && segs[2] === 'files') kind = 'upload';
      const entry = {
        t: Date.now() - t0,
        kind,
        method: req.method,
        url: req.url,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: { ...req.headers },
        headerOrder: req.rawHeaders.filter((_, i) => i % 2 === 0),
        body: summarize(buf, req.headers['content-type']),
      };
      log.push(entry);
      if (!quiet) console.log(JSON.stringify(entry));

      // By default the most permissive CORS answer; answers.cors = { preflight,
      // response } (header objects) replaces it to try what is really needed.
      const cors = answers.cors?.[kind === 'preflight' ? 'preflight' : 'response'] ?? {
        'Access-Control-Allow-Origin': req.headers.origin || '*',
        'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || '*',
        'Access-Control-Max-Age': '0', // preflight every time, so every one is logged
        Vary: 'Origin',
      };
      if (kind === 'preflight') {
        res.writeHead(204, cors);
        return res.end();
      }
      let answer;
      if (kind in counts) {
        counts[kind] += 1;
        const a = answers[kind];
        const req2 = { ...entry, parts: entry.body?.multipart };
        answer = typeof a === 'function' ? await a(req2, counts[kind]) : a;
      } else {
        answer = { status: 404, body: { status: 'error', code: 'NOT_FOUND', msg: `mock: no route for ${req.method} ${url.pathname}` } };
      }
      entry.answered = { status: answer.status, body: answer.body };
      const isText = typeof answer.body === 'string';
      res.writeHead(answer.status, {
        ...cors,
        'Content-Type': isText ? 'text/plain' : 'application/json',
        ...(answer.headers || {}),
      });
      res.end(isText ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const actual = server.address().port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    log,
    counts,
    /** Replaces some answers: { key?, info?, upload?, cors? }. */
    set(over) { answers = { ...answers, ...over }; },
    /** Back to the defaults, counters and log cleared. */
    reset() { answers = { ...DEFAULTS }; this.clear(); },
    clear() { log.length = 0; counts.key = 0; counts.info = 0; counts.upload = 0; },
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mock = await startMock({ port: Number(process.argv[2] || 8788), quiet: false });
  console.error(`mock sass-edge on ${mock.url}`);
}
