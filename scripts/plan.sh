#!/usr/bin/env bash
# Set up a virtual environment (.venv) and print the credential-free plan. Without --stack or --config it
# plans stack dev (config/dev.yaml, the shipped example). Extra arguments go to `python -m provisioner plan`
# (e.g. --config other.yaml, --stack prod, --format json, --at 2027-01-01, --timeline).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m provisioner plan "$@"
