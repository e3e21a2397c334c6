"""The frozen single-file binaries in dist/: where they are, which architectures are
tested, and running one the way a user's machine would (no Python on PATH, a clean
environment, its own TMPDIR, and a list of whatever it left behind there).

In CI a missing binary or a missing QEMU FAILS the test (never skips); outside CI the
native binary is built on demand with build/build.sh. Binaries are looked up in
$OCPP_PROBE_DIST (default dist/).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .paths import ROOT

REPO = Path(ROOT)
ALL_ARCHES = ("amd64", "arm64", "armv7")
QEMU_BINFMT = {"arm64": "qemu-aarch64", "armv7": "qemu-arm"}
DEB_ARCH = {"amd64": "amd64", "arm64": "arm64", "armv7": "armhf"}
IN_CI = bool(os.environ.get("CI"))
TMPFS_MAGIC = 0x01021994


def native_arch() -> str:
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armv7"}.get(platform.machine(), "?")


def selected_arches(config: pytest.Config) -> list[str]:
    """The architectures --binary-arch asks for (default: all in CI, else the native one)."""
    raw = config.getoption("--binary-arch")
    if raw is None:
        return list(ALL_ARCHES) if IN_CI else [native_arch()]
    if raw == "all":
        return list(ALL_ARCHES)
    arches = [a.strip() for a in raw.split(",") if a.strip()]
    unknown = [a for a in arches if a not in ALL_ARCHES]
    if unknown:
        raise pytest.UsageError(f"--binary-arch: unknown {unknown}; choose from {ALL_ARCHES}")
    return arches


def dist_dir() -> Path:
    return Path(os.environ.get("OCPP_PROBE_DIST") or REPO / "dist")


def binary_path(arch: str) -> Path:
    return dist_dir() / f"ocpp-probe-linux-{arch}"


_built: dict[str, Path] = {}


def require_binary(arch: str) -> Path:
    """The binary for ``arch``; built here only for the native arch and only outside CI."""
    path = binary_path(arch)
    if not path.is_file() and not IN_CI and arch == native_arch() and arch not in _built:
        subprocess.run(["bash", str(REPO / "build" / "build.sh")], check=True, cwd=REPO)
        _built[arch] = path
    if not path.is_file():
        pytest.fail(
            f"{path} is missing: build it with build/build.sh"
            + ("" if arch == native_arch() else f" --arch {arch}")
        )
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not executable")
    if arch != native_arch():
        entry = Path("/proc/sys/fs/binfmt_misc") / QEMU_BINFMT[arch]
        if not entry.exists():
            pytest.fail(
                f"{entry} missing: install qemu-user-static binfmt-support and mount binfmt_misc "
                "(build/rootfs.sh does both)"
            )
    return path


@dataclass
class BinaryRun:
    """One finished run of a binary: exit code, output, and the files left in its TMPDIR."""

    returncode: int
    stdout: str
    stderr: str
    leftovers: list[str]

    def json(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.stdout)
        return doc


def tmp_root_for(arch: str, base: Path) -> Path:
    """A fresh TMPDIR for one run of the binary.

    armv7 binaries run under qemu-arm on a 64-bit host, where a 32-bit guest cannot
    read ext4 directories (64-bit readdir cookies overflow the 32-bit d_off), so the
    one-file cleanup fails there. A 32-bit kernel or a 64-bit kernel serving a real
    32-bit process returns 32-bit cookies, so that failure is an artefact of the
    emulation: armv7 runs get a tmpfs TMPDIR, where the cookies are small.
    """
    if arch == "armv7":
        return Path(tempfile.mkdtemp(prefix="ocpp-probe-test.", dir="/dev/shm"))
    root = base / "tmp"
    root.mkdir()
    return root


def is_tmpfs(path: Path) -> bool:
    out = subprocess.check_output(["stat", "-f", "-c", "%t", str(path)], text=True).strip()
    return int(out, 16) == TMPFS_MAGIC


class BinaryRunner:
    """Runs a binary with no Python on PATH, a clean environment and its own TMPDIR,
    and reports whatever it left behind in that TMPDIR."""

    def __init__(self, arch: str, path: Path, base: Path) -> None:
        self.arch = arch
        self.path = path
        self.base = base
        self.empty_bin = base / "empty-bin"
        self.empty_bin.mkdir(exist_ok=True)
        self._count = 0

    def env(self, tmpdir: Path, extra: dict[str, str] | None) -> dict[str, str]:
        env = {
            "PATH": str(self.empty_bin),  # no python3 (nor anything else) to fall back on
            "HOME": str(self.base),
            "TMPDIR": str(tmpdir),
            "LANG": "C",
        }
        env.update(extra or {})
        return env

    def new_tmpdir(self) -> Path:
        self._count += 1
        sub = self.base / f"run{self._count}"
        sub.mkdir()
        tmpdir = tmp_root_for(self.arch, sub)
        if self.arch == "armv7":
            assert is_tmpfs(tmpdir), f"{tmpdir} must be on tmpfs for armv7 runs"
        return tmpdir

    def run(
        self,
        args: Sequence[str],
        env: dict[str, str] | None = None,
        timeout: float = 120,
        cwd: Path | None = None,
    ) -> BinaryRun:
        tmpdir = self.new_tmpdir()
        proc = subprocess.run(
            [str(self.path), *args],
            env=self.env(tmpdir, env),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd or self.base,
        )
        return BinaryRun(proc.returncode, proc.stdout, proc.stderr, self.leftovers(tmpdir))

    def start(
        self, args: Sequence[str], env: dict[str, str] | None = None
    ) -> tuple[subprocess.Popen[str], Path]:
        tmpdir = self.new_tmpdir()
        proc = subprocess.Popen(
            [str(self.path), *args],
            env=self.env(tmpdir, env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.base,
            start_new_session=True,  # its own process group, like a service manager's child
        )
        return proc, tmpdir

    @staticmethod
    def leftovers(tmpdir: Path) -> list[str]:
        found = sorted(str(p.relative_to(tmpdir)) for p in tmpdir.rglob("*"))
        if str(tmpdir).startswith("/dev/shm/"):
            shutil.rmtree(tmpdir, ignore_errors=True)
        return found


def poll_until(predicate: Callable[[], object], timeout: float = 60.0, interval: float = 0.02) -> bool:
    """Poll until predicate() is true; False if it never was (a hang guard, not a
    performance assertion: emulated binaries are slow, so the caller asserts on it)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())

