"""Secrets stay hidden in part too: cut, percent-encoded, base64-encoded, inside URLs.

Companion of test_hostile_secrets.py. Receivers, proxies and a CSMS here echo what
they were sent: whole, cut by a length bound (30 of 32 characters), percent-encoded
and base64-encoded. Marker secrets are given in every place a secret can be given:
the OCPP password, the proxy URL's password, the push URL's token and its
user:password, and a token in WS_URL's query. No output mode may show any 8
characters in a row of any of them (the redactor's documented fragment length).
"""

from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from ocpp_probe.loop import run_loop
from ocpp_probe.redact import FRAGMENT_CHARS, Redactor
from ocpp_probe.runner import OutputFormat, run_options_from
from ocpp_probe.serve.command import RunningServer
from ocpp_probe.serve.config import parse_config
from ocpp_probe.settings import check_settings_from

from .peers.scenario_server import Peer, ScenarioServer
from .support.runs import Run, probe_in_process

TOKEN = "KumaTok3n-Marker-0123456789abcde"  # 32 characters, as Kuma makes them
PUSH_PASSWORD = "PushPass-Marker-77aa"
PROXY_PASSWORD = "ProxyPass-Marker-93c4"
OCPP_PASSWORD = "OcppPass-Marker-5d21"
QUERY_TOKEN = "QueryTok-Marker-e0f9a1"
MODES = [[], ["--json"], ["-v"], ["--format", "prometheus"], ["-v", "--json"]]


def _encodings(secret: str) -> list[str]:
    raw = secret.encode()
    return [
        secret,
        urllib.parse.quote(secret, safe=""),
        "".join(f"%{byte:02X}" for byte in raw),
        base64.b64encode(raw).decode(),
        base64.b64encode(b"x:" + raw).decode(),
    ]


def _pieces(secret: str) -> set[str]:
    """What shows FRAGMENT_CHARS characters of ``secret`` in a row, in any encoding:
    the run itself, percent-encoded, and base64 at each of the three byte offsets
    (11 base64 characters carry 8 bytes)."""
    pieces: set[str] = set()
    for start in range(len(secret) - FRAGMENT_CHARS + 1):
        run = secret[start : start + FRAGMENT_CHARS]
        every = "".join(f"%{byte:02X}" for byte in run.encode())
        pieces |= {run, urllib.parse.quote(run, safe=""), every, every.lower()}
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret.encode()).decode()[4 if offset else 0 : -4]
        pieces |= {encoded[i : i + 11] for i in range(len(encoded) - 10)}
    return pieces


def _assert_hidden(texts: dict[str, str], secrets: list[str], what: str) -> None:
    for secret in secrets:
        for piece in _pieces(secret):
            for where, text in texts.items():
                assert piece not in text, f"{what}: {piece!r} (of {secret!r}) in {where}:\n{text}"


def _run_texts(run: Run) -> dict[str, str]:
    return {"stdout": run.stdout, "stderr": run.stderr}


def _echo_forms(secret: str) -> str:
    """What an echoing peer says: the secret whole, cut at both ends, encoded twice."""
    return (
        f"got {secret} cut {secret[:30]} tail {secret[2:]} "
        f"pct {''.join(f'%{byte:02X}' for byte in secret.encode())} "
        f"b64 {base64.b64encode(secret.encode()).decode()}"
    )


def _kuma_echo(peer: Peer) -> None:
    # Quotes the request path (token and all) and the Basic credentials it was sent.
    headers = peer.read_request()
    path = headers["request-line"].split(" ")[1].split("?")[0]
    token = urllib.parse.unquote(path.rsplit("/", 1)[-1])
    basic = headers.get("authorization", "Basic ").split(" ", 1)[1]
    credentials = base64.b64decode(basic).decode() if basic else ""
    msg = f"{_echo_forms(token)} {path} auth {basic} {_echo_forms(credentials)}"
    body = json.dumps({"ok": False, "msg": msg}).encode()
    peer.respond("404 " + _echo_forms(token)[:200], body, "Content-Type: application/json\r\n")


@pytest.mark.parametrize("mode", MODES, ids=[" ".join(mode) or "text" for mode in MODES])
def test_push_token_and_credentials_echoed_cut_and_encoded_stay_hidden(mode: list[str]) -> None:
    with ScenarioServer(_kuma_echo) as kuma:
        url = f"http://pusher:{PUSH_PASSWORD}@127.0.0.1:{kuma.port}/kuma/api/push/{TOKEN}"
        run = probe_in_process(["--demo", *mode], {"KUMA_PUSH_URL": url})
        assert len(kuma.peers) == 1
    assert run.code == 1, run.stdout + run.stderr
    assert "Kuma answered HTTP 404: got <redacted>" in run.stderr  # the echo did arrive
    _assert_hidden(_run_texts(run), [TOKEN, PUSH_PASSWORD], f"push {mode}")


