"""Runs tests/peers/ocpp_rpc_csms.js (npm ocpp-rpc, strictMode) as a child process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from typing import Any

PEER_DIR = os.path.dirname(os.path.abspath(__file__))


class OcppRpcCsms:
    def __init__(
        self,
        protocols: list[str] | None = None,
        boot_status: str = "Accepted",
        call_first: int = 0,
        password: str | None = None,
    ) -> None:
        self.config = {
            "protocols": protocols or ["ocpp1.6", "ocpp2.0.1"],
            "bootStatus": boot_status,
            "callFirst": call_first,
            "password": password,
        }
        self.events: list[dict[str, Any]] = []
        self.port = 0
        self._process: subprocess.Popen[str] | None = None
        self._listening = threading.Event()
        self._lock = threading.Lock()
        self._synced = threading.Condition(self._lock)
        self._syncs_sent = 0
        self._syncs_seen = 0
        self._reader: threading.Thread | None = None

    def url(self, identity: str = "CP-1") -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp/{identity}"

    def of(self, kind: str) -> list[dict[str, Any]]:
        """The events of ``kind`` the peer has printed so far, every one of them: while
        it runs, a sync round trip first lets the reader thread catch up (once it has
        ended, __exit__ has joined the reader)."""
        self._sync()
        with self._lock:
            return [event for event in self.events if event["event"] == kind]

    def _sync(self) -> None:
        process = self._process
        if process is None or process.stdin is None or process.stdin.closed or process.poll() is not None:
            return
        with self._lock:
            self._syncs_sent += 1
            number = self._syncs_sent
        process.stdin.write(f"sync {number}\n")
        process.stdin.flush()
        with self._synced:
            if not self._synced.wait_for(lambda: self._syncs_seen >= number, timeout=5):
                raise AssertionError("the ocpp-rpc peer did not answer a sync within 5 s")

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            event = json.loads(line)
            with self._synced:
                if event["event"] == "synced":
                    self._syncs_seen = max(self._syncs_seen, int(event["n"]))
                    self._synced.notify_all()
                    continue
                self.events.append(event)
            if event["event"] == "listening":
                self.port = event["port"]
                self._listening.set()

    def __enter__(self) -> OcppRpcCsms:
        node = shutil.which("node")
        if node is None or not os.path.isdir(os.path.join(PEER_DIR, "node_modules", "ocpp-rpc")):
            raise RuntimeError("ocpp-rpc peer not installed: run `npm ci` in tests/peers")
        self._process = subprocess.Popen(
            [node, os.path.join(PEER_DIR, "ocpp_rpc_csms.js"), json.dumps(self.config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=PEER_DIR,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._listening.wait(15):
            self.__exit__()
            raise RuntimeError("ocpp-rpc peer did not start listening")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is None:
            return
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        # The events the peer printed last are read by the reader thread: wait for it
        # to reach end of file, or a test may count them before they are all in.
        if self._reader is not None:
            self._reader.join(5)
