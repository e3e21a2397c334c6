"""The TLS twin of sockets.DeadlineSocket, in its own module: importing it loads ssl
(and with it OpenSSL), which only a wss:// check needs."""

from __future__ import annotations

import socket
import ssl

from .sockets import _DeadlineIO


class DeadlineSSLSocket(_DeadlineIO, ssl.SSLSocket):  # type: ignore[misc]
    def do_handshake(self, block: bool = False) -> None:
        self._arm()
        try:
            super().do_handshake(block)
        except socket.timeout:
            raise self._timed_out() from None
