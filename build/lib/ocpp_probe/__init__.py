"""ocpp-probe: connect to an OCPP CSMS exactly as a charging station does, and judge its health."""

__version__ = "0.1.0"
