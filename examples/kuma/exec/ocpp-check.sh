#!/bin/sh
# For an Uptime Kuma build that has a script/exec monitor (none released so far; see
# PR #7147 "add monitor type script"): such a monitor runs a script from its scripts
# directory and reads the exit code, 0 up and anything else down, with the output
# as the message. The probe's own exit code contract fits as it is:
# 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (so a WARNING shows as down there).
home="${OCPP_PROBE_HOME:-/opt/ocpp-probe}"
set -a
. "$home/probe.env"
set +a
unset KUMA_PUSH_URL PROBE_EVERY   # Kuma runs this itself: no push, no loop
exec "$home/ocpp-probe"
