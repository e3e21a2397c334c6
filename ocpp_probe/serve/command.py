"""`ocpp-probe serve`: load the config, listen, serve until SIGTERM/SIGINT (exit 0).

Exit 3 (UNKNOWN) when the config file or the listen address cannot be used, with
the reason on stderr, as for any other setting of the probe. SIGHUP reloads the
config, as Prometheus and blackbox_exporter do; a bad new config is reported on
stderr (and in ocpp_probe_serve_config_last_reload_successful) and the old one kept.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
from collections.abc import Mapping, Sequence
from http.server import ThreadingHTTPServer
from typing import TextIO

from .. import registry
from ..check import run_check
from ..printable import shown
from ..records import replace
from ..result import Verdict
from ..signals import StopSignals
from ..usage import PluginArgumentParser, UsageError
from .config import ServeConfig, ServeConfigError, load_config
from .handler import ProbeHandler
from .metrics import ServerMetrics
from .service import Checker, ProbeService

UNKNOWN = Verdict.UNKNOWN.exit_code


def _parser() -> argparse.ArgumentParser:
    parser = PluginArgumentParser(
        prog="ocpp-probe serve",
        description="HTTP server for pull-style monitors, in the manner of blackbox_exporter: "
        "GET /probe?target=NAME checks a target of the config file, GET "
        "/probe?module=NAME&target=URL checks a URL the module allows (JSON, 200 healthy / "
        "503 not; &format=prometheus for metrics, &debug=true for the trace); GET / is a "
        "status page, GET /metrics the server's own metrics. SIGHUP reloads the config.",
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
    # socketserver's default backlog of 5 drops connections when many scrapes arrive
    # together, and the client's SYN retry costs it a second.
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return  # the client left (e.g. a scrape that timed out): nothing to report
        # The error may quote what the client sent (a request line, a header): one
        # escaped, bounded line like every other outside text.
        sys.stderr.write(f"ocpp-probe serve: {shown(f'error answering {client_address}: {error!r}')}\n")


class RunningServer:
    """A started server; ``port`` is the bound port (useful with :0), ``close()`` stops it."""

    def __init__(self, config: ServeConfig, checker: Checker = run_check, verbose: bool = False) -> None:
        host, port = listen_address(config.listen)
        metrics = ServerMetrics()
        self.service = ProbeService(config, metrics, checker)
        handler = type("Handler", (ProbeHandler,), {"service": self.service, "verbose": verbose})
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


def _load(path: str, env: Mapping[str, str], args: argparse.Namespace) -> ServeConfig:
    config = load_config(path, env)
    listen = args.listen or env.get(registry.PROBE_LISTEN.name)
    if listen:
        config = replace(config, listen=listen)
    if args.max_concurrent is not None:
        if args.max_concurrent < 1:
            raise ServeConfigError("--max-concurrent must be at least 1")
        config = replace(config, max_concurrent=args.max_concurrent)
    return config


def reload(running: RunningServer, path: str, env: Mapping[str, str], args: argparse.Namespace,
           err: TextIO) -> bool:
    """Load the config again; on any error keep the old one and say why."""
    old = running.service.config
    try:
        config = _load(path, env, args)
    except ServeConfigError as exc:
        running.metrics.reloaded(False)
        err.write(f"ocpp-probe serve: reload failed, keeping the previous config: {exc}\n")
        return False
    if config.listen != old.listen:
        err.write(f"ocpp-probe serve: listen changed to {config.listen}; it takes effect on "
                  f"restart, still listening on {old.listen}\n")
        config = replace(config, listen=old.listen)
    running.service.reload(config)
    running.metrics.reloaded(True)
    err.write(f"ocpp-probe serve: config reloaded: {len(config.targets)} targets, "
              f"{len(config.modules)} modules\n")
    return True


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
        config = _load(path, env, args)
        running = RunningServer(config, verbose=args.verbose)
    except ServeConfigError as exc:
        err.write(f"ocpp-probe serve: {exc}\n")
        return UNKNOWN
    # SIGHUP only wakes the main loop, which reloads: never inside the handler.
    signals = StopSignals(wake=(signal.SIGHUP,))
    signals.install()
    host, _ = listen_address(config.listen)
    host = f"[{host}]" if ":" in host else host
    names = ", ".join(sorted(config.targets)) or "none"
    modules = ", ".join(sorted(config.modules)) or "none"
    err.write(f"ocpp-probe serve: listening on {host}:{running.port}, "
              f"targets: {names}, modules: {modules}\n")
    err.flush()
    try:
        while not signals.requested:
            signals.wait(3600)
            while signals.take_wake() and not signals.requested:
                reload(running, path, env, args, err)
                err.flush()
    finally:
        running.close()
        signals.restore()
    err.write(f"ocpp-probe serve: stopped by {signals.signal_name or 'request'}\n")
    return 0
