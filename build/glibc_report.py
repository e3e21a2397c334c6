"""Report which glibc symbol versions the files inside an ocpp-probe binary need.

    build/_work/amd64/venv/bin/python build/glibc_report.py dist/ocpp-probe-linux-amd64 [--json]

Run it with the build venv's Python (it needs staticx and PyInstaller to unpack
the binary) and with binutils' objdump on PATH (any architecture's ELF files:
objdump reads the version tables of foreign ELF files too).

It opens the staticx layer (the glibc and loader it carries), then the PyInstaller
archive inside it (libpython, OpenSSL, extension modules), and prints for each ELF
file the highest GLIBC_x.y version it references. The maximum over the PyInstaller
part is the glibc a binary without staticx would need; the staticx layer carries its
own glibc, so the shipped binary needs none from the host.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile

VERSION_RE = re.compile(r"\bGLIBC_(\d+)\.(\d+)(?:\.(\d+))?\b")

Version = tuple[int, ...]


def needed_versions(path: str) -> list[Version]:
    """GLIBC_* versions named in the file's version references (what it needs)."""
    out = subprocess.run(
        ["objdump", "-p", path], capture_output=True, text=True, check=False
    ).stdout
    if "Version References:" not in out:
        return []
    refs = out.split("Version References:", 1)[1]
    return [tuple(int(x) for x in m.groups() if x is not None) for m in VERSION_RE.finditer(refs)]


def _key(label: str) -> Version:
    m = VERSION_RE.search(label)
    return tuple(int(x) for x in m.groups() if x is not None) if m else (0,)


def is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def fmt(v: Version | None) -> str:
    return "none" if v is None else "GLIBC_" + ".".join(str(x) for x in v)


def extract_staticx(binary: str, into: str) -> bool:
    """Unpack the staticx archive section (read with pyelftools, so that foreign
    architectures work too, unlike staticx's own objcopy-based sx-extract)."""
    import io
    import tarfile

    from elftools.elf.elffile import ELFFile
    from staticx.constants import ARCHIVE_SECTION

    with open(binary, "rb") as f:
        section = ELFFile(f).get_section_by_name(ARCHIVE_SECTION)
        if section is None:
            return False
        data = section.data()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        tar.extractall(into)
    return True


def unpack(binary: str, into: str) -> tuple[list[str], list[str], str | None]:
    """Returns (staticx layer files, PyInstaller archive files, bundled libc version)."""
    sx_dir = os.path.join(into, "staticx")
    os.mkdir(sx_dir)
    sx_files: list[str] = []
    prog = binary
    libc_version = None
    if extract_staticx(binary, sx_dir):
        for name in sorted(os.listdir(sx_dir)):
            path = os.path.join(sx_dir, name)
            if os.path.islink(path) or not is_elf(path):
                continue
            sx_files.append(path)
        prog = os.path.realpath(os.path.join(sx_dir, ".staticx.prog"))
        libc = os.path.join(sx_dir, "libc.so.6")
        if os.path.exists(libc):
            out = subprocess.run(["objdump", "-p", libc], capture_output=True, text=True).stdout
            defined = out.split("Version definitions:", 1)[-1].split("Version References:", 1)[0]
            versions = [
                tuple(int(x) for x in m.groups() if x) for m in VERSION_RE.finditer(defined)
            ]
            libc_version = fmt(max(versions)) if versions else None
        sx_files = [f for f in sx_files if os.path.realpath(f) != prog]

    from PyInstaller.archive.readers import CArchiveReader

    pyi_dir = os.path.join(into, "pyinstaller")
    os.mkdir(pyi_dir)
    pyi_files = [prog]  # the bootloader itself
    archive = CArchiveReader(prog)
    for name, entry in archive.toc.items():
        typecode = entry[-1]
        if typecode not in ("b", "e", "x", "n"):
            continue
        data = archive.extract(name)
        if data is None or data[:4] != b"\x7fELF":
            continue
        path = os.path.join(pyi_dir, name.replace("/", "__"))
        with open(path, "wb") as f:
            f.write(data)
        pyi_files.append(path)
    return sx_files, pyi_files, libc_version


def report(binary: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="glibc-report-") as tmp:
        sx_files, pyi_files, libc_version = unpack(binary, tmp)
        per_file: dict[str, str] = {}
        pyi_max: Version | None = None
        for path in pyi_files:
            versions = needed_versions(path)
            top = max(versions) if versions else None
            label = (
                "bootloader" if path == pyi_files[0] else os.path.basename(path).replace("__", "/")
            )
            per_file[label] = fmt(top)
            if top is not None and (pyi_max is None or top > pyi_max):
                pyi_max = top
        sx_max: Version | None = None
        for path in sx_files:
            versions = needed_versions(path)
            top = max(versions) if versions else None
            if top is not None and (sx_max is None or top > sx_max):
                sx_max = top
        return {
            "binary": os.path.basename(binary),
            "staticx_wrapped": bool(sx_files),
            "bundled_glibc": libc_version,
            "max_glibc_needed_by_bundled_files": fmt(pyi_max),
            "max_glibc_needed_by_staticx_layer": fmt(sx_max),
            "per_file": dict(sorted(per_file.items(), key=lambda kv: _key(kv[1]), reverse=True)),
        }


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    doc = report(argv[0])
    if "--json" in argv:
        print(json.dumps(doc, indent=2))
        return 0
    print(f"{doc['binary']}: staticx={doc['staticx_wrapped']} bundled glibc={doc['bundled_glibc']}")
    print(
        f"  highest GLIBC symbol needed by the bundled files: {doc['max_glibc_needed_by_bundled_files']}"
    )
    for name, version in list(doc["per_file"].items())[:8]:  # type: ignore[union-attr]
        print(f"    {version:12} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
