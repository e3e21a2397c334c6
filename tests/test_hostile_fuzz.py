"""Property: whatever the CSMS answers, the probe ends with a verdict, in time.

Two runs of the same property. In memory, thousands of drawn replies go through the
real check (run_check, from the WebSocket on) over a socket stand-in, fast enough
for CI; over loopback, a smaller number go through real sockets and the scenario
server, with the wall clock held to the deadline guarantee. A third property draws
answers to the HTTP upgrade itself (random bytes, odd status lines, a right 101 with
one thing changed) through the real upgrade code.

FUZZ_EXAMPLES (default 3000, split between the two OCPP versions, and again for the
upgrade) and FUZZ_LOOPBACK_EXAMPLES (default 200) set the counts.
"""

from __future__ import annotations

import io
import os
import threading
import time
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocpp_probe import check
from ocpp_probe.cli import main
from ocpp_probe.connection import Upgraded, upgrade
from ocpp_probe.deadline import Deadline, DeadlineExceeded
from ocpp_probe.failures import FailureKind
from ocpp_probe.reporters.json_report import render_json
from ocpp_probe.reporters.text import render_line
from ocpp_probe.result import StepFailure, Verdict
from ocpp_probe.settings import check_settings_from
from ocpp_probe.upgrade import accept_for

from .peers.scenario_server import OP_CLOSE, OP_TEXT, Peer, PeerGone, ScenarioServer
from .support.fuzz_replies import boot_payloads, encode, heartbeat_payloads, replies
from .support.result_schema import validated

IN_MEMORY_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3000"))
LOOPBACK_EXAMPLES = int(os.environ.get("FUZZ_LOOPBACK_EXAMPLES", "200"))

endings = st.sampled_from(["silence", "eof", "reset"])


class ScriptedSocket:
    """Stands in for the upgraded socket: answers the probe's CALLs with drawn bytes."""

    def __init__(self, boot: list[Any], heartbeat: list[Any], ending: str) -> None:
        self.answers = [boot, heartbeat]
        self.ending = ending
        self.incoming = b""  # what the probe sent, not yet parsed
        self.outgoing = b""  # what the CSMS says next
        self.io_deadline: Any = None
        self.closed = False

    def getpeername(self) -> tuple[str, int]:
        return ("127.0.0.1", 9)

    def close(self) -> None:
        self.closed = True

    def _frames_from_probe(self) -> None:
        while len(self.incoming) >= 2:
            first, second = self.incoming[0], self.incoming[1]
            size, offset = second & 0x7F, 2
            if size == 126:
                size, offset = int.from_bytes(self.incoming[2:4], "big"), 4
            elif size == 127:
                size, offset = int.from_bytes(self.incoming[2:10], "big"), 10
            key = self.incoming[offset : offset + 4]
            end = offset + 4 + size
            if len(self.incoming) < end:
                return
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(self.incoming[offset + 4 : end]))
            self.incoming = self.incoming[end:]
            opcode = first & 0x0F
            if opcode == OP_CLOSE:
                self.outgoing += Peer.frame(OP_CLOSE, payload[:2])
            elif opcode == OP_TEXT:
                message = orjson.loads(payload)
                if message[0] == 2 and self.answers:
                    for drawn in self.answers.pop(0):
                        self.outgoing += encode(drawn, message[1])

    def send(self, data: Any, flags: int = 0) -> int:
        self.incoming += bytes(data)
        self._frames_from_probe()
        return len(data)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self.send(data)

    def recv(self, size: int, flags: int = 0) -> bytes:
        if self.outgoing:
            chunk, self.outgoing = self.outgoing[:size], self.outgoing[size:]
            return chunk
        if self.ending == "eof":
            return b""
        if self.ending == "reset":
            raise ConnectionResetError(104, "Connection reset by peer")
        # Silence: what a DeadlineSocket raises once the deadline passes, without the wait.
        deadline = self.io_deadline
        raise DeadlineExceeded(deadline.what, deadline.budget_s)


AFTER_UPGRADE_KINDS = {
    FailureKind.TIMEOUT, FailureKind.CLOSED, FailureKind.WS_PROTOCOL, FailureKind.OCPP_PROTOCOL,
    FailureKind.CALLERROR, FailureKind.BOOT_PENDING, FailureKind.BOOT_REJECTED,
}

# What a drawn answer to the upgrade request can be, whatever its bytes.
UPGRADE_KINDS = {
    FailureKind.TIMEOUT, FailureKind.CLOSED, FailureKind.BAD_HANDSHAKE, FailureKind.HTTP_AUTH,
    FailureKind.HTTP_NOT_FOUND, FailureKind.HTTP_STATUS, FailureKind.NO_SUBPROTOCOL,
    FailureKind.WRONG_SUBPROTOCOL,
}


