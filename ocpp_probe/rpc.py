"""OCPP-J RPC framing, without sockets.

Parsing frames the CSMS sends, building the frames the probe sends, and deciding
how a well-mannered charging station answers a CALL it did not ask for. Every
function here is pure, so the whole protocol logic is tested without a network.
"""

from __future__ import annotations

import uuid
from dataclasses import field
from enum import IntEnum
from typing import Any, Union

import orjson

from .printable import quoted
from .records import record
from .versions import OcppVersion

Payload = dict[str, Any]


class MessageType(IntEnum):
    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4
    CALLRESULTERROR = 5  # OCPP 2.1 only
    SEND = 6  # OCPP 2.1 only


@record
class Call:
    """An OCPP CALL (message type 2)."""

    message_id: str
    action: str
    payload: Payload


@record
class CallResult:
    """An OCPP CALLRESULT (message type 3)."""

    message_id: str
    payload: Payload


@record
class CallError:
    """An OCPP CALLERROR (message type 4)."""

    message_id: str
    error_code: str
    error_description: str
    error_details: Payload = field(default_factory=dict)
    # A CALLRESULTERROR (2.1) has the same shape but reports a bad CALLRESULT.
    about_result: bool = False


@record
class Send:
    """An OCPP 2.1 SEND: an unconfirmed message that is never answered."""

    message_id: str
    action: str
    payload: Payload


@record
class UnknownMessage:
    """A frame with a message type number this version does not define."""

    type_number: int


Frame = Union[Call, CallResult, CallError, Send, UnknownMessage]


class FrameViolation(ValueError):
    """The CSMS sent something that is not a valid OCPP-J frame."""


def new_message_id() -> str:
    return str(uuid.uuid4())


def encode_call(call: Call) -> bytes:
    return orjson.dumps([MessageType.CALL.value, call.message_id, call.action, call.payload])


def encode_call_error(error: CallError) -> bytes:
    return orjson.dumps(
        [
            MessageType.CALLERROR.value,
            error.message_id,
            error.error_code,
            error.error_description,
            error.error_details,
        ]
    )


def _kind(value: Any) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _expect_length(frame: list[Any], name: str, length: int) -> None:
    if len(frame) != length:
        raise FrameViolation(f"{name} frame has {len(frame)} elements, expected {length}")


def _expect_object(value: Any, what: str) -> Payload:
    if not isinstance(value, dict):
        raise FrameViolation(f"{what} is a JSON {_kind(value)}, expected an object")
    return value


def _expect_string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise FrameViolation(f"{what} is a JSON {_kind(value)}, expected a string")
    return value


def parse_frame(data: str | bytes, version: OcppVersion) -> Frame:
    """Decode one WebSocket text message into an OCPP-J frame, or raise FrameViolation."""
    try:
        decoded = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FrameViolation(f"frame is not JSON ({exc.args[0] if exc.args else exc})") from None
    if not isinstance(decoded, list):
        raise FrameViolation(f"frame is a JSON {_kind(decoded)}, expected an array")
    if not decoded:
        raise FrameViolation("frame is an empty array")
    type_number = decoded[0]
    if isinstance(type_number, bool) or not isinstance(type_number, int):
        raise FrameViolation(
            f"message type is a JSON {_kind(type_number)}, expected a number"
        )
    defined = version.message_types()
    if type_number not in defined:
        # Every OCPP-J version says to ignore a message type it does not define.
        return UnknownMessage(type_number)
    message_type = MessageType(type_number)
    if len(decoded) < 2:
        raise FrameViolation(f"{message_type.name} frame has no message id")
    message_id = _expect_string(decoded[1], f"{message_type.name} message id")

    if message_type in (MessageType.CALL, MessageType.SEND):
        _expect_length(decoded, message_type.name, 4)
        action = _expect_string(decoded[2], f"{message_type.name} action")
        payload = _expect_object(decoded[3], f"{message_type.name} {quoted(action)} payload")
        if message_type is MessageType.SEND:
            return Send(message_id, action, payload)
        return Call(message_id, action, payload)
    if message_type is MessageType.CALLRESULT:
        _expect_length(decoded, "CALLRESULT", 3)
        return CallResult(message_id, _expect_object(decoded[2], "CALLRESULT payload"))
    name = message_type.name
    _expect_length(decoded, name, 5)
    return CallError(
        message_id,
        _expect_string(decoded[2], f"{name} errorCode"),
        _expect_string(decoded[3], f"{name} errorDescription"),
        _expect_object(decoded[4], f"{name} errorDetails"),
        about_result=message_type is MessageType.CALLRESULTERROR,
    )


def answer_to_csms_call(call: Call, version: OcppVersion) -> CallError:
    """The CALLERROR a monitoring probe sends for a CALL the CSMS initiated.

    A probe implements no station feature, but staying silent would leave the CSMS
    waiting (and some CSMS drop the connection), so it answers at once. OCPP 1.6
    uses NotImplemented throughout; 2.x distinguishes an action it recognises
    (NotSupported) from one that does not exist in the version (NotImplemented).
    """
    if version is OcppVersion.V16 or call.action not in version.actions():
        code = "NotImplemented"
    else:
        code = "NotSupported"
    return CallError(
        call.message_id,
        code,
        f"{call.action} is not supported by this monitoring probe",
    )


def describe(frame: Frame) -> str:
    """A short human name for a frame, used in traces."""
    if isinstance(frame, Call):
        return f"CALL {frame.action} id={frame.message_id}"
    if isinstance(frame, CallResult):
        return f"CALLRESULT id={frame.message_id}"
    if isinstance(frame, CallError):
        name = "CALLRESULTERROR" if frame.about_result else "CALLERROR"
        return f"{name} {frame.error_code} id={frame.message_id}"
    if isinstance(frame, Send):
        return f"SEND {frame.action} id={frame.message_id}"
    return f"message type {frame.type_number} (ignored)"


def matches(frame: Frame, message_id: str) -> CallResult | CallError | None:
    """The frame if it answers the CALL with ``message_id``, else None."""
    if isinstance(frame, (CallResult, CallError)) and frame.message_id == message_id:
        if isinstance(frame, CallError) and frame.about_result:
            return None
        return frame
    return None
