// The benchmark's peer: what a developer would write by hand, in plain
// JavaScript with `jose`, to do what sass-edge does on the benchmark's paths.
// Keys are HS256 JWTs carrying sass-edge's claims (project, key_id, the
// policy in the template's field names), in X-Filerobot-Key. Same bindings as
// sass-edge: TEMPLATES (KV), FILES (R2), LIMITER (a SQLite Durable Object);
// JWT_SECRET (base64url); in origin mode ORIGIN_URL and ORIGIN_SECRET.
//
//   GET  /{project}/key/{template}       a key from a template (counted per IP)
//   POST /{project}/key                  a key from {"data": {…}}, with an API secret key
//   GET  /{project}/v5/objects/{path}    a file (R2, or the origin)
//   PUT  /{project}/v5/objects/{path}    an upload (counted)
//   POST /{project}/v4/files?folder=/x   a Filerobot multipart upload (counted)
//
// Built into build/worker.mjs by scripts/bench.sh (esbuild bundles jose).
import { DurableObject } from 'cloudflare:workers';
import { SignJWT, jwtVerify, errors } from 'jose';
import { parseIp, inRange, countingName } from './cidr.js';

const CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Retry-After, Allow' };
const LEEWAY = 30; // seconds of clock leeway on expiry
const CACHE_MS = 20_000; // how long an isolate trusts what it read from KV
const DEFAULT_VALIDITY = 1200;
const MAX_VALIDITY = 604_800;
const DEFAULT_MAX_FILE_SIZE = 524_288_000;
const MINUTE = 60_000;

class Refusal extends Error {
  constructor(status, code, msg, hint, headers = {}) {
    super(msg);
    Object.assign(this, { status, code, hint, headers });
  }
}

const refusals = {
  key: (msg) => new Refusal(401, 'KEY_INVALID', msg, 'Send a valid key in the X-Filerobot-Key header.'),
  path: (msg) => new Refusal(400, 'PATH_INVALID', `the path ${msg}`,
    'Use an absolute path without ., .., empty segments, backslashes, encoded slashes or control characters.'),
  permission: (p) => new Refusal(403, 'PERMISSION_DENIED', `this key lacks the permission ${p}`,
    'Use a key whose permissions include the one named.'),
  scope: (what, dir) => new Refusal(403, 'SCOPE_DENIED', `this key may not ${what} ${dir}`,
    'Stay inside the directories the key\'s dir_scope allows.'),
  tooLarge: (limit) => new Refusal(413, 'FILE_TOO_LARGE', `the file is larger than ${limit} bytes`,
    'Upload a smaller file, or use a key with a larger max_file_size.'),
};

function error(r) {
  return Response.json({ status: 'error', code: r.code, msg: r.message, hint: r.hint },
    { status: r.status, headers: { ...CORS, ...r.headers } });
}

const success = (status, fields) => Response.json({ status: 'success', ...fields }, { status, headers: CORS });

// ------------------------------------------------------------ per isolate

let secretKey;
/** The HMAC key for JWTs, imported once per isolate. */
function jwtKey(env) {
  secretKey ??= crypto.subtle.importKey('raw', base64urlBytes(env.JWT_SECRET), { name: 'HMAC', hash: 'SHA-256' },
    false, ['sign', 'verify']);
  return secretKey;
}

