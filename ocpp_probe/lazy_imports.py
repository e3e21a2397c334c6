"""Standard-library modules the command line (probe.py, and so the binary) loads
only when something first uses them.

`dataclasses` imports `inspect` (with `ast`, `dis`, `tokenize`, `linecache`: about
10 ms) and `copy`, and orjson imports `dataclasses`, but nothing on the probe's
path uses them: `inspect.signature` only runs for a dataclass without a docstring
(every dataclass in ocpp_probe has one), `copy` only in `dataclasses.asdict` and
`replace`. `ssl` (with OpenSSL) is only used by a wss:// check: its `import ssl`
statements cost nothing until a TLS context is made. `platform` (about 1 ms, most of
it regular expressions) is imported by `uuid`, which orjson imports, for one call at
import time, `platform.system()`: its placeholder answers that call itself, as
platform does on POSIX (os.uname's sysname), and loads the real module for anything
else. `ipaddress` (about 1 ms) is imported by `urllib.parse` for URLs with a bracketed
IPv6 host only, `selectors` by `socket` for `socket.sendfile` only.
Each stands in sys.modules as a placeholder module until its first attribute
(other than such an answer) is read; then the real module is imported and the
placeholder takes over its namespace, so code that imported the placeholder keeps
working.
(importlib.util.LazyLoader does not help here: the `import inspect` statement
itself reads `__spec__`, which makes LazyLoader load the module at once.)

`datetime` is different: Python 3.11's `datetime.py` defines every class in Python
(about 1.2 ms) and then replaces them all with those of its C accelerator
`_datetime`; defer() puts `_datetime` itself in sys.modules as `datetime`, which
has the same public names (tests/test_cli_fast_path.py compares them).

Only the command-line entry calls defer(); importing ocpp_probe as a library
changes nothing in sys.modules. bench/bench.py --imports shows the effect.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

DEFERRED = ("inspect", "copy", "ssl", "platform", "ipaddress", "selectors")


def _system() -> str:
    """platform.system() on POSIX: the kernel's name from uname (e.g. "Linux")."""
    return os.uname().sysname


# What a placeholder answers without loading its module; the real module replaces
# these with its own on load.
_ANSWERS: dict[str, dict[str, object]] = {"platform": {"system": _system}}


class _Placeholder(ModuleType):
    def __getattr__(self, attr: str) -> object:
        # Only reached for names not yet in the namespace, i.e. before the load.
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        real = importlib.import_module(name)
        self.__dict__.update(real.__dict__)
        return getattr(real, attr)


def defer(names: tuple[str, ...] = DEFERRED) -> None:
    if "datetime" not in sys.modules:
        try:
            import _datetime  # type: ignore[import-not-found]  # no stubs: a C module
        except ImportError:  # an interpreter without the accelerator: the usual module
            pass
        else:
            sys.modules["datetime"] = _datetime
    for name in names:
        if name not in sys.modules:
            placeholder = _Placeholder(name)
            if hasattr(os, "uname"):  # POSIX, where the answers hold
                placeholder.__dict__.update(_ANSWERS.get(name, {}))
            sys.modules[name] = placeholder
