"""A scriptable misbehaving CSMS on loopback, for tests of the probe under bad servers.

Raw sockets and the standard library's ssl, so a scenario can break the protocol at
any byte: each accepted connection runs a script, a function of one ``Peer`` that
reads and writes exactly what it wants (half an HTTP head, a frame with a lying
length, a close code, silence). Real peers (tests/peers/ocpp_lib_csms.py) cover
what a real CSMS does; this covers what none would.
"""

from __future__ import annotations

import os
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson

from ocpp_probe.upgrade import accept_for, head_end

Script = Callable[["Peer"], None]

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class PeerGone(Exception):
    """The probe closed the connection (or the server is stopping)."""


class Peer:
    """One accepted connection, from the server's side, with helpers to misbehave."""

    def __init__(self, sock: socket.socket, stopping: threading.Event) -> None:
        self.sock: socket.socket = sock
        self.stopping = stopping
        self.request_head = b""
        self.headers: dict[str, str] = {}
        self.buffer = b""
        self.received: list[tuple[int, bytes]] = []  # every frame the probe sent
        self.give_up_at: float | None = None  # monotonic time after which reads end the script

    # -- bytes -------------------------------------------------------------------
    def _recv(self, size: int = 65536) -> bytes:
        while True:
            if self.stopping.is_set():
                raise PeerGone
            if self.give_up_at is not None and time.monotonic() > self.give_up_at:
                raise PeerGone
            self.sock.settimeout(0.01 if self.give_up_at is not None else 0.05)
            try:
                data = self.sock.recv(size)
            except socket.timeout:
                continue
            except (ssl.SSLError, OSError):
                raise PeerGone from None
            if not data:
                raise PeerGone
            return data

    def _read_exact(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += self._recv()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def send(self, data: bytes) -> None:
        self.sock.settimeout(5)
        try:
            self.sock.sendall(data)
        except OSError:
            raise PeerGone from None

    def hold(self, seconds: float = 60.0) -> None:
        """Say nothing; keep the connection open until the probe leaves (or ``seconds``)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self.buffer += self._recv()
            except PeerGone:
                return

    def read_some(self) -> bytes:
        data, self.buffer = self.buffer + self._recv(), b""
        return data

    def finish(self) -> None:
        """After a script: answer a close frame like a polite server, then hang up.

        Closing at once could reset the connection under data the probe has not read
        yet, so this waits for the probe to leave (or to close the WebSocket).
        """
        if not self.headers or "sec-websocket-key" not in self.headers:
            self.hold(10)
            return
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                opcode, payload, _ = self.read_frame()
            except PeerGone:
                return
            if opcode == OP_CLOSE:
                self.send_frame(OP_CLOSE, payload[:2])
                self.hang_up()

    def hang_up(self) -> None:
        """Close the connection in an orderly way (FIN)."""
        self.sock.close()
        raise PeerGone

    def drip(self, data: bytes, every_s: float = 1.0) -> None:
        for index in range(len(data)):
            self.send(data[index : index + 1])
            if self.stopping.wait(every_s):
                raise PeerGone

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0, then close)."""
        raw = self.sock
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if isinstance(raw, ssl.SSLSocket):
            # Closing an SSLSocket still closes its file descriptor with the linger set.
            raw = socket.socket(fileno=raw.detach())
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.close()
        raise PeerGone

    def start_tls(self, context: ssl.SSLContext) -> None:
        self.sock.settimeout(5)
        tls = context.wrap_socket(self.sock, server_side=True, do_handshake_on_connect=False)
        self.sock = tls
        try:
            tls.do_handshake()
        except ssl.SSLError:
            # Linger like nginx does: closing now would reset the connection under the
            # probe's next write and could discard the alert OpenSSL just sent.
            self.sock = socket.socket(fileno=tls.detach())
            self.hold(2)
            raise PeerGone from None
        except OSError:
            raise PeerGone from None

    # -- HTTP --------------------------------------------------------------------
    def read_request(self) -> dict[str, str]:
        while head_end(self.buffer) < 0:
            self.buffer += self._recv()
        end = head_end(self.buffer)
        self.request_head, self.buffer = self.buffer[:end], self.buffer[end:]
        lines = self.request_head.decode("utf-8", "replace").split("\r\n")
        self.headers = {"request-line": lines[0]}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                self.headers[name.strip().lower()] = value.strip()
        return self.headers

    def accept(self, protocol: str | None = "echo", accept: str | None = None, extra: str = "") -> None:
        """A 101 answer to the request read; ``protocol="echo"`` echoes the offered one."""
        if not self.headers:
            self.read_request()
        key = self.headers.get("sec-websocket-key", "")
        lines = [
            "HTTP/1.1 101 Switching Protocols",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Accept: {accept if accept is not None else accept_for(key)}",
        ]
        if protocol == "echo":
            protocol = self.headers.get("sec-websocket-protocol")
        if protocol is not None:
            lines.append(f"Sec-WebSocket-Protocol: {protocol}")
        self.send(("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode())

    def respond(self, status_line: str, body: bytes = b"", headers: str = "") -> None:
        if not self.headers:
            self.read_request()
        head = f"HTTP/1.1 {status_line}\r\n{headers}Content-Length: {len(body)}\r\n\r\n"
        self.send(head.encode("iso-8859-1") + body)

    # -- WebSocket ---------------------------------------------------------------
    @staticmethod
    def frame(
        opcode: int,
        payload: bytes,
        fin: bool = True,
        rsv: int = 0,
        mask: bool = False,
        length: int | None = None,
    ) -> bytes:
        """A server frame; ``length`` overrides the length field (to lie about it)."""
        size = len(payload) if length is None else length
        first = (0x80 if fin else 0) | (rsv << 4) | opcode
        mask_bit = 0x80 if mask else 0
        if size < 126:
            head = struct.pack("!BB", first, mask_bit | size)
        elif size < 1 << 16:
            head = struct.pack("!BBH", first, mask_bit | 126, size)
        else:
            head = struct.pack("!BBQ", first, mask_bit | 127, size)
        if mask:
            key = os.urandom(4)
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            head += key
        return head + payload

    def send_frame(self, opcode: int, payload: bytes, **options: Any) -> None:
        self.send(self.frame(opcode, payload, **options))

    def send_text(self, text: str | bytes) -> None:
        self.send_frame(OP_TEXT, text.encode() if isinstance(text, str) else text)

    def send_json(self, value: Any) -> None:
        self.send_text(orjson.dumps(value))

    def close_with(self, code: int | None, reason: str = "") -> None:
        payload = b"" if code is None else struct.pack("!H", code) + reason.encode()
        self.send_frame(OP_CLOSE, payload)

    def read_frame(self) -> tuple[int, bytes, bool]:
        first, second = self._read_exact(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", self._read_exact(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", self._read_exact(8))
        key = self._read_exact(4) if second & 0x80 else b""
        payload = self._read_exact(size)
        if key:
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        opcode = first & 0x0F
        self.received.append((opcode, payload))
        return opcode, payload, bool(first & 0x80)

    def read_call(self) -> list[Any]:
        """The next OCPP-J message the probe sends (skipping pongs)."""
        while True:
            opcode, payload, _ = self.read_frame()
            if opcode == OP_TEXT:
                return orjson.loads(payload)  # type: ignore[no-any-return]
            if opcode == OP_CLOSE:
                raise PeerGone

    def answer(self, payload: Any) -> None:
        """Read the probe's next CALL and answer it with a CALLRESULT carrying ``payload``."""
        call = self.read_call()
        self.send_json([3, call[1], payload])


class ScenarioServer:
    """Listens on 127.0.0.1; runs ``script`` for every connection, in its own thread."""

    def __init__(self, script: Script, backlog: int = 8, accept_connections: bool = True) -> None:
        self.script = script
        self.accept_connections = accept_connections
        self.stopping = threading.Event()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(backlog)
        self.port: int = self.listener.getsockname()[1]
        self.peers: list[Peer] = []
        self.errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []

    def url(self, identity: str = "CP-1", scheme: str = "ws") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/ocpp/{identity}"

    def _accept_loop(self) -> None:
        self.listener.settimeout(0.05)
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            # Like most servers: without it, TLS 1.3 session tickets followed by the 101
            # meet Nagle and the probe's delayed ACK, adding 40 ms to every TLS check.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            peer = Peer(sock, self.stopping)
            self.peers.append(peer)
            worker = threading.Thread(target=self._run, args=(peer,), daemon=True)
            self._threads.append(worker)
            worker.start()

    def _run(self, peer: Peer) -> None:
        try:
            self.script(peer)
            peer.finish()
        except PeerGone:
            pass
        except BaseException as exc:  # surfaced by the test, not swallowed
            self.errors.append(exc)
        finally:
            try:
                peer.sock.close()
            except OSError:
                pass

    def __enter__(self) -> ScenarioServer:
        if self.accept_connections:
            thread = threading.Thread(target=self._accept_loop, daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in list(self._threads):
            thread.join(5)
        self.listener.close()
        for peer in self.peers:
            try:
                peer.sock.close()
            except OSError:
                pass
