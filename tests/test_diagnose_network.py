"""`ocpp-probe diagnose`: addresses, proxies, the deadline, settings, -v and the text report."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ocpp_probe.diagnose.facts import AddressProbe, Facts
from ocpp_probe.diagnose.findings import judge
from ocpp_probe.diagnose.lint import lint
from ocpp_probe.settings import check_settings_from

from .peers.connect_proxy import ConnectProxy
from .peers.ocpp_lib_csms import OcppLibCsms
from .peers.scenario_server import Peer, ScenarioServer
from .support.diagnose import diagnose, findings
from .support.net import free_port
from .support.paths import PROBE, ROOT
from .support.runs import probe_in_process


def test_through_a_connect_proxy() -> None:
    with OcppLibCsms() as csms, ConnectProxy() as proxy:
        run = diagnose({"WS_URL": csms.url(), "PROBE_PROXY": f"http://127.0.0.1:{proxy.port}"})
    doc = run.doc
    assert run.code == 0, run.stdout
    assert doc["proxy"] == f"http://127.0.0.1:{proxy.port}"
    assert doc["addresses"][0]["address"] == f"127.0.0.1:{proxy.port}"
    assert f"reached the CSMS through the CONNECT proxy http://127.0.0.1:{proxy.port}" in findings(
        doc, "upgrade", "OK"
    )
    assert doc["suggestions"] == []
    assert set(proxy.requests) == {f"CONNECT 127.0.0.1:{csms.port} HTTP/1.1"}
    assert csms.seen.actions == ["BootNotification", "Heartbeat"]


def test_proxy_that_wants_credentials() -> None:
    with OcppLibCsms() as csms, ConnectProxy(credentials="user:proxy-secret") as proxy:
        run = diagnose({"WS_URL": csms.url(), "PROBE_PROXY": f"http://127.0.0.1:{proxy.port}"})
    doc = run.doc
    assert run.code == 2
    assert f"proxy http://127.0.0.1:{proxy.port} requires authentication" in findings(doc, "upgrade", "FAIL")
    assert doc["suggestions"] == [
        "the proxy wants credentials: set PROBE_PROXY=http://user:password@host:port"
    ]
    assert csms.seen.identities == []


def test_nothing_listening() -> None:
    port = free_port()
    run = diagnose({"WS_URL": f"ws://127.0.0.1:{port}/ocpp/CP-1"})
    doc = run.doc
    assert run.code == 2
    assert doc["addresses"] == [
        {
            "family": "IPv4",
            "address": f"127.0.0.1:{port}",
            "connected": False,
            "detail": "connection refused",
            "connect_ms": doc["addresses"][0]["connect_ms"],
        }
    ]
    assert "no address of the CSMS accepts a TCP connection" in findings(doc, "network", "FAIL")
    assert doc["suggestions"] == [
        "check the host and port in WS_URL, that the CSMS listens there and that no firewall blocks this machine"
    ]
    assert doc["upgrade_attempts"] == [] and doc["ocpp"] is None


def _private_hosts_file() -> str | None:
    """Why a dual-stack name cannot be made here, or None when it can.

    This machine's /etc/hosts names localhost for IPv4 only. The test gives one child
    process its own mount namespace with a hosts file that names it for both families,
    which needs root and unshare(1); the machine's own /etc/hosts is never touched.
    """
    if os.geteuid() != 0:
        return "needs root to give the probe a private /etc/hosts (unshare --mount)"
    if shutil.which("unshare") is None:
        return "needs unshare(1) from util-linux"
    if not socket.has_ipv6:
        return "needs IPv6 on the loopback interface"
    return None


@pytest.mark.skipif(_private_hosts_file() is not None, reason=str(_private_hosts_file()))
def test_dual_stack_name_with_ipv6_dead(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n::1 localhost\n", encoding="utf-8")
    with OcppLibCsms() as csms:  # listens on 127.0.0.1 only
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": ROOT, "WS_URL": csms.url(host="localhost")}
        script = 'mount --bind "$1" /etc/hosts && exec "$2" "$3" diagnose --json'
        done = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
             str(hosts), sys.executable, PROBE],
            env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )
    doc = json.loads(done.stdout)
    families = {(a["family"], a["connected"]) for a in doc["addresses"]}
    assert families == {("IPv6", False), ("IPv4", True)}
    assert any(
        t.startswith("IPv6 addresses do not answer while IPv4 ones do")
        for t in findings(doc, "network", "WARN")
    )
    assert (
        "fix the CSMS's IPv6 reachability (listener, firewall) or remove its AAAA record"
        in doc["suggestions"]
    )
    assert done.returncode == 0, done.stderr


def test_dual_stack_finding_from_facts() -> None:
    """The sans-I/O step alone, for machines where no name has both families."""
    settings = check_settings_from({"WS_URL": "ws://csms.example/ocpp/CP-1"})
    facts = Facts(
        target=settings.url,
        configured_version="1.6",
        secure=False,
        identity="CP-1",
        addresses=[
            AddressProbe("IPv6", "[2001:db8::1]:80", False, "no answer within 5 s", None),
            AddressProbe("IPv4", "192.0.2.1:80", True, "connected", 12.0),
        ],
    )
    judged = judge(facts, settings)
    assert [(f.level, f.text) for f in judged.items if f.layer == "network"] == [
        ("OK", "the CSMS IPv4 192.0.2.1:80: TCP connect in 12.0 ms"),
        ("WARN", "the CSMS IPv6 [2001:db8::1]:80: no answer within 5 s"),
        (
            "WARN",
            "IPv6 addresses do not answer while IPv4 ones do: a charger that tries IPv6 first fails or waits",
        ),
    ]
    assert (
        "fix the CSMS's IPv6 reachability (listener, firewall) or remove its AAAA record"
        in judged.suggestions
    )


def test_one_total_deadline_for_a_silent_server() -> None:
    with ScenarioServer(lambda peer: peer.hold(30)) as server:
        begin = time.monotonic()
        run = diagnose({"WS_URL": server.url(), "PROBE_TIMEOUT": "2"})
        elapsed = time.monotonic() - begin
    doc = run.doc
    assert run.code == 2
    assert elapsed < 3.0
    assert doc["connections"] <= 8
    outcomes = [a["outcome"] for a in doc["upgrade_attempts"]]
    assert outcomes[0] == "error" and outcomes[-1] == "skipped"
    assert doc["upgrade_attempts"][0]["detail"].startswith("upgrade response timed out")
    assert doc["upgrade_attempts"][-1]["detail"] == "not tried: the total deadline (PROBE_TIMEOUT) was near"
    assert doc["suggestions"] == [
        "the server accepts TCP but never answers the upgrade: check that WS_URL's port is the "
        "CSMS's WebSocket port (a TLS port needs wss://), or raise PROBE_TIMEOUT"
    ]
    assert doc["ocpp"] is None


def test_bad_settings_exit_3() -> None:
    run = diagnose({"WS_URL": "http://csms.example/ocpp/CP-1"})
    assert run.code == 3
    assert run.doc["findings"] == [
        {
            "layer": "settings",
            "level": "FAIL",
            "text": "WS_URL: must start with ws:// or wss:// (scheme is http)",
        }
    ]
    assert run.doc["suggestions"] == ["fix WS_URL"]
    text = probe_in_process(["diagnose", "--ocpp-version", "3"], {"WS_URL": "ws://h/ocpp/CP"})
    assert text.code == 3
    assert "  FAIL OCPP_VERSION: must be 1.6, 2.0.1 or 2.1, got '3'" in text.stdout


def test_identity_and_password_lint() -> None:
    long_id = "X" * 49
    found = lint(check_settings_from({"WS_URL": f"ws://h/ocpp/{long_id}"}))
    assert [(f.setting, f.level) for f in found] == [("CHARGE_POINT_ID", "WARN")]
    assert found[0].text.startswith(f"identity '{long_id}' has 49 characters")
    found = lint(check_settings_from({"WS_URL": "ws://h/ocpp/a:b", "OCPP_PASSWORD": "secret-pw"}))
    assert [(f.setting, f.level) for f in found] == [("CHARGE_POINT_ID", "FAIL")]
    assert found[0].suggestion == "use an identity without ':' (CHARGE_POINT_ID or WS_URL)"
    # A hex-looking password is only suspicious for 1.6, and not once OCPP_PASSWORD_HEX is set.
    hex_key = "ab" * 20
    assert (
        lint(
            check_settings_from({"WS_URL": "ws://h/o/CP", "OCPP_PASSWORD": hex_key, "OCPP_VERSION": "2.0.1"})
        )
        == []
    )
    assert (
        lint(
            check_settings_from({"WS_URL": "ws://h/o/CP", "OCPP_PASSWORD": hex_key, "OCPP_PASSWORD_HEX": "1"})
        )
        == []
    )


def test_verbose_shows_frames_without_secrets() -> None:
    def script(peer: Peer) -> None:
        from .support.diagnose import serve_ocpp

        peer.read_request()
        serve_ocpp(peer, "ocpp1.6")

    with ScenarioServer(script) as server:
        run = probe_in_process(
            ["diagnose", "-v"], {"WS_URL": server.url(), "OCPP_PASSWORD": "very-secret-pw"}
        )
    assert run.code == 0, run.stdout
    assert "> GET /ocpp/CP-1 HTTP/1.1" in run.stderr
    assert "Authorization: <redacted>" in run.stderr
    assert '"BootNotification"' in run.stderr and "< HTTP/1.1 101 Switching Protocols" in run.stderr
    assert "very-secret-pw" not in run.stderr + run.stdout


def test_text_report_of_the_demo_csms() -> None:
    run = probe_in_process(["diagnose", "--demo"], {})
    assert run.code == 0, run.stdout
    lines = run.stdout.splitlines()
    assert lines[0].startswith("ocpp-probe diagnose ws://127.0.0.1:")
    assert ["settings", "network", "tls", "upgrade", "ocpp", "what to change"] == [
        line
        for line in lines
        if line
        and not line.startswith(" ")
        and not line.startswith(("ocpp-probe", "a check"))
        and line != "clock"
    ]
    assert "  nothing: a check with these settings passes" in lines
    assert lines[-1].startswith("a check with these settings would pass (exit 0); ")


def test_password_hex_needs_hex_digit_pairs() -> None:
    run = probe_in_process(["--json", "--password-hex"], {"WS_URL": "ws://h/o/CP", "OCPP_PASSWORD": "abc"})
    assert (run.code, run.doc["reason"]) == (3, "OCPP_PASSWORD_HEX: needs a password of hexadecimal digit pairs")
    run = probe_in_process(["--json", "--password-hex"], {"WS_URL": "ws://h/o/CP"})
    assert (run.code, run.doc["reason"]) == (3, "OCPP_PASSWORD_HEX: is set but no password is (OCPP_PASSWORD)")


def test_secrets_echoed_by_the_server_are_redacted() -> None:
    def script(peer: Peer) -> None:
        headers = peer.read_request()
        echoed = f"you sent {headers.get('authorization')} ({headers.get('authorization', '')[6:]})"
        peer.respond("401 Unauthorized", echoed.encode(), headers=f"WWW-Authenticate: Basic {echoed}\r\n")

    with ScenarioServer(script) as server:
        run = diagnose({"WS_URL": server.url(), "OCPP_PASSWORD": "very-secret-pw"})
        text = probe_in_process(["diagnose"], {"WS_URL": server.url(), "OCPP_PASSWORD": "very-secret-pw"})
    import base64

    token = base64.b64encode(b"CP-1:very-secret-pw").decode()
    for output in (run.stdout, text.stdout):
        assert "very-secret-pw" not in output and token not in output
        assert "<redacted>" in output
    assert run.doc["upgrade_attempts"][0]["body_excerpt"] == "you sent Basic <redacted> (<redacted>)"
