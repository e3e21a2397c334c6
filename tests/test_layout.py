"""The package's shape: no import cycle, every import goes down the check's order, and
pyproject lists every package (discovery is explicit, see pyproject.toml)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ocpp_probe"

# Bottom to top: a module may import only modules listed before it. This is the check's
# pipeline (settings -> connection -> OCPP exchange -> CheckResult -> reporters -> run ->
# command line) with the small shared modules underneath. A new module goes in at its layer.
ORDER = (
    "ocpp_probe",  # the package itself: __version__ only
    "ocpp_probe.lazy_imports",
    "ocpp_probe.records",
    "ocpp_probe.failures",
    "ocpp_probe.registry",
    "ocpp_probe.printable",
    "ocpp_probe.deadline",
    "ocpp_probe.signals",
    "ocpp_probe.usage",
    "ocpp_probe.versions",
    "ocpp_probe.trace",
    "ocpp_probe.result",
    "ocpp_probe.redact",
    "ocpp_probe.rpc",
    "ocpp_probe.messages",
    "ocpp_probe.upgrade",
    "ocpp_probe.sockets",
    "ocpp_probe.tls_socket",
    "ocpp_probe.netio",
    "ocpp_probe.httpclient",
    "ocpp_probe.settings",
    "ocpp_probe.tls",
    "ocpp_probe.connection",
    "ocpp_probe.wscodec",
    "ocpp_probe.channel",
    "ocpp_probe.exchange",
    "ocpp_probe.session",
    "ocpp_probe.check",
    "ocpp_probe.reporters",
    "ocpp_probe.reporters.text",
    "ocpp_probe.reporters.json_report",
    "ocpp_probe.reporters.prometheus",
    "ocpp_probe.push_target",
    "ocpp_probe.push",
    "ocpp_probe.runner",
    "ocpp_probe.loop",
    "ocpp_probe.station_link",
    "ocpp_probe.station",
    "ocpp_probe.station_loop",
    "ocpp_probe.demo",
    "ocpp_probe.diagnose",
    "ocpp_probe.diagnose.facts",
    "ocpp_probe.diagnose.finding",
    "ocpp_probe.diagnose.dial",
    "ocpp_probe.diagnose.tlsprobe",
    "ocpp_probe.diagnose.attempt",
    "ocpp_probe.diagnose.lint",
    "ocpp_probe.diagnose.findings_tls",
    "ocpp_probe.diagnose.findings_upgrade",
    "ocpp_probe.diagnose.findings",
    "ocpp_probe.diagnose.run",
    "ocpp_probe.diagnose.report",
    "ocpp_probe.diagnose.command",
    "ocpp_probe.serve",
    "ocpp_probe.serve.modules",
    "ocpp_probe.serve.config",
    "ocpp_probe.serve.procmetrics",
    "ocpp_probe.serve.metrics",
    "ocpp_probe.serve.history",
    "ocpp_probe.serve.service",
    "ocpp_probe.serve.exposition",
    "ocpp_probe.serve.page",
    "ocpp_probe.serve.handler",
    "ocpp_probe.serve.command",
    "ocpp_probe.cli",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports_of(name: str) -> set[str]:
    """The package modules ``name`` imports anywhere in it, function-level imports included."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "ocpp_probe":
                continue
            for alias in node.names:
                # "from . import registry" imports a module; "from .result import Step" a name.
                member = f"{source}.{alias.name}"
                found.add(member if member in MODULES else source)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "ocpp_probe")
    found.discard(name)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def test_every_module_has_a_place_in_the_order() -> None:
    missing = sorted(set(MODULES) - set(ORDER))
    assert not missing, f"add {missing} to ORDER in tests/test_layout.py, at the layer it belongs to"
    assert sorted(set(ORDER) - set(MODULES)) == []
    assert len(set(ORDER)) == len(ORDER)


def test_no_module_imports_one_above_it() -> None:
    rank = {name: index for index, name in enumerate(ORDER)}
    upward = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if target in rank and name in rank and rank[target] >= rank[name]
    )
    assert upward == []


def test_the_package_has_no_import_cycle() -> None:
    # Independent of ORDER: a depth-first search for a back edge.
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(GRAPH.get(name, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target):], target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_graph_sees_function_level_imports() -> None:
    # The scan must count lazy imports, or the cli -> serve -> cli kind of cycle hides.
    assert "ocpp_probe.demo" in GRAPH["ocpp_probe.cli"]
    assert "ocpp_probe.serve.command" in GRAPH["ocpp_probe.cli"]
    assert "ocpp_probe.registry" in GRAPH["ocpp_probe.settings"]


def test_pyproject_lists_every_package_and_nothing_else() -> None:
    # Read as text, not with tomllib, so the Python 3.9 job checks it too.
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "[tool.setuptools.packages.find]" not in text, "package discovery must stay explicit"
    listed = re.search(r"^packages = \[(.*)\]$", text, re.MULTILINE)
    assert listed is not None
    packages = sorted(name.strip().strip('"') for name in listed.group(1).split(","))
    on_disk = sorted(module_name(path.parent) for path in PACKAGE.rglob("__init__.py"))
    assert packages == on_disk
