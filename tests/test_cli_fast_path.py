"""The command line's shortcuts give what the full parser gives."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import ocpp_probe
from ocpp_probe.cli import build_parser, no_arguments

REPO = Path(__file__).resolve().parents[1]


# What probe.py does first: the placeholders of lazy_imports.py in sys.modules.
DEFERRED = "import sys\nfrom ocpp_probe.lazy_imports import defer; defer()\n"


def python_output(code: str, env: dict[str, str] | None = None) -> str:
    """What a fresh interpreter prints running ``code`` in the repository.

    Without `site` (-S), as the binary runs: an editable install's path finder, which
    site loads from a .pth file, imports pathlib and urllib.parse (so ipaddress)
    before any code of ours could defer them. The packages come through PYTHONPATH.
    """
    paths = [str(REPO), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    return subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={**(env or {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}), "PYTHONPATH": os.pathsep.join(paths)},
    ).stdout


def test_no_arguments_equals_the_parsers_defaults() -> None:
    assert vars(no_arguments()) == vars(build_parser().parse_args([]))


def test_version_without_the_check_or_argparse() -> None:
    code = (
        "import runpy, sys; sys.argv = ['probe.py', '--version']\n"
        "try:\n    runpy.run_path('probe.py', run_name='__main__')\n"
        "except SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
        "bad = sorted({'argparse', 'ocpp_probe.check', 'ssl', 'socket'} & set(sys.modules))\n"
        "print('loaded:', bad)"
    )
    out = python_output(code)
    assert out == f"ocpp-probe {ocpp_probe.__version__}\nloaded: []\n"


def test_placeholders_load_on_first_use() -> None:
    """inspect and copy are placeholders until first used, and work as usual then."""
    code = (
        "import inspect, copy\n"
        "print(type(inspect).__name__, type(copy).__name__)\n"
        "print(inspect.signature(lambda a, b=1: None), copy.copy([1]))\n"
        "from inspect import isclass; print(isclass(int))"
    )
    out = python_output(DEFERRED + code)
    assert out == "_Placeholder _Placeholder\n(a, b=1) [1]\nTrue\n"


def test_platform_placeholder_answers_system_as_platform_does() -> None:
    """uuid (imported by orjson) calls platform.system() at import; the placeholder
    answers it as the real module does, and loads the module for anything else."""
    code = (
        "import orjson, uuid, platform\n"
        "print(type(sys.modules['platform']).__name__, platform.system(), uuid._LINUX)\n"
        "print(platform.machine() != '', type(sys.modules['platform']).__name__, platform.system())"
    )
    real = python_output("import platform; print(platform.system())").strip()
    out = python_output(DEFERRED + code)
    assert out == f"_Placeholder {real} {real == 'Linux'}\nTrue module {real}\n"


def test_datetime_is_its_accelerator_with_the_same_public_names() -> None:
    """defer() puts _datetime in place of datetime.py, which only re-exports it."""
    code = (
        "import datetime, orjson\n"
        "print(datetime.__name__, sorted(n for n in dir(datetime) if not n.startswith('_')))\n"
        "print(orjson.dumps(datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)).decode())"
    )
    expected = python_output(
        "import datetime; print(sorted(set(datetime.__all__) | {n for n in dir(datetime)"
        " if not n.startswith('_') and n != 'sys'}))"
    )
    out = python_output(DEFERRED + code)
    assert out == f"_datetime {expected}\"2026-01-02T03:04:05+00:00\"\n"


def test_ipaddress_and_selectors_load_when_used() -> None:
    """urllib.parse needs ipaddress only for a bracketed IPv6 host; socket needs
    selectors only for sendfile. Both are placeholders until then, and work then."""
    code = (
        "import socket, urllib.parse\n"
        "urllib.parse.urlsplit('ws://csms.example:9000/ocpp/CP-1')\n"
        "print(type(sys.modules['ipaddress']).__name__, type(sys.modules['selectors']).__name__)\n"
        "print(urllib.parse.urlsplit('ws://[::1]:9000/x').hostname, type(sys.modules['ipaddress']).__name__)\n"
        "import selectors; print(selectors.EVENT_WRITE, type(sys.modules['selectors']).__name__)"
    )
    out = python_output(DEFERRED + code)
    assert out == "_Placeholder _Placeholder\n::1 module\n2 module\n"


def test_ws_check_loads_neither_ssl_nor_openssl_nor_inspect() -> None:
    """A ws:// check through probe.py never imports ssl or hashlib's OpenSSL part
    (ssl stays a placeholder; wss:// checks load it on first use, tests/binary), nor
    inspect, nor argparse (no arguments: the settings come from the environment), nor
    the push's sending code without a push URL, nor the idna codec for an ASCII name."""
    from ocpp_probe.demo import DemoCsms

    code = (
        "import runpy, sys; sys.argv = ['probe.py']\n"
        "try:\n    runpy.run_path('probe.py', run_name='__main__')\n"
        "except SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
        "print(type(sys.modules['ssl']).__name__, type(sys.modules['inspect']).__name__,"
        " type(sys.modules['platform']).__name__, type(sys.modules['ipaddress']).__name__,"
        " '_ssl' in sys.modules, '_hashlib' in sys.modules, 'argparse' in sys.modules,"
        " 'ocpp_probe.push' in sys.modules, 'encodings.idna' in sys.modules)"
    )
    with DemoCsms() as csms:
        out = python_output(
            code, {"WS_URL": csms.url("CP-LAZY").replace("127.0.0.1", "localhost"), "PATH": "/usr/bin:/bin"}
        )
    assert out.startswith("OCPP OK - ")
    assert out.endswith("\n_Placeholder _Placeholder _Placeholder _Placeholder False False False False False\n")


def test_every_dataclass_of_a_check_has_a_docstring() -> None:
    """dataclasses calls inspect.signature for a class without one, which would load
    inspect (lazy_imports.py) on every start. serve and diagnose are commands of their
    own (a long-running server, an interactive report), where that does not matter."""
    import dataclasses
    import importlib
    import pkgutil

    import ocpp_probe as package

    docless = []
    for info in pkgutil.walk_packages(package.__path__, "ocpp_probe."):
        if info.name.startswith(("ocpp_probe.serve", "ocpp_probe.diagnose")):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if isinstance(obj, type) and obj.__module__ == info.name and dataclasses.is_dataclass(obj):
                if "__doc__" not in obj.__dict__ or obj.__doc__ is None or obj.__doc__.startswith(name + "("):
                    docless.append(f"{info.name}.{name}")
    assert docless == []
