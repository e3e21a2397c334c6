"""The -v trace: steps and frames as they happen, for a person diagnosing a CSMS.

The check only calls a Tracer it was given; what a trace line looks like and where
it goes is decided here. Credentials never reach a tracer (see upgrade.redacted_request).
"""

from __future__ import annotations

import time
from typing import Callable, TextIO

from .printable import shown

# A trace line quotes frames and heads; long ones are cut after this many characters.
TRACE_LINE_MAX = 4000

Tracer = Callable[[str], None]


def stream_tracer(stream: TextIO) -> Tracer:
    """A tracer writing each line to ``stream`` with milliseconds since it was made."""
    start = time.perf_counter()

    def trace(line: str) -> None:
        elapsed = (time.perf_counter() - start) * 1000
        prefix = f"[{elapsed:9.3f} ms] "
        # A line may span several (a request head); each part is made safe on its own
        # (callers redact secrets first: check.run_check wraps its tracer).
        parts = [shown(part, TRACE_LINE_MAX) for part in line.split("\n")]
        stream.write(prefix + ("\n" + " " * len(prefix)).join(parts) + "\n")
        stream.flush()

    return trace
