"""OCPP-J framing, without a network: parsing what a CSMS sends, answering its CALLs."""

from __future__ import annotations

import orjson
import pytest

from ocpp_probe.rpc import (
    Call,
    CallError,
    CallResult,
    FrameViolation,
    Send,
    UnknownMessage,
    answer_to_csms_call,
    encode_call,
    encode_call_error,
    matches,
    new_message_id,
    parse_frame,
)
from ocpp_probe.versions import OcppVersion

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21


def test_encode_call_is_the_ocpp_j_array() -> None:
    data = encode_call(Call("id-1", "Heartbeat", {}))
    assert orjson.loads(data) == [2, "id-1", "Heartbeat", {}]


def test_message_ids_are_unique_uuid4_strings() -> None:
    ids = {new_message_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 36 and i[14] == "4" for i in ids)


def test_parse_call_result() -> None:
    frame = parse_frame(b'[3,"a",{"currentTime":"2024-01-01T00:00:00Z"}]', V16)
    assert frame == CallResult("a", {"currentTime": "2024-01-01T00:00:00Z"})


def test_parse_call_error_with_details() -> None:
    frame = parse_frame('[4,"a","NotImplemented","nope",{"x":1}]', V201)
    assert frame == CallError("a", "NotImplemented", "nope", {"x": 1})


def test_parse_call_from_csms() -> None:
    assert parse_frame('[2,"c1","GetConfiguration",{}]', V16) == Call("c1", "GetConfiguration", {})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "frame is not JSON"),
        (b'{"a":1}', "frame is a JSON object, expected an array"),
        (b"[]", "frame is an empty array"),
        (b'["3","a",{}]', "message type is a JSON string, expected a number"),
        (b"[true,\"a\",{}]", "message type is a JSON boolean, expected a number"),
        (b"[3]", "CALLRESULT frame has no message id"),
        (b"[3,7,{}]", "CALLRESULT message id is a JSON number, expected a string"),
        (b'[3,"a",[]]', "CALLRESULT payload is a JSON array, expected an object"),
        (b'[3,"a",{},1]', "CALLRESULT frame has 4 elements, expected 3"),
        (b'[4,"a","E","d"]', "CALLERROR frame has 4 elements, expected 5"),
        (b'[4,"a",1,"d",{}]', "CALLERROR errorCode is a JSON number, expected a string"),
        (b'[2,"a","Reset",null]', "CALL Reset payload is a JSON null, expected an object"),
    ],
)
def test_malformed_frames_name_the_problem(data: bytes, message: str) -> None:
    with pytest.raises(FrameViolation) as caught:
        parse_frame(data, V16)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("version", [V16, V201])
def test_types_5_and_6_are_unknown_before_2_1(version: OcppVersion) -> None:
    assert parse_frame('[6,"s","NotifyPeriodicEventStream",{}]', version) == UnknownMessage(6)
    assert parse_frame('[5,"a","E","d",{}]', version) == UnknownMessage(5)


def test_2_1_send_and_callresulterror_are_understood() -> None:
    assert parse_frame('[6,"s","NotifyPeriodicEventStream",{}]', V21) == Send(
        "s", "NotifyPeriodicEventStream", {}
    )
    frame = parse_frame('[5,"a","InternalError","bad result",{}]', V21)
    assert frame == CallError("a", "InternalError", "bad result", {}, about_result=True)


def test_unknown_message_type_is_ignored_not_fatal() -> None:
    assert parse_frame('[9,"x"]', V201) == UnknownMessage(9)


def test_matches_only_the_answer_to_our_call() -> None:
    ours = CallResult("mine", {})
    assert matches(ours, "mine") is ours
    assert matches(CallResult("other", {}), "mine") is None
    assert matches(CallError("mine", "E", "d"), "mine") == CallError("mine", "E", "d")
    # A CALLRESULTERROR complains about a CALLRESULT, never answers our CALL.
    assert matches(CallError("mine", "E", "d", about_result=True), "mine") is None
    assert matches(Call("mine", "Reset", {}), "mine") is None


def test_ocpp16_answers_every_csms_call_with_not_implemented() -> None:
    answer = answer_to_csms_call(Call("c1", "GetConfiguration", {}), V16)
    assert (answer.message_id, answer.error_code) == ("c1", "NotImplemented")
    assert orjson.loads(encode_call_error(answer)) == [
        4, "c1", "NotImplemented", "GetConfiguration is not supported by this monitoring probe", {}
    ]


@pytest.mark.parametrize("version", [V201, V21])
def test_ocpp2_distinguishes_known_from_unknown_actions(version: OcppVersion) -> None:
    assert answer_to_csms_call(Call("c", "GetBaseReport", {}), version).error_code == "NotSupported"
    assert answer_to_csms_call(Call("c", "SetVariables", {}), version).error_code == "NotSupported"
    assert answer_to_csms_call(Call("c", "NoSuchAction", {}), version).error_code == "NotImplemented"


def test_2_1_only_actions_are_unknown_to_2_0_1() -> None:
    assert answer_to_csms_call(Call("c", "SetDERControl", {}), V21).error_code == "NotSupported"
    assert answer_to_csms_call(Call("c", "SetDERControl", {}), V201).error_code == "NotImplemented"
