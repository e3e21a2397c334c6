"""Serve mode: an HTTP server that runs a check per request, for pull-style monitors.

Like Prometheus' blackbox_exporter, serving (handler, server metrics) is kept apart
from probing (ocpp_probe.check): this package only decides which configured target
to check and how to answer; the check itself is the same one the CLI runs.
"""
