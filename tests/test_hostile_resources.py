"""Thousands of checks in one process: file descriptors, memory and threads stay flat.

A monitoring loop runs the check every few seconds for months; one leaked socket
or thread per failed check would take it down. The loop here mixes passing checks
(plain and TLS, by address and by host name) with the failures that take the most
cleanup paths: refused, HTTP 401, close frame, garbage, an oversized frame,
an untrusted certificate, and a per-response timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from typing import Any

import pytest
import trustme

from ocpp_probe.demo import DemoCsms

from .peers.scenario_server import OP_TEXT, Peer, ScenarioServer
from .support.net import refusing_port
from .support.paths import ROOT
from .support.pki import Pki
from .support.scripts import healthy, over_tls

CHECKS = int(os.environ.get("RESOURCE_CHECKS", "2000"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs Linux /proc")
def test_thousands_of_checks_leave_no_fds_memory_or_threads(tmp_path: Any, pki: Pki) -> None:
    tls_context = pki.server_context("good")

    healthy_tls = over_tls(tls_context, healthy)

    def unauthorized(peer: Peer) -> None:
        peer.respond("401 Unauthorized", b"no")

    def close_1011(peer: Peer) -> None:
        peer.read_request()
        peer.accept()
        peer.read_call()
        peer.close_with(1011, "db down")

    def garbage(peer: Peer) -> None:
        peer.read_request()
        peer.accept()
        peer.read_call()
        peer.send_text("not json")

    def oversized(peer: Peer) -> None:
        peer.read_request()
        peer.accept()
        peer.read_call()
        peer.send(Peer.frame(OP_TEXT, b"", length=1 << 32))

    def silent_after_101(peer: Peer) -> None:
        peer.read_request()
        peer.accept()
        peer.hold(5)

    other_ca = str(tmp_path / "other-ca.pem")
    trustme.CA().cert_pem.write_to_path(other_ca)
    scripts = [healthy_tls, unauthorized, close_1011, garbage, oversized, silent_after_101]
    threads_before = threading.active_count()
    with ExitStack() as running:
        demo = running.enter_context(DemoCsms())
        refused_port = running.enter_context(refusing_port())
        servers = [running.enter_context(ScenarioServer(script)) for script in scripts]
        tls_srv, unauth_srv, close_srv, garbage_srv, big_srv, silent_srv = servers
        ca = {"TLS_CA_FILE": pki.ca_file}
        cases: list[tuple[dict[str, str], int]] = [
            ({"WS_URL": demo.url()}, 0),
            ({"WS_URL": demo.url().replace("127.0.0.1", "localhost")}, 0),  # resolver thread
            ({"WS_URL": tls_srv.url(scheme="wss"), **ca}, 0),
            ({"WS_URL": tls_srv.url(scheme="wss"), "TLS_CA_FILE": other_ca}, 2),  # untrusted
            ({"WS_URL": unauth_srv.url()}, 2),
            ({"WS_URL": close_srv.url()}, 2),
            ({"WS_URL": garbage_srv.url()}, 2),
            ({"WS_URL": big_srv.url()}, 2),
            ({"WS_URL": silent_srv.url(), "HEARTBEAT_TIMEOUT": "20"}, 2),
            ({"WS_URL": f"ws://127.0.0.1:{refused_port}/ocpp/CP-1"}, 2),
            ({"WS_URL": demo.url(), "TLS_INSECURE": "maybe"}, 3),
        ]

        cases = [({**env, "PROBE_TIMEOUT": "3"}, code) for env, code in cases]
        config = {"cases": cases, "checks": CHECKS, "warm_up": max(len(cases) * 20, CHECKS // 10), "marks": 4}
        child = subprocess.run(
            [sys.executable, "-m", "tests.support.resource_loop", json.dumps(config)],
            cwd=ROOT,
            env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": ROOT},
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert child.returncode == 0, child.stdout + child.stderr
    marks = [json.loads(line) for line in child.stdout.splitlines()]
    print(f"\nresources over {CHECKS} checks: {marks}")
    start_mark = marks[0]
    for mark in marks:
        assert mark["threads"] == [], mark  # nothing left running between checks
        assert mark["fds"] == start_mark["fds"], marks
        # Flat: a leaked socket, SSL object or buffer per check would show as megabytes here.
        assert mark["rss_kib"] <= start_mark["rss_kib"] + 1024, marks
    # After the first batch has filled the allocator's pools, growth must be near zero
    # (under 512 KiB for 1500 checks, i.e. well under one socket object per check).
    assert marks[-1]["rss_kib"] - marks[1]["rss_kib"] <= 512, marks
    # The servers of this test stopped cleanly too: no thread of theirs outlives them.
    time.sleep(0.1)
    assert threading.active_count() <= threads_before, [t.name for t in threading.enumerate()]



STATION_CHECKS = int(os.environ.get("RESOURCE_STATION_CHECKS", "1200"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs Linux /proc")
def test_a_long_station_session_with_many_reconnects_stays_flat() -> None:
    from .peers.ocpp_lib_csms import OcppLibCsms

    # The CSMS closes each connection (1012) after three Heartbeats: hundreds of
    # drops and reconnects in one session, with pings and pongs in between.
    with OcppLibCsms(close_every=3) as csms:
        config = {"url": csms.url(), "checks": STATION_CHECKS, "warm_up": 150, "marks": 4}
        child = subprocess.run(
            [sys.executable, "-m", "tests.support.resource_station", json.dumps(config)],
            cwd=ROOT, env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": ROOT},
            capture_output=True, text=True, timeout=300,
        )
        boots = csms.seen.actions.count("BootNotification")
    assert child.returncode == 0, child.stdout + child.stderr
    marks = [json.loads(line) for line in child.stdout.splitlines()]
    print(f"\nstation resources over {STATION_CHECKS} Heartbeats: {marks}")
    assert boots == 1 and {mark["boots"] for mark in marks} == {1}  # never booted again
    assert marks[-1]["connections"] - marks[0]["connections"] >= STATION_CHECKS // 3 - 5
    assert marks[-1]["drops"] >= STATION_CHECKS // 4  # the rest were found by a Heartbeat
    first = marks[0]
    for mark in marks:
        assert mark["threads"] == [], mark
        assert mark["fds"] == first["fds"], marks  # exactly the held connection's socket
        assert mark["rss_kib"] <= first["rss_kib"] + 1024, marks
    assert marks[-1]["rss_kib"] - marks[1]["rss_kib"] <= 512, marks
