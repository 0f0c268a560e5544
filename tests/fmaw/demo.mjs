// Runs the real FMAW against the mock server in a set of scenarios and prints
// what it sent and what it did with each answer. The evidence for FINDINGS.md.
//   node tests/fmaw/demo.mjs                 every scenario
//   node tests/fmaw/demo.mjs happy refresh   only these
//   node tests/fmaw/demo.mjs --json          full records (requests, events) as JSON
import { buildFmaw } from './build.mjs';
import { launch, runWidget } from './drive.mjs';
import { startMock } from './mock-server.mjs';

const json = (status, body, headers) => () => ({ status, body, ...(headers ? { headers } : {}) });
const FILE = { name: 'hello.txt', bytes: 'hello world', type: 'text/plain' };
const KEY_OK = (extra = {}) => (req, n) => ({ status: 200, body: { status: 'success', key: `MOCKKEY${n}`, ...extra } });

const SCENARIOS = {
  happy: { about: 'defaults of mock-server.mjs: the full request details', set: {}, file: FILE, full: true },

  'key-no-status': {
    about: 'key answer {key} without "status", Content-Type exactly application/json',
    set: { key: (req, n) => ({ status: 200, body: { key: `MOCKKEY${n}` } }) },
    file: FILE, readyMs: 3000,
  },
  'key-no-status-charset': {
    about: 'same, but Content-Type: application/json; charset=utf-8',
    set: { key: (req, n) => ({ status: 200, body: { key: `MOCKKEY${n}` }, headers: { 'Content-Type': 'application/json; charset=utf-8' } }) },
    file: FILE,
  },
  'key-refused': {
    about: 'key exchange answered 403 {status:error, code, msg, hint}',
    set: { key: json(403, { status: 'error', code: 'ORIGIN_DENIED', msg: 'Origin not allowed', hint: 'Add this origin to the template' }) },
    file: FILE, readyMs: 3000,
  },
  'info-minimal': {
    about: 'key/info answer {status:success, permissions:[FILE_UPLOAD]} only',
    set: { info: json(200, { status: 'success', permissions: ['FILE_UPLOAD'] }) },
    file: FILE,
  },
  'info-no-status': {
    about: 'key/info answer without "status" (Content-Type exactly application/json)',
    set: { info: json(200, { is_validate: true, permissions: ['FILE_UPLOAD'] }) },
    file: FILE, readyMs: 3000,
  },
  'info-no-permissions': {
    about: 'key/info answer with no "permissions" at all',
    set: { info: json(200, { status: 'success', is_validate: true }) },
    file: FILE,
  },
  'info-empty-permissions': {
    about: 'key/info answer with permissions: []',
    set: { info: json(200, { status: 'success', is_validate: true, permissions: [] }) },
    file: FILE,
  },
  'info-list-only': {
    about: 'key/info answer with permissions: [OBJECTS_LIST] (no FILE_UPLOAD)',
    set: { info: json(200, { status: 'success', is_validate: true, permissions: ['OBJECTS_LIST'] }) },
    file: FILE,
  },
  'info-wildcard': {
    about: 'key/info answer with permissions: ["*"]',
    set: { info: json(200, { status: 'success', is_validate: true, permissions: ['*'] }) },
    file: FILE, readyMs: 3000,
  },
  'info-key-expired': {
    about: 'key/info answered 401 {status:error, code:KEY_EXPIRED}',
    set: { info: json(401, { status: 'error', code: 'KEY_EXPIRED', msg: 'Key expired', hint: 'Get a new key' }) },
    file: FILE, readyMs: 3000,
  },
  'upload-empty-200': {
    about: 'upload answered 200 with an empty body',
    set: { upload: () => ({ status: 200, body: '' }) },
    file: FILE,
  },
  'upload-201-no-status': {
    about: 'upload answered 201 {file:{uuid}} without "status"',
    set: { upload: json(201, { file: { uuid: 'u-1' } }) },
    file: FILE,
  },
  'upload-200-status-error': {
    about: 'upload answered 200 {status:"error"}',
    set: { upload: json(200, { status: 'error', msg: 'not really' }) },
    file: FILE,
  },
  'upload-scope-denied': {
    about: 'upload answered 403 {status:error, code:SCOPE_DENIED, msg, hint}',
    set: { upload: json(403, { status: 'error', code: 'SCOPE_DENIED', msg: 'Folder outside the key scope', hint: 'This key may upload to /uploads/* only' }) },
    file: FILE,
  },
  'upload-denied-msg-only': {
    about: 'upload answered 403 {status:error, code, msg} without hint',
    set: { upload: json(403, { status: 'error', code: 'SCOPE_DENIED', msg: 'Folder outside the key scope' }) },
    file: FILE,
  },
  'upload-key-expired': {
    about: 'upload answered 401 {status:error, code:KEY_EXPIRED}: does it re-exchange?',
    set: { upload: json(401, { status: 'error', code: 'KEY_EXPIRED', msg: 'KEY_EXPIRED', hint: 'The key has expired' }) },
    file: FILE, waitMs: 1500,
  },
  'upload-text-error': {
    about: 'upload answered 403 with a non-JSON body',
    set: { upload: () => ({ status: 403, body: 'Forbidden' }) },
    file: FILE, uploadTimeoutMs: 3000,
  },
  refresh: {
    about: 'key answer with key_validity.expire_duration 1500: watch 4 s, upload after 2 s',
    set: { key: KEY_OK({ key_validity: { expire_duration: 1500 } }) },
    file: FILE, uploadAfterMs: 2000, waitMs: 2300,
  },
  'refresh-fails': {
    about: 'expire_duration 800, the second exchange answered 503: watch 3 s',
    set: { key: (req, n) => (n === 2
      ? { status: 503, body: { status: 'error', code: 'UNAVAILABLE', msg: 'Try again', hint: 'Service unavailable' } }
      : { status: 200, body: { status: 'success', key: `MOCKKEY${n}`, key_validity: { expire_duration: 800 } } }) },
    file: null, waitMs: 3000,
  },
  'refresh-info-fails': {
    about: 'expire_duration 800, the second key/info answered 503: watch 3 s',
    set: {
      key: KEY_OK({ key_validity: { expire_duration: 800 } }),
      info: (req, n) => (n === 2
        ? { status: 503, body: { status: 'error', code: 'UNAVAILABLE', msg: 'Try again', hint: 'Service unavailable' } }
        : { status: 200, body: { status: 'success', is_validate: true, permissions: ['FILE_UPLOAD'] } }),
    },
    file: FILE, uploadAfterMs: 1200, waitMs: 1500,
  },
  'refresh-seconds': {
    about: 'expire_duration 60 (meant as seconds): watch 1 s',
    set: { key: KEY_OK({ key_validity: { expire_duration: 60 } }) },
    file: null, waitMs: 1000,
  },
  'refresh-missing': {
    about: 'key answer without key_validity: watch 1 s',
    set: { key: KEY_OK() },
    file: null, waitMs: 1000,
  },
  'upload-scope-client': {
    about: 'key answer with upload_scope: ["/other/*"] (the widget checks it itself)',
    set: { key: KEY_OK({ upload_scope: ['/other/*'] }) },
    file: FILE,
  },
  'folder-option-only': {
    about: 'folder given only as the XHRUpload option uploadToFolderPath=/uploads (no toFolder on the file)',
    set: {},
    file: { ...FILE, toFolder: '' }, query: { uploadToFolderPath: '/uploads' }, folder: '',
  },
  'cors-minimal': {
    about: 'least CORS: preflight only ACAO:* + ACAH:content-type,x-filerobot-key; answers only ACAO:*',
    set: { cors: {
      preflight: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'content-type, x-filerobot-key' },
      response: { 'Access-Control-Allow-Origin': '*' },
    } },
    file: FILE,
  },
  'cors-no-key-header': {
    about: 'preflight allows content-type but not x-filerobot-key',
    set: { cors: {
      preflight: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'content-type' },
      response: { 'Access-Control-Allow-Origin': '*' },
    } },
    file: FILE,
  },
  'preflight-cache': {
    about: 'preflights cacheable (Max-Age 600), expire_duration 700, two uploads to one folder: which preflights repeat?',
    set: {
      key: KEY_OK({ key_validity: { expire_duration: 700 } }),
      cors: {
        preflight: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'content-type, x-filerobot-key', 'Access-Control-Max-Age': '600' },
        response: { 'Access-Control-Allow-Origin': '*' },
      },
    },
    files: [FILE, { ...FILE, name: 'second.txt' }], uploadAfterMs: 1000, waitMs: 200,
  },
  'meta-tags': {
    about: 'file with meta and tags (as the explorer upload form sets them): multipart order',
    set: {},
    file: { ...FILE, meta: { title: 'Hello', alt: { en: 'greeting' } }, tags: { en: [{ label: 'cat' }, { sid: 't-2', label: 'dog' }] } },
  },
  'folder-unicode': {
    about: 'folder "/uploads/été 2024#1" given as toFolder, file name with space, +, é and a quote',
    set: {},
    file: { ...FILE, name: 'a b+c é "q".txt' }, folder: '/uploads/été 2024#1',
  },
};

