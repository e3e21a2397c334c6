"""Reaching a CSMS through an HTTP CONNECT proxy, and the -v trace of a whole check."""

from __future__ import annotations

import base64

from .peers.connect_proxy import ConnectProxy
from .peers.ocpp_lib_csms import OcppLibCsms
from .support.net import free_port
from .support.runs import probe_in_process


def test_check_through_connect_proxy_from_environment() -> None:
    with OcppLibCsms() as csms, ConnectProxy() as proxy:
        run = probe_in_process(["--json"], {"WS_URL": csms.url(), "HTTP_PROXY": f"http://127.0.0.1:{proxy.port}"})
    assert run.code == 0, run.doc
    assert proxy.requests == [f"CONNECT 127.0.0.1:{csms.port} HTTP/1.1"]
    assert run.doc["remote_address"] == f"127.0.0.1:{proxy.port}"


def test_no_proxy_bypasses_the_proxy() -> None:
    with OcppLibCsms() as csms, ConnectProxy() as proxy:
        run = probe_in_process(
            ["--json"],
            {"WS_URL": csms.url(), "HTTP_PROXY": f"http://127.0.0.1:{proxy.port}", "NO_PROXY": "127.0.0.1"},
        )
    assert run.code == 0
    assert proxy.requests == []


def test_proxy_authentication_required_and_given() -> None:
    with OcppLibCsms() as csms, ConnectProxy(credentials="alice:pr0xy-secret") as proxy:
        refused = probe_in_process(["--json", "--proxy", f"127.0.0.1:{proxy.port}"], {"WS_URL": csms.url()})
        accepted = probe_in_process(
            ["--json", "--proxy", f"http://alice:pr0xy-secret@127.0.0.1:{proxy.port}"], {"WS_URL": csms.url()}
        )
    assert (refused.code, refused.doc["failed_step"], refused.doc["failure_kind"]) == (2, "connect", "proxy_auth")
    assert refused.doc["reason"] == f"proxy http://127.0.0.1:{proxy.port} requires authentication"
    assert accepted.code == 0, accepted.doc
    assert "pr0xy-secret" not in accepted.stdout + accepted.stderr


def test_verbose_trace_shows_every_frame_and_hides_credentials() -> None:
    password = "tr4ce-secret-password"
    with OcppLibCsms(password=password, call_first=1) as csms:
        run = probe_in_process(["-v"], {"WS_URL": csms.url(), "OCPP_PASSWORD": password})
    assert run.code == 0, run.stdout
    trace = run.stderr
    assert "> GET /ocpp/CP-1 HTTP/1.1" in trace
    assert "> Authorization: <redacted>" in trace
    assert "< HTTP/1.1 101 Switching Protocols" in trace
    assert '"BootNotification",{"chargePointVendor":"ocpp-probe","chargePointModel":"kuma-probe"}]' in trace
    assert '"GetConfiguration",{}]' in trace  # the CSMS's CALL, received
    assert '"NotImplemented","GetConfiguration is not supported by this monitoring probe",{}]' in trace
    assert '"Heartbeat",{}]' in trace
    token = base64.b64encode(f"CP-1:{password}".encode()).decode()
    for secret in (password, token):
        assert secret not in trace and secret not in run.stdout
    # Every trace line starts with its time since the start of the check.
    assert all(line.startswith("[") or line.startswith(" ") for line in trace.splitlines())


def test_verbose_trace_ends_with_the_failure() -> None:
    run = probe_in_process(["-v"], {"WS_URL": "ws://csms.invalid/ocpp/CP1"})
    assert run.code == 2
    assert run.stderr.rstrip().endswith("] ! resolve failed: cannot resolve csms.invalid: .invalid names never resolve (RFC 6761)")


def test_proxy_failures_have_their_own_kind() -> None:
    # The proxy cannot reach the CSMS and hangs up on the CONNECT: what to check is the
    # proxy's side, so the kind is proxy, not the closed of a CSMS hanging up.
    with ConnectProxy() as proxy:
        cut = probe_in_process(
            ["--json", "--proxy", f"127.0.0.1:{proxy.port}"], {"WS_URL": f"ws://127.0.0.1:{free_port()}/ocpp/CP-1"}
        )
    assert (cut.code, cut.doc["failed_step"], cut.doc["failure_kind"]) == (2, "connect", "proxy")
    assert cut.doc["reason"] == "connection closed by the server before the proxy CONNECT response"
    # No proxy listening: refused, like a CSMS that is not listening.
    gone = probe_in_process(["--json", "--proxy", f"127.0.0.1:{free_port()}"], {"WS_URL": "ws://127.0.0.1:9/ocpp/CP-1"})
    assert (gone.code, gone.doc["failed_step"], gone.doc["failure_kind"]) == (2, "connect", "refused")
    assert gone.doc["reason"].startswith("connection refused by 127.0.0.1:")
