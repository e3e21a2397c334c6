"""Text from the server made safe to show: one line, no terminal control sequences.

Reasons and traces quote what the CSMS sent (an HTTP reason phrase, a CALLERROR
description, an action name). A newline there would split the one-line verdict
that Nagios and Kuma read, and an escape sequence would reach the operator's
terminal; such characters are shown escaped instead.
"""

from __future__ import annotations

import unicodedata

# Control, format, surrogate, unassigned, and line/paragraph separator characters.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn", "Co", "Zl", "Zp"})


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
