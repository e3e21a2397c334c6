"""serve: an error answering a client is reported on stderr as one escaped, bounded line."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest

from ocpp_probe.printable import SHOWN_MAX
from ocpp_probe.serve.command import _Server


def test_a_client_error_is_one_escaped_bounded_line(capsys: pytest.CaptureFixture[str]) -> None:
    server = _Server(("127.0.0.1", 0), BaseHTTPRequestHandler, bind_and_activate=False)
    try:
        try:
            raise ValueError("bad request line \x1b[2J\r\nInjected: yes " + "x" * 50000)
        except ValueError:
            server.handle_error(None, ("127.0.0.1", 5555))
        try:
            raise ConnectionResetError("the client left")
        except ConnectionResetError:
            server.handle_error(None, ("127.0.0.1", 5556))  # nothing to report
    finally:
        server.server_close()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and "\r" not in err
    line = err.rstrip("\n")
    prefix = "ocpp-probe serve: "
    assert line.startswith(prefix + "error answering ('127.0.0.1', 5555): ValueError('bad request line \\x1b[2J")
    assert len(line) == len(prefix) + SHOWN_MAX and line.endswith("xxx...")
