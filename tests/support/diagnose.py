"""Helpers for the diagnose tests: run it, pick findings, script a 2.0.1-only CSMS."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any, Callable

from ..peers.scenario_server import Peer
from .runs import Run, probe_in_process


def diagnose(env: dict[str, str], *flags: str) -> Run:
    return probe_in_process(["diagnose", "--json", *flags], env)


def findings(doc: dict[str, Any], layer: str, level: str) -> list[str]:
    return [f["text"] for f in doc["findings"] if f["layer"] == layer and f["level"] == level]


def now_text(offset_s: float = 0.0) -> str:
    moment = datetime.now(timezone.utc) + timedelta(seconds=offset_s)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def http_date(offset_s: float = 0.0) -> str:
    return format_datetime(datetime.now(timezone.utc) + timedelta(seconds=offset_s), usegmt=True)


def serve_ocpp(peer: Peer, protocol: str, offset_s: float = 0.0, extra: str = "") -> None:
    """Accept with ``protocol`` and answer BootNotification and Heartbeat like a CSMS."""
    peer.accept(protocol, extra=extra)
    peer.answer({"currentTime": now_text(offset_s), "interval": 300, "status": "Accepted"})
    peer.answer({"currentTime": now_text(offset_s)})


def only_201(style: str) -> Callable[[Peer], None]:
    """A CSMS serving only ocpp2.0.1 that refuses anything else in ``style``."""

    def script(peer: Peer) -> None:
        headers = peer.read_request()
        if headers.get("sec-websocket-protocol") == "ocpp2.0.1":
            serve_ocpp(peer, "ocpp2.0.1")
        elif style == "404":
            peer.respond("404 Not Found", b"no such charge point\n")
        elif style == "403":
            peer.respond("403 Forbidden", b"subprotocol not allowed\n")
        elif style == "400":
            peer.respond("400 Bad Request", b"No matching subprotocol\n")
        else:
            peer.hang_up()

    return script