function base64urlBytes(text) {
  const b = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');

/** A KV entry (JSON) through a 20 s per-isolate cache, as sass-edge keeps templates and API keys. */
const kvCache = new Map();
async function cachedJson(env, name) {
  const hit = kvCache.get(name);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.value;
  const value = await env.TEMPLATES.get(name, { type: 'json', cacheTtl: 30 });
  if (kvCache.size > 10_000) kvCache.clear();
  kvCache.set(name, { value, at: Date.now() });
  return value;
}

// ------------------------------------------------------------------ keys

/** The key's claims, checked: signature, expiry, project, revocation, template, IP and country. */
async function verifiedClaims(request, env, project) {
  const token = request.headers.get('X-Filerobot-Key');
  if (!token) throw refusals.key('no key was sent in X-Filerobot-Key');
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(token, await jwtKey(env), { algorithms: ['HS256'], clockTolerance: LEEWAY }));
  } catch (e) {
    if (e instanceof errors.JWTExpired) {
      throw new Refusal(401, 'KEY_EXPIRED', 'the key has expired', 'Request a new key from GET /{project}/key/{template}.');
    }
    throw refusals.key('the key is not valid');
  }
  if (claims.project !== project) {
    throw new Refusal(403, 'PROJECT_MISMATCH', `this key is for another project than ${project}`,
      'Use a key issued for this project.');
  }
  if (await cachedJson(env, `revoked/${project}/${claims.key_id}`)) {
    throw new Refusal(401, 'KEY_REVOKED', 'the key was revoked', 'Request a new key; this one was revoked by the operator.');
  }
  if (claims.template) {
    const template = await cachedJson(env, `tpl/${project}/${claims.template}`);
    if (!template?.active) {
      throw new Refusal(403, 'TEMPLATE_INACTIVE', 'the key\'s template is inactive or deleted',
        'Ask the operator to reactivate the security template.');
    }
    if ((template.generation ?? 0) !== (claims.generation ?? 0)) {
      throw new Refusal(403, 'TEMPLATE_CHANGED', 'the key\'s template has changed since it was issued',
        'Get a new key: the template\'s rules changed.');
    }
  }
  const ip = parseIp(request.headers.get('CF-Connecting-IP'));
  const ranges = claims.restrictions?.whitelist_ip_ranges;
  if (ranges && !(ip && ranges.some((r) => inRange(ip, r)))) {
    throw new Refusal(403, 'IP_NOT_ALLOWED', 'this key may not be used from this IP address',
      'Use the key from where its template allows, or ask for a key that allows this place.');
  }
  const countries = claims.restrictions?.whitelist_countries;
  const country = (request.headers.get('CF-IPCountry') ?? '').toUpperCase();
  if (countries && !(country && country !== 'XX' && country !== 'T1' && countries.includes(country))) {
    throw new Refusal(403, 'COUNTRY_NOT_ALLOWED', 'this key may not be used from this country',
      'Use the key from where its template allows, or ask for a key that allows this place.');
  }
  return { claims, ip };
}

function requirePermission(claims, permission) {
  if (!claims.permissions?.includes(permission)) throw refusals.permission(permission);
}

/** A new key id, as sass-edge makes them: the expiry (8 hex digits), then 96 random bits. */
function newKeyId(expiresAt) {
  return expiresAt.toString(16).padStart(8, '0') + hex(crypto.getRandomValues(new Uint8Array(12)));
}

/** Signs a key for `policy` and answers it as sass-edge does. */
async function issue(env, project, template, generation, policy, validity) {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + validity;
  const claims = { project, key_id: newKeyId(exp), ...policy };
  if (template) claims.template = template;
  if (generation) claims.generation = generation;
  const key = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now).setExpirationTime(exp)
    .sign(await jwtKey(env));
  const ms = validity * 1000;
  return success(200, {
    key, hint: 'New key created and ready to use', debug: null, expires_at: exp,
    key_validity: { expire_duration: ms - Math.min(ms / 10, 30_000) },
  });
}

/** The policy fields of a template or key request, without unset ones. */
function policyOf(fields) {
  const policy = {};
  for (const name of ['permissions', 'upload', 'restrictions', 'listing', 'allowed_origins']) {
    const value = fields[name];
    if (value === null || value === undefined) continue;
    policy[name] = typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null))
      : value;
  }
  return policy;
}

// GET /{project}/key/{template}
async function keyFromTemplate(request, env, project, id) {
  const template = await cachedJson(env, `tpl/${project}/${id}`);
  if (!template) {
    throw new Refusal(404, 'TEMPLATE_NOT_FOUND', `no template ${id}`,
      'Check the template id, e.g. with GET /{project}/v5/security-templates.');
  }
  if (!template.active) {
    throw new Refusal(403, 'TEMPLATE_INACTIVE', 'the template is inactive', 'Ask the operator to reactivate the security template.');
  }
  const origin = request.headers.get('Origin');
  if (template.allowed_origins && origin && !template.allowed_origins.includes(origin)) {
    throw new Refusal(403, 'ORIGIN_NOT_ALLOWED', 'this page may not get keys from this template',
      'Use the key from a page of a site its template\'s allowed_origins lists.');
  }
  const ip = parseIp(request.headers.get('CF-Connecting-IP'));
  await take(env, `issue/${project}/${id}/${countingName(ip)}`,
    [['issue', { window: template.issue_limit_per_min ?? 5 }]], Date.now() + MINUTE);
  const validity = template.key_validity?.expiration_duration ?? DEFAULT_VALIDITY;
  return issue(env, project, id, template.generation, policyOf(template), validity);
}

