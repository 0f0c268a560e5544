// Cold starts measured in workerd itself, phase by phase, without Miniflare:
//
//   node bench/cold.mjs [rounds] [label=dir ...]
//
// Each round starts a fresh workerd process for each worker in turn (the
// workers-rs no-op, bench/noop; sass-edge, this checkout; and any other
// checkouts given as label=dir, built with scripts/build-worker.sh), asks it
// `GET /` once, stops it and reads the trace workerd wrote with
// `--perfetto-trace` (its own spans, category "workerd"). Per worker it prints
// the medians of:
//   - make worker: `Server::makeWorker()`, loading the script: compiling the
//     modules (for a Rust worker, decoding and validating the whole wasm) and
//     evaluating them (instantiating the wasm);
//   - compile modules: the part of that in `WorkerdApi::compileModules()`;
//   - first request: from the request's arrival to the response sent, which
//     includes compiling each wasm function the request runs the first time;
//   - worker total: make worker + first request, the part of a cold start
//     that depends on the bundle (on Cloudflare the process already runs);
//   - process total: from spawning workerd to the answer, as a client sees it
//     locally (process start and config parsing included).
// `node bench/run.mjs --cold` measures the same through Miniflare, where its
// own overhead (about 100 ms) is in every figure.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import protobuf from 'protobufjs/minimal.js';

const ROOT = resolve(import.meta.dirname, '..');
const WORKERD = join(ROOT, 'node_modules/workerd/bin/workerd');
const COMPAT_DATE = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'))[1];


/** A workerd config serving the workers-rs build in `crate`/build, with its Durable Object class if it has one. */
function config(dir, crate, port) {
  const build = join(crate, 'build');
  for (const f of ['worker/shim.mjs', 'index.js', 'index_bg.wasm']) {
    if (!existsSync(join(build, f))) throw new Error(`${join(build, f)} is missing: build it with scripts/build-worker.sh`);
  }
  const embed = (f) => `embed "${relative(dir, join(build, f))}"`;
  const limiter = /export\{[^}]*\bLimiter\b/.test(readFileSync(join(build, 'index.js'), 'utf8'));
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ]
);
const w :Workerd.Worker = (
  modules = [
    (name = "worker/shim.mjs", esModule = ${embed('worker/shim.mjs')}),
    (name = "index.js", esModule = ${embed('index.js')}),
    (name = "index_bg.wasm", wasm = ${embed('index_bg.wasm')}),
  ],
  compatibilityDate = "${COMPAT_DATE}",
  bindings = [ (name = "ROOT_API_KEY", text = "cold-start-root-key-0123456789-abcdefghij")${limiter ? ', (name = "LIMITER", durableObjectNamespace = (className = "Limiter"))' : ''} ],
  ${limiter ? 'durableObjectNamespaces = [ (className = "Limiter", uniqueKey = "cold-limiter", enableSql = true) ], durableObjectStorage = (inMemory = void),' : ''}
);
`;
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
    s.on('error', fail);
  });
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** One cold start of `crate`: the process total and the trace's spans. */
async function once(dir, crate, n) {
  const port = await freePort();
  const cfg = join(dir, `w${n}.capnp`);
  const trace = join(dir, `t${n}.pftrace`);
  writeFileSync(cfg, config(dir, crate, port));
  const started = performance.now();
  const child = spawn(WORKERD, ['serve', cfg, `--perfetto-trace=${trace}=workerd`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((ok) => child.on('exit', ok));
  let answered;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`workerd exited: ${stderr}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      await r.arrayBuffer();
      answered = performance.now();
      break;
    } catch {
      await sleep(1);
    }
  }
  // workerd writes the trace when it shuts down.
  child.kill('SIGTERM');
  if (await Promise.race([exited.then(() => true), sleep(2000).then(() => false)]) === false) {
    child.kill('SIGKILL');
    await exited;
  }
  const spans = readSpans(readFileSync(trace));
  const first = (name) => spans.find((s) => s.name === name);
  const request = first('Connection:request()');
  const sent = first('WorkerEntrypoint::ResponseSentTracker::send()');
  const make = first('Server::makeWorker()');
  const compile = first('WorkerdApi::compileModules()');
  if (!request || !sent || !make || !compile) throw new Error(`the trace of ${crate} lacks workerd's spans`);
  return {
    make: make.ms,
    compile: compile.ms,
    request: sent.at - request.at,
    process: answered - started,
  };
}

// ------------------------------------------------ the trace (protobuf) reader

