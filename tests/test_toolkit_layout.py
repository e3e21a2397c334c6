"""The test suite's own shape: helpers come from tests/support/, servers from tests/peers/.

Each conftest.py (tests/ and tests/binary/) holds fixtures and hooks only, so no test
imports from it, and no test imports from another test module (a helper two modules
share belongs in support/). tests/binary/ is scanned like the rest.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _suite_files() -> list[Path]:
    return sorted(
        path for path in TESTS.rglob("*.py")
        if not {"node_modules", ".arthexis-venv"} & set(path.relative_to(TESTS).parts)
    )


def _imported_modules(path: Path) -> list[str]:
    """Modules a file imports, relative ones resolved to the part after the leading dots."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module is None:
            found.extend(alias.name for alias in node.names)  # from . import conftest
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.append(node.module.split(".")[-1] if node.level else node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


def test_the_scan_sees_the_suite() -> None:
    names = {path.name for path in _suite_files()}
    assert {"conftest.py", "test_hostile_matrix.py", "runs.py", "scenario_server.py"} <= names
    assert {"test_every_arch.py", "debroot.py", "binaries.py", "loopback.py"} <= names
    assert TESTS / "binary" / "conftest.py" in _suite_files()


def test_nothing_imports_helpers_from_conftest_or_a_test_module() -> None:
    offenders = {
        f"{path.relative_to(TESTS)} imports {module}"
        for path in _suite_files()
        for module in _imported_modules(path)
        if module.split(".")[-1] == "conftest" or module.split(".")[-1].startswith("test_")
    }
    assert offenders == set()


def test_every_conftest_is_checked() -> None:
    assert sorted(path for path in _suite_files() if path.name == "conftest.py") == sorted(CONFTESTS)


CONFTESTS = [TESTS / "conftest.py", TESTS / "binary" / "conftest.py"]


@pytest.mark.parametrize("conftest", CONFTESTS, ids=lambda path: str(path.relative_to(TESTS)))
def test_conftest_defines_fixtures_only(conftest: Path) -> None:
    name = conftest.relative_to(TESTS)
    tree = ast.parse(conftest.read_text(encoding="utf-8"))
    definitions = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    assert definitions, f"{name} defines the shared fixtures"
    for node in definitions:
        assert isinstance(node, ast.FunctionDef), f"class {node.name} in {name}: move it to tests/support/"
        decorators = [ast.unparse(decorator) for decorator in node.decorator_list]
        is_hook = node.name.startswith("pytest_")
        assert is_hook or any(d.startswith("pytest.fixture") for d in decorators), (
            f"{node.name} in {name} is neither a fixture nor a hook: move it to tests/support/"
        )
