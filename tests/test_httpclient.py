"""httpclient: proxy choice as curl makes it, credentials kept as secrets, one request."""

from __future__ import annotations

import pytest

from ocpp_probe.deadline import Deadline
from ocpp_probe.httpclient import bypassed, environment_proxy, parse_proxy, request
from ocpp_probe.runner import OutputFormat, run_options_from
from ocpp_probe.settings import Proxy, check_settings_from

from .peers.connect_proxy import ConnectProxy
from .peers.scenario_server import Peer, ScenarioServer
from .support.pki import Pki
from .support.runs import probe_in_process


def test_proxy_variables_are_chosen_as_curl_chooses_them() -> None:
    both = {"http_proxy": "http://lower:1", "HTTP_PROXY": "http://upper:2", "ALL_PROXY": "http://all:3"}
    assert environment_proxy(both, "ws", "csms.example.com") == ("http_proxy", "http://lower:1")
    assert environment_proxy({"HTTP_PROXY": "http://upper:2"}, "http", "h") == ("HTTP_PROXY", "http://upper:2")
    # https and wss read https_proxy only, then all_proxy.
    assert environment_proxy(both, "wss", "csms.example.com") == ("ALL_PROXY", "http://all:3")
    assert environment_proxy({"https_proxy": "http://s:4"}, "https", "h") == ("https_proxy", "http://s:4")
    assert environment_proxy({"https_proxy": "http://s:4"}, "http", "h") is None
    assert environment_proxy({**both, "no_proxy": "*"}, "ws", "anything") is None


@pytest.mark.parametrize(
    ("host", "no_proxy", "direct"),
    [
        ("kuma.example.com", "example.com", True),
        ("kuma.example.com", ".example.com", True),
        ("example.com", ".example.com", True),
        ("badexample.com", "example.com", False),
        ("KUMA.Example.COM.", "example.com", True),
        ("10.1.2.3", "10.0.0.0/8", True),
        ("11.1.2.3", "10.0.0.0/8", False),
        ("::1", "::1", True),
        ("[fd00::5]", "fd00::/8", True),
        ("h", "a, h ,b", True),
        ("h", "", False),
    ],
)
def test_no_proxy_rules(host: str, no_proxy: str, direct: bool) -> None:
    assert bypassed(host, no_proxy) is direct


def test_proxy_keeps_user_and_password_as_hidden_fields() -> None:
    proxy = parse_proxy("http://us%40er:p%3Ass@proxy.test:8080")
    assert proxy == Proxy("proxy.test", 8080, "us@er", "p:ss")
    assert (proxy.user, proxy.password) == ("us@er", "p:ss")
    assert "p:ss" not in repr(proxy) and "us@er" not in repr(proxy)
    assert proxy.authorization == "Basic dXNAZXI6cDpzcw=="
    assert proxy.credentials is not None and proxy.credentials.secrets() == ["p:ss", "dXNAZXI6cDpzcw=="]
    assert parse_proxy("proxy.test").port == 3128
    for bad in ("https://proxy.test", "socks5://proxy.test:1080", "http://:8080"):
        with pytest.raises(ValueError):
            parse_proxy(bad)


def test_run_options_keep_only_the_proxy_variables() -> None:
    values = {"OCPP_PASSWORD": "Run-Options-Secret", "AWS_SECRET_ACCESS_KEY": "x" * 20,
              "https_proxy": "http://u:Proxy-Pw-1@p:1", "NO_PROXY": "local"}
    options = run_options_from(values, OutputFormat.TEXT, None)
    assert dict(options.proxies.values) == {"https_proxy": "http://u:Proxy-Pw-1@p:1", "NO_PROXY": "local"}
    assert options.proxies.secrets() == ["Proxy-Pw-1", "dTpQcm94eS1Qdy0x"]
    assert "Proxy-Pw-1" not in repr(options) and "Run-Options-Secret" not in repr(options)


def test_check_settings_take_the_proxy_for_their_scheme() -> None:
    settings = check_settings_from({"WS_URL": "wss://csms.example.com/ocpp/CP-1",
                                    "HTTPS_PROXY": "http://u:pw@p.test:9"})
    assert settings.proxy == Proxy("p.test", 9, "u", "pw")


