"""WebSocket messages over the upgraded socket, framed by websocket-client.

websocket-client's frame codec does the RFC 6455 work (masking, frame parsing,
validation); this module owns the control flow a probe needs: a size cap checked
before a payload is read, pings answered, fragmented messages joined, close frames
turned into a clear reason, and every read bounded by the check's deadline.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Callable

from .deadline import Deadline
from .printable import quoted
from .sockets import DeadlineSocket
from .trace import Tracer
from .wscodec import ABNF, WebSocketException, frame_buffer

if TYPE_CHECKING:
    from .tls_socket import DeadlineSSLSocket

# OCPP messages are small; the largest a CSMS may push first (a local list, a
# charging profile) fits easily. Anything larger is refused before it is read.
MAX_MESSAGE_BYTES = 1024 * 1024

CLOSE_MEANINGS = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1007: "invalid payload data",
    1008: "policy violation",
    1009: "message too big",
    1011: "internal error",
    1012: "service restart",
    1013: "try again later",
}


class ConnectionClosed(Exception):
    """The CSMS closed the WebSocket (with a close frame) or the TCP connection."""

    def __init__(self, reason: str, code: int | None = None, by_frame: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.by_frame = by_frame  # False: the TCP connection ended with no close frame


class WebSocketViolation(Exception):
    """The CSMS broke the WebSocket protocol, or sent a message over the size cap."""


class _CappedFrameBuffer(frame_buffer):
    """websocket-client's frame reader, refusing a frame before reading its payload."""

    def __init__(self, recv: Callable[[int], bytes], cap: int) -> None:
        super().__init__(recv, False)
        self.cap = cap
        self.opcode: int | None = None  # of the frame being read, for error messages

    def recv_header(self) -> None:
        # Judge the two header bytes before anything else of the frame is read.
        super().recv_header()
        assert self.header is not None
        fin, rsv1, rsv2, rsv3, opcode, has_mask, length_bits = self.header
        self.opcode = opcode
        if rsv1 or rsv2 or rsv3:
            raise WebSocketViolation(
                "CSMS set reserved bits (RSV) in a frame, but no extension was negotiated"
            )
        if opcode not in ABNF.OPCODES:
            raise WebSocketViolation(f"CSMS sent a frame with reserved opcode {opcode}")
        if has_mask:
            raise WebSocketViolation("CSMS sent a masked frame (servers must not mask)")
        if opcode >= 0x8 and (not fin or length_bits > 125):
            raise WebSocketViolation("CSMS sent a fragmented or oversized control frame")

    def recv_length(self) -> None:
        super().recv_length()
        if self.length is not None and self.length > self.cap:
            raise WebSocketViolation(
                f"CSMS sent a {self.length}-byte frame, over the {self.cap}-byte limit"
            )


def _close_reason(payload: bytes) -> ConnectionClosed:
    if len(payload) < 2:
        return ConnectionClosed("CSMS closed the WebSocket (no status code)", None)
    (code,) = struct.unpack("!H", payload[:2])
    meaning = CLOSE_MEANINGS.get(code, "application-defined" if code >= 3000 else "unknown")
    text = payload[2:].decode("utf-8", "replace").strip()
    detail = f": {quoted(text)}" if text else ""
    return ConnectionClosed(f"CSMS closed the WebSocket with {code} ({meaning}){detail}", code)


