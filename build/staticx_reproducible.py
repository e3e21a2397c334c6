"""Run staticx with every archive member's mtime clamped to SOURCE_DATE_EPOCH.

    python staticx_reproducible.py [staticx arguments]          staticx on one program
    python staticx_reproducible.py --onedir DIR OUTPUT          staticx on a onedir tree

staticx writes the files it generates (its copy of the program, libnssfix, links)
into a tar archive with their build-time mtimes, which made two builds of one commit
differ in a few bytes.

--onedir wraps a PyInstaller one-folder build (DIR/NAME plus the files beside it)
instead of a one-file one: every file of the tree goes into staticx's archive under
its path relative to DIR, together with the glibc libraries that the tree's ELF files
need. At run time staticx's loader unpacks the tree once into $TMPDIR/staticx-*, and
the program finds libpython and the rest next to itself, so PyInstaller has nothing
left to unpack (no _MEI* copy, no second bootloader process). The archive is never
compressed in this mode (xz would cost ~0.4 s at every start).

With OCPP_PROBE_SX_BOOTLOADER set (build.sh always sets it), that file is the
bootloader instead of the one in staticx's wheel: see build/staticx/README.md.
"""

import os
import sys
import tarfile

epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
_gettarinfo = tarfile.TarFile.gettarinfo


def _clamped(self, *args, **kwargs):  # type: ignore[no-untyped-def]
    info = _gettarinfo(self, *args, **kwargs)
    if info is not None:
        info.mtime = min(int(info.mtime), epoch)
    return info


tarfile.TarFile.gettarinfo = _clamped  # type: ignore[method-assign]


def _use_patched_loader() -> None:
    """Make staticx put OCPP_PROBE_SX_BOOTLOADER (build/staticx/build_loader.sh: the
    bootloader built from staticx's sdist with build/staticx/loader.patch) at the
    front of the binary instead of the wheel's prebuilt one."""
    loader = os.environ.get("OCPP_PROBE_SX_BOOTLOADER")
    if not loader:
        return
    import staticx.assets

    original = staticx.assets.locate_asset

    def locate_asset(name, debug):  # type: ignore[no-untyped-def]
        if name == "bootloader" and not debug:
            return open(loader, "rb")
        return original(name, debug)

    staticx.assets.locate_asset = locate_asset


_use_patched_loader()


def wrap_onedir(tree: str, output: str) -> None:
    from staticx.api import StaticxGenerator
    from staticx.elf import get_shobj_deps, is_dynamic_elf, verify_tools

    tree = os.path.abspath(tree)
    prog = os.path.join(tree, os.path.basename(tree))
    files = []
    for top, dirs, names in os.walk(tree):
        dirs.sort()
        files += [os.path.join(top, n) for n in sorted(names) if os.path.join(top, n) != prog]
    bundled = {os.path.basename(f) for f in files}

    verify_tools()
    with StaticxGenerator(prog, compress=False) as gen:
        for path in files:
            rel = os.path.relpath(path, tree)
            if "/" not in rel and is_dynamic_elf(path) and ".so" in rel:
                # Shared libraries at the top (libpython, OpenSSL, zlib...) are added
                # as staticx libraries, so that one the bootloader also needs (zlib) is
                # stored once and staticx's RPATH finds them all.
                gen.add_library(path, exist_ok=True)
            else:
                gen.sxar.add_file(path, arcname=rel)
        # The glibc side of every ELF file in the tree (libm for libpython, ...).
        for path in files:
            if is_dynamic_elf(path):
                for dep in get_shobj_deps(path, libpath=[tree]):
                    if os.path.basename(dep) not in bundled:
                        gen.add_library(dep, exist_ok=True)
        gen.generate(output=output)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--onedir"]:
        if len(sys.argv) != 4:
            sys.exit(__doc__)
        wrap_onedir(sys.argv[2], sys.argv[3])
        sys.exit(0)
    from staticx.__main__ import main

    sys.exit(main())
