"""Text from every remote party is shown safely in every output mode.

Each party here sends terminal escape sequences, a bell, line breaks and a Nagios
``|``: the CSMS (HTTP reason phrase, CALLERROR description, close reason, action
name, BootNotification reasonCode), Uptime Kuma (JSON msg, status line, body) and a
proxy (CONNECT status line). Whatever the mode (text line, --json, Prometheus, -v
trace, the push msg, a loop), no control character reaches the output raw, each
output stays one line per record, and the Nagios status part never gets a ``|``.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ocpp_probe.loop import run_loop
from ocpp_probe.printable import NAGIOS_BAR
from ocpp_probe.runner import OutputFormat, run_options_from
from ocpp_probe.settings import check_settings_from

from .peers.kuma_receiver import KumaReceiver
from .peers.scenario_server import Peer, ScenarioServer
from .support.runs import Run, probe_in_process
from .support.scripts import BOOT_OK

EVIL = "db down | queue=99 \x1b[31mRED\x1b[0m\x07\u2028end"
EVIL_HEAD = "db down | queue=99 \x1b[31mRED\x1b[0m\x07end"  # no line break: it must parse as HTTP
TOKEN = "Text-Token-0001"
# Raw control characters other than the newline that ends each record.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
MODES = [[], ["--json"], ["--format", "prometheus"], ["-v"]]


def _reason_phrase(peer: Peer) -> None:
    peer.read_request()
    peer.respond("499 " + EVIL_HEAD)


def _callerror(peer: Peer) -> None:
    peer.accept()
    call = peer.read_call()
    peer.send_json([4, call[1], "InternalError", EVIL, {}])


def _close_reason(peer: Peer) -> None:
    peer.accept()
    peer.read_call()
    peer.close_with(1011, EVIL[:40])


def _action_and_reason_code(peer: Peer) -> None:
    peer.accept()
    call = peer.read_call()
    peer.send_json([2, "csms-1", "Evil|x=1\x1b[31m", {}])
    peer.read_call()
    rejected = {**BOOT_OK, "status": "Rejected", "statusInfo": {"reasonCode": "no|r=1\x1b[31m"}}
    peer.send_json([3, call[1], rejected])


def _proxy_refusal(peer: Peer) -> None:
    peer.read_request()
    peer.respond("403 " + EVIL_HEAD)


CSMS_CASES: dict[str, tuple[Callable[[Peer], None], dict[str, str]]] = {
    "http-reason-phrase": (_reason_phrase, {}),
    "callerror-description": (_callerror, {}),
    "close-reason": (_close_reason, {}),
    "action-and-reason-code": (_action_and_reason_code, {"OCPP_VERSION": "2.0.1"}),
}


def _assert_safe(run: Run, mode: list[str], what: str) -> None:
    for stream, text in (("stdout", run.stdout), ("stderr", run.stderr)):
        assert not RAW_CONTROL.search(text), f"{what} {mode}: raw control character in {stream}: {text!r}"
    if mode == []:
        lines = run.stdout.splitlines()
        assert len(lines) == 1, run.stdout
        # Exactly one "|": the one before the perfdata, which is all label=value.
        status, bar, perfdata = lines[0].partition(" | ")
        assert bar and "|" not in status and "|" not in perfdata, lines[0]
        assert all(re.fullmatch(r"[a-z_]+=[-0-9.]+(ms|s)?;[^ ]*", item) for item in perfdata.split()), perfdata
    if mode == ["--json"]:
        assert len(run.stdout.splitlines()) == 1
        json.loads(run.stdout)
    if mode == ["--format", "prometheus"]:
        families = list(text_string_to_metric_families(run.stdout))
        assert any(family.name == "ocpp_probe_success" for family in families)
    if mode == ["-v"]:
        for line in run.stderr.splitlines():
            assert line.startswith(("[", " ", "ocpp-probe: ")), line


@contextmanager
def _kuma() -> Iterator[KumaReceiver]:
    with KumaReceiver((TOKEN,)) as kuma:
        yield kuma
    for request in kuma.requests:
        msg = request.one("msg")
        assert not RAW_CONTROL.search(msg) and "\n" not in msg, msg


@pytest.mark.parametrize("case", list(CSMS_CASES))
def test_csms_text_is_escaped_in_every_mode_and_in_the_push(case: str) -> None:
    script, extra = CSMS_CASES[case]
    with ScenarioServer(script) as csms, _kuma() as kuma:
        for mode in MODES:
            env = {"WS_URL": csms.url(), "PROBE_TIMEOUT": "3", "KUMA_PUSH_URL": kuma.url(), **extra}
            run = probe_in_process(mode, env)
            assert run.code == 2, run.stdout
            _assert_safe(run, mode, case)
            if mode == []:
                assert "\\x1b[31m" in run.stdout  # the text did arrive, escaped
                assert NAGIOS_BAR in run.stdout
        assert len(kuma.requests) == len(MODES)
        assert "\\x1b[31m" in kuma.requests[0].one("msg")
        assert "|" in kuma.requests[0].one("msg")  # Kuma's msg is no Nagios line


def _kuma_json_msg(peer: Peer) -> None:
    peer.read_request()
    body = json.dumps({"ok": False, "msg": EVIL}).encode()
    peer.respond("404 Not Found", body, "Content-Type: application/json\r\n")


def _kuma_status_and_body(peer: Peer) -> None:
    peer.read_request()
    peer.respond("500 " + EVIL_HEAD, ("<html>" + EVIL + "</html>").encode())


@pytest.mark.parametrize("script", [_kuma_json_msg, _kuma_status_and_body], ids=["json-msg", "status-and-body"])
def test_kuma_text_is_escaped_in_every_mode(script: Callable[[Peer], None]) -> None:
    with ScenarioServer(script) as kuma:
        url = f"http://127.0.0.1:{kuma.port}/api/push/{TOKEN}"
        for mode in MODES:
            run = probe_in_process(["--demo", *mode], {"KUMA_PUSH_URL": url})
            assert run.code == 1, run.stdout + run.stderr
            _assert_safe(run, mode, "kuma")
            assert "\\x1b[31m" in run.stderr
            assert len(run.stderr.splitlines()) == (1 if mode != ["-v"] else len(run.stderr.splitlines()))


def test_proxy_text_is_escaped_in_every_mode() -> None:
    with ScenarioServer(_proxy_refusal) as proxy:
        for mode in MODES:
            env = {"WS_URL": "ws://csms.example.com/ocpp/CP-1", "PROBE_TIMEOUT": "2",
                   "PROBE_PROXY": f"http://127.0.0.1:{proxy.port}"}
            run = probe_in_process(mode, env)
            assert run.code == 2
            _assert_safe(run, mode, "proxy")
            if mode == []:
                assert f"refused CONNECT: 403 db down {NAGIOS_BAR} queue=99 \\x1b[31mRED" in run.stdout


def test_csms_text_is_escaped_in_a_loop() -> None:
    with ScenarioServer(_callerror) as csms:
        values = {"WS_URL": csms.url(), "PROBE_EVERY": "0.05", "PROBE_TIMEOUT": "2"}
        for fmt in (OutputFormat.TEXT, OutputFormat.JSON):
            out, err = io.StringIO(), io.StringIO()
            code = run_loop(check_settings_from(values), run_options_from(values, fmt, None), out, err,
                            max_checks=2)
            assert code == 0
            lines = out.getvalue().splitlines()
            assert len(lines) == 2
            for line in lines:
                assert not RAW_CONTROL.search(line)
                if fmt is OutputFormat.TEXT:
                    assert line.count("|") == 1 and NAGIOS_BAR in line
                else:
                    assert "\\x1b[31m" in json.loads(line)["reason"]


def test_long_outside_text_is_bounded() -> None:
    def long_description(peer: Peer) -> None:
        peer.accept()
        call = peer.read_call()
        peer.send_json([4, call[1], "InternalError", "x" * 50000, {}])

    def long_msg(peer: Peer) -> None:
        peer.read_request()
        peer.respond("404 Not Found", json.dumps({"ok": False, "msg": "y" * 50000}).encode())

    with ScenarioServer(long_description) as csms, ScenarioServer(long_msg) as kuma:
        run = probe_in_process(["--json"], {"WS_URL": csms.url(), "PROBE_TIMEOUT": "3",
                                            "KUMA_PUSH_URL": f"http://127.0.0.1:{kuma.port}/api/push/{TOKEN}"})
    assert run.code == 2
    assert run.doc["reason"].startswith("CSMS answered BootNotification with CALLERROR InternalError: xxx")
    assert len(run.doc["reason"]) <= 1000
    detail = run.doc["push"]["detail"]
    assert detail.startswith("Kuma answered HTTP 404: yyy") and detail.endswith("...")
    assert len(detail) == 300
    assert len(run.stderr) < 400
