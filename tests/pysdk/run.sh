#!/usr/bin/env bash
# The PyPI `filerobot` 0.0.25 SDK, unmodified, against a local server.
#
#   bash tests/pysdk/run.sh
#       self-test: drive.py against mock_server.py (no worker needed);
#       ends with "pysdk: N passed, N failed".
#   BASE=http://127.0.0.1:8787 PROJECT=demo KEY=SASS__... bash tests/pysdk/run.sh [drive.py options]
#       drive.py against that server: one JSON line per SDK call, exit 1 on the
#       first failure.
#
# The venv is tests/pysdk/.venv (git-ignored; PYSDK_VENV overrides), made
# again when requirements.txt changes. A fresh one takes about 10 s.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${PYSDK_VENV:-$here/.venv}"
bash "$here/../../scripts/venv.sh" "$here/requirements.txt" "$venv" pysdk
if [ -n "${BASE:-}" ]; then
  exec "$venv/bin/python" "$here/drive.py" "$@"
fi
exec "$venv/bin/python" "$here/selftest.py" "$@"
