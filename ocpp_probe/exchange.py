"""The OCPP half of a check: send a CALL, wait for its answer like a real station.

While it waits, the probe answers every CALL the CSMS sends first (SteVe asks for
GetConfiguration, CitrineOS for GetBaseReport, others send TriggerMessage), ignores
answers to calls it never made, and treats anything that is not OCPP-J as a fault.
"""

from __future__ import annotations

import ssl

from .channel import Channel, ConnectionClosed, WebSocketViolation
from .deadline import Deadline, DeadlineExceeded
from .failures import FailureKind, kind_for_os_error, kind_for_ssl_error
from .printable import quoted
from .result import Step, StepFailure, timed_out
from .rpc import (
    Call,
    CallError,
    Frame,
    FrameViolation,
    Payload,
    answer_to_csms_call,
    describe,
    encode_call,
    encode_call_error,
    matches,
    new_message_id,
    parse_frame,
)
from .sockets import describe_os_error
from .tls import describe_ssl_error
from .trace import Tracer
from .versions import OcppVersion


def _waited_too_long(exc: DeadlineExceeded, action: str) -> str:
    if exc.what == "check":
        return f"total deadline of {exc.limit_s:g} s reached waiting for the {action} response"
    return f"no {action} response within {exc.limit_s * 1000:g} ms (HEARTBEAT_TIMEOUT)"


MAX_LISTED_CALLS = 50


def _lost(failure: StepFailure) -> StepFailure:
    """``failure`` marked as one after which the connection carries no more messages."""
    failure.connection_lost = True
    return failure


class Exchange:
    """The OCPP exchange over one channel: CALLs out, their answers in."""

    def __init__(
        self,
        channel: Channel,
        version: OcppVersion,
        trace: Tracer | None = None,
        csms_calls: list[str] | None = None,
    ) -> None:
        self.channel = channel
        self.version = version
        self.trace = trace
        # The actions of CALLs the CSMS sent first; the caller may pass its own list.
        self.csms_calls: list[str] = [] if csms_calls is None else csms_calls

    def _note(self, line: str) -> None:
        if self.trace is not None:
            self.trace(line)

    def _send(self, data: bytes) -> None:
        self._note("> " + data.decode("utf-8", "replace"))
        self.channel.send_text(data)

    def take(self, text: bytes) -> Frame | None:
        """A received message as a frame, or None when it was a CSMS CALL (answered here).

        Raises FrameViolation for a message that is not OCPP-J.
        """
        self._note("< " + text.decode("utf-8", "replace"))
        frame = parse_frame(text, self.version)
        if isinstance(frame, Call):
            # Listed for the report, within bounds a flooding CSMS cannot stretch.
            if len(self.csms_calls) < MAX_LISTED_CALLS:
                self.csms_calls.append(quoted(frame.action))
            self._send(encode_call_error(answer_to_csms_call(frame, self.version)))
            return None
        return frame

    def call(self, action: str, payload: Payload, deadline: Deadline, step: Step) -> Payload:
        """The CALLRESULT payload for one CALL, or StepFailure saying what went wrong.

        The except clauses below are this layer's one translation of exceptions
        into failures and their kinds.
        """
        message_id = new_message_id()
        try:
            self.channel.arm(deadline)  # the CALL's own send is bounded by its budget too
            self._send(encode_call(Call(message_id, action, payload)))
            while True:
                frame = self.take(self.channel.receive_text(deadline))
                if frame is None:
                    continue
                answer = matches(frame, message_id)
                if answer is None:
                    self._note(f"  ignored: {describe(frame)}")
                    continue
                if isinstance(answer, CallError):
                    description = quoted(answer.error_description.strip())
                    raise StepFailure(
                        step,
                        f"CSMS answered {action} with CALLERROR {quoted(answer.error_code)}"
                        + (f": {description}" if description else ""),
                        kind=FailureKind.CALLERROR,
                        error_code=quoted(answer.error_code),
                    )
                return answer.payload
        except DeadlineExceeded as exc:
            raise _lost(timed_out(step, _waited_too_long(exc, action))) from None
        except ConnectionClosed as exc:
            raise StepFailure(
                step, f"{exc.reason}, before the {action} response", kind=FailureKind.CLOSED,
                connection_lost=True,
            ) from None
        except WebSocketViolation as exc:
            raise StepFailure(step, str(exc), kind=FailureKind.WS_PROTOCOL, connection_lost=True) from None
        except FrameViolation as exc:
            raise StepFailure(
                step, f"protocol violation: {exc}", kind=FailureKind.OCPP_PROTOCOL, connection_lost=True
            ) from None
        except ssl.SSLError as exc:
            raise StepFailure(
                step, describe_ssl_error(exc), kind=kind_for_ssl_error(exc), connection_lost=True
            ) from None
        except OSError as exc:
            raise StepFailure(
                step,
                f"{describe_os_error(exc)}, waiting for the {action} response",
                kind=kind_for_os_error(exc, FailureKind.CLOSED),
                connection_lost=True,
            ) from None