// POST /{project}/key, with an API secret key holding CONFIG_CHANGE.
async function keyFromBody(request, env, project) {
  const secret = request.headers.get('X-Filerobot-Key') ?? '';
  if (!/^sek_[0-9a-f]{64}_[0-9a-f]{8}$/.test(secret)) throw refusals.key('the API secret key is not valid');
  const hash = hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret)));
  const apiKey = await cachedJson(env, `apikey/hash/${hash}`);
  if (!apiKey || apiKey.hash !== hash) throw refusals.key('the API secret key is not valid');
  if (!apiKey.active) throw refusals.key('the API secret key is deactivated');
  if (!(apiKey.projects.includes('*') || apiKey.projects.includes(project))) {
    throw new Refusal(403, 'PROJECT_MISMATCH', `this API key is not for project ${project}`, 'Use a key issued for this project.');
  }
  if (!apiKey.permissions.includes('CONFIG_CHANGE')) throw refusals.permission('CONFIG_CHANGE');
  if (Number(request.headers.get('Content-Length') ?? 0) > 65_536) {
    throw new Refusal(413, 'BODY_TOO_LARGE', 'the body is larger than 65536 bytes', 'Send a smaller body.');
  }
  let body;
  try {
    body = await request.json();
  } catch {
    throw new Refusal(400, 'INVALID_JSON', 'the body is not JSON', 'Send a JSON object with Content-Type: application/json.');
  }
  const data = body?.data ?? {};
  const field = (name, why) => new Refusal(400, 'INVALID_FIELD', `data.${name}: ${why}`,
    'Fix the named field; the README lists every field and its range.');
  if (typeof data !== 'object' || Array.isArray(data)) throw field('', 'must be an object');
  const permissions = data.permissions ?? [];
  if (!Array.isArray(permissions) || !permissions.every((p) => typeof p === 'string')) {
    throw field('permissions', 'must be a list of permission names');
  }
  const missing = permissions.filter((p) => !apiKey.permissions.includes(p));
  if (missing.length) {
    throw new Refusal(403, 'KEY_TOO_BROAD', `data.permissions: the API key does not hold ${missing.join(', ')}`,
      'Ask for no more than the presented key (or the caller\'s API key) holds.');
  }
  const validity = data.key_validity?.expiration_duration ?? DEFAULT_VALIDITY;
  if (!Number.isInteger(validity) || validity < 1 || validity > MAX_VALIDITY) {
    throw field('key_validity.expiration_duration', `must be a whole number from 1 to ${MAX_VALIDITY}`);
  }
  const response = await issue(env, project, null, 0, policyOf(data), validity);
  console.log(JSON.stringify({ audit: 'peer', at: new Date().toISOString(), actor: apiKey.id, action: 'key.mint', project }));
  return response;
}

// ----------------------------------------------------------------- paths

/** `raw` percent-decoded once and checked: absolute, no empty, `.` or `..` segment. */
function decodePath(raw) {
  if (/%2f|%5c/i.test(raw)) throw refusals.path('must not contain an encoded slash');
  let path;
  try {
    path = decodeURIComponent(raw);
  } catch {
    throw refusals.path('is not valid percent-encoded UTF-8');
  }
  return checkPath(path);
}

function checkPath(path) {
  if (!path.startsWith('/')) throw refusals.path('must start with /');
  if (path === '/') return path;
  // eslint-disable-next-line no-control-regex
  if (/[\\\x00-\x1f\x7f]/.test(path)) throw refusals.path('must not contain backslashes or control characters');
  for (const segment of path.slice(1).split('/')) {
    if (segment === '' || segment === '.' || segment === '..') throw refusals.path('must not have empty, . or .. segments');
  }
  return path;
}

const parent = (path) => path.slice(0, path.lastIndexOf('/')) || '/';

/** Whether a dir_scope list (`/a` exactly, `/a/*` and below, `/*` everything) allows `dir`. */
function inScope(scopes = ['/*'], dir) {
  return scopes.some((scope) => {
    if (!scope.endsWith('/*')) return dir === scope;
    const base = scope.slice(0, -2);
    return base === '' || dir === base || dir.startsWith(base + '/');
  });
}

// -------------------------------------------------------------- counters

