"""Text from outside made safe to show: one line, no terminal control sequences, bounded.

Reasons, traces and push answers quote what others sent: the CSMS (an HTTP reason
phrase or body, a CALLERROR description, a close reason, an action name), Uptime
Kuma or a proxy (a status line, a body, a JSON ``msg``), and exception messages that
quote them. A newline there would split the one-line verdict that Nagios and Kuma
read, and an escape sequence would reach the operator's terminal; such characters
are shown escaped instead (``\\x1b``, ``\\u2028``). ``shown`` is the one function every
such text passes through before any output; ``printable`` is its escaping half.
"""

from __future__ import annotations

import unicodedata

# Control, format, surrogate, unassigned, private-use and line/paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn", "Co", "Zl", "Zp"})

# Long enough for any reason a person reads in one line; a JSON or log line stays small.
SHOWN_MAX = 1000
ELLIPSIS = "..."

# In a Nagios plugin line "|" starts the perfdata: text from outside never brings one
# into the status part; it is shown as U+00A6 BROKEN BAR, which reads the same.
NAGIOS_BAR = "\u00a6"


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every unsafe character escaped; unchanged when there is none."""
    if text.isprintable():
        return text
    return "".join(
        _escaped(char) if unicodedata.category(char) in _UNSAFE_CATEGORIES else char
        for char in text
    )


def bounded(text: str, limit: int = SHOWN_MAX) -> str:
    """``text`` cut to ``limit`` characters, the cut marked with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(ELLIPSIS))] + ELLIPSIS


def shown(text: str, limit: int = SHOWN_MAX) -> str:
    """Outside text ready for any output: escaped, one line, at most ``limit`` characters.

    Secrets are removed before this (redact.Redactor), so that a cut cannot leave
    part of one that the redactor no longer recognises.
    """
    return bounded(printable(text), limit)


def nagios_status(text: str) -> str:
    """Text for the status part of a Nagios line, where "|" would start perfdata."""
    return text.replace("|", NAGIOS_BAR)
