#!/usr/bin/env bash
# Makes a Python venv holding exactly the packages of a requirements file,
# again only when that file has changed since (a copy of it is kept in the
# venv). Used by scripts/schemathesis.sh and tests/pysdk/run.sh.
#
#   bash scripts/venv.sh REQUIREMENTS VENV LABEL
set -euo pipefail
requirements=$1 venv=$2 label=$3
if ! cmp -s "$requirements" "$venv/.requirements.txt" 2>/dev/null; then
  start=$SECONDS
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/.requirements.txt"
  echo "$label: venv made in $((SECONDS - start)) s ($venv)" >&2
fi
