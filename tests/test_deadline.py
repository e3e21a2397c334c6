"""The one deadline: remaining time, narrowing for per-response timeouts, expiry."""

from __future__ import annotations

import pytest

from ocpp_probe.deadline import Deadline, DeadlineExceeded


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_remaining_counts_down_and_never_goes_negative() -> None:
    clock = FakeClock()
    deadline = Deadline.after(10, clock=clock)
    clock.now += 4
    assert deadline.remaining() == 6
    clock.now += 20
    assert deadline.remaining() == 0
    assert deadline.expired()


def test_remaining_or_raise_names_the_budget() -> None:
    clock = FakeClock()
    deadline = Deadline.after(2, clock=clock)
    clock.now += 2
    with pytest.raises(DeadlineExceeded) as caught:
        deadline.remaining_or_raise()
    assert (caught.value.what, caught.value.limit_s) == ("check", 2)


def test_narrowed_ends_first_when_shorter() -> None:
    clock = FakeClock()
    deadline = Deadline.after(10, clock=clock)
    child = deadline.narrowed(3, "Heartbeat response")
    assert (child.remaining(), child.what) == (3, "Heartbeat response")


def test_narrowed_keeps_parent_when_parent_ends_first() -> None:
    clock = FakeClock()
    deadline = Deadline.after(10, clock=clock)
    clock.now += 8
    child = deadline.narrowed(5, "Heartbeat response")
    assert child is deadline
    assert child.what == "check"
