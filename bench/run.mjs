// The load and cold-start benchmark behind scripts/bench.sh. It serves the
// built workers with Miniflare's own server (workerd, in-memory KV, R2 and
// Durable Objects; not `wrangler dev`, whose proxy caps a route at about
// 900 req/s), drives them with wrk, and writes BENCHMARKS.md.
//
// Each path is measured on sass-edge and on its hand-written JS peer
// (bench/peer), one after the other, in every round, beside the Rust no-op
// (bench/noop) and the JS no-op (bench/noop-js); the report leads with
// sass-edge's rate over the peer's, the median of the per-round ratios.
//
// Expects: build/ (scripts/build.sh), bench/noop/build/ (the no-op worker),
// bench/peer/build/worker.mjs (bench/peer/build.sh), wrk on PATH. Optional
// inputs, written by scripts/bench.sh:
//   target/criterion/<id>/new/estimates.json   the `cargo bench` results
//   target/bench-size.txt                      the output of scripts/size.sh
//
// Settings (environment): BENCH_DURATION (s, default 10), BENCH_WARMUP (s, 2),
// BENCH_CONNECTIONS (2), BENCH_ROUNDS (5), BENCH_COLD_STARTS (5),
// BENCH_OUT (default BENCHMARKS.md in the repository), BENCH_QUIET_WAIT (s,
// default 30: how long each measurement may wait for a quiet machine; 0 for
// smoke runs on a busy machine: no wait, and no measurement taken again).
// `--cold` measures cold starts only (see main), `--report` re-renders
// BENCHMARKS.md from the last run's results.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SignJWT } from 'jose';
import { Miniflare } from 'miniflare';
import { call } from '../tests/e2e/harness.mjs';
import { coldPhases, coldTable } from './cold.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const NOOP = join(ROOT, 'bench/noop');
const NOOP_JS = join(ROOT, 'bench/noop-js/worker.js');
const PEER = join(ROOT, 'bench/peer');
const LUA = join(ROOT, 'bench/load.lua');
const num = (name, dflt) => {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
  return n;
};
const DURATION = num('BENCH_DURATION', 10);
const WARMUP = num('BENCH_WARMUP', 2);
const CONNECTIONS = num('BENCH_CONNECTIONS', 2);
const ROUNDS = num('BENCH_ROUNDS', 5);
const COLD_STARTS = num('BENCH_COLD_STARTS', 5);
// Cold starts in workerd itself (bench/cold.mjs): each takes about 0.1 s.
const COLD_PHASE_ROUNDS = num('BENCH_COLD_PHASE_ROUNDS', 31);
const OUT = process.env.BENCH_OUT || join(ROOT, 'BENCHMARKS.md');
const QUIET_WAIT = process.env.BENCH_QUIET_WAIT === '0' ? 0 : num('BENCH_QUIET_WAIT', 30);

const ROOT_KEY = 'bench-root-key-0123456789-abcdefghijklmnopqrstuv';
// A fixed, benchmark-only signing secret (32 bytes, base64url).
const SIGNING_KEYS = 'bench1:YmVuY2gtb25seS1zaWduaW5nLXNlY3JldC0wMDAwMDA';
const PROJECT = 'bench';
// The peer's JWT secret (32 bytes, base64url): the peer verifies with it, and
// this script signs the peer's keys with it, as sass-edge's are minted.
const PEER_SECRET = 'YmVuY2gtb25seS1wZWVyLWp3dC1zZWNyZXQtMDAwMDA';
const COMPAT_DATE = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'))[1];

const log = (...a) => console.log('[bench]', ...a);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---------------------------------------------------------------- processes

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** [pid, ppid, comm, cpu ticks] of a process, from /proc. */
function stat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(pid), ppid: Number(f[1]), comm, ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

/** The workerd processes this node process started (Miniflare spawns them). */
function ownWorkerds() {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(stat)
    .filter((p) => p && p.ppid === process.pid && p.comm === 'workerd')
    .map((p) => p.pid);
}

const cpuSeconds = (pid) => (stat(pid)?.ticks ?? NaN) / CLK_TCK;

/** Busy and total jiffies of the whole machine, from /proc/stat. */
function machineTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((x, y) => x + y, 0);
  return { busy: total - f[3] - f[4], total };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The share of all cores busy over the next `ms`. */
async function busyShare(ms = 1000) {
  const a = machineTicks();
  await sleep(ms);
  const b = machineTicks();
  return (b.busy - a.busy) / Math.max(1, b.total - a.total);
}

/**
 * Waits until less than `threshold` of the machine is busy (other builds or
 * tests skew every number), at most `maxSeconds`; returns the last share seen.
 */
async function waitQuiet(maxSeconds = 60, threshold = 0.2) {
  const deadline = Date.now() + maxSeconds * 1000;
  for (;;) {
    const busy = await busyShare();
    if (busy <= threshold) return busy;
    if (Date.now() > deadline) {
      log(`the machine is still ${(busy * 100).toFixed(0)} % busy after ${maxSeconds} s: measuring anyway`);
      return busy;
    }
    log(`the machine is ${(busy * 100).toFixed(0)} % busy with other work: waiting`);
  }
}

// ------------------------------------------------------------------ workers

function rustWorker(dir) {
  const build = join(dir, 'build');
  for (const f of ['worker/shim.mjs', 'index.js', 'index_bg.wasm']) {
    if (!existsSync(join(build, f))) throw new Error(`${join(build, f)} is missing: build it first (scripts/bench.sh does)`);
  }
  // As build/worker/shim.mjs loads it: the shim re-exports ../index.js, which
  // imports ./index_bg.wasm as a compiled WebAssembly.Module.
  return {
    modulesRoot: dir,
    modules: [
      { type: 'ESModule', path: join(build, 'worker/shim.mjs') },
      { type: 'ESModule', path: join(build, 'index.js') },
      { type: 'CompiledWasm', path: join(build, 'index_bg.wasm') },
    ],
  };
}

/** The JS peer's bundle; refused when missing or older than its sources. */
function peerWorker() {
  const bundle = join(PEER, 'build/worker.mjs');
  const stale = ['worker.js', 'cidr.js'].some((f) => !existsSync(bundle) || statSync(join(PEER, f)).mtimeMs > statSync(bundle).mtimeMs);
  if (stale) throw new Error(`${bundle} is missing or older than its sources: build it with bash bench/peer/build.sh (scripts/bench.sh does)`);
  return { modules: [{ type: 'ESModule', path: bundle }] };
}

const STORAGE = { kvNamespaces: ['TEMPLATES'], r2Buckets: ['FILES'] };
const SECRETS = { bindings: { ROOT_API_KEY: ROOT_KEY, SIGNING_KEYS } };

// Origin mode against a cheap origin: a JS worker in the same workerd that
// answers every request with one byte. sass-edge's global fetch() goes to it
// (Miniflare's outboundService), so an accepted fetch costs no storage read.
const ORIGIN_SECRET = 'YmVuY2gtb25seS1vcmlnaW4tc2VjcmV0LTAwMDAwMDAwMDA';
// The operator's credential for the origin, which sass-edge sends in place of the key.
const ORIGIN_KEY = 'bench-only-origin-key-0123456789';

const CHEAP_ORIGIN = { name: 'origin', compatibilityDate: COMPAT_DATE, modules: true, script: 'export default { fetch() { return new Response("x"); } }' };

const PEER_BINDINGS = { JWT_SECRET: PEER_SECRET };

