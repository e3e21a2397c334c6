"""Identity and credential mistakes visible before any connection is made.

Pure functions of the settings; no I/O.
"""

from __future__ import annotations

import re

from ..printable import printable
from ..settings import CheckSettings
from ..versions import OcppVersion
from .facts import Lint

# OCPP 2.0.1/2.1 identity is at most 48 characters (the Basic auth user, the path segment).
IDENTITY_MAX = 48
# OCPP 1.6 security whitepaper: AuthorizationKey is 16-20 bytes, set through
# ChangeConfiguration as 32-40 hexadecimal characters.
_HEX_KEY = re.compile(r"^(?:[0-9a-fA-F]{2}){16,20}$")


def looks_like_hex_key(password: str) -> bool:
    return _HEX_KEY.match(password) is not None


def lint(settings: CheckSettings) -> list[Lint]:
    found: list[Lint] = []
    shown = printable(settings.identity[:60])
    if len(settings.identity) > IDENTITY_MAX:
        found.append(
            Lint(
                "CHARGE_POINT_ID",
                "WARN",
                f"identity {shown!r} has {len(settings.identity)} characters; OCPP 2.x allows "
                f"at most {IDENTITY_MAX} and many CSMSs refuse longer ones",
                f"use an identity of at most {IDENTITY_MAX} characters (CHARGE_POINT_ID or WS_URL)",
            )
        )
    if ":" in settings.identity:
        level = "FAIL" if settings.password is not None or settings.version is OcppVersion.V21 else "WARN"
        found.append(
            Lint(
                "CHARGE_POINT_ID",
                level,
                f"identity {shown!r} contains ':'; it cannot be the user of HTTP Basic "
                "credentials (RFC 7617) and OCPP 2.1 forbids it",
                "use an identity without ':' (CHARGE_POINT_ID or WS_URL)",
            )
        )
    password = settings.password
    if (
        password is not None
        and settings.version is OcppVersion.V16
        and not settings.password_hex
        and looks_like_hex_key(password)
    ):
        found.append(
            Lint(
                "OCPP_PASSWORD",
                "WARN",
                f"the password is {len(password)} hexadecimal characters, the form an OCPP 1.6 "
                "AuthorizationKey takes in ChangeConfiguration; a CSMS may expect the "
                f"{len(password) // 2} decoded bytes instead",
                "if the CSMS expects the decoded AuthorizationKey, set OCPP_PASSWORD_HEX=true",
            )
        )
    return found
