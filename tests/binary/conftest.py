"""Fixtures and hooks for testing the frozen single-file binaries in dist/.

Which architectures are tested is chosen with ``--binary-arch`` (comma list, or
``all``). Default: all three when CI is set, else only this machine's own.
In CI a missing binary, a missing QEMU or a missing root file system FAILS the
test (never skips); outside CI the amd64 binary is built on demand with
build/build.sh. Binaries are looked up in $OCPP_PROBE_DIST (default dist/).
The helpers live in tests/support/binaries.py; TLS comes from the session ``pki``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocpp_probe.demo import DemoCsms

from ..support.binaries import DEB_ARCH, REPO, BinaryRunner, native_arch, require_binary, selected_arches

AMD64_ONLY_FIXTURES = {"amd64_binary", "amd64_runner"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--binary-arch",
        default=None,
        help="architectures of dist/ binaries to test: comma list of amd64,arm64,armv7 or 'all' "
        "(default: all when CI is set, else the native one)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "arch" in metafunc.fixturenames:
        metafunc.parametrize("arch", selected_arches(metafunc.config), scope="session")


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


@pytest.fixture(scope="session")
def binary(arch: str) -> Path:
    return require_binary(arch)


@pytest.fixture(scope="session")
def amd64_binary() -> Path:
    if native_arch() != "amd64":
        pytest.fail("the amd64 binary tests need an x86-64 machine")
    return require_binary("amd64")


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