const WORKERS = {
  // The no-op has the same KV, R2 and secret bindings; it has no Limiter class
  // to bind a Durable Object namespace to.
  noop: () => ({ ...rustWorker(NOOP), ...STORAGE, ...SECRETS }),
  // The JS no-op, the peer's baseline, with the same bindings.
  noopjs: () => ({ modules: [{ type: 'ESModule', path: NOOP_JS }], ...STORAGE, ...SECRETS }),
  // sass-edge again, for the cases that use no Durable Object, (c), (d), (f):
  // in the instance that serves (b) and (e), the Limiter objects those leave
  // behind run their alarms (a window's rows go a minute after its last hit)
  // during whatever case comes next, and that is not the next case's work.
  quiet: () => WORKERS.sass(),
  sass: () => ({
    ...rustWorker(ROOT),
    ...STORAGE,
    ...SECRETS,
    durableObjects: { LIMITER: { className: 'Limiter', useSQLite: true } },
  }),
  origin: () => ({
    workers: [
      {
        name: 'sass',
        compatibilityDate: COMPAT_DATE,
        ...WORKERS.sass(),
        bindings: { ...SECRETS.bindings, ORIGIN_URL: 'http://origin.bench', ORIGIN_SECRET, ORIGIN_KEY },
        outboundService: 'origin',
      },
      CHEAP_ORIGIN,
    ],
  }),
  // The JS peer, served like sass-edge: one instance for the cases that take
  // counters, one (`peerQuiet`) for those that do not, and one in origin mode.
  peer: () => ({
    ...peerWorker(),
    ...STORAGE,
    bindings: PEER_BINDINGS,
    durableObjects: { LIMITER: { className: 'Limiter', useSQLite: true } },
  }),
  peerQuiet: () => WORKERS.peer(),
  peerOrigin: () => ({
    workers: [
      {
        name: 'peer',
        compatibilityDate: COMPAT_DATE,
        ...WORKERS.peer(),
        bindings: { ...PEER_BINDINGS, ORIGIN_URL: 'http://origin.bench', ORIGIN_SECRET },
        outboundService: 'origin',
      },
      CHEAP_ORIGIN,
    ],
  }),
  // Reference costs of the runtime alone, in plain JS, to explain sass-edge's
  // numbers: a no-op; a bare Durable Object round trip; the storage work the
  // Limiter does for one take (its SQL statements and alarm check, for one or
  // two counters); a KV get; an R2 get and put of a tiny object.
  ref: () => ({ workers: [{ name: 'ref', compatibilityDate: COMPAT_DATE, outboundService: 'origin', ...REF }, CHEAP_ORIGIN] }),
};

const REF = {
    modules: true,
    script: `
      import { DurableObject } from 'cloudflare:workers';
      export class Counter extends DurableObject {
        async fetch(request) {
          const take = await request.json();
          if (take.bare) return Response.json({ admitted: { at: Date.now() } });
          // The storage work Limiter::fetch does for a take (src/shell/limiter.rs):
          // the table created once per object, one read and one write per
          // counter (the state as a binary record: the total, then for a window
          // the newest second and a ring of 61 per-second counts), and the
          // storage's alarm read once per object, set when a row must go sooner.
          const sql = this.ctx.storage.sql;
          if (!this.ready) {
            sql.exec('CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, state BLOB NOT NULL, forget_at INTEGER NOT NULL)');
            this.ready = true;
          }
          const now = Date.now();
          const second = Math.floor(now / 1000);
          const states = take.counters.map(([name]) => {
            const row = sql.exec('SELECT state FROM counters WHERE name = ?', name).raw().toArray()[0];
            const state = { total: 0, last: second, buckets: [] };
            if (row) {
              const view = new DataView(row[0]);
              state.total = Number(view.getBigUint64(0, true));
              if (view.byteLength > 8) state.last = Number(view.getBigUint64(8, true));
              for (let at = 16; at < view.byteLength; at += 4) state.buckets.push(view.getUint32(at, true));
            }
            return state;
          });
          let earliest = Infinity;
          take.counters.forEach(([name, limit], i) => {
            const state = states[i];
            let forget = take.keep_until;
            if (limit.window) {
              if (state.buckets.length !== 61) state.buckets = new Array(61).fill(0);
              for (let s = state.last + 1; s <= second && s <= state.last + 61; s++) state.buckets[s % 61] = 0;
              state.last = Math.max(state.last, second);
              if (state.buckets.reduce((x, y) => x + y, 0) >= limit.window.limit) throw new Error('over the limit');
              state.buckets[state.last % 61] += 1;
              forget = (state.last + 61) * 1000;
            }
            state.total += 1;
            const record = new DataView(new ArrayBuffer(state.buckets.length ? 16 + 4 * state.buckets.length : 8));
            record.setBigUint64(0, BigInt(state.total), true);
            if (state.buckets.length) {
              record.setBigUint64(8, BigInt(state.last), true);
              state.buckets.forEach((b, j) => record.setUint32(16 + 4 * j, b, true));
            }
            sql.exec('INSERT INTO counters (name, state, forget_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET state = excluded.state, forget_at = excluded.forget_at',
              name, record.buffer, forget);
            earliest = Math.min(earliest, forget);
          });
          if (!(this.alarm <= earliest)) {
            const current = await this.ctx.storage.getAlarm();
            if (current != null && current <= earliest) this.alarm = current;
            else { await this.ctx.storage.setAlarm(earliest); this.alarm = earliest; }
          }
          return Response.json({ admitted: { at: now } });
        }
        async alarm() {}
      }
      const WINDOW = { window: { limit: 10000, window_ms: 60000 } };
      const TOTAL = { total: { limit: 1000000000 } };
      async function take(env, name, body) {
        const r = await env.COUNTER.getByName(name).fetch('https://limiter/take', { method: 'POST', body: JSON.stringify(body) });
        await r.json();
        return new Response('ok');
      }
      export default {
        async fetch(request, env) {
          const path = new URL(request.url).pathname;
          const keepUntil = Date.now() + 3600000;
          if (path === '/do-bare') return take(env, 'bare', { bare: true });
          if (path === '/do-take-1') {
            const ip = request.headers.get('CF-Connecting-IP') ?? 'none';
            return take(env, 'issue/' + ip, { counters: [['issue', WINDOW]], keep_until: keepUntil });
          }
          if (path === '/do-take-2') {
            const ip = request.headers.get('CF-Connecting-IP') ?? 'none';
            return take(env, 'key/' + ip, { counters: [['upload.limit_per_min', WINDOW], ['upload.max', TOTAL]], keep_until: keepUntil });
          }
          if (path === '/kv-get') return new Response(await env.TEMPLATES.get('tpl/bench/template'));
          if (path === '/r2-get') {
            const object = await env.FILES.get('bench/tiny.txt');
            return new Response(object.body, { headers: { 'Content-Length': String(object.size) } });
          }
          if (path === '/r2-put') {
            await env.FILES.put('bench/up.txt', request.body);
            return new Response('stored', { status: 201 });
          }
          if (path === '/origin-get') {
            const answer = await fetch('http://origin.bench/${PROJECT}/v5/objects/bench/tiny.txt');
            return new Response(answer.body, answer);
          }
          return new Response('ok');
        }
      }`,
    r2Buckets: ['FILES'],
    kvNamespaces: ['TEMPLATES'],
    durableObjects: { COUNTER: { className: 'Counter', useSQLite: true } },
};

/**
 * What the workers log: sass-edge's audit line for each key minted with an
 * API key, and the peer's, would flood the output at these rates (workerd
 * still writes them, and Miniflare still reads them: both pay that cost).
 * Warnings and errors are shown.
 */
function workerLog(kind) {
  return ({ level, message }) => {
    if (level === 'warn' || level === 'error') console.error(`[${kind}] ${level}: ${message}`);
  };
}

export async function serve(kind, extra = {}) {
  const before = new Set(ownWorkerds());
  const started = performance.now();
  const mf = new Miniflare({
    host: '127.0.0.1', port: 0, compatibilityDate: COMPAT_DATE, handleStructuredLogs: workerLog(kind), ...WORKERS[kind](), ...extra,
  });
  const url = await mf.ready;
  const ready = performance.now();
  const pid = ownWorkerds().find((p) => !before.has(p));
  return { kind, mf, url: url.href.replace(/\/$/, ''), pid, started, ready };
}

// --------------------------------------------------------------------- http

async function mint(base, data) {
  const r = await call(base, 'POST', `/${PROJECT}/key`, { key: ROOT_KEY, body: { data } });
  if (r.status !== 200) throw new Error(`minting a key failed: ${r.status} ${r.text}`);
  return r.body.key;
}

/**
 * A key for the peer: an HS256 JWT under the peer's secret with sass-edge's
 * claims for `data` (what `POST /{project}/key` would be sent), as the peer's
 * own `POST /key` signs them.
 */
async function peerKey(data) {
  const { key_validity: validity, ...policy } = data;
  const now = Math.floor(Date.now() / 1000);
  const exp = now + (validity?.expiration_duration ?? 1200);
  const keyId = exp.toString(16).padStart(8, '0') + randomBytes(12).toString('hex');
  return new SignJWT({ project: PROJECT, key_id: keyId, ...policy })
    .setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now).setExpirationTime(exp)
    .sign(Buffer.from(PEER_SECRET, 'base64url'));
}

/** `key` with one character of its tag changed (not the last, whose low bits may not count). */
function tampered(key) {
  const i = key.length - 10;
  return key.slice(0, i) + (key[i] === 'A' ? 'B' : 'A') + key.slice(i + 1);
}

