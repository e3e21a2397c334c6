"""The amd64 binary in its other modes: Kuma push, Prometheus textfile output, serve.

The spec leaves unreachable standard-library modules out of the binary; a mode whose
imports were cut would only fail here, so each mode runs once for real.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from ..peers.kuma_receiver import KumaReceiver
from ..support.binaries import BinaryRunner, poll_until
from ..support.net import free_port

TOKEN = "T0KEN-abc123"


def samples(text: str) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels or set(sample.labels) == {"target"}
    }


def test_binary_pushes_to_kuma(amd64_runner: BinaryRunner, demo_csms) -> None:  # type: ignore[no-untyped-def]
    with KumaReceiver(tokens=(TOKEN,)) as kuma:
        run = amd64_runner.run([], {"WS_URL": demo_csms.url(), "KUMA_PUSH_URL": kuma.url()})
        pushes = kuma.requests
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("OCPP OK - ocpp1.6 BootNotification Accepted")
    assert [(p.method, p.path) for p in pushes] == [("GET", f"/api/push/{TOKEN}")]
    assert pushes[0].one("status") == "up"
    assert pushes[0].one("msg").startswith("OK - ocpp1.6 BootNotification Accepted, Heartbeat RTT ")
    assert float(pushes[0].one("ping")) > 0
    assert TOKEN not in run.stdout + run.stderr
    assert run.leftovers == []


def test_binary_writes_prometheus_textfile(amd64_runner: BinaryRunner, demo_csms, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "ocpp.prom"
    run = amd64_runner.run(["--format", "prometheus", "--output", str(target)], {"WS_URL": demo_csms.url()})
    assert (run.returncode, run.stdout) == (0, "")
    values = samples(target.read_text())
    assert values["ocpp_probe_success"] == 1
    assert values["ocpp_probe_heartbeat_rtt_seconds"] > 0
    assert run.leftovers == []


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def test_binary_serves_probe_and_metrics(amd64_runner: BinaryRunner, demo_csms, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "serve.toml"
    config.write_text(f'[targets.demo]\nws_url = "{demo_csms.url()}"\n')
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc, tmpdir = amd64_runner.start(["serve", "--config", str(config), "--listen", f"127.0.0.1:{port}"])
    try:
        def up() -> bool:
            try:
                return _get(f"{base}/metrics")[0] == 200
            except OSError:
                return False

        assert poll_until(up, timeout=60), "serve mode did not start"
        status, body = _get(f"{base}/probe?target=demo")
        assert status == 200
        assert json.loads(body)["verdict"] == "OK"
        status, body = _get(f"{base}/probe?target=demo&format=prometheus")
        assert status == 200
        assert samples(body)["ocpp_probe_success"] == 1
        assert _get(f"{base}/probe?target=nope")[0] == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
    time.sleep(0.2)
    assert code == 0
    assert BinaryRunner.leftovers(tmpdir) == []