def test_push_echo_stays_hidden_in_a_loop() -> None:
    with ScenarioServer(_kuma_echo) as kuma:
        values = {"WS_URL": f"ws://127.0.0.1:9/ocpp/CP-1?token={QUERY_TOKEN}", "PROBE_EVERY": "0.05",
                  "PROBE_TIMEOUT": "1",
                  "KUMA_PUSH_URL": f"http://u:{PUSH_PASSWORD}@127.0.0.1:{kuma.port}/api/push/{TOKEN}"}
        for fmt in (OutputFormat.TEXT, OutputFormat.JSON):
            out, err = io.StringIO(), io.StringIO()
            trace: list[str] = []
            code = run_loop(check_settings_from(values), run_options_from(values, fmt, None), out, err,
                            trace=trace.append, max_checks=2)
            assert code == 0
            assert err.getvalue().count("Kuma answered HTTP 404: got <redacted>") == 2
            assert err.getvalue().startswith("ocpp-probe: checking ws://127.0.0.1:9/ocpp/CP-1?token=<redacted> ")
            texts = {"stdout": out.getvalue(), "stderr": err.getvalue(), "trace": "\n".join(trace)}
            _assert_hidden(texts, [TOKEN, PUSH_PASSWORD, QUERY_TOKEN], f"loop {fmt}")


def _proxy_echo(peer: Peer) -> None:
    # A proxy that refuses, quoting the Proxy-Authorization it got in its status line and body.
    headers = peer.read_request()
    basic = headers.get("proxy-authorization", "Basic ").split(" ", 1)[1]
    credentials = base64.b64decode(basic).decode()
    peer.respond(f"403 denied {_echo_forms(credentials)[:300]}", _echo_forms(credentials).encode())


@pytest.mark.parametrize("mode", MODES, ids=[" ".join(mode) or "text" for mode in MODES])
def test_proxy_password_echoed_by_the_proxy_stays_hidden(mode: list[str]) -> None:
    with ScenarioServer(_proxy_echo) as proxy:
        proxy_url = f"http://probe:{urllib.parse.quote(PROXY_PASSWORD)}@127.0.0.1:{proxy.port}"
        check = probe_in_process(mode, {"WS_URL": "ws://csms.example.com/ocpp/CP-1",
                                        "PROBE_PROXY": proxy_url, "PROBE_TIMEOUT": "2"})
        push = probe_in_process(["--demo", *mode], {
            "KUMA_PUSH_URL": f"http://kuma.example.com/api/push/{TOKEN}",
            "http_proxy": proxy_url, "no_proxy": "127.0.0.1"})
    assert check.code == 2
    if "prometheus" not in mode:  # the exposition carries no reason
        assert "refused CONNECT: 403 denied got probe:<redacted> cut probe:<redacted>" in check.stdout + check.stderr
    assert push.code == 1
    assert "HTTP 403" in push.stderr or "403" in push.stdout
    for run in (check, push):
        _assert_hidden(_run_texts(run), [PROXY_PASSWORD, TOKEN], f"proxy {mode}")


def _csms_echo(peer: Peer) -> None:
    # A CSMS that quotes the request line (query token included) and the credentials.
    headers = peer.read_request()
    basic = headers.get("authorization", "Basic ").split(" ", 1)[1]
    credentials = base64.b64decode(basic).decode()
    query = urllib.parse.unquote(headers["request-line"].split("?", 1)[1].split(" ")[0])
    # 499: a status the probe has no words for, so it quotes the reason phrase.
    peer.respond(f"499 no {_echo_forms(query)[:250]} {_echo_forms(credentials)[:250]}")


@pytest.mark.parametrize("mode", MODES, ids=[" ".join(mode) or "text" for mode in MODES])
def test_query_token_and_password_echoed_by_the_csms_stay_hidden(mode: list[str]) -> None:
    with ScenarioServer(_csms_echo) as csms:
        url = csms.url("CP-1") + f"?token={QUERY_TOKEN}&v=2"
        run = probe_in_process(mode, {"WS_URL": url, "OCPP_PASSWORD": OCPP_PASSWORD, "PROBE_TIMEOUT": "2"})
    assert run.code == 2
    assert "HTTP 499 no got token=<redacted>" in run.stdout or 'step="upgrade"' in run.stdout
    if "--json" in mode:
        assert run.doc["target"] == f"ws://127.0.0.1:{csms.port}/ocpp/CP-1?token=<redacted>&v=<redacted>"
    if mode == ["--format", "prometheus"]:
        assert 'target="ws://127.0.0.1:' in run.stdout and "?token=<redacted>&v=<redacted>" in run.stdout
    _assert_hidden(_run_texts(run), [QUERY_TOKEN, OCPP_PASSWORD], f"query {mode}")


