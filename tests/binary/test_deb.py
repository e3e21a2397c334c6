"""The Debian packages made by build/deb.sh, for every architecture under test.

Each .deb is built from its dist/ binary, checked with lintian, then installed with
dpkg -i into a fresh minimal Debian root of its architecture (bookworm; bullseye
too for amd64), arm64 and armhf under QEMU user emulation, where the probe must
run, the root's own systemd-analyze must accept the installed units, nothing may
be enabled, and remove + purge must leave only what Debian policy allows.
The units running under systemd (amd64 only) are test_deb_systemd.py.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import ocpp_probe

from ..support.binaries import DEB_ARCH, REPO, require_binary, selected_arches
from .debroot import DebRoot, pristine_root

VERSION = f"{ocpp_probe.__version__}-1"
UNITS = ("ocpp-probe@.service", "ocpp-probe-serve.service")
PACKAGE_FILES = [
    "/usr/bin/ocpp-probe",
    "/usr/share/man/man1/ocpp-probe.1.gz",
    "/lib/systemd/system/ocpp-probe@.service",
    "/lib/systemd/system/ocpp-probe-serve.service",
    "/etc/ocpp-probe/example.env",
    "/etc/ocpp-probe/serve.toml",
    "/usr/share/doc/ocpp-probe/copyright",
    "/usr/share/doc/ocpp-probe/changelog.Debian.gz",
    "/usr/share/doc/ocpp-probe/changelog.gz",
    "/usr/share/lintian/overrides/ocpp-probe",
]
CONFFILES = ["/etc/ocpp-probe/example.env", "/etc/ocpp-probe/serve.toml"]
# What dpkg itself keeps about packages it installed and purged (its database and
# log): the only traces policy allows a purged package to leave.
DPKG_STATE = re.compile(
    r"^/var/(log/dpkg\.log|lib/dpkg/(status|status-old|lock|lock-frontend|triggers/Lock|"
    r"triggers/Unincorp|available|diversions|statoverride|info/format|cmethopt))$"
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" in metafunc.fixturenames:
        targets = [
            (arch, suite)
            for arch in selected_arches(metafunc.config)
            for suite in (("bookworm", "bullseye") if arch == "amd64" else ("bookworm",))
        ]
        metafunc.parametrize("target", targets, ids=[f"{a}-{s}" for a, s in targets], scope="session")
    if "apt_target" in metafunc.fixturenames:
        metafunc.parametrize("apt_target", ["bookworm", "bullseye"])


@pytest.fixture(scope="session")
def deb(arch: str, debs: dict[str, Path]) -> Path:
    return debs[arch]


@pytest.fixture(scope="session")
def installed(target: tuple[str, str], debs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> DebRoot:
    """A fresh root of the target with the package installed by dpkg -i."""
    arch, suite = target
    root = DebRoot(pristine_root(suite, arch), tmp_path_factory.mktemp(f"root-{arch}-{suite}"))
    package = root.put(debs[arch])
    root.ok(f"dpkg -i {package}")
    return root


def test_deb_name_version_and_fields(deb: Path, arch: str) -> None:
    fields = subprocess.run(["dpkg-deb", "--field", str(deb)], capture_output=True, text=True, check=True).stdout
    assert f"Package: ocpp-probe\nVersion: {VERSION}\nArchitecture: {DEB_ARCH[arch]}\n" in fields
    assert "Depends:" not in fields.replace("Recommends:", "")  # a self-contained binary
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True).stdout
    files = {line.split()[-1].lstrip(".") for line in listing.splitlines() if not line.startswith("d")}
    assert files == set(PACKAGE_FILES)
    modes = {line.split()[-1].lstrip("."): line.split()[:2] for line in listing.splitlines()}
    assert modes["/usr/bin/ocpp-probe"] == ["-rwxr-xr-x", "root/root"]
    assert modes["/etc/ocpp-probe/serve.toml"] == ["-rw-r--r--", "root/root"]


def test_deb_carries_the_dist_binary_unchanged(deb: Path, arch: str, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "--extract", str(deb), str(tmp_path)], check=True)
    assert (tmp_path / "usr/bin/ocpp-probe").read_bytes() == require_binary(arch).read_bytes()
    conffiles = subprocess.run(
        ["dpkg-deb", "--ctrl-tarfile", str(deb)], capture_output=True, check=True
    ).stdout
    assert b"./conffiles" in conffiles


def test_deb_is_reproducible(deb: Path, arch: str, tmp_path: Path) -> None:
    """A second build of the same commit gives the same bytes (so the release's .deb is the tested one)."""
    subprocess.run(
        ["bash", str(REPO / "build" / "deb.sh"), "--out", str(tmp_path), arch],
        check=True, capture_output=True, env={**os.environ, "PYTHON": sys.executable},
    )
    assert (tmp_path / deb.name).read_bytes() == deb.read_bytes()


def lintian(deb: Path, *flags: str) -> list[str]:
    proc = subprocess.run(
        ["lintian", "--pedantic", *flags, str(deb)], capture_output=True, text=True, timeout=600
    )
    return [line for line in proc.stdout.splitlines() if line[:2] in ("E:", "W:", "I:", "P:", "X:")]


def test_lintian_reports_no_error_or_warning(deb: Path) -> None:
    tags = lintian(deb)
    assert [t for t in tags if t.startswith(("E:", "W:"))] == [], "\n".join(tags)


def test_lintian_without_the_overrides_sees_the_static_binary(deb: Path) -> None:
    """The overrides hide real findings (so lintian did look at the binary)."""
    tags = lintian(deb, "--no-override")
    assert "E: ocpp-probe: statically-linked-binary [usr/bin/ocpp-probe]" in tags
    overrides = (REPO / "build" / "deb" / "lintian-overrides").read_text()
    for line in overrides.splitlines():
        if line and not line.startswith("#"):
            tag = line.split()[1]
            assert any(f" {tag} " in t for t in tags), f"override for {tag} matches nothing"


def test_manual_page_renders_without_warnings(deb: Path, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "--extract", str(deb), str(tmp_path)], check=True)
    page = tmp_path / "usr/share/man/man1/ocpp-probe.1.gz"
    proc = subprocess.run(
        ["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", str(page)],
        capture_output=True, text=True, env={**os.environ, "MANWIDTH": "80", "LC_ALL": "C.UTF-8"},
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    text = gzip.decompress(page.read_bytes()).decode()
    from ocpp_probe.registry import SETTINGS

    for setting in SETTINGS:  # every setting, with its flag and its environment twin
        for name in (setting.flag, setting.env):
            if name is not None:
                assert name.replace("-", "\\-") in text, name


def test_installs_the_files_into_a_fresh_root(installed: DebRoot) -> None:
    assert installed.present(PACKAGE_FILES) == PACKAGE_FILES
    status = installed.ok("dpkg-query -W -f='${Status} ${Version}' ocpp-probe")
    assert status == f"install ok installed {VERSION}"
    assert installed.ok("dpkg-query --showformat='${Conffiles}' --show ocpp-probe").split()[::2] == CONFFILES


def test_version_and_demo_run_inside(installed: DebRoot) -> None:
    assert installed.ok("ocpp-probe --version").strip() == f"ocpp-probe {ocpp_probe.__version__}"
    demo = installed.sh("ocpp-probe --demo", timeout=120)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert demo.stdout.startswith("OCPP OK - ocpp1.6 BootNotification Accepted, Heartbeat RTT ")


def test_installing_enables_nothing(installed: DebRoot) -> None:
    enabled = [p for p in installed.changes() if p.startswith(("/etc/systemd", "/usr/lib/systemd/system/multi"))]
    assert enabled == []
    for unit in UNITS:
        state = installed.sh(f"systemctl is-enabled {unit.replace('@', '@x')}")
        assert state.stdout.strip() == "disabled", state.stdout + state.stderr


def verify(root: DebRoot, *units: str) -> subprocess.CompletedProcess[str]:
    # --man=no: minbase roots have no man, and the pages are checked above.
    return root.sh("systemd-analyze verify --man=no " + " ".join(units), timeout=180)


def test_systemd_analyze_verify_accepts_the_units(installed: DebRoot) -> None:
    proc = verify(installed, "ocpp-probe@prod.service", "/lib/systemd/system/ocpp-probe-serve.service")
    assert (proc.returncode, proc.stderr.strip()) == (0, ""), proc.stdout + proc.stderr


def test_systemd_analyze_verify_rejects_a_broken_unit(installed: DebRoot, tmp_path: Path) -> None:
    """The same verify sees real mistakes: a missing binary and an unknown setting."""
    bad = tmp_path / "broken.service"
    bad.write_text("[Service]\nExecStart=/usr/bin/ocpp-probe-nosuch\nRestartPreventExitStatus=banana\n")
    proc = verify(installed, installed.put(bad))
    assert proc.returncode != 0
    assert "ocpp-probe-nosuch" in proc.stderr


def test_units_are_hardened_and_keep_exit_3(deb: Path, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "--extract", str(deb), str(tmp_path)], check=True)
    for unit in UNITS:
        text = (tmp_path / "lib/systemd/system" / unit).read_text()
        settings = set(re.findall(r"^(\w+=.*)$", text, re.MULTILINE))
        assert {
            "DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
            "PrivateTmp=yes", "CapabilityBoundingSet=", "SystemCallFilter=@system-service",
            "SystemCallArchitectures=native", "Restart=on-failure", "RestartPreventExitStatus=3",
            "KillMode=mixed",
        } <= settings, unit
        assert not any(s.startswith(("User=", "ExecStartPre=", "ReadWritePaths=")) for s in settings), unit
    instance = (tmp_path / "lib/systemd/system/ocpp-probe@.service").read_text()
    assert "EnvironmentFile=/etc/ocpp-probe/%i.env\n" in instance
    assert "Environment=PROBE_EVERY=30\n" in instance  # loop mode; the env file may change it


