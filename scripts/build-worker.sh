#!/usr/bin/env bash
# Builds the workers-rs crate in directory $1 (default: the repository) into
# $1/build/ with worker-build, using the locally installed wasm-bindgen,
# esbuild and wasm-opt (worker-build would download them), then optimises the
# wasm. scripts/build.sh builds sass-edge with it; scripts/bench.sh builds the
# no-op baseline (bench/noop) with it, so both go through the same toolchain.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CRATE=$(cd "${1:-$ROOT}" && pwd)
WASM_BINDGEN_BIN=$(command -v wasm-bindgen) || { echo "wasm-bindgen is missing: run scripts/setup.sh" >&2; exit 1; }
ESBUILD_BIN=$(cd "$ROOT" && node -p "require.resolve('@esbuild/' + process.platform + '-' + process.arch + '/bin/esbuild')" 2>/dev/null) \
  || { echo "esbuild is missing: run scripts/setup.sh" >&2; exit 1; }
WASM_OPT_BIN=$ROOT/node_modules/.bin/wasm-opt
[ -x "$WASM_OPT_BIN" ] || { echo "wasm-opt is missing: run scripts/setup.sh" >&2; exit 1; }
export WASM_BINDGEN_BIN ESBUILD_BIN WASM_OPT_BIN
cd "$CRATE"
worker-build --release
# Optimise for size and drop the name section. The feature list is the one
# worker-build uses, so that no encoding workerd cannot run is emitted.
# --one-caller-inline-max-function-size 0 stops -Oz from inlining every
# function that has a single caller, whatever its size: the wasm grows by 2 %
# but its gzip, what the size budget counts, shrinks by 4 % (8.7 KiB).
# SASS_EDGE_KEEP_NAMES=1 keeps the name section instead (-g), for profiles and
# twiggy: the same code, about 275 KB larger. Never deploy such a build.
NAMES=--strip-debug
[ "${SASS_EDGE_KEEP_NAMES:-}" = 1 ] && NAMES=-g
"$WASM_OPT_BIN" build/index_bg.wasm -o build/index_bg.opt.wasm -Oz --one-caller-inline-max-function-size 0 \
  "$NAMES" --strip-producers \
  --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory \
  --enable-multivalue --enable-reference-types --enable-exception-handling
mv build/index_bg.opt.wasm build/index_bg.wasm
