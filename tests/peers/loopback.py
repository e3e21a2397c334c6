"""Loopback peers for the binary tests: a TLS front for the probe's demo CSMS
(ocpp_probe.demo, served by the test process), a server that never answers, and an
HTTP refuser.

The binaries under test are separate processes (native or under QEMU) that reach
these peers over 127.0.0.1, exactly as they would reach a real CSMS.
"""

from __future__ import annotations

import socket
import ssl
import threading

__all__ = ["HttpRefuser", "SilentServer", "TlsFront"]


class _Acceptor:
    """A listening socket served by one daemon thread; subclasses handle each client."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.accepted = threading.Event()
        self._clients: list[socket.socket] = []
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self._clients.append(client)
            self.accepted.set()
            threading.Thread(target=self.handle, args=(client,), daemon=True).start()

    def handle(self, client: socket.socket) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self):  # type: ignore[no-untyped-def]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
        for client in self._clients:
            try:
                client.close()
            except OSError:
                pass


class SilentServer(_Acceptor):
    """Accepts TCP connections and never says a word: the probe must time out."""

    def handle(self, client: socket.socket) -> None:
        try:
            while client.recv(4096):
                pass
        except OSError:
            pass

    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp/CP-SILENT"


class HttpRefuser(_Acceptor):
    """Answers every WebSocket upgrade with a fixed HTTP status."""

    def __init__(self, status: str = "404 Not Found") -> None:
        super().__init__()
        self.status = status

    def handle(self, client: socket.socket) -> None:
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = client.recv(4096)
                if not chunk:
                    return
                data += chunk
            client.sendall(f"HTTP/1.1 {self.status}\r\nContent-Length: 0\r\n\r\n".encode())
        except OSError:
            pass
        finally:
            client.close()

    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp/CP-REFUSED"


class TlsFront(_Acceptor):
    """TLS terminator in front of a plain backend (the demo CSMS): wss:// for the probe."""

    def __init__(self, context: ssl.SSLContext, backend: tuple[str, int]) -> None:
        super().__init__()
        self.context = context
        self.backend = backend
        self.handshake_errors: list[str] = []

    def handle(self, client: socket.socket) -> None:
        tls: ssl.SSLSocket | None = None
        try:
            client.settimeout(10)
            tls = self.context.wrap_socket(client, server_side=True)
            tls.settimeout(None)
        except (OSError, ssl.SSLError) as exc:
            self.handshake_errors.append(str(exc))
            client.close()
            return
        upstream = socket.create_connection(self.backend)

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        back = threading.Thread(target=pump, args=(upstream, tls), daemon=True)
        back.start()
        pump(tls, upstream)
        back.join(10)
        tls.close()
        upstream.close()

    def url(self, host: str = "localhost", identity: str = "CP-TLS") -> str:
        return f"wss://{host}:{self.port}/ocpp/{identity}"
