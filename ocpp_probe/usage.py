"""Command-line parsing that reports usage errors the monitoring-plugins way.

argparse exits with status 2 on a usage error, which a monitor reads as CRITICAL;
a plugin must say UNKNOWN (3) instead, so the parser raises and the caller decides.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from typing import NoReturn

from .registry import Setting


class UsageError(Exception):
    pass


class PluginArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def add_setting(parser: argparse.ArgumentParser | argparse._ActionsContainer, setting: Setting) -> None:
    """The flag of a registry setting; a switch when it takes no value."""
    assert setting.flag is not None
    if setting.metavar is None:
        parser.add_argument(setting.flag, action="store_true", default=None, help=setting.help_text)
    elif setting.choices:
        parser.add_argument(setting.flag, choices=setting.choices, help=setting.help_text)
    else:
        parser.add_argument(setting.flag, metavar=setting.metavar, help=setting.help_text)


def flags_over_environment(
    args: argparse.Namespace, settings: Iterable[Setting], environ: Mapping[str, str]
) -> dict[str, str]:
    """The environment with every given flag laid over its variable (the flag wins)."""
    values = dict(environ)
    for setting in settings:
        if setting.flag is None or setting.env is None:
            continue
        given = getattr(args, setting.flag.lstrip("-").replace("-", "_"))
        if given is not None:
            values[setting.env] = "true" if given is True else str(given)
    return values
