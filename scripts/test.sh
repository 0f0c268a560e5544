#!/usr/bin/env bash
# The whole test suite: formatting, lints, native unit and property tests, the
# release build and its size budget (416 KiB gzip), end-to-end tests against a
# real `wrangler dev`, schemathesis holding the worker to its OpenAPI
# document, and 60 s of fuzzing for each of the core's fuzz targets.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (native and wasm32)"
cargo clippy --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings
step "the OpenAPI document is as scripts/openapi.py writes it"
python3 scripts/openapi.py --check
step "unit and property tests"
cargo test
step "release build and bundle-size budget (wrangler deploy --dry-run)"
bash scripts/size.sh
step "end-to-end tests (wrangler dev)"
node --test --test-reporter=spec tests/e2e/*.test.mjs
step "schemathesis against a fresh worker"
bash scripts/schemathesis.sh
step "fuzzing (60 s a target)"
bash scripts/fuzz.sh 60
step "the fuzzers' findings, as regression tests (fuzz/tests/findings.rs)"
cargo "+${FUZZ_TOOLCHAIN:-nightly}" test --manifest-path fuzz/Cargo.toml
