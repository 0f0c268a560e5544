#!/usr/bin/env bash
# Installs everything the build, the dev server and the tests need, from the
# package registries only. Idempotent: a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
need() {
  command -v "$1" >/dev/null 2>&1 || { echo "[setup] $1 is missing: $2" >&2; exit 1; }
}
need cargo "install Rust with rustup (https://rustup.rs)"
need rustup "install Rust with rustup (https://rustup.rs)"
need npm "install Node.js 20 or later with npm"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# worker-build at the version of the worker crate in Cargo.lock.
lock_version() { awk -v n="$1" '$0 == "name = \"" n "\"" { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock; }
WORKER_BUILD_VERSION=$(lock_version worker)
if [ "$(worker-build --version 2>/dev/null)" != "$WORKER_BUILD_VERSION" ]; then
  say "installing worker-build $WORKER_BUILD_VERSION (about 5 minutes)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION"
fi

# The wasm-bindgen CLI must match the wasm-bindgen crate exactly. Not --locked:
# one of its locked dependencies is gone from the registry.
WASM_BINDGEN_VERSION=$(lock_version wasm-bindgen)
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 3 minutes)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# wrangler (with workerd and esbuild) and binaryen's wasm-opt, as pinned in
# package-lock.json. npm reinstalls only when the lock file changed.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund
fi
# Debian's chromium for the browser test (Playwright's own download cannot work
# offline; playwright-core drives this one).
if [ ! -x /usr/bin/chromium ]; then
  say "installing Debian's chromium"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null
  else
    echo "[setup] chromium is missing: install Debian's package 'chromium' (apt-get install chromium)" >&2
    exit 1
  fi
fi
say "ready"
