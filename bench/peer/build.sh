#!/usr/bin/env bash
# Bundles the JS peer (bench/peer/worker.js, with jose from node_modules) into
# bench/peer/build/worker.mjs, as `wrangler deploy` would bundle it: esbuild,
# ES module, the workerd/worker/browser export conditions, not minified.
# scripts/bench.sh runs it; bench/run.mjs refuses a bundle older than its sources.
set -euo pipefail
cd "$(dirname "$0")/../.."
node_modules/.bin/esbuild bench/peer/worker.js --bundle --format=esm --platform=neutral --target=es2022 \
  --main-fields=module,main --conditions=workerd,worker,browser --external:cloudflare:workers \
  --log-level=warning --outfile=bench/peer/build/worker.mjs