const short = (e) => {
  const { t, event, ...rest } = e;
  if (event === 'upload-success') return `${t}ms ${event} status=${rest.response.status} body=${JSON.stringify(rest.response.body)}`;
  if (event === 'upload-error') return `${t}ms ${event} message=${JSON.stringify(rest.error.message)} response=${JSON.stringify(rest.response)}`;
  if (event === 'file-added') return `${t}ms ${event} ${rest.file} toFolder=${rest.toFolder}`;
  if (event === 'upload-progress') return null;
  return `${t}ms ${event} ${JSON.stringify(rest)}`;
};

function report(name, sc, r, log) {
  const lines = [`\n=== ${name}: ${sc.about}`];
  for (const m of log) {
    const acrh = m.headers['access-control-request-headers'];
    let line = `  ${String(m.t).padStart(5)}ms ${m.kind.padEnd(9)} ${m.method} ${m.url}`;
    if (acrh !== undefined) line += `  [Access-Control-Request-Headers: ${acrh}]`;
    if (m.headers['x-filerobot-key']) line += `  [X-Filerobot-Key: ${m.headers['x-filerobot-key']}]`;
    if (m.body?.multipart) line += `\n             parts: ${m.body.multipart.map((p) => (p.filename !== undefined ? `${p.name} (file "${p.filename}", ${p.type}, ${p.size} B)` : `${p.name}=${p.value}`)).join(' | ')}`;
    if (m.answered) line += `\n             -> ${m.answered.status} ${typeof m.answered.body === 'string' ? JSON.stringify(m.answered.body) : JSON.stringify(m.answered.body)}`;
    lines.push(line);
    if (sc.full && m.kind !== 'preflight') {
      lines.push(`             request headers, in order: ${m.headerOrder.join(', ')}`);
      for (const h of m.headerOrder) {
        if (['host', 'origin', 'referer', 'user-agent'].includes(h.toLowerCase())) continue;
        lines.push(`               ${h}: ${m.headers[h.toLowerCase()]}`);
      }
    }
  }
  lines.push(`  ready=${r.ready} ${r.uploads.length > 1 ? 'uploads' : 'upload'}=${JSON.stringify(r.uploads.length > 1 ? r.uploads : r.upload)}`);
  if (r.user) lines.push(`  user: key=${r.user.sassKey || '""'} authState=${r.user.authState} granted=[${Object.entries(r.user.permissions).filter(([, v]) => v).map(([k]) => k).join(',')}]`);
  for (const e of r.events) { const s = short(e); if (s) lines.push(`  event ${s}`); }
  for (const c of r.console) lines.push(`  console.${c.type}: ${c.text.slice(0, 200)}`);
  for (const p of r.pageErrors) lines.push(`  pageerror: ${p.slice(0, 200)}`);
  for (const x of r.external) lines.push(`  external request: ${x.method} ${x.url}`);
  return lines.join('\n');
}

