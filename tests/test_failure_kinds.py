"""The failure kinds: the documented table is the enum, and each kind maps as documented."""

from __future__ import annotations

import errno
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ocpp_probe import check
from ocpp_probe.deadline import Deadline, DeadlineExceeded
from ocpp_probe.failures import CHECK_FIRST, FailureKind, kind_for_http_status, kind_for_os_error
from ocpp_probe.result import Step, Verdict
from ocpp_probe.settings import CheckSettings, check_settings_from

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "failure-kinds.md"
ROW = re.compile(r"^\| `([a-z_0-9]+)` \| (.+) \| (.+) \|$")


def documented() -> list[tuple[str, str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rows.append((match.group(1), match.group(3)))
    return rows


def test_doc_table_lists_every_kind_in_enum_order_with_its_check_first_text() -> None:
    assert documented() == [(kind.value, CHECK_FIRST[kind]) for kind in FailureKind]


def test_every_kind_has_one_check_first_text() -> None:
    assert set(CHECK_FIRST) == set(FailureKind)
    assert all(kind.check_first.strip() and "|" not in kind.check_first for kind in FailureKind)
    assert len({kind.value for kind in FailureKind}) == len(FailureKind)


def test_the_kinds_the_issue_asks_for_exist() -> None:
    asked = (
        "dns refused unreachable timeout tls_untrusted tls_hostname tls_expired tls_client_cert "
        "tls_handshake proxy http_status no_subprotocol wrong_subprotocol bad_handshake ws_protocol "
        "closed ocpp_protocol callerror boot_pending boot_rejected config internal"
    ).split()
    assert set(asked) <= {kind.value for kind in FailureKind}


def test_http_statuses_split_by_what_to_do() -> None:
    assert [kind_for_http_status(code) for code in (401, 403, 404, 400, 500, 503, 200, 301)] == [
        FailureKind.HTTP_AUTH, FailureKind.HTTP_AUTH, FailureKind.HTTP_NOT_FOUND,
        FailureKind.HTTP_STATUS, FailureKind.HTTP_STATUS, FailureKind.HTTP_STATUS,
        FailureKind.HTTP_STATUS, FailureKind.HTTP_STATUS,
    ]


def test_socket_errors_by_errno() -> None:
    def kind(code: int) -> FailureKind:
        return kind_for_os_error(OSError(code, "x"), FailureKind.PROXY)

    assert kind(errno.ECONNREFUSED) is FailureKind.REFUSED
    assert kind(errno.EHOSTUNREACH) is FailureKind.UNREACHABLE
    assert kind(errno.ENETUNREACH) is FailureKind.UNREACHABLE
    assert kind(errno.ECONNRESET) is FailureKind.CLOSED
    assert kind(errno.EPIPE) is FailureKind.CLOSED
    assert kind(errno.EACCES) is FailureKind.PROXY  # says nothing more: the caller's default
    assert kind_for_os_error(TimeoutError(), FailureKind.PROXY) is FailureKind.TIMEOUT


def _settings() -> CheckSettings:
    return check_settings_from({"WS_URL": "ws://127.0.0.1:9/ocpp/CP-1", "PROBE_TIMEOUT": "2"})


def test_a_probe_bug_is_internal_and_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(host: str, port: int, deadline: Deadline) -> list[Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(check, "resolve", broken)
    result = check.run_check(_settings())
    assert (result.verdict, result.failed_step, result.failure_kind) == (
        Verdict.UNKNOWN, Step.RESOLVE, FailureKind.INTERNAL
    )
    assert result.reason == "internal error during resolve: RuntimeError: boom"


def test_a_deadline_that_escapes_its_layer_is_still_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    # The check's own step wrapper is the last translation: no timeout ends as "internal".
    def late(host: str, port: int, deadline: Deadline) -> list[Any]:
        raise DeadlineExceeded("check", 2.0)

    monkeypatch.setattr(check, "resolve", late)
    result = check.run_check(_settings())
    assert (result.verdict, result.failed_step, result.failure_kind) == (
        Verdict.CRITICAL, Step.RESOLVE, FailureKind.TIMEOUT
    )
    assert result.reason == "check timed out after 2 s"


def test_the_json_schema_allows_exactly_the_kinds() -> None:
    with open(ROOT / "docs" / "result.schema.json", encoding="utf-8") as handle:
        schema = json.load(handle)
    assert schema["properties"]["failure_kind"]["enum"] == [*(kind.value for kind in FailureKind), None]
