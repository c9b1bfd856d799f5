#!/usr/bin/env bash
# Set up a virtual environment (.venv) and run every check: format, lint, types, schema, tests.
# The README's test command. Exit code is pytest's (5 = no tests collected) or the first failing check's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff format --check .
.venv/bin/ruff check .
# The whole project dir, exactly as Pulumi's language host runs it before every preview (typechecker: mypy).
.venv/bin/mypy --exclude .venv .
.venv/bin/mypy policy/__main__.py   # the policy pack (its __main__ is left out of whole-project runs: pyproject)
.venv/bin/python -m provisioner schema --check
exec .venv/bin/python -m pytest
