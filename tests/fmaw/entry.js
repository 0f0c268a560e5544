// Page entry for the FMAW harness: the real, unmodified Filerobot core with its
// XHR upload plugin, configured from the page's query string:
//   ?api=http://127.0.0.1:PORT&container=demo&template=SECU_x&folder=/uploads
//   [&uploadToFolderPath=/x]  the XHRUpload option of that name
//   [&i18n=URL]               the core's i18nFetchApiEndpoint (default: its own)
// Everything the widget emits or shows is recorded on window.fmaw for a test.
import Filerobot from '@filerobot/core';
import XHRUpload from '@filerobot/xhr-upload';
import { selectInfo } from '@filerobot/core/lib/slices/info.slice';
import { selectUser } from '@filerobot/core/lib/slices/user.slice';

const q = new URLSearchParams(location.search);
const t0 = performance.now();
const ms = () => Math.round(performance.now() - t0);

const rec = {
  config: Object.fromEntries(q),
  events: [], // every widget event below, in order: { t, event, ...details }
  infos: [], // every informer message the widget shows: { t, type, message, details }
  keys: [], // every key the widget obtained, in order
  error: null, // a throw from the widget's constructor, if any
};
const log = (event, details = {}) => rec.events.push({ t: ms(), event, ...details });
const errorOf = (e) => (e && typeof e === 'object'
  ? { message: e.message, details: e.details, code: e.code, codeLabel: e.codeLabel, name: e.name }
  : { message: String(e) });

let core;
try {
  core = Filerobot({
    container: q.get('container'),
    securityTemplateId: q.get('template'),
    apiEndpoint: q.get('api'),
    ...(q.get('i18n') ? { i18nFetchApiEndpoint: q.get('i18n') } : {}),
  });
  core.use(XHRUpload, q.get('uploadToFolderPath') ? { uploadToFolderPath: q.get('uploadToFolderPath') } : {});
} catch (e) {
  rec.error = errorOf(e);
}

if (core) {
  core.on('sass-key-obtained', (key) => { rec.keys.push(key); log('sass-key-obtained', { key }); });
  core.on('sass-key-empty-header', (d) => log('sass-key-empty-header', { url: d.url }));
  core.on('file-added', (f) => log('file-added', { id: f.id, file: f.name, type: f.type, toFolder: f.toFolder, info: f.info }));
  core.on('restriction-failed', (f, e) => log('restriction-failed', { error: errorOf(e) }));
  core.on('upload-started', (f) => log('upload-started', { id: f.id, file: f.name }));
  core.on('upload-progress', (f, p) => log('upload-progress', { bytesFinished: p.bytesFinished, bytesTotal: p.bytesTotal }));
  core.on('upload-success', (f, resp) => log('upload-success', {
    // f is the widget's file with the answer's body.file spread over it
    id: f.id,
    file: { name: f.name, uuid: f.uuid, url: f.url, size: f.size },
    response: { status: resp.status, body: resp.body, uploadURL: resp.uploadURL },
  }));
  core.on('upload-error', (f, e, extra) => log('upload-error', {
    id: f && f.id, file: f && f.name, error: errorOf(e), response: extra && extra.response,
  }));
  core.on('error', (ids, e) => log('error', { error: errorOf(e) }));
  core.on('complete', (r) => log('complete', {
    successful: r.successful.length, failed: r.failed.map((f) => f.error || null),
  }));
  core.on('info-visible', () => {
    const { type, message, details } = selectInfo(core.getGlobalState());
    rec.infos.push({ t: ms(), type, message, details });
    log('info-visible', { type, message, details });
  });
}

/** The widget's user state: the key, auth state, permissions map, and the key answer. */
rec.user = () => {
  const u = selectUser(core.getGlobalState());
  return { sassKey: u.sassKey, authState: u.authState, permissions: u.permissions, securityData: u.securityData };
};

/** Resolves once the widget holds a key and its permission map, or the timeout passes. */
rec.ready = (timeoutMs = 10000) => new Promise((resolve) => {
  const isReady = () => core && rec.user().sassKey && Object.keys(rec.user().permissions).length > 0;
  if (isReady()) return resolve(true);
  const stop = core ? core.store.subscribe(() => { if (isReady()) { stop(); clearTimeout(timer); resolve(true); } }) : () => {};
  const timer = setTimeout(() => { stop(); resolve(false); }, timeoutMs);
});

/**
 * Adds one file with the widget's own addFile (optionally meta and tags with
 * setFilesInfoMetaTags) and runs core.upload(), as the
 * widget's upload button does. base64: the file's bytes. Returns once the
 * upload settled, or after timeoutMs.
 */
rec.upload = async ({
  name, type, base64, toFolder = q.get('folder') || undefined, meta, tags, timeoutMs = 15000,
}) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const data = new File([bytes], name, { type });
  let id;
  try {
    id = core.addFile({ name, type, data, source: 'fmaw-harness', ...(toFolder ? { toFolder } : {}) });
  } catch (e) {
    log('addFile-threw', { error: errorOf(e) });
    return { added: false, error: errorOf(e) };
  }
  if (!id) return { added: false }; // addFile shows an informer and returns nothing for refused extensions
  // What the explorer's upload form does: meta {field: value}, tags {lang: [{label}]}.
  if (meta || tags) core.setFilesInfoMetaTags({ filesIds: [id], meta, tags });
  try {
    // Some answers leave the widget's upload promise pending forever (see
    // FINDINGS.md): give up after timeoutMs and say so.
    const from = rec.events.length;
    const result = await Promise.race([core.upload(), new Promise((r) => setTimeout(r, timeoutMs, 'timeout'))]);
    // Not result.successful: without the explorer's UI plugins nothing marks a
    // failed file, so the core counts every upload as successful.
    const mine = rec.events.slice(from).filter((e) => e.id === id);
    const outcome = mine.find((e) => e.event === 'upload-success' || e.event === 'upload-error');
    return { added: true, id, settled: result !== 'timeout', outcome: outcome ? outcome.event : null };
  } catch (e) {
    log('upload-threw', { error: errorOf(e) });
    return { added: true, id, error: errorOf(e) };
  }
};

window.fmaw = rec;
window.fmawCore = core;
