"""Uptime Kuma's Push monitor: bring each check's verdict to Kuma with one GET.

No released Kuma has a monitor that runs a command of yours, so the probe calls Kuma instead:
``<kuma>/api/push/<token>?status=up|down&msg=...&ping=<ms>``. Kuma 1.23 accepts GET
only and reads the query string only, so that is all this sends. ``ping`` is the
Heartbeat RTT, which Kuma charts as the monitor's response time.

KUMA_PUSH_TIMEOUT bounds the whole push (name resolution, connect, proxy, TLS,
sending, and reading the answer however slowly it comes): one Deadline, see
httpclient.request. The token is the only credential a push monitor has: it never
appears in output, errors or traces, whole or in part (see redact.py).
"""

from __future__ import annotations

import ssl
import time
import urllib.parse

import orjson

from .deadline import Deadline
from .failures import FailureKind
from .httpclient import (
    NetFailure,
    environment_proxy,
    parse_proxy,
    request,
)
from .printable import shown
from .push_target import ProxyEnvironment, PushTarget
from .records import record
from .reporters.text import summary
from .result import CheckResult, Verdict
from .tls import system_ca_file
from .trace import Tracer

MSG_MAX = 250  # Kuma shows msg in one line of its event list; keep it readable
DETAIL_MAX = 300  # what Kuma or a proxy answered, quoted in one stderr line
PING_MAX_MS = 1e11  # Kuma 2.x refuses larger values
_ANSWER_MAX = 65536
MAX_REDIRECTS = 3


@record
class PushOutcome:
    """How a push to Kuma went."""

    ok: bool
    target: str  # the redacted URL
    detail: str  # one line: what Kuma answered, or why it could not be reached
    http_status: int | None = None
    elapsed_ms: float = 0.0


def push_query(result: CheckResult, warning_is_down: bool = False) -> dict[str, str]:
    """The query parameters Kuma reads: status, msg and (when measured) ping."""
    up = result.verdict is Verdict.OK or (
        result.verdict is Verdict.WARNING and not warning_is_down
    )
    msg = shown(f"{result.verdict.name} - {summary(result)}", MSG_MAX)
    query = {"status": "up" if up else "down", "msg": msg}
    rtt = result.heartbeat_rtt_ms
    if rtt is not None and 0 <= rtt <= PING_MAX_MS:
        query["ping"] = f"{rtt:.3f}"
    return query


def _judge_answer(status: int, body: bytes) -> tuple[bool, str]:
    # Quotes are cut far beyond what DETAIL_MAX shows, only so that a 64 KiB answer is
    # not searched whole: the shown cut comes after the redactor (push()).
    quote_max = 8 * DETAIL_MAX
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        quoted = body[:quote_max].decode("utf-8", "replace").strip()
        return False, f"HTTP {status} but not Kuma's JSON answer (is this Kuma's URL?): {quoted!r}"
    if not isinstance(answer, dict):
        return False, f"HTTP {status} with unexpected JSON {body[:quote_max].decode('utf-8', 'replace')!r}"
    if answer.get("ok") is True:
        return True, f"HTTP {status} ok"
    why = str(answer.get("msg") or "no reason given")[:quote_max]
    hint = ""
    if status == 404:
        hint = " (check the push token, and that the monitor exists and is not paused)"
    return False, f"Kuma answered HTTP {status}: {why}{hint}"


def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=system_ca_file())
    from .tls_socket import DeadlineSSLSocket  # here: a ws:// check never loads ssl

    context.sslsocket_class = DeadlineSSLSocket
    return context


def _send(
    target: PushTarget, url: str, deadline: Deadline, proxies: ProxyEnvironment
) -> tuple[int, bytes]:
    """GET ``url``, following a few redirects (http to https at a reverse proxy)."""
    for _ in range(MAX_REDIRECTS + 1):
        parts = urllib.parse.urlsplit(url)
        proxy = None
        chosen = environment_proxy(proxies.values, parts.scheme, parts.hostname or "")
        if chosen is not None:
            try:
                proxy = parse_proxy(chosen[1])
            except ValueError as exc:
                raise NetFailure(f"{chosen[0]} {exc}", FailureKind.PROXY) from None
        headers = {"User-Agent": "ocpp-probe", "Accept": "application/json"}
        if target.authorization and parts.hostname == urllib.parse.urlsplit(target.url).hostname:
            headers["Authorization"] = target.authorization
        context = _tls_context() if parts.scheme == "https" else None
        response = request(url, deadline, headers, proxy, context, _ANSWER_MAX)
        location = response.head.header("location")
        if response.status not in (301, 302, 303, 307, 308) or not location:
            break
        url = urllib.parse.urljoin(url, location)
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            break
    return response.status, response.body


def push(
    target: PushTarget,
    result: CheckResult,
    timeout_s: float,
    proxies: ProxyEnvironment | None = None,
    warning_is_down: bool = False,
    trace: Tracer | None = None,
) -> PushOutcome:
    """Send one result to Kuma within ``timeout_s`` in total; never raises for
    anything the network, a proxy or Kuma does."""
    query = push_query(result, warning_is_down)
    separator = "&" if urllib.parse.urlsplit(target.url).query else "?"
    url = target.url + separator + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
    if trace:
        trace(f"> push to {target.display} status={query['status']} ping={query.get('ping', '-')}")
    begin = time.perf_counter()
    deadline = Deadline.after(timeout_s, "push")
    status: int | None = None
    proxies = proxies or ProxyEnvironment()
    try:
        status, body = _send(target, url, deadline, proxies)
        ok, detail = _judge_answer(status, body)
        ok = ok and 200 <= status < 300  # an error status is a failed push whatever the body says
    except NetFailure as exc:
        ok = False
        if exc.kind is FailureKind.TIMEOUT:
            got = "an incomplete answer" if exc.partial else "no answer"
            detail = f"cannot reach Kuma: {got} within {timeout_s:g} s"
        elif exc.partial:
            detail = f"bad answer from Kuma: {exc.message}"
        else:
            detail = f"cannot reach Kuma: {exc.message}"
    except Exception as exc:  # a bug, not Kuma's doing: say so instead of a traceback
        ok, detail = False, f"push failed: {type(exc).__name__}: {exc}"
    elapsed_ms = (time.perf_counter() - begin) * 1000
    # Redact first, then bound: a cut must not leave a piece the redactor misses.
    detail = shown(target.redact(detail, *proxies.secrets()), DETAIL_MAX)
    outcome = PushOutcome(ok, target.display, detail, status, elapsed_ms)
    if trace:
        trace(f"< push {'ok' if ok else 'FAILED'}: {outcome.detail} ({elapsed_ms:.1f} ms)")
    return outcome


def outcome_document(outcome: PushOutcome) -> dict[str, object]:
    return {
        "ok": outcome.ok,
        "url": outcome.target,
        "http_status": outcome.http_status,
        "detail": outcome.detail,
        "elapsed_ms": round(outcome.elapsed_ms, 3),
    }