const args = process.argv.slice(2);
const asJson = args.includes('--json');
const names = args.filter((a) => !a.startsWith('--'));
const chosen = names.length ? names : Object.keys(SCENARIOS);
for (const n of chosen) if (!SCENARIOS[n]) throw new Error(`no scenario ${n}; have: ${Object.keys(SCENARIOS).join(', ')}`);

const built = await buildFmaw();
console.log(`bundle: ${(built.bytes / 1024).toFixed(0)} KiB, built in ${built.ms} ms`);
const mock = await startMock();
const browser = await launch();
const all = {};
try {
  for (const name of chosen) {
    const sc = SCENARIOS[name];
    mock.reset();
    mock.set(sc.set);
    const r = await runWidget({
      api: mock.url, container: 'demo', template: 'SECU_demo', folder: sc.folder ?? '/uploads',
      file: sc.file, files: sc.files, waitMs: sc.waitMs, uploadAfterMs: sc.uploadAfterMs, uploadTimeoutMs: sc.uploadTimeoutMs,
      readyMs: sc.readyMs, query: sc.query, context: browser.context,
    });
    // Timers are relative to the first request the mock saw in this scenario.
    const t0 = mock.log[0]?.t ?? 0;
    const log = mock.log.map((m) => ({ ...m, t: m.t - t0 }));
    if (asJson) all[name] = { about: sc.about, ...r, mock: log };
    else console.log(report(name, sc, r, log));
  }
} finally {
  await browser.close();
  await mock.close();
}
if (asJson) console.log(JSON.stringify(all, null, 1));