// ---------------------------------------------------------------------- wrk

export function wrk(url, s, seconds) {
  const env = { ...process.env, BENCH_METHOD: s.method ?? 'GET', BENCH_IPS: String(s.ips ?? 0) };
  if (s.key) env.BENCH_KEY = s.key;
  if (s.body !== undefined) env.BENCH_BODY = s.body;
  if (s.contentType) env.BENCH_CONTENT_TYPE = s.contentType;
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--timeout', '10s', '-s', LUA, url + s.path];
  return new Promise((ok, fail) => {
    const child = spawn('wrk', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', fail);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) return fail(new Error(`wrk failed (${code}):\n${out}`));
      ok(JSON.parse(line.slice('BENCH_RESULT '.length)));
    });
  });
}

/** Cores that may be busy besides workerd before a run counts as disturbed (wrk needs about 0.1). */
const OTHERS_MAX = 0.35;

async function measureOnce(server, s, before) {
  const busyBefore = QUIET_WAIT ? await waitQuiet(QUIET_WAIT) : await busyShare();
  await before();
  await wrk(server.url, s, WARMUP);
  const cpu0 = cpuSeconds(server.pid);
  const m0 = machineTicks();
  const r = await wrk(server.url, s, DURATION);
  const cpu = cpuSeconds(server.pid) - cpu0;
  const m1 = machineTicks();
  const seconds = r.duration_us / 1e6;
  // Cores used by everything but this workerd: wrk, and anything else running.
  const otherCores = (m1.busy - m0.busy) / CLK_TCK / seconds - cpu / seconds;
  const bad = r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout;
  const wrongStatus = s.expect >= 400 ? r.requests - r.errors.status : r.errors.status;
  if (bad || wrongStatus) {
    throw new Error(`(${s.id}) ${s.label}: ${bad} socket errors and ${wrongStatus} responses with an unexpected status class in ${r.requests}: ${JSON.stringify(r)}`);
  }
  return {
    rps: r.requests / seconds,
    p50: r.p50_us / 1000,
    p99: r.p99_us / 1000,
    requests: r.requests,
    cpuPerReq: (cpu * 1e6) / r.requests,
    utilisation: cpu / seconds,
    otherCores,
    busyBefore,
  };
}

/**
 * A measurement disturbed by other work on the machine is taken again, up to
 * twice. `before` runs before each attempt (it mints fresh keys and checks the
 * case answers as expected).
 */
async function measure(server, s, before = async () => {}) {
  for (let attempt = 1; ; attempt++) {
    const r = await measureOnce(server, s, before);
    if (r.otherCores <= OTHERS_MAX || attempt === 3 || !QUIET_WAIT) return r;
    log(`(${s.id}) other processes used ${r.otherCores.toFixed(2)} cores during the run: measuring again`);
  }
}

// -------------------------------------------------------------- cold starts

async function coldStart(kind, path, extra = {}) {
  const server = await serve(kind, extra);
  const r = await fetch(server.url + path);
  await r.arrayBuffer();
  const answered = performance.now();
  await server.mf.dispose();
  return { ready: server.ready - server.started, first: answered - server.ready, total: answered - server.started, status: r.status };
}

// -------------------------------------------------------------------- setup

/**
 * Sets up every instance in `servers` that is there (`sass` must be): the
 * template and an API key, created through sass-edge and copied as stored
 * into the other instances' KV; the 1-byte object, uploaded through sass-edge
 * and copied into the peer's R2; and the keys, minted by sass-edge for
 * sass-edge and signed here for the peer, from the same `data`.
 */
export async function prepare(servers) {
  const { sass, quiet, origin, ref, peer, peerQuiet } = servers;
  const base = sass.url;
  const created = await call(base, 'POST', `/${PROJECT}/v5/security-templates`, {
    key: ROOT_KEY,
    body: { description: 'benchmark', issue_limit_per_min: 10000 },
  });
  if (created.status !== 201) throw new Error(`creating the template failed: ${created.status} ${created.text}`);
  const template = created.body.template.id;
  const apiKey = await call(base, 'POST', '/v5/api-keys', {
    key: ROOT_KEY,
    body: { description: 'benchmark', permissions: ['CONFIG_CHANGE', 'OBJECTS_FETCH'], projects: [PROJECT] },
  });
  if (apiKey.status !== 201) throw new Error(`creating the API key failed: ${apiKey.status} ${apiKey.text}`);
  const kv = await sass.mf.getKVNamespace('TEMPLATES');
  for (const server of [quiet, peer, peerQuiet].filter(Boolean)) {
    const copy = await server.mf.getKVNamespace('TEMPLATES');
    for (const { name } of (await kv.list()).keys) await copy.put(name, await kv.get(name));
  }
  for (const server of [sass, quiet].filter(Boolean)) {
    const put = await call(server.url, 'PUT', `/${PROJECT}/v5/objects/bench/tiny.txt`, {
      key: ROOT_KEY,
      raw: 'x',
      headers: { 'Content-Type': 'text/plain' },
    });
    if (put.status !== 201) throw new Error(`uploading the tiny object failed: ${put.status} ${put.text}`);
  }
  const tiny = await (await sass.mf.getR2Bucket('FILES')).get(`${PROJECT}/bench/tiny.txt`);
  const tinyBytes = await tiny.arrayBuffer();
  for (const server of [peer, peerQuiet].filter(Boolean)) {
    await (await server.mf.getR2Bucket('FILES')).put(`${PROJECT}/bench/tiny.txt`, tinyBytes, {
      httpMetadata: tiny.httpMetadata, customMetadata: tiny.customMetadata,
    });
  }
  if (ref) {
    await ref.mf.getR2Bucket('FILES').then((b) => b.put('bench/tiny.txt', 'x'));
    // The reference worker's KV holds a copy of the template as stored.
    await ref.mf.getKVNamespace('TEMPLATES').then(async (k) => k.put('tpl/bench/template', await kv.get(`tpl/${PROJECT}/${template}`)));
  }
  // A day: the keys made here must outlive the whole run.
  const fetchData = { permissions: ['OBJECTS_FETCH'], key_validity: { expiration_duration: 86400 } };
  const fresh = {
    window: { permissions: ['FILE_UPLOAD'], upload: { limit_per_min: 10000, max: 1000000000 } },
    max: { permissions: ['FILE_UPLOAD'], upload: { max: 1000000000 } },
    multipart: {
      permissions: ['FILE_UPLOAD'],
      upload: { limit_per_min: 10000, max: 1000000000, dir_scope: ['/bench'], max_file_size: 1048576 },
    },
  };
  const fetchKey = await mint(base, fetchData);
  const peerFetchKey = await peerKey(fetchData);
  return {
    template,
    apiSecret: apiKey.body.secret,
    fetchKey,
    badKey: tampered(fetchKey),
    originKey: origin ? await mint(origin.url, fetchData) : undefined,
    peerFetchKey,
    peerBadKey: tampered(peerFetchKey),
    peerOriginKey: await peerKey(fetchData),
    /** A fresh key of `kind` for `side`: a key's per-minute window must stay under 10000 a measurement. */
    newKey: (side, kind) => (side === 'peer' ? peerKey(fresh[kind]) : mint(base, fresh[kind])),
  };
}

const ISSUE_IPS = 256;
const UPLOAD_BODY = 'sass-edge benchmark upload, 48 bytes long.....\n';
const MINT_BODY = JSON.stringify({ data: { permissions: ['OBJECTS_FETCH'] } });
// One small file as a browser's FormData sends it to the Filerobot API: the
// file's description (info[files[]]), then the file. Built once, with a fixed
// boundary, so that wrk replays the same bytes.
const BOUNDARY = '----WebKitFormBoundarySassEdgeBench01';
const MULTIPART_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;
const MULTIPART_BODY = [
  `--${BOUNDARY}`,
  'Content-Disposition: form-data; name="info[files[]]"',
  '',
  JSON.stringify({ name: 'bench.txt', type: 'text/plain' }),
  `--${BOUNDARY}`,
  'Content-Disposition: form-data; name="files[]"; filename="bench.txt"',
  'Content-Type: text/plain',
  '',
  UPLOAD_BODY,
  `--${BOUNDARY}--`,
  '',
].join('\r\n');

