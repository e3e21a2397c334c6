#!/usr/bin/env bash
# The whole test suite: installs what the tests need (Python packages into .venv,
# the npm test peer), lints and type-checks, then runs pytest. README's second command.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
(cd tests/peers && npm ci --no-audit --no-fund --loglevel=error)

.venv/bin/ruff check ocpp_probe tests probe.py
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
