"""Stop and wake-up signals for the long-running modes (loop, station, serve).

The handler takes no lock. A ``threading.Event`` set from a signal handler deadlocks
for good when the handler runs while the main thread holds the Event's own lock
inside ``Event.wait``: a second copy of the signal does exactly that. Two copies
arriving microseconds apart is the normal case for a process-group SIGINT or
SIGTERM (a shell's Ctrl-C, systemd, Docker) to the binary, whose staticx loader
forwards the signal it received too. Measured with the Event: 2 of 80 amd64 binary
loops, on a loaded 2-core machine, hung for good on a group SIGINT.

So the handler only sets plain attributes, and writes a byte to a non-blocking pipe
that ``wait`` selects on (the self-pipe trick): a signal that lands before the select
still ends the wait, since its byte is already there.
"""

from __future__ import annotations

import os
import select
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(BaseException):
    """Raised by the signal handler inside an armed section: abandon it and stop.

    A BaseException so that run_check's catch-all for bugs does not swallow it.
    """


class StopSignals:
    """SIGTERM/SIGINT end the run; optional wake signals (serve's SIGHUP) only end a wait."""

    def __init__(self, wake: tuple[int, ...] = ()) -> None:
        self.signal_name: str | None = None  # the first stop signal received
        self.wakes = 0  # wake signals received and not yet taken
        self._requested = False
        self._armed = False
        self._wake_signals = wake
        self._previous: dict[int, object] = {}
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        os.set_blocking(self._write_fd, False)

    @property
    def requested(self) -> bool:
        """A stop was asked for (by a signal or by ``request``)."""
        return self._requested

    def _poke(self) -> None:
        fd = self._write_fd
        if fd < 0:
            return  # closed: the run is over, nothing waits any more
        try:
            os.write(fd, b"\0")
        except OSError:
            pass  # pipe full: a byte is already waiting, which is all a wait needs

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if signum in self._wake_signals:
            self.wakes += 1
            self._poke()
            return
        if self.signal_name is None:
            self.signal_name = signal.Signals(signum).name
        self._requested = True
        self._poke()
        if self._armed:
            self._armed = False
            raise Stopped()

    def request(self) -> None:
        """Stop without a signal (another thread, a test)."""
        self._requested = True
        self._poke()

    def take_wake(self) -> bool:
        """True once per wake signal received since the last call."""
        if self.wakes:
            self.wakes -= 1
            return True
        return False

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may handle signals (tests drive the loop otherwise)
        for signum in (*STOP_SIGNALS, *self._wake_signals):
            self._previous[signum] = signal.signal(signum, self._handle)

    def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``; a stop or wake signal ends it at once."""
        if self._requested or self.wakes:
            return
        if self._read_fd >= 0:
            select.select([self._read_fd], [], [], max(0.0, seconds))
            self._drain()

    def _drain(self) -> None:
        try:
            while os.read(self._read_fd, 512):
                pass
        except OSError:
            pass  # empty (EAGAIN)

    def restore(self) -> None:
        """Put the previous handlers back and close the pipe.

        After a stop the handlers stay: a launcher (staticx, a process-group kill by
        systemd or Docker) may deliver the same signal again, and with the default
        handler back that late copy would turn a clean exit 0 into 130 or 143.
        """
        if not self._requested:
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous.clear()
        # The handler may still run (see above): it must find the fd closed, not reused.
        write_fd, self._write_fd = self._write_fd, -1
        read_fd, self._read_fd = self._read_fd, -1
        for fd in (write_fd, read_fd):
            if fd >= 0:
                os.close(fd)

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        """A section a stop signal abandons at once (raises Stopped inside it)."""
        self._armed = True
        try:
            # Checked after arming: a signal before it is seen here, one after it raises.
            if self._requested:
                raise Stopped()
            yield
        finally:
            self._armed = False
