"""Building blocks for ScenarioServer scripts: upgrade, boot, answer, misbehave.

A script is what one server connection does (tests/peers/scenario_server.py); these
compose them, so a table row reads as the behaviour it names.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import orjson

from ..peers.scenario_server import OP_CONT, OP_PING, OP_PONG, OP_TEXT, Peer, ScenarioServer, Script

NOW = "2026-01-01T00:00:00Z"
BOOT_OK: dict[str, Any] = {"status": "Accepted", "currentTime": NOW, "interval": 300}
HEARTBEAT_OK: dict[str, Any] = {"currentTime": NOW}
S101 = b"HTTP/1.1 101 Switching Protocols\r\n"


def steps(*actions: Callable[[Peer], object]) -> Script:
    """A script doing ``actions`` in order (what each returns is dropped)."""

    def script(peer: Peer) -> None:
        for action in actions:
            action(peer)

    return script


def over_tls(context: ssl.SSLContext, then: Script) -> Script:
    """``then`` inside the TLS session the server starts with ``context``."""
    return steps(lambda peer: peer.start_tls(context), then)


def upgraded(then: Script) -> Script:
    def script(peer: Peer) -> None:
        peer.read_request()
        peer.accept()
        then(peer)

    return script


def booted(then: Script) -> Script:
    def after_upgrade(peer: Peer) -> None:
        peer.answer(BOOT_OK)
        then(peer)

    return upgraded(after_upgrade)


def boot_answer(payload: Any) -> Script:
    return upgraded(lambda peer: peer.answer(payload))


def boot_reply(frame: Callable[[list[Any]], bytes]) -> Script:
    """Read the BootNotification CALL; send the bytes ``frame`` builds from it."""

    def after_upgrade(peer: Peer) -> None:
        call = peer.read_call()
        peer.send(frame(call))

    return upgraded(after_upgrade)


def heartbeat_reply(frame: Callable[[list[Any]], bytes]) -> Script:
    def after_boot(peer: Peer) -> None:
        call = peer.read_call()
        peer.send(frame(call))

    return booted(after_boot)


def text(data: bytes | str) -> bytes:
    return Peer.frame(OP_TEXT, data.encode() if isinstance(data, str) else data)


def result_frame(call: list[Any], payload: Any) -> bytes:
    return text(orjson.dumps([3, call[1], payload]))


def healthy(peer: Peer) -> None:
    peer.read_request()
    peer.accept()
    peer.answer(BOOT_OK)
    peer.answer(HEARTBEAT_OK)


def close_code(code: int | None) -> Script:
    return upgraded(steps(Peer.read_call, lambda peer: peer.close_with(code, "bye")))


def status(line: str, body: bytes) -> Script:
    return lambda peer: peer.respond(line, body, "Content-Type: text/html\r\n")


def silent(peer: Peer) -> None:
    peer.hold()


def read_then_silent(peer: Peer) -> None:
    peer.read_request()
    peer.hold()


def pong_seen(server: ScenarioServer, doc: dict[str, Any]) -> None:
    pongs = [payload for peer in server.peers for opcode, payload in peer.received if opcode == OP_PONG]
    assert pongs == [b"are you there"], pongs


def fragments(payload: bytes, pieces: int) -> bytes:
    step = max(1, len(payload) // pieces)
    chunks = [payload[i : i + step] for i in range(0, len(payload), step)]
    out = b""
    for index, chunk in enumerate(chunks):
        opcode = OP_TEXT if index == 0 else OP_CONT
        out += Peer.frame(opcode, chunk, fin=index == len(chunks) - 1)
    return out


def boot_fragmented(with_ping: bool) -> Script:
    """The BootNotification answer in three fragments, optionally with a ping between them."""
    def after_upgrade(peer: Peer) -> None:
        call = peer.read_call()
        payload = orjson.dumps([3, call[1], BOOT_OK])
        third = len(payload) // 3
        frames = [Peer.frame(OP_TEXT, payload[:third], fin=False)]
        if with_ping:
            frames.append(Peer.frame(OP_PING, b"are you there"))
        frames.append(Peer.frame(OP_CONT, payload[third : 2 * third], fin=False))
        frames.append(Peer.frame(OP_CONT, payload[2 * third :], fin=True))
        peer.send(b"".join(frames))
        peer.answer(HEARTBEAT_OK)

    return upgraded(after_upgrade)


def ping_first(peer: Peer) -> None:
    peer.read_request()
    peer.accept()
    call = peer.read_call()
    peer.send_frame(OP_PING, b"are you there")
    opcode, payload, _ = peer.read_frame()
    assert (opcode, payload) == (OP_PONG, b"are you there")
    peer.send(result_frame(call, BOOT_OK))
    peer.answer(HEARTBEAT_OK)


def answers_late(peer: Peer) -> None:
    peer.read_request()
    peer.accept()
    call = peer.read_call()
    if peer.stopping.wait(1.5):
        return
    peer.send(result_frame(call, BOOT_OK))


def big_frame_header(call: list[Any]) -> bytes:
    # Claims 1 TiB and sends nothing more: only a cap checked before reading can be fast.
    return Peer.frame(OP_TEXT, b"", length=1 << 40)


def big_fragmented(call: list[Any]) -> bytes:
    return fragments(b"[" + b" " * (2 * 1024 * 1024) + b"]", 8)


def drip_response(peer: Peer) -> None:
    peer.read_request()
    peer.drip(S101, every_s=1.0)


def drip_boot(peer: Peer) -> None:
    peer.read_request()
    peer.accept()
    call = peer.read_call()
    peer.drip(text(orjson.dumps([3, call[1], BOOT_OK])), every_s=0.3)


def raw_after_request(data: bytes) -> Script:
    def script(peer: Peer) -> None:
        peer.read_request()
        peer.send(data)

    return script


def csms_calls_first(count: int) -> Script:
    def after_upgrade(peer: Peer) -> None:
        boot = peer.read_call()
        for index in range(count):
            peer.send_json([2, f"csms-{index}", "GetConfiguration", {}])
        answers = [peer.read_call() for _ in range(count)]
        assert [answer[:3] for answer in answers] == [
            [4, f"csms-{index}", "NotImplemented"] for index in range(count)
        ], answers
        peer.send(result_frame(boot, BOOT_OK))
        peer.answer(HEARTBEAT_OK)

    return upgraded(after_upgrade)


def unknown_then_ok(noise: Callable[[list[Any]], bytes]) -> Script:
    def after_upgrade(peer: Peer) -> None:
        call = peer.read_call()
        peer.send(noise(call))
        peer.send(result_frame(call, BOOT_OK))
        peer.answer(HEARTBEAT_OK)

    return upgraded(after_upgrade)


def boot_without(name: str) -> dict[str, Any]:
    return {key: value for key, value in BOOT_OK.items() if key != name}


def boot_with(**changes: Any) -> dict[str, Any]:
    return {**BOOT_OK, **changes}


def csms_calls_seen(expected: list[str]) -> Callable[[Any, dict[str, Any]], None]:
    def check(server: Any, doc: dict[str, Any]) -> None:
        assert doc["csms_calls"] == expected

    return check


def lib_calls_answered(count: int) -> Callable[[Any, dict[str, Any]], None]:
    def check(server: Any, doc: dict[str, Any]) -> None:
        assert doc["csms_calls"] == ["GetConfiguration"] * count
        assert server.seen.call_first_errors == ["NotImplemented"] * count

    return check


def http_status_is(code: int) -> Callable[[Any, dict[str, Any]], None]:
    def check(server: Any, doc: dict[str, Any]) -> None:
        assert doc["http_status"] == code

    return check
