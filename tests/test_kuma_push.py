"""Push to Uptime Kuma: the exact request Kuma gets, and how push failures are reported."""

from __future__ import annotations

import socket

from ocpp_probe.failures import FailureKind
from ocpp_probe.push import MSG_MAX, push_query
from ocpp_probe.push_target import push_target_from
from ocpp_probe.result import CheckResult, Step, Verdict
from ocpp_probe.settings import ConfigError

from .peers.kuma_receiver import KumaReceiver
from .support.net import free_port
from .support.runs import probe_in_process

TOKEN = "T0KEN-abc123"


def test_ok_check_pushes_up_with_msg_and_heartbeat_rtt_as_ping() -> None:
    with KumaReceiver((TOKEN,)) as kuma:
        run = probe_in_process(["--demo", "--json"], {"KUMA_PUSH_URL": kuma.url()})
    assert run.code == 0, run.stdout + run.stderr
    assert len(kuma.requests) == 1
    request = kuma.requests[0]
    assert request.method == "GET"
    assert request.path == f"/api/push/{TOKEN}"
    assert set(request.query) == {"status", "msg", "ping"}
    assert request.one("status") == "up"
    assert request.one("msg").startswith("OK - ocpp1.6 BootNotification Accepted, Heartbeat RTT ")
    assert "|" not in request.one("msg")  # no perfdata
    rtt = run.doc["heartbeat_rtt_ms"]
    assert abs(float(request.one("ping")) - rtt) < 0.0011
    assert run.doc["push"] == {
        "ok": True, "url": f"http://127.0.0.1:{kuma.port}/api/push/<redacted>",
        "http_status": 200, "detail": "HTTP 200 ok", "elapsed_ms": run.doc["push"]["elapsed_ms"],
    }
    assert run.stderr == ""


def test_warning_check_pushes_up_by_default_and_down_when_asked() -> None:
    with KumaReceiver((TOKEN,)) as kuma:
        first = probe_in_process(["--demo", "--warn-rtt", "0.000001", "--push-url", kuma.url()])
        second = probe_in_process(
            ["--demo", "--warn-rtt", "0.000001", "--push-url", kuma.url()],
            {"KUMA_PUSH_WARNING_DOWN": "true"},
        )
    assert (first.code, second.code) == (1, 1)
    up, down = kuma.requests
    assert up.one("status") == "up"
    assert down.one("status") == "down"
    for request in (up, down):
        assert request.one("msg").startswith("WARNING - Heartbeat RTT ")
        assert "above 1e-06 ms" in request.one("msg")
        assert float(request.one("ping")) > 0


def test_critical_check_pushes_down_with_reason_and_no_ping() -> None:
    url = f"ws://127.0.0.1:{free_port()}/ocpp/CP-1"
    with KumaReceiver((TOKEN,)) as kuma:
        run = probe_in_process(["--timeout", "3"], {"WS_URL": url, "KUMA_PUSH_URL": kuma.url()})
    assert run.code == 2
    (request,) = kuma.requests
    assert set(request.query) == {"status", "msg"}
    assert request.one("status") == "down"
    assert request.one("msg").startswith("CRITICAL - connect failed: ")
    assert run.stdout.startswith("OCPP CRITICAL - connect failed: ")


def test_unknown_token_404_is_reported_without_the_token_and_makes_ok_a_warning() -> None:
    with KumaReceiver((TOKEN,)) as kuma:
        run = probe_in_process(["--demo", "--json", "--push-url", kuma.url("wrong-S3CRET")])
    assert run.code == 1
    assert run.doc["verdict"] == "OK"  # the check's own verdict stands
    assert (run.doc["exit_code"], run.doc["check_exit_code"]) == (1, 0)  # the process's, the check's
    assert run.doc["push"]["ok"] is False
    assert run.doc["push"]["http_status"] == 404
    expected = (
        f"ocpp-probe: push to http://127.0.0.1:{kuma.port}/api/push/<redacted> failed: "
        "Kuma answered HTTP 404: Monitor not found or not active. "
        "(check the push token, and that the monitor exists and is not paused)\n"
    )
    assert run.stderr == expected
    assert "S3CRET" not in run.stdout + run.stderr
    assert kuma.requests[0].path == "/api/push/wrong-S3CRET"


def test_failed_push_keeps_a_critical_verdicts_exit_code() -> None:
    url = f"ws://127.0.0.1:{free_port()}/ocpp/CP-1"
    with KumaReceiver((TOKEN,)) as kuma:
        run = probe_in_process([], {"WS_URL": url, "KUMA_PUSH_URL": kuma.url("nope")})
    assert run.code == 2
    assert "HTTP 404" in run.stderr


