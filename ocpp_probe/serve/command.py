"""`ocpp-probe serve`: load the config, listen, serve until SIGTERM/SIGINT (exit 0).

Exit 3 (UNKNOWN) when the config file or the listen address cannot be used, with
the reason on stderr, as for any other setting of the probe.
"""

from __future__ import annotations

import argparse
import signal
import socket
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from http.server import ThreadingHTTPServer
from typing import TextIO

from .. import registry
from ..check import run_check
from ..result import Verdict
from ..usage import PluginArgumentParser, UsageError
from .config import ServeConfig, ServeConfigError, load_config
from .handler import Checker, ProbeHandler, ProbeService
from .metrics import ServerMetrics

UNKNOWN = Verdict.UNKNOWN.exit_code


def _parser() -> argparse.ArgumentParser:
    parser = PluginArgumentParser(
        prog="ocpp-probe serve",
        description="HTTP server for pull-style monitors: GET /probe?target=NAME runs one check "
        "of a target from the config file (JSON, 200 healthy / 503 not; "
        "&format=prometheus for metrics); GET /metrics has the server's own counters.",
    )
    for setting in registry.command_line(registry.SERVE):
        assert setting.flag is not None
        kind = int if setting is registry.MAX_CONCURRENT else str
        parser.add_argument(setting.flag, type=kind, metavar=setting.metavar, help=setting.help_text)
    parser.add_argument("-v", "--verbose", action="store_true", help="log each request on stderr")
    return parser


def listen_address(text: str) -> tuple[str, int]:
    """"host:port", "[v6]:port" or ":port" (all interfaces)."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ServeConfigError(f"listen address {text!r} must be HOST:PORT, e.g. 127.0.0.1:9477")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port_text)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a check in flight must not hold up shutdown

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return  # the client left (e.g. a scrape that timed out): nothing to report
        sys.stderr.write(f"ocpp-probe serve: error answering {client_address}: {error!r}\n")


class RunningServer:
    """A started server; ``port`` is the bound port (useful with :0), ``close()`` stops it."""

    def __init__(self, config: ServeConfig, checker: Checker = run_check, verbose: bool = False) -> None:
        host, port = listen_address(config.listen)
        metrics = ServerMetrics()
        handler = type("Handler", (ProbeHandler,), {
            "service": ProbeService(config, metrics, checker), "verbose": verbose,
        })
        server_class = type("Server", (_Server,), {
            "address_family": socket.AF_INET6 if ":" in host else socket.AF_INET,
        })
        try:
            self.server = server_class((host, port), handler)
        except OSError as exc:
            raise ServeConfigError(f"cannot listen on {config.listen}: {exc.strerror or exc}") from None
        self.port = int(self.server.server_address[1])
        self.metrics = metrics
        self._thread = threading.Thread(target=self.server.serve_forever, name="ocpp-probe-serve",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def serve_main(argv: Sequence[str], env: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    try:
        args = _parser().parse_args(list(argv))
    except UsageError as exc:
        err.write(f"ocpp-probe serve: {exc} (see serve --help)\n")
        return UNKNOWN
    except SystemExit as exc:
        return int(exc.code or 0)
    path = args.config or env.get(registry.PROBE_CONFIG.name)
    if not path:
        err.write("ocpp-probe serve: --config FILE (or PROBE_CONFIG) is required\n")
        return UNKNOWN
    try:
        config = load_config(path, env)
        listen = args.listen or env.get(registry.PROBE_LISTEN.name)
        if listen:
            config = replace(config, listen=listen)
        if args.max_concurrent is not None:
            if args.max_concurrent < 1:
                raise ServeConfigError("--max-concurrent must be at least 1")
            config = replace(config, max_concurrent=args.max_concurrent)
        running = RunningServer(config, verbose=args.verbose)
    except ServeConfigError as exc:
        err.write(f"ocpp-probe serve: {exc}\n")
        return UNKNOWN
    stop = threading.Event()
    caught: list[str] = []

    def on_signal(signum: int, frame: object) -> None:
        caught.append(signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    host, _ = listen_address(config.listen)
    host = f"[{host}]" if ":" in host else host
    err.write(f"ocpp-probe serve: listening on {host}:{running.port}, "
              f"targets: {', '.join(sorted(config.targets))}\n")
    err.flush()
    try:
        while not stop.wait(3600):
            pass
    finally:
        running.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    err.write(f"ocpp-probe serve: stopped by {caught[0] if caught else 'request'}\n")
    return 0
