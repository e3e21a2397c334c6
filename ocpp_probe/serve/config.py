"""serve's configuration file: TOML with a [server] table, named targets and modules.

A target's keys are the same settings as the environment variables (WS_URL,
OCPP_VERSION, ...), upper or lower case, and go through the same validation
(settings.check_settings_from), so a target behaves exactly like the CLI given
that environment. A module has the same keys without WS_URL, plus allow-lists of the
URLs a scrape may bring (serve.modules). Nothing else can be probed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import registry
from ..httpclient import proxy_variables
from ..settings import CheckSettings, ConfigError, check_settings_from
from .modules import ALLOW_KEYS, Module, module_from

DEFAULT_LISTEN = registry.PROBE_LISTEN.default or ""
# Checks running at once, all targets together: bounds threads, sockets and memory.
DEFAULT_MAX_CONCURRENT = int(registry.MAX_CONCURRENT.default or 0)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ServeConfigError(Exception):
    """The config file cannot be used; the message names the file, table and key."""


@dataclass(frozen=True)
class Target:
    """One named target of serve mode and its check settings."""

    name: str
    settings: CheckSettings


@dataclass(frozen=True)
class ServeConfig:
    """serve mode's configuration file, validated."""

    targets: dict[str, Target] = field(default_factory=dict)
    listen: str = DEFAULT_LISTEN
    max_concurrent: int = DEFAULT_MAX_CONCURRENT
    modules: dict[str, Module] = field(default_factory=dict)


def check_setting_names() -> frozenset[str]:
    """Every environment name of a check setting (run options such as KUMA_* excluded)."""
    return frozenset(setting.env for setting in registry.in_scope(registry.CHECK) if setting.env)


def _text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ServeConfigError(f"{where}: must be a string, number or boolean")


def _values(table: Mapping[str, Any], environ: Mapping[str, str], where: str,
            skip: tuple[str, ...] = ()) -> dict[str, str]:
    known = check_setting_names()
    # Proxy variables come from the server's environment, as they would for the CLI.
    values = proxy_variables(environ)
    for key, value in table.items():
        if key in skip:
            continue
        upper = key.upper()
        if upper not in known:
            raise ServeConfigError(
                f"{where}.{key}: unknown setting; use the environment names, e.g. ws_url, "
                "ocpp_version, probe_timeout"
            )
        values[upper] = _text(value, f"{where}.{key}")
    return values


def _check_name(name: str, what: str, where: str) -> None:
    if not _NAME.match(name):
        raise ServeConfigError(
            f"{where}: {what} name {name!r} must be letters, digits, '.', '_' or '-' (max 64)"
        )


def target_from(
    name: str, table: Mapping[str, Any], environ: Mapping[str, str], where: str
) -> Target:
    _check_name(name, "target", where)
    values = _values(table, environ, where)
    try:
        return Target(name, check_settings_from(values))
    except ConfigError as exc:
        raise ServeConfigError(f"{where}: {exc}") from None


def modules_from(
    document: Mapping[str, Any], environ: Mapping[str, str], source: str
) -> dict[str, Module]:
    modules_table = document.get("modules", {})
    if not isinstance(modules_table, dict):
        raise ServeConfigError(f"{source}: [modules.NAME] must be tables")
    modules: dict[str, Module] = {}
    for name, table in modules_table.items():
        where = f"{source}: modules.{name}"
        _check_name(name, "module", where)
        if not isinstance(table, dict):
            raise ServeConfigError(f"{where}: must be a table of settings")
        values = _values(table, environ, where, skip=ALLOW_KEYS)
        try:
            modules[name] = module_from(name, values, table)
        except ConfigError as exc:
            raise ServeConfigError(f"{where}.{exc}") from None
    return modules


def parse_config(
    document: Mapping[str, Any], environ: Mapping[str, str], source: str
) -> ServeConfig:
    unknown = set(document) - {"server", "targets", "modules"}
    if unknown:
        raise ServeConfigError(f"{source}: unknown table(s) {', '.join(sorted(unknown))}")
    server = document.get("server", {})
    targets_table = document.get("targets", {})
    if not isinstance(server, dict) or not isinstance(targets_table, dict):
        raise ServeConfigError(f"{source}: [server] and [targets.NAME] must be tables")
    extra = set(server) - {"listen", "max_concurrent"}
    if extra:
        raise ServeConfigError(f"{source}: [server] has unknown key(s) {', '.join(sorted(extra))}")
    listen = server.get("listen", DEFAULT_LISTEN)
    limit = server.get("max_concurrent", DEFAULT_MAX_CONCURRENT)
    if not isinstance(listen, str):
        raise ServeConfigError(f"{source}: server.listen must be a string like \"127.0.0.1:9477\"")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ServeConfigError(f"{source}: server.max_concurrent must be a whole number >= 1")
    targets: dict[str, Target] = {}
    for name, table in targets_table.items():
        where = f"{source}: targets.{name}"
        if not isinstance(table, dict):
            raise ServeConfigError(f"{where}: must be a table of settings")
        targets[name] = target_from(name, table, environ, where)
    modules = modules_from(document, environ, source)
    if not targets and not modules:
        raise ServeConfigError(
            f"{source}: no targets and no modules; add a [targets.NAME] table with ws_url, "
            "or a [modules.NAME] table with allow_hosts"
        )
    return ServeConfig(targets, listen, limit, modules)


def load_config(path: str, environ: Mapping[str, str]) -> ServeConfig:
    try:
        import tomllib  # Python 3.11+; imported here so the rest runs on 3.9
    except ModuleNotFoundError:
        raise ServeConfigError(
            "serve mode reads TOML with Python's tomllib (3.11+), which this build lacks; "
            "run it with Python 3.11 or newer"
        ) from None
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise ServeConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ServeConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(document, environ, path)