def test_unreachable_kuma_and_non_json_answer_are_push_failures() -> None:
    port = free_port()
    refused = probe_in_process(["--demo"], {"KUMA_PUSH_URL": f"http://127.0.0.1:{port}/api/push/{TOKEN}"})
    assert refused.code == 1
    assert refused.stderr.endswith(f"failed: cannot reach Kuma: connection refused by 127.0.0.1:{port}\n")
    with KumaReceiver((TOKEN,), mode="html") as page:
        html = probe_in_process(["--demo", "--push-url", page.url()])
    assert html.code == 1
    assert "HTTP 200 but not Kuma's JSON answer (is this Kuma's URL?)" in html.stderr
    assert TOKEN not in refused.stderr + html.stderr


def test_kuma_that_never_answers_costs_only_the_push_timeout() -> None:
    with KumaReceiver((TOKEN,), mode="hang") as kuma:
        run = probe_in_process(["--demo", "--push-timeout", "0.5", "--push-url", kuma.url()])
    assert run.code == 1
    assert run.stderr.endswith("failed: cannot reach Kuma: no answer within 0.5 s\n")


def test_url_copied_from_kumas_ui_with_example_parameters_is_accepted() -> None:
    with KumaReceiver((TOKEN,)) as kuma:
        run = probe_in_process(["--demo", "--push-url", kuma.url() + "?status=up&msg=OK&ping="])
    assert run.code == 0
    (request,) = kuma.requests
    assert request.one("status") == "up"
    assert request.one("msg") != "OK"


def test_verbose_trace_shows_the_push_but_never_the_token() -> None:
    with KumaReceiver((TOKEN,)) as kuma:
        run = probe_in_process(["--demo", "-v", "--push-url", kuma.url()])
    assert run.code == 0
    assert f"> push to http://127.0.0.1:{kuma.port}/api/push/<redacted> status=up ping=" in run.stderr
    assert "< push ok: HTTP 200 ok" in run.stderr
    assert TOKEN not in run.stderr + run.stdout


def test_bad_push_url_is_unknown_and_names_the_setting() -> None:
    run = probe_in_process(["--demo"], {"KUMA_PUSH_URL": "http://kuma.example.com/dashboard/1"})
    assert run.code == 3
    assert run.stdout.strip() == (
        "OCPP UNKNOWN - config failed: KUMA_PUSH_URL: must end in /api/push/<token>, "
        "like http(s)://kuma.example.com/api/push/<token>"
    )


def test_bad_check_settings_are_still_pushed_so_kuma_shows_why() -> None:
    with KumaReceiver((TOKEN,)) as kuma:
        run = probe_in_process([], {"KUMA_PUSH_URL": kuma.url()})
    assert run.code == 3
    (request,) = kuma.requests
    assert request.one("status") == "down"
    assert request.one("msg") == (
        "UNKNOWN - config failed: WS_URL: is required (e.g. wss://csms.example.com/ocpp/CP001)"
    )


def test_push_target_keeps_a_reverse_proxy_prefix_and_redacts_the_token() -> None:
    target = push_target_from({"KUMA_PUSH_URL": "https://u:pw@status.example.org:8443/kuma/api/push/abc"})
    assert target is not None
    assert target.display == "https://status.example.org:8443/kuma/api/push/<redacted>"
    assert target.url == "https://status.example.org:8443/kuma/api/push/abc"
    assert target.authorization == "Basic dTpwdw=="
    assert "abc" not in repr(target)
    for bad in ("ftp://h/api/push/x", "http:///api/push/x", "http://h/api/push/", "http://h/api/push/a/b"):
        try:
            push_target_from({"KUMA_PUSH_URL": bad})
        except ConfigError as exc:
            assert exc.setting == "KUMA_PUSH_URL"
        else:
            raise AssertionError(f"{bad} accepted")


def test_long_reasons_are_cut_to_a_readable_msg() -> None:
    result = CheckResult(
        Verdict.CRITICAL, "ws://x/y", "1.6", Step.UPGRADE, "x" * 1000, FailureKind.HTTP_STATUS
    )
    query = push_query(result)
    assert len(query["msg"]) == MSG_MAX
    assert query["msg"].startswith("CRITICAL - upgrade failed: xxx")
    assert query["msg"].endswith("...")
    assert "ping" not in query


def test_a_garbled_http_answer_is_a_push_failure_not_a_crash() -> None:
    import threading

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)

        def answer_garbage() -> None:
            connection, _ = server.accept()
            with connection:
                connection.recv(4096)
                connection.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")

        thread = threading.Thread(target=answer_garbage, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.getsockname()[1]}/api/push/{TOKEN}"
        run = probe_in_process(["--demo", "--json", "--push-url", url])
        thread.join(5)
    assert run.code == 1
    assert run.doc["verdict"] == "OK"
    assert run.doc["push"]["ok"] is False
    assert run.doc["push"]["detail"] == (
        "bad answer from Kuma: server did not answer with HTTP: 'SSH-2.0-OpenSSH_9.2'"
    )
