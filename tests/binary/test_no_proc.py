"""The binary without /proc (a chroot, a minimal sandbox): it finds its own file
through AT_EXECFN or argv[0] and PATH (build/staticx/guard.c). Where nothing names
its file it stops with one UNKNOWN line, exit 3, and leaves nothing behind.

Each root holds only the binary and an empty /tmp: no /proc, no libc, no shell.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..support.binaries import BinaryRunner


@pytest.fixture
def root(binary: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    (root / "tmp").mkdir()
    shutil.copy(binary, root / "bin" / "ocpp-probe")
    assert not (root / "proc").exists()
    return root


def chrooted(root: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (Python, on the host interpreter) chrooted into ``root``: it may
    only exec the binary, since the root holds nothing else."""
    return subprocess.run(
        [sys.executable, "-c", script, str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )


EXEC_BY_PATH = """
import os, sys
root, argv0, *args = sys.argv[1:]
os.chroot(root)
os.chdir("/tmp")
os.execve("/bin/ocpp-probe", [argv0, *args], {"TMPDIR": "/tmp", "PATH": "/bin"})
"""

EXEC_BY_FD = """
import os, sys
root, *args = sys.argv[1:]
fd = os.open(os.path.join(root, "bin/ocpp-probe"), os.O_RDONLY)
os.chroot(root)
os.chdir("/")
# fexecve: the kernel names the program /dev/fd/N, which does not exist here.
os.execve(fd, ["ocpp-probe", *args], {"TMPDIR": "/tmp", "PATH": "/nowhere"})
"""


@pytest.mark.parametrize("argv0", ["/bin/ocpp-probe", "ocpp-probe"], ids=["by-path", "bare-name"])
def test_demo_without_proc(root: Path, argv0: str) -> None:
    r = chrooted(root, EXEC_BY_PATH, argv0, "--demo")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("OCPP OK - ocpp1.6 BootNotification Accepted, Heartbeat RTT ")
    assert list((root / "tmp").iterdir()) == []


def test_stale_bundle_swept_without_proc(root: Path) -> None:
    stale = root / "tmp" / "staticx-locked-Stale1"
    (stale / "sub").mkdir(parents=True)
    (stale / "sub" / "libpython.so").write_bytes(b"x" * 4096)
    r = chrooted(root, EXEC_BY_PATH, "/bin/ocpp-probe", "--version")
    assert r.returncode == 0, r.stdout + r.stderr
    assert list((root / "tmp").iterdir()) == []


@pytest.fixture
def amd64_root(amd64_binary: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    (root / "tmp").mkdir()
    shutil.copy(amd64_binary, root / "bin" / "ocpp-probe")
    return root


def test_unknown_when_nothing_names_the_binary(amd64_root: Path) -> None:
    """amd64 only: under QEMU (binfmt_misc without the O flag) the emulator itself has
    to open /dev/fd/N after an fexecve, which cannot exist in a root without /proc,
    so the arm binaries never start there and this ending cannot be reached."""
    root = amd64_root
    r = chrooted(root, EXEC_BY_FD, "--demo")
    assert r.returncode == 3, r.stdout + r.stderr
    assert r.stdout.count("\n") == 1
    assert r.stdout.startswith("OCPP UNKNOWN - ocpp-probe could not start: cannot open its own file")
    assert "mount /proc or start it by its path" in r.stdout
    assert list((root / "tmp").iterdir()) == []


def test_unknown_when_tmpdir_unusable(runner: BinaryRunner, tmp_path: Path) -> None:
    """A loader failure (here: TMPDIR is a file) is the probe's UNKNOWN, not a CRITICAL."""
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    proc = subprocess.run(
        [str(runner.path), "--version"],
        env={**runner.env(tmp_path, None), "TMPDIR": str(not_a_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3
    assert proc.stdout == (
        f"OCPP UNKNOWN - ocpp-probe could not start: Failed to create temporary directory in "
        f"{not_a_dir}: Not a directory\n"
    )


def test_unknown_and_nothing_left_when_tmpdir_fills_up(runner: BinaryRunner, tmp_path: Path) -> None:
    """The loader fails half-way through unpacking (a 4 MB tmpfs, for about 20 MB):
    one UNKNOWN line, exit 3, and what it had written is gone."""
    full = tmp_path / "full"
    full.mkdir()
    script = 'mount -t tmpfs -o size=4m tmpfs "$1"; rc=0; "$2" --version || rc=$?; echo "LEFT:$(ls -A "$1")" >&2; exit $rc'
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh",
         str(full), str(runner.path)],
        env={**runner.env(full, None), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert proc.stdout.startswith("OCPP UNKNOWN - ocpp-probe could not start: ")
    assert "No space left on device" in proc.stdout
    assert proc.stdout.count("\n") == 1
    assert "LEFT:\n" in proc.stderr
