#!/usr/bin/env bash
# A separate venv for the arthexis CSMS test peer (PyPI `arthexis`, Django + Channels +
# daphne). Separate because it pins its own Django stack and needs Python 3.10+, and
# none of that belongs in the probe's test environment. Idempotent; tests/run.sh calls it.
set -euo pipefail
cd "$(dirname "$0")"
venv=.arthexis-venv
if ! "$venv/bin/python" -c "import arthexis, daphne" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r arthexis-requirements.txt
fi
