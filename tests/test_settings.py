"""Settings: defaults, identity handling, and a clear ConfigError naming each bad setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ocpp_probe.settings import ConfigError, check_settings_from
from ocpp_probe.versions import OcppVersion


def settings(**values: str):  # type: ignore[no-untyped-def]
    return check_settings_from({"WS_URL": "ws://csms.test/ocpp/CP1", **values})


def test_defaults() -> None:
    s = settings()
    assert (s.host, s.port, s.resource, s.secure) == ("csms.test", 80, "/ocpp/CP1", False)
    assert s.identity == "CP1"
    assert s.version is OcppVersion.V16
    assert (s.model, s.vendor) == ("kuma-probe", "ocpp-probe")
    assert (s.timeout_s, s.response_timeout_s) == (20.0, 5.0)
    assert s.password is None and s.proxy is None and not s.insecure and not s.accept_pending
    assert s.thresholds.cert_warn_days == 14.0


def test_wss_defaults_to_443_and_keeps_query() -> None:
    s = check_settings_from({"WS_URL": "WSS://csms.test/ocpp/CP1?tenant=a b"})
    assert (s.port, s.secure) == (443, True)
    assert s.resource == "/ocpp/CP1?tenant=a%20b"
    assert s.url == "wss://csms.test/ocpp/CP1?tenant=a b"


def test_charge_point_id_is_appended_percent_encoded() -> None:
    s = check_settings_from({"WS_URL": "ws://csms.test/ocpp/", "CHARGE_POINT_ID": "CP 1/ü:x"})
    assert s.identity == "CP 1/ü:x"
    assert s.resource == "/ocpp/CP%201%2F%C3%BC%3Ax"


@pytest.mark.parametrize(
    ("values", "identity", "resource", "url"),
    [
        # A URL ending in / names the identity in its last non-empty segment; the
        # slash is kept on the wire, since it is the route such a CSMS serves.
        ({"WS_URL": "ws://h/ws/ocpp/CP%201/"}, "CP 1", "/ws/ocpp/CP%201/", "ws://h/ws/ocpp/CP%201/"),
        ({"WS_URL": "ws://h/ws/ocpp/CP1/?t=1"}, "CP1", "/ws/ocpp/CP1/?t=1", "ws://h/ws/ocpp/CP1/?t=1"),
        ({"WS_URL": "ws://h/CP1/"}, "CP1", "/CP1/", "ws://h/CP1/"),
        # CHARGE_POINT_ID plus WS_TRAILING_SLASH: the appended form with the slash.
        ({"WS_URL": "ws://h/ws/ocpp/", "CHARGE_POINT_ID": "CP 1", "WS_TRAILING_SLASH": "true"},
         "CP 1", "/ws/ocpp/CP%201/", "ws://h/ws/ocpp/CP%201/"),
        ({"WS_URL": "ws://h/ws/ocpp", "CHARGE_POINT_ID": "CP1", "WS_TRAILING_SLASH": "yes"},
         "CP1", "/ws/ocpp/CP1/", "ws://h/ws/ocpp/CP1/"),
        # Without it, the appended form has no slash, as before.
        ({"WS_URL": "ws://h/ws/ocpp/", "CHARGE_POINT_ID": "CP1"}, "CP1", "/ws/ocpp/CP1", "ws://h/ws/ocpp/CP1"),
        ({"WS_URL": "ws://h/ws/ocpp/", "CHARGE_POINT_ID": "CP1", "WS_TRAILING_SLASH": "false"},
         "CP1", "/ws/ocpp/CP1", "ws://h/ws/ocpp/CP1"),
    ],
)
def test_trailing_slash_urls(values: dict[str, str], identity: str, resource: str, url: str) -> None:
    s = check_settings_from(values)
    assert (s.identity, s.resource, s.url) == (identity, resource, url)


def test_identity_from_url_is_decoded() -> None:
    assert check_settings_from({"WS_URL": "ws://h/ocpp/CP%201"}).identity == "CP 1"


def test_timeouts_are_read_in_their_units() -> None:
    s = settings(PROBE_TIMEOUT="2.5", HEARTBEAT_TIMEOUT="750")
    assert (s.timeout_s, s.response_timeout_s) == (2.5, 0.75)


@pytest.mark.parametrize(
    ("values", "setting", "problem"),
    [
        ({"WS_URL": ""}, "WS_URL", "is required"),
        ({"WS_URL": "http://csms.test/ocpp/CP1"}, "WS_URL", "must start with ws:// or wss:// (scheme is http)"),
        ({"WS_URL": "csms.test/ocpp/CP1"}, "WS_URL", "must start with ws:// or wss:// (scheme is none)"),
        ({"WS_URL": "ws:///ocpp/CP1"}, "WS_URL", "has no host name"),
        ({"WS_URL": "ws://h:99999/ocpp/CP1"}, "WS_URL", "is not a valid URL"),
        ({"WS_URL": "ws://h/"}, "WS_URL", "has no charge point identity"),
        ({"WS_URL": "ws://h"}, "WS_URL", "has no charge point identity"),
        ({"WS_URL": "ws://h/ocpp/CP1//"}, "WS_URL", "has no charge point identity"),
        ({"WS_URL": "ws://h/ocpp/CP1", "WS_TRAILING_SLASH": "1"}, "WS_TRAILING_SLASH",
         "applies to CHARGE_POINT_ID; with the identity in WS_URL, end WS_URL with /"),
        ({"WS_URL": "ws://h/ocpp/", "CHARGE_POINT_ID": "CP1", "WS_TRAILING_SLASH": "sometimes"},
         "WS_TRAILING_SLASH", "must be true or false"),
        ({"WS_URL": "ws://u:p@h/ocpp/CP1"}, "WS_URL", "must not carry credentials"),
        ({"OCPP_VERSION": "2.0"}, "OCPP_VERSION", "must be 1.6, 2.0.1 or 2.1, got '2.0'"),
        ({"PROBE_TIMEOUT": "-1"}, "PROBE_TIMEOUT", "must be a positive number of seconds"),
        ({"PROBE_TIMEOUT": "ten"}, "PROBE_TIMEOUT", "must be a number of seconds, got 'ten'"),
        ({"PROBE_TIMEOUT": "nan"}, "PROBE_TIMEOUT", "must be a positive number of seconds"),
        ({"HEARTBEAT_TIMEOUT": "0"}, "HEARTBEAT_TIMEOUT", "must be a positive number of milliseconds"),
        ({"TLS_INSECURE": "maybe"}, "TLS_INSECURE", "must be true or false"),
        ({"CHARGE_POINT_MODEL": "m" * 21}, "CHARGE_POINT_MODEL", "at most 20 characters"),
        ({"CHARGE_POINT_VENDOR": "v" * 21}, "CHARGE_POINT_VENDOR", "at most 20 characters for OCPP 1.6"),
        ({"TLS_CA_FILE": "/nonexistent/ca.pem"}, "TLS_CA_FILE", "no such file: /nonexistent/ca.pem"),
        ({"OCPP_PASSWORD_FILE": "/nonexistent/pw"}, "OCPP_PASSWORD_FILE", "cannot read /nonexistent/pw"),
        ({"PROBE_PROXY": "socks5://p:1080"}, "PROBE_PROXY", "must be an http://host:port proxy"),
    ],
)
def test_bad_settings_name_the_setting(values: dict[str, Any], setting: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(**values)
    assert caught.value.setting == setting
    assert problem in caught.value.problem


def test_vendor_may_be_50_characters_in_2_x() -> None:
    assert settings(OCPP_VERSION="2.0.1", CHARGE_POINT_VENDOR="v" * 50).vendor == "v" * 50


def test_tls_settings_on_plain_ws_are_refused(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    with pytest.raises(ConfigError) as caught:
        settings(TLS_CA_FILE=str(ca))
    assert str(caught.value) == "TLS_CA_FILE: only applies to wss:// URLs"


def test_password_file_strips_only_the_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text(" spaced secret \n")
    assert settings(OCPP_PASSWORD_FILE=str(path)).password == " spaced secret "


def test_password_file_wins_over_password(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text("from-file")
    assert settings(OCPP_PASSWORD="from-env", OCPP_PASSWORD_FILE=str(path)).password == "from-file"


def test_empty_password_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text("\n")
    with pytest.raises(ConfigError) as caught:
        settings(OCPP_PASSWORD_FILE=str(path))
    assert caught.value.problem.endswith("is empty")


def test_unreadable_password_file_is_an_error(tmp_path: Path) -> None:
    # A directory cannot be read as a file, even by root (CI runs as root).
    with pytest.raises(ConfigError) as caught:
        settings(OCPP_PASSWORD_FILE=str(tmp_path))
    assert caught.value.setting == "OCPP_PASSWORD_FILE"
    assert caught.value.problem.startswith(f"cannot read {tmp_path}: Is a directory")


def test_password_never_in_repr() -> None:
    assert "hunter2" not in repr(settings(OCPP_PASSWORD="hunter2"))


def test_environment_proxy_and_no_proxy() -> None:
    s = settings(HTTP_PROXY="http://user:pw@proxy.test:8080")
    assert s.proxy is not None and (s.proxy.host, s.proxy.port) == ("proxy.test", 8080)
    assert s.proxy.authorization == "Basic dXNlcjpwdw=="
    assert "pw" not in repr(s.proxy)
    assert settings(HTTP_PROXY="http://proxy.test:8080", NO_PROXY=".test").proxy is None
    assert settings(HTTPS_PROXY="http://proxy.test:8080").proxy is None  # ws:// uses HTTP_PROXY
    assert settings(HTTP_PROXY="http://proxy.test:8080", PROBE_PROXY="none").proxy is None