def _fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return str(answer.read().decode())
    except urllib.error.HTTPError as exc:  # 503: the check failed, as it should
        with exc:
            return str(exc.read().decode())


def test_query_token_and_password_stay_hidden_in_serve_mode() -> None:
    with ScenarioServer(_csms_echo) as csms:
        target = {"ws_url": csms.url("CP-1") + f"?token={QUERY_TOKEN}", "ocpp_password": OCPP_PASSWORD,
                  "probe_timeout": 2}
        config = parse_config({"server": {"listen": "127.0.0.1:0"}, "targets": {"t": target}}, {}, "t.toml")
        running = RunningServer(config)
        try:
            root = f"http://127.0.0.1:{running.port}"
            texts = {
                "json": _fetch(f"{root}/probe?target=t&format=json"),
                "prometheus": _fetch(f"{root}/probe?target=t&format=prometheus"),
                "debug": _fetch(f"{root}/probe?target=t&debug=true"),
                "status page": _fetch(f"{root}/"),
                "metrics": _fetch(f"{root}/metrics"),
            }
        finally:
            running.close()
    assert json.loads(texts["json"])["reason"].startswith("HTTP 499 no got token=<redacted>")
    assert json.loads(texts["json"])["target"].endswith("/ocpp/CP-1?token=<redacted>")
    assert 'step="upgrade"' in texts["prometheus"]
    assert "?token=&lt;redacted&gt;" in texts["status page"] or "?token=<redacted>" in texts["status page"]
    _assert_hidden(texts, [QUERY_TOKEN, OCPP_PASSWORD], "serve")


def test_fragments_shorter_than_the_rule_are_the_only_ones_left() -> None:
    # The documented rule: 8 characters of a long secret are redacted, 7 are not.
    redactor = Redactor([TOKEN])
    assert redactor.text(f"x {TOKEN[3:11]} y") == "x <redacted> y"
    assert redactor.text(f"x {TOKEN[3:10]} y") == f"x {TOKEN[3:10]} y"
    # Half of a short secret is enough: 5 of a 10-character one.
    assert Redactor(["Ab3dE6gH9j"]).text("see E6gH9 here") == "see <redacted> here"
    # Percent and base64 forms at any offset, upper- or lower-case escapes.
    for form in [*_encodings(TOKEN), urllib.parse.quote(TOKEN, safe="").lower()]:
        assert redactor.text(f"<{form}>") != f"<{form}>", form
        assert not any(piece in redactor.text(f"<{form}>") for piece in _pieces(TOKEN))


def test_the_echoing_peers_do_echo() -> None:
    # Proof that the tests above can fail: a secret below the searched length gets through.
    with ScenarioServer(_kuma_echo) as kuma:
        run = probe_in_process(["--demo"], {"KUMA_PUSH_URL": f"http://127.0.0.1:{kuma.port}/api/push/abc"})
    assert "got abc cut abc tail c pct %61%62%63 b64 YWJj" in run.stderr


def test_a_whole_basic_token_is_redacted_with_its_padding() -> None:
    token = base64.b64encode(b"CP-1:" + OCPP_PASSWORD.encode()).decode()
    assert token.endswith("=")
    redactor = Redactor([OCPP_PASSWORD, token])
    assert redactor.text(f"you sent Basic {token} ({token})") == "you sent Basic <redacted> (<redacted>)"


@pytest.mark.parametrize("place", ["OCPP_PASSWORD", "OCPP_PASSWORD_FILE", "OCPP_PASSWORD_HEX"])
def test_the_password_echoed_cut_and_encoded_stays_hidden_wherever_it_is_given(
    place: str, tmp_path: Path
) -> None:
    env = {"OCPP_PASSWORD": OCPP_PASSWORD}
    if place == "OCPP_PASSWORD_FILE":
        path = f"{tmp_path}/password"
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(OCPP_PASSWORD + "\n")
        env = {"OCPP_PASSWORD_FILE": path}
    if place == "OCPP_PASSWORD_HEX":
        env = {"OCPP_PASSWORD": OCPP_PASSWORD.encode().hex(), "OCPP_PASSWORD_HEX": "true"}
    with ScenarioServer(_csms_echo) as csms:
        for mode in MODES:
            run = probe_in_process(mode, {"WS_URL": csms.url("CP-1") + "?x=1", "PROBE_TIMEOUT": "2", **env})
            assert run.code == 2
            if mode == []:
                assert "HTTP 499 no got x=1 cut x=1" in run.stdout and "CP-1:<redacted>" in run.stdout
            _assert_hidden(_run_texts(run), [OCPP_PASSWORD, OCPP_PASSWORD.encode().hex()], f"{place} {mode}")
