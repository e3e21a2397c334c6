"""Hypothesis strategies for what a CSMS might send back to BootNotification and Heartbeat.

A reply is a list of messages, each a small description that becomes WebSocket
bytes only once the probe's CALL (and so its message id) is known. Valid answers,
subtly wrong ones (a field missing, a wrong type, a near-miss date) and plain noise
(random JSON, random bytes, odd frames) are all drawn from here.
"""

from __future__ import annotations

import struct
from typing import Any

import orjson
from hypothesis import strategies as st

from ..peers.scenario_server import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, Peer

NOW = "2026-01-01T00:00:00Z"

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)

date_times = st.one_of(
    st.just(NOW),
    st.sampled_from(
        [
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.123456789+01:00",
            "2026-13-01T00:00:00Z",
            "2026-01-01 00:00:00z",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "2026-02-30T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "",
            "now",
        ]
    ),
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.text(max_size=30),
    json_scalars,
)


def _mutated(base: dict[str, Any], draw: Any) -> dict[str, Any]:
    payload = dict(base)
    for name in list(payload):
        choice = draw(st.integers(0, 5))
        if choice == 0:
            del payload[name]
        elif choice == 1:
            payload[name] = draw(json_values)
    if draw(st.booleans()):
        payload[draw(st.text(max_size=12))] = draw(json_values)
    return payload


@st.composite
def boot_payloads(draw: Any) -> Any:
    base = {
        "status": draw(st.sampled_from(["Accepted", "Pending", "Rejected", "accepted", "Unknown"])),
        "currentTime": draw(date_times),
        "interval": draw(st.one_of(st.integers(-(2**63), 2**63 - 1), json_scalars)),
    }
    if draw(st.booleans()):
        base["statusInfo"] = draw(
            st.one_of(json_values, st.fixed_dictionaries({"reasonCode": st.text(max_size=20)}))
        )
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return {"status": "Accepted", "currentTime": NOW, "interval": 300}
    if kind == 1:
        return base
    if kind == 2:
        return _mutated(base, draw)
    return draw(json_values)


@st.composite
def heartbeat_payloads(draw: Any) -> Any:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return {"currentTime": NOW}
    if kind == 1:
        return {"currentTime": draw(date_times)}
    if kind == 2:
        return _mutated({"currentTime": draw(date_times)}, draw)
    return draw(json_values)


message_ids = st.one_of(st.just("RIGHT"), st.text(max_size=8), json_scalars)


@st.composite
def messages(draw: Any, payloads: Any) -> tuple[str, Any]:
    """One message from the CSMS, as (kind, details)."""
    kind = draw(
        st.sampled_from(
            [
                "result", "result", "result", "error", "call", "json", "text", "bytes",
                "binary", "ping", "close", "frame", "fragmented",
            ]
        )
    )
    if kind == "result":
        return kind, (draw(message_ids), draw(payloads))
    if kind == "error":
        return kind, (draw(message_ids), draw(st.text(max_size=20)), draw(json_values), draw(json_values))
    if kind == "call":
        return kind, (draw(json_scalars), draw(st.text(max_size=20)), draw(json_values))
    if kind == "json":
        return kind, draw(json_values)
    if kind in ("text", "binary"):
        return kind, draw(st.text(max_size=40))
    if kind == "bytes":
        return kind, draw(st.binary(max_size=40))
    if kind == "ping":
        return kind, draw(st.binary(max_size=130))
    if kind == "close":
        return kind, (draw(st.one_of(st.none(), st.integers(0, 65535))), draw(st.binary(max_size=20)))
    if kind == "frame":
        return kind, (
            draw(st.integers(0, 15)),
            draw(st.booleans()),
            draw(st.integers(0, 7)),
            draw(st.booleans()),
            draw(st.binary(max_size=20)),
            draw(st.one_of(st.none(), st.integers(0, 2**64 - 1))),
        )
    return kind, (draw(st.integers(1, 4)), draw(payloads))


def replies(payloads: Any) -> Any:
    return st.lists(messages(payloads), min_size=0, max_size=3)


def _id(value: Any, right: str) -> Any:
    return right if value == "RIGHT" else value


def _fragments(data: bytes, pieces: int) -> bytes:
    size = max(1, -(-len(data) // pieces))
    chunks = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
    return b"".join(
        Peer.frame(OP_TEXT if index == 0 else OP_CONT, chunk, fin=index == len(chunks) - 1)
        for index, chunk in enumerate(chunks)
    )


def encode(message: tuple[str, Any], right_id: str) -> bytes:
    """The bytes a misbehaving CSMS sends for one drawn message."""
    kind, details = message
    if kind == "result":
        return Peer.frame(OP_TEXT, orjson.dumps([3, _id(details[0], right_id), details[1]]))
    if kind == "error":
        message_id, code, description, extra = details
        return Peer.frame(OP_TEXT, orjson.dumps([4, _id(message_id, right_id), code, description, extra]))
    if kind == "call":
        return Peer.frame(OP_TEXT, orjson.dumps([2, *details]))
    if kind == "json":
        return Peer.frame(OP_TEXT, orjson.dumps(details))
    if kind == "text":
        return Peer.frame(OP_TEXT, details.encode("utf-8", "surrogatepass"))
    if kind == "binary":
        return Peer.frame(OP_BINARY, details.encode("utf-8", "surrogatepass"))
    if kind == "bytes":
        return Peer.frame(OP_TEXT, details)
    if kind == "ping":
        return Peer.frame(OP_PING, details)
    if kind == "close":
        code, reason = details
        return Peer.frame(OP_CLOSE, b"" if code is None else struct.pack("!H", code) + reason)
    if kind == "frame":
        opcode, fin, rsv, mask, payload, length = details
        return Peer.frame(opcode, payload, fin=fin, rsv=rsv, mask=mask, length=length)
    pieces, payload = details
    return _fragments(orjson.dumps([3, right_id, payload]), pieces)