class Channel:
    def __init__(
        self,
        sock: DeadlineSocket | DeadlineSSLSocket,
        leftover: bytes = b"",
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        trace: Tracer | None = None,
    ) -> None:
        self._sock = sock
        self._pending = leftover
        self._cap = max_message_bytes
        self._frames = _CappedFrameBuffer(self._recv_bytes, max_message_bytes)
        self._trace = trace
        self.closed_by_peer = False
        # A message being joined from fragments; kept across calls (see receive_any).
        self._fragments: list[bytes] = []
        self._first_opcode: int | None = None
        self._size = 0
        self.on_pong: Callable[[bytes], None] | None = None

    def _recv_bytes(self, size: int) -> bytes:
        if self._pending:
            chunk, self._pending = self._pending[:size], self._pending[size:]
            return chunk
        data = self._sock.recv(size)
        if not data:
            self.closed_by_peer = True
            raise ConnectionClosed(
                "CSMS closed the connection without a WebSocket close frame", by_frame=False
            )
        return data

    def _send_frame(self, data: bytes, opcode: int) -> None:
        self._sock.sendall(ABNF.create_frame(data, opcode).format())

    def send_text(self, data: bytes) -> None:
        self._send_frame(data, ABNF.OPCODE_TEXT)

    def receive_text(self, deadline: Deadline) -> bytes:
        """The next complete text message, as the UTF-8 bytes it arrived in.

        Bytes, not str: they are checked to be UTF-8 here, and the JSON parser reads
        bytes directly. Control frames are handled on the way.
        """
        while True:
            message = self.receive_any(deadline)
            if message is not None:
                return message

    def receive_any(self, deadline: Deadline) -> bytes | None:
        """One frame: a complete text message, or None after a control or partial frame.

        A deadline that passes mid-message loses nothing: the frame reader and the
        fragments read so far are kept, so the next call resumes where this one stopped
        (station mode waits in short windows between its own pings and Heartbeats).
        """
        self._sock.io_deadline = deadline
        try:
            frame = self._frames.recv_frame()
        except WebSocketException as exc:
            if self._frames.opcode == ABNF.OPCODE_CLOSE:
                # The header was fine, so websocket-client objected to the close payload.
                detail = str(exc).replace("Invalid close opcode", "invalid close code").rstrip(".")
                raise WebSocketViolation(f"CSMS sent an invalid close frame ({detail})") from None
            raise WebSocketViolation(f"invalid WebSocket frame from CSMS ({exc})") from None
        opcode = frame.opcode
        data = frame.data if isinstance(frame.data, bytes) else frame.data.encode()
        if opcode >= 0x8:
            if opcode == ABNF.OPCODE_PING:
                self._note(f"< ping ({len(data)} bytes), answered with pong")
                self._send_frame(data, ABNF.OPCODE_PONG)
            elif opcode == ABNF.OPCODE_PONG:
                if self.on_pong is not None:
                    self.on_pong(data)
            elif opcode == ABNF.OPCODE_CLOSE:
                closed = _close_reason(data)
                self.closed_by_peer = True
                self._note(f"< close: {closed.reason}")
                self._reply_close(data[:2])
                raise closed
            return None
        if opcode == ABNF.OPCODE_CONT:
            if self._first_opcode is None:
                raise WebSocketViolation("CSMS sent a continuation frame with nothing to continue")
        elif self._first_opcode is not None:
            raise WebSocketViolation("CSMS started a new message inside a fragmented one")
        else:
            self._first_opcode = opcode
        self._size += len(data)
        if self._size > self._cap:
            raise WebSocketViolation(
                f"CSMS sent a message over the {self._cap}-byte limit (fragmented)"
            )
        self._fragments.append(data)
        if not frame.fin:
            return None
        message = b"".join(self._fragments)
        first_opcode = self._first_opcode
        self._fragments, self._first_opcode, self._size = [], None, 0
        if first_opcode == ABNF.OPCODE_BINARY:
            raise WebSocketViolation("CSMS sent a binary message; OCPP-J uses text messages")
        try:
            message.decode("utf-8")
        except UnicodeDecodeError:
            raise WebSocketViolation("CSMS sent a text message that is not valid UTF-8") from None
        return message

    def arm(self, deadline: Deadline) -> None:
        """Bound the sends that follow (a held connection outlives each wait's deadline)."""
        self._sock.io_deadline = deadline

    def send_ping(self, data: bytes, deadline: Deadline) -> None:
        self._sock.io_deadline = deadline
        self._send_frame(data, ABNF.OPCODE_PING)

    def _reply_close(self, code: bytes) -> None:
        try:
            self._send_frame(code, ABNF.OPCODE_CLOSE)
        except Exception:
            pass  # the peer is leaving anyway; its own close reason is what matters

    def close(self, deadline: Deadline, code: int = 1000) -> None:
        """Send a close frame and wait, within the deadline, for the CSMS to answer it."""
        if self.closed_by_peer:
            return
        self._sock.io_deadline = deadline
        self._send_frame(struct.pack("!H", code), ABNF.OPCODE_CLOSE)
        while True:
            frame = self._frames.recv_frame()
            if frame.opcode == ABNF.OPCODE_CLOSE:
                self.closed_by_peer = True
                return

    def _note(self, line: str) -> None:
        if self._trace is not None:
            self._trace(line)
