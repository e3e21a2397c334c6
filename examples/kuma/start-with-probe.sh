#!/bin/sh
# Starts ocpp-probe (loop + push) in the background, then execs the command given
# as arguments (Kuma's own: node server/server.js) in this shell's place.
# The probe's settings come from probe.env and are exported to the probe only, so
# Kuma's environment is left as it was.
home="${OCPP_PROBE_HOME:-/opt/ocpp-probe}"
every="${OCPP_PROBE_EVERY:-30}"

(
    set -a
    . "$home/probe.env"
    set +a
    while :; do
        "$home/ocpp-probe" --every "$every"
        code=$?
        # 0 means it was told to stop (SIGTERM): the container is going down.
        [ "$code" -eq 0 ] && exit 0
        echo "ocpp-probe exited with $code; restarting in 30 s" >&2
        sleep 30
    done
) &

exec "$@"
