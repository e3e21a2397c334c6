"""One deadline for the whole check, threaded through every step.

Like Go's ``context.WithDeadline``: the total budget is fixed once, and every wait
(DNS, connect, TLS, each socket read, each OCPP response) asks the same object how
long it may still take, so no step can stretch the check past its deadline.
"""

from __future__ import annotations

import time
from typing import Callable

from .records import record

Clock = Callable[[], float]


class DeadlineExceeded(TimeoutError):
    """Raised when a wait would run past the deadline; ``what`` names the wait."""

    def __init__(self, what: str, limit_s: float) -> None:
        super().__init__(f"{what} timed out after {limit_s:g} s")
        self.what = what
        self.limit_s = limit_s


@record
class Deadline:
    """A point in monotonic time after which nothing may still be waiting."""

    expires_at: float
    budget_s: float
    what: str = "check"
    clock: Clock = time.monotonic

    @classmethod
    def after(cls, seconds: float, what: str = "check", clock: Clock = time.monotonic) -> Deadline:
        return cls(clock() + seconds, seconds, what, clock)

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.expires_at - self.clock())

    def expired(self) -> bool:
        return self.clock() >= self.expires_at

    def remaining_or_raise(self) -> float:
        """Seconds left for the next wait; raises once nothing is left."""
        left = self.expires_at - self.clock()
        if left <= 0:
            raise DeadlineExceeded(self.what, self.budget_s)
        return left

    def narrowed(self, seconds: float | None, what: str) -> Deadline:
        """A child deadline that ends after ``seconds`` or with this one, whichever is first.

        The child keeps the parent's name when the parent ends first, so a timeout
        is blamed on the budget that really ran out.
        """
        if seconds is None:
            return self
        child_end = self.clock() + seconds
        if child_end >= self.expires_at:
            return self
        return Deadline(child_end, seconds, what, self.clock)