/** The paths compared, sass-edge's case id and the peer's ("p" + id); the target is sass-edge / peer. */
export const PATHS = [
  { id: 'c', what: 'bad signature → 401' },
  { id: 'd', what: 'accepted fetch of a 1-byte object (R2)' },
  { id: 'd2', what: 'accepted fetch forwarded to the cheap origin (origin mode)' },
  { id: 'b', what: 'GET /{project}/key/{template}' },
  { id: 'f', what: 'POST /{project}/key with an API secret key' },
  { id: 'e', what: 'accepted upload with counters (PUT, object API)' },
  { id: 'g', what: 'Filerobot multipart upload of one small file' },
];
const PEER_TARGET = 1.2;

export function scenarios(p) {
  // `side` says whose case it is; `diag` cases explain the others, and run in
  // the first round only unless `everyRound`.
  const list = [
    { id: 'a', side: 'noop', server: 'noop', label: 'no-op worker (workers-rs, same toolchain)', path: '/', expect: 200 },
    { id: 'aj', side: 'noop', server: 'noopjs', label: 'no-op worker (plain JS, the peer\'s baseline)', path: '/', expect: 200 },
  ];
  // Each path, for sass-edge and for the peer: the same request but the key.
  const both = (id, c) => {
    list.push({ id, side: 'sass', server: c.server, key: p[c.key], ...c.request, label: c.sass, target: c.target });
    list.push({ id: 'p' + id, side: 'peer', server: c.peerServer, key: p[c.peerKey], ...c.request, label: c.peer });
  };
  both('c', {
    server: 'quiet', peerServer: 'peerQuiet', key: 'badKey', peerKey: 'peerBadKey', target: 0.9,
    sass: 'bad signature (one changed character), GET …/v5/objects/x',
    peer: 'peer: bad JWT signature (one changed character), GET …/v5/objects/x',
    request: { path: `/${PROJECT}/v5/objects/x`, expect: 401, code: 'KEY_INVALID' },
  });
  both('d', {
    server: 'quiet', peerServer: 'peerQuiet', key: 'fetchKey', peerKey: 'peerFetchKey', target: 0.9,
    sass: 'accepted fetch of a 1-byte object, key without counters',
    peer: 'peer: accepted fetch of the 1-byte object (JWT, checks, R2 get)',
    request: { path: `/${PROJECT}/v5/objects/bench/tiny.txt`, expect: 200 },
  });
  both('d2', {
    server: 'origin', peerServer: 'peerOrigin', key: 'originKey', peerKey: 'peerOriginKey',
    sass: 'as (d), in origin mode: forwarded to a cheap origin (a JS worker in the same workerd answering 1 byte)',
    peer: 'peer: as (pd), forwarded to the same cheap origin with a secret header',
    request: { path: `/${PROJECT}/v5/objects/bench/tiny.txt`, expect: 200 },
  });
  both('b', {
    server: 'sass', peerServer: 'peer', target: 0.7,
    sass: `GET /{project}/key/{template} (${ISSUE_IPS} source IPs)`,
    peer: `peer: GET /{project}/key/{template} (${ISSUE_IPS} source IPs; template cached, DO counter, jose sign)`,
    request: { path: `/${PROJECT}/key/${p.template}`, ips: ISSUE_IPS, expect: 200 },
  });
  both('f', {
    server: 'quiet', peerServer: 'peerQuiet', key: 'apiSecret', peerKey: 'apiSecret',
    sass: 'POST /{project}/key with an API secret key (`{"data":{"permissions":["OBJECTS_FETCH"]}}`)',
    peer: 'peer: the same POST /{project}/key (API key by its SHA-256, cached; jose sign)',
    request: { method: 'POST', path: `/${PROJECT}/key`, body: MINT_BODY, contentType: 'application/json', expect: 200 },
  });
  both('e', {
    server: 'sass', peerServer: 'peer', target: 0.7,
    sass: `accepted upload (${UPLOAD_BODY.length} B), key with counters`,
    peer: `peer: accepted upload (${UPLOAD_BODY.length} B), key with counters (DO counter, R2 put)`,
    request: { method: 'PUT', path: `/${PROJECT}/v5/objects/bench/up.txt`, body: UPLOAD_BODY, expect: 201, freshKey: 'window' },
  });
  both('g', {
    server: 'sass', peerServer: 'peer',
    sass: `Filerobot multipart upload of one file (${UPLOAD_BODY.length} B), key with counters and a scope`,
    peer: `peer: the same multipart upload (request.formData(), DO counter, SHA-1, R2 put)`,
    request: {
      method: 'POST', path: `/${PROJECT}/v4/files?folder=/bench`, body: MULTIPART_BODY, contentType: MULTIPART_TYPE,
      expect: 200, freshKey: 'multipart',
    },
  });
  list.push(
    {
      id: 'e2', side: 'sass', server: 'sass', label: 'as (e), but the key has only `upload.max` (no per-minute window)',
      method: 'PUT', path: `/${PROJECT}/v5/objects/bench/up2.txt`, body: UPLOAD_BODY, expect: 201,
      freshKey: 'max', diag: true, everyRound: true,
    },
    { id: 'r1', side: 'ref', server: 'ref', diag: true, label: 'no-op', path: '/noop', expect: 200 },
    { id: 'r2', side: 'ref', server: 'ref', diag: true, label: 'bare Durable Object round trip (no storage)', path: '/do-bare', expect: 200 },
    {
      id: 'r3', side: 'ref', server: 'ref', diag: true, label: `the Limiter's storage work, 1 window counter (as (b), ${ISSUE_IPS} objects)`,
      path: '/do-take-1', ips: ISSUE_IPS, expect: 200,
    },
    {
      id: 'r4', side: 'ref', server: 'ref', diag: true,
      label: `the Limiter's storage work, a window and a total counter (as (e), ${ISSUE_IPS} objects)`,
      path: '/do-take-2', ips: ISSUE_IPS, expect: 200,
    },
    { id: 'r5', side: 'ref', server: 'ref', diag: true, label: 'KV get of the template', path: '/kv-get', expect: 200 },
    { id: 'r6', side: 'ref', server: 'ref', diag: true, label: 'R2 get of a 1-byte object (as (d))', path: '/r2-get', expect: 200 },
    {
      id: 'r7', side: 'ref', server: 'ref', diag: true, label: `R2 put of ${UPLOAD_BODY.length} B (as (e))`,
      method: 'PUT', path: '/r2-put', body: UPLOAD_BODY, expect: 201,
    },
    { id: 'r8', side: 'ref', server: 'ref', diag: true, label: 'a fetch from the same cheap origin (as (d2))', path: '/origin-get', expect: 200 },
  );
  return list;
}

/**
 * The cases of round `round` in the order they run: the two no-ops, then each
 * path on sass-edge and on the peer, one right after the other (the order of
 * each pair swaps from round to round), then the diagnostics.
 */
function roundOrder(list, round) {
  const byId = Object.fromEntries(list.map((s) => [s.id, s]));
  const pair = (x, y) => (round % 2 ? [byId[x], byId[y]] : [byId[y], byId[x]]);
  return [
    ...pair('a', 'aj'),
    ...PATHS.flatMap(({ id }) => pair(id, 'p' + id)),
    ...list.filter((s) => s.diag && (s.everyRound || round === 1)),
  ];
}

export async function check(server, s) {
  const headers = s.ips ? { 'CF-Connecting-IP': '198.18.0.1' } : {};
  if (s.contentType) headers['Content-Type'] = s.contentType;
  const payload = typeof s.body === 'string' ? { raw: s.body } : { body: s.body };
  const r = await call(server.url, s.method ?? 'GET', s.path, { key: s.key, ...payload, headers });
  if (r.status !== s.expect || (s.code && r.body?.code !== s.code)) {
    throw new Error(`(${s.id}) ${s.label}: expected ${s.expect}${s.code ? ' ' + s.code : ''}, got ${r.status} ${r.text}`);
  }
}

// --------------------------------------------------------------------- main

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const version = (p) => {
    try { return JSON.parse(readFileSync(join(ROOT, 'node_modules', p, 'package.json'), 'utf8')).version; } catch { return '?'; }
  };
  let wrkVersion = '?';
  try { wrkVersion = execFileSync('wrk', ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString(); } catch (e) { wrkVersion = String(e.stdout ?? ''); }
  return {
    nproc: execFileSync('nproc').toString().trim(),
    model,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    node: process.version,
    miniflare: version('miniflare'),
    workerd: version('workerd'),
    jose: version('jose'),
    wrk: /wrk\s+(\S+)/.exec(wrkVersion)?.[1] ?? '?',
    load: loadavg().map((l) => l.toFixed(2)).join(', '),
  };
}

