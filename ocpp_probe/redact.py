"""Secrets kept out of every result and trace line, even when the server echoes them.

The probe never puts a password into a reason or a trace itself, but a hostile or
buggy CSMS can: an HTTP reason phrase, a CALLERROR description or a close reason
may quote the Authorization header it got. Whatever the check reports passes
through here first, with each secret replaced in every form it can take on the
way back (as sent, as the base64 Basic token, as the bytes decoded as Latin-1
like an HTTP head is, and escaped like a reason).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from .printable import printable
from .result import CheckResult
from .trace import Tracer

REDACTED = "<redacted>"

# Shorter secrets are not searched for: blanking every "ab" would garble the output
# without hiding anything (a two-letter password is guessed, not read).
MIN_SECRET_CHARS = 4


def _forms(secret: str) -> set[str]:
    forms = {secret, secret.encode("utf-8", "surrogatepass").decode("iso-8859-1")}
    forms |= {printable(form) for form in forms}
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


class Redactor:
    def __init__(self, secrets: Iterable[str | None]) -> None:
        self.secrets = [secret for secret in secrets if secret]
        forms: set[str] = set()
        for secret in secrets:
            if secret:
                forms |= _forms(secret)
        # Longest first, so a secret that contains another is replaced whole.
        self._forms = sorted(forms, key=len, reverse=True)

    def text(self, value: str) -> str:
        for form in self._forms:
            if form in value:
                value = value.replace(form, REDACTED)
        return value

    def result(self, result: CheckResult) -> CheckResult:
        """The result with secrets removed from every field that quotes the server."""
        if not self._forms:
            return result
        boot = result.boot
        if boot is not None and boot.reason_code:
            boot = replace(boot, reason_code=self.text(boot.reason_code))
        return replace(
            result,
            reason=self.text(result.reason),
            boot=boot,
            csms_calls=[self.text(action) for action in result.csms_calls],
            warnings=[self.text(warning) for warning in result.warnings],
        )

    def tracer(self, trace: Tracer | None) -> Tracer | None:
        if trace is None or not self._forms:
            return trace
        inner = trace

        def redacting(line: str) -> None:
            inner(self.text(line))

        return redacting
