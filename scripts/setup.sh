#!/usr/bin/env bash
# Create .venv and install the project (editable) with its dev tools. Skipped when .venv already holds an
# install made from the same pyproject.toml, so repeated plan/test runs start at once; a fresh clone (CI)
# always installs. Used by scripts/plan.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.installed-from
want=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open("pyproject.toml","rb").read()).hexdigest(), sys.version.split()[0])')
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
echo "$want" > "$stamp"
