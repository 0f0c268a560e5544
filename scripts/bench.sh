#!/usr/bin/env bash
# The benchmark: builds sass-edge and the no-op baseline (bench/noop) with the
# same toolchain, and bundles the hand-written JS peer (bench/peer, with
# esbuild); runs the core's micro-benchmarks (cargo bench) and measures the
# bundle (scripts/size.sh); then serves sass-edge, the peer, both no-ops
# (bench/noop, and bench/noop-js, which needs no build) and the reference JS
# workers with Miniflare, drives them with wrk in alternating rounds
# (bench/run.mjs), and writes BENCHMARKS.md from that one run.
# About 23 minutes with the defaults on a quiet machine, the Rust already
# compiled: 93 measurements of about 13 s each (a second to see the machine is
# quiet, a 2 s warm-up, the 10 s run), 5 rounds of 17 and 8 reference cases
# once, about 21 minutes; the builds, cargo bench, the size check and the cold
# starts take the rest. Longer on a busy machine: each measurement waits up to
# 30 s for it to be quiet, and one disturbed is taken again, up to twice.
# Installs wrk (Debian's package) if it is missing.
#   BENCH_SKIP_MICRO=1   skip `cargo bench`
#   BENCH_DURATION, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_ROUNDS,
#   BENCH_COLD_STARTS, BENCH_OUT, BENCH_QUIET_WAIT   see bench/run.mjs
#   (for a short smoke run: BENCH_DURATION=2 BENCH_WARMUP=1 BENCH_ROUNDS=1
#   BENCH_COLD_STARTS=1 BENCH_SKIP_MICRO=1 BENCH_QUIET_WAIT=0
#   BENCH_OUT=/tmp/bench-smoke.md, about 2 minutes after the builds)
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[bench]\033[0m %s\n' "$*"; }

bash scripts/setup.sh

if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk (the load generator)"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  command -v apt-get >/dev/null 2>&1 || { echo "[bench] wrk is missing and there is no apt-get: install wrk 4.x" >&2; exit 1; }
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi

# The baseline must be built exactly like sass-edge.
# [profile.release]'s settings, comments and blank lines left out.
profile() { awk '/^\[profile\.release\]$/ { on = 1; next } /^\[/ { on = 0 } on && NF && !/^#/' "$1"; }
if [ "$(profile Cargo.toml)" != "$(profile bench/noop/Cargo.toml)" ]; then
  echo "[bench] [profile.release] differs between Cargo.toml and bench/noop/Cargo.toml: make them identical" >&2
  exit 1
fi

say "building sass-edge (scripts/build.sh)"
env -u SASS_EDGE_SKIP_BUILD bash scripts/build.sh
say "building the no-op worker (bench/noop)"
bash scripts/build-worker.sh bench/noop
say "bundling the JS peer (bench/peer)"
bash bench/peer/build.sh

# Wait (up to a minute, twice BENCH_QUIET_WAIT) for the machine to be quiet before timing anything.
node bench/run.mjs --wait-quiet

mkdir -p target
if [ "${BENCH_SKIP_MICRO:-}" = 1 ]; then
  rm -rf target/criterion
else
  say "micro-benchmarks (cargo bench)"
  rm -rf target/criterion
  cargo bench --bench core
fi

say "bundle size (scripts/size.sh)"
SASS_EDGE_SKIP_BUILD=1 bash scripts/size.sh > target/bench-size.txt 2>&1 || true
cat target/bench-size.txt

# Miniflare keeps unpersisted state (Durable Objects' SQLite, KV, R2) in a
# temporary directory. On disk, every Durable Object commit waits for this
# machine's disk; on tmpfs the benchmark measures the worker instead.
STATE=$(mktemp -d /dev/shm/sass-edge-bench.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$STATE"' EXIT
say "load and cold start (bench/run.mjs, state in $STATE)"
TMPDIR=$STATE node bench/run.mjs
