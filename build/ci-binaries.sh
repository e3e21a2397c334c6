#!/usr/bin/env bash
# CI entry for the binaries (called by .ci/run as root on a fresh machine):
# installs what the builds need from Debian, builds amd64 natively and arm64 +
# armv7 in QEMU chroots, makes the bullseye root for the compatibility tests,
# and writes dist/SHA256SUMS. The binary tests run afterwards:
#   CI=true python -m pytest tests/binary --binary-arch all
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
arches="${OCPP_PROBE_ARCHES:-amd64 arm64 armv7}"
t0=$SECONDS

bash "$here/apt-deps.sh"
echo "ci-binaries: packages ready after $((SECONDS - t0)) s" >&2

for arch in $arches; do
    s=$SECONDS
    if [ "$arch" = amd64 ]; then
        bash "$here/build.sh"
    else
        bash "$here/build.sh" --arch "$arch"
    fi
    echo "ci-binaries: $arch done in $((SECONDS - s)) s" >&2
done

s=$SECONDS
bash "$here/rootfs.sh" test-bullseye >/dev/null
echo "ci-binaries: bullseye test root ready in $((SECONDS - s)) s" >&2

# The pristine minimal roots the .deb tests install into (tests/binary/test_deb.py).
for arch in $arches; do
    darch="${arch/armv7/armhf}"
    suites="bookworm"
    [ "$darch" = amd64 ] && suites="bookworm bullseye"
    for suite in $suites; do
        s=$SECONDS
        bash "$here/rootfs.sh" deb-test "$suite" "$darch" >/dev/null
        echo "ci-binaries: $suite/$darch .deb test root ready in $((SECONDS - s)) s" >&2
    done
done

(cd "$repo/dist" && sha256sum --check SHA256SUMS)
ls -l "$repo/dist" >&2
echo "ci-binaries: all done in $((SECONDS - t0)) s" >&2
