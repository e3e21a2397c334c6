#!/usr/bin/env bash
# Build staticx's bootloader (the loader at the front of every ocpp-probe binary)
# from staticx's pinned sdist, with build/staticx/loader.patch applied and
# build/staticx/guard.c added. Why: build/staticx/README.md.
#
#   build/staticx/build_loader.sh PIP OUTDIR     -> OUTDIR/bootloader
#
# PIP is the build venv's pip (the sdist is fetched with --require-hashes against
# build/requirements-build.txt). Static, with musl-gcc (as staticx's own wheels);
# rebuilt only when an input changes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pip="$1"
out="$2"
python="$(dirname "$pip")/python"
req="$(sed -n '/^staticx==/,/[^\\]$/p' "$here/../requirements-build.txt")"
stamp="$( (cat "$here/loader.patch" "$here/guard.c" "$here/guard.h" "$here/apply_patch.py" "$0"; \
    echo "$req"; uname -m) | sha256sum | cut -c1-16)"
if [ -x "$out/bootloader" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
    exit 0
fi

rm -rf "$out"
mkdir -p "$out/sdist"
echo "$req" > "$out/requirements.txt"
"$pip" download --quiet --no-deps --no-binary staticx --require-hashes \
    -r "$out/requirements.txt" -d "$out/sdist"
tar xzf "$out"/sdist/staticx-*.tar.gz -C "$out"
src="$(echo "$out"/staticx-*/)"
"$python" "$here/apply_patch.py" "$here/loader.patch" "$src" >&2
cp "$here/guard.c" "$here/guard.h" "$src/bootloader/"

case "$(uname -m)" in
    x86_64|i?86) bcj=XZ_DEC_X86 ;;
    arm*) bcj=XZ_DEC_ARM ;;
    *) bcj=XZ_DEC_NONE ;;   # no BCJ filter: only matters for compressed archives (never made here)
esac
cc=musl-gcc
command -v "$cc" >/dev/null || { echo "build_loader: musl-gcc missing (Debian musl-tools)" >&2; exit 1; }
version="$(sed -n 's/^staticx==\([^ ]*\).*/\1/p' <<<"$req")"
(
    cd "$src"
    # The loader's own failures are the probe's: one UNKNOWN line on stdout, exit 3.
    "$cc" -std=gnu99 -Os -static -s -Wall -Werror -Wmissing-prototypes -Wstrict-prototypes \
        -DNDEBUG -D"$bcj" -DSTATICX_VERSION="\"$version+ocpp-probe\"" -DCOMPILER_PATH="\"$cc\"" \
        -DSX_FAIL_PREFIX='"OCPP UNKNOWN - ocpp-probe could not start: "' \
        -DSX_FAIL_STATUS=3 -DSX_FAIL_TO_STDOUT=1 \
        -Ilibtar -Ilibtar/compat -Ilibxz \
        bootloader/{error,elfutil,extract,guard,main,mmap,util}.c \
        libtar/{block,decode,extract,handle,output,util}.c libtar/compat/{strlcpy,strmode}.c \
        libxz/{xz_crc32,xz_dec_lzma2,xz_dec_stream,xz_dec_bcj}.c \
        -o "$out/bootloader"
)
echo "$stamp" > "$out/.stamp"
echo "build_loader: $out/bootloader (staticx $version, patched)" >&2
