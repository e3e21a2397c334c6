"""`diagnose --json` against docs/diagnose.schema.json, and its outside text.

Every diagnose report the suite parses is validated (conftest's Run, through
tests/result_schema.py); these tests keep the schema strict and the issue's keys in
it, and check that a report quoting a hostile server is redacted before it is cut.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ocpp_probe.redact import fragment_length

from .peers.scenario_server import Peer, ScenarioServer
from .support.diagnose import diagnose
from .support.result_schema import DIAGNOSE_SCHEMA_PATH, validated
from .support.runs import probe_in_process

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
PASSWORD = "Zq!v#3kX%9pL&2mN"  # no 4 characters of it can occur in a random key or id
KEPT = fragment_length(len(PASSWORD)) - 1  # what a cut before redaction could leave

def schema() -> dict[str, Any]:
    with open(DIAGNOSE_SCHEMA_PATH, encoding="utf-8") as handle:
        return json.load(handle)  # type: ignore[no-any-return]

def test_the_schema_is_strict_and_has_the_issues_keys() -> None:
    document = schema()
    Draft202012Validator.check_schema(document)
    top = document["properties"]
    for key in ("addresses", "tls", "served_versions", "upgrade_attempts", "clock_offset_s", "ocpp",
                "findings", "suggestions"):
        assert key in top and key in document["required"]
    tls = top["tls"]["oneOf"][1]
    assert {"chain", "missing_intermediate", "ocpp_profile_ok"} <= set(tls["required"])
    cert = tls["properties"]["chain"]["items"]
    assert {"subject", "issuer", "not_before", "not_after", "sans"} <= set(cert["required"])
    attempt = top["upgrade_attempts"]["items"]
    assert {"subprotocol", "path_variant", "credentials_used", "status", "headers", "body_excerpt"} <= set(
        attempt["required"]
    )
    assert all(SNAKE.match(name) for name in top)

def test_a_report_that_breaks_the_schema_is_caught() -> None:
    run = diagnose({"WS_URL": "ws://127.0.0.1:9/ocpp/CP-1", "PROBE_TIMEOUT": "2"})
    assert run.code == 2
    document = run.doc
    with pytest.raises(AssertionError, match=r"diagnose\.schema\.json"):
        validated({**document, "findings": [{"layer": "ocpp", "level": "MAYBE", "text": "x"}]})
    with pytest.raises(AssertionError, match=r"diagnose\.schema\.json"):
        validated({**document, "connections": "three"})
    missing = dict(document)
    del missing["served_versions"]
    with pytest.raises(AssertionError, match="served_versions"):
        validated(missing)

def test_bad_settings_report_matches_the_schema() -> None:
    run = diagnose({"WS_URL": "http://not-a-websocket"})
    assert run.code == 3
    assert run.doc["exit_code"] == 3 and run.doc["target"] == ""
    assert [f["level"] for f in run.doc["findings"]] == ["FAIL"]

def _hostile(peer: Peer) -> None:
    # A refusal that echoes the password across the cuts diagnose once made where
    # it took the text (headers at 200, a body at 300), with escape sequences.
    server = "~" * (200 - KEPT) + PASSWORD
    body = ("\x1b[2J" + "~" * (300 - 4 - KEPT) + PASSWORD + " | queue=99").encode()
    peer.respond("403 Forbidden", body, f"Server: {server}\r\nContent-Type: text/plain\r\n")

@pytest.mark.parametrize("flags", [[], ["--json"]])
def test_hostile_refusals_are_redacted_before_they_are_cut(flags: list[str]) -> None:

    with ScenarioServer(_hostile) as server:
        env = {"WS_URL": server.url("CP?token=" + urllib.parse.quote(PASSWORD, safe="")), "OCPP_PASSWORD": PASSWORD, "PROBE_TIMEOUT": "3"}
        run = probe_in_process(["diagnose", *flags], env)
    assert run.code == 2, run.stdout
    pieces = {PASSWORD[start : start + 4] for start in range(len(PASSWORD) - 3)}
    for piece in pieces:
        assert piece not in run.stdout and piece not in run.stderr, (piece, run.stdout)
    assert "\x1b" not in run.stdout
    if flags:
        doc = run.doc
        assert doc["target"] == f"ws://127.0.0.1:{server.port}/ocpp/CP?token=<redacted>"
        first = doc["upgrade_attempts"][0]
        assert first["headers"]["server"] == "~" * (200 - KEPT) + "<redacted>"
        assert first["body_excerpt"].startswith("\\x1b[2J~~~")
        assert first["body_excerpt"].endswith("<redacted> | queue=99")
    else:
        assert f"ws://127.0.0.1:{server.port}/ocpp/CP?token=<redacted>" in run.stdout.splitlines()[0]
