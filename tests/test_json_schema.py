"""The JSON output's contract: docs/result.schema.json, its naming, and the README's list.

Every JSON document the suite produces is validated against the schema where it is
parsed (tests/result_schema.py, called by conftest's Run and the serve/loop helpers);
these tests keep the schema, the code and the README saying the same thing.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from ocpp_probe.reporters.json_report import result_document
from ocpp_probe.result import BootFacts, CheckResult, Step, TlsFacts, Verdict

from .support.paths import ROOT
from .support.result_schema import SCHEMA_PATH, validated
from .support.runs import probe_in_process

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def schema() -> dict[str, Any]:
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        return json.load(handle)  # type: ignore[no-any-return]


def keys(node: Any, prefix: str = "") -> Iterator[str]:
    """Dotted names of every object property the schema declares."""
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield prefix + name
            yield from keys(sub, prefix + name + ".")
        for variant in node.get("oneOf", []):
            yield from keys(variant, prefix)


def test_every_key_is_snake_case() -> None:
    names = list(keys(schema()))
    assert len(names) > 30
    assert [name for name in names if not all(SNAKE.match(part) for part in name.split("."))] == []


def test_readme_lists_exactly_the_schemas_keys() -> None:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    section = readme.split("### JSON keys", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([a-z_.]+)` \|", section, re.M)
    assert sorted(listed) == sorted(keys(schema()))
    bullet = readme.split("- `--json`: ", 1)[1].split("\n- ", 1)[0].split("The keys", 1)[1]
    top = [name for name in keys(schema()) if "." not in name]
    assert sorted(re.findall(r"`([a-z_]+)`", bullet)) == sorted(top)


def test_schema_rejects_what_the_readme_once_promised() -> None:
    # camelCase keys (the README once listed boot `currentTime`, `reasonCode`) do not pass.
    document = result_document(CheckResult(
        verdict=Verdict.OK, target="ws://h/ocpp/CP", ocpp_version="1.6",
        boot=BootFacts("Accepted", 300, "2026-01-01T00:00:00Z", None),
    ))
    validated(document)
    document["boot"] = {"status": "Accepted", "interval": 300, "currentTime": "x", "reasonCode": None}
    with pytest.raises(AssertionError, match="Additional properties are not allowed"):
        validated(document)


def test_a_full_result_validates() -> None:
    document = result_document(CheckResult(
        verdict=Verdict.WARNING, target="wss://h/ocpp/CP", ocpp_version="2.0.1",
        timings_ms={step.value: 1.0 for step in Step if step not in (Step.CONFIG, Step.SESSION)},  # untimed
        total_ms=7.0, subprotocol="ocpp2.0.1", remote_address="127.0.0.1:443",
        tls=TlsFacts("TLSv1.3", "TLS_AES_256_GCM_SHA384", 1.9e9, 10.5, True),
        boot=BootFacts("Accepted", 300, "2026-01-01T00:00:00Z", "Ok"),
        heartbeat_rtt_ms=1.5, clock_offset_s=-0.2, csms_calls=["GetBaseReport"],
        warnings=["certificate expires in 10.5 days"], started_at="2026-01-01T00:00:00Z",
    ))
    validated(document)


def test_config_error_and_usage_error_documents_validate() -> None:
    bad = probe_in_process(["--json"], {"WS_URL": "http://nope"})
    assert (bad.code, bad.doc["exit_code"], bad.doc["failed_step"]) == (3, 3, "config")
    usage = probe_in_process(["--json", "--no-such-flag"])
    assert (usage.code, usage.doc["exit_code"]) == (3, 3)
