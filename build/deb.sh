#!/usr/bin/env bash
# Debian packages from the single-file binaries, with dpkg-deb alone (no packaging
# framework): dist/ocpp-probe-linux-ARCH -> dist/ocpp-probe_VERSION-REV_DEBARCH.deb
#
#   build/deb.sh                 every architecture (amd64 arm64 armv7; armv7 -> armhf)
#   build/deb.sh arm64           only that one
#   build/deb.sh --out DIR ...   write the .debs to DIR instead of dist/
#   (the binaries are taken from $OCPP_PROBE_DIST, default dist/, as the tests do)
#
# VERSION is ocpp_probe.__version__ (the one place it is declared), REV is
# DEB_REVISION (default 1). The manual page and /etc/ocpp-probe/example.env are
# generated from the command line's declaration (build/manpage.py). Files get
# SOURCE_DATE_EPOCH (the last commit) as their time, so one commit gives the same
# bytes. The tests are tests/binary/test_deb.py; the release workflow runs this.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
out="$repo/dist"
arches=()
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        amd64|arm64|armv7) arches+=("$1"); shift ;;
        *) echo "deb.sh: unknown argument $1 (architectures: amd64 arm64 armv7)" >&2; exit 2 ;;
    esac
done
[ ${#arches[@]} -gt 0 ] || arches=(amd64 arm64 armv7)

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 315532800)}"
export LC_ALL=C.UTF-8 TZ=UTC

# A Python that can import the probe (the man page is made from its parser).
venv="$repo/build/_work/deb-venv"
py="${PYTHON:-}"
if [ -z "$py" ]; then
    for candidate in "$repo/.venv/bin/python" "$venv/bin/python" python3; do
        if "$candidate" -c 'import sys, tomllib, websocket, orjson' >/dev/null 2>&1; then
            py="$candidate"; break
        fi
    done
fi
if [ -z "$py" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "websocket-client>=1.8,<2" "orjson>=3.9,<4"
    py="$venv/bin/python"
fi

# The package trees are staged in a directory of this run alone (runs may overlap).
work="$(mktemp -d "${TMPDIR:-/tmp}/ocpp-probe-deb.XXXXXX")"
trap 'rm -rf "$work"' EXIT

version="$("$py" "$here/project_meta.py" version)-${DEB_REVISION:-1}"
maintainer="$("$py" "$here/project_meta.py" maintainer)"
homepage="$("$py" "$here/project_meta.py" homepage)"

# Arch-independent files, made once.
common="$work/common"
mkdir -p "$common"
"$py" "$here/manpage.py" "$common/ocpp-probe.1" "$common/example.env"
gzip -9n "$common/ocpp-probe.1"
gzip -9nc "$repo/CHANGELOG.md" > "$common/changelog.gz"
{
    echo "ocpp-probe ($version) unstable; urgency=medium"
    echo
    echo "  * Debian package of ocpp-probe ${version%-*}: the single-file binary,"
    echo "    ocpp-probe(1), ocpp-probe@.service and ocpp-probe-serve.service."
    echo "    The changes of the program itself are in changelog.gz."
    echo
    echo " -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n > "$common/changelog.Debian.gz"

deb_arch() {
    case "$1" in amd64) echo amd64 ;; arm64) echo arm64 ;; armv7) echo armhf ;; esac
}

mkdir -p "$out"
for arch in "${arches[@]}"; do
    binary="${OCPP_PROBE_DIST:-$repo/dist}/ocpp-probe-linux-$arch"
    if [ ! -f "$binary" ]; then
        echo "deb.sh: $binary is missing: build it first (build/build.sh, build/ci-binaries.sh)" >&2
        exit 1
    fi
    darch="$(deb_arch "$arch")"
    root="$work/$darch"
    install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man1" \
        "$root/lib/systemd/system" "$root/etc/ocpp-probe" "$root/usr/share/doc/ocpp-probe" \
        "$root/usr/share/lintian/overrides"
    install -m 0755 "$binary" "$root/usr/bin/ocpp-probe"
    install -m 0644 "$common/ocpp-probe.1.gz" "$root/usr/share/man/man1/"
    install -m 0644 "$here/deb/ocpp-probe@.service" "$here/deb/ocpp-probe-serve.service" \
        "$root/lib/systemd/system/"
    install -m 0644 "$common/example.env" "$root/etc/ocpp-probe/example.env"
    install -m 0644 "$repo/examples/prometheus/serve.toml" "$root/etc/ocpp-probe/serve.toml"
    install -m 0644 "$common/changelog.gz" "$common/changelog.Debian.gz" "$root/usr/share/doc/ocpp-probe/"
    sed -e "s|@MAINTAINER@|$maintainer|" -e "s|@HOMEPAGE@|$homepage|" "$here/deb/copyright" \
        > "$root/usr/share/doc/ocpp-probe/copyright"
    chmod 0644 "$root/usr/share/doc/ocpp-probe/copyright"
    install -m 0644 "$here/deb/lintian-overrides" "$root/usr/share/lintian/overrides/ocpp-probe"
    install -m 0755 "$here/deb/postinst" "$here/deb/prerm" "$here/deb/postrm" "$root/DEBIAN/"
    printf '/etc/ocpp-probe/example.env\n/etc/ocpp-probe/serve.toml\n' > "$root/DEBIAN/conffiles"
    size=$(du -sk --apparent-size --exclude=DEBIAN "$root" | cut -f1)
    sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$darch|" -e "s|@MAINTAINER@|$maintainer|" \
        -e "s|@SIZE@|$size|" -e "s|@HOMEPAGE@|$homepage|" "$here/deb/control.in" > "$root/DEBIAN/control"
    (cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort \
        | xargs md5sum > DEBIAN/md5sums)
    chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
    find "$root" -type d -exec chmod 0755 {} +  # whatever the umask made of the parents
    find "$root" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
    deb="$out/ocpp-probe_${version}_${darch}.deb"
    dpkg-deb --root-owner-group -Zxz --build "$root" "$deb.tmp" >/dev/null
    mv -f "$deb.tmp" "$deb"
    echo "$deb"
done
