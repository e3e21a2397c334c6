"""Uptime Kuma's Push monitor: bring each check's verdict to Kuma with one GET.

No released Kuma has a monitor that runs a command of yours, so the probe calls Kuma instead:
``<kuma>/api/push/<token>?status=up|down&msg=...&ping=<ms>``. Kuma 1.23 accepts GET
only and reads the query string only, so that is all this sends. ``ping`` is the
Heartbeat RTT, which Kuma charts as the monitor's response time.

The token is the only credential a push monitor has: it never appears in output,
errors or traces (see PushTarget.display).
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson

from ..result import CheckResult, Verdict
from ..settings import ConfigError, _bypassed
from ..trace import Tracer
from ..upgrade import basic_token
from .text import summary

if TYPE_CHECKING:
    import urllib.request

SETTING = "KUMA_PUSH_URL"
PUSH_PATH = "/api/push/"
MSG_MAX = 250  # Kuma shows msg in one line of its event list; keep it readable
PING_MAX_MS = 1e11  # Kuma 2.x refuses larger values
_ANSWER_MAX = 65536
# Kuma's UI shows the push URL with these example parameters; people copy them along.
_KUMA_PARAMS = {"status", "msg", "ping"}


@dataclass(frozen=True)
class PushTarget:
    url: str = field(repr=False)  # carries the token: never print it
    display: str  # scheme://host/.../api/push/<redacted>
    token: str = field(repr=False)
    authorization: str | None = field(default=None, repr=False)

    def redact(self, text: str) -> str:
        """``text`` with the token removed, for messages built from foreign errors."""
        return text.replace(self.token, "<redacted>") if self.token else text


@dataclass(frozen=True)
class PushOutcome:
    ok: bool
    target: str  # the redacted URL
    detail: str  # one line: what Kuma answered, or why it could not be reached
    http_status: int | None = None
    elapsed_ms: float = 0.0


def push_target_from(values: Mapping[str, str]) -> PushTarget | None:
    """The push target in KUMA_PUSH_URL, or None when unset; ConfigError when malformed."""
    raw = (values.get(SETTING) or "").strip()
    if not raw:
        return None
    example = "http(s)://kuma.example.com/api/push/<token>"
    try:
        parts = urllib.parse.urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ConfigError(SETTING, f"is not a valid URL; expected {example}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(SETTING, f"must be an http(s) URL like {example}")
    prefix, marker, token = parts.path.partition(PUSH_PATH)
    token = token.strip("/")
    if not marker or not token or "/" in token:
        raise ConfigError(SETTING, f"must end in /api/push/<token>, like {example}")
    authorization = None
    if parts.username is not None:
        # A reverse proxy in front of Kuma may want Basic auth; urllib ignores URL userinfo.
        user = urllib.parse.unquote(parts.username)
        authorization = "Basic " + basic_token(user, urllib.parse.unquote(parts.password or ""))
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port is not None:
        netloc += f":{parts.port}"
    kept = [
        (name, value)
        for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        if name not in _KUMA_PARAMS
    ]
    url = urllib.parse.urlunsplit(
        (parts.scheme.lower(), netloc, parts.path, urllib.parse.urlencode(kept), "")
    )
    display = f"{parts.scheme.lower()}://{netloc}{prefix}{PUSH_PATH}<redacted>"
    return PushTarget(url, display, token, authorization)


def push_query(result: CheckResult, warning_is_down: bool = False) -> dict[str, str]:
    """The query parameters Kuma reads: status, msg and (when measured) ping."""
    up = result.verdict is Verdict.OK or (
        result.verdict is Verdict.WARNING and not warning_is_down
    )
    msg = f"{result.verdict.name} - {summary(result)}"
    if len(msg) > MSG_MAX:
        msg = msg[: MSG_MAX - 3] + "..."
    query = {"status": "up" if up else "down", "msg": msg}
    rtt = result.heartbeat_rtt_ms
    if rtt is not None and 0 <= rtt <= PING_MAX_MS:
        query["ping"] = f"{rtt:.3f}"
    return query


def _opener(values: Mapping[str, str], host: str) -> urllib.request.OpenerDirector:
    """An opener honouring the proxy variables of ``values`` (not of os.environ)."""
    import urllib.request

    proxies: dict[str, str] = {}
    for scheme in ("http", "https"):
        for name in (f"{scheme.upper()}_PROXY", f"{scheme}_proxy", "ALL_PROXY", "all_proxy"):
            if values.get(name):
                proxies[scheme] = values[name]
                break
    no_proxy = values.get("NO_PROXY") or values.get("no_proxy") or ""
    if no_proxy and _bypassed(host, no_proxy):  # the check's own NO_PROXY rules
        proxies = {}
    return urllib.request.build_opener(urllib.request.ProxyHandler(proxies))


def _judge_answer(status: int, body: bytes) -> tuple[bool, str]:
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        shown = body[:80].decode("utf-8", "replace").replace("\n", " ").strip()
        return False, f"HTTP {status} but not Kuma's JSON answer (is this Kuma's URL?): {shown!r}"
    if not isinstance(answer, dict):
        return False, f"HTTP {status} with unexpected JSON {body[:80]!r}"
    if answer.get("ok") is True:
        return True, f"HTTP {status} ok"
    why = str(answer.get("msg") or "no reason given")
    hint = ""
    if status == 404:
        hint = " (check the push token, and that the monitor exists and is not paused)"
    return False, f"Kuma answered HTTP {status}: {why}{hint}"


def push(
    target: PushTarget,
    result: CheckResult,
    timeout_s: float,
    values: Mapping[str, str],
    warning_is_down: bool = False,
    trace: Tracer | None = None,
) -> PushOutcome:
    """Send one result to Kuma; never raises for anything the network or Kuma does."""
    # Imported here, not at the top: urllib.request (http.client, email) costs about
    # 7 ms at every start, and only a run with a push URL needs it.
    import urllib.error
    import urllib.request

    query = push_query(result, warning_is_down)
    separator = "&" if urllib.parse.urlsplit(target.url).query else "?"
    url = target.url + separator + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
    request = urllib.request.Request(url, method="GET")
    request.add_header("User-Agent", "ocpp-probe")
    request.add_header("Accept", "application/json")
    if target.authorization:
        request.add_header("Authorization", target.authorization)
    if trace:
        trace(f"> push to {target.display} status={query['status']} ping={query.get('ping', '-')}")
    begin = time.perf_counter()
    status: int | None = None
    try:
        opener = _opener(values, urllib.parse.urlsplit(target.url).hostname or "")
        with opener.open(request, timeout=timeout_s) as response:
            status = int(response.status)
            body = response.read(_ANSWER_MAX)
        ok, detail = _judge_answer(status, body)
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            body = exc.read(_ANSWER_MAX)
        except OSError:
            body = b""
        finally:
            exc.close()
        ok, detail = _judge_answer(status, body)
        ok = False  # an error status is a failed push whatever the body says
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        text = str(reason) or type(reason).__name__
        if isinstance(reason, TimeoutError) or "timed out" in text:
            text = f"no answer within {timeout_s:g} s"
        ok, detail = False, f"cannot reach Kuma: {text}"
    except Exception as exc:  # http.client.HTTPException (a garbled answer) is neither of the above
        ok, detail = False, f"push failed: {type(exc).__name__}: {exc}"
    elapsed_ms = (time.perf_counter() - begin) * 1000
    outcome = PushOutcome(ok, target.display, target.redact(detail), status, elapsed_ms)
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