/** The micro-benchmarks reported, what each measures and its target (ns). */
const MICRO = {
  // The performance issue's target; the foundation issue's was 4 µs (said below the table).
  verify_and_admit_upload: { what: 'key verification + policy evaluation (`check_key` then `admit`, an upload)', target: 2000, earlier: 4000 },
  check_key_only: { what: 'its first half: `check_key`' },
  admit_upload_only: { what: 'its second half: `admit`' },
  parse_claims_json: { what: 'inside `check_key`: parsing the claims\' JSON (401 bytes)' },
  sign_key: { what: 'key issuance (`key::sign`: claims to signed key)', target: 10000 },
};

function microResults() {
  const rows = [];
  for (const [id, { what, target, earlier }] of Object.entries(MICRO)) {
    const f = join(ROOT, 'target/criterion', id, 'new/estimates.json');
    if (!existsSync(f)) continue;
    const e = JSON.parse(readFileSync(f, 'utf8'));
    rows.push({
      id, what, target, earlier,
      median: e.median.point_estimate,
      mean: e.mean.point_estimate,
      lo: e.mean.confidence_interval.lower_bound,
      hi: e.mean.confidence_interval.upper_bound,
    });
  }
  return rows;
}

function sizeResult() {
  const f = join(ROOT, 'target/bench-size.txt');
  if (!existsSync(f)) return null;
  return readFileSync(f, 'utf8').trim();
}

const fmt = (x, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const us = (ns) => (ns / 1000).toFixed(2);

/** Where Miniflare keeps its state (os.tmpdir()), and whether that is tmpfs. */
function stateLocation() {
  const dir = tmpdir();
  let best = { mount: '/', type: '?' };
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, mount, type] = line.split(' ');
    if (mount && (dir === mount || dir.startsWith(mount.endsWith('/') ? mount : mount + '/')) && mount.length >= best.mount.length) {
      best = { mount, type };
    }
  }
  return { dir, type: best.type };
}

/** The settings of this run; `--report` renders with those of the run it reads. */
const SETTINGS = { DURATION, WARMUP, CONNECTIONS, ROUNDS, COLD_STARTS, QUIET_WAIT };

