"""A small, well-behaved OCPP CSMS on loopback, for --demo.

It lets a newcomer see a real check without a server of their own, and lets a
freshly copied binary prove on the device that TLS-less WebSocket, framing and the
OCPP exchange all work. It accepts any identity and any of the three versions.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from datetime import datetime, timezone
from typing import Any

import orjson
from websocket import ABNF
from websocket._abnf import frame_buffer

from .upgrade import accept_for, head_end
from .versions import OcppVersion

HEARTBEAT_INTERVAL_S = 300


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def answer_for(message: Any) -> bytes | None:
    """The demo CSMS's reply to one decoded OCPP-J message, or None for no reply."""
    if not isinstance(message, list) or len(message) != 4 or message[0] != 2:
        return None
    _, message_id, action, _payload = message
    if action == "BootNotification":
        payload = {"status": "Accepted", "currentTime": _now(), "interval": HEARTBEAT_INTERVAL_S}
        return orjson.dumps([3, message_id, payload])
    if action == "Heartbeat":
        return orjson.dumps([3, message_id, {"currentTime": _now()}])
    return orjson.dumps([4, message_id, "NotImplemented", f"demo CSMS has no {action}", {}])


def _server_frame(data: bytes, opcode: int) -> bytes:
    return ABNF(1, 0, 0, 0, opcode, 0, data).format()


class _Handler(socketserver.BaseRequestHandler):
    request: socket.socket

    def handle(self) -> None:
        self.request.settimeout(10)
        buffer = b""
        while head_end(buffer) < 0:
            chunk = self.request.recv(4096)
            if not chunk or len(buffer) > 16384:
                return
            buffer += chunk
        end = head_end(buffer)
        headers = {}
        for line in buffer[:end].decode("iso-8859-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
        known = {version.subprotocol for version in OcppVersion}
        chosen = next((p for p in offered if p in known), None)
        key = headers.get("sec-websocket-key")
        if chosen is None or key is None:
            self.request.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        self.request.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept_for(key)}\r\n"
                f"Sec-WebSocket-Protocol: {chosen}\r\n\r\n"
            ).encode()
        )
        pending = [buffer[end:]]

        def recv(size: int) -> bytes:
            if pending[0]:
                chunk, pending[0] = pending[0][:size], pending[0][size:]
                return chunk
            data = self.request.recv(size)
            if not data:
                raise ConnectionError("client went away")
            return data

        frames = frame_buffer(recv, False)
        while True:
            frame = frames.recv_frame()
            data = frame.data if isinstance(frame.data, bytes) else frame.data.encode()
            if frame.opcode == ABNF.OPCODE_CLOSE:
                self.request.sendall(_server_frame(data[:2], ABNF.OPCODE_CLOSE))
                return
            if frame.opcode == ABNF.OPCODE_PING:
                self.request.sendall(_server_frame(data, ABNF.OPCODE_PONG))
                continue
            if frame.opcode != ABNF.OPCODE_TEXT:
                continue
            try:
                reply = answer_for(orjson.loads(data))
            except orjson.JSONDecodeError:
                reply = None
            if reply is not None:
                self.request.sendall(_server_frame(reply, ABNF.OPCODE_TEXT))

    def finish(self) -> None:
        try:
            self.request.close()
        except OSError:
            pass


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that leaves mid-frame is not worth a traceback in a demo


class _Server6(_Server):
    address_family = socket.AF_INET6


class DemoCsms:
    """Runs the demo CSMS in a background thread: ``with DemoCsms() as csms: csms.url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        server_class = _Server6 if ":" in host else _Server
        self._server = server_class((host, port), _Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="ocpp-probe-demo-csms", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def url(self, identity: str = "DEMO-CP-1") -> str:
        host, port = self.address
        shown = f"[{host}]" if ":" in host else host
        return f"ws://{shown}:{port}/ocpp/{identity}"

    def __enter__(self) -> DemoCsms:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
