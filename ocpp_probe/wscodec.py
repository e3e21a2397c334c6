"""websocket-client's frame codec, imported without websocket-client's package __init__.

The probe uses only the RFC 6455 frame codec (``websocket._abnf``) and the exception
base class. ``import websocket`` would also run the package's ``__init__``, which
imports the whole client (WebSocketApp, handshake, HTTP and proxy code, cookies,
logging, ssl): about 6 ms at every start of the probe, for nothing.

So the two modules are imported under websocket-client's package module created
from its spec but not executed, which is then removed again. If anything imports
``websocket`` later, its ``__init__`` runs normally and reuses these very modules
(same classes). When ``websocket`` is already imported, this is a plain import.
"""

from __future__ import annotations

import sys

if "websocket" not in sys.modules:
    import importlib.util

    _spec = importlib.util.find_spec("websocket")
    if _spec is not None:
        sys.modules["websocket"] = importlib.util.module_from_spec(_spec)
    try:
        from websocket._abnf import ABNF, frame_buffer
        from websocket._exceptions import WebSocketException
    finally:
        if _spec is not None:
            del sys.modules["websocket"]
else:
    from websocket._abnf import ABNF, frame_buffer
    from websocket._exceptions import WebSocketException

__all__ = ["ABNF", "WebSocketException", "frame_buffer"]
