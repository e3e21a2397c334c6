"""Station mode's first line on stderr hides WS_URL's query values, as loop mode's does."""

from __future__ import annotations

import io
import json

from ocpp_probe.runner import OutputFormat, run_options_from
from ocpp_probe.settings import check_settings_from
from ocpp_probe.station_loop import run_station

from .peers.scenario_server import Peer, ScenarioServer
from .support.scripts import BOOT_OK

QUERY_TOKEN = "QueryTok-Marker-e0f9a1"


def _csms(peer: Peer) -> None:
    peer.accept()
    peer.answer(BOOT_OK)
    peer.answer({"currentTime": "2026-01-01T00:00:00Z"})
    peer.hold(5)


def test_the_first_line_and_the_result_hide_a_query_token() -> None:
    with ScenarioServer(_csms) as server:
        values = {"WS_URL": server.url("CP-1") + "?token=" + QUERY_TOKEN, "PROBE_TIMEOUT": "3",
                  "PROBE_EVERY": "60", "PROBE_HOLD": "true"}
        settings = check_settings_from(values)
        options = run_options_from(values, OutputFormat.JSON, None)
        out, err = io.StringIO(), io.StringIO()
        code = run_station(settings, options, out, err, max_checks=1)
    assert code == 0
    first = err.getvalue().splitlines()[0]
    assert first.startswith(f"ocpp-probe: holding a connection to ws://127.0.0.1:{server.port}/ocpp/CP-1")
    assert "token=<redacted>" in first
    doc = json.loads(out.getvalue())
    assert doc["verdict"] == "OK" and doc["target"].endswith("?token=<redacted>")
    assert QUERY_TOKEN not in out.getvalue() + err.getvalue()
