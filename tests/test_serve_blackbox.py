"""Serve mode as blackbox_exporter users expect it: modules and allow-lists, probe_*
names, debug=true, own deadlines for joined checks, admission, health endpoints,
process_* metrics and SIGHUP reload."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ocpp_probe.serve.handler import scrape_budget
from ocpp_probe.serve.service import reserved_slots

from .peers.ocpp_lib_csms import OcppLibCsms
from .support.net import silent_listener
from .support.paths import PROBE, ROOT
from .support.pki import Pki, leaf_context
from .support.prometheus import parse
from .support.serve import Answer, get, server

YEAR_3000 = dt.datetime(3000, 1, 1, tzinfo=dt.timezone.utc)
YEAR_3001 = dt.datetime(3001, 1, 1, tzinfo=dt.timezone.utc)


def test_module_target_speaks_blackbox_names_with_the_chains_earliest_expiry(pki: Pki) -> None:
    # The leaf outlives its intermediate CA: the earliest expiry in the chain is the intermediate's.
    context = leaf_context(pki.ca.create_child_ca(), not_after=YEAR_3001)
    modules = {"tls16": {"tls_ca_file": pki.ca_file, "allow_hosts": ["127.0.0.*"]}}
    with OcppLibCsms(ssl_context=context) as csms, server({}, modules=modules) as base:
        url = csms.url("CP-MOD")
        assert url.startswith("wss://")
        before = time.time()
        answer = get(f"{base}/probe?module=tls16&target={url}&format=prometheus")
    assert answer.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples, types = parse(answer.body.decode())
    assert samples[("probe_success", ())] == 1.0
    assert samples[("probe_duration_seconds", ())] == samples[("ocpp_probe_check_duration_seconds", ())]
    assert samples[("probe_ssl_earliest_cert_expiry", ())] == YEAR_3000.timestamp()
    assert samples[("ocpp_probe_tls_cert_expiry_timestamp_seconds", ())] == YEAR_3001.timestamp()
    assert before - 1 <= samples[("ocpp_probe_last_run_timestamp_seconds", ())] <= time.time()
    assert types["probe_success"] == "gauge"
    assert csms.seen.identities == ["CP-MOD"]


def test_allow_lists_exact_url_host_glob_and_regex() -> None:
    with OcppLibCsms() as csms:
        exact, glob_ok, regex_ok = csms.url("CP-EXACT"), csms.url("CP-GLOB", "localhost"), csms.url("RX-7")
        modules = {
            "exact": {"allow_urls": [exact]},
            "glob": {"allow_hosts": ["local*"]},
            "regex": {"allow_url_regex": [r"ws://127\.0\.0\.1:\d+/ocpp/RX-\d+"]},
        }
        with server({}, modules=modules) as base:
            allowed = [get(f"{base}/probe?module=exact&target={exact}"),
                       get(f"{base}/probe?module=glob&target={glob_ok}"),
                       get(f"{base}/probe?module=regex&target={regex_ok}")]
            refused = [get(f"{base}/probe?module=exact&target={csms.url('CP-OTHER')}"),
                       get(f"{base}/probe?module=glob&target={csms.url('CP-GLOB')}"),
                       get(f"{base}/probe?module=regex&target={csms.url('RX-7x')}")]
        assert [a.status for a in allowed] == [200, 200, 200]
        assert [a.doc["verdict"] for a in allowed] == ["OK", "OK", "OK"]
        assert [a.status for a in refused] == [403, 403, 403]
        assert sorted(csms.seen.identities) == ["CP-EXACT", "CP-GLOB", "RX-7"]  # refused: no connection


def test_a_module_can_give_the_identity_so_discovery_lists_endpoints_only() -> None:
    with OcppLibCsms() as csms:
        endpoint = csms.url("X").rsplit("/", 1)[0]  # ws://127.0.0.1:PORT/ocpp
        modules = {"fixed": {"charge_point_id": "PROBE-9", "allow_urls": [endpoint]}}
        with server({}, modules=modules) as base:
            answer = get(f"{base}/probe?module=fixed&target={endpoint}")
            other = get(f"{base}/probe?module=fixed&target={endpoint}/CP-OTHER")
    assert (answer.status, answer.doc["target"]) == (200, f"{endpoint}/PROBE-9")
    assert other.status == 403
    assert csms.seen.identities == ["PROBE-9"]


def test_debug_shows_trace_and_settings_but_never_the_password() -> None:
    secret = "s3cr3t-Passw0rd"
    with OcppLibCsms(password=secret) as csms, \
            server({"auth": {"ws_url": csms.url("CP-AUTH"), "ocpp_password": secret}}) as base:
        debug = get(f"{base}/probe?target=auth&debug=true")
        page = get(f"{base}/").body.decode()
        trace_link = page.split('<a href="/logs?id=')[1].split('"')[0]
        logs = get(f"{base}/logs?id={trace_link}")
    text = debug.body.decode()
    assert debug.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert text.startswith("Logs for the probe:\n")
    assert "* connected to 127.0.0.1:" in text
    assert "\nprobe_success 1\n" in text
    assert f"url: {csms.url('CP-AUTH')}\n" in text and "password: set (not shown)\n" in text
    assert secret not in text
    log_text = logs.body.decode()
    assert log_text.startswith("Check #1 of auth\n\nLogs for the probe:\n")  # the debug request's check
    assert "* connected to 127.0.0.1:" in log_text and secret not in log_text


def test_a_joined_request_is_answered_within_its_own_deadline() -> None:
    with OcppLibCsms(heartbeat_delay_s=2.5) as csms, server({"slow": {"ws_url": csms.url()}}) as base:
        first: list[Answer] = []
        leader = threading.Thread(target=lambda: first.append(get(f"{base}/probe?target=slow")))
        leader.start()
        time.sleep(0.3)
        joined = get(f"{base}/probe?target=slow&format=prometheus",
                     {"X-Prometheus-Scrape-Timeout-Seconds": "1.5"})
        leader.join(30)
        metrics, _ = parse(get(f"{base}/metrics").body.decode())
    assert 0.9 <= joined.seconds < 1.5  # 1.5 s less the 0.5 s margin, not the leader's 2.5 s
    samples, _ = parse(joined.body.decode())
    assert samples[("probe_success", ())] == 0.0
    assert (first[0].status, first[0].doc["verdict"]) == (200, "OK")
    assert first[0].seconds >= 2.5
    assert metrics[("ocpp_probe_serve_probes_timed_out_total", ())] == 1
    assert metrics[("ocpp_probe_serve_probes_shared_total", ())] == 1
    assert len(csms.seen.identities) == 1


def test_dead_targets_cannot_take_the_slots_kept_for_live_ones() -> None:
    limit = 4
    assert reserved_slots(limit) == 1
    with silent_listener() as hole, OcppLibCsms() as csms:
        targets = {f"hole{i}": {"ws_url": f"ws://127.0.0.1:{hole}/ocpp/H{i}", "probe_timeout": 3}
                   for i in range(4)}
        targets["live"] = {"ws_url": csms.url("CP-LIVE")}
        with server(targets, max_concurrent=limit) as base:
            short = {"X-Prometheus-Scrape-Timeout-Seconds": "0.8"}
            for i in range(4):  # each hole fails once, quickly: now they are known to fail
                assert get(f"{base}/probe?target=hole{i}&format=prometheus", short).status == 200
            threads = [threading.Thread(target=get, args=(f"{base}/probe?target=hole{i}",))
                       for i in range(3)]
            for thread in threads:
                thread.start()
            time.sleep(0.4)
            fourth = get(f"{base}/probe?target=hole3")
            live = get(f"{base}/probe?target=live")
            for thread in threads:
                thread.join(30)
            metrics, _ = parse(get(f"{base}/metrics").body.decode())
    assert fourth.status == 429
    assert fourth.doc["reason"] == (
        "no check slot free for a target whose last check failed: such targets hold 3 of the 3 "
        "slots they may use (max_concurrent 4, 1 kept for targets that pass); retry later")
    assert (live.status, live.doc["verdict"]) == (200, "OK")
    assert live.seconds < 1.5
    assert metrics[("ocpp_probe_serve_probes_rejected_total", ())] == 1


def test_health_endpoints_and_process_metrics() -> None:
    with OcppLibCsms() as csms, server({"cp": {"ws_url": csms.url()}}) as base:
        healthy, ready = get(f"{base}/-/healthy"), get(f"{base}/-/ready")
        samples, types = parse(get(f"{base}/metrics").body.decode())
    assert (healthy.status, healthy.body, ready.status, ready.body) == (200, b"OK\n", 200, b"OK\n")
    assert samples[("process_open_fds", ())] >= 3
    assert samples[("process_resident_memory_bytes", ())] > 10 * 2**20
    assert time.time() - 3600 < samples[("process_start_time_seconds", ())] <= time.time()
    assert samples[("process_cpu_seconds_total", ())] > 0
    assert samples[("process_threads", ())] >= 2
    assert samples[("process_max_fds", ())] >= samples[("process_open_fds", ())]
    assert types["process_cpu_seconds"] == "counter"
    assert samples[("ocpp_probe_serve_config_last_reload_successful", ())] == 1


def test_sighup_reloads_and_a_bad_config_keeps_the_old_one(tmp_path: Path) -> None:
    config = tmp_path / "serve.toml"
    with OcppLibCsms() as csms:
        config.write_text(f'[server]\nlisten = "127.0.0.1:0"\n[targets.a]\nws_url = "{csms.url("A")}"\n')
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": ROOT}
        process = subprocess.Popen([sys.executable, PROBE, "serve", "--config", str(config)], env=env,
                                   stderr=subprocess.PIPE, text=True)
        try:
            assert process.stderr is not None
            first = process.stderr.readline()
            assert first.endswith(", targets: a, modules: none\n"), first
            base = "http://127.0.0.1:" + first.split("127.0.0.1:")[1].split(",")[0]
            config.write_text(f'[server]\nlisten = "127.0.0.1:0"\n[targets.b]\nws_url = "{csms.url("B")}"\n'
                              '[modules.m]\nallow_hosts = ["127.0.0.1"]\n')
            process.send_signal(signal.SIGHUP)
            assert process.stderr.readline() == "ocpp-probe serve: config reloaded: 1 targets, 1 modules\n"
            after = (get(f"{base}/probe?target=b").status, get(f"{base}/probe?target=a").status)
            config.write_text("[targets.c\n")
            process.send_signal(signal.SIGHUP)
            failed = process.stderr.readline()
            kept = get(f"{base}/probe?target=b").status
            samples, _ = parse(get(f"{base}/metrics").body.decode())
            process.send_signal(signal.SIGTERM)
            assert process.wait(10) == 0
        finally:
            if process.poll() is None:
                process.kill()
    assert after == (200, 404)
    assert failed.startswith(f"ocpp-probe serve: reload failed, keeping the previous config: {config}: "
                             "not valid TOML: ")
    assert kept == 200
    assert samples[("ocpp_probe_serve_config_last_reload_successful", ())] == 0


def test_scrape_budget_leaves_a_margin_and_ignores_nonsense() -> None:
    assert scrape_budget("10") == 9.5
    assert scrape_budget("0.6") == 0.3  # too short for the 0.5 s margin: half of it
    for header in (None, "", "abc", "0", "-3", "nan", "inf"):
        assert scrape_budget(header) is None, header
