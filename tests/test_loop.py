"""Loop mode (--every): fixed schedule, no stacking, outages, SIGTERM, flat fds and memory."""

from __future__ import annotations

import io
import time
from typing import Any

from ocpp_probe.loop import Schedule, run_loop
from ocpp_probe.result import CheckResult, Verdict
from ocpp_probe.runner import Outcome, RunOptions
from ocpp_probe.settings import check_settings_from

from .peers.kuma_receiver import KumaReceiver
from .peers.ocpp_lib_csms import OcppLibCsms
from .support.loop_process import LoopProcess, epoch, wait_for

TOKEN = "loop-T0KEN"


def test_schedule_resumes_on_the_grid_after_an_overrun() -> None:
    schedule = Schedule(start=100.0, interval=10.0)
    assert schedule.next_slot(0, 101.0) == (1, 0)
    assert schedule.next_slot(1, 110.0) == (2, 0)  # finished exactly on the next slot
    assert schedule.next_slot(1, 135.5) == (4, 2)  # slots 2 and 3 were missed
    assert schedule.slot_time(4) == 140.0


def test_loop_keeps_to_its_slots_and_never_overlaps_checks() -> None:
    """Deterministic: a fake clock that only the fake checks and sleeps move."""
    now = [0.0]
    durations = iter([0.2, 2.5, 0.2, 0.9, 1.1])
    spans: list[tuple[float, float]] = []

    def checker(settings: Any, options: Any, trace: Any) -> Outcome:
        start = now[0]
        now[0] += next(durations)
        spans.append((start, now[0]))
        total_ms = (now[0] - start) * 1000
        return Outcome(CheckResult(Verdict.OK, "ws://x/y", "1.6", total_ms=total_ms))

    def sleep(seconds: float) -> None:
        now[0] += seconds

    err = io.StringIO()
    settings = check_settings_from({"WS_URL": "ws://127.0.0.1:9/ocpp/CP"})
    code = run_loop(settings, RunOptions(every_s=1.0), io.StringIO(), err, max_checks=5,
                    clock=lambda: now[0], checker=checker, sleep=sleep)
    assert code == 0
    assert [start for start, _ in spans] == [0.0, 1.0, 4.0, 5.0, 6.0]
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))
    notes = [line for line in err.getvalue().splitlines() if "skipped" in line]
    assert notes == [
        "ocpp-probe: check took 2.50 s, longer than the 1 s interval; skipped 2 slots",
    ]


def test_loop_rides_out_csms_and_kuma_outages_and_stops_on_sigterm(tmp_path: Any) -> None:
    kuma = KumaReceiver((TOKEN,)).start()
    csms = OcppLibCsms().__enter__()
    port = csms.port
    env = {"WS_URL": csms.url(), "KUMA_PUSH_URL": kuma.url(), "PROBE_TIMEOUT": "1",
           "KUMA_PUSH_TIMEOUT": "1"}
    loop = LoopProcess(str(tmp_path), ["--every", "0.1", "--json"], env)

    def statuses() -> list[str]:
        return [r.one("status") for r in kuma.requests]

    try:
        wait_for(lambda: statuses().count("up") >= 3, "three up pushes")
        csms.__exit__(None, None, None)  # CSMS outage
        wait_for(lambda: statuses()[-3:] == ["down"] * 3, "three down pushes")
        csms = OcppLibCsms(port=port).__enter__()  # back where the probe looks
        wait_for(lambda: statuses()[-3:] == ["up"] * 3, "up again")
        kuma_port = kuma.port
        kuma.stop()  # Kuma outage: the loop goes on checking
        seen = len(loop.documents())
        wait_for(lambda: len(loop.documents()) >= seen + 3, "checks during the Kuma outage")
        kuma = KumaReceiver((TOKEN,), port=kuma_port).start()
        wait_for(lambda: len(kuma.requests) >= 2, "pushes after Kuma is back")
        code = loop.stop()
    finally:
        if loop.process.poll() is None:
            loop.stop()
        csms.__exit__(None, None, None)
        kuma.stop()
    assert code == 0
    documents = loop.documents()
    verdicts = [doc["verdict"] for doc in documents]
    first_down = verdicts.index("CRITICAL")
    assert set(verdicts[:first_down]) == {"OK"}
    assert "OK" in verdicts[first_down:]  # down, then up again
    down = [doc for doc in documents if doc["verdict"] == "CRITICAL"]
    assert {doc["failed_step"] for doc in down} <= {"connect", "upgrade"}
    # The CSMS stopped (refused), or went away in the middle of a handshake (closed).
    assert {doc["failure_kind"] for doc in down} <= {"refused", "closed"}
    # Never two checks at once: each started after the previous one ended (ms resolution).
    for before, after in zip(documents, documents[1:]):
        assert epoch(before["started_at"]) + before["total_ms"] / 1000 <= epoch(after["started_at"]) + 0.002
    pushed = [doc["push"]["ok"] for doc in documents]
    assert False in pushed and pushed[-1] is True  # failed during the outage, fine after
    stderr = loop.stderr()
    assert f"failed: cannot reach Kuma: connection refused by 127.0.0.1:{kuma_port}\n" in stderr
    assert stderr.splitlines()[-1] == f"ocpp-probe: stopped by SIGTERM after {len(documents)} checks"
    assert TOKEN not in stderr


