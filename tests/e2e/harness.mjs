// Starts the built worker under a real `wrangler dev` (workerd, local KV and
// Durable Objects) on a free port with fresh state, and helps tests talk to it.
// The worker must be built first (scripts/test.sh does it): the generated
// config has no [build] step.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const ROOT_KEY = 'e2e-root-key-0123456789-abcdefghijklmnop';
export const SIGNING_SECRET = randomBytes(32).toString('base64url');
export const SIGNING_KEYS = `e2e1:${SIGNING_SECRET}`;

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/**
 * Starts a worker. `vars` become its .dev.vars (secrets); null leaves one out.
 * `withoutLimiter` drops the Durable Object binding, so counters cannot be reached.
 */
export async function startWorker(vars = {}, { withoutLimiter = false, logLevel = 'warn' } = {}) {
  const shim = join(ROOT, 'build/worker/shim.mjs');
  if (!existsSync(shim)) {
    throw new Error('build/worker/shim.mjs is missing: run `bash scripts/build.sh` (or scripts/test.sh) first');
  }
  const wrangler = join(ROOT, 'node_modules/.bin/wrangler');
  if (!existsSync(wrangler)) {
    throw new Error('wrangler is missing: run `bash scripts/setup.sh` first');
  }
  const dir = mkdtempSync(join(tmpdir(), 'sass-edge-e2e-'));
  let config = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')
    .replace(/^main = .*$/m, `main = ${JSON.stringify(shim)}`)
    .replace(/^\[build\]\ncommand = .*$/m, '')
    .replace(/^directory = "public"$/m, `directory = ${JSON.stringify(join(ROOT, 'public'))}`);
  if (withoutLimiter) {
    config = config.replace(/^\[\[durable_objects\.bindings\]\]\nname = "LIMITER"\nclass_name = "Limiter"$/m, '');
    if (config.includes('name = "LIMITER"')) throw new Error('could not drop the LIMITER binding');
  }
  writeFileSync(join(dir, 'wrangler.toml'), config);
  const all = { ROOT_API_KEY: ROOT_KEY, SIGNING_KEYS, ...vars };
  writeFileSync(
    join(dir, '.dev.vars'),
    Object.entries(all).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).join('\n') + '\n',
  );
  // A free port can be taken by another process before wrangler binds it;
  // then something else answers there. So the worker must answer as ours
  // (404 NOT_FOUND for "/"), or the start is tried again on other ports.
  for (let attempt = 1; ; attempt++) {
    const started = await launch(wrangler, dir, logLevel);
    if (started.ours) return started.worker;
    await started.worker.stop({ keepDir: true });
    if (attempt === 3) throw new Error(`wrangler dev did not start as this worker in 3 tries:\n${started.worker.log()}`);
  }
}

async function launch(wrangler, dir, logLevel) {
  const port = await freePort();
  const child = spawn(
    wrangler,
    ['dev', '-c', join(dir, 'wrangler.toml'), '--port', String(port), '--ip', '127.0.0.1',
      '--persist-to', join(dir, 'state'), '--inspector-port', String(await freePort()),
      '--show-interactive-dev-session=false', '--log-level', logLevel],
    { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } },
  );
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  const worker = {
    url,
    log: () => log,
    async stop({ keepDir = false } = {}) {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    // An early exit (say, the port was taken) counts as a failed attempt.
    if (child.exitCode !== null) return { worker, ours: false };
    try {
      const res = await fetch(`${url}/`);
      const body = await res.json().catch(() => ({}));
      return { worker, ours: res.status === 404 && body.code === 'NOT_FOUND' };
    } catch {
      if (Date.now() > deadline) throw new Error(`wrangler dev did not start in 60 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** A project name no other test uses. */
let projects = 0;
export function freshProject() {
  projects += 1;
  return `p${process.pid}x${projects}${randomBytes(3).toString('hex')}`;
}

/** fetch, returning { status, headers, body } with the body parsed as JSON when it is. */
export async function call(base, method, path, { key, body, headers = {}, raw } = {}) {
  const h = { ...headers };
  if (key !== undefined) h['X-Filerobot-Key'] = key;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['Content-Type'] = 'application/json';
  }
  const res = await fetch(base + path, { method, headers: h, body: payload });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, body: json, text };
}

/** Creates a template in `project` with the root key; returns its stored JSON. */
export async function createTemplate(base, project, fields = {}) {
  const r = await call(base, 'POST', `/${project}/v5/security-templates`, { key: ROOT_KEY, body: fields });
  if (r.status !== 201) throw new Error(`template creation failed: ${r.status} ${r.text}`);
  return r.body.template;
}

/** The claims of a SASS key, after checking its HMAC with the test secret. */
export function verifiedClaims(key, secret = SIGNING_SECRET) {
  const m = /^SASS__v2__([A-Za-z0-9-]+)__(.+)__([A-Za-z0-9_-]{43})$/.exec(key);
  if (!m) throw new Error(`not a v2 SASS key: ${key}`);
  const signed = key.slice(0, key.length - 45);
  const tag = createHmac('sha256', Buffer.from(secret, 'base64url')).update(signed).digest('base64url');
  if (tag !== m[3]) throw new Error('the key does not verify with the test secret');
  return { kid: m[1], claims: JSON.parse(Buffer.from(m[2], 'base64url').toString('utf8')) };
}

/** A key id as the worker makes them: the expiry as 4 big-endian bytes, then 12 random bytes. */
export function keyIdFor(expiresAt) {
  return expiresAt.toString(16).padStart(8, '0') + randomBytes(12).toString('hex');
}

/**
 * Signs `claims` into a v2 SASS key, as the worker would. Its `key_id` is
 * made to carry `expires_at` (a fresh one) unless it already does, or
 * `keepId` is set (to test that such a key is refused).
 */
export function signKey(claims, { kid = 'e2e1', secret = SIGNING_SECRET, keepId = false } = {}) {
  const carries = typeof claims.key_id === 'string' && parseInt(claims.key_id.slice(0, 8), 16) === claims.expires_at;
  if (!keepId && !carries) claims = { ...claims, key_id: keyIdFor(claims.expires_at) };
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signed = `SASS__v2__${kid}__${payload}`;
  return `${signed}__${createHmac('sha256', Buffer.from(secret, 'base64url')).update(signed).digest('base64url')}`;
}

/** Mints a key on `project` with the root key; `data` is the POST /key body's data. */
export async function mintKey(base, project, data) {
  const r = await call(base, 'POST', `/${project}/key`, { key: ROOT_KEY, body: { data } });
  if (r.status !== 200) throw new Error(`minting failed: ${r.status} ${r.text}`);
  return r.body.key;
}

/** Asserts the error shape every refusal must have. */
export function assertError(assert, r, status, code) {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status} ${r.text}`);
  assert.equal(r.body?.status, 'error', r.text);
  assert.equal(r.body.code, code, r.text);
  assert.equal(typeof r.body.msg, 'string');
  assert.ok(r.body.msg.length > 0);
  assert.equal(typeof r.body.hint, 'string');
  assert.equal(r.headers.get('access-control-allow-origin'), '*', 'CORS header on errors');
}
