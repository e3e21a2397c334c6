"""The one chunked-body decoder (httpclient.dechunk), used by the push's request and the
upgrade refusal's body reader of the check and of diagnose."""

from __future__ import annotations

from ocpp_probe.httpclient import dechunk


def test_complete_partial_and_limited_bodies() -> None:
    assert dechunk(b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\n\r\n", 100) == (b"Wikipedia", True)
    assert dechunk(b"4\r\nWiki\r\n5\r\nped", 100) == (b"Wikiped", False)  # more may come
    assert dechunk(b"4\r\nWiki\r\n", 100) == (b"Wiki", False)
    assert dechunk(b"4\r\nWiki\r\n5\r\npedia\r\n", 4) == (b"Wiki", True)  # the limit is reached


def test_garbled_size_lines_end_the_body_where_it_was_intact() -> None:
    # int(..., 16) alone would take these as sizes.
    for size in (b"0x5", b"+5", b"-5", b"1_0", b"", b"zz"):
        assert dechunk(b"4\r\nWiki\r\n" + size + b"\r\npedia\r\n0\r\n\r\n", 100) == (b"Wiki", True)
