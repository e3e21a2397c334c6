"""The release workflow holds no build logic of its own: every step that makes
something calls a build/ script that .ci/run exercises; PyPI gets the package by
trusted publishing. (actionlint runs on it in test_lint_build_files.py.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from ..support.binaries import REPO

WORKFLOW = REPO / ".github" / "workflows" / "release.yml"
# Commands a step may run besides build/ scripts: installing tools, running the
# tests, and uploading what the scripts made. None of them builds anything.
ALLOWED = re.compile(
    r"^(sudo apt-get (update|install) .*"
    r"|chmod \+x dist/ocpp-probe-linux-\*"
    r"|python -m pip install -e '\.\[test\]'"
    r"|python -m venv build/_work/amd64/venv"
    r"|build/_work/amd64/venv/bin/pip install --require-hashes --no-deps -r build/requirements-build\.txt"
    r"|sudo -E env \"PATH=\$PATH\" CI=true python -m pytest -q tests/binary .*"
    r"|gh release create .*"
    r"|# shellcheck .*)$"
)
SCRIPT = re.compile(r"^(sudo (\w+=\S+ )*)?bash (build/[\w.-]+\.sh)\b")


def workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return data


def run_lines() -> list[str]:
    lines = []
    for job in workflow()["jobs"].values():
        for step in job["steps"]:
            for line in step.get("run", "").splitlines():
                if line.strip():
                    lines.append(line.strip())
    return lines


def ci_exercised_text() -> str:
    """Everything .ci/run runs: its own script, the scripts it calls, and the tests."""
    files = [REPO / ".ci" / "run", REPO / "tests" / "run.sh", REPO / "build" / "ci-binaries.sh"]
    files += sorted((REPO / "tests").rglob("*.py"))
    return "\n".join(f.read_text() for f in files)


def test_every_run_line_is_a_build_script_or_allowed_plumbing() -> None:
    lines = run_lines()
    assert lines
    stray = [line for line in lines if not SCRIPT.match(line) and not ALLOWED.match(line)]
    assert stray == []


def test_every_build_script_the_workflow_calls_is_exercised_by_ci() -> None:
    called = {m.group(3) for line in run_lines() if (m := SCRIPT.match(line))}
    assert {"build/build.sh", "build/deb.sh", "build/python-dist.sh", "build/checksums.sh"} <= called
    text = ci_exercised_text()
    untested = [script for script in called if Path(script).name not in text]
    assert untested == []


def test_pypi_is_published_by_trusted_publishing() -> None:
    jobs = workflow()["jobs"]
    pypi = jobs["pypi"]
    assert pypi["permissions"] == {"id-token": "write"}
    assert pypi["environment"]["name"] == "pypi"
    (publish,) = [s for s in pypi["steps"] if s.get("uses", "").startswith("pypa/gh-action-pypi-publish@")]
    assert publish["with"] == {"packages-dir": "dist/python/"}  # no password, no token
    assert "secrets." not in WORKFLOW.read_text()
    assert workflow()["permissions"] == {"contents": "read"}


def test_release_attaches_checksums_of_every_file(tmp_path: Path) -> None:
    """build/checksums.sh, as the release job runs it, over stand-in release files."""
    for name, body in [("ocpp-probe-linux-amd64", b"a"), ("ocpp-probe_0.1.0-1_armhf.deb", b"b"),
                       ("ocpp_probe-0.1.0-py3-none-any.whl", b"c"), ("ocpp_probe-0.1.0.tar.gz", b"d")]:
        (tmp_path / name).write_bytes(body)
    subprocess.run(["bash", str(REPO / "build" / "checksums.sh"), str(tmp_path)], check=True, capture_output=True)
    sums = (tmp_path / "SHA256SUMS").read_text().splitlines()
    assert [line.split("  ")[1] for line in sums] == sorted(p.name for p in tmp_path.iterdir() if p.name != "SHA256SUMS")
    check = subprocess.run(["sha256sum", "--check", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.count(": OK") == 4
    (tmp_path / "ocpp-probe-linux-amd64").write_bytes(b"tampered")
    check = subprocess.run(["sha256sum", "--check", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 1 and "ocpp-probe-linux-amd64: FAILED" in check.stdout


def test_checksums_refuses_an_empty_directory(tmp_path: Path) -> None:
    proc = subprocess.run(["bash", str(REPO / "build" / "checksums.sh"), str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 1 and "no files" in proc.stderr
    assert not (tmp_path / "SHA256SUMS").exists()
