"""The process_* metrics every Prometheus client library exports, read from /proc.

No dependency: Linux's /proc/self has everything (CPU time, resident memory, open
file descriptors, their limit, start time). Where /proc is missing (another OS, a
sandbox), the families are left out rather than reported as 0.
"""

from __future__ import annotations

import os

from ..reporters.prometheus import Family, Sample


def _stat_fields() -> list[str]:
    with open("/proc/self/stat") as handle:
        text = handle.read()
    # The command name (field 2) may contain spaces and ')': split after the last ')'.
    return text[text.rindex(")") + 2:].split()


def _boot_time() -> float:
    with open("/proc/stat") as handle:
        for line in handle:
            if line.startswith("btime "):
                return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


def _max_fds() -> float | None:
    with open("/proc/self/limits") as handle:
        for line in handle:
            if line.startswith("Max open files"):
                soft = line.split()[3]
                return None if soft == "unlimited" else float(soft)
    return None


def process_families() -> list[Family]:
    try:
        fields = _stat_fields()
        ticks = float(os.sysconf("SC_CLK_TCK"))
        page = float(os.sysconf("SC_PAGE_SIZE"))
        # After the split, index 0 is field 3 (state): utime is field 14, stime 15,
        # num_threads 20, starttime 22, vsize 23, rss 24.
        cpu = (float(fields[11]) + float(fields[12])) / ticks
        threads = float(fields[17])
        start = _boot_time() + float(fields[19]) / ticks
        virtual, resident = float(fields[20]), float(fields[21]) * page
        fds = float(len(os.listdir("/proc/self/fd")))
        max_fds = _max_fds()
    except (OSError, ValueError, IndexError):
        return []

    def one(name: str, kind: str, help: str, value: float | None) -> Family:
        return Family(name, kind, help, () if value is None else (Sample((), value),))

    return [
        one("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpu),
        one("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", resident),
        one("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", virtual),
        one("process_open_fds", "gauge", "Number of open file descriptors.", fds),
        one("process_max_fds", "gauge", "Maximum number of open file descriptors.", max_fds),
        one("process_start_time_seconds", "gauge",
            "Start time of the process since unix epoch in seconds.", start),
        one("process_threads", "gauge", "Number of OS threads in the process.", threads),
    ]
