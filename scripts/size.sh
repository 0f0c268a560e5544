#!/usr/bin/env bash
# The bundle-size check: builds the deployable bundle with
# `wrangler deploy --dry-run --outdir dist` (nothing is uploaded), prints the
# gzip size wrangler reports, and fails if it is above the budget.
# It builds first with scripts/build.sh, then runs wrangler with
# SASS_EDGE_SKIP_BUILD=1 so that wrangler's [build] step does not build again.
#   SIZE_BUDGET_KIB          the budget in KiB of gzip (default 416): a guard against accidents, not a target
#   SASS_EDGE_SKIP_BUILD=1   reuse the existing build in build/
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET_KIB=${SIZE_BUDGET_KIB:-416}
[ -x node_modules/.bin/wrangler ] || { echo "wrangler is missing: run scripts/setup.sh" >&2; exit 1; }
bash scripts/build.sh
rm -rf dist
if ! out=$(SASS_EDGE_SKIP_BUILD=1 npx wrangler deploy --dry-run --outdir dist 2>&1); then
  printf '%s\n' "$out" >&2
  echo "size: wrangler deploy --dry-run failed" >&2
  exit 1
fi
# wrangler prints: "Total Upload: 524.51 KiB / gzip: 204.88 KiB"
line=$(printf '%s\n' "$out" | grep -E 'Total Upload: .* / gzip: [0-9.]+ KiB' | tail -n 1 || true)
if [ -z "$line" ]; then
  printf '%s\n' "$out" >&2
  echo "size: could not find \"gzip: N KiB\" in wrangler's output" >&2
  exit 1
fi
total=$(printf '%s\n' "$line" | sed -E 's/.*Total Upload: ([0-9.]+) KiB.*/\1/')
gzip=$(printf '%s\n' "$line" | sed -E 's/.*gzip: ([0-9.]+) KiB.*/\1/')
echo "bundle: ${total} KiB, gzip: ${gzip} KiB (budget: ${BUDGET_KIB} KiB gzip)"
if awk -v g="$gzip" -v b="$BUDGET_KIB" 'BEGIN { exit !(g > b) }'; then
  echo "size: FAIL: the bundle is ${gzip} KiB gzip, above the ${BUDGET_KIB} KiB budget" >&2
  exit 1
fi
echo "size: OK: within the budget"