def _assert_verdict(result: Any) -> None:
    assert result.verdict in set(Verdict)
    assert not result.reason.startswith("internal error"), result.reason
    assert "\n" not in result.reason and "\r" not in result.reason
    if result.verdict is Verdict.OK:
        assert result.failed_step is None and result.failure_kind is None
    else:
        assert result.failed_step is not None and result.reason
        # Whatever the CSMS sends after the upgrade is one of these, never a probe bug.
        assert result.failure_kind in AFTER_UPGRADE_KINDS, (result.failure_kind, result.reason)
    # Both reporters must render whatever the CSMS put into the result.
    assert "\n" not in render_line(result)
    validated(orjson.loads(render_json(result)))


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_any_reply_in_memory_ends_with_a_verdict(version: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_ = check_settings_from(
        {"WS_URL": "ws://127.0.0.1:9/ocpp/CP-1", "OCPP_VERSION": version, "PROBE_TIMEOUT": "5"}
    )
    current: list[ScriptedSocket] = []
    monkeypatch.setattr(check, "resolve", lambda host, port, deadline: [])
    monkeypatch.setattr(check, "connect", lambda addresses, deadline: current[0])
    upgraded = Upgraded(settings_.version.subprotocol, b"")
    monkeypatch.setattr(check, "upgrade", lambda sock, settings, deadline, trace=None: upgraded)

    @settings(
        max_examples=IN_MEMORY_EXAMPLES // 2,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(replies(boot_payloads()), replies(heartbeat_payloads()), endings)
    def prop(boot: list[Any], heartbeat: list[Any], ending: str) -> None:
        current[:] = [ScriptedSocket(boot, heartbeat, ending)]
        result = check.run_check(settings_)
        _assert_verdict(result)
        assert current[0].closed
        outcomes.add((result.verdict, result.failed_step.value if result.failed_step else None))

    outcomes: set[tuple[Verdict, str | None]] = set()
    prop()
    # The draws must reach every stage, or the property says little.
    assert {(Verdict.OK, None), (Verdict.CRITICAL, "boot"), (Verdict.CRITICAL, "heartbeat")} <= outcomes


class _LoopbackScript:
    """One scenario server for every example; each connection plays the current draw."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.boot: list[Any] = []
        self.heartbeat: list[Any] = []

    def __call__(self, peer: Peer) -> None:
        with self.lock:
            answers = [list(self.boot), list(self.heartbeat)]
        peer.read_request()
        peer.accept()
        while answers:
            try:
                opcode, payload, _ = peer.read_frame()
            except PeerGone:
                break
            # The probe sends its next frame within milliseconds of a usable answer; waiting
            # longer would only time each example out.
            peer.give_up_at = time.monotonic() + 0.05
            if opcode == OP_CLOSE:
                peer.send_frame(OP_CLOSE, payload[:2])
                break
            if opcode == OP_TEXT and orjson.loads(payload)[0] == 2:
                for drawn in answers.pop(0):
                    peer.send(encode(drawn, orjson.loads(payload)[1]))
        # Hanging up instead of staying silent keeps each example short; the matrix
        # and the in-memory run cover silence.
        peer.give_up_at = None
        peer.hang_up()


def test_any_reply_over_loopback_ends_with_a_verdict_within_the_deadline() -> None:
    script = _LoopbackScript()
    deadline_s = 1.0
    with ScenarioServer(script) as server:
        env = {"WS_URL": server.url(), "PROBE_TIMEOUT": str(deadline_s), "HEARTBEAT_TIMEOUT": "500"}

        @settings(
            max_examples=LOOPBACK_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(replies(boot_payloads()), replies(heartbeat_payloads()), st.booleans())
        def prop(boot: list[Any], heartbeat: list[Any], as_json: bool) -> None:
            with script.lock:
                script.boot, script.heartbeat = boot, heartbeat
            out, err = io.StringIO(), io.StringIO()
            start = time.monotonic()
            code = main(["--json"] if as_json else [], environ=env, stdout=out, stderr=err)
            elapsed = time.monotonic() - start
            assert code in (0, 1, 2, 3)
            assert elapsed <= deadline_s + 0.5, elapsed
            assert err.getvalue() == ""
            assert out.getvalue().count("\n") == 1
            assert "internal error" not in out.getvalue().replace("(internal error)", "")
            if as_json:
                doc = validated(orjson.loads(out.getvalue()))
                assert doc["exit_code"] == code
                expected = {None} if code < 2 else {kind.value for kind in AFTER_UPGRADE_KINDS}
                assert doc["failure_kind"] in expected, doc

        prop()
        assert not server.errors, server.errors


def test_loopback_fuzz_server_is_reachable() -> None:
    # The loopback property is only meaningful if the scenario server really answers.
    script = _LoopbackScript()
    script.boot = [("result", ("RIGHT", {"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z",
                                         "interval": 300}))]
    script.heartbeat = [("result", ("RIGHT", {"currentTime": "2026-01-01T00:00:00Z"}))]
    with ScenarioServer(script) as server:
        out = io.StringIO()
        env = {"WS_URL": server.url(), "PROBE_TIMEOUT": "2"}
        code = main([], environ=env, stdout=out, stderr=io.StringIO())
        assert code == 0, out.getvalue()


class _HeadSocket:
    """Stands in for the socket during the upgrade: returns the drawn response in chunks."""

    def __init__(self, response: bytes, chunk: int, ending: str) -> None:
        self.response = response
        self.chunk = chunk
        self.ending = ending
        self.io_deadline: Any = None
        self.request = b""

    def sendall(self, data: bytes) -> None:
        self.request += data

    def recv(self, size: int) -> bytes:
        if self.response:
            piece, self.response = self.response[: min(size, self.chunk)], self.response[min(size, self.chunk) :]
            return piece
        if self.ending == "eof":
            return b""
        raise DeadlineExceeded(self.io_deadline.what, self.io_deadline.budget_s)


header_names = st.sampled_from(
    ["Upgrade", "Connection", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions",
     "Location", "Content-Length", "X-Any", " Upgrade", "upgrade"]
)
header_values = st.one_of(
    st.sampled_from(["websocket", "Upgrade", "ocpp1.6", "ocpp2.0.1", "ACCEPT", "", "keep-alive, Upgrade"]),
    st.text(max_size=30).map(lambda text: text.encode("utf-8", "surrogatepass").decode("iso-8859-1")),
)


@st.composite
def upgrade_responses(draw: Any) -> bytes:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return bytes(draw(st.binary(max_size=200)))
    if kind >= 3:
        # A right 101, then at most one change: a header dropped, a value replaced, one added.
        headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                   ("Sec-WebSocket-Accept", "ACCEPT"), ("Sec-WebSocket-Protocol", "ocpp1.6")]
        change = draw(st.integers(0, 3))
        if change == 1:
            del headers[draw(st.integers(0, len(headers) - 1))]
        elif change == 2:
            index = draw(st.integers(0, len(headers) - 1))
            headers[index] = (headers[index][0], draw(header_values))
        elif change == 3:
            headers.append((draw(header_names), draw(header_values)))
        text = "HTTP/1.1 101 Switching Protocols" + "".join(f"\r\n{n}: {v}" for n, v in headers) + "\r\n\r\n"
        return text.encode("iso-8859-1")
    status = draw(st.one_of(st.sampled_from([101, 200, 301, 401, 404, 503]), st.integers(0, 999)))
    line: str = draw(st.sampled_from([f"HTTP/1.1 {status} Reason", f"HTTP/1.0 {status}", f"HTTP/2 {status} x",
                                 f"HTTP/1.1 {status}", "HTTP/1.1  101 Switching"]))
    headers = draw(st.lists(st.tuples(header_names, header_values), max_size=6))
    end: str = draw(st.sampled_from(["\r\n\r\n", "\r\n", "\n\n", ""]))
    text = line + "".join(f"\r\n{name}: {value}" for name, value in headers) + end
    return text.encode("iso-8859-1") + bytes(draw(st.binary(max_size=20)))


def test_any_upgrade_response_is_judged() -> None:
    outcomes: set[str] = set()

    @settings(max_examples=IN_MEMORY_EXAMPLES // 2, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(upgrade_responses(), st.integers(1, 64), st.sampled_from(["eof", "silence"]), st.booleans())
    def prop(response: bytes, chunk: int, ending: str, accept_right: bool) -> None:

        settings_ = check_settings_from({"WS_URL": "ws://127.0.0.1:9/ocpp/CP-1", "OCPP_PASSWORD": "secret-1"})
        sock = _HeadSocket(response, chunk, ending)
        if accept_right:
            # Half the time, a 101 that is right apart from what was drawn around it.
            sock.response = sock.response.replace(b"ACCEPT", b"%KEY%")
        original_recv = sock.recv

        def recv(size: int) -> bytes:
            if b"%KEY%" in sock.response and sock.request:
                key = sock.request.split(b"Sec-WebSocket-Key: ", 1)[1].split(b"\r\n", 1)[0].decode()
                sock.response = sock.response.replace(b"%KEY%", accept_for(key).encode())
            return original_recv(size)

        sock.recv = recv  # type: ignore[method-assign]
        try:
            upgraded = upgrade(sock, settings_, Deadline.after(5))  # type: ignore[arg-type]
        except StepFailure as failure:
            assert failure.step.value in ("upgrade", "tls")
            assert failure.reason and "\n" not in failure.reason and len(failure.reason) <= 400
            assert failure.kind in UPGRADE_KINDS, (failure.kind, failure.reason)
            outcomes.add("refused")
        else:
            assert upgraded.subprotocol == "ocpp1.6"
            outcomes.add("upgraded")


    prop()
    # The draws must include good handshakes too, or the property says little.
    assert outcomes == {"refused", "upgraded"}
