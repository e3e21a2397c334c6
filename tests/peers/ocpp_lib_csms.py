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
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any, Callable

import websockets
from ocpp.exceptions import SecurityError
from ocpp.routing import on
from websockets.asyncio.server import serve
from websockets.frames import Opcode
from websockets.typing import Subprotocol

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
    boot_payloads: list[dict[str, Any]] = field(default_factory=list)
    boot_at: list[float] = field(default_factory=list)  # time.monotonic() of each boot
    calls_answered: list[str] = field(default_factory=list)  # errors to mid-session CALLs
    closes: list[int | None] = field(default_factory=list)  # close codes per connection


def _charge_point_class(version: str, owner: OcppLibCsms) -> type:
    package = importlib.import_module(_PACKAGES[version])
    call_result = importlib.import_module(_PACKAGES[version] + ".call_result")
    call = importlib.import_module(_PACKAGES[version] + ".call")

    class ChargePoint(package.ChargePoint):  # type: ignore[name-defined, misc]
        @on("BootNotification")  # type: ignore[untyped-decorator]  # ocpp ships no type hints
        async def on_boot(self, **payload: Any) -> Any:
            owner.seen.actions.append("BootNotification")
            owner.seen.boot_payloads.append(payload)
            owner.seen.boot_at.append(time.monotonic())
            if owner.call_first:
                # Answer only after our own CALL got its answer from the probe.
                await self.call_first_done.wait()
            status = owner.boot_statuses.pop(0) if owner.boot_statuses else owner.boot_status
            self.booted = status == "Accepted"
            return call_result.BootNotification(
                current_time=owner.now(), interval=owner.interval, status=status
            )

        @on("Heartbeat")  # type: ignore[untyped-decorator]  # ocpp ships no type hints
        async def on_heartbeat(self) -> Any:
            owner.seen.actions.append("Heartbeat")
            if owner.require_boot and not self.booted:
                # As CSMSs that tie a station's state to its connection do (OCPP 2.x B01).
                raise SecurityError(description="BootNotification first on each connection")
            if owner.heartbeat_silent:
                await asyncio.sleep(3600)  # keeps the socket, never answers
            if owner.heartbeat_delay_s:
                await asyncio.sleep(owner.heartbeat_delay_s)
            self.heartbeats += 1
            if owner.close_every and self.heartbeats % owner.close_every == 0:
                # A node going away for a restart, right after this answer is sent.
                asyncio.get_running_loop().call_later(
                    0.002, lambda: asyncio.ensure_future(self._connection.close(1012, "restart"))
                )
            return call_result.Heartbeat(current_time=owner.now())

        async def call_now(self, action: str) -> None:
            """A CALL from the CSMS in the middle of the session; records the probe's answer."""
            if action == "TriggerMessage":
                request = call.TriggerMessage(requested_message="StatusNotification")
            elif version == "1.6":
                request = call.GetConfiguration()
            else:
                request = call.GetBaseReport(request_id=2, report_base="FullInventory")
            try:
                await self.call(request, suppress=False)
                owner.seen.calls_answered.append("CALLRESULT")
            except Exception as exc:  # the probe's CALLERROR, as an exception
                owner.seen.calls_answered.append(getattr(exc, "code", repr(exc)))

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
        boot_statuses: list[str] | None = None,
        require_boot: bool = False,
        close_every: int = 0,
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
        # Answers to successive BootNotifications (then boot_status), e.g. Pending, Accepted.
        self.boot_statuses = list(boot_statuses or [])
        self.require_boot = require_boot  # SecurityError for a Heartbeat before a boot
        self.close_every = close_every  # close each connection (1012) after so many Heartbeats
        self.heartbeat_silent = False  # set to stop answering Heartbeat, socket kept open
        self.pongs_off = False  # set to stop answering WebSocket pings
        self.seen = Seen()
        self._charge_points: list[Any] = []
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
        charge_point.booted = False
        charge_point.heartbeats = 0
        self._charge_points.append(charge_point)
        self._silence_pongs(connection)
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
            self.seen.closes.append(connection.close_code)
            self._charge_points.remove(charge_point)
            for task in tasks:
                task.cancel()

    def _silence_pongs(self, connection: Any) -> None:
        """Drop this connection's pongs while ``pongs_off`` is set (websockets answers pings itself)."""
        protocol = connection.protocol
        send_frame = protocol.send_frame

        def maybe_send(frame: Any) -> None:
            if self.pongs_off and frame.opcode is Opcode.PONG:
                return
            send_frame(frame)

        protocol.send_frame = maybe_send

    def call_all(self, action: str = "GetConfiguration") -> None:
        """Send a CALL to every connected station now and wait for the answers."""
        async def calls() -> None:
            await asyncio.gather(*(cp.call_now(action) for cp in list(self._charge_points)))

        asyncio.run_coroutine_threadsafe(calls(), self._loop).result(10)

    @property
    def connected(self) -> int:
        return len(self._charge_points)

    async def _start(self) -> None:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            self.port,
            subprotocols=[Subprotocol(_SUBPROTOCOLS[self.version])],
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
