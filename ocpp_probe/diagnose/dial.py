"""Name, network and the way to the CSMS: every address timed, then connections on demand.

Every socket is bounded by the diagnosis' one deadline (narrowed per connection) and
counted, so the report can say how many connections the diagnosis made.
"""

from __future__ import annotations

import socket
import ssl
import time

from ..connection import Address, connect, resolve, show_address, start_tls, tunnel
from ..deadline import Deadline
from ..failures import FailureKind
from ..result import Step, StepFailure
from ..settings import CheckSettings
from ..sockets import DeadlineSocket, describe_os_error
from ..tls_socket import DeadlineSSLSocket
from ..trace import Tracer
from .facts import AddressProbe

# A hard cap, whatever the server does: a diagnosis is a handful of connections.
MAX_CONNECTIONS = 16


class Dialer:
    def __init__(self, settings: CheckSettings, deadline: Deadline, trace: Tracer | None) -> None:
        self.settings = settings
        self.deadline = deadline
        self.trace = trace
        self.connections = 0
        self.addresses: list[Address] = []

    def note(self, line: str) -> None:
        if self.trace is not None:
            self.trace(line)

    def budget(self, share: float = 0.25) -> Deadline:
        """A deadline for one connection: a share of the whole, never past it."""
        return self.deadline.narrowed(max(self.deadline.budget_s * share, 0.5), "diagnosis step")

    def probe_addresses(self) -> tuple[list[AddressProbe], str | None]:
        """Every address of the dialled name with its own timed TCP connect."""
        host = self.settings.proxy.host if self.settings.proxy else self.settings.host
        port = self.settings.proxy.port if self.settings.proxy else self.settings.port
        try:
            self.addresses = resolve(host, port, self.budget())
        except StepFailure as exc:
            return [], exc.reason
        probes: list[AddressProbe] = []
        for index, (family, kind, proto, sockaddr) in enumerate(self.addresses):
            shown = show_address(sockaddr)
            family_name = "IPv6" if family == socket.AF_INET6 else "IPv4"
            left = len(self.addresses) - index
            share = min(self.deadline.remaining() / max(left, 1), self.deadline.budget_s * 0.25)
            if share <= 0 or self.connections >= MAX_CONNECTIONS:
                probes.append(AddressProbe(family_name, shown, False, "not tried: no time left", None))
                continue
            sock = socket.socket(family, kind, proto)
            self.connections += 1
            start = time.perf_counter()
            try:
                sock.settimeout(share)
                sock.connect(sockaddr)
                elapsed = (time.perf_counter() - start) * 1000
                probes.append(AddressProbe(family_name, shown, True, "connected", elapsed))
            except socket.timeout:
                probes.append(
                    AddressProbe(family_name, shown, False, f"no answer within {share:.3g} s", None)
                )
            except ConnectionRefusedError:
                elapsed = (time.perf_counter() - start) * 1000
                probes.append(AddressProbe(family_name, shown, False, "connection refused", elapsed))
            except OSError as exc:
                probes.append(AddressProbe(family_name, shown, False, describe_os_error(exc), None))
            finally:
                sock.close()
            self.note(f"* TCP {shown}: {probes[-1].detail}")
        # Later connections go to the addresses that answered first.
        answered = {probe.address for probe in probes if probe.connected}
        self.addresses.sort(key=lambda address: show_address(address[3]) not in answered)
        return probes, None

    def open(self, context: ssl.SSLContext | None, budget: Deadline) -> DeadlineSocket | DeadlineSSLSocket:
        """A connection to the CSMS (through the proxy, TLS if ``context``); StepFailure if not,
        in the check's words (connection.stage): a TLS failure is the check's TLS reason."""
        if self.connections >= MAX_CONNECTIONS:
            raise StepFailure(
                Step.CONNECT, f"connection limit of {MAX_CONNECTIONS} reached", kind=FailureKind.INTERNAL
            )
        if not self.addresses:
            raise StepFailure(Step.CONNECT, "no address to connect to", kind=FailureKind.DNS)
        self.connections += 1
        sock = connect(self.addresses, budget)
        try:
            if self.settings.proxy is not None:
                tunnel(sock, self.settings, budget)
            if context is None:
                return sock
            return start_tls(sock, self.settings, context, budget)[0]
        except BaseException:
            sock.close()
            raise
