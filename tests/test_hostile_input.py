"""Bad input from the user: UNKNOWN (exit 3) naming the setting, before any connection.

And input that is good but awkward: identities and passwords with spaces, colons,
slashes and non-ASCII characters, encoded as OCPP-J says (percent-encoding in the
URL path, UTF-8 in the Basic token) and accepted by two independent CSMS stacks.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from .peers.ocpp_lib_csms import OcppLibCsms
from .peers.ocpp_rpc_csms import OcppRpcCsms
from .peers.scenario_server import ScenarioServer
from .support.pki import Pki
from .support.runs import probe_in_process, timed_probe

IDENTITY = "CP 1/ü"
ENCODED_IDENTITY = "CP%201%2F%C3%BC"
PASSWORD = "p w:ä/é"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("input")
    not_utf8 = base / "latin1-password"
    not_utf8.write_bytes(b"caf\xe9\n")
    empty = base / "empty-password"
    empty.write_text("\n")
    garbage = base / "garbage.pem"
    garbage.write_text("this is not a certificate\n")
    return {
        "dir": str(base),
        "not_utf8": str(not_utf8),
        "empty": str(empty),
        "garbage": str(garbage),
        "missing": str(base / "no-such-file.pem"),
    }


# (id, argv, env, setting named, problem text). "{...}" is filled from the fixtures;
# WS_URL defaults to the scenario server, which must see no connection at all.
CONFIG_ROWS: list[tuple[str, list[str], dict[str, str], str, str]] = [
    ("url-http", ["--url", "http://127.0.0.1/ocpp/CP-1"], {}, "WS_URL", "must start with ws:// or wss://"),
    ("url-no-scheme", [], {"WS_URL": "127.0.0.1/ocpp/CP-1"}, "WS_URL", "must start with ws:// or wss://"),
    ("url-missing", [], {"WS_URL": ""}, "WS_URL", "is required"),
    ("identity-missing", [], {"WS_URL": "ws://127.0.0.1:{port}/"}, "WS_URL",
     "has no charge point identity"),
    ("version-unknown", ["--ocpp-version", "1.5"], {}, "OCPP_VERSION", "must be 1.6, 2.0.1 or 2.1, got '1.5'"),
    ("version-unknown-env", [], {"OCPP_VERSION": "ocpp2.0"}, "OCPP_VERSION", "must be 1.6, 2.0.1 or 2.1"),
    ("timeout-negative", ["--timeout", "-5"], {}, "PROBE_TIMEOUT", "must be a positive number of seconds"),
    ("timeout-zero", [], {"PROBE_TIMEOUT": "0"}, "PROBE_TIMEOUT", "must be a positive number of seconds"),
    ("timeout-not-a-number", ["--timeout", "abc"], {}, "PROBE_TIMEOUT", "must be a number of seconds, got 'abc'"),
    ("timeout-infinite", [], {"PROBE_TIMEOUT": "inf"}, "PROBE_TIMEOUT", "must be a positive number"),
    ("response-timeout-negative", ["--heartbeat-timeout", "-1"], {}, "HEARTBEAT_TIMEOUT",
     "must be a positive number of milliseconds"),
    ("response-timeout-not-a-number", [], {"HEARTBEAT_TIMEOUT": "5s"}, "HEARTBEAT_TIMEOUT",
     "must be a number of milliseconds, got '5s'"),
    ("cert-file-missing", ["--cert-file", "{missing}"], {"WS_URL": "wss://127.0.0.1:{port}/ocpp/CP-1"},
     "TLS_CERT_FILE", "no such file"),
    ("key-file-missing", ["--cert-file", "{client_cert}", "--key-file", "{missing}"],
     {"WS_URL": "wss://127.0.0.1:{port}/ocpp/CP-1"}, "TLS_KEY_FILE", "no such file"),
    ("key-without-cert", ["--key-file", "{client_key}"], {"WS_URL": "wss://127.0.0.1:{port}/ocpp/CP-1"},
     "TLS_KEY_FILE", "is set but TLS_CERT_FILE is not"),
    ("key-does-not-match-cert", ["--cert-file", "{client_cert}", "--key-file", "{other_key}"],
     {"WS_URL": "wss://127.0.0.1:{port}/ocpp/CP-1"}, "TLS_KEY_FILE",
     "does not match the certificate in TLS_CERT_FILE"),
    ("key-file-not-a-key", ["--cert-file", "{client_cert}", "--key-file", "{garbage}"],
     {"WS_URL": "wss://127.0.0.1:{port}/ocpp/CP-1"}, "TLS_KEY_FILE", "holds no usable private key"),
    ("cert-file-not-a-certificate", ["--cert-file", "{garbage}", "--key-file", "{client_key}"],
     {"WS_URL": "wss://127.0.0.1:{port}/ocpp/CP-1"}, "TLS_CERT_FILE", "holds no PEM certificate"),
    ("ca-file-not-a-certificate", ["--ca-file", "{garbage}"], {"WS_URL": "wss://127.0.0.1:{port}/ocpp/CP-1"},
     "TLS_CA_FILE", "holds no usable certificate"),
    ("ca-file-missing", ["--ca-file", "{missing}"], {"WS_URL": "wss://127.0.0.1:{port}/ocpp/CP-1"},
     "TLS_CA_FILE", "no such file"),
    ("cert-on-plain-ws", ["--cert-file", "{client_cert}", "--key-file", "{client_key}"], {},
     "TLS_CERT_FILE", "only applies to wss:// URLs"),
    ("password-file-missing", ["--password-file", "{missing}"], {}, "OCPP_PASSWORD_FILE", "cannot read"),
    ("password-file-is-a-directory", ["--password-file", "{dir}"], {}, "OCPP_PASSWORD_FILE", "cannot read"),
    ("password-file-not-utf8", [], {"OCPP_PASSWORD_FILE": "{not_utf8}"}, "OCPP_PASSWORD_FILE",
     "is not UTF-8 text"),
    ("password-file-empty", [], {"OCPP_PASSWORD_FILE": "{empty}"}, "OCPP_PASSWORD_FILE", "is empty"),
    ("insecure-not-a-boolean", [], {"TLS_INSECURE": "perhaps", "WS_URL": "wss://127.0.0.1:{port}/ocpp/CP-1"},
     "TLS_INSECURE", "must be true or false"),
    ("unknown-flag", ["--timout", "5"], {}, "usage", "unrecognized arguments"),
]


@pytest.mark.parametrize("row", CONFIG_ROWS, ids=[row[0] for row in CONFIG_ROWS])
def test_bad_configuration_is_unknown_and_names_the_setting(
    row: tuple[str, list[str], dict[str, str], str, str], pki: Pki, files: dict[str, str]
) -> None:
    _name, argv, env, setting, problem = row
    with ScenarioServer(lambda peer: peer.hold()) as server:
        values = {**files, "client_cert": pki.client_cert, "client_key": pki.client_key,
                  "other_key": pki.other_client_key, "port": str(server.port)}
        filled_env = {"WS_URL": server.url(), **{k: v.format(**values) for k, v in env.items()}}
        filled_argv = [arg.format(**values) for arg in argv]
        timed = timed_probe(["--json", *filled_argv], filled_env)
        run, elapsed = timed.run, timed.elapsed_s
        time.sleep(0.05)  # a connection, had one been made, would be accepted by now
        assert server.peers == [], "bad configuration must stop the check before it connects"
    assert run.code == 3, run.stdout
    assert run.doc["verdict"] == "UNKNOWN" and run.doc["failed_step"] == "config"
    assert run.doc["failure_kind"] == "config"
    assert run.doc["reason"].startswith(f"{setting}:"), run.doc["reason"]
    assert problem in run.doc["reason"]
    assert "\n" not in run.doc["reason"] and run.stderr == ""
    assert elapsed < 1.0


def test_text_output_of_bad_configuration_is_one_line() -> None:
    run = probe_in_process(["--timeout", "-5"], {"WS_URL": "ws://127.0.0.1:9/ocpp/CP-1"})
    assert run.code == 3
    assert run.stdout == (
        "OCPP UNKNOWN - config failed: PROBE_TIMEOUT: must be a positive number of seconds, got '-5'\n"
    )


def _basic(identity: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{identity}:{password}".encode()).decode("ascii")


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_awkward_identity_and_password_reach_the_ocpp_library(version: str) -> None:
    with OcppLibCsms(version=version, password=PASSWORD) as csms:
        base = csms.url("x").rsplit("/", 1)[0]
        run = probe_in_process(
            ["--json"],
            {"WS_URL": base, "CHARGE_POINT_ID": IDENTITY, "OCPP_PASSWORD": PASSWORD, "OCPP_VERSION": version},
        )
    assert run.code == 0, run.stdout
    assert run.doc["target"].endswith("/ocpp/" + ENCODED_IDENTITY)
    assert csms.seen.identities == [ENCODED_IDENTITY]
    assert csms.seen.authorizations == [_basic(IDENTITY, PASSWORD)]


def test_identity_written_in_the_url_is_sent_as_written() -> None:
    # An identity already percent-encoded in WS_URL is kept; a raw space is encoded.
    with OcppLibCsms(password=PASSWORD) as csms:
        base = csms.url("x").rsplit("/", 1)[0]
        run = probe_in_process(["--json"], {"WS_URL": base + "/CP 1%2F%C3%BC", "OCPP_PASSWORD": PASSWORD})
    assert run.code == 0, run.stdout
    assert csms.seen.identities == [ENCODED_IDENTITY]
    assert csms.seen.authorizations == [_basic(IDENTITY, PASSWORD)]


def test_identity_with_a_colon_is_percent_encoded() -> None:
    with OcppLibCsms() as csms:
        base = csms.url("x").rsplit("/", 1)[0]
        run = probe_in_process(["--json"], {"WS_URL": base, "CHARGE_POINT_ID": "CP:7"})
    assert run.code == 0, run.stdout
    assert csms.seen.identities == ["CP%3A7"]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_awkward_identity_and_password_reach_ocpp_rpc(version: str) -> None:
    with OcppRpcCsms(protocols=[f"ocpp{version}"], password=PASSWORD) as csms:
        run = probe_in_process(
            ["--json"],
            {
                "WS_URL": csms.url("x").rsplit("/", 1)[0],
                "CHARGE_POINT_ID": IDENTITY,
                "OCPP_PASSWORD": PASSWORD,
                "OCPP_VERSION": version,
            },
        )
        auths: list[dict[str, Any]] = csms.of("auth")
    assert run.code == 0, run.stdout
    assert [(auth["identity"], auth["password_given"]) for auth in auths] == [(IDENTITY, True)]
