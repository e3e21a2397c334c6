#!/usr/bin/env bash
# SHA256SUMS for a release: one line per file in DIR (binaries, .debs, wheel,
# sdist), by file name, as `sha256sum --check --ignore-missing SHA256SUMS` reads it.
#
#   build/checksums.sh DIR
set -euo pipefail
dir="${1:?usage: checksums.sh DIR}"
cd "$dir"
find . -maxdepth 1 -type f ! -name SHA256SUMS ! -name '*.tmp' -printf '%f\n' | LC_ALL=C sort \
    | xargs --no-run-if-empty sha256sum > SHA256SUMS.tmp
if [ ! -s SHA256SUMS.tmp ]; then
    echo "checksums.sh: no files in $dir" >&2
    rm -f SHA256SUMS.tmp
    exit 1
fi
mv -f SHA256SUMS.tmp SHA256SUMS
cat SHA256SUMS
