"""Entry point for `python probe.py` and for the frozen single-file binaries."""

import sys

if sys.argv[1:] == ["--version"]:  # the most frequent "is it installed?" call: nothing else
    from ocpp_probe import __version__

    print(f"ocpp-probe {__version__}")
    sys.exit(0)

from ocpp_probe.lazy_imports import defer

# inspect and copy (pulled in by dataclasses, which orjson imports) load only if used.
defer()

from ocpp_probe.cli import main  # noqa: E402

if __name__ == "__main__":
    code = main()
    if getattr(sys, "frozen", False):
        # The binary skips interpreter finalization (8-15 ms): the check has closed
        # its sockets and stopped any demo server, nothing is registered with atexit,
        # and the report is flushed here. If a flush fails (e.g. a closed pipe), the
        # normal exit path reports it as usual.
        import os

        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            sys.exit(code)
        os._exit(code)
    sys.exit(code)
