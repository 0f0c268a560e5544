#!/usr/bin/env bash
# Runs sass-edge locally: installs what is missing, seeds the demo project's
# template into local KV, and starts `wrangler dev` (local KV, Durable Objects).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8787}
bash scripts/setup.sh
bash scripts/build.sh
DEMO_TEMPLATE=$(node -p "require('./demo/template.json').id")
npx wrangler kv key put --binding TEMPLATES --local "tpl/demo/$DEMO_TEMPLATE" --path demo/template.json >/dev/null
ROOT_KEY=$(sed -n 's/^ROOT_API_KEY=//p' .dev.vars)
cat <<TEXT

  sass-edge is starting on http://localhost:$PORT  (local-only settings from .dev.vars)

  Upload through a restricted key in your browser:
    http://localhost:$PORT/demo/demo/$DEMO_TEMPLATE

  Get a key from the demo template:
    curl http://localhost:$PORT/demo/key/$DEMO_TEMPLATE

  List the demo project's templates with the local root key:
    curl -H 'X-Filerobot-Key: $ROOT_KEY' http://localhost:$PORT/demo/v5/security-templates

TEXT
SASS_EDGE_SKIP_BUILD=1 exec npx wrangler dev --port "$PORT" --show-interactive-dev-session=false
