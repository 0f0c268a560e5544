#!/usr/bin/env bash
# Builds the worker into build/ with worker-build, using the locally installed
# wasm-bindgen, esbuild and wasm-opt (worker-build would download them).
# wrangler runs this as its [build] command. The steps are in
# scripts/build-worker.sh, which also builds the benchmark's no-op worker.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SASS_EDGE_SKIP_BUILD:-}" = 1 ] && [ -f build/worker/shim.mjs ]; then
  exit 0
fi
exec bash scripts/build-worker.sh "$PWD"
