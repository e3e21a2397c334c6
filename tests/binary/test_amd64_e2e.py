"""The amd64 binary against the same end-to-end cases as the source, side by side:
for each case `python probe.py --json` and the binary (no Python on its PATH) must
agree on exit code, verdict, failed step and reason, and each must be what the case
expects."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from ocpp_probe.demo import DemoCsms

from ..peers.loopback import HttpRefuser, SilentServer, TlsFront
from ..support.binaries import REPO, BinaryRunner
from ..support.net import free_port
from ..support.pki import Pki

# name -> (exit code, verdict, failed step, reason predicate)
Case = tuple[int, str, Optional[str], Callable[[Any], bool]]  # the predicate gets doc["reason"]

CASES: dict[str, Case] = {
    "accepted-1.6": (0, "OK", None, lambda r: r is None),
    "accepted-2.0.1": (0, "OK", None, lambda r: r is None),
    "accepted-2.1": (0, "OK", None, lambda r: r is None),
    "wss-ca-file": (0, "OK", None, lambda r: r is None),
    "wss-ssl-cert-file": (0, "OK", None, lambda r: r is None),
    "wss-untrusted": (
        2,
        "CRITICAL",
        "tls",
        lambda r: r.startswith("server certificate not trusted"),
    ),
    "refused": (
        2,
        "CRITICAL",
        "connect",
        lambda r: r.startswith("connection refused by 127.0.0.1:"),
    ),
    "timeout": (2, "CRITICAL", "upgrade", lambda r: "timed out" in r),
    "http-404": (2, "CRITICAL", "upgrade", lambda r: r.startswith("HTTP 404")),
    "no-url": (3, "UNKNOWN", "config", lambda r: r.startswith("WS_URL: is required")),
    "bad-scheme": (3, "UNKNOWN", "config", lambda r: r.startswith("WS_URL: must start with ws://")),
    "bad-flag": (
        3,
        "UNKNOWN",
        "config",
        lambda r: r.startswith("usage: unrecognized arguments: --bogus"),
    ),
}


def setup_case(
    name: str, stack: ExitStack, demo: DemoCsms, server_context: ssl.SSLContext, ca_file: Path, empty_ca: Path
) -> tuple[list[str], dict[str, str]]:
    args = ["--json"]
    # An empty system store for the untrusted case, so the host's own CA bundle plays no part.
    env: dict[str, str] = {}
    if name.startswith("accepted-"):
        env = {"WS_URL": demo.url("CP-E2E"), "OCPP_VERSION": name.split("-", 1)[1]}
    elif name.startswith("wss-"):
        front = stack.enter_context(TlsFront(server_context, demo.address))
        env = {"WS_URL": front.url(), "OCPP_VERSION": "2.0.1"}
        if name == "wss-ca-file":
            env["TLS_CA_FILE"] = str(ca_file)
        elif name == "wss-ssl-cert-file":
            env["SSL_CERT_FILE"] = str(ca_file)
        else:
            env["SSL_CERT_FILE"] = str(empty_ca)
    elif name == "refused":
        env = {"WS_URL": f"ws://127.0.0.1:{free_port()}/ocpp/CP-E2E"}
    elif name == "timeout":
        env = {"WS_URL": stack.enter_context(SilentServer()).url(), "PROBE_TIMEOUT": "1"}
    elif name == "http-404":
        env = {"WS_URL": stack.enter_context(HttpRefuser()).url()}
    elif name == "bad-scheme":
        env = {"WS_URL": "http://127.0.0.1:9/ocpp/CP-E2E"}
    elif name == "bad-flag":
        args.append("--bogus")
    return args, env


def source_run(args: list[str], env: dict[str, str], tmp: str) -> tuple[int, dict[str, Any]]:
    full = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": tmp,
        "TMPDIR": tmp,
        "LANG": "C",
    }
    full.update(env)
    proc = subprocess.run(
        [sys.executable, str(REPO / "probe.py"), *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(REPO),
    )
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture
def empty_ca(tmp_path: Path) -> Path:
    import trustme

    path = tmp_path / "unrelated-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))  # a store that does not hold the test CA
    return path


@pytest.mark.parametrize("name", list(CASES))
def test_binary_matches_source(
    name: str, amd64_runner: BinaryRunner, demo_csms: DemoCsms, pki: Pki, empty_ca: Path, tmp_path: Path
) -> None:
    code, verdict, step, reason_ok = CASES[name]
    with ExitStack() as stack:
        args, env = setup_case(name, stack, demo_csms, pki.server_context(), Path(pki.ca_file), empty_ca)
        frozen = amd64_runner.run(args, env=env)
        src_code, src_doc = source_run(args, env, str(tmp_path))
    doc = frozen.json()
    assert (frozen.returncode, doc["verdict"], doc["failed_step"]) == (code, verdict, step), (
        frozen.stdout
    )
    assert reason_ok(doc["reason"]), doc["reason"]
    assert (src_code, src_doc["verdict"], src_doc["failed_step"]) == (code, verdict, step)
    if name not in ("refused", "timeout"):  # those name a port or a measured time
        assert doc["reason"] == src_doc["reason"]
    if code == 0:
        assert doc["boot"]["status"] == "Accepted"
        assert doc["subprotocol"] == "ocpp" + env.get(
            "OCPP_VERSION", "2.0.1" if name.startswith("wss") else "1.6"
        )
    assert frozen.leftovers == []


def test_text_line_matches_source(amd64_runner: BinaryRunner, demo_csms: DemoCsms, tmp_path: Path) -> None:
    env = {"WS_URL": demo_csms.url("CP-TEXT")}
    frozen = amd64_runner.run([], env=env)
    full = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "LANG": "C", **env}
    src = subprocess.run(
        [sys.executable, str(REPO / "probe.py")],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert frozen.returncode == src.returncode == 0
    head = "OCPP OK - ocpp1.6 BootNotification Accepted, Heartbeat RTT "
    assert frozen.stdout.startswith(head) and src.stdout.startswith(head)
    # Same perfdata labels in the same order (values are timings).

    def labels(line: str) -> list[str]:
        return [p.split("=")[0] for p in line.split("|", 1)[1].split()]

    assert labels(frozen.stdout) == labels(src.stdout)
