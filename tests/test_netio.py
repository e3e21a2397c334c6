"""netio's sans-I/O parts: which hosts are address literals (parsed, never looked up)."""

from __future__ import annotations

import ipaddress

import pytest

from ocpp_probe.netio import is_address_literal


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "10.0.0.254", "::1", "fe80::1", "2001:db8::8:800:200c:417a", "::ffff:192.0.2.1"],
)
def test_addresses_are_literals_as_ipaddress_says(host: str) -> None:
    ipaddress.ip_address(host)  # the reference agrees
    assert is_address_literal(host) is True


@pytest.mark.parametrize(
    "host",
    [
        "localhost", "csms.example.net", "127.1", "01.2.3.4", "1.2.3.4.5", "256.0.0.1",
        "::1::", "[::1]", "", "1.2.3.4 ", "ßtraße.example",
    ],
)
def test_names_and_malformed_addresses_are_not(host: str) -> None:
    with pytest.raises(ValueError):
        ipaddress.ip_address(host)  # the reference agrees
    assert is_address_literal(host) is False


def test_a_scoped_ipv6_address_is_looked_up_instead() -> None:
    # ipaddress accepts a scope id; inet_pton does not, so getaddrinfo (in the bounded
    # lookup thread) parses it: same addresses, one thread more.
    ipaddress.ip_address("fe80::1%eth0")
    assert is_address_literal("fe80::1%eth0") is False
