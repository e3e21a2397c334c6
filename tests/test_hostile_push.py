"""KUMA_PUSH_TIMEOUT bounds the whole push, whatever the receiver or a proxy does.

Real Uptime Kuma never misbehaves like this, so these receivers and proxies are
written here: one that trickles its answer a byte at a time (head or body), one that
reads the request and says nothing, a black hole that never completes the TCP
handshake, and a name that never resolves. A one-shot run must end within
PROBE_TIMEOUT + KUMA_PUSH_TIMEOUT plus start-up, and a loop must keep checking.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from ocpp_probe.deadline import Deadline
from ocpp_probe.failures import FailureKind
from ocpp_probe.httpclient import NetFailure, request
from ocpp_probe.loop import run_loop
from ocpp_probe.runner import OutputFormat, run_options_from
from ocpp_probe.settings import check_settings_from

from .peers.ocpp_lib_csms import OcppLibCsms
from .peers.scenario_server import Peer, ScenarioServer
from .support.net import black_hole
from .support.runs import Run, probe_process, timed_probe

TOKEN = "Push-Bound-Token-4e1f"
OK_ANSWER = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'
PUSH_TIMEOUT_S = 1.0
# In-process runs: the demo CSMS check and the rest take well under this.
SLACK_S = 1.5


def trickle_head(peer: Peer) -> None:
    peer.read_request()
    peer.drip(OK_ANSWER, every_s=0.2)  # about 18 s for the whole answer


def trickle_body(peer: Peer) -> None:
    peer.read_request()
    peer.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{")
    peer.drip(b" " * 3998 + b"}", every_s=0.1)


def trickle_chunked(peer: Peer) -> None:
    peer.read_request()
    peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    peer.drip(b"1\r\n{\r\n" * 400, every_s=0.05)


def silent(peer: Peer) -> None:
    peer.read_request()
    peer.hold(30)


def endless_informational(peer: Peer) -> None:
    # 1xx answers are skipped, as RFC 9110 says, but not beyond the deadline.
    peer.read_request()
    for _ in range(300):
        peer.send(b"HTTP/1.1 102 Processing\r\n\r\n")
        if peer.stopping.wait(0.05):
            return


RECEIVERS: dict[str, Callable[[Peer], None]] = {
    "trickle-head": trickle_head,
    "trickle-body": trickle_body,
    "trickle-chunked": trickle_chunked,
    "silent": silent,
    "endless-1xx": endless_informational,
}


def _push_run(env: dict[str, str]) -> tuple[Run, float]:
    timed = timed_probe(["--demo", "--json"], {"KUMA_PUSH_TIMEOUT": f"{PUSH_TIMEOUT_S:g}", **env})
    return timed.run, timed.elapsed_s


@pytest.mark.parametrize("name", list(RECEIVERS))
def test_misbehaving_receiver_costs_at_most_the_push_timeout(name: str) -> None:
    with ScenarioServer(RECEIVERS[name]) as receiver:
        url = f"http://127.0.0.1:{receiver.port}/api/push/{TOKEN}"
        run, elapsed = _push_run({"KUMA_PUSH_URL": url})
    assert run.code == 1, run.stdout + run.stderr  # OK check, failed push
    assert run.doc["verdict"] == "OK"
    push = run.doc["push"]
    assert push["ok"] is False
    got = "an incomplete answer" if name != "silent" else "no answer"
    assert push["detail"] == f"cannot reach Kuma: {got} within {PUSH_TIMEOUT_S:g} s"
    assert PUSH_TIMEOUT_S * 0.9 <= push["elapsed_ms"] / 1000 < PUSH_TIMEOUT_S + 0.3
    assert elapsed < PUSH_TIMEOUT_S + SLACK_S
    assert TOKEN not in run.stdout + run.stderr


def test_black_hole_receiver_costs_at_most_the_push_timeout() -> None:
    with black_hole() as port:
        run, elapsed = _push_run({"KUMA_PUSH_URL": f"http://127.0.0.1:{port}/api/push/{TOKEN}"})
    assert run.code == 1
    assert run.doc["push"]["detail"] == f"cannot reach Kuma: no answer within {PUSH_TIMEOUT_S:g} s"
    assert elapsed < PUSH_TIMEOUT_S + SLACK_S


@pytest.mark.parametrize("name", ["trickle-head", "silent"])
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_misbehaving_proxy_costs_at_most_the_push_timeout(name: str, scheme: str) -> None:
    # http goes to the proxy in absolute form, https through CONNECT: either answer trickles.
    with ScenarioServer(RECEIVERS[name]) as proxy:
        env = {
            "KUMA_PUSH_URL": f"{scheme}://kuma.example.com/api/push/{TOKEN}",
            f"{scheme}_proxy": f"http://127.0.0.1:{proxy.port}",
            "no_proxy": "127.0.0.1",  # the demo CSMS is checked direct
        }
        run, elapsed = _push_run(env)
        assert proxy.peers, "the push did not go through the proxy"
    assert run.code == 1
    got = "an incomplete answer" if name != "silent" else "no answer"
    assert run.doc["push"]["detail"] == f"cannot reach Kuma: {got} within {PUSH_TIMEOUT_S:g} s"
    assert elapsed < PUSH_TIMEOUT_S + SLACK_S


def test_black_hole_proxy_costs_at_most_the_push_timeout() -> None:
    with black_hole() as port:
        env = {"KUMA_PUSH_URL": f"http://kuma.example.com/api/push/{TOKEN}",
               "HTTP_PROXY": f"http://127.0.0.1:{port}", "NO_PROXY": "localhost,127.0.0.1"}
        run, elapsed = _push_run(env)
    assert run.code == 1
    assert run.doc["push"]["detail"] == f"cannot reach Kuma: no answer within {PUSH_TIMEOUT_S:g} s"
    assert elapsed < PUSH_TIMEOUT_S + SLACK_S


def test_no_proxy_sends_the_push_direct() -> None:
    def kuma_ok(peer: Peer) -> None:
        peer.read_request()
        peer.send(OK_ANSWER)

    with ScenarioServer(silent) as proxy, ScenarioServer(kuma_ok) as kuma:
        env = {"KUMA_PUSH_URL": f"http://127.0.0.1:{kuma.port}/api/push/{TOKEN}",
               "http_proxy": f"http://127.0.0.1:{proxy.port}", "NO_PROXY": "10.0.0.0/8,127.0.0.0/8"}
        run, _ = _push_run(env)
        assert not proxy.peers
    assert run.code == 0, run.stderr
    assert run.doc["push"]["detail"] == "HTTP 200 ok"


def test_name_resolution_of_the_kuma_host_is_inside_the_push_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No test can make a real resolver hang on loopback; a getaddrinfo that never
    # returns for names stands in for a dead DNS server (addresses still resolve).
    release = threading.Event()
    real = socket.getaddrinfo

    def dead_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("flags", 0) & socket.AI_NUMERICHOST:
            return real(host, *args, **kwargs)
        release.wait(30)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", dead_dns)
    try:
        run, elapsed = _push_run({"KUMA_PUSH_URL": f"http://kuma.example.com/api/push/{TOKEN}"})
    finally:
        release.set()
    assert run.code == 1
    assert run.doc["push"]["detail"] == f"cannot reach Kuma: no answer within {PUSH_TIMEOUT_S:g} s"
    assert elapsed < PUSH_TIMEOUT_S + SLACK_S


def test_request_deadline_is_total_not_per_read() -> None:
    with ScenarioServer(trickle_head) as receiver:
        start = time.monotonic()
        with pytest.raises(NetFailure) as caught:
            request(f"http://127.0.0.1:{receiver.port}/", Deadline.after(0.6, "push"))
        elapsed = time.monotonic() - start
    assert caught.value.kind is FailureKind.TIMEOUT and caught.value.partial
    assert 0.5 < elapsed < 0.9


def test_one_shot_run_ends_within_probe_timeout_plus_push_timeout() -> None:
    # The README's guarantee, as a process: a CSMS that never answers the upgrade and a
    # Kuma that trickles, each using its whole budget.
    def stall(peer: Peer) -> None:
        peer.read_request()
        peer.hold(30)

    with ScenarioServer(stall) as csms, ScenarioServer(trickle_head) as kuma:
        env = {"WS_URL": csms.url(), "PROBE_TIMEOUT": "1", "KUMA_PUSH_TIMEOUT": "1",
               "KUMA_PUSH_URL": f"http://127.0.0.1:{kuma.port}/api/push/{TOKEN}"}
        start = time.monotonic()
        run = probe_process(["--json"], env)
        elapsed = time.monotonic() - start
    assert run.code == 2, run.stdout + run.stderr
    assert run.doc["failed_step"] == "upgrade"
    assert run.doc["push"]["detail"] == "cannot reach Kuma: an incomplete answer within 1 s"
    assert elapsed < 1 + 1 + 2.0  # start-up of a Python process included


def test_loop_keeps_checking_while_kuma_trickles() -> None:
    with OcppLibCsms() as csms, ScenarioServer(trickle_head) as kuma:
        values = {"WS_URL": csms.url("CP-LOOP"), "PROBE_EVERY": "0.2", "KUMA_PUSH_TIMEOUT": "0.5",
                  "KUMA_PUSH_URL": f"http://127.0.0.1:{kuma.port}/api/push/{TOKEN}"}
        options = run_options_from(values, OutputFormat.JSON, None)
        out, err = io.StringIO(), io.StringIO()
        start = time.monotonic()
        code = run_loop(check_settings_from(values), options, out, err, max_checks=3)
        elapsed = time.monotonic() - start
        pushes = len(kuma.peers)
    assert code == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and pushes == 3
    assert elapsed < 3 * (0.5 + 0.5)
    assert err.getvalue().count("cannot reach Kuma: an incomplete answer within 0.5 s") == 3
