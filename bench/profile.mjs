// A CPU profile of sass-edge (or of its JS peer) under one of the benchmark's loads, from V8's
// sampling profiler through workerd's inspector. Needs a build that keeps the
// wasm name section, or every wasm function is anonymous:
//
//   SASS_EDGE_KEEP_NAMES=1 bash scripts/build.sh
//   TMPDIR=/dev/shm node --experimental-websocket bench/profile.mjs c   # or a (the no-op), b, d, d2, e, f, g,
//                                                                       # aj and pb … pg (the JS no-op and peer)
//   bash scripts/build.sh                                               # the real build again
//
// Prints the functions with the most self time, and the self time summed by
// crate (wasm) or kind (JS, runtime). The load is the same wrk run as in
// bench/run.mjs (PROFILE_SECONDS, default 5).
import { createServer } from 'node:net';
import { prepare, scenarios, serve, wrk, check } from './run.mjs';

const CASE = process.argv[2] ?? 'c';
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 5);
const TOP = Number(process.env.PROFILE_TOP ?? 25);

const freePort = () => new Promise((ok) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
});

function inspector(url) {
  const ws = new WebSocket(url);
  let id = 0;
  const pending = new Map();
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.id && pending.has(m.id)) {
      const { ok, fail } = pending.get(m.id);
      pending.delete(m.id);
      if (m.error) fail(new Error(JSON.stringify(m.error)));
      else ok(m.result);
    }
  };
  const opened = new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
  return {
    opened,
    send: (method, params = {}) => new Promise((ok, fail) => {
      id += 1;
      pending.set(id, { ok, fail });
      ws.send(JSON.stringify({ id, method, params }));
    }),
    close: () => ws.close(),
  };
}

/** What a profile node's function belongs to: a crate for wasm, else a kind. */
function owner(frame) {
  const name = frame.functionName || '(anonymous)';
  if (name.startsWith('(')) return name; // (program), (garbage collector), (idle), (root)
  if (frame.url.includes('wasm') || /::/.test(name)) {
    const m = /^<?&?(?:mut )?([A-Za-z_][A-Za-z0-9_]*)/.exec(name.replace(/^<+/, ''));
    return `wasm: ${m ? m[1] : name}`;
  }
  if (!frame.url) return 'runtime (native, builtins)';
  if (frame.url.includes('index.js')) return 'JS: wasm-bindgen glue (build/index.js)';
  return `JS: ${frame.url.split('/').pop()}`;
}

async function main() {
  const port = await freePort();
  // The server the case runs on: a no-op, sass-edge (quiet, or in origin mode), or the peer.
  const known = scenarios({}).filter((x) => x.side !== 'ref');
  const kind = known.find((x) => x.id === CASE)?.server;
  if (!kind) throw new Error(`no case ${CASE}: use one of ${known.map((x) => x.id).join(', ')}`);
  const server = await serve(kind, { inspectorPort: port });
  const servers = { [kind]: server };
  try {
    // The setup needs sass-edge; for other kinds it runs against a second server.
    servers.sass ??= await serve('sass');
    const p = await prepare(servers);
    if (servers.sass !== server) await servers.sass.mf.dispose();
    const s = scenarios(p).find((x) => x.id === CASE);
    if (s.freshKey) s.key = await p.newKey(s.side, s.freshKey);
    await check(server, s);
    const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
    // In origin mode the cheap origin is a second worker: profile sass-edge or the peer.
    const target = targets.find((t) => t.webSocketDebuggerUrl && /sass|peer/.test(t.title ?? '')) ??
      targets.find((t) => t.webSocketDebuggerUrl) ?? targets[0];
    const insp = inspector(target.webSocketDebuggerUrl);
    await insp.opened;
    await insp.send('Profiler.enable');
    await insp.send('Profiler.setSamplingInterval', { interval: 100 });
    await wrk(server.url, s, 2); // warm-up
    await insp.send('Profiler.start');
    const r = await wrk(server.url, s, SECONDS);
    const { profile } = await insp.send('Profiler.stop');
    insp.close();
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map();
    const counts = new Map();
    for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
    let total = 0;
    for (const [id, c] of counts) {
      const n = byId.get(id);
      if (n.callFrame.functionName === '(idle)') continue;
      total += c;
      const key = `${n.callFrame.functionName || '(anonymous)'}\t${n.callFrame.url}`;
      self.set(key, (self.get(key) ?? 0) + c);
    }
    const groups = new Map();
    for (const [key, c] of self) {
      const [functionName, url] = key.split('\t');
      const g = owner({ functionName, url });
      groups.set(g, (groups.get(g) ?? 0) + c);
    }
    // Shares only: on a busy 2-core machine the sampler does not keep its
    // 100 µs period (gaps of several hundred µs are common), so a sample count
    // does not convert reliably into time per request.
    const pct = (c) => `${((100 * c) / total).toFixed(1).padStart(5)} %`;
    console.log(`case (${CASE}) ${s.label}: ${r.requests} requests in ${SECONDS} s while profiling;`);
    console.log(`${total} samples of this isolate at work (idle left out)\n`);
    console.log('self time by owner:');
    for (const [g, c] of [...groups].sort((x, y) => y[1] - x[1]).slice(0, 15)) console.log(`  ${pct(c)}  ${g}`);
    console.log(`\nfunctions with the most self time (top ${TOP}):`);
    for (const [key, c] of [...self].sort((x, y) => y[1] - x[1]).slice(0, TOP)) {
      const [fn, url] = key.split('\t');
      console.log(`  ${pct(c)}  ${fn.replace(/::h[0-9a-f]{16}$/, '').slice(0, 110)}${url && !url.includes('wasm') ? `  [${url.split('/').pop()}]` : ''}`);
    }
  } finally {
    await server.mf.dispose().catch(() => {});
  }
}

await main();