/** Takes `hits` from every counter in the Durable Object `name`, all or none; refuses with 429. */
async function take(env, name, counters, keepUntil, hits = 1) {
  const taken = await env.LIMITER.getByName(name).take(counters, keepUntil, hits);
  if (taken.ok) return;
  if (taken.retryAfter) {
    throw new Refusal(429, 'RATE_LIMITED', `too many requests; retry in ${taken.retryAfter} s`,
      'Wait for the number of seconds in the Retry-After header.', { 'Retry-After': String(taken.retryAfter) });
  }
  throw new Refusal(429, 'QUOTA_EXCEEDED', `the key's ${taken.counter} is used up`, 'Request a new key.');
}

/** The upload counters a key's claims ask for, and where they live. */
function uploadCounters(claims, ip) {
  const upload = claims.upload ?? {};
  const counters = [];
  if (upload.limit_per_min) counters.push(['upload.limit_per_min', { window: upload.limit_per_min }]);
  if (upload.max) counters.push(['upload.max', { total: upload.max }]);
  if (upload.limit_per_source_ip) {
    counters.push([`upload.limit_per_source_ip ${countingName(ip)}`, { total: upload.limit_per_source_ip }]);
  }
  // Kept until the key can no longer be accepted, and a minute for clock skew.
  return { name: `key/${claims.key_id}`, counters, keepUntil: (claims.exp + LEEWAY + 1) * 1000 + MINUTE };
}

async function takeUploads(env, claims, ip, hits) {
  const { name, counters, keepUntil } = uploadCounters(claims, ip);
  if (counters.length) await take(env, name, counters, keepUntil, hits);
}

/**
 * Exact counters, one SQLite row per counter, as sass-edge's Limiter keeps
 * them: a total, or for a per-minute limit a ring of 61 per-second counts
 * (the state as a binary record: total, newest second, the buckets). A take
 * reads every row, decides, writes every row, and makes sure an alarm will
 * delete rows that no longer matter.
 */
export class Limiter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec('CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, state BLOB NOT NULL, forget_at INTEGER NOT NULL)');
    this.alarmAt = null;
  }

  load(name) {
    const row = this.sql.exec('SELECT state FROM counters WHERE name = ?', name).raw().toArray()[0];
    if (!row) return { total: 0, last: 0, buckets: [] };
    const view = new DataView(row[0]);
    const state = { total: Number(view.getBigUint64(0, true)), last: 0, buckets: [] };
    if (view.byteLength > 8) {
      state.last = Number(view.getBigUint64(8, true));
      for (let at = 16; at < view.byteLength; at += 4) state.buckets.push(view.getUint32(at, true));
    }
    return state;
  }

  store(name, state, forgetAt) {
    const bytes = new ArrayBuffer(state.buckets.length ? 16 + 4 * state.buckets.length : 8);
    const view = new DataView(bytes);
    view.setBigUint64(0, BigInt(state.total), true);
    if (state.buckets.length) {
      view.setBigUint64(8, BigInt(state.last), true);
      state.buckets.forEach((b, i) => view.setUint32(16 + 4 * i, b, true));
    }
    this.sql.exec('INSERT INTO counters (name, state, forget_at) VALUES (?, ?, ?) ' +
      'ON CONFLICT(name) DO UPDATE SET state = excluded.state, forget_at = excluded.forget_at', name, bytes, forgetAt);
  }

  /** `counters`: [name, {window: limit} or {total: limit}]; all or none. */
  async take(counters, keepUntil, hits) {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    const next = [];
    for (const [name, limit] of counters) {
      const state = this.load(name);
      if (limit.total) {
        if (state.total + hits > limit.total) return { ok: false, counter: name };
        next.push([name, { ...state, total: state.total + hits }, keepUntil]);
        continue;
      }
      // The ring brought to this second: buckets of seconds that left it are emptied.
      let buckets = state.buckets.length === 61 ? state.buckets : new Array(61).fill(0);
      let last = state.buckets.length === 61 ? state.last : second;
      for (let s = last + 1; s <= second && s <= last + 61; s++) buckets[s % 61] = 0;
      last = Math.max(last, second);
      const used = buckets.reduce((x, y) => x + y, 0);
      if (used + hits > limit.window) {
        let freed = 0;
        let retryAt = last + 1;
        for (let s = Math.max(0, last - 60); s <= last; s++) {
          freed += buckets[s % 61];
          if (used - freed + hits <= limit.window) { retryAt = s + 61; break; }
        }
        return { ok: false, counter: name, retryAfter: Math.max(1, Math.ceil((retryAt * 1000 - now) / 1000)) };
      }
      buckets = [...buckets];
      buckets[last % 61] += hits;
      next.push([name, { total: state.total + hits, last, buckets }, (last + 61) * 1000]);
    }
    let earliest = Infinity;
    for (const [name, state, forget] of next) {
      const at = Math.max(forget, now + MINUTE);
      this.store(name, state, at);
      earliest = Math.min(earliest, at);
    }
    if (!(this.alarmAt <= earliest)) {
      const current = await this.ctx.storage.getAlarm();
      if (current !== null && current <= earliest) this.alarmAt = current;
      else {
        await this.ctx.storage.setAlarm(earliest);
        this.alarmAt = earliest;
      }
    }
    return { ok: true };
  }

  async alarm() {
    this.alarmAt = null;
    this.sql.exec('DELETE FROM counters WHERE forget_at <= ?', Date.now());
    const [next] = this.sql.exec('SELECT MIN(forget_at) FROM counters').raw().toArray()[0];
    if (next !== null) {
      await this.ctx.storage.setAlarm(next);
      this.alarmAt = next;
    }
  }
}