function report(results, cold, m, micro, size, when = new Date().toISOString(), settings = SETTINGS) {
  const { DURATION, WARMUP, CONNECTIONS, COLD_STARTS, QUIET_WAIT } = { ...SETTINGS, ...settings };
  const a = results.a;
  const aj = results.aj;
  const lines = [];
  const date = when.replace(/\.\d+Z$/, 'Z');
  const state = m.state ?? stateLocation();
  const main = Object.values(results).filter((r) => !r.s.diag);
  const diag = Object.values(results).filter((r) => r.s.diag);
  const all = Object.values(results);
  // The median of the per-round ratios of `r`'s rate over `base`'s (measured
  // in the same round, minutes apart at most): steadier than a ratio of medians.
  const ratio = (r, base) => median(r.rounds.map((x, i) => x / base.rounds[i]));
  // Each case's own no-op: the Rust one for sass-edge, the JS one for the peer.
  const noopOf = (r) => (r.s.side === 'peer' || r.s.id === 'aj' ? aj : a);
  lines.push('# Benchmarks', '');
  lines.push(`Generated by \`bash scripts/bench.sh\` on ${date}. Every number below is from that one run;`);
  lines.push('rerun the command to refresh them (the section "Notes" at the end is kept as it is).', '');
  lines.push('## Machine', '');
  lines.push(`- ${m.nproc} cores: ${m.model}; ${m.memory} of memory; Linux ${m.kernel}`);
  lines.push(`- node ${m.node}, miniflare ${m.miniflare}, workerd ${m.workerd}, wrk ${m.wrk}, jose ${m.jose ?? '?'}`);
  const busiest = `${(100 * Math.max(...all.map((r) => r.busyBefore))).toFixed(0)} %`;
  lines.push(QUIET_WAIT
    ? `- load average when the run started: ${m.load}. Before each measurement the run waits up to ${QUIET_WAIT} s for the\n` +
      `  machine to be less than 20 % busy; the most it still was after that wait: ${busiest}. The "other cores"`
    : `- load average when the run started: ${m.load}. **BENCH_QUIET_WAIT=0: the run did not wait for a quiet machine\n` +
      `  nor take disturbed measurements again (the machine was up to ${busiest} busy before one): a smoke run, noisy.** The "other cores"`);
  lines.push('  columns below show what else ran during each measurement.', '');

  lines.push('## sass-edge against a hand-written JS peer', '');
  lines.push('`bench/peer` is what a developer would write by hand for the same paths: one plain JavaScript worker');
  lines.push('with `jose` (HS256 JWTs carrying sass-edge\'s claims), the same KV, R2 and SQLite Durable Object');
  lines.push('bindings, the same fixtures (the template and API key as sass-edge stored them, the same 1-byte object)');
  lines.push('and keys made from the same `data` (signed by this benchmark with the peer\'s secret, as sass-edge\'s are');
  lines.push('minted by sass-edge). Each path runs on sass-edge and on the peer one right after the other, in every');
  lines.push(`round (the order of the two swaps from round to round), ${a.rounds.length} rounds. "sass-edge / peer" is the median of the`);
  lines.push('per-round ratios: sass-edge\'s rate in round i over the peer\'s in round i. Beside it, each one\'s rate over');
  lines.push('its own no-op in the same round: (a), the workers-rs no-op, for sass-edge; (aj), a plain JS no-op, for the');
  lines.push('peer. p50, p99 and CPU per request are given as sass-edge / peer.', '');
  lines.push('| path | sass-edge req/s | peer req/s | sass-edge / peer | per round | target | met | sass-edge / (a) | peer / (aj) | p50 ms | p99 ms | workerd CPU/req |');
  lines.push('|---|---:|---:|---:|---|---:|---|---:|---:|---:|---:|---:|');
  lines.push(`| no-op: (a) workers-rs, (aj) plain JS | ${fmt(a.rps)} | ${fmt(aj.rps)} | ${ratio(a, aj).toFixed(2)} | ${a.rounds.map((x, i) => (x / aj.rounds[i]).toFixed(2)).join(' / ')} |  |  | 1.00 | 1.00 | ${a.p50.toFixed(2)} / ${aj.p50.toFixed(2)} | ${a.p99.toFixed(2)} / ${aj.p99.toFixed(2)} | ${fmt(a.cpuPerReq)} / ${fmt(aj.cpuPerReq)} µs |`);
  const compared = [];
  for (const { id, what } of PATHS) {
    const s = results[id];
    const p = results['p' + id];
    if (!s || !p) continue;
    const r = ratio(s, p);
    compared.push({ id, r });
    lines.push(`| (${id}) / (p${id}) ${what} | ${fmt(s.rps)} | ${fmt(p.rps)} | ${r.toFixed(2)} | ${s.rounds.map((x, i) => (x / p.rounds[i]).toFixed(2)).join(' / ')} | ≥ ${PEER_TARGET} | ${r >= PEER_TARGET ? 'yes' : '**no**'} | ${ratio(s, a).toFixed(2)} | ${ratio(p, aj).toFixed(2)} | ${s.p50.toFixed(2)} / ${p.p50.toFixed(2)} | ${s.p99.toFixed(2)} / ${p.p99.toFixed(2)} | ${fmt(s.cpuPerReq)} / ${fmt(p.cpuPerReq)} µs |`);
  }
  lines.push('');
  const met = compared.filter((c) => c.r >= PEER_TARGET).length;
  lines.push(`The target, sass-edge at least ${PEER_TARGET} times the peer's rate, is met on ${met} of ${compared.length} paths.`, '');
  lines.push('What the peer does on each path, and what it does not do that sass-edge does:', '');
  lines.push('- Every keyed path: `jwtVerify` (HS256, the secret imported once per isolate) on every request, the');
  lines.push('  `project` claim against the URL, expiry with 30 s of leeway, a revocation entry and (for keys from a');
  lines.push('  template) the template\'s state read through a 20 s per-isolate cache, the client IP from');
  lines.push('  `CF-Connecting-IP` against the key\'s CIDR ranges (`bench/peer/cidr.js`), the country from `CF-IPCountry`,');
  lines.push('  the permission, and the path: percent-decoded once, refused with encoded slashes, backslashes, control');
  lines.push('  characters or empty, `.` or `..` segments, and its folder checked against `dir_scope` on segment');
  lines.push('  boundaries. Refusals are sass-edge\'s JSON errors with CORS headers. Not done: sass-edge\'s stricter');
  lines.push('  reading of claims (unknown or duplicate members refused even when signed) and of paths (`;`, escapes');
  lines.push('  left after decoding, NFKC look-alikes, duplicate query parameters), and the revocation of ancestors');
  lines.push('  (attenuated keys; none here). sass-edge keeps the keys it verified in a per-isolate cache (a key used');
  lines.push('  again is not decoded again: (d), (d2), (e) and (g) reuse one key); the peer verifies every time.');
  lines.push('- (pd) an R2 get of `{project}{path}`, served with its type, length, ETag, `nosniff` and a sandbox CSP.');
  lines.push('- (pd2) the same checks, then a fetch of the cheap origin with a fixed secret header. sass-edge rebuilds');
  lines.push('  a canonical request (allow-listed headers only, re-encoded path) and signs its `X-Sass-*` facts with');
  lines.push('  HMAC-SHA256; the peer does neither.');
  lines.push('- (pb) the template through the same 20 s cache (a KV read), its `active` and `allowed_origins`, one take');
  lines.push('  in the (template, IP) Durable Object, a JWT signed with `SignJWT`, the same answer. No KV write (sass-edge');
  lines.push('  writes none either).');
  lines.push('- (pf) the API key found by the SHA-256 of its secret (one KV read, cached 20 s), its project and');
  lines.push('  `CONFIG_CHANGE`, the body\'s `data` checked for its permissions (a subset of the API key\'s) and validity only,');
  lines.push('  a JWT signed, and one audit line logged, as sass-edge logs one. sass-edge also checks the secret\'s');
  lines.push('  checksum first and reads every field of `data` strictly.');
  lines.push('- (pe) `Content-Length` against `max_file_size`, one take of both counters in the key\'s Durable Object');
  lines.push('  (the same SQL as the Limiter: a row read and written per counter, a ring of 61 per-second counts for');
  lines.push('  the window, the alarm checked), then one R2 put of the streamed body. sass-edge, which keeps a file-id');
  lines.push('  index, also puts the file\'s index record (its id to its path): two R2 calls to the peer\'s one. The peer does not');
  lines.push('  give counts back when the put fails, nor compute a SHA-1.');
  lines.push('- (pg) `request.formData()` (the platform\'s parser, the whole body in memory), the file\'s size against');
  lines.push('  `max_file_size`, its name from `info[files[]]`, the folder\'s scope, one take for the file, its SHA-1');
  lines.push('  (WebCrypto), one R2 put, and a Filerobot file object. sass-edge streams the body through its own parser');
  lines.push('  (bounded parts and headers, the size checked while it streams, SHA-1 in wasm) and stores the file as');
  lines.push('  in (e), with its index: two R2 calls to the peer\'s one.');
  lines.push('- The peer calls its Durable Object by RPC (`stub.take(…)`), as the platform recommends; sass-edge\'s');
  lines.push('  workers-rs stub sends a `fetch` with a JSON body, and the Limiter answers JSON.', '');

  lines.push('## Throughput and latency', '');
  lines.push(`Each worker is served by Miniflare's own server: one workerd process, with in-memory KV, R2 and SQLite`);
  lines.push(`Durable Objects (their files in ${state.dir}, on ${state.type}). wrk drives it over loopback with 1`);
  lines.push(`thread and ${CONNECTIONS} connections for ${DURATION} s, after a ${WARMUP} s warm-up. The cases run in turn, ${a.rounds.length} rounds, and the`);
  lines.push('table gives the median of the rounds (the per-round rates show the noise). "vs no-op" is the median of the');
  lines.push('per-round ratios: each round\'s rate over its own no-op\'s in the same round ((a) for sass-edge, (aj) for');
  lines.push('the peer). Latency is per request, in ms. "CPU/req" is workerd\'s CPU time (user + system, every thread:');
  lines.push('the worker, its Durable Objects and the KV and R2 simulators) divided by the requests answered. The');
  lines.push('targets here are sass-edge\'s against (a).', '');
  lines.push('| case | request | req/s | per round | p50 ms | p99 ms | vs no-op | target | met | workerd CPU/req | other cores |');
  lines.push('|---|---|---:|---|---:|---:|---:|---:|---|---:|---:|');
  for (const r of main) {
    const vs = ratio(r, noopOf(r));
    const target = r.s.target ? `≥ ${r.s.target}` : '';
    const ok = r.s.target ? (vs >= r.s.target ? 'yes' : '**no**') : '';
    lines.push(`| (${r.s.id}) | ${r.s.label} | ${fmt(r.rps)} | ${r.rounds.map((x) => fmt(x)).join(' / ')} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${vs.toFixed(2)} | ${target} | ${ok} | ${fmt(r.cpuPerReq)} µs | ${r.otherCores.toFixed(2)} |`);
  }
  lines.push('');
  lines.push('"other cores": what everything but workerd used during the run (median of the rounds). wrk alone');
  lines.push(`needs about 0.1; a run in which others used more than ${OTHERS_MAX} is taken again, up to twice.`);
  lines.push('');
  lines.push('What each case does (the peer\'s case "p…" sends the same request with its own key):', '');
  lines.push('- (a) `bench/noop`: a workers-rs crate with the same `worker` version, `[profile.release]` and build');
  lines.push('  (`scripts/build-worker.sh`, with its wasm-opt step) answering `ok`. (aj) `bench/noop-js`: the same in');
  lines.push('  plain JS, with the same bindings.');
  lines.push('- (b) a template created with the root key, `issue_limit_per_min` 10000 (the maximum). wrk cycles');
  lines.push(`  \`CF-Connecting-IP\` through ${ISSUE_IPS} addresses: one IP would pass 10000 calls in a minute at these rates.`);
  lines.push('  Each call reads the template through the isolate\'s cache (a KV read every 20 s), takes one hit in that');
  lines.push('  IP\'s Limiter Durable Object and signs a key. Nothing is written to KV.');
  lines.push('- (c) a key minted with `POST /{project}/key` with one character of its tag changed: 401 `KEY_INVALID`.');
  lines.push('- (d) a minted key with only `OBJECTS_FETCH` (no counters and no template: no Durable Object) fetching a');
  lines.push('  1-byte object uploaded first. (d2) the same in origin mode: sass-edge, with `ORIGIN_URL` set, forwards the');
  lines.push('  accepted fetch to a cheap origin, a JS worker in the same workerd answering one byte.');
  lines.push('- (e) a minted key with `FILE_UPLOAD`, `upload.limit_per_min` 10000 and `upload.max` 1000000000, putting');
  lines.push(`  ${UPLOAD_BODY.length} bytes to the same path each time: one Durable Object round trip takes both counters, then the`);
  lines.push('  file is stored. Each measurement mints a fresh key (a key\'s per-minute window must stay under 10000).');
  lines.push('- (f) `POST /{project}/key` with an API secret key (`sek_…`, holding `CONFIG_CHANGE` and `OBJECTS_FETCH`,');
  lines.push('  created with the root key) and the body `{"data":{"permissions":["OBJECTS_FETCH"]}}`: the API key is');
  lines.push('  found through the isolate\'s cache, the body read, a key signed, an audit line logged.');
  lines.push(`- (g) \`POST /{project}/v4/files?folder=/bench\` with a multipart body as a browser's FormData sends it (${MULTIPART_BODY.length}`);
  lines.push(`  bytes, a fixed boundary): an \`info[files[]]\` part \`{"name":"bench.txt","type":"text/plain"}\`, then the file`);
  lines.push(`  (${UPLOAD_BODY.length} B). The key has the counters of (e), \`upload.dir_scope\` \`/bench\` and \`max_file_size\` 1 MiB;`);
  lines.push('  a fresh key each measurement. The answer is the Filerobot file object.');
  lines.push('', '### Diagnostics (one round each, (e2) every round)', '');
  lines.push('(e2) is (e) with a key that has only `upload.max`.');
  lines.push('(r1) to (r8) are plain JS workers in the same Miniflare, with the same settings, doing one piece of what');
  lines.push('sass-edge does, to measure what the runtime and its simulators cost by themselves. (r3) and (r4) run, in a');
  lines.push('JS Durable Object, the storage work that `Limiter::fetch` does for one take, spread over');
  lines.push(`${ISSUE_IPS} objects. (r8) fetches from the same cheap origin as (d2).`, '');
  lines.push('| case | request | req/s | p50 ms | p99 ms | vs (a) | workerd CPU/req | other cores |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const r of diag) {
    lines.push(`| (${r.s.id}) | ${r.s.label} | ${fmt(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.rps / a.rps).toFixed(2)} | ${fmt(r.cpuPerReq)} µs | ${r.otherCores.toFixed(2)} |`);
  }
  lines.push('');
  // The measured explanation: CPU per request over the no-op's, against what
  // the runtime alone spends on the same Durable Object, KV and R2 calls.
  const cpu = (id) => results[id].cpuPerReq;
  const extra = (id) => cpu(id) - a.cpuPerReq;
  const over = (id) => cpu(id) - cpu('r1');
  const pct = (part, whole) => (whole > 0 ? `${Math.round((100 * part) / whole)} %` : 'n/a');
  lines.push('### Where the time goes', '');
  lines.push('workerd runs the worker, its Durable Objects and the KV and R2 simulators on one thread, so its CPU');
  lines.push('time per request is what bounds throughput here. workerd\'s use of a core during the runs: ' +
    main.map((r) => `(${r.s.id}) ${(r.utilisation * 100).toFixed(0)} %`).join(', ') + '.');
  lines.push(`Per request, over the JS no-op's ${fmt(cpu('r1'))} µs (r1), the runtime alone spends: ${fmt(over('r2'))} µs on a bare Durable`);
  lines.push(`Object round trip (r2), ${fmt(over('r3'))} µs on the Limiter's storage work for one counter (r3) and ${fmt(over('r4'))} µs for two (r4),`);
  lines.push(`${fmt(over('r5'))} µs on a KV get (r5), ${fmt(over('r6'))} µs on an R2 get (r6) and ${fmt(over('r7'))} µs on an R2 put (r7).`);
  lines.push(`Against that, each of sass-edge's cases' CPU over the no-op's ${fmt(a.cpuPerReq)} µs:`, '');
  lines.push(`- (c) +${fmt(extra('c'))} µs, all of it sass-edge's own work: routing, reading the settings and headers, the`);
  lines.push('  HMAC check, and the JSON refusal with its CORS headers. No storage, no Durable Object.');
  const explain = (id, parts, what, own) => {
    const sum = parts.reduce((x, y) => x + over(y), 0);
    lines.push(`- (${id}) +${fmt(extra(id))} µs, of which ${what} (${parts.join(' + ')}) are ${fmt(sum)} µs, ${pct(sum, extra(id))}; the`);
    lines.push(`  other ${fmt(extra(id) - sum)} µs are ${own}. The Durable Object`);
    lines.push(`  part alone is ${pct(parts.filter((x) => ['r3', 'r4'].includes(x)).reduce((x, y) => x + over(y), 0), cpu(id))} of this case's CPU.`);
  };
  const wasmOwn = 'sass-edge\'s own work (the worker\'s and the Limiter\'s wasm, JSON, calls across the JS boundary)';
  explain('b', ['r3'], 'the Limiter\'s storage work', wasmOwn);
  const ownD = extra('d') - over('r6');
  lines.push(`- (d) +${fmt(extra('d'))} µs, of which the R2 get (r6) is ${fmt(over('r6'))} µs, ${pct(over('r6'), extra('d'))}; sass-edge's own work is the`);
  lines.push(`  other ${fmt(ownD)} µs${Math.abs(ownD) < 50 ? ', within the noise of these measurements' : ''}.`);
  const ownD2 = extra('d2') - over('r8');
  lines.push(`- (d2) +${fmt(extra('d2'))} µs, of which the fetch from the cheap origin, that origin included (r8), is ${fmt(over('r8'))} µs; sass-edge's`);
  lines.push(`  own work (the key check, the signed \`X-Sass-*\` headers, building the forwarded request and the answer) is the other ${fmt(ownD2)} µs.`);
  lines.push(`- (f) +${fmt(extra('f'))} µs, all of it sass-edge's own work but the audit line's way out: the API key from the`);
  lines.push('  isolate\'s cache, the body read and checked, the claims and the HMAC, the answer. No storage call.');
  const storeOwn = `${wasmOwn}, and the file-id index's R2 call beyond the one put (the index record's put)`;
  explain('e', ['r4', 'r7'], 'the Limiter\'s storage work and one R2 put', storeOwn);
  explain('g', ['r4', 'r7'], 'the Limiter\'s storage work and one R2 put', `${storeOwn}, and the multipart parser`);
  lines.push(`- (e2) is (e) without the per-minute window: ${fmt(cpu('e') - cpu('e2'))} µs less per upload. The window is a ring of 61`);
  lines.push('  per-second counts (260 bytes) that the Limiter reads and writes whole on every take, whatever the rate.');
  lines.push('');
  // What the ratios would be if the simulated services cost nothing.
  const estimates = [
    ['b', extra('b') - over('r3')],
    ['c', extra('c')],
    ['d', ownD],
    ['d2', ownD2],
    ['e', extra('e') - over('r4') - over('r7')],
  ].map(([id, own]) => ({ id, ratio: a.cpuPerReq / (a.cpuPerReq + Math.max(0, own)), target: results[id === 'd2' ? 'd' : id].s.target }));
  const short = estimates.filter((x) => x.ratio < x.target).map((x) => `(${x.id})`);
  lines.push('In Miniflare the KV, R2 and Durable Object simulators run on the same thread as the worker, and each');
  lines.push('of their calls costs about as much CPU as the whole no-op request or more; on Cloudflare they are other');
  lines.push('services. As an estimate from the numbers above (not a measurement), with the storage and Durable');
  lines.push('Object work taken out, the ratio (a) / ((a) + own work) would be ' +
    estimates.map((x) => `(${x.id}) ${x.ratio.toFixed(2)}`).join(', ') + '.');
  lines.push(short.length
    ? `That is still below the target for ${short.join(', ')}: there sass-edge's own work is, by itself, enough to miss it.`
    : 'That would meet every target: the misses come from the simulated services.');
  lines.push('The targets above are judged on the measured ratios only.');
  lines.push('');
  lines.push('Latency tails: p99 is many times p50 in every case, the JS no-op included, so the tails come from the');
  lines.push('local runtime (workerd\'s event loop, garbage collection, a shared 2-core machine), not from sass-edge.');
  lines.push('wrk is a closed loop (each connection waits for its answer): these are latencies at saturation.', '');
  lines.push('## Cold start', '');
  lines.push(`Time from \`new Miniflare(…)\` to the first answered request (\`GET /\`: 200 from the no-ops, 404 from`);
  lines.push(`sass-edge and the peer), median of ${COLD_STARTS} fresh instances of each, alternating, in ms. "ready" is workerd`);
  lines.push('started with the worker loaded (its modules compiled and evaluated: for a Rust worker, the wasm validated');
  lines.push('and instantiated); "first request" is the rest: answering, which compiles each wasm function the request');
  lines.push('runs. "bytes" is the wasm\'s, or the JS bundle\'s. Miniflare\'s own work is in every figure, and it grows');
  lines.push('with the bundle (perf, 2026-11-23: a start of sass-edge costs Miniflare\'s node process and its workerd');
  lines.push(`about 110 ms more CPU than the no-op's, against about 20 ms more in workerd alone)${Array.isArray(cold) ? '; `node bench/cold.mjs` leaves Miniflare out' : '; the workerd table below leaves Miniflare out'}.`, '');
  lines.push('| worker | bytes | ready | first request | total | range of totals |');
  lines.push('|---|---:|---:|---:|---:|---|');
  // Results saved before the workerd phases were measured hold only the Miniflare list.
  const { miniflare, workerd } = Array.isArray(cold) ? { miniflare: cold } : cold;
  for (const c of miniflare) {
    lines.push(`| ${c.label} | ${fmt(c.bytes ?? c.wasmBytes)} | ${c.ready.toFixed(0)} | ${c.first.toFixed(0)} | ${c.total.toFixed(0)} | ${c.min.toFixed(0)} to ${c.max.toFixed(0)} |`);
  }
  lines.push('');
  if (workerd) {
    lines.push(`The same in workerd itself, without Miniflare (\`node bench/cold.mjs\`: a fresh workerd process per start, its`);
    lines.push(`own trace spans), median of ${workerd.rounds} rounds, in ms. "make worker" is loading the script: for a Rust worker,`);
    lines.push('decoding and validating the whole wasm ("compile modules") and instantiating it; "first request" includes');
    lines.push('compiling each wasm function the request runs; "worker total" is the two, the part of a cold start that');
    lines.push('depends on the bundle; "process total" is from spawning workerd to the answer.', '');
    lines.push(...coldTable(workerd.rows), '');
  }
  lines.push('## Micro-benchmarks of the pure core (`cargo bench`)', '');
  if (micro.length) {
    lines.push('Native x86-64 (not wasm), criterion, `benches/core.rs`, built with the `bench` profile, which inherits');
    lines.push('`[profile.release]`, as the wasm: opt-level "z", but "s" for the core crate and 3 for sha2 and base64.');
    lines.push('Time per call.', '');
    lines.push('| benchmark | what | median | mean (95 % CI) | target | met |');
    lines.push('|---|---|---:|---:|---:|---|');
    for (const x of micro) {
      const target = x.target ? `≤ ${x.target / 1000} µs` : '';
      const met = x.target ? (x.median <= x.target ? 'yes' : '**no**') : '';
      lines.push(`| \`${x.id}\` | ${x.what} | ${us(x.median)} µs | ${us(x.mean)} µs (${us(x.lo)} to ${us(x.hi)}) | ${target} | ${met} |`);
    }
    for (const x of micro.filter((m) => m.earlier)) {
      lines.push('', `\`${x.id}\` against the foundation issue's target of ${x.earlier / 1000} µs: ${x.median <= x.earlier ? 'met' : '**not met**'} (median ${us(x.median)} µs).`);
    }
  } else {
    lines.push('Not run (BENCH_SKIP_MICRO=1).');
  }
  lines.push('');
  lines.push('## Bundle size (`scripts/size.sh`)', '');
  lines.push(size ? '```text\n' + size + '\n```' : 'Not measured.');
  lines.push('');
  return lines.join('\n');
}

