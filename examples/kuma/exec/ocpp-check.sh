#!/bin/sh
# For an Uptime Kuma build with the script monitor of PR #7147 (approved, not merged,
# so in no release yet). That monitor runs a script from DATA_DIR/scripts and reads:
#   exit 0     -> UP, with the script's stdout as the message
#   exit non-0 -> DOWN, with the script's stderr as the message
# So the probe's verdict line goes to stdout when the check is OK and to stderr
# otherwise; the exit code is the probe's (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN: a
# WARNING shows as DOWN there). A rootless Kuma refuses a scripts directory it can
# write to: mount this directory read-only (see ../compose.exec.yml).
home="${OCPP_PROBE_HOME:-/opt/ocpp-probe}"
set -a
. "$home/probe.env"
set +a
unset KUMA_PUSH_URL PROBE_EVERY   # Kuma runs this itself: no push, no loop
verdict=$("$home/ocpp-probe")
code=$?
if [ "$code" -eq 0 ]; then
    printf '%s\n' "$verdict"
else
    printf '%s\n' "$verdict" >&2
fi
exit "$code"