def test_informational_answers_chunked_bodies_and_the_status() -> None:
    def answer(peer: Peer) -> None:
        peer.read_request()
        peer.send(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n")
        peer.send(b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n")
        peer.send(b"4;ext=1\r\n{\"ok\r\n7\r\n\":true}\r\n0\r\n\r\n")

    with ScenarioServer(answer) as server:
        response = request(f"http://127.0.0.1:{server.port}/api/push/x?status=up", Deadline.after(3))
        headers = server.peers[0].headers
    assert response.status == 201
    assert response.body == b'{"ok":true}'
    assert headers["request-line"] == "GET /api/push/x?status=up HTTP/1.1"
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert headers["connection"] == "close"


def test_a_body_is_read_to_its_length_or_the_limit() -> None:
    def answer(peer: Peer) -> None:
        peer.read_request()
        peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"a" * 100000)

    with ScenarioServer(answer) as server:
        response = request(f"http://127.0.0.1:{server.port}/", Deadline.after(3), max_body=1000)
    assert response.body == b"a" * 1000


def test_push_through_an_http_proxy_uses_absolute_form_and_proxy_credentials() -> None:
    def proxy_as_kuma(peer: Peer) -> None:
        peer.read_request()
        peer.respond("200 OK", b'{"ok":true}', "Content-Type: application/json\r\n")

    with ScenarioServer(proxy_as_kuma) as proxy:
        run = probe_in_process(["--demo", "--json"], {
            "KUMA_PUSH_URL": "http://kuma.example.com:3001/api/push/Tok-1",
            "http_proxy": f"http://probe:Pw-Proxy-9@127.0.0.1:{proxy.port}", "no_proxy": "127.0.0.1"})
        headers = proxy.peers[0].headers
    assert run.code == 0, run.stderr
    assert headers["request-line"].startswith("GET http://kuma.example.com:3001/api/push/Tok-1?status=up&msg=")
    assert headers["proxy-authorization"] == "Basic cHJvYmU6UHctUHJveHktOQ=="
    assert "authorization" not in headers


def test_push_follows_a_redirect_within_its_deadline() -> None:
    def moved(peer: Peer) -> None:
        headers = peer.read_request()
        if headers["request-line"].startswith("GET /old/"):
            path = headers["request-line"].split(" ")[1].replace("/old/", "/new/")
            peer.respond("301 Moved Permanently", b"", f"Location: {path}\r\n")
        else:
            peer.respond("200 OK", b'{"ok":true}')

    with ScenarioServer(moved) as kuma:
        run = probe_in_process(["--demo", "--json"], {
            "KUMA_PUSH_URL": f"http://u:Pw-Kuma-7@127.0.0.1:{kuma.port}/old/api/push/Tok-2"})
        lines = [peer.headers["request-line"] for peer in kuma.peers]
        auth = [peer.headers.get("authorization") for peer in kuma.peers]
    assert run.code == 0, run.stderr
    assert run.doc["push"]["detail"] == "HTTP 200 ok"
    assert [line.split("?")[0] for line in lines] == ["GET /old/api/push/Tok-2", "GET /new/api/push/Tok-2"]
    assert auth == ["Basic dTpQdy1LdW1hLTc="] * 2  # same host: the credentials go along


def test_https_push_direct_and_through_a_connect_proxy(
    pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = pki.server_context("good")
    monkeypatch.setenv("SSL_CERT_FILE", pki.ca_file)  # the push trusts the system store

    def kuma_tls(peer: Peer) -> None:
        peer.start_tls(context)
        peer.read_request()
        peer.respond("200 OK", b'{"ok":true}', "Content-Type: application/json\r\n")

    with ScenarioServer(kuma_tls) as kuma, ConnectProxy("probe:Pw-Connect-3") as proxy:
        url = f"https://127.0.0.1:{kuma.port}/api/push/Tok-3"
        direct = probe_in_process(["--demo", "--json"], {"KUMA_PUSH_URL": url})
        tunnelled = probe_in_process(["--demo", "--json"], {
            "KUMA_PUSH_URL": url, "https_proxy": f"http://probe:Pw-Connect-3@127.0.0.1:{proxy.port}"})
        requests = list(proxy.requests)
    assert direct.code == 0, direct.stderr
    assert tunnelled.code == 0, tunnelled.stderr
    assert tunnelled.doc["push"]["detail"] == "HTTP 200 ok"
    assert requests == [f"CONNECT 127.0.0.1:{kuma.port} HTTP/1.1"]
    untrusted = ScenarioServer(kuma_tls)
    monkeypatch.setenv("SSL_CERT_FILE", pki.client_cert)  # a store without the CA
    with untrusted:
        refused = probe_in_process(["--demo", "--json"], {
            "KUMA_PUSH_URL": f"https://127.0.0.1:{untrusted.port}/api/push/Tok-3"})
    assert refused.code == 1
    assert refused.doc["push"]["detail"].startswith("cannot reach Kuma: TLS handshake failed: ")
