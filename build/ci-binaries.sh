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

need=()
for pkg in qemu-user-static binfmt-support debootstrap binutils patchelf musl-tools \
           python3 python3-venv libpython3.11 util-linux; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "ci-binaries: apt-get install ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
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

(cd "$repo/dist" && sha256sum --check SHA256SUMS)
ls -l "$repo/dist" >&2
echo "ci-binaries: all done in $((SECONDS - t0)) s" >&2
