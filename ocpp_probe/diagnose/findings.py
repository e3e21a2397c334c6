"""From facts to findings and suggestions: pure functions, no I/O.

Each layer's function reads the facts and returns findings (layer, level, text) and
the changes a person should make, worded in the probe's settings where a setting is
the fix ("set OCPP_VERSION=2.0.1") and as a server change where it is not.
"""

from __future__ import annotations

from ..settings import CheckSettings
from .facts import Facts
from .finding import LAYERS, Finding, Findings
from .findings_tls import judge_tls
from .findings_upgrade import CONFIRMED_HEX, judge_upgrade

__all__ = ["LAYERS", "Finding", "Findings", "check_would_pass", "judge"]

DEFAULT_CLOCK_WARN_S = 60.0


def _settings(facts: Facts, out: Findings) -> None:
    for item in facts.lints:
        out.add("settings", item.level, f"{item.setting}: {item.text}", item.suggestion)
    if not facts.lints:
        out.add("settings", "OK", f"identity {facts.identity!r} and credentials look usable")


def _network(facts: Facts, out: Findings) -> None:
    what = f"proxy {facts.proxy}" if facts.proxy else "the CSMS"
    if facts.resolve_error is not None:
        out.add(
            "network",
            "FAIL",
            f"{what}: {facts.resolve_error}",
            "check the host name in "
            + ("PROBE_PROXY" if facts.proxy else "WS_URL")
            + " and this machine's DNS",
        )
        return
    for probe in facts.addresses:
        if probe.connected:
            out.add(
                "network",
                "OK",
                f"{what} {probe.family} {probe.address}: TCP connect in {probe.connect_ms:.1f} ms",
            )
    good = {probe.family for probe in facts.addresses if probe.connected}
    for probe in facts.addresses:
        if probe.connected:
            continue
        level = "WARN" if good else "FAIL"
        out.add("network", level, f"{what} {probe.family} {probe.address}: {probe.detail}")
    bad = {probe.family for probe in facts.addresses if not probe.connected}
    if good and bad - good:
        dead = " and ".join(sorted(bad - good))
        out.add(
            "network",
            "WARN",
            f"{dead} addresses do not answer while {' and '.join(sorted(good))} ones do: a charger "
            f"that tries {dead} first fails or waits",
            f"fix the CSMS's {dead} reachability (listener, firewall) or remove its "
            f"{'AAAA' if dead == 'IPv6' else 'A'} record",
        )
    if not good:
        out.add(
            "network",
            "FAIL",
            f"no address of {what} accepts a TCP connection",
            "check the host and port in "
            + ("PROBE_PROXY" if facts.proxy else "WS_URL")
            + ", that the CSMS listens there and that no firewall blocks this machine",
        )


def _clock(facts: Facts, settings: CheckSettings, out: Findings) -> None:
    limit = settings.thresholds.clock_warn_s or DEFAULT_CLOCK_WARN_S
    sources = []
    if facts.http_clock_offset_s is not None:
        sources.append(("HTTP Date", facts.http_clock_offset_s))
    if facts.ocpp is not None and facts.ocpp.clock_offset_s is not None:
        sources.append(("OCPP currentTime", facts.ocpp.clock_offset_s))
    if not sources:
        if facts.attempts:
            out.add(
                "clock", "WARN", "the server sent no HTTP Date and OCPP never started: clock not compared"
            )
        return
    for source, offset in sources:
        if abs(offset) > limit:
            out.add(
                "clock",
                "WARN",
                f"{source}: the CSMS clock is {offset:+.0f} s from this machine's",
                f"your clock and the CSMS's differ by {abs(offset):.0f} s: "
                "sync this machine (NTP) or the CSMS's clock",
            )
        else:
            shown = 0.0 if abs(offset) < 0.05 else offset  # no "-0.0"
            out.add("clock", "OK", f"{source}: the CSMS clock is {shown:+.1f} s from this machine's")


def _ocpp(facts: Facts, out: Findings) -> None:
    result = facts.ocpp
    if result is None:
        if facts.ocpp_settings_note:
            out.add("ocpp", "WARN", f"BootNotification {facts.ocpp_settings_note}")
        elif facts.attempts:
            out.add("ocpp", "FAIL", "BootNotification not sent: no OCPP version is served")
        return
    how = f" (run with {facts.ocpp_settings_note})" if facts.ocpp_settings_note else ""
    if result.ok:
        boot = result.boot
        parts = [f"{result.subprotocol} BootNotification {boot.status if boot else '?'}"]
        if boot is not None and boot.interval_s is not None:
            parts.append(f"interval {boot.interval_s} s")
        if result.heartbeat_rtt_ms is not None:
            parts.append(f"Heartbeat RTT {result.heartbeat_rtt_ms:.1f} ms")
        if result.csms_calls:
            parts.append("CSMS CALLs: " + ", ".join(result.csms_calls))
        out.add("ocpp", "OK", ", ".join(parts) + how)
        return
    suggestion = ""
    if result.boot is not None and result.boot.status == "Pending":
        suggestion = "accept this identity at the CSMS, or set ACCEPT_PENDING=true"
    elif result.boot is not None and result.boot.status == "Rejected":
        suggestion = "register this identity at the CSMS"
    step = result.failed_step.value if result.failed_step else "?"
    out.add("ocpp", "FAIL", f"{step} failed: {result.reason}{how}", suggestion)


def judge(facts: Facts, settings: CheckSettings) -> Findings:
    out = Findings()
    _settings(facts, out)
    _network(facts, out)
    judge_tls(facts, settings, out)
    judge_upgrade(facts, settings, out)
    _clock(facts, settings, out)
    _ocpp(facts, out)
    if CONFIRMED_HEX in out.suggestions:
        # The lint's "if the CSMS expects ..." is answered: keep only the confirmed change.
        out.suggestions = [s for s in out.suggestions if s == CONFIRMED_HEX or "OCPP_PASSWORD_HEX" not in s]
    return out


def check_would_pass(facts: Facts) -> bool:
    """Would `ocpp-probe` with these settings pass? Only an unchanged OCPP run says yes."""
    return facts.ocpp is not None and facts.ocpp_with_current_settings and facts.ocpp.ok
