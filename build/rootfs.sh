#!/usr/bin/env bash
# Create (or reuse) a Debian root file system for building or testing ocpp-probe
# binaries, of any CPU architecture, using debootstrap and QEMU user emulation.
#
#   build/rootfs.sh build ARCH [DIR]   bookworm root with python3 + build tools (ARCH: amd64|arm64|armv7)
#   build/rootfs.sh test-bullseye [DIR] bullseye amd64 root WITHOUT python3 (compatibility tests)
#   build/rootfs.sh deb-test SUITE ARCH [DIR]  pristine minimal root (minbase + systemd, no python3)
#                                      the .deb tests install into; they never change it, they
#                                      work on an overlay copy of it (tests/packages/)
#
# Prints the root's path on its last line of stdout. A root that finished
# before (marker file .ocpp-probe-rootfs-ok) is reused; set ROOTFS_FRESH=1 to
# rebuild it. Needs root, debootstrap, qemu-user-static and binfmt-support.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${OCPP_PROBE_CACHE:-$here/cache}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

log() { echo "rootfs: $*" >&2; }

debian_arch() {
    case "$1" in
        amd64|x86_64) echo amd64 ;;
        arm64|aarch64) echo arm64 ;;
        armv7|armhf|armv7l) echo armhf ;;
        *) echo "unknown architecture: $1" >&2; return 2 ;;
    esac
}

qemu_name() {
    case "$1" in
        arm64) echo aarch64 ;;
        armhf) echo arm ;;
    esac
}

# Make sure binfmt_misc knows the QEMU interpreters (with the F flag, so a
# chroot needs no copy of qemu inside it).
ensure_binfmt() {
    local darch="$1" q
    [ "$darch" = "$(dpkg --print-architecture)" ] && return 0
    q="$(qemu_name "$darch")"
    if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    fi
    if [ ! -e "/proc/sys/fs/binfmt_misc/qemu-$q" ]; then
        update-binfmts --enable "qemu-$q" >/dev/null 2>&1 || update-binfmts --enable >/dev/null 2>&1 || true
    fi
    if [ ! -e "/proc/sys/fs/binfmt_misc/qemu-$q" ]; then
        echo "binfmt_misc has no qemu-$q entry: install qemu-user-static and binfmt-support" >&2
        return 1
    fi
}

# Files a chroot needs from the host for pip and name resolution to work.
copy_host_settings() {
    local root="$1"
    cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
    if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
        mkdir -p "$root/etc/ssl/certs"
        cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    fi
    if [ -f /etc/pip.conf ]; then
        cp -L /etc/pip.conf "$root/etc/pip.conf"
    fi
}

make_root() {
    local suite="$1" darch="$2" dir="$3" include="$4" started=$SECONDS
    local recipe="$suite $darch $include" recipe_file="$dir/.ocpp-probe-rootfs-recipe"
    # A cached root made from another recipe (a package added to the list) is stale.
    # Roots cached before the recipe was recorded are taken as they are, once.
    if [ -e "$dir/.ocpp-probe-rootfs-ok" ] && [ -e "$recipe_file" ] \
        && [ "$(cat "$recipe_file")" != "$recipe" ]; then
        log "$dir was made from another recipe; making it again"
        rm -f "$dir/.ocpp-probe-rootfs-ok"
    fi
    if [ -e "$dir/.ocpp-probe-rootfs-ok" ] && [ "${ROOTFS_FRESH:-0}" != 1 ]; then
        [ -e "$recipe_file" ] || echo "$recipe" > "$recipe_file"
        log "reusing $dir"
        copy_host_settings "$dir"
        echo "$dir"
        return 0
    fi
    ensure_binfmt "$darch"
    rm -rf "$dir"
    mkdir -p "$(dirname "$dir")"
    log "debootstrap $suite/$darch into $dir"
    debootstrap --variant=minbase --arch="$darch" --include="$include" \
        "$suite" "$dir" "$mirror" >&2
    copy_host_settings "$dir"
    rm -rf "$dir/var/cache/apt/archives/"*.deb
    echo "$suite $darch $((SECONDS - started))s" > "$dir/.ocpp-probe-rootfs-ok"
    echo "$recipe" > "$recipe_file"
    log "$suite/$darch ready in $((SECONDS - started)) s"
    echo "$dir"
}

kind="${1:-}"
case "$kind" in
    build)
        darch="$(debian_arch "${2:?usage: rootfs.sh build ARCH [DIR]}")"
        dir="${3:-$cache/rootfs-bookworm-$darch}"
        make_root bookworm "$darch" "$dir" \
            python3,python3-venv,python3-dev,libpython3.11,binutils,gcc,libc6-dev,zlib1g-dev,musl-tools,scons,patchelf,ca-certificates
        ;;
    test-bullseye)
        dir="${2:-$cache/rootfs-bullseye-amd64}"
        make_root bullseye amd64 "$dir" ca-certificates
        ;;
    deb-test)
        suite="${2:?usage: rootfs.sh deb-test SUITE ARCH [DIR]}"
        darch="$(debian_arch "${3:?usage: rootfs.sh deb-test SUITE ARCH [DIR]}")"
        dir="${4:-$cache/rootfs-deb-test-$suite-$darch}"
        # systemd is there because a Pi or server has it: its systemd-analyze
        # verifies the installed units with that release's systemd.
        make_root "$suite" "$darch" "$dir" systemd
        ;;
    *)
        sed -n '2,14p' "$0" >&2
        exit 2
        ;;
esac
