#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (Debian
# build packages for the binary, Python packages into .venv, the npm test peer),
# lints and type-checks, then runs pytest. This is README's second command; .ci/run
# calls it too. Outside CI the binary tests build and test this machine's binary;
# with CI=true they test all three architectures, which build/ci-binaries.sh builds.
set -euo pipefail
cd "$(dirname "$0")/.."

bash build/apt-deps.sh
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r build/requirements-lint.txt
(cd tests/peers && npm ci --no-audit --no-fund --loglevel=error)
bash tests/peers/arthexis_setup.sh

.venv/bin/ruff check ocpp_probe tests probe.py bench build
.venv/bin/mypy
.venv/bin/python -m pytest -p no:cacheprovider "$@"
