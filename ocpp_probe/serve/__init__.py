"""Serve mode: an HTTP server that runs a check per request, for pull-style monitors.

Like Prometheus' blackbox_exporter, serving is kept apart from probing
(ocpp_probe.check): config and modules decide what may be checked, service decides
when (single flight, admission, per-request deadlines), handler and page how to
answer; the check itself is the same one the CLI runs.
"""
