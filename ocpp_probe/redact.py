"""Secrets kept out of every output, whole or in part, even when a server echoes them.

The probe never puts a secret into a reason or a trace itself, but a hostile or buggy
CSMS, Kuma or proxy can: an HTTP reason phrase or body, a CALLERROR description or a
close reason may quote the Authorization header or the request path it got. Whatever
the probe reports passes through here first, before it is cut to length
(printable.shown), with each secret replaced in every form it can take on the way
back: as sent, as UTF-8 bytes read as Latin-1 (an HTTP head), escaped like a reason,
percent-encoded (a URL), and base64-encoded (a Basic token, at any offset in it).

A *fragment* is enough: any run of at least ``fragment_length(len(secret))``
characters of the secret (or the same share of one of its encoded forms) is replaced,
so a secret cut short by a bound, or quoted in part, is hidden as well. That length
is half the secret, but never more than 8 characters and never fewer than 4: at most
7 characters of a long secret (and less than half of a short one) can remain visible
next to a ``<redacted>`` marker. Secrets shorter than 4 characters are not searched
for: blanking every "ab" would garble the output without hiding anything (a
two-letter password is guessed, not read). Where text was capped as it was taken
(printable.quoted), a piece of at least 4 characters of a secret just before the
cap's ``...`` is redacted too, since the cap may have split the secret there.

Query parameters of WS_URL named like credentials (token, key, secret, pass, auth,
sig, session, jwt, cred) are secrets too; ``redact_url`` shows a URL without its
user:password and without any query value.
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from collections.abc import Iterable

from .printable import ELLIPSIS, REASON_MAX, SHOWN_MAX, bounded, printable, shown
from .records import replace
from .result import CheckResult
from .trace import TRACE_LINE_MAX, Tracer

REDACTED = "<redacted>"
MIN_SECRET_CHARS = 4
FRAGMENT_CHARS = 8
# A reasonCode (CiString20 by the schema) or a CSMS CALL's action name, in a field of
# its own; cut here, after redaction, like every other bound on outside text.
NAME_SHOWN_MAX = 60

# Query parameters whose values are credentials (wss://csms/ocpp/CP1?token=...).
_SECRET_PARAM = re.compile(r"token|key|secret|pass|pwd|auth|sig|session|jwt|cred", re.IGNORECASE)


def fragment_length(length: int) -> int:
    """The shortest run of a secret form's characters that is redacted on its own."""
    return max(MIN_SECRET_CHARS, min(FRAGMENT_CHARS, (length + 1) // 2))


def _base64_forms(data: bytes) -> set[str]:
    """The base64 characters that only ``data`` decides, at each of the 3 offsets
    it can have inside a longer encoded string (user:password in a Basic token)."""
    forms: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode("ascii")
        first = -(-8 * offset // 6)  # the first character with no padding bits in it
        last = (8 * offset + 8 * len(data)) // 6  # characters that end inside the data
        core = encoded[first:last]
        forms |= {core, core.replace("+", "-").replace("/", "_")}
    return forms


def secret_forms(secret: str) -> dict[str, int]:
    """Every form in which ``secret`` may come back, each with its fragment length.

    The fragment length is measured in the secret's own characters (see the module
    text) and scaled to each form: 8 characters of a secret are 24 once every byte is
    percent-encoded, so encoded forms are not blanked for a few common escapes.
    """
    raw = secret.encode("utf-8", "surrogatepass")
    forms = {secret, raw.decode("iso-8859-1")}
    forms |= {printable(form) for form in forms}
    # Percent-encoded as a URL encoder does it, and with every byte escaped.
    every_byte = "".join(f"%{byte:02X}" for byte in raw)
    for quoted in (urllib.parse.quote(raw, safe=""), urllib.parse.quote_plus(raw, safe=""), every_byte):
        forms |= {quoted, re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quoted)}
    forms |= _base64_forms(raw)
    fragment = fragment_length(len(secret))
    return {
        form: min(len(form), max(fragment, -(-fragment * len(form) // len(secret))))
        for form in forms
        if len(form) >= MIN_SECRET_CHARS
    }


def query_secrets(url: str) -> list[str]:
    """Values of the URL's query parameters that are named like credentials."""
    query = urllib.parse.urlsplit(url).query
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    return [value for name, value in pairs if _SECRET_PARAM.search(name)]


def redact_url(url: str) -> str:
    """``url`` as it may be shown: no user:password, and no query parameter values."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = parts.query
    if query:
        names = [pair.split("=", 1)[0] for pair in query.split("&")]
        query = "&".join(f"{name}={REDACTED}" if name else name for name in names)
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


class Redactor:
    def __init__(self, secrets: Iterable[str | None]) -> None:
        self.secrets = [secret for secret in secrets if secret]
        forms: dict[str, int] = {}
        for secret in self.secrets:
            if len(secret) >= MIN_SECRET_CHARS:
                for form, length in secret_forms(secret).items():
                    forms[form] = min(length, forms.get(form, length))
        # Forms grouped by fragment length, each with the set of its fragments.
        self._groups: dict[int, tuple[list[str], set[str]]] = {}
        # Runs too short to be a fragment (MIN_SECRET_CHARS up to the fragment length):
        # what a length bound (a cut marked with an ellipsis) may leave of a secret.
        self._cut_runs: set[str] = set()
        for form, length in forms.items():
            group = self._groups.setdefault(length, ([], set()))
            group[0].append(form)
            group[1].update(form[i : i + length] for i in range(len(form) - length + 1))
            for size in range(MIN_SECRET_CHARS, length):
                self._cut_runs.update(form[i : i + size] for i in range(len(form) - size + 1))
        self._cut_run_max = max(map(len, self._cut_runs), default=0)

    def __bool__(self) -> bool:
        return bool(self._groups)

    def _spans(self, value: str) -> list[tuple[int, int]]:
        # One pass over the text: a fragment of any group starts with one of the
        # shortest fragments (``seeds``), a cheap first test at each position.
        seed = min(self._groups)
        seeds = {fragment[:seed] for _, fragments in self._groups.values() for fragment in fragments}
        groups = sorted(self._groups.items(), reverse=True)
        every = [form for forms, _ in self._groups.values() for form in forms]
        spans: list[tuple[int, int]] = []
        index = 0
        last = len(value) - seed
        while index <= last:
            if value[index : index + seed] not in seeds:
                index += 1
                continue
            end = index
            for length, (_, fragments) in groups:
                if value[index : index + length] in fragments:
                    end = index + length
                    # Grow the match as far as it still is part of one form (of any
                    # group: a token's padding "==" belongs to the whole token form).
                    while end < len(value) and any(value[index : end + 1] in form for form in every):
                        end += 1
                    break
            if end > index:
                spans.append((index, end))
                index = end
            else:
                index += 1
        return spans

    def _cut_spans(self, value: str) -> list[tuple[int, int]]:
        """What a cut may have left of a secret just before its ellipsis: text is only
        capped where it is taken (printable.quoted), and such a cap may split a secret
        into a piece shorter than a fragment; that piece is redacted too."""
        spans: list[tuple[int, int]] = []
        index = value.find(ELLIPSIS)
        while index >= 0:
            for size in range(min(self._cut_run_max, index), MIN_SECRET_CHARS - 1, -1):
                if value[index - size : index] in self._cut_runs:
                    spans.append((index - size, index))
                    break
            index = value.find(ELLIPSIS, index + 1)
        return spans

    def text(self, value: str) -> str:
        if not self._groups or not value:
            return value
        spans = sorted(self._spans(value) + (self._cut_spans(value) if ELLIPSIS in value else []))
        if not spans:
            return value
        out: list[str] = []
        position = 0
        for start, end in spans:
            if end <= position:
                continue
            if start >= position:
                out.append(value[position:start])
                out.append(REDACTED)
            position = end
        out.append(value[position:])
        return "".join(out)

    def result(self, result: CheckResult) -> CheckResult:
        """The result ready for output: secrets removed from every field that quotes
        the server, then each such field escaped and bounded (printable.shown)."""

        def safe(value: str, limit: int = SHOWN_MAX) -> str:
            return shown(self.text(value), limit)

        boot = result.boot
        if boot is not None and boot.reason_code:
            boot = replace(boot, reason_code=safe(boot.reason_code, NAME_SHOWN_MAX))
        session = result.session
        if session is not None and session.last_drop_reason:  # a station's close reason
            reason = shown(self.text(session.last_drop_reason), REASON_MAX, keep_end=True)
            session = replace(session, last_drop_reason=reason)
        return replace(
            result,
            session=session,
            target=safe(result.target),
            reason=shown(self.text(result.reason), REASON_MAX, keep_end=True),
            boot=boot,
            csms_calls=[safe(action, NAME_SHOWN_MAX) for action in result.csms_calls],
            warnings=[safe(warning) for warning in result.warnings],
        )

    def tracer(self, trace: Tracer | None) -> Tracer | None:
        if trace is None or not self._groups:
            return trace
        inner = trace

        def redacting(line: str) -> None:
            # A trace part shows at most TRACE_LINE_MAX characters: searching a 1 MiB
            # frame whole would only cost time. The coarse cut is marked, and far
            # beyond what is shown.
            parts = [bounded(part, 2 * TRACE_LINE_MAX) for part in line.split("\n")]
            inner(self.text("\n".join(parts)))

        return redacting
