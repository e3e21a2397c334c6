"""Redact before bounding: a secret placed where a field used to be cut stays hidden.

Quoted outside text was once cut where it was taken (a CALLERROR description at 200
characters, a reason phrase at 120, a body at 200, a reasonCode and an action name at
60), before the redactor ran: a password placed so that such a cut kept its first 7
characters left those 7 visible, one fewer than the redactor's fragment length. Now
text is only capped at printable.QUOTE_MAX where it is taken and cut for display once,
after redaction. Each CSMS here echoes the password just so; no 4 characters in a row
of it may appear in any output mode.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ocpp_probe.printable import QUOTE_MAX, REASON_MAX, bounded
from ocpp_probe.redact import NAME_SHOWN_MAX, fragment_length

from .peers.scenario_server import Peer, ScenarioServer
from .support.runs import probe_in_process
from .support.scripts import BOOT_OK

# Every 4 characters of it hold one that base64, hex and UUIDs lack, so no random
# handshake key or message id in the -v trace can match a piece of it by chance.
PASSWORD = "Zq!v#3kX%9pL&2mN"
PAD = "~"  # not a character of the password, so the echo's edges are unambiguous
KEPT = fragment_length(len(PASSWORD)) - 1  # what an early cut left: 7 characters
MODES = [[], ["--json"], ["-v"], ["--format", "prometheus"], ["-v", "--json"]]


def _split_at(cut: int, offset: int = 0) -> str:
    """Padding that puts the password across an old cut of ``cut`` characters at
    ``offset`` into the field, so that the cut kept KEPT characters of it."""
    return PAD * (cut - offset - KEPT) + PASSWORD + PAD * 3


def _callerror(peer: Peer) -> None:
    peer.accept()
    call = peer.read_call()
    peer.send_json([4, call[1], "SecurityError", _split_at(200), {}])


def _callerror_at_the_cap(peer: Peer) -> None:
    # Past QUOTE_MAX the description is capped where it is taken, the cap's cut marked
    # "..."; the reason's end is shown, so what the cap left of the password must go.
    peer.accept()
    call = peer.read_call()
    peer.send_json([4, call[1], "SecurityError", PAD * (QUOTE_MAX - 3 - KEPT) + PASSWORD, {}])


def _reason_phrase(peer: Peer) -> None:
    peer.respond("499 " + _split_at(120))


def _body(peer: Peer) -> None:
    peer.respond("400 Bad Request", _split_at(200).encode(), "Content-Type: text/plain\r\n")


def _action_and_reason_code(peer: Peer) -> None:
    peer.accept()
    call = peer.read_call()
    peer.send_json([2, "csms-1", _split_at(60), {}])  # a CSMS CALL, listed by its action
    peer.read_call()  # the probe's CALLERROR NotImplemented
    rejected = {**BOOT_OK, "status": "Rejected", "statusInfo": {"reasonCode": _split_at(60)}}
    peer.send_json([3, call[1], rejected])


CASES: dict[str, tuple[Callable[[Peer], None], dict[str, str], str]] = {
    "callerror-description": (_callerror, {}, "callerror"),
    "callerror-description-at-the-cap": (_callerror_at_the_cap, {}, "callerror"),
    "reason-phrase": (_reason_phrase, {}, "http_status"),
    "refusal-body": (_body, {}, "http_status"),
    "action-and-reason-code": (_action_and_reason_code, {"OCPP_VERSION": "2.0.1"}, "boot_rejected"),
}


def _pieces() -> set[str]:
    return {PASSWORD[start : start + 4] for start in range(len(PASSWORD) - 3)}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_password_across_an_old_cut_stays_hidden(name: str) -> None:
    script, extra, kind = CASES[name]
    for mode in MODES:
        with ScenarioServer(script) as server:
            env = {"WS_URL": server.url(), "OCPP_PASSWORD": PASSWORD, "PROBE_TIMEOUT": "3", **extra}
            run = probe_in_process(mode, env)
        assert run.code == 2, (name, mode, run.stdout, run.stderr)
        for piece in _pieces():
            for stream, text in (("stdout", run.stdout), ("stderr", run.stderr)):
                assert piece not in text, f"{name} {mode}: {piece!r} in {stream}:\n{text}"
        if "--json" in mode:
            assert run.doc["failure_kind"] == kind
            assert "<redacted>" in run.doc["reason"]  # the echo did reach the reason
            assert len(run.doc["reason"]) <= REASON_MAX
            if name == "action-and-reason-code":
                # Redacted first, then cut to its display bound of 60.
                shown = bounded(PAD * (60 - KEPT) + "<redacted>" + PAD * 3, NAME_SHOWN_MAX)
                assert run.doc["boot"]["reason_code"] == shown
                assert run.doc["csms_calls"] == [shown]


def test_a_long_quote_is_cut_in_the_middle_and_the_advice_stays() -> None:
    def long_body(peer: Peer) -> None:
        body = ("no matching subprotocol " + PAD * 3000 + PASSWORD + " end of page").encode()
        peer.respond("400 Bad Request", body, "Content-Type: text/plain\r\n")

    with ScenarioServer(long_body) as server:
        run = probe_in_process(["--json"], {"WS_URL": server.url(), "OCPP_PASSWORD": PASSWORD, "PROBE_TIMEOUT": "3"})
    reason = run.doc["reason"]
    assert run.code == 2 and run.doc["failure_kind"] == "http_status"
    assert len(reason) == REASON_MAX
    assert reason.startswith(
        "HTTP 400 bad request: the CSMS rejected the upgrade request; the CSMS says: 'no matching subprotocol ~~~"
    )
    assert reason.endswith(
        "~~~<redacted> end of page'; the offered subprotocol ocpp1.6 may be the cause "
        "(set OCPP_VERSION to a version the CSMS serves)"
    )
    assert "~..." in reason  # the cut, between the two
