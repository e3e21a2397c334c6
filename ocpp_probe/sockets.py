"""Sockets whose every read and write is bounded by the check's deadline.

A per-call socket timeout alone lets a server that drips one byte a second keep a
check alive forever, because each read succeeds in time. These sockets instead set
their timeout from the current deadline before every call, so the total wait is
bounded no matter how the bytes arrive; a timeout surfaces as DeadlineExceeded.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

from .deadline import Deadline, DeadlineExceeded


class _DeadlineIO:
    """Mixin for socket classes: ``io_deadline`` bounds every blocking call."""

    io_deadline: Deadline | None = None

    def _arm(self) -> None:
        deadline = self.io_deadline
        if deadline is not None:
            self.settimeout(deadline.remaining_or_raise())  # type: ignore[attr-defined]

    def _timed_out(self) -> DeadlineExceeded:
        deadline = self.io_deadline
        if deadline is None:
            return DeadlineExceeded("socket", 0.0)
        return DeadlineExceeded(deadline.what, deadline.budget_s)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._arm()
        try:
            return super().recv(bufsize, flags)  # type: ignore[misc, no-any-return]
        except socket.timeout:
            raise self._timed_out() from None

    def send(self, data: Any, flags: int = 0) -> int:
        self._arm()
        try:
            return super().send(data, flags)  # type: ignore[misc, no-any-return]
        except socket.timeout:
            raise self._timed_out() from None

    def sendall(self, data: Any, flags: int = 0) -> None:
        # sendall's timeout restarts on every partial write, so send piecewise.
        view = memoryview(data)
        while view:
            sent = self.send(view, flags)
            view = view[sent:]


class DeadlineSocket(_DeadlineIO, socket.socket):
    pass


_ERRNO_MEANINGS = {
    errno.ECONNRESET: "connection reset by the server",
    errno.EPIPE: "connection closed by the server while the probe was sending",
    errno.ECONNABORTED: "connection aborted",
}


def describe_os_error(exc: OSError) -> str:
    """A socket error in words, the same for every step (the step says where)."""
    if exc.errno in _ERRNO_MEANINGS:
        return _ERRNO_MEANINGS[exc.errno]
    return exc.strerror or str(exc) or type(exc).__name__
