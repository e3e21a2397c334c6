"""GET /: the status page a person opens in a browser.

Configured targets and modules, each target's last verdicts with time, failed step
and kind, a per-phase timing bar for the last check, and links to the checks' traces
(/logs?id=N). Plain HTML with inline CSS: no JavaScript, no external asset, so it
works offline; every value shown is escaped here, in one place (``_e``).
"""

from __future__ import annotations

import html
import time
from typing import TYPE_CHECKING

from .. import __version__
from ..redact import redact_url
from ..reporters.prometheus import PHASES
from .history import Record

if TYPE_CHECKING:
    from .service import ProbeService

_COLOURS = {"resolve": "#8e7cc3", "connect": "#6fa8dc", "tls": "#76a5af", "upgrade": "#93c47d",
            "boot": "#f6b26b", "heartbeat": "#e06666"}
_NONE = '<tr><td colspan="5">none</td></tr>'
_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin-bottom:1.5em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
.OK{color:#17702a;font-weight:bold}.WARNING{color:#a36b00;font-weight:bold}
.CRITICAL,.UNKNOWN{color:#b00020;font-weight:bold}
.bar{display:flex;width:16em;height:1em;background:#eee}
.bar span{display:block;height:100%}
.legend span{display:inline-block;padding:0 .4em;margin-right:.3em;color:#fff}
small{color:#666}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _when(unix: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(unix))


def _bar(record: Record) -> str:
    timings = record.result.timings_ms
    shown = [(step.value, timings[step.value]) for step in PHASES if step.value in timings]
    total = sum(ms for _, ms in shown)
    if not shown or total <= 0:
        return "<small>no phase finished</small>"
    spans = "".join(
        f'<span class="phase-{_e(name)}" style="width:{100 * ms / total:.2f}%;'
        f'background:{_COLOURS[name]}" title="{_e(name)} {ms:.1f} ms"></span>'
        for name, ms in shown
    )
    return f'<div class="bar">{spans}</div><small>{record.result.total_ms:.1f} ms in all</small>'


def _verdicts(records: list[Record]) -> str:
    if not records:
        return "<small>not checked yet</small>"
    rows = []
    for record in records:
        result = record.result
        failure = ""
        if not result.ok or result.failed_step is not None:
            step = result.failed_step.value if result.failed_step else "-"
            kind = result.failure_kind.value if result.failure_kind else "-"
            failure = f" step <b>{_e(step)}</b> kind <b>{_e(kind)}</b>: {_e(result.reason)}"
        rows.append(
            f'<li><span class="{_e(result.verdict.name)}">{_e(result.verdict.name)}</span> '
            f"{_e(_when(record.finished))}{failure} "
            f'<a href="/logs?id={record.id}">trace</a></li>'
        )
    return "<ul>" + "".join(rows) + "</ul>"


def _target_rows(rows: list[tuple[str, str, str, list[Record]]]) -> str:
    out = []
    for name, url, version, records in rows:
        bar = _bar(records[0]) if records else ""
        out.append(
            f'<tr class="target"><td class="name">{_e(name)}</td><td>{_e(url)}</td>'
            f"<td>{_e(version)}</td><td>{_verdicts(records)}</td><td>{bar}</td></tr>"
        )
    return "".join(out)


def status_page(service: ProbeService) -> str:
    config = service.config
    history = service.history.records()
    named = [(name, redact_url(target.settings.url), target.settings.version.value, history.get(name, []))
             for name, target in sorted(config.targets.items())]
    by_module = [(records[0].module or "", records[0].label, records[0].settings.version.value,
                  records) for records in history.values() if records and records[0].module]
    modules = "".join(
        f'<tr class="module"><td class="name">{_e(name)}</td>'
        f"<td>{_e(module.values.get('OCPP_VERSION', '1.6'))}</td>"
        f"<td>{_e(', '.join(module.allow_urls) or '-')}</td>"
        f"<td>{_e(', '.join(module.allow_hosts) or '-')}</td>"
        f"<td>{_e(', '.join(p.pattern for p in module.allow_url_regex) or '-')}</td></tr>"
        for name, module in sorted(config.modules.items())
    )
    legend = "".join(f'<span style="background:{colour}">{_e(name)}</span>'
                     for name, colour in _COLOURS.items())
    head = "<tr><th>{}</th><th>URL</th><th>OCPP</th><th>last checks (newest first)</th>" \
           "<th>phases of the last check</th></tr>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ocpp-probe serve</title>
<style>{_STYLE}</style></head><body>
<h1>ocpp-probe serve</h1>
<p>version {_e(__version__)}; {service.in_flight()} checks running, at most
{config.max_concurrent}. <a href="/metrics">metrics</a> &middot;
<a href="/-/healthy">healthy</a> &middot; <a href="/-/ready">ready</a></p>
<p>Probe a target: <code>/probe?target=NAME</code> or
<code>/probe?module=NAME&amp;target=URL</code>; add <code>&amp;format=prometheus</code> for
metrics, <code>&amp;debug=true</code> for the trace.</p>
<p class="legend">{legend}</p>
<h2>Targets</h2>
<table id="targets">{head.format("target")}{_target_rows(named) or _NONE}</table>
<h2>Modules</h2>
<table id="modules"><tr><th>module</th><th>OCPP</th><th>allow_urls</th><th>allow_hosts</th>
<th>allow_url_regex</th></tr>{modules or _NONE}</table>
<h2>Recent module targets</h2>
<table id="module-targets">{head.format("module")}{_target_rows(by_module) or _NONE}</table>
</body></html>
"""
