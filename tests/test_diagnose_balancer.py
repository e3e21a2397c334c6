"""`ocpp-probe diagnose` behind a real load balancer (Debian's HAProxy) whose CSMS is down."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .support.diagnose import diagnose, findings
from .support.net import free_port

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)


@contextmanager
def balancer(tmp: Path, backend_port: int) -> Iterator[int]:
    """HAProxy in HTTP mode, stamping Via, in front of ``backend_port``; yields its port."""
    assert HAPROXY is not None
    port = free_port()
    config = tmp / "haproxy.cfg"
    config.write_text(
        "global\n  maxconn 50\n"
        "defaults\n  mode http\n  timeout connect 500ms\n  timeout client 5s\n  timeout server 5s\n"
        "  retries 0\n"
        f"frontend csms\n  bind 127.0.0.1:{port}\n  http-after-response add-header Via \"1.1 lb-test\"\n"
        "  default_backend nodes\n"
        f"backend nodes\n  server node1 127.0.0.1:{backend_port}\n"
    )
    process = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > end or process.poll() is not None:
                    raise RuntimeError("HAProxy did not start listening") from None
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.skipif(HAPROXY is None, reason="HAProxy is installed by build/apt-deps.sh")
def test_load_balancer_whose_csms_is_down(tmp_path: Path) -> None:
    with balancer(tmp_path, free_port()) as port:
        run = diagnose({"WS_URL": f"ws://127.0.0.1:{port}/ocpp/CP-1"})
    doc = run.doc
    assert run.code == 2
    first = doc["upgrade_attempts"][0]
    assert first["status"] == 503
    assert first["headers"]["via"] == "1.1 lb-test"
    assert "503 Service Unavailable" in first["body_excerpt"]
    assert "answered with Via: 1.1 lb-test" in findings(doc, "upgrade", "OK")
    assert "a proxy or load balancer answered 503: the CSMS behind it did not" in findings(doc, "upgrade", "FAIL")
    assert doc["suggestions"] == ["check the CSMS behind the proxy or load balancer (see the Server/Via headers)"]