def test_sigterm_during_a_slow_check_ends_the_loop_at_once(tmp_path: Any) -> None:
    with OcppLibCsms(heartbeat_delay_s=30) as csms:
        loop = LoopProcess(str(tmp_path), ["--every", "60", "--timeout", "40"], {"WS_URL": csms.url()})
        wait_for(lambda: "Heartbeat" in csms.seen.actions, "the check to wait for Heartbeat")
        begin = time.monotonic()
        code = loop.stop()
        took = time.monotonic() - begin
    assert code == 0
    assert took < 5  # the 40 s check deadline was not waited out
    assert loop.stderr().splitlines()[-1] == "ocpp-probe: stopped by SIGTERM after 0 checks"


def test_fds_and_memory_stay_flat_over_many_checks(tmp_path: Any) -> None:
    with KumaReceiver((TOKEN,)) as kuma, OcppLibCsms() as csms:
        env = {"WS_URL": csms.url(), "KUMA_PUSH_URL": kuma.url()}
        loop = LoopProcess(str(tmp_path), ["--every", "0.01", "--json"], env)
        try:
            wait_for(lambda: len(kuma.requests) >= 100, "100 checks")
            early_fds, early_rss = loop.idle_fd_count(), loop.rss_kib()
            wait_for(lambda: len(kuma.requests) >= 500, "500 checks", timeout=60)
            late_fds, late_rss = loop.idle_fd_count(), loop.rss_kib()
        finally:
            code = loop.stop()
    assert code == 0
    # One socket may be open mid-check when sampled; a leak would add hundreds.
    assert late_fds <= early_fds + 1, (early_fds, late_fds)
    assert late_rss - early_rss < 2048, (early_rss, late_rss)  # KiB over 400 checks
    assert {doc["verdict"] for doc in loop.documents()} == {"OK"}


def test_bad_settings_end_the_loop_with_unknown_at_once() -> None:
    from .support.runs import probe_in_process

    run = probe_in_process(["--every", "5"], {})
    assert run.code == 3
    assert run.stdout.startswith("OCPP UNKNOWN - config failed: WS_URL: is required")
    json_run = probe_in_process(["--every", "5", "--json"], {})
    assert (json_run.code, json_run.doc["failed_step"], json_run.doc["failure_kind"]) == (3, "config", "config")


def test_loop_with_prometheus_format_needs_an_output_file() -> None:
    from .support.runs import probe_in_process

    run = probe_in_process(["--every", "5", "--format", "prometheus", "--demo"])
    assert run.code == 3
    assert 'ocpp_probe_failed_step{target="",step="config",kind="config"} 1' in run.stdout
    json_run = probe_in_process(["--every", "soon", "--json", "--demo"])
    assert json_run.code == 3
    assert json_run.doc["reason"] == "PROBE_EVERY: must be a number of seconds, got 'soon'"
