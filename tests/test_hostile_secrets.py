"""Secrets never reach any output: not the text line, not --json, not the -v trace.

Every mode runs against passing and failing servers with marker secrets, including
servers that echo the credentials they received back in their answers (an HTTP
reason phrase and body, a CALLERROR, a close reason, a statusInfo reasonCode, a
CALL's action name). The OCPP password, its Basic token, the password file's
content, the proxy password, the TLS key file's content and the Uptime Kuma push
token (with a Kuma that accepts, one that does not know the token, and one that
quotes the request in its error) are all looked for.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from .peers.kuma_receiver import KumaReceiver
from .peers.ocpp_lib_csms import OcppLibCsms
from .peers.scenario_server import Peer, ScenarioServer
from .support.net import refusing_port
from .support.pki import Pki
from .support.runs import Run, probe_in_process, probe_process
from .support.scripts import BOOT_OK, healthy, over_tls

PASSWORD = "Pw-Marker 9f:ä/x"  # space, colon, slash and non-ASCII: all need care
FILE_PASSWORD = "File-Marker-5c2e"
PROXY_PASSWORD = "Proxy-Marker-81d0"
IDENTITY = "CP 1/ü"  # percent-encoded in the URL, UTF-8 in the Basic token
MODES = [[], ["--json"], ["-v"], ["-v", "--json"]]


def _token(password: str) -> str:
    return base64.b64encode(f"{IDENTITY}:{password}".encode()).decode("ascii")


def _credentials_received(peer: Peer) -> bytes:
    header = peer.read_request().get("authorization", "Basic ")
    return base64.b64decode(header.split(" ", 1)[1])


def _echo_in_status(status: bytes) -> Callable[[Peer], None]:
    def script(peer: Peer) -> None:
        received = _credentials_received(peer)
        body = b"you sent " + received + b" / " + base64.b64encode(received)
        head = b"HTTP/1.1 " + status + b" Bad " + received + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
        peer.send(head + body)

    return script


_echo_in_401 = _echo_in_status(b"401")


def _echo_in_callerror(peer: Peer) -> None:
    received = _credentials_received(peer).decode()
    peer.accept()
    call = peer.read_call()
    peer.send_json([4, call[1], "SecurityError", f"bad {received} {_token(PASSWORD)}", {"got": received}])


def _echo_in_close(peer: Peer) -> None:
    received = _credentials_received(peer).decode()
    peer.accept()
    peer.read_call()
    peer.close_with(1008, received.split(":", 1)[1][:100])


def _echo_in_boot(peer: Peer) -> None:
    received = _credentials_received(peer).decode()
    peer.accept()
    call = peer.read_call()
    # A CSMS CALL named after the password first, then a Rejected boot quoting it (2.0.1).
    peer.send_json([2, "csms-1", received, {}])
    peer.read_call()
    rejected = {**BOOT_OK, "status": "Rejected", "statusInfo": {"reasonCode": received}}
    peer.send_json([3, call[1], rejected])


def _echo_then_accept(peer: Peer) -> None:
    received = _credentials_received(peer).decode()
    peer.accept()
    call = peer.read_call()
    peer.send_json([2, "csms-1", received, {}])
    peer.read_call()
    peer.send_json([3, call[1], BOOT_OK])
    peer.answer({"currentTime": "2026-01-01T00:00:00Z"})


def _key_markers(path: str) -> list[str]:
    """Every base64 line of a PEM key: any of them in the output would leak the key."""
    with open(path, encoding="ascii") as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith("-----")]


def _assert_clean(run: Run, markers: list[str], what: str) -> None:
    for marker in markers:
        for stream, text in (("stdout", run.stdout), ("stderr", run.stderr)):
            assert marker not in text, f"{what}: {marker!r} in {stream}:\n{text}"


def _forms(password: str) -> list[str]:
    return [password, _token(password), password.encode().decode("iso-8859-1")]


@contextmanager
def _scenario(script: Callable[[Peer], None]) -> Iterator[str]:
    with ScenarioServer(script) as server:
        yield server.url(IDENTITY.replace(" ", "%20").replace("/", "%2F").replace("ü", "%C3%BC"))
        assert not server.errors, server.errors


@contextmanager
def _lib(password: str) -> Iterator[str]:
    with OcppLibCsms(password=password) as csms:
        yield csms.url("x").rsplit("/", 1)[0]


CASES: list[tuple[str, Callable[[], Any], dict[str, str], int, str | None]] = [
    ("real-csms-accepts", lambda: _lib(PASSWORD), {"CHARGE_POINT_ID": IDENTITY}, 0, None),
    ("real-csms-401", lambda: _lib("another password"), {"CHARGE_POINT_ID": IDENTITY}, 2, "http_auth"),
    ("echo-in-401", lambda: _scenario(_echo_in_401), {}, 2, "http_auth"),
    ("echo-in-reason-phrase", lambda: _scenario(_echo_in_status(b"499")), {}, 2, "http_status"),
    ("echo-in-callerror", lambda: _scenario(_echo_in_callerror), {}, 2, "callerror"),
    ("echo-in-close-reason", lambda: _scenario(_echo_in_close), {}, 2, "closed"),
    ("echo-in-boot-2.0.1", lambda: _scenario(_echo_in_boot), {"OCPP_VERSION": "2.0.1"}, 2, "boot_rejected"),
    ("echo-then-accept", lambda: _scenario(_echo_then_accept), {}, 0, None),
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_password_never_in_output(case: tuple[str, Callable[[], Any], dict[str, str], int, str | None]) -> None:
    name, target, extra, code, kind = case
    for mode in MODES:
        with target() as url:
            env = {"WS_URL": url, "OCPP_PASSWORD": PASSWORD, "PROBE_TIMEOUT": "3", **extra}
            run = probe_in_process(mode, env)
        assert run.code == code, (mode, run.stdout)
        _assert_clean(run, _forms(PASSWORD), f"{name} {mode}")
        if "-v" in mode:
            assert "Authorization: <redacted>" in run.stderr  # the trace did show the request
        if name.startswith("echo-in-") and name != "echo-in-401" and "--json" in mode:
            assert "<redacted>" in run.doc["reason"]
        if "--json" in mode:
            assert run.doc["failure_kind"] == kind


def test_password_file_and_proxy_password_never_in_output(tmp_path: Any) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(FILE_PASSWORD + "\n", encoding="utf-8")
    with refusing_port() as proxy_port:  # the proxy refuses
        for mode in MODES:
            env = {
                "WS_URL": "ws://csms.example.com/ocpp/CP-1",
                "OCPP_PASSWORD_FILE": str(password_file),
                "PROBE_PROXY": f"http://probe:{PROXY_PASSWORD}@127.0.0.1:{proxy_port}",
                "PROBE_TIMEOUT": "2",
            }
            run = probe_in_process(mode, env)
            assert run.code == 2
            assert f"connection refused by 127.0.0.1:{proxy_port}" in run.stdout
            if "--json" in mode:
                assert run.doc["failure_kind"] == "refused"
            _assert_clean(run, [FILE_PASSWORD, PROXY_PASSWORD], f"proxy {mode}")


def test_password_file_echoed_by_server_is_redacted(tmp_path: Any) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(FILE_PASSWORD + "\n", encoding="utf-8")
    for mode in MODES:
        with ScenarioServer(_echo_in_401) as server:
            run = probe_in_process(
                mode, {"WS_URL": server.url("CP-1"), "OCPP_PASSWORD_FILE": str(password_file)}
            )
        assert run.code == 2 and "HTTP 401" in run.stdout
        _assert_clean(run, [FILE_PASSWORD], f"password file {mode}")


def test_tls_key_never_in_output(pki: Pki) -> None:
    markers = _key_markers(pki.client_key) + _key_markers(pki.other_client_key)
    context = pki.server_context("good", require_client_cert=True)

    healthy_tls = over_tls(context, healthy)
    base = {"TLS_CA_FILE": pki.ca_file, "TLS_CERT_FILE": pki.client_cert, "PROBE_TIMEOUT": "3"}
    for mode in MODES:
        with ScenarioServer(healthy_tls) as server:
            url = server.url(scheme="wss")
            passing = probe_in_process(mode, {**base, "WS_URL": url, "TLS_KEY_FILE": pki.client_key})
            mismatched = probe_in_process(mode, {**base, "WS_URL": url, "TLS_KEY_FILE": pki.other_client_key})
            key_as_cert = probe_in_process(
                mode, {**base, "WS_URL": url, "TLS_CERT_FILE": pki.client_key, "TLS_KEY_FILE": pki.client_key}
            )
            key_as_ca = probe_in_process(
                mode, {**base, "WS_URL": url, "TLS_CA_FILE": pki.client_key, "TLS_KEY_FILE": pki.client_key}
            )
        assert passing.code == 0, passing.stdout
        assert mismatched.code == 3 and "TLS_KEY_FILE" in mismatched.stdout
        assert key_as_cert.code == 3 and "TLS_" in key_as_cert.stdout
        assert key_as_ca.code == 3 and "TLS_CA_FILE" in key_as_ca.stdout
        for run in (passing, mismatched, key_as_cert, key_as_ca):
            _assert_clean(run, markers, f"tls key {mode}")


@pytest.mark.parametrize("passing", [True, False], ids=["passing", "failing"])
def test_password_never_in_output_of_the_process(passing: bool) -> None:
    # The real stdout/stderr of `python probe.py`, not just the in-process streams.
    with _scenario(_echo_then_accept if passing else _echo_in_401) as url:
        for mode in MODES:
            run = probe_process(mode, {"WS_URL": url, "OCPP_PASSWORD": PASSWORD, "PROBE_TIMEOUT": "3"})
            assert run.code == (0 if passing else 2), run.stdout + run.stderr
            _assert_clean(run, _forms(PASSWORD), f"process {mode}")


def test_the_echoing_servers_do_echo() -> None:
    # Proof that the redaction above is tested: with a password too short to be searched
    # for, the echoing servers' answers carry it into the output.
    with _scenario(_echo_in_callerror) as url:
        run = probe_in_process(["--json"], {"WS_URL": url, "OCPP_PASSWORD": "abc"})
    assert run.code == 2
    assert f"bad {IDENTITY}:abc" in run.doc["reason"]


PUSH_TOKEN = "Kuma-Token-Marker-7b1e"


def _kuma_echo(peer: Peer) -> None:
    # A Kuma (or a proxy in front of it) that quotes the request, token and all, in its error.
    line = peer.read_request()["request-line"]
    body = ('{"ok":false,"msg":"no monitor for ' + line.replace('"', "'") + '"}').encode()
    peer.respond("500 " + line[:60], body, "Content-Type: application/json\r\n")


@pytest.mark.parametrize("kuma", ["accepts", "unknown-token", "echoes-the-token"])
@pytest.mark.parametrize("csms_passes", [True, False], ids=["csms-ok", "csms-down"])
def test_push_token_never_in_output(kuma: str, csms_passes: bool) -> None:
    csms_script = _echo_then_accept if csms_passes else _echo_in_401
    with _scenario(csms_script) as csms_url, KumaReceiver(tokens=(PUSH_TOKEN,)) as receiver, \
            ScenarioServer(_kuma_echo) as echo:
        push_url = {
            "accepts": receiver.url(PUSH_TOKEN),
            "unknown-token": f"http://127.0.0.1:{receiver.port}/api/push/{PUSH_TOKEN}-x",
            "echoes-the-token": f"http://127.0.0.1:{echo.port}/api/push/{PUSH_TOKEN}",
        }[kuma]
        for mode in MODES:
            env = {"WS_URL": csms_url, "OCPP_PASSWORD": PASSWORD, "PROBE_TIMEOUT": "3",
                   "KUMA_PUSH_URL": push_url}
            run = probe_in_process(mode, env)
            assert run.code in (0, 1, 2), run.stdout
            if kuma == "accepts":
                assert run.code == (0 if csms_passes else 2), run.stdout
            _assert_clean(run, [PUSH_TOKEN, *_forms(PASSWORD)], f"push {kuma} {mode}")
            with_flag = probe_in_process([*mode, "--push-url", push_url], {k: v for k, v in env.items()
                                                                           if k != "KUMA_PUSH_URL"})
            _assert_clean(with_flag, [PUSH_TOKEN], f"push flag {kuma} {mode}")
    if kuma == "accepts":
        assert len(receiver.requests) == 2 * len(MODES)
