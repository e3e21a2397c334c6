"""Fixtures for testing the frozen single-file binaries in dist/.

Which architectures are tested is chosen with ``--binary-arch`` (comma list, or
``all``). Default: all three when CI is set, else only this machine's own.
In CI a missing binary, a missing QEMU or a missing root file system FAILS the
test (never skips); outside CI the amd64 binary is built on demand with
build/build.sh. Binaries are looked up in $OCPP_PROBE_DIST (default dist/).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme

from .peers import DemoCsms

REPO = Path(__file__).resolve().parents[2]
ALL_ARCHES = ("amd64", "arm64", "armv7")
QEMU_BINFMT = {"arm64": "qemu-aarch64", "armv7": "qemu-arm"}
IN_CI = bool(os.environ.get("CI"))
TMPFS_MAGIC = 0x01021994


def native_arch() -> str:
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armv7"}.get(platform.machine(), "?")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--binary-arch",
        default=None,
        help="architectures of dist/ binaries to test: comma list of amd64,arm64,armv7 or 'all' "
        "(default: all when CI is set, else the native one)",
    )


def selected_arches(config: pytest.Config) -> list[str]:
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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "arch" in metafunc.fixturenames:
        metafunc.parametrize("arch", selected_arches(metafunc.config), scope="session")


AMD64_ONLY_FIXTURES = {"amd64_binary", "amd64_runner"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of the amd64 binary alone (end-to-end against source, bullseye, glibc) are
    deselected, visibly, when --binary-arch leaves amd64 out (e.g. on an arm64 runner)."""
    if "amd64" in selected_arches(config):
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        (drop if names & AMD64_ONLY_FIXTURES else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


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


@pytest.fixture(scope="session")
def binary(arch: str) -> Path:
    return require_binary(arch)


@pytest.fixture(scope="session")
def amd64_binary() -> Path:
    if native_arch() != "amd64":
        pytest.fail("the amd64 binary tests need an x86-64 machine")
    return require_binary("amd64")


@dataclass
class Run:
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
    ) -> Run:
        tmpdir = self.new_tmpdir()
        proc = subprocess.run(
            [str(self.path), *args],
            env=self.env(tmpdir, env),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd or self.base,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr, self.leftovers(tmpdir))

    def start(self, args: Sequence[str], env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
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


@pytest.fixture
def runner(arch: str, binary: Path, tmp_path: Path) -> BinaryRunner:
    return BinaryRunner(arch, binary, tmp_path)


@pytest.fixture
def amd64_runner(amd64_binary: Path, tmp_path: Path) -> BinaryRunner:
    return BinaryRunner("amd64", amd64_binary, tmp_path)


@pytest.fixture
def demo_csms() -> Iterator[DemoCsms]:
    with DemoCsms() as csms:
        yield csms


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "test-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="session")
def server_context(ca: trustme.CA):  # type: ignore[no-untyped-def]
    import ssl

    cert = ca.issue_cert("localhost", "127.0.0.1")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    return context


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.02) -> bool:  # type: ignore[no-untyped-def]
    """Poll until predicate() is true (a hang guard, not a performance assertion)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def send_signal(proc: subprocess.Popen, sig: int, group: bool) -> None:  # type: ignore[type-arg]
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)


DEB_ARCH = {"amd64": "amd64", "arm64": "arm64", "armv7": "armhf"}


@pytest.fixture(scope="session")
def debs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The .deb of each architecture under test, built by build/deb.sh from dist/."""
    out = tmp_path_factory.mktemp("debs")
    made: dict[str, Path] = {}
    for arch in selected_arches(request.config):
        require_binary(arch)
        subprocess.run(
            ["bash", str(REPO / "build" / "deb.sh"), "--out", str(out), arch],
            check=True,
            env={**os.environ, "PYTHON": sys.executable},
        )
        (made[arch],) = out.glob(f"ocpp-probe_*_{DEB_ARCH[arch]}.deb")
    return made


__all__ = [
    "REPO",
    "BinaryRunner",
    "Run",
    "is_tmpfs",
    "native_arch",
    "send_signal",
    "signal",
    "wait_for",
]