// ----------------------------------------------------------------- files

/** Headers for a served file: never active content of this origin. */
function servingHeaders(contentType, name) {
  const headers = { ...CORS, 'X-Content-Type-Options': 'nosniff', 'Content-Security-Policy': 'sandbox' };
  if (/^(text\/(html|xml|javascript)|application\/(xhtml\+xml|xml|javascript)|image\/svg\+xml)\b/i.test(contentType)) {
    headers['Content-Disposition'] = `attachment; filename*=UTF-8''${encodeURIComponent(name)}`;
  }
  return headers;
}

// GET /{project}/v5/objects/{path}
async function getObject(request, env, project, raw) {
  const { claims } = await verifiedClaims(request, env, project);
  requirePermission(claims, 'OBJECTS_FETCH');
  const path = decodePath(raw);
  if (!inScope(claims.listing?.dir_scope, parent(path))) throw refusals.scope('read from', parent(path));
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (env.ORIGIN_URL) {
    // Origin mode: the origin trusts the secret header.
    const answer = await fetch(`${env.ORIGIN_URL}/${project}/v5/objects${path.split('/').map(encodeURIComponent).join('/')}`, {
      headers: { 'X-Origin-Secret': env.ORIGIN_SECRET },
    });
    const headers = new Headers(answer.headers);
    for (const [k, v] of Object.entries(servingHeaders(headers.get('Content-Type') ?? '', name))) headers.set(k, v);
    return new Response(answer.body, { status: answer.status, headers });
  }
  const object = await env.FILES.get(project + path);
  if (!object) {
    throw new Refusal(404, 'FILE_NOT_FOUND', `no file ${path}`, 'Check the path, e.g. with GET /{project}/v5/list?folder=/.');
  }
  const contentType = object.httpMetadata?.contentType ?? 'application/octet-stream';
  return new Response(object.body, {
    headers: {
      ...servingHeaders(contentType, name),
      'Content-Type': contentType,
      'Content-Length': String(object.size),
      ETag: object.httpEtag,
    },
  });
}

// PUT /{project}/v5/objects/{path}
async function putObject(request, env, project, raw) {
  const { claims, ip } = await verifiedClaims(request, env, project);
  requirePermission(claims, 'FILE_UPLOAD');
  const path = decodePath(raw);
  if (!inScope(claims.upload?.dir_scope, parent(path))) throw refusals.scope('upload into', parent(path));
  const length = request.headers.get('Content-Length');
  if (length === null) throw new Refusal(411, 'LENGTH_REQUIRED', 'the upload has no Content-Length', 'Send the upload with its Content-Length.');
  const maxSize = claims.upload?.max_file_size ?? DEFAULT_MAX_FILE_SIZE;
  if (Number(length) > maxSize) throw refusals.tooLarge(maxSize);
  await takeUploads(env, claims, ip, 1);
  const contentType = request.headers.get('Content-Type') || 'application/octet-stream';
  const uuid = crypto.randomUUID();
  const object = await env.FILES.put(project + path, request.body, { httpMetadata: { contentType }, customMetadata: { uuid } });
  return success(201, {
    file: {
      uuid, path, name: path.slice(path.lastIndexOf('/') + 1), size: object.size, content_type: contentType,
      uploaded: object.uploaded.toISOString(), etag: object.etag, meta: {},
    },
  });
}

