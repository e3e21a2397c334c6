"""The Python package made by build/python-dist.sh: wheel and sdist, as PyPI gets them.

Installs need the package index (PyPI) for websocket-client and orjson, nothing else.
"""

from __future__ import annotations

import email.parser
import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import ocpp_probe

from ..support.binaries import IN_CI, REPO

VERSION = ocpp_probe.__version__
WHEEL = f"ocpp_probe-{VERSION}-py3-none-any.whl"
SDIST = f"ocpp_probe-{VERSION}.tar.gz"


def build_env() -> dict[str, str]:
    return {**os.environ, "PYTHON": sys.executable}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("python-dist")
    proc = subprocess.run(
        ["bash", str(REPO / "build" / "python-dist.sh"), str(out)],
        capture_output=True, text=True, env=build_env(), timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([WHEEL, SDIST])
    return out


def metadata(dist: Path) -> email.message.Message:
    with zipfile.ZipFile(dist / WHEEL) as wheel:
        text = wheel.read(f"ocpp_probe-{VERSION}.dist-info/METADATA").decode()
    return email.parser.Parser().parsestr(text)


def test_wheel_installs_only_the_package_and_its_command(dist: Path) -> None:
    """No top-level module but ocpp_probe in site-packages (probe.py is the checkout's and the
    binaries' entry point, not something to install under a name as generic as `probe`)."""
    with zipfile.ZipFile(dist / WHEEL) as wheel:
        names = wheel.namelist()
        entry_points = wheel.read(f"ocpp_probe-{VERSION}.dist-info/entry_points.txt").decode()
    assert {name.split("/")[0] for name in names} == {"ocpp_probe", f"ocpp_probe-{VERSION}.dist-info"}
    assert "[console_scripts]\nocpp-probe = ocpp_probe.cli:main\n" in entry_points


def test_twine_check_strict_passes(dist: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(dist / WHEEL), str(dist / SDIST)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_twine_check_catches_a_readme_that_does_not_render(tmp_path: Path) -> None:
    """The same check fails on a description PyPI could not render (so it looks at it)."""
    pkg = tmp_path / "bad-0.0.1"
    pkg.mkdir()
    (pkg / "PKG-INFO").write_text(
        "Metadata-Version: 2.1\nName: bad\nVersion: 0.0.1\nDescription-Content-Type: text/x-rst\n\n"
        "Title\n=\n\n.. raw:: html\n\n   <script>x</script>\n\n`broken <link\n"
    )
    with tarfile.open(tmp_path / "bad-0.0.1.tar.gz", "w:gz") as tar:
        tar.add(pkg, arcname="bad-0.0.1")
    proc = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(tmp_path / "bad-0.0.1.tar.gz")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 1
    assert "FAILED" in proc.stdout


def test_metadata_says_what_people_search_for(dist: Path) -> None:
    meta = metadata(dist)
    assert (meta["Name"], meta["Version"]) == ("ocpp-probe", VERSION)
    assert meta["Requires-Python"] == ">=3.9"
    assert meta["License-Expression"] == "MIT"
    assert meta["Description-Content-Type"] == "text/markdown"
    runtime = [r for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r]
    assert sorted(r.split(">")[0].split("<")[0] for r in runtime) == ["orjson", "websocket-client"]
    keywords = set(meta["Keywords"].split(","))
    assert {"OCPP", "EV charging", "CSMS", "Uptime Kuma", "Prometheus", "Nagios"} <= keywords
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert set(urls) == {"Homepage", "Documentation", "Changelog", "Issues"}
    classifiers = meta.get_all("Classifier") or []
    assert "Topic :: System :: Monitoring" in classifiers
    assert supported_pythons(dist) == ["3.9", "3.10", "3.11", "3.12", "3.13"]
    assert str(meta.get_payload()).startswith("# ocpp-probe\n")  # the README is the description


def supported_pythons(dist: Path) -> list[str]:
    found = [c.rsplit(" :: ", 1)[1] for c in metadata(dist).get_all("Classifier") or []]
    return [v for v in found if re.fullmatch(r"3\.\d+", v)]


def test_sdist_builds_the_same_wheel(dist: Path, tmp_path: Path) -> None:
    with tarfile.open(dist / SDIST) as tar:
        tar.extractall(tmp_path / "src", filter="data")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "out"),
         str(tmp_path / "src" / f"ocpp_probe-{VERSION}")],
        capture_output=True, text=True, env={**build_env(), "SOURCE_DATE_EPOCH": source_date_epoch()},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "out" / WHEEL).read_bytes() == (dist / WHEEL).read_bytes()


def source_date_epoch() -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), "log", "-1", "--format=%ct"], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_version_is_declared_once_and_changelog_names_it(dist: Path) -> None:
    assert 'dynamic = ["version"]' in (REPO / "pyproject.toml").read_text()
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert re.search(r"^## (\S+)", changelog, re.MULTILINE).group(1) == VERSION  # type: ignore[union-attr]


def interpreter(version: str) -> str | None:
    candidates = sorted(glob.glob(f"/root/.pyenv/versions/{version}.*/bin/python3"))
    return candidates[-1] if candidates else shutil.which(f"python{version}")


@pytest.mark.parametrize("version", ["3.9", "3.10", "3.11", "3.12", "3.13"])
def test_clean_venv_installs_the_wheel_and_the_demo_works(dist: Path, version: str, tmp_path: Path) -> None:
    """Every Python the classifiers name: a new venv, pip install the wheel, run it."""
    assert version in supported_pythons(dist)
    python = interpreter(version)
    if python is None:
        message = f"Python {version} not found (pyenv or python{version} on PATH)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    venv = tmp_path / "venv"
    # No PYTHONPATH or checkout in reach: only the wheel and the package index.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C"}
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONFIG_FILE", "PIP_FIND_LINKS"):
        if name in os.environ:
            env[name] = os.environ[name]
    subprocess.run([python, "-m", "venv", str(venv)], check=True, env=env, cwd=tmp_path)
    pip = subprocess.run(
        [str(venv / "bin/pip"), "install", "--quiet", "--disable-pip-version-check", str(dist / WHEEL)],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    version_out = subprocess.run(
        [str(venv / "bin/ocpp-probe"), "--version"], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert version_out.stdout.strip() == f"ocpp-probe {VERSION}"
    demo = subprocess.run(
        [str(venv / "bin/ocpp-probe"), "--demo"], capture_output=True, text=True, cwd=tmp_path, env=env,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert demo.stdout.startswith("OCPP OK - ocpp1.6 BootNotification Accepted, Heartbeat RTT ")
    where = subprocess.run(
        [str(venv / "bin/python"), "-c", "import ocpp_probe; print(ocpp_probe.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=True,
    ).stdout
    assert where.startswith(str(venv))  # the installed copy ran, not the checkout
