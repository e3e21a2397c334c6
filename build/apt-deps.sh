#!/usr/bin/env bash
# Debian packages the binary builds and the tests need (node_exporter: the textfile
# collector reading the probe's files); installs the missing ones.
# Shared by build/ci-binaries.sh and tests/run.sh so the two cannot drift.
# prometheus (with promtool) and chromium are for serve mode's tests: alert rule
# unit tests, a real Prometheus scraping serve mode, the status page in a browser.
set -euo pipefail
need=()
# lintian and man-db check the .debs, systemd-container boots them (tests/binary/test_deb*.py).
for pkg in qemu-user-static binfmt-support debootstrap binutils patchelf musl-tools \
           python3 python3-venv libpython3.11 util-linux haproxy \
           prometheus chromium prometheus-node-exporter lintian man-db systemd-container; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "apt-deps: missing ${need[*]}; run as root or install them" >&2
        exit 1
    fi
    echo "apt-deps: apt-get install ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
