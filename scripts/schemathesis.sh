#!/usr/bin/env bash
# Holds the worker to its OpenAPI document with schemathesis: a fresh
# `wrangler dev` (as the end-to-end tests start it), fixtures made with the
# root key, then `schemathesis run` on the worker's own /openapi.json with
# every phase (examples, coverage, fuzzing, stateful) and every check.
#
#   bash scripts/schemathesis.sh [extra schemathesis run options]
#
# The worker must be built first (scripts/build.sh; scripts/test.sh does it).
# schemathesis comes from PyPI, at the version in
# tests/schemathesis/requirements.txt, into scripts/.st-venv (git-ignored;
# ST_VENV overrides), made again when that file changes. ST_MAX_EXAMPLES
# (default 15) bounds the cases per operation and phase; the run takes about
# two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=tests/schemathesis/requirements.txt
venv="${ST_VENV:-scripts/.st-venv}"
bash scripts/venv.sh "$requirements" "$venv" schemathesis
exec node tests/schemathesis/run.mjs "$venv/bin/schemathesis" \
  --phases examples,coverage,fuzzing,stateful \
  --checks all \
  --max-examples "${ST_MAX_EXAMPLES:-15}" \
  "$@"
