"""A CSMS built on the PyPI `ocpp` library (mobilityhouse), served with `websockets`.

The library validates every message against the official OCA JSON schemas, so a
probe payload that strays from the spec is answered with a CALLERROR here, exactly
as a strict production CSMS would. Runs its asyncio loop in a background thread.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import ssl
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any, Callable

import websockets
from ocpp.routing import on
from websockets.asyncio.server import serve

_SUBPROTOCOLS = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}
_PACKAGES = {"1.6": "ocpp.v16", "2.0.1": "ocpp.v201", "2.1": "ocpp.v21"}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


TimeFormat = Callable[[datetime], str]


@dataclass
class Seen:
    """What the CSMS observed, for assertions."""

    identities: list[str] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    call_first_errors: list[str] = field(default_factory=list)  # CALLERROR codes the probe sent
    boot_payloads: list[dict] = field(default_factory=list)


def _charge_point_class(version: str, owner: OcppLibCsms) -> type:
    package = importlib.import_module(_PACKAGES[version])
    call_result = importlib.import_module(_PACKAGES[version] + ".call_result")
    call = importlib.import_module(_PACKAGES[version] + ".call")

    class ChargePoint(package.ChargePoint):  # type: ignore[name-defined, misc]
        @on("BootNotification")
        async def on_boot(self, **payload: Any) -> Any:
            owner.seen.actions.append("BootNotification")
            owner.seen.boot_payloads.append(payload)
            if owner.call_first:
                # Answer only after our own CALL got its answer from the probe.
                await self.call_first_done.wait()
            return call_result.BootNotification(
                current_time=owner.now(), interval=owner.interval, status=owner.boot_status
            )

        @on("Heartbeat")
        async def on_heartbeat(self) -> Any:
            owner.seen.actions.append("Heartbeat")
            if owner.heartbeat_delay_s:
                await asyncio.sleep(owner.heartbeat_delay_s)
            return call_result.Heartbeat(current_time=owner.now())

        async def send_call_first(self) -> None:
            try:
                for _ in range(owner.call_first):
                    if version == "1.6":
                        request = call.GetConfiguration()
                    else:
                        request = call.GetBaseReport(request_id=1, report_base="FullInventory")
                    try:
                        await self.call(request, suppress=False)
                    except Exception as exc:  # the probe's CALLERROR, as an exception
                        owner.seen.call_first_errors.append(getattr(exc, "code", repr(exc)))
            finally:
                self.call_first_done.set()

    return ChargePoint


class OcppLibCsms:
    def __init__(
        self,
        version: str = "1.6",
        boot_status: str = "Accepted",
        call_first: int = 0,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        heartbeat_delay_s: float = 0.0,
        interval: int = 300,
        port: int = 0,
        time_format: TimeFormat | None = None,
    ) -> None:
        self.version = version
        self.boot_status = boot_status
        self.call_first = call_first
        self.password = password
        self.ssl_context = ssl_context
        self.heartbeat_delay_s = heartbeat_delay_s
        self.interval = interval
        self.time_format = time_format  # how currentTime is written; RFC 3339 UTC by default
        self.seen = Seen()
        # A fixed port lets a test stop this CSMS and start a new one where the probe looks.
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Any = None
        self._cp_class = _charge_point_class(version, self)

    def now(self) -> str:
        if self.time_format is None:
            return _now()
        return self.time_format(datetime.now(timezone.utc))

    def url(self, identity: str = "CP-1", host: str = "127.0.0.1") -> str:
        scheme = "wss" if self.ssl_context else "ws"
        return f"{scheme}://{host}:{self.port}/ocpp/{identity}"

    def _check_auth(self, connection: Any, request: Any) -> Any:
        header = request.headers.get("Authorization")
        self.seen.authorizations.append(header)
        if self.password is None:
            return None
        identity = request.path.rsplit("/", 1)[-1]
        from urllib.parse import unquote

        expected = "Basic " + base64.b64encode(
            f"{unquote(identity)}:{self.password}".encode()
        ).decode()
        if header != expected:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "bad credentials\n")
        return None

    async def _handle(self, connection: Any) -> None:
        identity = connection.request.path.rsplit("/", 1)[-1]
        self.seen.identities.append(identity)
        charge_point = self._cp_class(identity, connection)
        charge_point.call_first_done = asyncio.Event()
        tasks = []
        if self.call_first:
            tasks.append(asyncio.ensure_future(charge_point.send_call_first()))
        try:
            # Route each message in its own task, so a handler that waits for the
            # probe's answer to our CALL does not block receiving that answer.
            async for message in connection:
                tasks.append(asyncio.ensure_future(charge_point.route_message(message)))
        except websockets.ConnectionClosed:
            pass
        finally:
            for task in tasks:
                task.cancel()

    async def _start(self) -> None:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            self.port,
            subprotocols=[_SUBPROTOCOLS[self.version]],
            process_request=self._check_auth,
            ssl=self.ssl_context,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def __enter__(self) -> OcppLibCsms:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
