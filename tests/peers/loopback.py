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


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # not connected, or already closed


class _Acceptor:
    """A listening socket served by one daemon thread; subclasses handle each client.

    Leaving shuts every socket down, joins every thread, and only then closes. A
    thread blocked in accept() or recv() on a socket that is merely closed stays
    blocked on Linux, and the descriptor's number goes to the next socket the test
    process opens: such a stale SilentServer thread once accepted a later test's
    connection to the demo CSMS and never answered it (the "upgrade timed out under
    QEMU" of issue 13, found with py-spy).
    """

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.accepted = threading.Event()
        self._clients: list[socket.socket] = []
        self._workers: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return  # shut down by __exit__
            self._clients.append(client)
            self.accepted.set()
            worker = threading.Thread(target=self.handle, args=(client,), daemon=True)
            self._workers.append(worker)
            worker.start()

    def handle(self, client: socket.socket) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self):  # type: ignore[no-untyped-def]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        _shut(self.sock)  # wakes the accept() with an error
        self._thread.join(5)
        for client in self._clients:
            _shut(client)  # wakes each handler's recv()
        for worker in self._workers:
            worker.join(5)
        stuck = [t for t in (self._thread, *self._workers) if t.is_alive()]
        self.sock.close()
        for client in self._clients:
            client.close()
        assert not stuck, f"{type(self).__name__}: {len(stuck)} thread(s) did not end"


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
            self._clients.append(tls)  # wrap_socket took over the descriptor
        except (OSError, ssl.SSLError) as exc:
            self.handshake_errors.append(str(exc))
            client.close()
            return
        upstream = socket.create_connection(self.backend)
        self._clients.append(upstream)

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