const NOTES = '## Notes';
/** The raw results of the last run, so that `--report` can render BENCHMARKS.md again. */
const RESULTS = join(ROOT, 'target/bench-results.json');

/** Writes BENCHMARKS.md from `text`, keeping the hand-written Notes section, and prints the tables. */
function write(text) {
  const old = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
  const notes = old.indexOf(`\n${NOTES}\n`);
  text += notes >= 0 ? old.slice(notes) : `\n${NOTES}\n\n(Hand-written notes go here; scripts/bench.sh keeps this section.)\n`;
  writeFileSync(OUT, text);
  console.log('\n' + text.slice(text.indexOf('## sass-edge against'), text.indexOf('## Bundle size')));
  log(`wrote ${OUT}`);
}

async function main() {
  if (process.argv.includes('--report')) {
    // Renders BENCHMARKS.md again from the last run's results (after a change to the text).
    const saved = JSON.parse(readFileSync(RESULTS, 'utf8'));
    const list = scenarios({});
    for (const r of Object.values(saved.results)) r.s = { ...r.s, ...list.find((x) => x.id === r.s.id) };
    // The texts and targets of the micro-benchmarks as they are now, their figures as measured.
    const micro = saved.micro.map((x) => ({ ...x, ...MICRO[x.id] }));
    write(report(saved.results, saved.cold, saved.machine, micro, saved.size, saved.date, saved.settings));
    return;
  }
  if (process.argv.includes('--cold')) {
    // Cold starts only, of the no-op, this build and the builds of other
    // checkouts named in BENCH_COLD_OTHERS ("label=dir,label=dir"), in
    // alternation; prints the medians. For comparing two versions.
    const others = (process.env.BENCH_COLD_OTHERS ?? '').split(',').filter(Boolean).map((e) => e.split('='));
    const kinds = [['no-op (a)', 'noop', {}], ['sass-edge', 'sass', {}],
      ...others.map(([label, dir]) => [label, 'sass', rustWorker(resolve(dir))])];
    if (QUIET_WAIT) await waitQuiet(QUIET_WAIT);
    await coldStart('noop', '/');
    const runs = kinds.map(() => []);
    for (let i = 0; i < COLD_STARTS; i++) {
      for (const [j, [, kind, extra]] of kinds.entries()) runs[j].push(await coldStart(kind, '/', extra));
    }
    for (const [j, [label]] of kinds.entries()) {
      const t = runs[j].map((r) => r.total);
      console.log(`${label}: median ${median(t).toFixed(0)} ms to the first answer (min ${Math.min(...t).toFixed(0)}, max ${Math.max(...t).toFixed(0)}; ready ${median(runs[j].map((r) => r.ready)).toFixed(0)} ms, first request ${median(runs[j].map((r) => r.first)).toFixed(0)} ms), n=${t.length}`);
    }
    return;
  }
  if (process.argv.includes('--wait-quiet')) {
    const busy = QUIET_WAIT ? await waitQuiet(2 * QUIET_WAIT) : await busyShare();
    log(`machine ${(busy * 100).toFixed(0)} % busy`);
    return;
  }
  const m = { ...machine(), state: stateLocation() };
  log(`machine: ${m.nproc} × ${m.model}, ${m.memory}; load ${m.load}`);

  log(`cold starts (${COLD_STARTS} each, alternating, after one discarded start)`);
  if (QUIET_WAIT) await waitQuiet(QUIET_WAIT);
  await coldStart('noop', '/');
  // Each worker and the file of its code: the wasm, or the JS bundle.
  const kinds = [
    ['noop', 'no-op (a)', join(NOOP, 'build/index_bg.wasm')],
    ['sass', 'sass-edge', join(ROOT, 'build/index_bg.wasm')],
    ['noopjs', 'JS no-op (aj)', NOOP_JS],
    ['peer', 'JS peer', join(PEER, 'build/worker.mjs')],
  ];
  const coldRuns = Object.fromEntries(kinds.map(([kind]) => [kind, []]));
  for (let i = 0; i < COLD_STARTS; i++) {
    for (const [kind] of kinds) coldRuns[kind].push(await coldStart(kind, '/'));
  }
  const coldMiniflare = [];
  for (const [kind, label, code] of kinds) {
    const runs = coldRuns[kind];
    const totals = runs.map((r) => r.total);
    coldMiniflare.push({
      label,
      bytes: readFileSync(code).length,
      ready: median(runs.map((r) => r.ready)),
      first: median(runs.map((r) => r.first)),
      total: median(totals),
      min: Math.min(...totals),
      max: Math.max(...totals),
    });
    log(`  ${label}: ${median(totals).toFixed(0)} ms (statuses ${[...new Set(runs.map((r) => r.status))].join(', ')})`);
  }
  log(`cold starts in workerd itself (${COLD_PHASE_ROUNDS} rounds)`);
  const cold = { miniflare: coldMiniflare, workerd: { rounds: COLD_PHASE_ROUNDS, rows: await coldPhases([['no-op (a)', NOOP], ['sass-edge', ROOT]], COLD_PHASE_ROUNDS) } };

  const servers = {};
  try {
    const kinds = ['noop', 'noopjs', 'sass', 'quiet', 'origin', 'peer', 'peerQuiet', 'peerOrigin', 'ref'];
    for (const kind of kinds) servers[kind] = await serve(kind);
    for (const s of Object.values(servers)) {
      if (!s.pid) throw new Error(`could not find the workerd process of ${s.kind}`);
    }
    const prepared = await prepare(servers);
    const list = scenarios(prepared);
    const results = {};
    for (let round = 1; round <= ROUNDS; round++) {
      for (const s of roundOrder(list, round)) {
        // A fresh key for each attempt: a key's per-minute window must stay under 10000.
        const r = await measure(servers[s.server], s, async () => {
          if (s.freshKey) s.key = await prepared.newKey(s.side, s.freshKey);
          await check(servers[s.server], s);
        });
        log(`round ${round} (${s.id}) ${fmt(r.rps)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${fmt(r.cpuPerReq)} µs CPU/req, workerd ${(r.utilisation * 100).toFixed(0)} % of a core, others ${r.otherCores.toFixed(2)} cores`);
        (results[s.id] ??= { s, runs: [] }).runs.push(r);
      }
    }
    for (const r of Object.values(results)) {
      r.rounds = r.runs.map((x) => x.rps);
      for (const k of ['rps', 'p50', 'p99', 'cpuPerReq', 'utilisation', 'otherCores']) r[k] = median(r.runs.map((x) => x[k]));
      r.busyBefore = Math.max(...r.runs.map((x) => x.busyBefore));
    }
    mkdirSync(join(ROOT, 'target'), { recursive: true });
    writeFileSync(RESULTS, JSON.stringify({ results, cold, machine: m, micro: microResults(), size: sizeResult(), date: new Date().toISOString(), settings: SETTINGS }, null, 1));
    write(report(results, cold, m, microResults(), sizeResult()));
  } finally {
    for (const s of Object.values(servers)) await s.mf.dispose().catch(() => {});
  }
}

// Run as a program; bench/profile.mjs imports the pieces instead.
if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
