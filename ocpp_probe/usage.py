"""Command-line parsing that reports usage errors the monitoring-plugins way.

argparse exits with status 2 on a usage error, which a monitor reads as CRITICAL;
a plugin must say UNKNOWN (3) instead, so the parser raises and the caller decides.
"""

from __future__ import annotations

import argparse
from typing import NoReturn


class UsageError(Exception):
    pass


class PluginArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)
