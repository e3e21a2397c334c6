"""The status page (GET /) in a real browser: Debian's chromium, headless, loads it from
serve mode on loopback; the test reads the DOM chromium built and checks the screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .peers.ocpp_lib_csms import OcppLibCsms
from .peers.scenario_server import Peer, ScenarioServer
from .support.serve import get, server

HOSTILE = '<img src=x onerror=alert(1)> & "quotes"'


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is missing in CI: build/apt-deps.sh installs Debian's chromium")
    pytest.skip("chromium not installed (Debian package: chromium)")


def browse(url: str, tmp: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    # Headless and offline: no sandbox (root in CI), no GPU, nothing fetched from Google.
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--disable-default-apps", f"--user-data-dir={tmp / 'profile'}"]
    return subprocess.run([chromium(), *flags, *mode, url], capture_output=True, text=True, timeout=120,
                          cwd=tmp)


def hostile_299(peer: Peer) -> None:
    peer.respond(f"299 {HOSTILE}")


def test_status_page_in_chromium(tmp_path: Path) -> None:
    with OcppLibCsms() as csms, ScenarioServer(hostile_299) as hostile, server(
        {"good": {"ws_url": csms.url("CP-GOOD")}, "nasty": {"ws_url": hostile.url("CP-NASTY")},
         "never": {"ws_url": csms.url("CP-NEVER")}},
        modules={"m16": {"allow_hosts": ["127.0.0.1"]}},
    ) as base:
        assert get(f"{base}/probe?target=good").status == 200
        assert get(f"{base}/probe?target=good").status == 200
        assert get(f"{base}/probe?target=nasty").status == 503
        assert get(f"{base}/probe?module=m16&target={csms.url('CP-MOD')}").status == 200
        served = get(f"{base}/")
        dom = browse(f"{base}/", tmp_path, "--dump-dom")
        shot = browse(f"{base}/", tmp_path, "--screenshot=page.png", "--window-size=1280,900")
    assert served.headers["Content-Type"] == "text/html; charset=utf-8"
    assert dom.returncode == 0, dom.stderr
    html = dom.stdout
    assert "<title>ocpp-probe serve</title>" in html
    rows = html.split('<tr class="target">')[1:]
    assert [row.split('<td class="name">')[1].split("<")[0] for row in rows] == [
        "good", "nasty", "never", "m16"]
    good, nasty, never, module = rows
    assert good.count('<span class="OK">OK</span>') == 2 and good.count('href="/logs?id=') == 2
    assert good.count('<span class="phase-') == 5  # resolve, connect, upgrade, boot, heartbeat
    assert '<span class="CRITICAL">CRITICAL</span>' in nasty and "step <b>upgrade</b>" in nasty
    # The server's hostile reason phrase is text on the page, never markup.
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; \"quotes\"" in nasty
    assert "<img" not in html
    assert "not checked yet" in never
    assert csms.url("CP-MOD") in module and '<span class="OK">OK</span>' in module
    assert '<tr class="module"><td class="name">m16</td>' in html
    assert "<script" not in served.body.decode() and "http" not in served.body.decode().split("<body>")[0]
    assert shot.returncode == 0, shot.stderr
    png = (tmp_path / "page.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
