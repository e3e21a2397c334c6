"""Check results built by hand, for the reporter tests."""

from __future__ import annotations

from ocpp_probe.result import BootFacts, CheckResult, TlsFacts, Verdict


def passing_result() -> CheckResult:
    return CheckResult(
        verdict=Verdict.WARNING,
        target="wss://csms.example.com/ocpp/CP-1",
        ocpp_version="2.0.1",
        timings_ms={"resolve": 1.5, "connect": 2.0, "tls": 30.0, "upgrade": 4.25,
                    "boot": 12.0, "heartbeat": 8.0, "close": 0.5},
        total_ms=58.25,
        subprotocol="ocpp2.0.1",
        tls=TlsFacts("TLSv1.3", "TLS_AES_256_GCM_SHA384", 1767225600.0, 10.0),
        boot=BootFacts("Accepted", 300),
        heartbeat_rtt_ms=7.5,
        clock_offset_s=-1.25,
        warnings=["certificate expires in 10.0 days"],
    )
