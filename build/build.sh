#!/usr/bin/env bash
# The one build recipe for the ocpp-probe single-file binaries.
#
#   build/build.sh                  build for the machine it runs on -> dist/ocpp-probe-linux-<arch>
#   build/build.sh --arch arm64     build inside a Debian bookworm arm64 root under QEMU (same script, chrooted)
#   build/build.sh --arch armv7     same for 32-bit ARM (Debian armhf)
#   build/build.sh --arch amd64 --chroot   force the chroot route for the native arch too
#
# Options:
#   --no-staticx     keep the plain PyInstaller binary (needs the builder's glibc or newer)
#   --python PATH    interpreter to freeze with (default /usr/bin/python3, Debian's)
#
# Every path (local, cross build, Dockerfile.arm64, GitHub workflow) runs this
# script; the cross build runs it again, with no --arch, inside the chroot.
# Build inputs are pinned with hashes in build/requirements-build.txt; the
# result is made reproducible where PyInstaller allows (PYTHONHASHSEED,
# SOURCE_DATE_EPOCH). Root file systems are cached in build/cache/ (override
# with OCPP_PROBE_CACHE; ROOTFS_FRESH=1 rebuilds them).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
arch=""
chroot_native=0
staticx=1
python="${PYTHON:-/usr/bin/python3}"

while [ $# -gt 0 ]; do
    case "$1" in
        --arch) arch="$2"; shift 2 ;;
        --arch=*) arch="${1#--arch=}"; shift ;;
        --chroot) chroot_native=1; shift ;;
        --no-staticx) staticx=0; shift ;;
        --python) python="$2"; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

norm_arch() {
    case "$1" in
        x86_64|amd64) echo amd64 ;;
        aarch64|arm64) echo arm64 ;;
        armv7l|armv7|armhf|armv8l) echo armv7 ;;
        *) echo "unsupported architecture: $1" >&2; return 2 ;;
    esac
}

native="$(norm_arch "$(uname -m)")"
arch="$(norm_arch "${arch:-$native}")"

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 315532800)}"
export PYTHONHASHSEED=0
export LC_ALL=C.UTF-8
export TZ=UTC

if [ "$arch" != "$native" ] || [ "$chroot_native" = 1 ]; then
    # Cross build: the same script, run natively inside a root of the target arch.
    started=$SECONDS
    root="$("$here/rootfs.sh" build "$arch" | tail -n 1)"
    echo "build.sh: rootfs ready after $((SECONDS - started)) s: $root" >&2
    mkdir -p "$root/src" "$repo/dist"
    flags=()
    [ "$staticx" = 0 ] && flags+=(--no-staticx)
    # A private mount namespace: the bind mounts vanish with it, even on failure.
    unshare --mount --propagation private -- /bin/sh -ec '
        root="$1"; repo="$2"; shift 2
        mount --bind "$repo" "$root/src"
        mount -t proc proc "$root/proc"
        mount --rbind /dev "$root/dev"
        mount -t tmpfs tmpfs "$root/tmp"
        exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            HOME=/root LC_ALL=C.UTF-8 TZ=UTC SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" \
            PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 \
            ${PIP_INDEX_URL:+PIP_INDEX_URL=$PIP_INDEX_URL} \
            OCPP_PROBE_COMPRESS="${OCPP_PROBE_COMPRESS:-0}" \
            /bin/bash /src/build/build.sh "$@"
    ' sh "$root" "$repo" "${flags[@]}"
    echo "build.sh: $arch built in $((SECONDS - started)) s (rootfs included)" >&2
    exit 0
fi

# ---- native build -----------------------------------------------------------
started=$SECONDS
work="$repo/build/_work/$arch"
venv="$work/venv"
mkdir -p "$work" "$repo/dist"

"$python" - <<'PY'
import sys
if sys.version_info[:2] < (3, 9):
    sys.exit("build.sh: Python >= 3.9 needed, this is %s" % sys.version.split()[0])
PY

# Reuse the venv while the pinned inputs and the interpreter are unchanged.
stamp="$(cat "$here/requirements-build.txt" "$python" 2>/dev/null | sha256sum | cut -c1-16)"
if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    # staticx builds its bootloader with musl-gcc when no wheel fits (arm64, armv7);
    # PyInstaller builds its bootloader from the sdist on armv7 (no wheel there).
    BOOTLOADER_CC=musl-gcc "$venv/bin/pip" install --quiet --require-hashes --no-deps \
        -r "$here/requirements-build.txt"
    echo "$stamp" > "$venv/.stamp"
fi
echo "build.sh: build venv ready after $((SECONDS - started)) s" >&2
if [ "$staticx" = 1 ]; then
    # staticx's loader, built from its sdist with our patch (build/staticx/README.md).
    bash "$here/staticx/build_loader.sh" "$venv/bin/pip" "$work/sx-loader"
    echo "build.sh: patched staticx loader ready after $((SECONDS - started)) s" >&2
fi

rm -rf "$work/pyi"
# With staticx: a one-folder build, which staticx packs as a tree (one unpack per
# run instead of two; see docs/binaries.md). Without: the one-file build.
OCPP_PROBE_ONEDIR="$staticx" OCPP_PROBE_NAME=ocpp-probe "$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --distpath "$work/pyi/dist" --workpath "$work/pyi/work" "$here/ocpp-probe.spec"
plain="$work/pyi/dist/ocpp-probe"
out="$repo/dist/ocpp-probe-linux-$arch"

if [ "$staticx" = 1 ]; then
    # staticx bundles the builder's glibc and dynamic loader, so the binary runs
    # on any Linux of this CPU (no glibc needed). No compression: xz costs ~0.4 s
    # at every start (measured), see docs/binaries.md.
    OCPP_PROBE_SX_BOOTLOADER="$work/sx-loader/bootloader" PATH="$venv/bin:$PATH" \
        "$venv/bin/python" "$here/staticx_reproducible.py" --onedir "$plain" "$out.tmp"
else
    cp "$plain" "$out.tmp"
fi
chmod 0755 "$out.tmp"
mv -f "$out.tmp" "$out"

(cd "$repo/dist" && sha256sum ocpp-probe-linux-* | grep -v '\.tmp$' > SHA256SUMS)
size=$(stat -c %s "$out")
echo "build.sh: $out ($size bytes) built in $((SECONDS - started)) s" >&2
grep " ocpp-probe-linux-$arch\$" "$repo/dist/SHA256SUMS"