@pytest.fixture
def fresh(target: tuple[str, str], tmp_path: Path) -> Iterator[DebRoot]:
    arch, suite = target
    yield DebRoot(pristine_root(suite, arch), tmp_path / "root")


def test_remove_then_purge_leaves_only_what_policy_allows(
    fresh: DebRoot, target: tuple[str, str], debs: dict[str, Path]
) -> None:
    package = fresh.put(debs[target[0]])
    fresh.ok(f"dpkg -i {package} && systemctl enable ocpp-probe@prod.service ocpp-probe-serve.service")
    wants = [
        "/etc/systemd/system/multi-user.target.wants/ocpp-probe@prod.service",
        "/etc/systemd/system/multi-user.target.wants/ocpp-probe-serve.service",
    ]
    assert fresh.present(wants) == wants

    fresh.ok("dpkg --remove ocpp-probe")
    # Removed: the program is gone, the configuration files stay (policy 10.7.3).
    assert fresh.present(PACKAGE_FILES) == CONFFILES
    assert fresh.ok("dpkg-query -W -f='${Status}' ocpp-probe") == "deinstall ok config-files"

    fresh.ok("dpkg --purge ocpp-probe")
    assert fresh.present([*PACKAGE_FILES, "/etc/ocpp-probe", *wants]) == []
    assert fresh.sh("dpkg-query -W ocpp-probe").returncode == 1
    left = {p for p in fresh.changes() if not DPKG_STATE.match(p)}
    # systemctl enable made multi-user.target.wants in this minimal root; the
    # purge removed the links and the directory they were the only thing in.
    assert left == set(), sorted(left)


def test_apt_install_of_the_file_as_the_readme_says(
    apt_target: str, amd64_binary: Path, debs: dict[str, Path], tmp_path: Path
) -> None:
    """`apt install ./x.deb` also pulls what the package recommends (ca-certificates, from
    the Debian mirror). In the amd64 roots only (amd64_binary: deselected with the other
    amd64-only tests when amd64 is not under test): apt's part does not depend on the CPU."""
    fresh = DebRoot(pristine_root(apt_target, "amd64"), tmp_path / "root")
    package = fresh.put(debs["amd64"])
    fresh.ok(f"apt-get install -y -q {package}", timeout=600)
    assert fresh.ok("dpkg-query -W -f='${Status}' ocpp-probe ca-certificates") == "install ok installed" * 2
    assert fresh.ok("ocpp-probe --version").strip() == f"ocpp-probe {ocpp_probe.__version__}"
