"""The arthexis CSMS (PyPI `arthexis` 2.0.0: Django, Channels, daphne) on loopback.

arthexis routes stations only at ``ws/ocpp/<identity>/``, with the trailing slash, and
enrolls an unknown identity whose Basic password matches its enrollment token. It runs
from its own venv (tests/peers/arthexis_setup.sh) with a throw-away SQLite database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time

from ..support.net import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = os.environ.get("ARTHEXIS_PYTHON", os.path.join(HERE, ".arthexis-venv", "bin", "python"))
ENROLLMENT_TOKEN = "enrollment-token-for-tests"


class ArthexisCsms:
    def __init__(self) -> None:
        if not os.path.exists(PYTHON):
            raise RuntimeError(
                f"no arthexis venv at {PYTHON}: run bash tests/peers/arthexis_setup.sh"
            )
        self.port = free_port()
        self._data = tempfile.TemporaryDirectory(prefix="arthexis-")
        self._process: subprocess.Popen[bytes] | None = None
        self.log = os.path.join(self._data.name, "daphne.log")

    def url(self, path: str = "ws/ocpp/") -> str:
        return f"ws://127.0.0.1:{self.port}/{path}"

    def _environment(self) -> dict[str, str]:
        hashed = subprocess.run(
            [PYTHON, "-c",
             "from django.conf import settings; settings.configure();"
             "from django.contrib.auth.hashers import make_password;"
             f"print(make_password({ENROLLMENT_TOKEN!r}))"],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.strip()
        return {
            "PATH": os.environ.get("PATH", ""),
            "DJANGO_SETTINGS_MODULE": "arthexis.settings",
            "ARTHEXIS_DATA_DIR": self._data.name,
            "ARTHEXIS_ALLOWED_HOSTS": "127.0.0.1",
            "ARTHEXIS_OCPP_ENROLLMENT_TOKEN_HASH": hashed,
        }

    def __enter__(self) -> ArthexisCsms:
        env = self._environment()
        subprocess.run(
            [PYTHON, "-m", "django", "migrate", "-v0"], env=env, check=True, timeout=120,
            capture_output=True,
        )
        daphne = os.path.join(os.path.dirname(PYTHON), "daphne")
        with open(self.log, "wb") as log:
            self._process = subprocess.Popen(
                [daphne, "-b", "127.0.0.1", "-p", str(self.port), "arthexis.asgi:application"],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if self._process.poll() is not None:
                raise RuntimeError(f"daphne exited: {open(self.log).read()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("arthexis did not start listening within 60 s")

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        self._data.cleanup()
