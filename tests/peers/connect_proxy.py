"""A minimal HTTP CONNECT proxy on loopback, recording what it was asked."""

from __future__ import annotations

import base64
import select
import socket
import socketserver
import threading

from ..support.net import read_head


class ConnectProxy:
    def __init__(self, credentials: str | None = None) -> None:
        self.credentials = credentials  # "user:password" the proxy demands, if any
        self.requests: list[str] = []
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                client: socket.socket = self.request
                head = read_head(client)
                if not head:
                    return
                lines = head.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
                owner.requests.append(lines[0])
                if owner.credentials is not None:
                    expected = "Proxy-Authorization: Basic " + base64.b64encode(
                        owner.credentials.encode()
                    ).decode()
                    if expected not in lines:
                        client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
                        return
                host, port = lines[0].split(" ")[1].rsplit(":", 1)
                upstream = socket.create_connection((host.strip("[]"), int(port)))
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                with upstream:
                    while True:
                        ready, _, _ = select.select([client, upstream], [], [], 5)
                        if not ready:
                            return
                        for side in ready:
                            data = side.recv(65536)
                            if not data:
                                return
                            (upstream if side is client else client).sendall(data)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ConnectProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
