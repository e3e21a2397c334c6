"""Entry point for `python probe.py` and for the frozen single-file binaries."""

import sys

from ocpp_probe.cli import main

if __name__ == "__main__":
    sys.exit(main())
