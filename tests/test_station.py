"""Station mode (--hold) against real CSMSs: one connection, one boot, drops told apart.

Each test runs `python probe.py --hold --every ... --json` as a process, drives the
CSMS (the PyPI `ocpp` library, npm ocpp-rpc in strictMode, HAProxy in front) into the
situation, and asserts what the probe reported and what the CSMS saw.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from typing import Any

import pytest

from .peers.kuma_receiver import KumaReceiver
from .peers.ocpp_lib_csms import OcppLibCsms
from .peers.ocpp_rpc_csms import OcppRpcCsms
from .support.loop_process import LoopProcess, epoch, wait_for
from .support.net import free_port
from .support.pki import Pki, leaf_context

TOKEN = "station-T0KEN"
Doc = dict[str, Any]


def _hold(tmp: Any, url: str, every: str, *extra: str, env: dict[str, str] | None = None) -> LoopProcess:
    return LoopProcess(str(tmp), ["--hold", "--every", every, "--json", *extra],
                       {"WS_URL": url, **(env or {})})


def _count(process: LoopProcess, verdict: str) -> int:
    return sum(1 for doc in process.documents() if doc["verdict"] == verdict)


def _ok_after(docs: list[Doc], index: int) -> list[Doc]:
    return [doc for doc in docs[index + 1:] if doc["verdict"] == "OK"]


def _first(docs: list[Doc], kind: str) -> int:
    return next(i for i, doc in enumerate(docs) if doc["failure_kind"] == kind)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_twenty_heartbeats_on_one_connection_with_one_boot_and_csms_calls(
    tmp_path: Any, version: str
) -> None:
    with OcppLibCsms(version=version) as csms:
        probe = _hold(tmp_path, csms.url(), "0.1", "--ping-interval", "0.05",
                      env={"OCPP_VERSION": version})
        try:
            wait_for(lambda: _count(probe, "OK") >= 10, "ten Heartbeats")
            csms.call_all("TriggerMessage")  # CALLs from the CSMS in the middle of the session
            csms.call_all()
            wait_for(lambda: _count(probe, "OK") >= 22, "22 Heartbeats")
        finally:
            code = probe.stop()
        actions = list(csms.seen.actions)
        answers = list(csms.seen.calls_answered)
        connections = list(csms.seen.identities)
    assert code == 0
    assert actions.count("BootNotification") == 1 and actions[0] == "BootNotification"
    assert actions.count("Heartbeat") >= 22
    assert connections == ["CP-1"]  # one connection for the whole session
    expected = "NotImplemented" if version == "1.6" else "NotSupported"
    assert answers == [expected, expected]
    docs = probe.documents()
    assert {doc["verdict"] for doc in docs} == {"OK"}
    sessions = [doc["session"] for doc in docs]
    assert [s["heartbeats_sent"] for s in sessions] == list(range(1, len(docs) + 1))
    assert all(s["heartbeats_answered"] == s["heartbeats_sent"] for s in sessions)
    assert {s["reconnects"] for s in sessions} == {0} and {s["boots"] for s in sessions} == {1}
    ages = [s["connection_age_s"] for s in sessions]
    assert ages == sorted(ages) and ages[-1] - ages[0] >= 1.5
    assert sessions[-1]["pong_rtt_ms"] is not None  # our own pings were answered
    assert all(doc["timings_ms"].keys() == {"heartbeat"} for doc in docs[1:])  # no reconnects
    for before, after in zip(docs, docs[1:]):  # never two checks at once (ms resolution)
        assert epoch(before["started_at"]) + before["total_ms"] / 1000 <= epoch(after["started_at"]) + 0.002
    calls = [call for doc in docs for call in doc["csms_calls"]]
    assert sorted(calls) == sorted(["TriggerMessage", "GetConfiguration" if version == "1.6" else "GetBaseReport"])
    stderr = probe.stderr()
    assert stderr.splitlines()[-1] == (
        f"ocpp-probe: stopped by SIGTERM after {len(docs)} checks, 1 connection, 1 BootNotification"
    )


def test_station_mode_writes_the_prometheus_textfile_with_session_metrics(tmp_path: Any) -> None:
    path = os.path.join(str(tmp_path), "ocpp.prom")
    with OcppLibCsms() as csms:
        probe = LoopProcess(str(tmp_path), ["--hold", "--every", "0.1", "--format", "prometheus", "--output", path],
                            {"WS_URL": csms.url()})
        try:
            wait_for(lambda: csms.seen.actions.count("Heartbeat") >= 3, "three Heartbeats")
            wait_for(lambda: "heartbeats_answered" in open(path).read(), "the textfile")
        finally:
            assert probe.stop() == 0
    with open(path) as handle:
        text = handle.read()
    target = f'target="{csms.url()}"'
    assert f"ocpp_probe_success{{{target}}} 1" in text
    assert f"ocpp_probe_session_reconnects_total{{{target}}} 0" in text
    assert f"ocpp_probe_session_boots_total{{{target}}} 1" in text
    assert f"ocpp_probe_session_connection_age_seconds{{{target}}} " in text
    assert "ocpp_probe_session_last_drop_lifetime_seconds" not in text  # nothing dropped
    with open(probe.out_path) as out:
        assert out.read() == ""  # the file, not stdout, gets the exposition


def test_a_held_wss_connection_with_pings_and_a_restart(tmp_path: Any, pki: Pki) -> None:
    """TLS: waits that end between frames, pings and pongs, a reconnect with a new handshake."""
    ca_file = pki.ca_file
    context = leaf_context(pki.ca)
    first = OcppLibCsms(ssl_context=context).__enter__()
    running = [first]
    probe = _hold(tmp_path, first.url(), "0.1", "--ping-interval", "0.03", env={"TLS_CA_FILE": ca_file})
    try:
        wait_for(lambda: _count(probe, "OK") >= 8, "Heartbeats over TLS")
        running.pop().__exit__(None, None, None)
        second = OcppLibCsms(ssl_context=context, port=first.port).__enter__()
        running.append(second)
        wait_for(lambda: second.seen.actions.count("Heartbeat") >= 5, "Heartbeats after the restart")
    finally:
        assert probe.stop() == 0
        for csms in running:
            csms.__exit__(None, None, None)
    docs = probe.documents()
    assert first.seen.actions.count("BootNotification") == 1 and "BootNotification" not in second.seen.actions
    drop = docs[_first(docs, "closed")]
    assert drop["reason"].startswith("CSMS closed the WebSocket with 1001 (going away)")
    oks = [doc for doc in docs if doc["verdict"] == "OK"]
    assert all(doc["tls"]["verified"] for doc in oks) and oks[-1]["session"]["reconnects"] == 1
    assert oks[-1]["session"]["pong_rtt_ms"] is not None
    failed = [doc for doc in docs if doc["verdict"] != "OK"]
    assert [doc["failure_kind"] for doc in failed].count("closed") == 1
    assert {doc["failed_step"] for doc in failed} <= {"session", "connect"}  # a reconnect may be refused


def test_twenty_heartbeats_against_ocpp_rpc_strict_mode(tmp_path: Any) -> None:
    with OcppRpcCsms(protocols=["ocpp2.0.1"]) as csms:
        probe = _hold(tmp_path, csms.url(), "0.1", "--ping-interval", "0.05",
                      env={"OCPP_VERSION": "2.0.1"})
        try:
            wait_for(lambda: _count(probe, "OK") >= 20, "20 Heartbeats")
        finally:
            code = probe.stop()
        wait_for(lambda: len(csms.of("close")) == 1, "the CSMS to see the close")
        assert code == 0
        assert len(csms.of("client")) == 1 and len(csms.of("boot")) == 1
        assert len(csms.of("heartbeat")) >= 20
        assert csms.of("strictValidationFailure") == []
        assert csms.of("close")[0]["code"] == 1001  # the probe said it is going away
    assert {doc["verdict"] for doc in probe.documents()} == {"OK"}


def test_csms_restart_is_pushed_down_then_up_and_the_reconnect_sends_no_boot(tmp_path: Any) -> None:
    with KumaReceiver((TOKEN,)) as kuma:
        first = OcppLibCsms().__enter__()
        port = first.port
        probe = _hold(tmp_path, first.url(), "0.2", env={"KUMA_PUSH_URL": kuma.url()})
        second = None
        try:
            wait_for(lambda: _count(probe, "OK") >= 3, "three Heartbeats")
            first.__exit__(None, None, None)  # the CSMS node restarts: close frame 1001
            wait_for(lambda: _count(probe, "CRITICAL") >= 1, "the drop")
            second = OcppLibCsms(port=port).__enter__()
            wait_for(lambda: len(second.seen.actions) >= 3, "Heartbeats to the restarted CSMS")
            wait_for(lambda: probe.documents()[-1]["verdict"] == "OK", "an OK after the restart")
        finally:
            code = probe.stop()
            if second is not None:
                second.__exit__(None, None, None)
        statuses = [request.one("status") for request in kuma.requests]
    assert code == 0
    assert first.seen.actions.count("BootNotification") == 1
    assert "BootNotification" not in second.seen.actions  # the station did not reboot
    docs = probe.documents()
    drop_at = _first(docs, "closed")
    drop = docs[drop_at]
    assert drop["failed_step"] == "session"
    assert drop["reason"].startswith("CSMS closed the WebSocket with 1001 (going away)")
    assert "after the connection lived" in drop["reason"]
    assert drop["session"]["connection_age_s"] is None
    assert drop["session"]["last_drop_kind"] == "closed"
    back = _ok_after(docs, drop_at)[0]
    assert back["session"]["reconnects"] == 1 and back["session"]["boots"] == 1
    assert back["session"]["last_drop_lifetime_s"] >= 0.3  # it carried three Heartbeats, 0.2 s apart
    assert f"lived {back['session']['last_drop_lifetime_s']:.1f} s" in drop["reason"]
    # Kuma: up, then down at the drop, then up again.
    first_down = statuses.index("down")
    assert set(statuses[:first_down]) == {"up"} and "up" in statuses[first_down:]
    # Each result pushed as reported (a push may be in flight when SIGTERM ends the run).
    assert statuses[:len(docs)] == ["up" if doc["ok"] else "down" for doc in docs]


class HAProxy:
    """HAProxy in TCP mode in front of the CSMS, cutting connections idle for ``idle_ms``."""

    def __init__(self, tmp: Any, backend_port: int, idle_ms: int) -> None:
        self.port = free_port()
        config = os.path.join(str(tmp), "haproxy.cfg")
        with open(config, "w") as handle:
            handle.write(
                "global\n  maxconn 100\n"
                "defaults\n  mode tcp\n  timeout connect 1s\n"
                f"  timeout client {idle_ms}ms\n  timeout server {idle_ms}ms\n"
                f"frontend csms\n  bind 127.0.0.1:{self.port}\n  default_backend nodes\n"
                f"backend nodes\n  server node1 127.0.0.1:{backend_port}\n"
            )
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self.process = subprocess.Popen([binary, "-db", "-f", config],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._listening, "HAProxy to listen", timeout=10)

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.2).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.mark.skipif(not (shutil.which("haproxy") or os.path.exists("/usr/sbin/haproxy")),
                    reason="HAProxy is installed by build/apt-deps.sh")
def test_an_idle_timeout_in_a_load_balancer_is_reported_with_the_connection_lifetime(tmp_path: Any) -> None:
    with OcppLibCsms() as csms:
        proxy = HAProxy(tmp_path, csms.port, idle_ms=600)
        try:
            url = f"ws://127.0.0.1:{proxy.port}/ocpp/CP-1"
            quiet = _hold(tmp_path / "quiet", url, "2", "--ping-interval", "0") if _mkdir(tmp_path / "quiet") else None
            assert quiet is not None
            try:
                wait_for(lambda: _count(quiet, "CRITICAL") >= 1, "the idle cut")
                wait_for(lambda: _count(quiet, "OK") >= 2, "a Heartbeat after the reconnect")
            finally:
                assert quiet.stop() == 0
            # Pings more often than the idle timeout keep the same connection alive.
            pinging = _hold(tmp_path, url, "2", "--ping-interval", "0.2")
            try:
                wait_for(lambda: len(pinging.documents()) >= 2, "two Heartbeats")
            finally:
                assert pinging.stop() == 0
        finally:
            proxy.stop()
        boots = csms.seen.actions.count("BootNotification")
    docs = quiet.documents()
    cut = docs[_first(docs, "idle_closed")]
    assert cut["failed_step"] == "session"
    assert cut["reason"].startswith("CSMS closed the connection without a close frame after ")
    assert "of silence (an idle timeout in a proxy or load balancer?)" in cut["reason"]
    assert 0.5 <= cut["session"]["last_drop_lifetime_s"] <= 1.5  # HAProxy's 600 ms, plus the boot
    assert _ok_after(docs, docs.index(cut))[0]["session"]["reconnects"] == 1
    assert {doc["verdict"] for doc in pinging.documents()} == {"OK"}
    assert {doc["session"]["reconnects"] for doc in pinging.documents()} == {0}
    assert boots == 2  # one per probe process: reconnects did not boot


def _mkdir(path: Any) -> bool:
    os.makedirs(str(path), exist_ok=True)
    return True


def test_a_csms_that_stops_answering_heartbeat_but_keeps_the_socket(tmp_path: Any) -> None:
    with OcppLibCsms() as csms:
        probe = _hold(tmp_path, csms.url(), "0.2", "--ping-interval", "0.05", "--heartbeat-timeout", "300")
        try:
            wait_for(lambda: _count(probe, "OK") >= 3, "three Heartbeats")
            csms.heartbeat_silent = True
            wait_for(lambda: _count(probe, "CRITICAL") >= 1, "the unanswered Heartbeat")
            csms.heartbeat_silent = False
            wait_for(lambda: probe.documents()[-1]["verdict"] == "OK", "an OK on a new connection")
        finally:
            assert probe.stop() == 0
        actions, connections = list(csms.seen.actions), len(csms.seen.identities)
    docs = probe.documents()
    failed = docs[_first(docs, "heartbeat_unanswered")]
    assert failed["failed_step"] == "heartbeat"
    assert failed["reason"].startswith("no Heartbeat response within 300 ms (HEARTBEAT_TIMEOUT) on an open connection")
    assert failed["session"]["heartbeats_sent"] == failed["session"]["heartbeats_answered"] + 1
    assert [doc["failure_kind"] for doc in docs].count("pong_timeout") == 0  # pings were still answered
    assert connections == 2 and actions.count("BootNotification") == 1
    assert _ok_after(docs, docs.index(failed))[0]["session"]["reconnects"] == 1


def test_a_csms_that_stops_answering_pings(tmp_path: Any) -> None:
    with OcppLibCsms() as csms:
        probe = _hold(tmp_path, csms.url(), "1", "--ping-interval", "0.1", "--heartbeat-timeout", "300")
        try:
            wait_for(lambda: _count(probe, "OK") >= 1, "a Heartbeat")
            csms.pongs_off = True
            wait_for(lambda: _count(probe, "CRITICAL") >= 1, "the missed pong")
            csms.pongs_off = False
            wait_for(lambda: probe.documents()[-1]["verdict"] == "OK", "an OK on a new connection")
        finally:
            assert probe.stop() == 0
        boots = csms.seen.actions.count("BootNotification")
    docs = probe.documents()
    missed = docs[_first(docs, "pong_timeout")]
    assert missed["failed_step"] == "session"
    assert missed["reason"].startswith("no pong within 0.3 s of a WebSocket ping")
    assert boots == 1 and _ok_after(docs, docs.index(missed))[0]["session"]["reconnects"] == 1


def test_a_csms_interval_shorter_than_every_does_not_speed_the_probe_up(tmp_path: Any) -> None:
    with OcppLibCsms(interval=1) as csms:  # asks for a Heartbeat every second
        probe = _hold(tmp_path, csms.url(), "1.5", "--ping-interval", "0")
        try:
            wait_for(lambda: len(probe.documents()) >= 3, "three Heartbeats")
        finally:
            assert probe.stop() == 0
        heartbeats = csms.seen.actions.count("Heartbeat")
    docs = probe.documents()
    assert docs[0]["boot"]["interval_s"] == 1
    assert heartbeats == len(docs)  # one Heartbeat per --every slot, none in between
    starts = [epoch(doc["started_at"]) for doc in docs]
    assert all(later - earlier >= 1.4 for earlier, later in zip(starts, starts[1:])), starts


def test_pending_then_accepted_sends_nothing_but_boot_until_accepted(tmp_path: Any) -> None:
    with OcppLibCsms(boot_statuses=["Pending"], interval=1) as csms:
        probe = _hold(tmp_path, csms.url(), "0.2")
        try:
            wait_for(lambda: _count(probe, "OK") >= 2, "Heartbeats after the Accepted boot")
        finally:
            assert probe.stop() == 0
        actions, boot_at = list(csms.seen.actions), list(csms.seen.boot_at)
    assert actions[:2] == ["BootNotification", "BootNotification"]
    assert set(actions[2:]) == {"Heartbeat"}  # no Heartbeat while Pending
    assert 0.95 <= boot_at[1] - boot_at[0] <= 1.6  # retried after the CSMS's interval of 1 s
    docs = probe.documents()
    pending = [doc for doc in docs if doc["verdict"] == "CRITICAL"]
    assert len(pending) >= 3 and {doc["failure_kind"] for doc in pending} == {"boot_pending"}
    assert docs[-1]["boot"]["status"] == "Accepted" and docs[-1]["session"]["boots"] == 2


def test_a_station_never_accepted_boots_again_on_a_new_connection(tmp_path: Any) -> None:
    first = OcppLibCsms(boot_statuses=["Pending"], interval=30).__enter__()
    running = [first]
    probe = _hold(tmp_path, first.url(), "0.2")
    try:
        wait_for(lambda: _count(probe, "CRITICAL") >= 2, "Pending results")
        running.pop().__exit__(None, None, None)  # restarts before the 30 s boot retry
        second = OcppLibCsms(port=first.port).__enter__()
        running.append(second)
        wait_for(lambda: _count(probe, "OK") >= 2, "Heartbeats once Accepted")
    finally:
        assert probe.stop() == 0
        for csms in running:
            csms.__exit__(None, None, None)
    assert first.seen.actions == ["BootNotification"]  # Pending: nothing else was sent
    assert second.seen.actions[0] == "BootNotification"  # not a Heartbeat from a Pending station
    assert second.seen.actions.count("BootNotification") == 1


def test_a_csms_that_wants_a_boot_on_each_connection(tmp_path: Any) -> None:
    first = OcppLibCsms(require_boot=True).__enter__()
    running = [first]
    probe = _hold(tmp_path, first.url(), "0.2")
    try:
        wait_for(lambda: _count(probe, "OK") >= 2, "Heartbeats")
        running.pop().__exit__(None, None, None)
        second = OcppLibCsms(require_boot=True, port=first.port).__enter__()
        running.append(second)
        wait_for(lambda: second.seen.actions.count("Heartbeat") >= 3, "Heartbeats after the restart")
        running.pop().__exit__(None, None, None)
        third = OcppLibCsms(require_boot=True, port=first.port).__enter__()
        running.append(third)
        wait_for(lambda: third.seen.actions.count("Heartbeat") >= 2, "Heartbeats after a second restart")
    finally:
        assert probe.stop() == 0
        for csms in running:
            csms.__exit__(None, None, None)
    # Reconnect without a boot; the CSMS refuses (SecurityError), the probe boots and goes on.
    assert second.seen.actions[:3] == ["Heartbeat", "BootNotification", "Heartbeat"]
    # Learned for the session: the next reconnect boots first.
    assert third.seen.actions[0] == "BootNotification"
    docs = probe.documents()
    assert "callerror" not in {doc["failure_kind"] for doc in docs}  # the refusal was handled
    assert docs[-1]["verdict"] == "OK" and docs[-1]["session"]["boots"] == 3


def test_boot_on_reconnect_forces_a_boot_on_every_connection(tmp_path: Any) -> None:
    first = OcppLibCsms().__enter__()
    port = first.port
    probe = _hold(tmp_path, first.url(), "0.2", "--boot-on-reconnect")
    second = None
    try:
        wait_for(lambda: _count(probe, "OK") >= 2, "Heartbeats")
        first.__exit__(None, None, None)
        second = OcppLibCsms(port=port).__enter__()
        wait_for(lambda: second.seen.actions.count("Heartbeat") >= 2, "Heartbeats after the restart")
    finally:
        assert probe.stop() == 0
        if second is not None:
            second.__exit__(None, None, None)
    assert second.seen.actions[0] == "BootNotification"


def test_no_boot_one_shot_sends_only_heartbeat(probe: Any) -> None:
    with OcppLibCsms() as csms:
        run = probe(["--json", "--no-boot"], {"WS_URL": csms.url()})
        assert run.code == 0, run.stdout
        assert csms.seen.actions == ["Heartbeat"]
    assert run.doc["boot"] is None and run.doc["heartbeat_rtt_ms"] is not None
    assert "session" not in run.doc
    with OcppRpcCsms(protocols=["ocpp1.6"]) as strict:
        run = probe(["--no-boot"], {"WS_URL": strict.url()})
        assert run.code == 0 and strict.of("boot") == [] and len(strict.of("heartbeat")) == 1


def test_no_boot_against_a_csms_that_wants_a_boot_says_what_to_do(probe: Any) -> None:
    with OcppLibCsms(require_boot=True) as csms:
        run = probe(["--json"], {"WS_URL": csms.url(), "PROBE_NO_BOOT": "true"})
    assert run.code == 2
    assert run.doc["failed_step"] == "heartbeat"
    assert run.doc["reason"].startswith("CSMS answered Heartbeat with CALLERROR SecurityError")
    assert run.doc["reason"].endswith("drop --no-boot / PROBE_NO_BOOT)")


@pytest.mark.parametrize(("argv", "env", "reason"), [
    (["--hold"], {}, "PROBE_HOLD: needs --every SECONDS (PROBE_EVERY): the Heartbeat interval"),
    (["--every", "5", "--ping-interval", "10"], {},
     "PROBE_PING_INTERVAL: only applies to station mode (--hold with --every)"),
    (["--every", "5", "--hold", "--ping-interval", "-1"], {},
     "PROBE_PING_INTERVAL: must be a positive number of seconds (0: no pings), got '-1'"),
    (["--every", "5"], {"PROBE_BOOT_ON_RECONNECT": "true"},
     "PROBE_BOOT_ON_RECONNECT: only applies to station mode (--hold with --every)"),
])
def test_station_settings_are_checked_up_front(
    probe: Any, argv: list[str], env: dict[str, str], reason: str
) -> None:
    run = probe(["--json", *argv], {"WS_URL": "ws://127.0.0.1:9/ocpp/CP", **env})
    assert run.code == 3
    assert run.doc["reason"] == reason


def test_serve_targets_take_no_boot_but_not_the_station_settings() -> None:
    from ocpp_probe.serve.config import ServeConfigError, parse_config

    config = parse_config({"targets": {"known": {"ws_url": "ws://127.0.0.1:9/ocpp/CP", "probe_no_boot": True}}},
                          {}, "serve.toml")
    assert config.targets["known"].settings.no_boot is True
    for key in ("probe_hold", "probe_ping_interval", "probe_boot_on_reconnect"):
        with pytest.raises(ServeConfigError, match=f"targets.x.{key}: unknown setting"):
            parse_config({"targets": {"x": {"ws_url": "ws://127.0.0.1:9/ocpp/CP", key: "1"}}}, {}, "serve.toml")
