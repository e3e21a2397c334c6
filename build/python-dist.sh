#!/usr/bin/env bash
# The Python package: a wheel and an sdist of this checkout, checked with twine.
#
#   build/python-dist.sh [OUT]     (default dist/python/; needs `build` and `twine`,
#                                   which the test extra installs)
#
# The version is ocpp_probe.__version__ (pyproject reads it from there). File
# times inside both come from SOURCE_DATE_EPOCH (the last commit), so the wheel
# built from the sdist is the wheel built from the checkout, byte for byte
# (tests/binary/test_python_dist.py). The release workflow publishes OUT to PyPI.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
out="${1:-$repo/dist/python}"
py="${PYTHON:-python3}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 315532800)}"

rm -rf "$out"
mkdir -p "$out"
"$py" -m build --sdist --wheel --outdir "$out" "$repo" >&2
# setuptools leaves these in the checkout; a stale egg-info there would make pip
# believe the package is installed whenever the checkout is on sys.path.
rm -rf "$repo/ocpp_probe.egg-info" "$repo/build/lib" "$repo"/build/bdist.*
"$py" -m twine check --strict "$out"/*
ls "$out"/*
