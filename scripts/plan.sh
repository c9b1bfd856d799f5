#!/usr/bin/env bash
# Set up a virtual environment (.venv) and print the credential-free plan for the shipped example
# (config/dev.yaml). Extra arguments go to `python -m provisioner plan` (e.g. --format json, --at 2027-01-01).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m provisioner plan --stack dev "$@"
