#!/usr/bin/env bash
# Fuzzes sass-edge's pure core with cargo-fuzz (libFuzzer): every target in
# fuzz/, one after the other, for SECONDS each (default 60).
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Installs what is missing first (quietly skipped when present), so that a
# fresh machine that reaches only package registries can run it: a nightly
# toolchain through rustup (minimal profile), cargo-fuzz from crates.io
# (--locked, a fixed version), and a C++ compiler for libFuzzer (g++, with
# apt, as root or through sudo).
# Each target starts from its committed seeds (fuzz/seeds/TARGET), copied
# into a git-ignored working corpus (fuzz/corpus/TARGET) that grows from run
# to run. A crash, an invariant violation, a timeout or an out-of-memory
# stops that target; the others still run, and the script exits 1 and names
# each reproducer (fuzz/artifacts/TARGET/...) with the command that replays
# it.
#
# Environment:
#   FUZZ_TOOLCHAIN        rustup toolchain to use (default: nightly)
#   FUZZ_SANITIZER        address, memory, thread, leak or none (default:
#                         none: the core is safe Rust, and ASan halves the
#                         speed; debug assertions, so overflow checks, are on)
#   SASS_FUZZ_STATS       1: print what each input reached (fuzz/README.md)
#   CARGO_BUILD_JOBS      as for cargo (on a small machine, 1)
#
# The regression tests of the findings (fuzz/tests/findings.rs) are a
# separate build: cargo +nightly test --manifest-path fuzz/Cargo.toml
set -euo pipefail

cd "$(dirname "$0")/.."

SECONDS_EACH="${1:-60}"
shift || true
ALL_TARGETS=(key path_scope template multipart)
TARGETS=("$@")
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")
TOOLCHAIN="${FUZZ_TOOLCHAIN:-nightly}"
SANITIZER="${FUZZ_SANITIZER:-none}"
CARGO_FUZZ_VERSION=0.13.2

if ! [[ "$SECONDS_EACH" =~ ^[0-9]+$ ]] || [ "$SECONDS_EACH" -lt 1 ]; then
  echo "usage: bash scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
  exit 2
fi
for t in "${TARGETS[@]}"; do
  [ -f "fuzz/fuzz_targets/$t.rs" ] || { echo "no fuzz target $t (have: ${ALL_TARGETS[*]})" >&2; exit 2; }
done

# --- tools ---------------------------------------------------------------------
if ! command -v rustup >/dev/null 2>&1; then
  echo "rustup is needed (https://rustup.rs); it is how Rust is installed for this project" >&2
  exit 1
fi
# libfuzzer-sys compiles libFuzzer, which is C++ (and cargo install links
# with the C compiler that comes with g++).
if ! command -v "${CXX:-c++}" >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1 \
  && ! command -v clang++ >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "== installing g++ (libFuzzer is C++)"
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq && $sudo apt-get install -y -qq g++ >/dev/null
  else
    echo "a C++ compiler is needed to build libFuzzer (set CXX, or install g++ or clang++)" >&2
    exit 1
  fi
fi

if ! rustup run "$TOOLCHAIN" rustc --version >/dev/null 2>&1; then
  echo "== installing the $TOOLCHAIN toolchain (minimal profile)"
  rustup toolchain install "$TOOLCHAIN" --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

FLAGS=(--sanitizer "$SANITIZER" --debug-assertions)

# --- build ---------------------------------------------------------------------
echo "== building the fuzz targets ($(rustup run "$TOOLCHAIN" rustc --version), sanitizer $SANITIZER)"
start=$(date +%s)
cargo "+$TOOLCHAIN" fuzz build "${FLAGS[@]}"
echo "== built in $(($(date +%s) - start)) s"

# Per target: the longest input (multipart stays below the 64 KiB that the
# body reader's header guard counts, so chunking cannot change a verdict).
max_len() {
  case "$1" in
    multipart) echo 16384 ;;
    template) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

# --- run -------------------------------------------------------------------------
mkdir -p fuzz/logs
failed=()
summary=()
for t in "${TARGETS[@]}"; do
  corpus="fuzz/corpus/$t"
  artifacts="fuzz/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  cp -n fuzz/seeds/"$t"/* "$corpus"/ 2>/dev/null || true
  before=$(ls "$artifacts")
  log="fuzz/logs/$t.log"
  echo "== fuzzing $t for $SECONDS_EACH s (corpus $corpus, log $log)"
  status=0
  cargo "+$TOOLCHAIN" fuzz run "${FLAGS[@]}" "$t" "$corpus" -- \
    -max_total_time="$SECONDS_EACH" \
    -timeout=10 \
    -max_len="$(max_len "$t")" \
    -dict="fuzz/dicts/$t.dict" \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs=$(grep -aoE 'stat::number_of_executed_units: [0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
  new=$(comm -13 <(echo "$before" | sort) <(ls "$artifacts" | sort) | sed "s|^|$artifacts/|")
  if [ "$status" -ne 0 ] || [ -n "$new" ]; then
    failed+=("$t")
    summary+=("$t: FAILED after $runs executions")
    echo "!! $t failed (exit $status); from $log:"
    grep -a -m1 -A4 -E 'panicked at|ERROR: libFuzzer|==[0-9]+== ?ERROR' "$log" | sed 's/^/!!   /' \
      || grep -av '^#' "$log" | tail -20
    if [ -n "$new" ]; then
      for a in $new; do
        echo "!! reproducer: $a"
        echo "!!   replay:   cargo +$TOOLCHAIN fuzz run ${FLAGS[*]} $t $a"
      done
    else
      echo "!! no reproducer was written (a build or tool error?)"
    fi
  else
    summary+=("$t: ok, $runs executions in $SECONDS_EACH s, corpus $(ls "$corpus" | wc -l) inputs")
  fi
done

echo "== summary"
printf '   %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "== FAILED: ${failed[*]}" >&2
  exit 1
fi