/** The fields of one protobuf message as [number, value]: varints as BigInt, the rest as bytes. */
function* fields(bytes) {
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const [f, t] = [tag >>> 3, tag & 7];
    if (t === 0) yield [f, BigInt(r.uint64().toString())];
    else if (t === 1) yield [f, r.fixed64()];
    else if (t === 2) yield [f, r.bytes()];
    else if (t === 5) yield [f, r.fixed32()];
    else throw new Error(`wire type ${t} in the trace`);
  }
}

/**
 * The slices of a Perfetto trace as {name, at, ms} (times in ms), for the
 * fields workerd's track events use: TracePacket.timestamp (8, incremental
 * per sequence, 10), sequence_flags (13: 1 clears the sequence's state),
 * track_event (11: type 9, name_iid 10, name 23, track_uuid 11) and
 * interned_data (12: event_names 2 of {iid 1, name 2}).
 */
function readSpans(bytes) {
  const names = new Map();
  const clock = new Map();
  const open = new Map();
  const spans = [];
  const text = (b) => Buffer.from(b).toString();
  for (const [f, packet] of fields(bytes)) {
    if (f !== 1) continue;
    let ts = null; let event = null; let interned = null; let seq = 0n; let flags = 0n;
    for (const [pf, v] of fields(packet)) {
      if (pf === 8) ts = v;
      else if (pf === 10) seq = v;
      else if (pf === 11) event = v;
      else if (pf === 12) interned = v;
      else if (pf === 13) flags = v;
    }
    if (flags & 1n) clock.set(seq, 0n);
    if (interned) {
      for (const [k, v] of fields(interned)) {
        if (k !== 2) continue;
        let iid = null; let name = null;
        for (const [a, c] of fields(v)) { if (a === 1) iid = c; if (a === 2) name = text(c); }
        names.set(iid, name);
      }
    }
    if (!event || ts === null) continue;
    const at = (clock.get(seq) ?? 0n) + ts;
    clock.set(seq, at);
    let type = null; let name = null; let track = 0n;
    for (const [a, c] of fields(event)) {
      if (a === 9) type = c;
      else if (a === 10) name = names.get(c);
      else if (a === 23) name = text(c);
      else if (a === 11) track = c;
    }
    if (type === 1n) {
      if (!open.has(track)) open.set(track, []);
      open.get(track).push({ name, at });
    } else if (type === 2n) {
      const begun = open.get(track)?.pop();
      if (begun) spans.push({ name: begun.name, at: Number(begun.at) / 1e6, ms: Number(at - begun.at) / 1e6 });
    }
  }
  return spans.sort((a, b) => a.at - b.at);
}

// ----------------------------------------------------------------- the runs

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

/**
 * `rounds` cold starts of each of `workers` ([label, crate directory], the
 * first the baseline), in alternation; per worker the medians, in ms.
 */
export async function coldPhases(workers, rounds) {
  const dir = mkdtempSync(join(tmpdir(), 'sass-edge-cold-'));
  try {
    await once(dir, workers[0][1], 'warm'); // the binary into the page cache
    const runs = workers.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (const [j, [, crate]] of workers.entries()) runs[j].push(await once(dir, crate, `${r}-${j}`));
    }
    return workers.map(([label, crate], j) => {
      const m = (k) => median(runs[j].map((x) => x[k]));
      return {
        label,
        wasmBytes: readFileSync(join(crate, 'build/index_bg.wasm')).length,
        make: m('make'),
        compile: m('compile'),
        request: m('request'),
        worker: m('make') + m('request'),
        process: m('process'),
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The rows of `coldPhases` as a Markdown table, the first row the baseline. */
export function coldTable(rows) {
  const fmt = (x) => x.toFixed(1);
  const lines = [
    '| worker | wasm bytes | make worker | of it, compile modules | first request | worker total | over the no-op | process total |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [j, r] of rows.entries()) {
    const over = j ? `+${fmt(r.worker - rows[0].worker)} (+${((r.worker / rows[0].worker - 1) * 100).toFixed(0)} %)` : '';
    lines.push(`| ${r.label} | ${r.wasmBytes.toLocaleString('en')} | ${fmt(r.make)} | ${fmt(r.compile)} | ${fmt(r.request)} | ${fmt(r.worker)} | ${over} | ${r.process.toFixed(0)} |`);
  }
  return lines;
}

// Run as a program; bench/run.mjs imports the pieces instead.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 15);
  const workers = [['no-op (a)', join(ROOT, 'bench/noop')], ['sass-edge', ROOT],
    ...args.filter((a) => a.includes('=')).map((a) => { const [l, d] = a.split('='); return [l, resolve(d)]; })];
  const rows = await coldPhases(workers, rounds);
  console.log(`cold starts in workerd, median of ${rounds} rounds, in ms`);
  console.log(coldTable(rows).join('\n'));
}
