"""Stop and wake-up signals (ocpp_probe/signals.py): a signal may land at any line.

A process-group signal to the binary arrives twice, microseconds apart (the group
kill, and the copy the staticx loader forwards). With a threading.Event set from the
handler, the second copy could land while the main thread held the Event's lock
inside its wait, and the process hung for good. These tests send a signal at every
line the wait executes, in a child process, and bound the whole run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from ocpp_probe.signals import Stopped, StopSignals

from .support.paths import ROOT

# The child: a tracer sends a signal to the process at every line executed inside
# StopSignals.wait (and anything it calls), never from inside the handler itself.
STORM = r"""
import os, signal, sys
from ocpp_probe.signals import StopSignals

stop = StopSignals(wake=(signal.SIGHUP,))
stop.install()
signum = getattr(signal, sys.argv[1])
sent = [0]

def within(frame, name):
    while frame is not None:
        if frame.f_code.co_name == name:
            return True
        frame = frame.f_back
    return False

def tracer(frame, event, arg):
    if within(frame, "_handle") or not within(frame, "wait"):
        return None
    if event == "line" and sent[0] < 500:
        sent[0] += 1
        os.kill(os.getpid(), signum)
    return tracer

sys.settrace(tracer)
woken = 0
while not stop.requested and woken < 3:
    stop.wait(30)
    while stop.take_wake():
        woken += 1
sys.settrace(None)
stop.restore()
if stop.requested:
    os.kill(os.getpid(), signum)  # a late copy after the stop: absorbed, exit stays 0
print(stop.signal_name, woken >= 3, sent[0] > 1)
"""


def storm(signame: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": ROOT}
    return subprocess.run(
        [sys.executable, "-c", STORM, signame], env=env, capture_output=True, text=True, timeout=30
    )


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_stop_signal_at_every_line_of_a_wait_ends_it(signame: str) -> None:
    done = storm(signame)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [signame, "False", "True"]


def test_wake_signals_at_every_line_of_a_wait_wake_it_and_do_not_stop() -> None:
    done = storm("SIGHUP")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "True", "True"]


def test_a_signal_before_the_wait_ends_it_at_once() -> None:
    """The handler's byte waits in the pipe: a wait that starts later returns at once."""
    stop = StopSignals(wake=(signal.SIGHUP,))
    try:
        stop._handle(signal.SIGHUP, None)
        stop.wait(30)  # returns at once, else pytest-timeout fails the test
        assert stop.take_wake() and not stop.take_wake()
        assert not stop.requested
        stop.request()
        stop.wait(30)
        assert stop.requested and stop.signal_name is None
    finally:
        stop.restore()


def test_a_stop_signal_inside_an_armed_section_abandons_it() -> None:
    stop = StopSignals()
    try:
        with pytest.raises(Stopped):
            with stop.interruptible():
                stop._handle(signal.SIGTERM, None)
                raise AssertionError("the section went on after the signal")
        assert stop.signal_name == "SIGTERM"
        with pytest.raises(Stopped):
            with stop.interruptible():
                raise AssertionError("a section started after a stop")
    finally:
        stop.restore()


def test_the_handler_after_restore_finds_the_pipe_closed() -> None:
    """After a stop the handler stays installed for late copies; it must not write to
    an fd number the process may have reused."""
    stop = StopSignals()
    stop.request()
    stop.restore()
    reused_r, reused_w = os.pipe()
    try:
        stop._handle(signal.SIGINT, None)
        os.set_blocking(reused_r, False)
        with pytest.raises(BlockingIOError):
            os.read(reused_r, 1)
    finally:
        os.close(reused_r)
        os.close(reused_w)