const pretty = (n) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 ** 2).toFixed(1)} MB`);

// POST /{project}/v4/files?folder=/dir, multipart: info[files[]] (JSON) and files[] parts.
async function uploadFiles(request, env, project, url) {
  const { claims, ip } = await verifiedClaims(request, env, project);
  requirePermission(claims, 'FILE_UPLOAD');
  const folder = checkPath(url.searchParams.get('folder') || '/');
  if (!inScope(claims.upload?.dir_scope, folder)) throw refusals.scope('upload into', folder);
  if (!(request.headers.get('Content-Type') ?? '').startsWith('multipart/form-data')) {
    throw new Refusal(400, 'INVALID_MULTIPART', 'the body is not multipart/form-data',
      'Send multipart/form-data with one part per file (files[]), as the Filerobot widget does.');
  }
  let form;
  try {
    form = await request.formData();
  } catch {
    throw new Refusal(400, 'INVALID_MULTIPART', 'the body is not valid multipart/form-data',
      'Send multipart/form-data with one part per file (files[]), as the Filerobot widget does.');
  }
  const maxSize = claims.upload?.max_file_size ?? DEFAULT_MAX_FILE_SIZE;
  const files = [];
  for (const [field, value] of form) {
    if (typeof value === 'string') continue;
    if (value.size > maxSize) throw refusals.tooLarge(maxSize);
    let info = {};
    try {
      info = JSON.parse(form.get(`info[${field}]`) ?? '{}');
    } catch { /* a description that does not parse is ignored */ }
    const name = info.name || value.name;
    if (!name || name.includes('/') || name === '.' || name === '..') throw refusals.path('must name a file without a slash');
    files.push({ name, file: value, info });
  }
  if (!files.length) {
    throw new Refusal(400, 'INVALID_MULTIPART', 'the body holds no file',
      'Send multipart/form-data with one part per file (files[]), as the Filerobot widget does.');
  }
  await takeUploads(env, claims, ip, files.length);
  const base = url.origin;
  const shown = [];
  for (const { name, file, info } of files) {
    const path = (folder === '/' ? '' : folder) + '/' + name;
    const bytes = await file.arrayBuffer();
    const sha1 = hex(await crypto.subtle.digest('SHA-1', bytes));
    const type = info.type || file.type || 'application/octet-stream';
    const uuid = crypto.randomUUID();
    await env.FILES.put(project + path, bytes, { httpMetadata: { contentType: type }, customMetadata: { uuid } });
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const link = `${base}/${project}/v5/objects${path.split('/').map(encodeURIComponent).join('/')}`;
    shown.push({
      uuid, name, extension: name.includes('.') ? name.split('.').pop().toLowerCase() : '', type,
      size: { bytes: bytes.byteLength, pretty: pretty(bytes.byteLength) },
      url: { public: link, cdn: link, permalink: link }, hash: { sha1 }, meta: {}, tags: {}, info,
      folder, created_at: now, modified_at: now,
    });
  }
  return success(200, shown.length === 1 ? { file: shown[0] } : { files: shown });
}

// ---------------------------------------------------------------- routes

async function route(request, env) {
  const url = new URL(request.url);
  const m = /^\/([a-z0-9]{1,32})(\/.*)$/.exec(url.pathname);
  const notFound = new Refusal(404, 'NOT_FOUND', 'no such route', 'See the README for the list of endpoints.');
  if (!m) throw notFound;
  const [, project, rest] = m;
  const method = request.method;
  let r;
  if (method === 'GET' && (r = /^\/key\/(SECU_[0-9A-F]{32})$/.exec(rest))) return keyFromTemplate(request, env, project, r[1]);
  if (method === 'POST' && rest === '/key') return keyFromBody(request, env, project);
  if (method === 'POST' && rest === '/v4/files') return uploadFiles(request, env, project, url);
  if ((r = /^\/v5\/objects(\/.+)$/.exec(rest))) {
    if (method === 'GET') return getObject(request, env, project, r[1]);
    if (method === 'PUT') return putObject(request, env, project, r[1]);
  }
  throw notFound;
}

export default {
  async fetch(request, env) {
    if (request.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: {
          ...CORS, 'Access-Control-Allow-Methods': 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
          'Access-Control-Allow-Headers': 'X-Filerobot-Key, X-Filerobot-Airbox-Puid, Content-Type', 'Access-Control-Max-Age': '86400',
        },
      });
    }
    try {
      return await route(request, env);
    } catch (e) {
      if (e instanceof Refusal) return error(e);
      console.error('internal error', e);
      return error(new Refusal(500, 'INTERNAL', 'internal error', 'Retry; if it persists, the operator will find details in the logs.'));
    }
  },
};
