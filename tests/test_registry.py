"""The settings registry is the one list: the CLI, serve, validation and README agree with it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ocpp_probe import registry
from ocpp_probe.cli import CLI_SETTINGS, build_parser
from ocpp_probe.httpclient import PROXY_VARIABLES  # read as curl reads them; see the PROBE_PROXY row
from ocpp_probe.runner import OutputFormat
from ocpp_probe.serve.command import _parser as serve_parser
from ocpp_probe.serve.config import check_setting_names

ROOT = Path(__file__).resolve().parent.parent
TABLE_HEADER = "| variable | flag | default | meaning |"
ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]+")


def readme_rows() -> list[tuple[str, str, str]]:
    """(variable, flag, default) of every row of README's settings tables."""
    rows: list[tuple[str, str, str]] = []
    in_table = False
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line == TABLE_HEADER:
            in_table = True
            continue
        if in_table and line.startswith("|---"):
            continue
        if in_table and line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows.append((cells[0], cells[1], cells[2]))
            continue
        in_table = False
    return rows


def code(text: str | None) -> str:
    return f"`{text}`" if text else ""


def expected_row(setting: registry.Setting) -> tuple[str, str, str]:
    flag = f"serve {setting.flag}" if setting.scope == registry.SERVE and setting.flag else setting.flag
    default = code(setting.default) if setting.default is not None else setting.unset
    return code(setting.env), code(flag), default


def test_readme_tables_are_the_registry() -> None:
    rows = readme_rows()
    assert len(rows) == len(set(rows)), "a setting is listed twice"
    assert sorted(rows) == sorted(expected_row(setting) for setting in registry.SETTINGS)


def test_readme_table_parser_sees_both_tables() -> None:
    # The comparison above is only as good as the parse: both tables, every row.
    variables = {variable for variable, _, _ in readme_rows()}
    assert {"`WS_URL`", "`SSL_CERT_FILE`", "`KUMA_PUSH_URL`", "`PROBE_EVERY`", "`PROBE_LISTEN`"} <= variables


def test_every_setting_is_declared_once() -> None:
    envs = [setting.env for setting in registry.SETTINGS if setting.env]
    flags = [(setting.scope == registry.SERVE, setting.flag) for setting in registry.SETTINGS if setting.flag]
    assert len(envs) == len(set(envs)) and len(flags) == len(set(flags))
    assert all(setting.env or setting.flag for setting in registry.SETTINGS)
    assert {setting.scope for setting in registry.SETTINGS} <= {
        registry.CHECK, *registry.RUN_SCOPES, registry.SERVE, registry.PROCESS
    }
    # A number's unit appears in its error messages; a default must parse as one.
    for setting in registry.SETTINGS:
        if setting.unit and setting.default is not None:
            assert float(setting.default) > 0, setting


def test_help_shows_every_command_line_setting_with_its_variable() -> None:
    text = build_parser().format_help().replace("\n", " ")
    text = re.sub(r"\s+", " ", text)
    for setting in CLI_SETTINGS:
        assert setting.flag is not None and setting.flag in text
        assert f"[{setting.env}]" in text, setting
    assert "--format" in text and "--output" in text
    serve_text = re.sub(r"\s+", " ", serve_parser().format_help())
    for setting in registry.command_line(registry.SERVE):
        assert setting.flag is not None and setting.flag in serve_text
        assert setting.env is None or f"[{setting.env}]" in serve_text


def test_format_choices_are_the_output_formats() -> None:
    assert registry.FORMAT.choices == tuple(fmt.value for fmt in OutputFormat)


def test_serve_targets_take_exactly_the_check_settings() -> None:
    assert check_setting_names() == {
        setting.env for setting in registry.SETTINGS if setting.scope == registry.CHECK and setting.env
    }
    assert "KUMA_PUSH_URL" not in check_setting_names() and "WS_URL" in check_setting_names()


def _setting_names_in_code() -> dict[str, set[str]]:
    """Environment-style (upper-case) names the package reads or blames: ConfigError's first
    argument and the name argument of the value readers, wherever it is a literal. Lower-case
    names are keys of serve's config file (modules), not settings."""
    readers = {"parse_bool": 1, "parse_positive": 1, "_text": 1, "_readable_file": 1, "ConfigError": 0}
    found: dict[str, set[str]] = {}
    for path in (ROOT / "ocpp_probe").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if called in readers and len(node.args) > readers[called]:
                arg = node.args[readers[called]]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and ENV_NAME.fullmatch(arg.value):
                    found.setdefault(arg.value, set()).add(path.name)
            if called == "get" and node.args and isinstance(node.args[0], ast.Constant):
                value = node.args[0].value
                if isinstance(value, str) and ENV_NAME.fullmatch(value):
                    found.setdefault(value, set()).add(path.name)
    return found


def test_code_reads_no_setting_the_registry_does_not_declare() -> None:
    names = _setting_names_in_code()
    assert {"WS_URL", "PROBE_TIMEOUT", "OCPP_PASSWORD_FILE", "TLS_KEY_FILE"} <= set(names)  # the scan works
    undeclared = {name: files for name, files in names.items()
                  if name not in registry.BY_ENV and name not in PROXY_VARIABLES}
    assert undeclared == {}
