"""The action lists the probe uses to answer CSMS calls match the official schemas."""

from __future__ import annotations

import os

import ocpp
import pytest

from ocpp_probe.versions import OcppVersion

SCHEMA_DIRS = {OcppVersion.V16: "v16", OcppVersion.V201: "v201", OcppVersion.V21: "v21"}


def official_actions(version: OcppVersion) -> set[str]:
    folder = os.path.join(os.path.dirname(ocpp.__file__), SCHEMA_DIRS[version], "schemas")
    # 1.6 names files <Action>.json and <Action>Response.json, 2.x <Action>Request.json
    # and <Action>Response.json; 2.1's SEND-only messages have just <Action>.json.
    names = set()
    for file_name in os.listdir(folder):
        stem = file_name.replace("_v1p0", "").removesuffix(".json")
        for suffix in ("Response", "Request"):
            if stem.endswith(suffix):
                stem = stem[: -len(suffix)]
                break
        names.add(stem)
    return names


@pytest.mark.parametrize("version", list(OcppVersion))
def test_actions_match_the_ocpp_library_schemas(version: OcppVersion) -> None:
    assert version.actions() == official_actions(version)


@pytest.mark.parametrize(
    ("text", "version"),
    [("1.6", OcppVersion.V16), ("ocpp2.0.1", OcppVersion.V201), (" 2.1 ", OcppVersion.V21)],
)
def test_parse_accepts_numbers_and_subprotocol_names(text: str, version: OcppVersion) -> None:
    assert OcppVersion.parse(text) is version
    assert version.subprotocol == "ocpp" + version.value


def test_parse_rejects_unknown_versions() -> None:
    with pytest.raises(ValueError):
        OcppVersion.parse("2.0")
