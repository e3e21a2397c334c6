"""`ocpp-probe diagnose`: why a charger cannot use a CSMS, and what to change.

probes (dial, tlsprobe, attempt, run) gather Facts; findings turns them into
findings and suggestions without I/O; report renders text or JSON; command is the CLI.
"""
